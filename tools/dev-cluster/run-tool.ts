/** Runs kubectl or helm against the dev cluster, bounded in time and output. */
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolRunOptions {
  /** Written to the tool's stdin (`kubectl apply -f -`). */
  input?: string;
  /** Default 120 s; the error names the command. */
  timeoutMs?: number;
}

const OUTPUT_LIMIT = 64 * 1024 * 1024;

/** Runs `file` with a bound on time and output; the error names the command. */
export function runTool(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: ToolRunOptions = {},
): Promise<ToolResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const what = `${path.basename(file)} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > OUTPUT_LIMIT) fail(new Error(`\`${what}\` wrote more than ${OUTPUT_LIMIT} bytes`));
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(
      () => fail(new Error(`\`${what}\` did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once('error', (error) => fail(error));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // A tool that exits without reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input);
  });
}
