/** The evidence sections: failing requests grouped by how they failed, and the noise fields. */
import { formatCount, formatMs } from './format.js';
import { html, trusted, type Html } from './escape.js';
import { metric } from './html-parts.js';
import type { FieldDiff, Report, RequestResult } from './schema.js';

/** Failure groups shown expanded when the page opens. */
const OPEN_DIFFS = 3;

function diffRow(d: FieldDiff): Html {
  return html`<tr class="${d.noise ? 'noise' : 'real'}" data-noise="${String(d.noise)}">
    <td class="path">${d.path}</td>
    <td>
      <span class="pill ${d.noise ? 'neutral' : 'bad'}">${d.kind}</span>${
        d.noise
          ? html` <span class="pill neutral" title="ignored: volatile field"
              >noise${d.reason ? `: ${d.reason}` : ''}</span
            >`
          : null
      }
    </td>
    <td><span class="val">${d.expected ?? '—'}</span></td>
    <td><span class="val">${d.actual ?? '—'}</span></td>
  </tr>`;
}

/** Failing requests that failed the same way: same endpoint, same real differences. */
interface FailureGroup {
  key: string;
  first: RequestResult;
  others: RequestResult[];
}

function failureKey(q: RequestResult): string {
  const real = q.diffs
    .filter((d) => !d.noise)
    .map((d) => (d.kind === 'status' ? `status:${d.expected}>${d.actual}` : `${d.kind}:${d.path}`));
  return [q.endpoint, q.error ?? '', ...real].join('\u0000');
}

export function groupFailures(results: readonly RequestResult[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const q of results) {
    const key = failureKey(q);
    const g = groups.get(key);
    if (g) g.others.push(q);
    else groups.set(key, { key, first: q, others: [] });
  }
  return [...groups.values()].sort((a, b) => b.others.length - a.others.length);
}

/** "$.total changed", "status 201 → 500", "timeout": what a group has in common. */
function headline(q: RequestResult): Html {
  if (q.error) return html`<span class="pill bad">${q.error}</span>`;
  const real = q.diffs.filter((d) => !d.noise);
  const shown = real
    .slice(0, 3)
    .map((d) =>
      d.kind === 'status'
        ? html`<span class="chip">status ${d.expected ?? '—'} → ${d.actual ?? '—'}</span>`
        : html`<span class="chip"><code>${d.path}</code> ${d.kind}</span>`,
    );
  return html`${shown}${real.length > 3 ? html`<span class="muted">+${real.length - 3} more</span>` : null}`;
}

const MAX_LISTED = 12;

function groupDetails(g: FailureGroup, open: boolean): Html {
  const q = g.first;
  const count = g.others.length + 1;
  const also = g.others
    .slice(0, MAX_LISTED)
    .map(
      (o, i) =>
        html`${i ? ', ' : ''}<code>${o.pairId}</code> <span class="muted">(${formatMs(o.latencyMs)})</span>`,
    );
  return html`<details class="req" ${open ? trusted(' open') : null} data-pair="${q.pairId}">
    <summary>
      <span class="method">${q.method}</span
      ><span class="ep">${q.endpoint.slice(q.method.length + 1)}</span>${headline(q)}
      <span class="count">${formatCount(count)} request${count === 1 ? '' : 's'}</span>
    </summary>
    <div class="body">
      <div class="example">
        <span class="muted">Example</span> <span class="mono">${q.url}</span> ·
        <span class="status-change">${q.expectedStatus ?? '—'} → ${q.actualStatus ?? '—'}</span> ·
        ${formatCount(q.fieldsMatched)}/${formatCount(q.fieldsCompared)} fields match ·
        ${formatMs(q.latencyMs)}${q.pass ? ` · pass ${q.pass + 1}` : ''} · recorded pair
        <code>${q.pairId}</code>
      </div>
      <table class="difftable">
        <colgroup>
          <col class="c-path" />
          <col class="c-kind" />
          <col />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th>Path</th>
            <th>Kind</th>
            <th>Recorded</th>
            <th>Replayed</th>
          </tr>
        </thead>
        <tbody>
          ${q.diffs.map(diffRow)}
        </tbody>
      </table>
      ${q.diffsOmitted ? html`<div class="muted">${formatCount(q.diffsOmitted)} more differences not listed</div>` : null}${
        also.length
          ? html`<div class="also">
              Same failure in
              ${also}${
                g.others.length > MAX_LISTED
                  ? html` <span class="muted">and ${formatCount(g.others.length - MAX_LISTED)} more</span>`
                  : null
              }
            </div>`
          : null
      }
    </div>
  </details>`;
}

export function diffsSection(r: Report): Html {
  const total = r.diffs.length + r.diffsOmitted;
  const groups = groupFailures(r.diffs);
  if (total === 0) {
    const why =
      r.summary.requests === 0
        ? 'No request was replayed.'
        : 'Every replayed response matched its recording.';
    return html`<section class="panel" id="diffs">
      <h2>Failed assertions <span class="sub">${metric('failed-requests', 0, 'none')}</span></h2>
      <div class="empty">${why}</div>
    </section>`;
  }
  return html`<section class="panel" id="diffs">
    <h2>
      Failed assertions
      <span class="sub"
        >${metric('failed-requests', total, formatCount(total))} request${total === 1 ? '' : 's'} in
        ${groups.length}
        group${groups.length === 1 ? '' : 's'}${
          r.diffsOmitted ? ` (first ${formatCount(r.diffs.length)} in detail)` : ''
        }
        · real differences in red, noise greyed out</span
      >
    </h2>
    ${
      groups.length
        ? groups.map((g, i) => groupDetails(g, i < OPEN_DIFFS))
        : html`<div class="empty">Every replayed response matched its recording.</div>`
    }
  </section>`;
}

export function noiseSection(r: Report): Html {
  const rows = r.noise.map(
    (n) =>
      html`<tr>
        <td><code>${n.endpoint}</code></td>
        <td>${n.location}</td>
        <td class="path">${n.path}</td>
        <td>
          <span class="pill neutral">${n.reason}</span
          >${n.forced ? html` <span class="pill warn">compared (forceCompare)</span>` : null}
        </td>
        <td><span class="val">${n.example ?? ''}</span></td>
      </tr>`,
  );
  return html`<section class="panel" id="noise">
    <h2>
      Noise
      <span class="sub"
        >${r.noise.length} volatile field${r.noise.length === 1 ? '' : 's'} not compared · list a path in
        assertions.body.forceCompare to compare it anyway</span
      >
    </h2>
    ${
      rows.length
        ? html`<table class="noise-table">
            <thead>
              <tr>
                <th>Endpoint</th>
                <th>In</th>
                <th>Field</th>
                <th>Why</th>
                <th>Example</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
        : html`<div class="empty">No volatile field found.</div>`
    }
  </section>`;
}
