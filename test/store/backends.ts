/**
 * The two snapshot store backends for the contract tests, each with a way to look at (and
 * damage) what it stored underneath: the filesystem under a temp REPRISE_HOME, and S3 on a real
 * versitygw server, one key prefix per store.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { FsSnapshotStore } from '../../src/store/fs-store.js';
import { openSnapshotStore } from '../../src/store/open.js';
import type { S3SnapshotStore } from '../../src/store/s3/store.js';
import type { SnapshotStore } from '../../src/store/types.js';
import { TestS3Server } from '../../tools/versitygw.js';

export type ContractStore = SnapshotStore & { cleanPartials(olderThanMs: number): Promise<string[]> };

export interface BackendStore {
  store: ContractStore;
  home: string;
  /** The environment that opens this store (REPRISE_HOME, and REPRISE_STORE for S3). */
  env: Record<string, string>;
  /** Names of everything stored for snapshots, partial or sealed (relative to the snapshots root). */
  stored(): Promise<string[]>;
  /** Writes (or overwrites) one file of a snapshot folder underneath the store. */
  put(id: string, file: string, data: string | Buffer): Promise<void>;
}

export interface Backend {
  name: string;
  open(): Promise<BackendStore>;
  close(): Promise<void>;
}

const homes: string[] = [];
async function newHome(): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), 'reprise-contract-'));
  homes.push(home);
  return home;
}

async function listTree(dir: string, base = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(path.join(dir, e.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

export const filesystem: Backend = {
  name: 'filesystem',
  async open() {
    const home = await newHome();
    const store = new FsSnapshotStore(home);
    return {
      store,
      home,
      env: { REPRISE_HOME: home },
      stored: () => listTree(store.root),
      async put(id, file, data) {
        await mkdir(path.join(store.root, id), { recursive: true });
        await writeFile(path.join(store.root, id, file), data);
      },
    };
  },
  async close() {
    await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
  },
};

let server: TestS3Server | undefined;
let stores = 0;

export const s3: Backend = {
  name: 's3 (versitygw)',
  async open() {
    server ??= await TestS3Server.start();
    const home = await newHome();
    const prefix = `contract-${++stores}`;
    const env = { REPRISE_HOME: home, ...server.env(prefix) };
    const store = openSnapshotStore(home, env) as S3SnapshotStore;
    const client = server.client();
    const bucket = server.bucket;
    const root = `${prefix}/snapshots/`;
    return {
      store,
      home,
      env,
      async stored() {
        const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root }));
        const pending = await store.objects.pendingUploads('snapshots/');
        return [
          ...(res.Contents ?? []).map((o) => o.Key!.slice(root.length)),
          ...pending.map((u) => `(pending upload) ${u.key.slice('snapshots/'.length)}`),
        ].sort();
      },
      async put(id, file, data) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${root}${id}/${file}`, Body: data }));
      },
    };
  },
  async close() {
    await server?.close();
    server = undefined;
    await filesystem.close();
  },
};

export function s3Server(): TestS3Server {
  if (!server) throw new Error('open an s3 store first');
  return server;
}
