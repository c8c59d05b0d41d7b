/** createMasker: DLP rules + the install key -> a function from a pair to its masked copy. */
import { UNSCANNED_TAG, type HttpRequest, type HttpResponse, type RRPair } from '../model/traffic.js';
import { Detectors } from './detectors.js';
import { maskGrpc, maskNeverIndexed, neverIndexedOf } from './h2.js';
import { HeaderPolicy, maskHeaders, setContentLength } from './headers.js';
import { maskBody, maskPath, maskQuery } from './parts.js';
import { KeyScanner, keyKinds } from './keys.js';
import { DlpRules, type DlpRulesInput } from './rules.js';
import { TextMasker } from './text.js';
import { Tokenizer, type MaskStats } from './tokens.js';

export interface Masker {
  /**
   * The pair with every secret replaced by its token; the input is never modified. A body it
   * could not scan (binary) is kept as it is and named in the pair's UNSCANNED_TAG.
   */
  (pair: RRPair): RRPair;
  /** Values masked so far, per token kind. */
  stats(): MaskStats;
  /** Bodies left unscanned so far. */
  unscanned(): number;
  readonly rules: DlpRules;
}

interface Compiled {
  text: TextMasker;
  headers: HeaderPolicy;
  scan: DlpRules['scan'];
}

/** Where a masked message's bodies went unscanned (`request.body`, `response.body`). */
type Unscanned = string[];

function maskMessageBody<M extends HttpRequest | HttpResponse>(
  msg: M,
  headers: M['headers'],
  c: Compiled,
  unscanned: Unscanned,
): M {
  const masked = c.scan.body && msg.body ? maskBody(msg.body, msg.headers, c.text) : undefined;
  if (masked === 'unscanned') unscanned.push('status' in msg ? 'response.body' : 'request.body');
  else if (masked) {
    const h = masked.resized ? setContentLength(headers, masked.body.size) : headers;
    return { ...msg, headers: h, body: masked.body };
  }
  return headers === msg.headers ? msg : { ...msg, headers };
}

/** HTTP/2 parts of a message: its trailers, and the values its sender marked never-indexed. */
function maskH2<M extends HttpRequest | HttpResponse>(
  msg: M,
  neverIndexed: string[] | undefined,
  c: Compiled,
): M {
  const headers = maskNeverIndexed(msg.headers, neverIndexed, c.text);
  const trailers =
    msg.trailers && maskNeverIndexed(maskHeaders(msg.trailers, c.headers, c.text), neverIndexed, c.text);
  if (headers === msg.headers && trailers === msg.trailers) return msg;
  return { ...msg, headers, ...(trailers && { trailers }) };
}

function maskRequest(req: HttpRequest, c: Compiled, unscanned: Unscanned): HttpRequest {
  const path = c.scan.path ? maskPath(req.path, c.text) : req.path;
  const query = c.scan.query ? maskQuery(req.query, c.text) : req.query;
  const out = maskMessageBody(req, maskHeaders(req.headers, c.headers, c.text), c, unscanned);
  return path === req.path && query === req.query ? out : { ...out, path, query };
}

export function createMasker(rules: DlpRules | DlpRulesInput, key: Buffer): Masker {
  const r = DlpRules.parse(rules);
  const tokens = new Tokenizer(key);
  const c: Compiled = {
    text: new TextMasker(tokens, new Detectors(r.detectors), new KeyScanner(keyKinds(r.keys))),
    headers: new HeaderPolicy({
      kinds: keyKinds(r.headers),
      exempt: new Set(r.exemptHeaders.map((h) => h.toLowerCase())),
      scanValues: r.scan.headers,
    }),
    scan: r.scan,
  };
  let unscannedBodies = 0;
  const masker = (pair: RRPair): RRPair => {
    const unscanned: Unscanned = [];
    let request = maskRequest(pair.request, c, unscanned);
    let response =
      pair.response &&
      maskMessageBody(pair.response, maskHeaders(pair.response.headers, c.headers, c.text), c, unscanned);
    let grpc = pair.grpc;
    if (pair.protocol === 'h2') {
      request = maskH2(request, neverIndexedOf(pair.h2, 'request'), c);
      response = response && maskH2(response, neverIndexedOf(pair.h2, 'response'), c);
      grpc = grpc && maskGrpc(grpc, c.text, unscanned);
    }
    const g = grpc === undefined ? {} : { grpc };
    if (unscanned.length) {
      unscannedBodies += unscanned.length;
      return {
        ...pair,
        request,
        response,
        ...g,
        tags: { ...pair.tags, [UNSCANNED_TAG]: unscanned.join(',') },
      };
    }
    if (request === pair.request && response === pair.response && grpc === pair.grpc) return pair;
    return { ...pair, request, response, ...g };
  };
  return Object.assign(masker, { stats: () => tokens.stats(), unscanned: () => unscannedBodies, rules: r });
}
