/** A real forwarder on loopback over a real filesystem store in a temp REPRISE_HOME. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startForwarder, type Forwarder, type ForwarderOptions } from '../../src/forwarder/index.js';
import { childLog } from '../../src/base/log.js';
import type { RRPair } from '../../src/model/traffic.js';
import { FsSnapshotStore } from '../../src/store/fs-store.js';

// Answers are JSON of several shapes; the asserts check them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface Harness {
  home: string;
  store: FsSnapshotStore;
  forwarder: Forwarder;
  url: string;
  call(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: Json }>;
  postPairs(
    lines: (RRPair | string)[],
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<ForwarderOptions> = {}): Promise<Harness> {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-fwd-'));
  const store = new FsSnapshotStore(home);
  const log = childLog('forwarder').child({}, { level: 'warn' });
  const forwarder = await startForwarder({ port: 0, home, store, log, ...opts });
  const url = `http://127.0.0.1:${forwarder.port}`;
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(url + urlPath, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };
  const postPairs = async (lines: (RRPair | string)[], headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/v1/pairs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      body: lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n',
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    home,
    store,
    forwarder,
    url,
    call,
    postPairs,
    close: async () => {
      await forwarder.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir`, gunzipped when it is gzip, as one string per file. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    let bytes = await readFile(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    out.set(file, bytes.toString('utf8'));
  }
  return out;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
