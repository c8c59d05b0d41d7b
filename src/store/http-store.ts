/**
 * Read-only snapshots from the forwarder's snapshot API (src/forwarder/snapshot-api.ts), for
 * the responder and generator pods of a replay in a cluster; and the upload of what a
 * generator observed. Streams: a snapshot is never held in memory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RRPair, type SnapshotManifest } from '../model/traffic.js';
import { splitLines } from './lines.js';
import { SnapshotNotFoundError, type SnapshotStore, type SnapshotWriter } from './types.js';
import { describeIssues } from './issue-path.js';

const TIMEOUT_MS = 30_000;

export class HttpSnapshotStore implements SnapshotStore {
  readonly root: string;

  /** `url`: the forwarder's base URL (`http://reprise-forwarder.reprise:4150`). */
  constructor(url: string) {
    this.root = url.replace(/\/+$/, '');
  }

  private async fetch(id: string, what: 'manifest' | 'traffic'): Promise<Response> {
    const url = `${this.root}/snapshots/${encodeURIComponent(id)}/${what}`;
    let res: Response;
    try {
      // Only the connection and headers are bounded: a large traffic body may take long.
      res = await fetch(url, { signal: what === 'manifest' ? AbortSignal.timeout(TIMEOUT_MS) : undefined });
    } catch (err) {
      throw new Error(`snapshot ${id}: ${url} unreachable: ${(err as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new SnapshotNotFoundError(id);
    }
    if (!res.ok) throw new Error(`snapshot ${id}: GET ${url}: ${res.status} ${await res.text()}`);
    return res;
  }

  async getManifest(id: string): Promise<SnapshotManifest> {
    return (await (await this.fetch(id, 'manifest')).json()) as SnapshotManifest;
  }

  async exists(id: string): Promise<boolean> {
    try {
      await this.getManifest(id);
      return true;
    } catch (err) {
      if (err instanceof SnapshotNotFoundError) return false;
      throw err;
    }
  }

  async *readPairs(id: string): AsyncGenerator<RRPair> {
    const res = await this.fetch(id, 'traffic');
    const gunzip = createGunzip();
    const body = Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('error', (err) => gunzip.destroy(err));
    body.pipe(gunzip);
    let line = 0;
    try {
      for await (const text of splitLines(gunzip)) {
        line++;
        const parsed = RRPair.safeParse(JSON.parse(text));
        if (!parsed.success) throw new Error(`line ${line}: ${describeIssues(parsed.error.issues)}`);
        yield parsed.data;
      }
    } catch (err) {
      throw new Error(`snapshot ${id} from ${this.root}: ${(err as Error).message}`);
    } finally {
      body.destroy();
      gunzip.destroy();
    }
  }

  /** The forwarder's `GET /snapshots` (the manifests of its store). */
  async list(): Promise<SnapshotManifest[]> {
    const url = `${this.root}/snapshots`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw new Error(`snapshots: ${url} unreachable: ${(err as Error).message}`);
    }
    if (!res.ok) throw new Error(`snapshots: GET ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as SnapshotManifest[];
  }

  createWriter(): Promise<SnapshotWriter> {
    return Promise.reject(
      new Error('HttpSnapshotStore is read-only: snapshots are written by the forwarder'),
    );
  }

  remove(): Promise<void> {
    return Promise.reject(
      new Error('HttpSnapshotStore is read-only: remove snapshots where they are stored'),
    );
  }
}

/**
 * PUTs the observed file and the summary to `uploadUrl` (`<forwarder>/replays/<id>`), as replica
 * `replica`'s (0-based; `observed-N`, `summary-N`) when the load was split.
 */
export async function uploadReplayResults(
  uploadUrl: string,
  observedPath: string,
  summary: unknown,
  replica?: number,
): Promise<void> {
  const base = uploadUrl.replace(/\/+$/, '');
  const part = replica === undefined ? '' : `-${replica + 1}`;
  const observed = await stat(observedPath).catch(() => undefined);
  if (observed) {
    await put(`${base}/observed${part}`, {
      body: Readable.toWeb(createReadStream(observedPath)) as ReadableStream,
      headers: { 'content-type': 'application/gzip', 'content-length': String(observed.size) },
      duplex: 'half',
    } as RequestInit);
  }
  // The summary last: its presence tells the orchestrator the observed file is complete.
  await put(`${base}/summary${part}`, {
    body: JSON.stringify(summary),
    headers: { 'content-type': 'application/json' },
  });
}

async function put(url: string, init: RequestInit): Promise<void> {
  const res = await fetch(url, { ...init, method: 'PUT' });
  if (!res.ok) throw new Error(`upload: PUT ${url}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}
