import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { analyzeReplay } from '../../src/analyzer/index.js';
import { escapeHtml, html } from '../../src/report/escape.js';
import { formatCount, formatGoalValue, formatMs, formatPercent } from '../../src/report/format.js';
import { renderReportHtml } from '../../src/report/html.js';
import type { Report } from '../../src/report/schema.js';
import { writeReport } from '../../src/report/write.js';
import { scenario, XSS_IMG, XSS_SCRIPT } from './scenario.js';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';

describe('HTML escaping', () => {
  test('escapes every interpolated string, keeps nested Html', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(
      html`<p title="${'"><script>'}">${inner}${['<', html`<br />`]}</p>`.value,
      '<p title="&quot;&gt;&lt;script&gt;"><b>&lt;i&gt;</b>&lt;<br /></p>',
    );
  });

  test('the page has no script, no external URL, and a CSP forbidding both', async () => {
    const page = renderReportHtml(await analyzeReplay(scenario()));
    assert.doesNotMatch(page, /<script/i);
    assert.ok(!page.includes(XSS_SCRIPT) && !page.includes(XSS_IMG), 'hostile markup only appears escaped');
    assert.ok(page.includes(escapeHtml(XSS_SCRIPT)));
    assert.doesNotMatch(page, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(page, /@import|url\(\s*["']?https?:/i);
    assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;/);
  });

  test('an Error report with nothing measured still renders', async () => {
    const report = await analyzeReplay({
      ...scenario(),
      observed: (async function* () {})(),
      error: 'app never became ready',
    });
    const page = renderReportHtml(report);
    assert.match(page, /data-verdict="Error"/);
    assert.match(page, /app never became ready/);
    assert.match(page, /No requests completed/);
  });
});

/** `data-metric` values and texts from a serialized DOM. */
function metrics(dom: string): Map<string, { value: string; text: string }> {
  const out = new Map<string, { value: string; text: string }>();
  const attr = (attrs: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];
  for (const [, attrs, text] of dom.matchAll(/<span([^>]*\sdata-metric="[^"]*"[^>]*)>([^<]*)<\/span>/g)) {
    out.set(attr(attrs, 'data-metric')!, {
      value: attr(attrs, 'data-value') ?? '',
      text: text.replace(/&amp;/g, '&'),
    });
  }
  return out;
}

const chromeArgs = (profile: string) => [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  `--user-data-dir=${profile}`,
];

describe('report.html in headless Chromium', () => {
  let dir: string;
  let report: Report;
  let htmlFile: string;
  let dom: string;

  before(async () => {
    // A missing browser fails the run (`npm test` installs it first), never skips the checks.
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} not found: run scripts/ensure-chromium.sh`);
    dir = await mkdtemp(path.join(tmpdir(), 'reprise-html-'));
    report = await analyzeReplay(scenario());
    htmlFile = (await writeReport(path.join(dir, 'out'), report)).html;
    const { stdout } = await run(
      CHROMIUM,
      [...chromeArgs(path.join(dir, 'profile')), '--dump-dom', pathToFileURL(htmlFile).href],
      {
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    dom = stdout;
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the rendered numbers equal those in report.json', () => {
    const m = metrics(dom);
    const expect = (name: string, value: number | string | null, text: string) => {
      assert.ok(m.has(name), `metric ${name} rendered`);
      assert.deepEqual(m.get(name), { value: value === null ? '' : String(value), text }, name);
    };
    expect('verdict', report.verdict, report.verdict);
    expect('requests', report.summary.requests, formatCount(report.summary.requests));
    expect('p99', report.latency.p99, formatMs(report.latency.p99));
    expect('matchRate', report.responder!.matchRate, formatPercent(report.responder!.matchRate));
    expect(
      'assertionPassRate',
      report.summary.assertionPassRate,
      formatPercent(report.summary.assertionPassRate),
    );
    assert.ok(report.goals.length >= 4);
    for (const g of report.goals) expect(`goal-${g.name}`, g.actual, formatGoalValue(g.actual, g.unit));
    assert.match(dom, /<body data-verdict="Missed Goals">/);
  });

  test('a <script> from a recorded body does not run and shows as text', () => {
    assert.doesNotMatch(dom, /data-pwned="/, 'the injected code never ran');
    assert.doesNotMatch(dom, /<script|<img/i, 'no element was created from traffic');
    assert.ok(dom.includes('&lt;script&gt;document.documentElement.setAttribute'), 'shown escaped');
  });

  test('takes a screenshot', async (t) => {
    const png = path.join(dir, 'report.png');
    await run(
      CHROMIUM,
      [
        ...chromeArgs(path.join(dir, 'profile')),
        '--hide-scrollbars',
        `--screenshot=${png}`,
        '--window-size=1280,2400',
        pathToFileURL(htmlFile).href,
      ],
      {
        timeout: 90_000,
      },
    );
    const bytes = await readFile(png);
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.ok((await stat(png)).size > 20_000, 'a real page, not a blank one');
    t.diagnostic(`screenshot: ${bytes.length} bytes`);
  });
});
