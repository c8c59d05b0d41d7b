/** An HTTP/1.1 exchange as the tap shipped it (raw heads, capped bodies) into an RRPair. */
import type { RRPair } from '../../model/traffic.js';
import { parseHead } from '../http1/head.js';
import {
  type ConnectionFacts,
  type ExchangeRecord,
  type PairContext,
  buildPair,
  splitAuthority,
} from '../http1/pair.js';
import type { ConnFacts, TapExchange } from './frames.js';

export function connectionFacts(f: ConnFacts): ConnectionFacts {
  return {
    direction: f.outbound ? 'outbound' : 'inbound',
    scheme: f.https ? 'https' : 'http',
    host: f.host,
    port: f.port,
  };
}

/** The pair; throws ParseError when a head does not parse (the sidecar only checked its framing). */
export function exchangePair(x: TapExchange, ctx: PairContext): RRPair {
  const req = parseHead(x.reqHead.toString('latin1'), 'request');
  const ex: ExchangeRecord = {
    startT: x.startT,
    endT: x.endT,
    method: req.method,
    target: req.target,
    reqHeaders: req.headers,
  };
  if (x.reqBody.size > 0) ex.reqBody = x.reqBody;
  let tags = x.tags;
  if (req.version === '1.0') tags = { ...tags, httpVersion: '1.0' };
  if (x.resHead) {
    const res = parseHead(x.resHead.toString('latin1'), 'response');
    ex.response = { status: res.status, statusText: res.statusText, headers: res.headers };
    if (x.resBody.size > 0) ex.response.body = x.resBody;
    if (x.switched) tags = { ...tags, upgrade: req.method === 'CONNECT' ? 'CONNECT' : req.upgrade };
  }
  if (tags) ex.tags = tags;
  if (x.error) ex.error = x.error;
  const conn = connectionFacts(x.facts);
  if (req.method !== 'CONNECT') return buildPair(ex, conn, ctx);
  // A tunnel: the target is the destination's authority, there is no path.
  const to = splitAuthority(req.target, conn.port);
  return buildPair(ex, conn, ctx, {
    scheme: conn.scheme,
    host: to.host || conn.host,
    port: to.port,
    path: '',
    query: [],
  });
}
