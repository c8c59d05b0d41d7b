/**
 * `date-shift`: a recorded timestamp keeps its offset from the capture, relative to now. Each
 * timestamp near the capture window (ISO-8601, HTTP-date, epoch seconds or millis) in header
 * values, query values or a JSON body is shifted by (send time - capture start) when sent.
 */
import type { Transform } from '../../config/replay.js';
import { contentType, type DraftRequest } from './draft.js';
import { matchesToSlots, type SendContext, type Slot, type Text } from './text.js';

type DateShiftTransform = Extract<Transform, { type: 'date-shift' }>;

const DAY_MS = 86_400_000;
/** How far outside the capture window a value may lie and still count as a timestamp. */
export const DATE_WINDOW_MS = 30 * DAY_MS;

const TIMESTAMP = new RegExp(
  [
    String.raw`(?<![\w.:-])(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})` +
      String.raw`(?:(?<sep>[T ])(?<h>\d{2}):(?<mi>\d{2})(?::(?<s>\d{2})(?:\.(?<f>\d{1,9}))?)?(?<z>Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\w:])`,
    String.raw`(?<imf>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT)`,
    String.raw`(?<![\w.+-])(?<epoch>\d{13}|\d{10})(?![\w.])`,
  ].join('|'),
  'g',
);

export interface CaptureWindow {
  startMs: number;
  endMs: number;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Minutes east of UTC in `Z`, `+02`, `+0200`, `-02:00`; no zone reads as UTC. */
function zoneMinutes(z: string | undefined): number {
  if (!z || z === 'Z') return 0;
  const digits = z.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return z[0] === '-' ? -minutes : minutes;
}

/** ISO text of `wallMs` (a wall-clock time expressed as if it were UTC) with the recorded precision. */
function isoText(wallMs: number, g: Record<string, string | undefined>): string {
  const d = new Date(wallMs);
  let out = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (g.h === undefined) return out;
  out += `${g.sep}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (g.s !== undefined) {
    out += `:${pad(d.getUTCSeconds())}`;
    if (g.f !== undefined) {
      const ms = pad(d.getUTCMilliseconds(), 3);
      out += '.' + (g.f.length <= 3 ? ms.slice(0, g.f.length) : ms + g.f.slice(3));
    }
  }
  return out + (g.z ?? '');
}

/** Epoch ms of an ISO match, or NaN when the fields are out of range (2024-13-40). */
function isoEpoch(g: Record<string, string | undefined>): number {
  const [y, mo, d] = [Number(g.y), Number(g.mo), Number(g.d)];
  const [h, mi, s] = [Number(g.h ?? 0), Number(g.mi ?? 0), Number(g.s ?? 0)];
  const ms = g.f ? Number(g.f.slice(0, 3).padEnd(3, '0')) : 0;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return NaN;
  return wall - zoneMinutes(g.z) * 60_000;
}

export function compileDateShift(spec: DateShiftTransform, window: CaptureWindow) {
  const where = new Set(spec.in ?? ['headers', 'query', 'body']);
  const near = (ms: number) => ms >= window.startMs - DATE_WINDOW_MS && ms <= window.endMs + DATE_WINDOW_MS;
  const shift = (ctx: SendContext) => ctx.nowMs - window.startMs;
  const captureDay = Math.floor(window.startMs / DAY_MS);
  // A date without a time moves by whole calendar days: tomorrow stays tomorrow.
  const dayShift = (ctx: SendContext) => (Math.floor(ctx.nowMs / DAY_MS) - captureDay) * DAY_MS;

  const slotFor = (m: RegExpExecArray): Slot | undefined => {
    const g = m.groups ?? {};
    if (g.epoch !== undefined) {
      const value = Number(g.epoch);
      const millis = g.epoch.length === 13;
      if (!near(millis ? value : value * 1000)) return undefined;
      return millis
        ? (ctx) => String(value + shift(ctx))
        : (ctx) => String(Math.round(value + shift(ctx) / 1000));
    }
    if (g.imf !== undefined) {
      const ms = Date.parse(g.imf);
      if (!near(ms)) return undefined;
      return (ctx) => new Date(ms + shift(ctx)).toUTCString();
    }
    const ms = isoEpoch(g);
    if (Number.isNaN(ms) || !near(ms)) return undefined;
    if (g.h === undefined) return (ctx) => isoText(ms + dayShift(ctx), g);
    const zone = zoneMinutes(g.z) * 60_000;
    return (ctx) => isoText(ms + shift(ctx) + zone, g);
  };
  const shiftText = (t: Text) => matchesToSlots(t, TIMESTAMP, slotFor);

  return (draft: DraftRequest): void => {
    if (where.has('headers')) draft.headers = draft.headers.map(([n, v]) => [n, shiftText(v)]);
    if (where.has('query')) draft.query = draft.query.map(([k, v]) => [k, shiftText(v)]);
    if (where.has('body') && !Buffer.isBuffer(draft.body) && looksJson(draft))
      draft.body = shiftText(draft.body);
  };
}

function looksJson(draft: DraftRequest): boolean {
  if (contentType(draft).includes('json')) return true;
  const body = draft.body;
  return typeof body === 'string' && /^\s*[[{]/.test(body);
}
