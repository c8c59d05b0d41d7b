/** HAR `cookies` arrays, derived from the Cookie / Set-Cookie headers (the headers stay the truth). */
import type { Cookie } from 'har-format';
import type { HeaderList } from '../model/traffic.js';

export function requestCookies(headers: HeaderList): Cookie[] {
  const out: Cookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'cookie') continue;
    for (const part of value.split(';')) {
      const c = nameValue(part);
      if (c) out.push(c);
    }
  }
  return out;
}

export function responseCookies(headers: HeaderList): Cookie[] {
  const out: Cookie[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'set-cookie') continue;
    const [first, ...attrs] = value.split(';');
    const cookie = nameValue(first);
    if (!cookie) continue;
    for (const attr of attrs) {
      const eq = attr.indexOf('=');
      const key = (eq === -1 ? attr : attr.slice(0, eq)).trim().toLowerCase();
      const val = eq === -1 ? '' : attr.slice(eq + 1).trim();
      if (key === 'path') cookie.path = val;
      else if (key === 'domain') cookie.domain = val;
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'secure') cookie.secure = true;
      else if (key === 'expires' && !Number.isNaN(Date.parse(val)))
        cookie.expires = new Date(val).toISOString();
    }
    out.push(cookie);
  }
  return out;
}

function nameValue(part: string): Cookie | undefined {
  const eq = part.indexOf('=');
  if (eq === -1) return part.trim() ? { name: '', value: part.trim() } : undefined;
  const name = part.slice(0, eq).trim();
  return { name, value: part.slice(eq + 1).trim() };
}
