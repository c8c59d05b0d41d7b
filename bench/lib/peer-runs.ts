/**
 * A peer inside a measure: started, measured and stopped, its failure a row's note rather than
 * the suite's (peer()); and mitmdump started as a reverse or a regular proxy writing every flow.
 */
import path from 'node:path';
import { freePort, round, startOnPort, type Started } from './common.js';
import { ensureMitmproxy } from './peers.js';
import type { BenchContext, PeerResult } from './types.js';

/** Starts a peer, runs `fn` against it, stops it; an install or start failure is a null peer. */
export async function peer(
  name: string,
  start: () => Promise<{ started: Started; url: string } | { reason: string }>,
  fn: (url: string) => Promise<number>,
  ratioOf: (peerValue: number) => number,
  note?: (peerValue: number) => string,
): Promise<PeerResult> {
  let started: Started | undefined;
  try {
    const s = await start();
    if ('reason' in s) return { name, value: null, ratio: null, note: s.reason.split('\n')[0] };
    started = s.started;
    const value = await fn(s.url);
    return { name, value: round(value, 1), ratio: round(ratioOf(value)), ...(note && { note: note(value) }) };
  } catch (err) {
    return { name, value: null, ratio: null, note: `failed: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await started?.stop();
  }
}

/** mitmdump in reverse mode in front of `appUrl`, writing every flow to a file. */
export async function startMitmReverse(ctx: BenchContext, appUrl: string) {
  const mitm = await ensureMitmproxy(ctx.log);
  if (!mitm.ok) return { reason: mitm.reason };
  const port = await freePort();
  const started = await startOnPort(
    mitm.mitmdump,
    [
      '--mode',
      `reverse:${appUrl}`,
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--set',
      `confdir=${path.join(ctx.workDir, 'mitmproxy')}`,
      '-q',
      '-w',
      path.join(ctx.workDir, 'mitm-reverse.flows'),
    ],
    { port, timeoutMs: 60_000 },
  );
  return { started, url: `http://127.0.0.1:${port}` };
}

/** mitmdump as a regular forward proxy, trusting the upstream's CA, writing every flow. */
export async function startMitmRegular(ctx: BenchContext, upstreamCa: string) {
  const mitm = await ensureMitmproxy(ctx.log);
  if (!mitm.ok) return { reason: mitm.reason };
  const port = await freePort();
  const confdir = path.join(ctx.workDir, 'mitmproxy');
  const started = await startOnPort(
    mitm.mitmdump,
    [
      '--mode',
      'regular',
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--set',
      `confdir=${confdir}`,
      '--set',
      `ssl_verify_upstream_trusted_ca=${upstreamCa}`,
      '-q',
      '-w',
      path.join(ctx.workDir, 'mitm-regular.flows'),
    ],
    { port, timeoutMs: 60_000 },
  );
  return { started, url: `http://127.0.0.1:${port}` };
}
