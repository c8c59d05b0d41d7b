/**
 * Reading a tunnel's first bytes before deciding what to do with it: are they a TLS
 * ClientHello, and which server name (SNI) and application protocols (ALPN) does it ask for?
 * An h2-only client cannot be intercepted by an HTTP/1.1 recorder, so its tunnel stays opaque.
 */
import type { Socket } from 'node:net';

export interface FirstBytes {
  /** Everything read while peeking; unshifted back into the socket by the caller. */
  bytes: Buffer;
  tls: boolean;
  sni?: string;
  /** ALPN protocols offered, in order; undefined when the extension is absent. */
  alpn?: string[];
}

const MAX_RECORD = 16 * 1024 + 5;

/**
 * Reads until a whole first TLS record is in, the bytes are not TLS, the socket ends, `timeoutMs`
 * passes, or `stop` is called (the upstream spoke first: nothing the client sends will decide).
 */
export function peekFirstBytes(
  socket: Socket,
  timeoutMs: number,
  onStop?: (stop: () => void) => void,
): Promise<FirstBytes> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let total = 0;
    let finished = false;
    const done = () => {
      // Once: a late stop must not pause a socket the caller has handed on.
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', done);
      socket.off('close', done);
      socket.pause();
      const bytes = Buffer.concat(parts, total);
      resolve({ bytes, ...parseClientHello(bytes) });
    };
    const onData = (chunk: Buffer) => {
      parts.push(chunk);
      total += chunk.length;
      if (total >= 1 && parts[0][0] !== 0x16) return done();
      if (total < 5) return;
      const head = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
      if (total >= Math.min(5 + head.readUInt16BE(3), MAX_RECORD)) done();
    };
    const timer = setTimeout(done, timeoutMs);
    onStop?.(done);
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('close', done);
    socket.resume();
  });
}

/** SNI and ALPN from the first TLS record; `tls` false when it is not a handshake record. */
export function parseClientHello(buf: Buffer): Omit<FirstBytes, 'bytes'> {
  if (buf.length < 1 || buf[0] !== 0x16) return { tls: false };
  const out: Omit<FirstBytes, 'bytes'> = { tls: true };
  try {
    const end = Math.min(buf.length, 5 + buf.readUInt16BE(3));
    let p = 5;
    if (buf[p] !== 0x01) return out; // not a ClientHello
    p += 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + buf[p]; // session_id
    p += 2 + buf.readUInt16BE(p); // cipher_suites
    p += 1 + buf[p]; // compression_methods
    const extEnd = Math.min(end, p + 2 + buf.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = buf.readUInt16BE(p);
      const len = buf.readUInt16BE(p + 2);
      const data = buf.subarray(p + 4, Math.min(p + 4 + len, extEnd));
      p += 4 + len;
      if (type === 0 && data.length >= 5 && data[2] === 0) {
        out.sni = data.toString('latin1', 5, 5 + data.readUInt16BE(3)).toLowerCase();
      } else if (type === 16 && data.length >= 2) {
        const alpn: string[] = [];
        for (let q = 2; q < data.length; q += 1 + data[q])
          alpn.push(data.toString('latin1', q + 1, q + 1 + data[q]));
        out.alpn = alpn;
      }
    }
  } catch {
    // A record cut short: keep what was read.
  }
  return out;
}
