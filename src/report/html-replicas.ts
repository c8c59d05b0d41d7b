/** The report's generators section: one row per replica of a split load (load.replicas). */
import { html, type Html } from './escape.js';
import { formatCount, formatDuration, formatRps } from './format.js';
import { metric } from './html-parts.js';
import type { ReplicaReport, Report } from './schema.js';

function replicaRow(r: ReplicaReport): Html {
  return html`<tr data-replica="${r.replica}" class="${r.failure ? 'bad' : ''}">
    <td><code>${r.replica}</code></td>
    <td class="num">${metric(`replica-${r.replica}-requests`, r.requests, formatCount(r.requests))}</td>
    <td class="num">${metric(`replica-${r.replica}-errors`, r.errors, formatCount(r.errors))}</td>
    <td class="num">${metric(`replica-${r.replica}-rps`, r.rps, formatRps(r.rps))}</td>
    <td class="num">${formatDuration(r.durationMs)}</td>
    <td>${r.failure ? html`<span class="bad">failed: ${r.failure}</span>` : 'finished'}</td>
  </tr>`;
}

export function replicasSection(r: Report): Html | null {
  if (!r.replicas?.length) return null;
  return html`<section class="panel" id="replicas">
    <h2>Generators <span class="sub">${r.replicas.length} replicas, each a shard of the recording</span></h2>
    <table>
      <thead>
        <tr>
          <th>Replica</th>
          <th class="num">Sent</th>
          <th class="num">Errors</th>
          <th class="num">Achieved rate</th>
          <th class="num">Duration</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${r.replicas.map(replicaRow)}
      </tbody>
    </table>
  </section>`;
}
