/**
 * HTTP/1.1 to HTTP/2 upgrade (`Upgrade: h2c`, RFC 7540 3.2): the HTTP/1.1 request becomes
 * stream 1. Its head is parsed by the HTTP/1.1 side; this turns it into HTTP/2 form.
 */
import type { HeaderField } from './hpack.js';

export interface UpgradeRequest {
  method: string;
  /** The request target as sent (origin-form or absolute-form). */
  target: string;
  scheme: 'http' | 'https';
  /** The HTTP/1.1 header list. */
  headers: [string, string][];
  body?: Buffer;
}

/** Headers that only mean something to an HTTP/1.1 hop (RFC 9113 8.2.2). */
const HOP_BY_HOP = new Set([
  'connection',
  'upgrade',
  'http2-settings',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'host',
]);

/** True when an HTTP/1.1 request head asks to switch to h2c. */
export function asksForH2c(headers: [string, string][]): boolean {
  let upgrade = false;
  let settings = false;
  for (const [n, v] of headers) {
    const name = n.toLowerCase();
    if (name === 'upgrade') upgrade = v.split(',').some((p) => p.trim().toLowerCase() === 'h2c');
    else if (name === 'http2-settings') settings = true;
  }
  return upgrade && settings;
}

/** Stream 1's header list, and the client's SETTINGS payload from `HTTP2-Settings`. */
export function upgradeStream(req: UpgradeRequest): { headers: HeaderField[]; settings?: Buffer } {
  let authority = '';
  let path = req.target;
  const abs = /^https?:\/\/([^/?#]*)/i.exec(req.target);
  if (abs) {
    authority = abs[1];
    path = req.target.slice(abs[0].length) || '/';
  }
  let settings: Buffer | undefined;
  const rest: HeaderField[] = [];
  for (const [n, v] of req.headers) {
    const name = n.toLowerCase();
    if (name === 'host' && !authority) authority = v;
    if (name === 'http2-settings') settings = Buffer.from(v.trim(), 'base64url');
    if (!HOP_BY_HOP.has(name)) rest.push([name, v]);
  }
  const headers: HeaderField[] = [
    [':method', req.method],
    [':scheme', req.scheme],
    [':authority', authority],
    [':path', path],
    ...rest,
  ];
  return { headers, ...(settings && { settings }) };
}
