/**
 * What the responder does with a request (the "act" half; server.ts wires it into mockttp
 * rules): a recorded reply for a match, the admin endpoints, and a loud 404 for a miss. A miss
 * is never silent: it is counted, listed, logged once per signature, and answered with the
 * nearest recorded signatures and `x-reprise-match: NO_MATCH`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CompletedRequest } from 'mockttp';
import type { ResponderStats } from '../model/replay.js';
import { liveFacts } from './live-request.js';
import { then, type MaybePromise } from './maybe-promise.js';
import type { MatchLog } from './match-log.js';
import type { NearestSignatures } from './nearest.js';
import type { IndexEntry, RecordedIndex } from './recorded-index.js';
import { MATCH_HEADER, type PreparedResponse } from './recorded-reply.js';
import { sign, type RequestFacts, type Signature, type SignatureRules } from './signature.js';

/**
 * Admin paths. They are consulted only after the recorded index missed, so a recorded
 * dependency path under this prefix (however unlikely) is still replayed, never shadowed.
 */
export const ADMIN_PREFIX = '/__reprise/';
export const ADMIN_STATS = `${ADMIN_PREFIX}stats`;
export const ADMIN_HEALTH = `${ADMIN_PREFIX}healthz`;

export interface Decision {
  signature: Signature;
  entry?: IndexEntry;
}

export type Answer = PreparedResponse | 'close' | 'reset';

export class Answers {
  constructor(
    private readonly index: RecordedIndex,
    private readonly rules: SignatureRules,
    private readonly log: MatchLog,
    private readonly nearest: NearestSignatures,
    private readonly logger: Logger,
  ) {}

  decide(req: CompletedRequest): MaybePromise<Decision> {
    return then(liveFacts(req), (facts) => {
      const signature = sign(facts, this.rules);
      return { signature, entry: this.index.find(signature, facts.body) };
    });
  }

  /** True when `respond` has something better than a miss for this request. */
  answerable(req: CompletedRequest, decision: Decision): boolean {
    return decision.entry !== undefined || adminPath(req) !== undefined;
  }

  /**
   * The recorded response for a request answered ahead of mockttp (direct.ts), used up and
   * counted; undefined when the request must go through mockttp (no match, or the next
   * recorded reply closes or resets the connection).
   */
  directReply(facts: RequestFacts): { response: PreparedResponse; delayMs: number } | undefined {
    const entry = this.index.find(sign(facts, this.rules), facts.body);
    if (!entry || this.index.peek(entry).kind !== 'respond') return undefined;
    const reply = this.index.next(entry);
    this.log.matched();
    return reply.kind === 'respond' ? reply : undefined;
  }

  respond(req: CompletedRequest, decision: Decision): MaybePromise<Answer> {
    if (decision.entry) {
      const reply = this.index.next(decision.entry);
      this.log.matched();
      const answer = reply.kind === 'respond' ? reply.response : reply.kind;
      return reply.delayMs > 0 ? sleep(reply.delayMs).then(() => answer) : answer;
    }
    const admin = adminPath(req);
    if (admin === ADMIN_HEALTH) return jsonResponse(200, { status: 'ok' });
    if (admin === ADMIN_STATS) return jsonResponse(200, this.stats());
    return this.notMatched(req, decision.signature);
  }

  /** Counts and lists a request that goes to the real host (missPolicy `passthrough`). */
  passingThrough(req: CompletedRequest, signature: Signature): void {
    const nearest = this.nearest.find(signature);
    const record = {
      status: 'PASSTHROUGH' as const,
      method: req.method,
      url: req.url,
      signature: signature.key,
      nearest,
    };
    if (this.log.missed(record))
      this.logger.warn(record, 'no recorded response: passing through to the real host');
  }

  stats(): ResponderStats {
    return this.log.stats();
  }

  private notMatched(req: CompletedRequest, signature: Signature): PreparedResponse {
    const nearest = this.nearest.find(signature);
    const record = {
      status: 'NO_MATCH' as const,
      method: req.method,
      url: req.url,
      signature: signature.key,
      nearest,
    };
    if (this.log.missed(record)) this.logger.warn(record, 'no recorded response: answering 404');
    else this.logger.debug(record, 'no recorded response');
    return jsonResponse(
      404,
      {
        error: 'reprise responder: no recorded response',
        request: { method: req.method, url: req.url, signature: signature.key },
        nearest,
      },
      'NO_MATCH',
    );
  }
}

function adminPath(req: CompletedRequest): string | undefined {
  if (req.method !== 'GET' || !req.path.startsWith(ADMIN_PREFIX)) return undefined;
  const path = req.path.split('?', 1)[0];
  return path === ADMIN_STATS || path === ADMIN_HEALTH ? path : undefined;
}

function jsonResponse(statusCode: number, value: unknown, match?: 'NO_MATCH'): PreparedResponse {
  const rawBody = Buffer.from(JSON.stringify(value));
  const headers: PreparedResponse['headers'] = {
    'content-type': 'application/json',
    'content-length': String(rawBody.length),
  };
  if (match) headers[MATCH_HEADER] = match;
  return { statusCode, headers, rawBody };
}
