/**
 * The responder's peers, each in its own process and given the same recorded answers: mockttp
 * with one static rule (bodiless requests), mockttp with one rule per recorded POST matching
 * its JSON body, and WireMock standalone with one stub.
 */
import { freePort, startOnPort, startReady, type Started } from './common.js';
import { ensureWireMock, REPO_ROOT } from './peers.js';
import { outboundPair, outboundPostPair, RESERVE_PATH } from './recordings.js';

export interface Peer {
  started: Started;
  url: string;
}

/** What the peer answers: the recorded status line and body, framed with content-length. */
interface Answer {
  /** Rule matcher calls on `mock`, e.g. `.forAnyRequest()`. */
  match: string;
  body: string;
}

/** A mockttp process with these rules (thenReply with content-length; `always()`, like the responder's). */
function mockttpSource(answers: Answer[]): string {
  // Without content-length autocannon counts no completed responses.
  const rules = answers.map(
    (a) => `
  await mock${a.match}.always().thenReply(200, ${JSON.stringify(a.body)}, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(${JSON.stringify(a.body)})),
  });`,
  );
  return `
const { getLocal } = require('mockttp');
const mock = getLocal({ recordTraffic: false, cors: false, suggestChanges: false });
(async () => {${rules.join('')}
  await mock.start();
  console.log(JSON.stringify({ port: mock.port }));
})();
`;
}

async function startMockttp(answers: Answer[]): Promise<Peer> {
  const started = await startReady(process.execPath, ['-e', mockttpSource(answers)], { cwd: REPO_ROOT });
  return { started, url: `http://127.0.0.1:${Number(started.ready.port)}` };
}

/** mockttp with one static rule answering outbound pair 0's recorded body to any request. */
export const startStaticMockttp = () =>
  startMockttp([{ match: '.forAnyRequest()', body: outboundPair(0).response!.body!.data }]);

/**
 * mockttp with what a user would write for the recorded POSTs 0..count-1: per pair, a rule on
 * the method and path whose JSON body equals the recorded one (`withJsonBody`, compared after
 * parsing, as the responder compares canonical JSON), answering the recorded body.
 */
export const startPostMockttp = (count: number) =>
  startMockttp(
    Array.from({ length: count }, (_, i) => {
      const pair = outboundPostPair(i);
      return {
        match: `.forPost(${JSON.stringify(RESERVE_PATH)}).withJsonBody(${pair.request.body!.data})`,
        body: pair.response!.body!.data,
      };
    }),
  );

/** WireMock standalone with one stub answering outbound pair 0's body, or why it could not run. */
export async function startWireMock(log: (m: string) => void, cwd: string): Promise<Peer | string> {
  const tool = await ensureWireMock(log);
  if (!tool.ok) return tool.reason;
  const port = await freePort();
  const started = await startOnPort(
    tool.java,
    ['-jar', tool.jar, '--port', String(port), '--disable-banner'],
    { port, timeoutMs: 60_000, cwd },
  );
  const url = `http://127.0.0.1:${port}`;
  const res = await fetch(`${url}/__admin/mappings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      request: { method: 'ANY', urlPattern: '.*' },
      response: {
        status: 200,
        body: outboundPair(0).response!.body!.data,
        headers: { 'content-type': 'application/json' },
      },
    }),
  });
  if (!res.ok) {
    await started.stop();
    return `WireMock: adding the stub answered ${res.status}`;
  }
  return { started, url };
}
