/**
 * A real S3-compatible server for tests and benchmarks: versitygw (scripts/ensure-versitygw.sh
 * builds it once into .tools) on a free loopback port, with its own data folder and one bucket.
 * stop() then resume() keep the port and the data, so a test can take the server away mid-flight.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig } from '../src/store/s3/config.js';
import { projectRoot } from '../src/base/project-root.js';

const ACCESS = 'reprise-test';
const SECRET = 'reprise-test-secret';

/** The binary's path; builds it on first use (about 2 minutes), a missing Go fails the test run. */
export function versitygwBinary(): string {
  const run = spawnSync('bash', [path.join(projectRoot, 'scripts/ensure-versitygw.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  if (run.status !== 0) throw new Error(`scripts/ensure-versitygw.sh failed (exit ${run.status})`);
  return run.stdout.trim().split('\n').pop()!;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export class TestS3Server {
  private child?: ChildProcess;
  private log = '';

  private constructor(
    private readonly binary: string,
    readonly dataDir: string,
    readonly port: number,
    readonly bucket: string,
  ) {}

  /** Starts a server with `bucket` created. */
  static async start(bucket = 'reprise'): Promise<TestS3Server> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'reprise-s3-'));
    const server = new TestS3Server(versitygwBinary(), dataDir, await freePort(), bucket);
    await server.resume();
    await server.client().send(new CreateBucketCommand({ Bucket: bucket }));
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment that points Reprise at this server (`prefix`: a folder in the bucket). */
  env(prefix = ''): Record<string, string> {
    return {
      REPRISE_STORE: `s3://${this.bucket}${prefix ? `/${prefix}` : ''}`,
      REPRISE_S3_ENDPOINT: this.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS,
      AWS_SECRET_ACCESS_KEY: SECRET,
    };
  }

  /** A plain client on this server, to look at what the store wrote. */
  client(): S3Client {
    const config = s3ClientConfig({
      bucket: this.bucket,
      prefix: '',
      endpoint: this.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET },
      uploadRetryMs: 0,
    });
    return new S3Client(config);
  }

  /** (Re)starts the server on the same port and data folder; resolves once it answers. */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      this.binary,
      ['--access', ACCESS, '--secret', SECRET, '--port', `127.0.0.1:${this.port}`, 'posix', this.dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    // A test process that ends without close() (a failed before(), a timeout) takes it along.
    process.once('exit', () => child.kill('SIGKILL'));
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`versitygw exited ${child.exitCode}:\n${this.log}`);
      const up = await fetch(this.endpoint, { signal: AbortSignal.timeout(1000) }).then(
        async (r) => (await r.body?.cancel(), true),
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline)
        throw new Error(`versitygw did not answer on ${this.endpoint}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server (SIGKILL: an outage, not a shutdown); the data stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }

  /** Stops the server and removes its data. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
