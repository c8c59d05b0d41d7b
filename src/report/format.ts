/** How numbers read in the HTML report. Exported so tests can expect the same text. */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(n: number): string {
  return grouped.format(n);
}

/** Up to 2 decimals, trailing zeros dropped: 100, 99.5, 98.76. */
export function formatPercent(p: number | null): string {
  return p === null ? '–' : `${Number(p.toFixed(2))}%`;
}

/** 0.42 ms, 8.3 ms, 245 ms, 12.5 s: precision that fits the magnitude. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms >= 10_000) return `${Number((ms / 1000).toFixed(1))} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${Number(ms.toFixed(1))} ms`;
  return `${Number(ms.toFixed(2))} ms`;
}

export function formatRps(rps: number | null): string {
  return rps === null ? '–' : `${Number(rps.toFixed(rps >= 100 ? 0 : 1))} req/s`;
}

/** 850 ms, 42 s, 3 m 20 s, 1 h 05 m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

export function formatGoalValue(value: number | null, unit: '%' | 'ms' | 'req/s'): string {
  if (unit === '%') return formatPercent(value);
  if (unit === 'ms') return formatMs(value);
  return formatRps(value);
}
