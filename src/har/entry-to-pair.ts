/** One HAR entry -> one RRPair. */
import { encodeBody } from '../model/body.js';
import { headerValue } from '../model/headers.js';
import type { Body, Direction, HeaderList, HttpResponse, RRPair } from '../model/traffic.js';
import { HarFormatError } from './errors.js';
import type { HarEntry, HarNameValue, HarParam, HarPostData } from './schema.js';
import { splitAuthority, splitUrl } from './url.js';

export interface EntryOptions {
  service: string;
  /** For entries that do not say (`_direction`, written by Reprise's export). */
  direction: Direction;
  /** Cap on a stored body; longer bodies are cut and marked truncated. */
  maxBodyBytes: number;
}

const DECODED_FROM: Record<string, Body['decodedFrom']> = {
  gzip: 'gzip',
  'x-gzip': 'gzip',
  deflate: 'deflate',
  br: 'br',
};

/** Returns undefined for entries that are not HTTP (data:, blob:, chrome-extension: URLs). */
export function entryToPair(entry: HarEntry, id: string, at: string, opts: EntryOptions): RRPair | undefined {
  const url = splitUrl(entry.request.url);
  if (!url) return undefined;
  const pseudo = new Map<string, string>();
  const reqHeaders = headerList(entry.request.headers, pseudo);
  // HTTP/2 sends the authority as a pseudo-header; it is what the client addressed.
  const authority = pseudo.get(':authority');
  const { host, port } = authority ? splitAuthority(authority, url.scheme) : url;
  const body = requestBody(entry.request.postData, opts.maxBodyBytes);

  const pair: RRPair = {
    id,
    direction: entry._direction ?? opts.direction,
    service: opts.service,
    protocol: isH2(entry.request.httpVersion) || isH2(entry.response?.httpVersion) ? 'h2' : 'http/1.1',
    startedAt: new Date(entry.startedDateTime).toISOString(),
    durationMs: duration(entry),
    request: {
      method: entry.request.method,
      scheme: url.scheme,
      host,
      port,
      path: url.path,
      query: url.query,
      headers: reqHeaders,
      ...(body ? { body } : {}),
    },
    tags: {},
  };
  const status = entry.response?.status ?? 0;
  if (status === 0) {
    // Browsers write status 0 for blocked, failed or cancelled requests.
    const message = entry.response?._error || 'no response recorded in the HAR entry';
    pair.error = { code: 'NO_RESPONSE', message };
  } else if (status < 100 || status > 999) {
    throw new HarFormatError(`${at}.response.status`, `expected 0 or an HTTP status 100-999, got ${status}`);
  } else {
    pair.response = response(entry.response!, status, opts.maxBodyBytes);
  }
  return pair;
}

function response(
  res: NonNullable<HarEntry['response']>,
  status: number,
  maxBodyBytes: number,
): HttpResponse {
  const headers = headerList(res.headers, new Map());
  const out: HttpResponse = { status, headers };
  if (res.statusText !== undefined && res.statusText !== null) out.statusText = res.statusText;
  const content = res.content;
  if (typeof content?.text === 'string' && content.text.length > 0) {
    const bytes = Buffer.from(content.text, content.encoding === 'base64' ? 'base64' : 'utf8');
    const body = encodeBody(bytes, bytes.length, maxBodyBytes);
    // HAR content is always the decoded body, while the headers still name the encoding.
    const decodedFrom = DECODED_FROM[(headerValue(headers, 'content-encoding') ?? '').trim().toLowerCase()];
    out.body = decodedFrom ? { ...body, decodedFrom } : body;
  } else if (content?.size && content.size > 0) {
    // The exporter left the body out (binary, too big, sanitised): known size, no bytes.
    out.body = { encoding: 'utf8', data: '', size: content.size, truncated: true };
  }
  return out;
}

function requestBody(post: HarPostData | null | undefined, maxBodyBytes: number): Body | undefined {
  if (!post) return undefined;
  let bytes: Buffer | undefined;
  if (typeof post.text === 'string' && post.text.length > 0) {
    const base64 = post.encoding === 'base64' || post._encoding === 'base64';
    bytes = Buffer.from(post.text, base64 ? 'base64' : 'utf8');
  } else if (post.params && post.params.length > 0) {
    bytes = formBody(post.params, post.mimeType ?? '');
  }
  return bytes ? encodeBody(bytes, bytes.length, maxBodyBytes) : undefined;
}

/** Rebuilds a form body from `params` (exporters that keep only the parsed form). */
function formBody(params: HarParam[], mimeType: string): Buffer {
  const boundary = /multipart\/form-data.*boundary="?([^";]+)"?/i.exec(mimeType)?.[1];
  if (!boundary) {
    const pairs = params.map((p) => `${formEncode(p.name)}=${formEncode(p.value)}`);
    return Buffer.from(pairs.join('&'));
  }
  let out = '';
  for (const p of params) {
    const file = p.fileName ? `; filename="${p.fileName}"` : '';
    const type = p.contentType ? `\r\nContent-Type: ${p.contentType}` : '';
    out += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}${type}\r\n\r\n${p.value}\r\n`;
  }
  return Buffer.from(`${out}--${boundary}--\r\n`);
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/** Ordered [name, value] list without HTTP/2 pseudo-headers, which are collected into `pseudo`. */
function headerList(headers: HarNameValue[] | null | undefined, pseudo: Map<string, string>): HeaderList {
  const out: HeaderList = [];
  for (const h of headers ?? []) {
    if (h.name.startsWith(':')) pseudo.set(h.name.toLowerCase(), h.value);
    else out.push([h.name, h.value]);
  }
  return out;
}

const isH2 = (v: string | null | undefined) => !!v && /^(h2|h3|http\/2|http\/3)/i.test(v.trim());

/** `time`, else the sum of the known timings (exporters write -1 or null for unknown ones). */
function duration(entry: HarEntry): number {
  if (typeof entry.time === 'number' && Number.isFinite(entry.time) && entry.time >= 0) return entry.time;
  let sum = 0;
  for (const [k, v] of Object.entries(entry.timings ?? {})) {
    if (k !== 'ssl' && typeof v === 'number' && Number.isFinite(v) && v > 0) sum += v;
  }
  return sum;
}
