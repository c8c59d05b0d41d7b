import { HOP_BY_HOP_HEADERS } from '../src/model/headers.js';

/** Node's flat raw header list without the hop-by-hop ones (and those `Connection` names). */
export function endToEnd(raw: string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'connection') {
      for (const token of raw[i + 1].split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!HOP_BY_HOP_HEADERS.has(name) && !named.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * A head as it would be recorded from the wire (without its final CRLFCRLF), for exchanges the
 * proxy saw through node:http: `first` line, then the flat raw header list without the proxy's
 * own credentials.
 */
export function recordedHead(first: string, raw: string[]): Buffer {
  let text = first;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name !== 'proxy-authorization' && name !== 'proxy-connection') text += `\r\n${raw[i]}: ${raw[i + 1]}`;
  }
  return Buffer.from(text, 'latin1');
}
