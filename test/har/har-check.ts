/** A structural checker for HAR 1.2 (the fields the spec requires and their types). */

// The checker walks untyped JSON on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export function harProblems(har: Json): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, where: string, what: string) => {
    if (!ok) problems.push(`${where}: ${what}`);
  };
  const isStr = (v: unknown) => typeof v === 'string';
  const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const nameValues = (list: Json, where: string) => {
    need(Array.isArray(list), where, 'expected an array');
    if (!Array.isArray(list)) return;
    list.forEach((x, i) =>
      need(isStr(x?.name) && isStr(x?.value), `${where}[${i}]`, 'expected {name, value} strings'),
    );
  };

  const log = har?.log;
  need(typeof log === 'object' && log !== null, 'log', 'expected an object');
  if (!log) return problems;
  need(log.version === '1.2', 'log.version', 'expected "1.2"');
  need(isStr(log.creator?.name) && isStr(log.creator?.version), 'log.creator', 'expected {name, version}');
  need(Array.isArray(log.entries), 'log.entries', 'expected an array');
  (log.entries ?? []).forEach((e: Json, i: number) => {
    const at = `log.entries[${i}]`;
    need(
      isStr(e.startedDateTime) && !Number.isNaN(Date.parse(e.startedDateTime)),
      `${at}.startedDateTime`,
      'ISO date',
    );
    need(isNum(e.time) && e.time >= 0, `${at}.time`, 'non-negative number');
    const rq = e.request;
    need(isStr(rq?.method) && rq.method.length > 0, `${at}.request.method`, 'string');
    need(isStr(rq?.url) && URL.canParse(rq.url), `${at}.request.url`, 'absolute URL');
    need(isStr(rq?.httpVersion), `${at}.request.httpVersion`, 'string');
    nameValues(rq?.cookies, `${at}.request.cookies`);
    nameValues(rq?.headers, `${at}.request.headers`);
    nameValues(rq?.queryString, `${at}.request.queryString`);
    need(isNum(rq?.headersSize) && isNum(rq?.bodySize), `${at}.request`, 'headersSize and bodySize numbers');
    if (rq?.postData !== undefined) {
      need(isStr(rq.postData.mimeType), `${at}.request.postData.mimeType`, 'string');
      need(
        isStr(rq.postData.text) !== Array.isArray(rq.postData.params),
        `${at}.request.postData`,
        'text xor params',
      );
    }
    const rs = e.response;
    need(isNum(rs?.status), `${at}.response.status`, 'number');
    need(
      isStr(rs?.statusText) && isStr(rs?.httpVersion),
      `${at}.response`,
      'statusText and httpVersion strings',
    );
    nameValues(rs?.cookies, `${at}.response.cookies`);
    nameValues(rs?.headers, `${at}.response.headers`);
    need(
      isNum(rs?.content?.size) && isStr(rs?.content?.mimeType),
      `${at}.response.content`,
      '{size, mimeType}',
    );
    if (rs?.content?.text !== undefined)
      need(isStr(rs.content.text), `${at}.response.content.text`, 'string');
    if (rs?.content?.encoding !== undefined)
      need(isStr(rs.content.encoding), `${at}.response.content.encoding`, 'string');
    need(isStr(rs?.redirectURL), `${at}.response.redirectURL`, 'string');
    need(isNum(rs?.headersSize) && isNum(rs?.bodySize), `${at}.response`, 'headersSize and bodySize numbers');
    need(typeof e.cache === 'object' && e.cache !== null, `${at}.cache`, 'object');
    const t = e.timings ?? {};
    for (const k of ['send', 'wait', 'receive']) need(isNum(t[k]) && t[k] >= 0, `${at}.timings.${k}`, '>= 0');
    for (const k of ['blocked', 'dns', 'connect', 'ssl']) {
      if (t[k] !== undefined) need(isNum(t[k]) && t[k] >= -1, `${at}.timings.${k}`, '>= -1');
    }
    const sum = ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']
      .map((k) => t[k])
      .filter((v) => isNum(v) && v >= 0)
      .reduce((a: number, b: number) => a + b, 0);
    need(Math.abs(sum - e.time) < 0.001, `${at}.time`, `equals the sum of the timings (${sum})`);
  });
  return problems;
}
