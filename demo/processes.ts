/** Starts the demo services as child processes and waits for their ready lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface DemoService {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startDemoService(
  name: 'inventory' | 'orders' | 'grpc/inventory' | 'grpc/orders',
  env: NodeJS.ProcessEnv = {},
): Promise<DemoService> {
  const child = spawn(process.execPath, [path.join(here, `${name}.js`)], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const failed = (code: number | null) =>
      reject(new Error(`demo ${name} exited (code ${code}) before it was ready`));
    child.once('exit', failed);
    child.once('error', reject);
    lines.once('line', (line) => {
      child.off('exit', failed);
      const { port } = JSON.parse(line) as { port: number };
      resolve({
        name,
        port,
        url: `http://127.0.0.1:${port}`,
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
