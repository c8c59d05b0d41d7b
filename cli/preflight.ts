/** Checks of the machine made before a command starts anything, each failing in one line. */
import { connect, createServer } from 'node:net';
import { CliError } from './errors.js';

/** A port a command will listen on must be free now; 0 (any free port) always is. */
export function requirePortFree(port: number, flag: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new CliError(`${flag} ${port}: the port is in use; choose another one (0 picks a free port)`));
      } else if (err.code === 'EACCES') {
        reject(
          new CliError(`${flag} ${port}: not allowed to listen there (ports below 1024 need privileges)`),
        );
      } else reject(err);
    });
    server.listen(port, () => server.close(() => resolve()));
  });
}

/** True when something accepts TCP connections at host:port within `timeoutMs`. */
export function somethingListens(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
