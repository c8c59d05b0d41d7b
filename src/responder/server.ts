/**
 * The responder server: one mockttp instance that is both an HTTP(S) proxy (absolute-form
 * requests, CONNECT tunnels whose TLS it terminates with the Reprise CA) and a plain host (the
 * app's base URL points at it; the Host header names the dependency). This file builds the
 * mockttp rules; answers.ts decides what each request gets.
 */
import type { RequestListener } from 'node:http';
import type { Server } from 'node:net';
import type { CompletedRequest, Mockttp, requestSteps } from 'mockttp';
// The server class alone: mockttp's main module also loads its admin server, remote client and
// GraphQL schema, which the responder never uses and which would add ~0.3 s to every replay's start.
import { MockttpServer } from 'mockttp/dist/server/mockttp-server';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ResponderConfig } from '../config/replay.js';
import { childLog } from '../base/log.js';
import type { ResponderStats } from '../model/replay.js';
import type { RRPair } from '../model/traffic.js';
import type { SnapshotStore } from '../store/types.js';
import { Answers, type Decision } from './answers.js';
import { ensureCa } from '../tls/ca.js';
import { directListener } from './direct.js';
import { MatchLog } from './match-log.js';
import { NearestSignatures } from './nearest.js';
import { buildIndex, type IndexSummary } from './recorded-index.js';
import { MATCH_HEADER } from './recorded-reply.js';
import { then } from './maybe-promise.js';
import { compileSignatureRules } from './signature.js';
import { GrpcAnswers } from './grpc/answer-calls.js';
import { compileFieldPaths } from './grpc/call-key.js';
import { RecordedCalls, withoutGrpcCalls } from './grpc/recorded-calls.js';

/** ResponderConfig as written by a user: every field optional, defaults applied by the schema. */
export type ResponderConfigInput = Partial<z.input<typeof ResponderConfig>>;

export interface ResponderOptions {
  /** Where the snapshot is read from (with snapshotId); or give `pairs` directly. */
  store?: SnapshotStore;
  snapshotId?: string;
  /** Recorded pairs in recorded order; inbound pairs are ignored. */
  pairs?: AsyncIterable<RRPair> | Iterable<RRPair>;
  /** 0 = ephemeral. */
  port?: number;
  /** Default 127.0.0.1; `0.0.0.0` in a pod. */
  host?: string;
  config?: ResponderConfigInput;
  /** Holds `ca.pem`/`ca-key.pem` (created when missing). Without it CONNECT tunnels cannot be decrypted. */
  caDir?: string;
  /** Misses listed in stats (the rest are counted). Default 1000. */
  maxMisses?: number;
  logger?: Logger;
}

export interface Responder {
  readonly port: number;
  /** `http://host:port`: a proxy URL for HTTP_PROXY/HTTPS_PROXY, or a base URL. */
  readonly url: string;
  /** The CA certificate path the app must trust for HTTPS, when caDir was given. */
  readonly caCertPath?: string;
  readonly index: IndexSummary;
  stats(): ResponderStats;
  close(): Promise<void>;
}

export async function startResponder(options: ResponderOptions): Promise<Responder> {
  const config = ResponderConfig.parse(options.config ?? {});
  const logger = options.logger ?? childLog('responder', { snapshotId: options.snapshotId });
  const rules = compileSignatureRules(config.ignore);
  // Outbound gRPC calls are kept apart (grpc/): they are keyed on their decoded messages.
  const fieldPaths = compileFieldPaths(config.ignore.body);
  const calls = new RecordedCalls(fieldPaths, config.exhausted);
  const index = await buildIndex(withoutGrpcCalls(await pairSource(options), calls), {
    rules,
    exhausted: config.exhausted,
    latency: config.latency,
  });
  const summary = index.stats();
  logIndex(logger, summary);
  if (calls.stats().calls) logger.info(calls.stats(), 'recorded gRPC calls indexed');

  const ca = options.caDir ? await ensureCa(options.caDir) : undefined;
  const mock: Mockttp = new MockttpServer({
    https: ca && { certPath: ca.certPath, keyPath: ca.keyPath },
    // mockttp would otherwise keep every request it saw, for ever.
    recordTraffic: false,
    cors: false,
    suggestChanges: false,
  });
  const matchLog = new MatchLog(options.maxMisses);
  const answers = new Answers(
    index,
    rules,
    matchLog,
    new NearestSignatures(() => index.signatures()),
    logger,
  );
  await addRules(mock, answers, config.missPolicy);
  answerDirectly(mock, answers, new GrpcAnswers(calls, fieldPaths, matchLog, logger, config.latency));

  const host = options.host ?? '127.0.0.1';
  const server = bindHost(mock, host);
  await mock.start(options.port ?? 0);
  const bound = boundAddress(server());
  if (!isBoundTo(bound, host)) {
    await mock.stop();
    throw new Error(`responder: could not bind to ${host} (listening on ${bound ?? 'unknown'})`);
  }
  const port = mock.port;
  const url = `http://${urlHost(host)}:${port}`;
  logger.info({ url, missPolicy: config.missPolicy, tls: !!ca }, 'responder listening');

  return {
    port,
    url,
    caCertPath: ca?.certPath,
    index: summary,
    stats: () => answers.stats(),
    close: () => mock.stop(),
  };
}

async function pairSource(options: ResponderOptions): Promise<AsyncIterable<RRPair> | Iterable<RRPair>> {
  if (options.pairs) return options.pairs;
  if (!options.store || !options.snapshotId)
    throw new Error('startResponder: give `pairs`, or `store` and `snapshotId`');
  await options.store.getManifest(options.snapshotId); // a clear SnapshotNotFoundError before anything starts
  return options.store.readPairs(options.snapshotId);
}

/**
 * The rules: one callback rule answers everything when misses get a 404. With passthrough, the
 * callback rule only takes what it can answer (decided once, kept by request id for the
 * handler) and a passthrough rule behind it forwards the rest. Both are `always()`: by default
 * mockttp lets a used rule yield to the last matching one, which would pass everything through.
 */
async function addRules(
  mock: Mockttp,
  answers: Answers,
  missPolicy: ResponderConfig['missPolicy'],
): Promise<void> {
  if (missPolicy === '404') {
    await mock
      .forAnyRequest()
      .always()
      .thenCallback((req) => then(answers.decide(req), (decision) => answers.respond(req, decision)));
    return;
  }
  const decided = new DecisionStash();
  await mock
    .forAnyRequest()
    .always()
    .matching((req) =>
      then(answers.decide(req), (decision) => {
        decided.put(req.id, decision);
        return answers.answerable(req, decision);
      }),
    )
    .thenCallback((req) => then(decided.take(req.id) ?? answers.decide(req), (d) => answers.respond(req, d)));
  await mock
    .forAnyRequest()
    .always()
    .thenPassThrough({
      beforeRequest: async (req: CompletedRequest) => {
        const decision = decided.take(req.id) ?? (await answers.decide(req));
        answers.passingThrough(req, decision.signature);
      },
      beforeResponse: framePassedThrough,
    });
}

/**
 * Puts direct.ts (and gRPC calls, grpc/) in front of mockttp's request listener. mockttp hands `app` (its connect app)
 * to the HTTP server in start(), so it is swapped before that; startResponder's tests cover both
 * paths.
 */
function answerDirectly(mock: Mockttp, answers: Answers, grpc: GrpcAnswers): void {
  const m = mock as unknown as { app: RequestListener };
  m.app = grpc.listener(directListener(answers, m.app));
}

/** Decisions made while matching, for the handler of the same request. */
class DecisionStash {
  /** A request aborted between matching and handling leaves its entry: bound the leftovers. */
  private static readonly MAX = 10_000;
  private readonly byId = new Map<string, Decision>();

  put(id: string, decision: Decision): void {
    if (this.byId.size >= DecisionStash.MAX) this.byId.clear();
    this.byId.set(id, decision);
  }

  take(id: string): Decision | undefined {
    const d = this.byId.get(id);
    this.byId.delete(id);
    return d;
  }
}

/** mockttp has buffered the upstream body here: frame it with content-length and mark it. */
function framePassedThrough(res: requestSteps.PassThroughResponse) {
  const headers: Record<string, string | string[] | undefined> = {
    ...res.headers,
    [MATCH_HEADER]: 'PASSTHROUGH',
  };
  delete headers['transfer-encoding'];
  const bodyless = res.statusCode === 204 || res.statusCode === 304 || res.statusCode < 200;
  if (!bodyless) headers['content-length'] = String(res.body.buffer.length);
  return { headers };
}

/**
 * mockttp's start() listens on every interface and has no host option. Its server object is
 * assigned inside start(), so a setter on that field wraps listen() to pass the host along;
 * startResponder fails loudly if a mockttp upgrade ever bypasses this.
 */
function bindHost(mock: Mockttp, host: string): () => Server | undefined {
  let server: Server | undefined;
  Object.defineProperty(mock, 'server', {
    configurable: true,
    enumerable: true,
    get: () => server,
    set: (value: Server | undefined) => {
      server = value;
      if (!value) return;
      const listen = value.listen.bind(value) as (port: number, host: string) => Server;
      value.listen = ((port: number) => listen(port, host)) as Server['listen'];
    },
  });
  return () => server;
}

function boundAddress(server: Server | undefined): string | undefined {
  const address = server?.address();
  return address && typeof address === 'object' ? address.address : undefined;
}

function isBoundTo(bound: string | undefined, host: string): boolean {
  if (host === '0.0.0.0' || host === '::') return true;
  return bound !== undefined && bound !== '::' && bound !== '0.0.0.0';
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function logIndex(logger: Logger, summary: IndexSummary): void {
  logger.info(summary, 'recorded responses indexed');
  const { skipped, truncatedRequests, truncatedResponses } = summary;
  if (skipped.connect || skipped.upgrade) {
    logger.warn(skipped, 'recorded pairs that cannot be replayed: opaque CONNECT tunnels, protocol upgrades');
  }
  if (truncatedRequests) {
    logger.warn(
      { truncatedRequests },
      'recorded request bodies were cut by the recorder: matched by their prefix',
    );
  }
  if (truncatedResponses) {
    logger.warn({ truncatedResponses }, 'recorded response bodies were cut by the recorder: replayed cut');
  }
}
