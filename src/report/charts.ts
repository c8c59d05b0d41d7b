/**
 * The report's charts as inline SVG drawn here: no script, no library, nothing fetched, so
 * the page renders the same in any viewer (and under a CSP that forbids scripts). Colours
 * come from CSS classes so the charts follow the light/dark scheme.
 */
import type { PerSecond } from '../report/schema.js';
import { html, type Html } from './escape.js';
import { formatMs } from './format.js';

const W = 600;
const H = 220;
const M = { left: 56, right: 14, top: 14, bottom: 30 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
/** More points than this are averaged into wider buckets: a chart is read by shape. */
const MAX_POINTS = 240;

/** 1, 2, 2.5, 5 x 10^k: steps a reader can add up. */
/** SVG coordinates to one decimal: smaller file, no visible difference. */
const px = (v: number) => Number(v.toFixed(1));

function niceStep(raw: number): number {
  if (raw <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

function timeLabel(t: number): string {
  if (t < 60) return `${t}s`;
  const m = Math.floor(t / 60);
  const s = t % 60;
  if (m < 60) return s ? `${m}m${s}s` : `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;
}

export interface Bucketed {
  /** Start second of each point. */
  t: number[];
  /** Seconds per point. */
  width: number;
  rows: PerSecond[];
}

/** Averages consecutive seconds so that at most MAX_POINTS remain. */
export function bucket(rows: readonly PerSecond[]): Bucketed {
  const width = Math.max(1, Math.ceil(rows.length / MAX_POINTS));
  if (width === 1) return { t: rows.map((r) => r.t), width, rows: [...rows] };
  const out: PerSecond[] = [];
  for (let i = 0; i < rows.length; i += width) {
    const group = rows.slice(i, i + width);
    const p50s = group.map((r) => r.p50).filter((v): v is number => v !== null);
    const p99s = group.map((r) => r.p99).filter((v): v is number => v !== null);
    out.push({
      t: group[0].t,
      requests: group.reduce((s, r) => s + r.requests, 0) / group.length,
      errors: group.reduce((s, r) => s + r.errors, 0) / group.length,
      p50: p50s.length ? p50s.reduce((s, v) => s + v, 0) / p50s.length : null,
      p99: p99s.length ? Math.max(...p99s) : null,
    });
  }
  return { t: out.map((r) => r.t), width, rows: out };
}

interface Frame {
  x(i: number): number;
  y(v: number): number;
  slot: number;
  axes: Html;
}

function frame(b: Bucketed, maxY: number, yLabel: (v: number) => string): Frame {
  const n = b.rows.length;
  const span = Math.max(1, (b.t[n - 1] ?? 0) + b.width - (b.t[0] ?? 0));
  const step = niceStep(maxY / 4);
  const top = Math.max(step, Math.ceil(maxY / step) * step);
  const x = (i: number) => M.left + ((b.t[i] - (b.t[0] ?? 0) + b.width / 2) / span) * PW;
  const y = (v: number) => M.top + PH - (v / top) * PH;
  const yTicks: Html[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) {
    yTicks.push(
      html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${px(y(v))}" y2="${px(y(v))}" /><text
          class="tick"
          x="${M.left - 6}"
          y="${px(y(v) + 4)}"
          text-anchor="end"
          >${yLabel(v)}</text
        >`,
    );
  }
  const tStep = TIME_STEPS.find((s) => span / s <= 7) ?? Math.ceil(span / 7);
  const xTicks: Html[] = [];
  for (let t = 0; t <= span; t += tStep) {
    const at = M.left + (t / span) * PW;
    xTicks.push(
      html`<text class="tick" x="${px(at)}" y="${H - 10}" text-anchor="middle"
        >${timeLabel(t + (b.t[0] ?? 0))}</text
      >`,
    );
  }
  const axes = html`${yTicks}${xTicks}<line
      class="axis"
      x1="${M.left}"
      x2="${W - M.right}"
      y1="${y(0)}"
      y2="${y(0)}"
    />`;
  return { x, y, slot: (b.width / span) * PW, axes };
}

function svg(label: string, body: Html): Html {
  return html`<svg
    class="chart"
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-label="${label}"
    preserveAspectRatio="xMidYMid meet"
  >
    ${body}
  </svg>`;
}

function linePath(values: readonly (number | null)[], f: Frame): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${f.x(i).toFixed(1)},${f.y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

function empty(label: string): Html {
  return svg(
    label,
    html`<text class="tick" x="${W / 2}" y="${H / 2}" text-anchor="middle">No requests completed</text>`,
  );
}

/** p50 and p99 latency per second, as two lines. */
export function latencyChart(rows: readonly PerSecond[]): Html {
  const b = bucket(rows);
  const maxY = Math.max(0, ...b.rows.map((r) => r.p99 ?? r.p50 ?? 0));
  if (b.rows.length === 0 || maxY === 0) return empty('Latency over time');
  const f = frame(b, maxY, (v) => formatMs(v));
  const dots =
    b.rows.length <= 60
      ? b.rows.map((r, i) =>
          r.p99 === null
            ? null
            : html`<circle class="dot s-p99" cx="${px(f.x(i))}" cy="${px(f.y(r.p99))}" r="2.5"
                ><title>${timeLabel(r.t)}: p50 ${formatMs(r.p50)}, p99 ${formatMs(r.p99)}</title></circle
              >`,
        )
      : [];
  return svg(
    'Latency over time: p50 and p99 per second',
    html`${f.axes}<path
        class="line s-p99"
        d="${linePath(
          b.rows.map((r) => r.p99),
          f,
        )}"
      /><path
        class="line s-p50"
        d="${linePath(
          b.rows.map((r) => r.p50),
          f,
        )}"
      />${dots}`,
  );
}

/** Requests per second as bars, the errors among them stacked in red. */
export function throughputChart(rows: readonly PerSecond[]): Html {
  const b = bucket(rows);
  const maxY = Math.max(0, ...b.rows.map((r) => r.requests));
  if (b.rows.length === 0 || maxY === 0) return empty('Throughput over time');
  const f = frame(b, maxY, (v) => `${Number(v.toFixed(1))}`);
  const w = Math.max(1, f.slot * 0.8);
  const bars = b.rows.map((r, i) => {
    const x = f.x(i) - w / 2;
    const ok = r.requests - r.errors;
    const okBar = html`<rect
      class="bar"
      x="${px(x)}"
      y="${px(f.y(ok))}"
      width="${px(w)}"
      height="${px(f.y(0) - f.y(ok))}"
    />`;
    const errBar =
      r.errors > 0
        ? html`<rect
            class="bar err"
            x="${px(x)}"
            y="${px(f.y(r.requests))}"
            width="${px(w)}"
            height="${px(f.y(ok) - f.y(r.requests))}"
          />`
        : null;
    return html`<g
      ><title>
        ${timeLabel(r.t)}: ${Number(r.requests.toFixed(1))} req/s, ${Number(r.errors.toFixed(1))} errors</title
      >${okBar}${errBar}</g
    >`;
  });
  return svg('Throughput over time: requests per second', html`${f.axes}${bars}`);
}
