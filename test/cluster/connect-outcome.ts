/** How a TCP connection attempt ends: `connected`, or the error code (ECONNREFUSED, ...). */
import { connect } from 'node:net';

/** Bounded: an attempt still pending after `timeoutMs` ends as `timeout` (a packet sent off and lost). */
export function connectOutcome(host: string, port: number, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}
