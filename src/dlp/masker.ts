/** createMasker: DLP rules + the install key -> a function from a pair to its masked copy. */
import type { HttpRequest, HttpResponse, RRPair } from '../model/traffic.js';
import { Detectors } from './detectors.js';
import { HeaderPolicy, maskHeaders, setContentLength } from './headers.js';
import { maskBody, maskPath, maskQuery } from './parts.js';
import { KeyScanner, keyKinds } from './keys.js';
import { DlpRules, type DlpRulesInput } from './rules.js';
import { TextMasker } from './text.js';
import { Tokenizer, type MaskStats } from './tokens.js';

export interface Masker {
  /** The pair with every secret replaced by its token; the input is never modified. */
  (pair: RRPair): RRPair;
  /** Values masked so far, per token kind. */
  stats(): MaskStats;
  readonly rules: DlpRules;
}

interface Compiled {
  text: TextMasker;
  headers: HeaderPolicy;
  scan: DlpRules['scan'];
}

function maskMessageBody<M extends HttpRequest | HttpResponse>(
  msg: M,
  headers: M['headers'],
  c: Compiled,
): M {
  const masked = c.scan.body && msg.body ? maskBody(msg.body, msg.headers, c.text) : undefined;
  if (masked) {
    const h = masked.resized ? setContentLength(headers, masked.body.size) : headers;
    return { ...msg, headers: h, body: masked.body };
  }
  return headers === msg.headers ? msg : { ...msg, headers };
}

function maskRequest(req: HttpRequest, c: Compiled): HttpRequest {
  const path = c.scan.path ? maskPath(req.path, c.text) : req.path;
  const query = c.scan.query ? maskQuery(req.query, c.text) : req.query;
  const out = maskMessageBody(req, maskHeaders(req.headers, c.headers, c.text), c);
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
  const masker = (pair: RRPair): RRPair => {
    const request = maskRequest(pair.request, c);
    const response =
      pair.response &&
      maskMessageBody(pair.response, maskHeaders(pair.response.headers, c.headers, c.text), c);
    return request === pair.request && response === pair.response ? pair : { ...pair, request, response };
  };
  return Object.assign(masker, { stats: () => tokens.stats(), rules: r });
}
