/** One RRPair -> one HAR 1.2 entry. */
import { STATUS_CODES } from 'node:http';
import type { Content, Entry, Header, PostData, Response } from 'har-format';
import { headerValue } from '../model/headers.js';
import type { Body, HeaderList, RRPair } from '../model/traffic.js';
import { requestCookies, responseCookies } from './cookies.js';
import { grpcSide } from './grpc-content.js';
import { buildUrl } from './url.js';

/**
 * A HAR postData that can say its text is base64, or carry a gRPC body's bytes beside its
 * decoded text (not in HAR 1.2, hence the underscores).
 */
type ReprisePostData = PostData & { _encoding?: 'base64'; _base64?: string };

/** As browsers write HTTP/2 entries. */
const H2_VERSION = 'h2';

export function pairToEntry(pair: RRPair): Entry {
  const req = pair.request;
  const httpVersion = pair.protocol === 'h2' ? H2_VERSION : 'HTTP/1.1';
  const grpcReq = pair.grpc && grpcSide(pair.grpc, 'request', mimeOf(req.headers, 'application/grpc'));
  const entry: Entry = {
    startedDateTime: pair.startedAt,
    time: pair.durationMs,
    request: {
      method: req.method,
      url: buildUrl(req),
      httpVersion,
      cookies: requestCookies(req.headers),
      headers: harHeaders(req.headers),
      queryString: req.query.map(([name, value]) => ({ name, value })),
      ...(req.body ? { postData: postData(req.body, req.headers) } : {}),
      ...(grpcReq && {
        postData: { mimeType: grpcReq.mimeType, text: grpcReq.text, _base64: grpcReq.base64 },
      }),
      headersSize: -1,
      bodySize: grpcReq?.size ?? req.body?.size ?? 0,
    },
    response: pair.response ? response(pair, httpVersion) : noResponse(pair),
    cache: {},
    // Only the total is recorded; it is all `wait` (HAR requires send/wait/receive >= 0).
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: pair.durationMs, receive: 0 },
    // Not in HAR 1.2: which side of the service the call was on, so an import gets it back.
    _direction: pair.direction,
  };
  if (pair.error) entry.comment = `${pair.error.code}: ${pair.error.message}`;
  return entry;
}

function response(pair: RRPair, httpVersion: string): Response {
  const res = pair.response!;
  const body = res.body;
  // h2 has no reason phrase; for HTTP/1.1 fill the standard one when none was recorded.
  const statusText = res.statusText ?? (pair.protocol === 'h2' ? '' : (STATUS_CODES[res.status] ?? ''));
  return {
    status: res.status,
    statusText,
    httpVersion,
    cookies: responseCookies(res.headers),
    headers: harHeaders(res.headers),
    content: pair.grpc ? grpcContent(pair, res.headers) : content(body, res.headers),
    redirectURL: headerValue(res.headers, 'location') ?? '',
    headersSize: -1,
    // On the wire the body was compressed to a size that was not recorded.
    bodySize: pair.grpc ? -1 : body ? (body.decodedFrom ? -1 : body.size) : 0,
  };
}

const mimeOf = (headers: HeaderList, fallback: string) => headerValue(headers, 'content-type') ?? fallback;

/** The decoded messages as text, the framed bytes beside them (`_base64`). */
function grpcContent(pair: RRPair, headers: HeaderList): Content {
  const side = grpcSide(pair.grpc!, 'response', mimeOf(headers, 'application/grpc'));
  return { size: side.size, mimeType: side.mimeType, text: side.text, _base64: side.base64 } as Content;
}

/** What viewers show for a request that got no response (as browsers export failed requests). */
function noResponse(pair: RRPair): Response {
  return {
    status: 0,
    statusText: '',
    httpVersion: '',
    cookies: [],
    headers: [],
    content: { size: 0, mimeType: 'x-unknown' },
    redirectURL: '',
    headersSize: -1,
    bodySize: -1,
    _error: pair.error?.message ?? 'no response',
  } as Response;
}

function content(body: Body | undefined, headers: HeaderList): Content {
  const mimeType = headerValue(headers, 'content-type') ?? 'x-unknown';
  if (!body) return { size: 0, mimeType };
  const out: Content = { size: body.size, mimeType, text: body.data };
  if (body.encoding === 'base64') out.encoding = 'base64';
  if (body.truncated) out.comment = truncatedNote(body);
  return out;
}

function postData(body: Body, headers: HeaderList): ReprisePostData {
  const out: ReprisePostData = { mimeType: headerValue(headers, 'content-type') ?? '', text: body.data };
  if (body.encoding === 'base64') out._encoding = 'base64';
  if (body.truncated) out.comment = truncatedNote(body);
  return out;
}

function truncatedNote(body: Body): string {
  const kept = Buffer.byteLength(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
  return `truncated by reprise: ${kept} of ${body.size} bytes recorded`;
}

const harHeaders = (headers: HeaderList): Header[] => headers.map(([name, value]) => ({ name, value }));
