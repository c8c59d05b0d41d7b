/**
 * report.html: one self-contained page (no script, no external URL; a CSP forbids both) that
 * shows the verdict first, then the numbers, then the evidence. Every string from the
 * report goes through the escaping `html` tag. Key numbers carry `data-metric` (and the
 * raw number in `data-value`) so tests and scrapers can read them.
 */
import type { EndpointReport, GoalResult, Report } from './schema.js';
import { diffsSection, noiseSection } from './html-failures.js';
import { replicasSection } from './html-replicas.js';
import { card, meter, metric, rateTone, type Tone } from './html-parts.js';
import { latencyChart, throughputChart } from './charts.js';
import { html, trusted, type Html } from './escape.js';
import {
  formatCount,
  formatDuration,
  formatGoalValue,
  formatMs,
  formatPercent,
  formatRps,
} from './format.js';
import { STYLES } from './styles.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const GOAL_LABEL: Record<GoalResult['name'], string> = {
  successRate: 'Success rate',
  assertionPassRate: 'Assertion pass rate',
  p50Ms: 'p50 latency',
  p95Ms: 'p95 latency',
  p99Ms: 'p99 latency',
  minRps: 'Throughput',
};

const verdictClass = (v: Report['verdict']) => v.toLowerCase().replace(/\s+/g, '-');
const VERDICT_ICON: Record<Report['verdict'], string> = {
  Passed: '✓',
  'Missed Goals': '!',
  Error: '✕',
  Canceled: '–',
};

function banner(r: Report): Html {
  const m = r.meta;
  const item = (k: string, v: string) =>
    html`<div>
      <dt>${k}</dt>
      <dd>${v}</dd>
    </div>`;
  return html`<header class="banner ${verdictClass(r.verdict)}" data-testid="verdict-banner">
    <div class="inner">
      <div class="top"><span class="brand">Reprise replay report</span></div>
      <div class="verdict">
        <span class="icon" aria-hidden="true">${VERDICT_ICON[r.verdict]}</span
        ><span data-testid="verdict" data-metric="verdict" data-value="${r.verdict}">${r.verdict}</span>
      </div>
      <p class="reason" data-testid="verdict-reason">${r.verdictReason}</p>
      <dl>
        ${item('Replay', m.replayId)}${item('Snapshot', `${m.snapshotId} (${formatCount(r.summary.recordedPairs)} inbound pairs)`)}${item('Target', m.target)}${item('Mode', m.mode)}${item(
          'Started',
          m.startedAt,
        )}${item('Duration', formatDuration(r.summary.durationMs))}${m.workflowId ? item('Workflow', m.workflowId) : null}
      </dl>
    </div>
  </header>`;
}

/** A rate over the requests: meaningless (shown as –) when there were none. */
function rate(name: string, value: number, requests: number): { value: Html; tone: Tone } {
  if (requests === 0) return { value: metric(name, value, '–'), tone: 'neutral' };
  return { value: metric(name, value, formatPercent(value)), tone: rateTone(value) };
}

function summaryCards(r: Report): Html {
  const s = r.summary;
  const matchRate = r.responder?.matchRate ?? null;
  const success = rate('successRate', s.successRate, s.requests);
  const assertions = rate('assertionPassRate', s.assertionPassRate, s.requests);
  const accuracy = rate('accuracy', s.accuracy, s.fieldsCompared);
  return html`<section class="cards" data-testid="summary">
    ${card('Requests', metric('requests', s.requests, formatCount(s.requests)), 'info', `${formatCount(s.responses)} responses`)}
    ${card('Success rate', success.value, success.tone, 'responses below 500')}
    ${card(
      'Assertions passed',
      assertions.value,
      assertions.tone,
      html`${metric('assertionsFailed', s.assertionsFailed, formatCount(s.assertionsFailed))} failed`,
    )}
    ${card('Errors', metric('errors', s.errors, formatCount(s.errors)), s.errors === 0 ? 'good' : 'bad', 'no response')}
    ${card('Throughput', metric('rps', s.rps, formatRps(s.rps)), 'info', formatDuration(s.durationMs))}
    ${card(
      'p99 latency',
      metric('p99', r.latency.p99, s.responses ? formatMs(r.latency.p99) : '–'),
      s.responses ? 'info' : 'neutral',
      s.responses ? `p50 ${formatMs(r.latency.p50)}` : 'no response',
    )}
    ${card(
      'Responder match',
      metric('matchRate', matchRate, r.responder ? formatPercent(matchRate) : 'n/a'),
      matchRate === null ? 'neutral' : rateTone(matchRate),
      r.responder
        ? `${formatCount(r.responder.noMatch)} missed of ${formatCount(r.responder.total)} outbound calls`
        : 'no responder',
    )}
    ${card(
      'Fields matched',
      accuracy.value,
      accuracy.tone,
      `${formatCount(s.fieldsMatched)}/${formatCount(s.fieldsCompared)} fields match`,
    )}
  </section>`;
}

function goalsSection(goals: readonly GoalResult[]): Html {
  const rows = goals.map(
    (g) =>
      html`<tr data-goal="${g.name}">
        <td>
          ${GOAL_LABEL[g.name]}
          <code class="muted">${g.name}</code
          >${g.source === 'default' ? html` <span class="pill neutral">default</span>` : null}
        </td>
        <td class="num">${g.comparator === '>=' ? '≥' : '≤'} ${formatGoalValue(g.expected, g.unit)}</td>
        <td class="num">${metric(`goal-${g.name}`, g.actual, formatGoalValue(g.actual, g.unit))}</td>
        <td><span class="pill ${g.passed ? 'good' : 'bad'}">${g.passed ? 'passed' : 'missed'}</span></td>
      </tr>`,
  );
  return html`<section class="panel" id="goals">
    <h2>
      Goals${goals.length ? html` <span class="sub">${goals.filter((g) => g.passed).length} of ${goals.length} met</span>` : null}
    </h2>
    ${
      goals.length
        ? html`<table>
            <thead>
              <tr>
                <th>Goal</th>
                <th class="num">Expected</th>
                <th class="num">Actual</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
        : html`<div class="empty">No goal applied.</div>`
    }
  </section>`;
}

function latencySection(r: Report): Html {
  const l = r.latency;
  if (r.summary.responses === 0) {
    return html`<div class="panel" id="latency">
      <h2>Latency</h2>
      <div class="empty">No response to measure.</div>
    </div>`;
  }
  const entries: [string, number][] = [
    ['p50', l.p50],
    ['p75', l.p75],
    ['p90', l.p90],
    ['p95', l.p95],
    ['p99', l.p99],
    ['max', l.max],
  ];
  const top = Math.max(l.max, 1e-9);
  const rows = entries.map(
    ([name, v]) =>
      html`<div class="pct-row ${name}">
        <span class="name">${name}</span>
        <div class="bar" style="width:${(v / top) * 100}%"></div>
        <span class="v">${metric(`latency-${name}`, v, formatMs(v))}</span>
      </div>`,
  );
  return html`<div class="panel" id="latency">
    <h2>Latency <span class="sub">mean ${metric('latency-mean', l.mean, formatMs(l.mean))}</span></h2>
    ${rows}
  </div>`;
}

function timelineSection(r: Report): Html {
  return html`<div class="grid2">
    <div class="panel">
      <h2>Latency over time <span class="sub">per second</span></h2>
      ${latencyChart(r.perSecond)}
      <div class="legend">
        <span><i style="background:var(--accent)"></i>p50</span
        ><span><i style="background:var(--p99)"></i>p99</span>
      </div>
    </div>
    <div class="panel">
      <h2>Throughput <span class="sub">requests per second</span></h2>
      ${throughputChart(r.perSecond)}
      <div class="legend">
        <span><i class="sq" style="background:var(--accent)"></i>responses</span
        ><span><i class="sq" style="background:var(--bad)"></i>errors</span>
      </div>
    </div>
  </div>`;
}

function endpointRow(e: EndpointReport): Html {
  return html`<tr data-endpoint="${e.endpoint}">
    <td><span class="method">${e.method}</span> <code>${e.path}</code></td>
    <td class="num">${formatCount(e.requests)}</td>
    <td class="num">${e.errors ? html`<span class="pill bad">${formatCount(e.errors)}</span>` : '0'}</td>
    <td class="num">${formatPercent(e.successRate)}</td>
    <td class="num">${formatCount(e.passed)} / ${formatCount(e.failed)}</td>
    <td>
      <div style="display:flex;gap:8px;align-items:center">
        ${meter(e.accuracy)}<span class="num">${formatPercent(e.accuracy)}</span>
      </div>
      <div class="muted" style="font-size:11.5px">
        ${formatCount(e.fieldsMatched)}/${formatCount(e.fieldsCompared)} fields match
      </div>
    </td>
    <td class="num">${formatMs(e.latency.p50)}</td>
    <td class="num">${formatMs(e.latency.p95)}</td>
    <td class="num">${formatMs(e.latency.p99)}</td>
  </tr>`;
}

function endpointsSection(r: Report): Html {
  return html`<section class="panel" id="endpoints">
    <h2>
      Endpoints
      <span class="sub"
        >${r.endpoints.length}
        shown${
          r.endpointsOmitted ? `, ${formatCount(r.endpointsOmitted)} more folded into (other)` : ''
        }</span
      >
    </h2>
    ${
      r.endpoints.length
        ? html`<table>
            <thead>
              <tr>
                <th>Endpoint</th>
                <th class="num">Requests</th>
                <th class="num">Errors</th>
                <th class="num">Success</th>
                <th class="num">Passed / failed</th>
                <th>Accuracy</th>
                <th class="num">p50</th>
                <th class="num">p95</th>
                <th class="num">p99</th>
              </tr>
            </thead>
            <tbody>
              ${r.endpoints.map(endpointRow)}
            </tbody>
          </table>`
        : html`<div class="empty">No request was replayed.</div>`
    }
  </section>`;
}

/** 11:00:01.200 from an ISO time: the date is in the banner already. */
function clock(iso: string): string {
  const m = /T(\d{2}:\d{2}:\d{2}(\.\d+)?)/.exec(iso);
  return m ? m[1] : iso;
}

function responderSection(r: Report): Html {
  const rs = r.responder;
  if (!rs)
    return html`<div class="panel" id="responder">
      <h2>Responder</h2>
      <div class="empty">No responder ran in this mode.</div>
    </div>`;
  const w = (n: number) => (rs.total ? (n / rs.total) * 100 : 0);
  const misses = rs.misses.map(
    (m) =>
      html`<tr>
        <td><span class="pill ${m.status === 'PASSTHROUGH' ? 'warn' : 'bad'}">${m.status}</span></td>
        <td>
          <span class="method">${m.method}</span> <span class="mono">${m.url}</span>${
            m.nearest?.length
              ? html`<div class="muted" style="font-size:12px">
                  nearest recorded: ${m.nearest.map((n, i) => html`${i ? ', ' : ''}<code>${n}</code>`)}
                </div>`
              : null
          }
        </td>
        <td class="muted" title="${m.at}">${clock(m.at)}</td>
      </tr>`,
  );
  return html`<div class="panel" id="responder">
    <h2>Responder <span class="sub">mocks answered from the recording</span></h2>
    <div class="kv">
      <span
        >match rate <b>${metric('responder-matchRate', rs.matchRate, formatPercent(rs.matchRate))}</b></span
      >
      <span>match <b>${formatCount(rs.match)}</b></span
      ><span>no match <b>${formatCount(rs.noMatch)}</b></span
      ><span>passthrough <b>${formatCount(rs.passthrough)}</b></span>
    </div>
    <div class="stack" title="match / passthrough / no match">
      <div class="m" style="width:${w(rs.match)}%"></div>
      <div class="p" style="width:${w(rs.passthrough)}%"></div>
      <div class="n" style="width:${w(rs.noMatch)}%"></div>
    </div>
    ${
      misses.length
        ? html`<table>
              <thead>
                <tr>
                  <th>Status</th>
                  <th>Request</th>
                  <th>At</th>
                </tr>
              </thead>
              <tbody>
                ${misses}
              </tbody>
            </table>
            ${
              rs.missesOmitted
                ? html`<div class="muted">${formatCount(rs.missesOmitted)} more not listed</div>`
                : null
            }`
        : html`<div class="empty">Every outbound call was answered from the recording.</div>`
    }
  </div>`;
}
function errorsSection(r: Report): Html | null {
  const kinds = Object.entries(r.errorsByKind).sort((a, b) => b[1] - a[1]);
  if (!kinds.length) return null;
  return html`<section class="panel" id="errors">
    <h2>Errors <span class="sub">requests with no response</span></h2>
    <div class="kv">
      ${kinds.map(([k, n]) => html`<span><code>${k}</code> <b>${formatCount(n)}</b></span>`)}
    </div>
  </section>`;
}

function logsSection(r: Report, open = false): Html | null {
  if (!r.logs.length) return null;
  return html`<section class="panel" id="logs">
    <h2>Component logs</h2>
    ${r.logs.map(
      (l) =>
        html`<details class="log" ${open ? trusted(' open') : null}>
          <summary>
            ${l.name}
            <span class="muted"
              >(${formatCount(l.lines.length)}
              lines${l.omitted ? `, ${formatCount(l.omitted)} earlier omitted` : ''})</span
            >
          </summary>
          <pre>${l.lines.join('\n')}</pre>
        </details>`,
    )}
  </section>`;
}

function notesSection(r: Report): Html | null {
  if (!r.notes.length) return null;
  return html`<section class="panel" id="notes">
    <h2>Notes</h2>
    <ul class="notes">
      ${r.notes.map((n) => html`<li>${n}</li>`)}
    </ul>
  </section>`;
}

export function renderReportHtml(r: Report): string {
  // When the replay did not run through, the logs say why: show them near the top.
  const failedToRun = r.verdict === 'Error' || r.verdict === 'Canceled';
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${CSP}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${r.verdict} · Reprise replay ${r.meta.replayId}</title>
        <style>
          ${trusted(STYLES)}
        </style>
      </head>
      <body data-verdict="${r.verdict}">
        ${banner(r)}
        <main>
          ${summaryCards(r)} ${goalsSection(r.goals)} ${failedToRun ? logsSection(r, true) : null}
          <div class="grid2">${latencySection(r)}${responderSection(r)}</div>
          ${timelineSection(r)} ${replicasSection(r)} ${endpointsSection(r)} ${diffsSection(r)}
          ${noiseSection(r)} ${errorsSection(r)} ${failedToRun ? null : logsSection(r)} ${notesSection(r)}
        </main>
        <footer>
          Generated by Reprise at ${r.generatedAt} · report format v${r.reportVersion} · snapshot
          ${r.meta.snapshotId}
        </footer>
      </body>
    </html> `;
  return page.value;
}
