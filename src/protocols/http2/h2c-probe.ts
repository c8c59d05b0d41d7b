/**
 * Whether a server speaks HTTP/2 with prior knowledge (h2c) at an origin: a gRPC server such as
 * grpc-js accepts no HTTP/1.1, so an HTTP/1.1 readiness probe never sees it answer. Its SETTINGS
 * frame is the answer: the server is up and speaks HTTP/2.
 */
import http2 from 'node:http2';

export function answersH2c(origin: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(origin);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      session.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    session.once('remoteSettings', () => done(true));
    session.once('error', () => done(false));
    session.once('close', () => done(false));
  });
}
