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

/** A flat raw list as recorded [name, value] pairs, without the proxy's own credentials. */
export function recordedHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name !== 'proxy-authorization' && name !== 'proxy-connection') out.push([raw[i], raw[i + 1]]);
  }
  return out;
}
