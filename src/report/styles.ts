/** The report's stylesheet: inline, system fonts, light and dark schemes. */
export const STYLES = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --panel: #ffffff; --text: #1b1f24; --muted: #5b6470; --line: #e3e6ea;
  --accent: #2563eb; --accent-soft: #dbe7ff;
  --good: #15803d; --good-soft: #dcfce7; --warn: #b45309; --warn-soft: #fef3c7;
  --bad: #b91c1c; --bad-soft: #fee2e2; --neutral: #475569; --neutral-soft: #e2e8f0;
  --p99: #db2777; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115; --panel: #171a21; --text: #e6e8eb; --muted: #9aa3ae; --line: #2a2f38;
    --accent: #60a5fa; --accent-soft: #1e3a5f;
    --good: #4ade80; --good-soft: #12301d; --warn: #fbbf24; --warn-soft: #3a2a08;
    --bad: #f87171; --bad-soft: #3b1212; --neutral: #94a3b8; --neutral-soft: #252b36; --p99: #f472b6;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 0 24px 40px; }
h2 { font-size: 16px; margin: 0 0 12px; display: flex; align-items: baseline; gap: 10px; }
h2 .sub { font-size: 13px; font-weight: 400; color: var(--muted); }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
.banner { color: #fff; padding: 22px 24px 18px; }
.banner .inner { max-width: 1240px; margin: 0 auto; padding: 0 24px; }
.banner.passed { background: linear-gradient(135deg, #15803d, #166534); }
.banner.missed-goals { background: linear-gradient(135deg, #c2410c, #b45309); }
.banner.error { background: linear-gradient(135deg, #b91c1c, #7f1d1d); }
.banner.canceled { background: linear-gradient(135deg, #475569, #334155); }
.banner .top { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.banner .brand { font-size: 12px; letter-spacing: .08em; text-transform: uppercase; opacity: .85; }
.banner .verdict { font-size: 30px; font-weight: 700; display: flex; align-items: center; gap: 12px; }
.banner .icon { display: inline-grid; place-items: center; width: 38px; height: 38px; border-radius: 50%;
  background: rgba(255,255,255,.2); font-size: 22px; }
.banner .reason { margin: 6px 0 12px; font-size: 15px; opacity: .95; max-width: 100ch; }
.banner dl { display: flex; flex-wrap: wrap; gap: 6px 26px; margin: 0; font-size: 13px; }
.banner dt { opacity: .75; display: inline; } .banner dd { display: inline; margin: 0 0 0 6px; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 20px 0; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px;
  border-top: 3px solid var(--line); }
.card.good { border-top-color: var(--good); } .card.warn { border-top-color: var(--warn); }
.card.bad { border-top-color: var(--bad); } .card.info { border-top-color: var(--accent); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .hint { color: var(--muted); font-size: 12px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin: 16px 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 16px 0; }
.grid2 > .panel { margin: 0; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase;
  letter-spacing: .03em; border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 7px 8px; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; white-space: nowrap; }
.pill { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.pill.good { background: var(--good-soft); color: var(--good); } .pill.bad { background: var(--bad-soft); color: var(--bad); }
.pill.warn { background: var(--warn-soft); color: var(--warn); } .pill.neutral { background: var(--neutral-soft); color: var(--neutral); }
.method { font-family: var(--mono); font-size: 11.5px; font-weight: 700; padding: 1px 6px; border-radius: 4px;
  background: var(--accent-soft); color: var(--accent); }
.meter { position: relative; height: 8px; min-width: 80px; border-radius: 4px; background: var(--neutral-soft); overflow: hidden; }
.meter > span { position: absolute; inset: 0 auto 0 0; background: var(--good); border-radius: 4px; }
.meter.warn > span { background: var(--warn); } .meter.bad > span { background: var(--bad); }
.pct-row { display: grid; grid-template-columns: 48px 1fr 84px; align-items: center; gap: 10px; margin: 7px 0; }
.pct-row .name { color: var(--muted); font-weight: 600; font-size: 12.5px; }
.pct-row .bar { height: 14px; border-radius: 4px; background: var(--accent); min-width: 2px; }
.pct-row.p99 .bar, .pct-row.max .bar { background: var(--p99); }
.pct-row .v { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; } .chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 11px; font-family: system-ui, sans-serif; }
.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart .s-p50 { stroke: var(--accent); } .chart .s-p99 { stroke: var(--p99); }
.chart .dot { fill: var(--p99); stroke: none; }
.chart .bar { fill: var(--accent); } .chart .bar.err { fill: var(--bad); }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); margin: 4px 0 0 56px; }
.legend i { display: inline-block; width: 12px; height: 3px; border-radius: 2px; vertical-align: middle; margin-right: 6px; }
.legend i.sq { height: 10px; width: 10px; }
.stack { display: flex; height: 14px; border-radius: 6px; overflow: hidden; background: var(--neutral-soft); margin: 8px 0 10px; }
.stack .m { background: var(--good); } .stack .p { background: var(--warn); } .stack .n { background: var(--bad); }
.kv { display: flex; gap: 22px; flex-wrap: wrap; color: var(--muted); font-size: 13px; }
.kv b { color: var(--text); font-variant-numeric: tabular-nums; }
details.req { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: var(--panel); }
details.req > summary { cursor: pointer; padding: 9px 12px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; list-style: none; }
details.req > summary::-webkit-details-marker { display: none; }
details.req > summary::before { content: "▸"; color: var(--muted); }
details.req[open] > summary::before { content: "▾"; }
details.req > summary .ep { font-family: var(--mono); font-size: 12.5px; font-weight: 600; }
details.req > summary .count { margin-left: auto; color: var(--muted); font-size: 12px; white-space: nowrap; font-weight: 600; }
.chip { display: inline-block; border: 1px solid var(--bad); color: var(--bad); border-radius: 6px; padding: 0 7px;
  font-size: 12px; background: var(--bad-soft); }
.chip code { font-size: 12px; }
.example { margin: 2px 0 8px; font-size: 12.5px; word-break: break-all; }
.also { margin-top: 8px; font-size: 12.5px; color: var(--muted); }
details.req > summary .url { font-family: var(--mono); font-size: 12.5px; word-break: break-all; flex: 1 1 300px; }
details.req > summary .meta { color: var(--muted); font-size: 12px; white-space: nowrap; }
details.req .body { padding: 0 12px 10px; }
tr.real td { background: var(--bad-soft); }
tr.real td.path { box-shadow: inset 3px 0 0 var(--bad); }
tr.noise td { color: var(--muted); opacity: .6; }
tr.noise td .val { text-decoration: line-through; text-decoration-color: var(--muted); }
td .val { font-family: var(--mono); font-size: 12px; word-break: break-all; white-space: pre-wrap; }
table.difftable { table-layout: fixed; }
table.difftable col.c-path { width: 24%; } table.difftable col.c-kind { width: 18%; }
td.path { font-family: var(--mono); font-size: 12px; word-break: break-all; }
.status-change { font-family: var(--mono); font-size: 12px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 8px 0; }
.noise-table td { color: var(--muted); font-size: 13px; }
details.log { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
details.log > summary { cursor: pointer; padding: 8px 12px; font-weight: 600; }
details.log pre { margin: 0; padding: 10px 12px; max-height: 420px; overflow: auto; font: 12px/1.5 var(--mono);
  background: var(--bg); border-top: 1px solid var(--line); white-space: pre-wrap; word-break: break-all; }
ul.notes { margin: 0; padding-left: 18px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 10px 0 30px; }
`;
