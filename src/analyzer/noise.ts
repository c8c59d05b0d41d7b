/**
 * Noise: fields whose value changes between identical calls, so comparing them would fail
 * every replay. Detected from the recording itself, per endpoint:
 *  - two recordings of the same request disagree at a path (`differs-between-recordings`);
 *  - a recorded value looks volatile (timestamp, uuid, random id, JWT; see volatile.ts);
 *  - an asserted header is volatile by nature (date, etag, x-request-id...).
 * A value-looks-volatile field only excuses a changed value; a field that already differed
 * between recordings also excuses being missing or added. `forceCompare` overrides both.
 */
import type { DiffKind, NoiseField, NoiseLocation, NoiseReason } from '../report/schema.js';
import { covers, normalisedPrefixes, normalisePath, type PathPattern, type Segment } from './jsonpath.js';
import { preview, walkJson, type CompareRules } from './compare.js';
import { VOLATILE_HEADERS, volatileReason } from './volatile.js';

/** Every endpoint: used for volatile headers, which are noise wherever they appear. */
export const ANY_ENDPOINT = '*';

const EXAMPLE_CHARS = 80;

interface Entry {
  location: NoiseLocation;
  path: string;
  reason: NoiseReason;
  example?: string;
  /** One concrete position of the field, to tell whether forceCompare names it. */
  sample: Segment[];
}

export interface NoiseOptions {
  /** assertions.body.autoNoise: false turns every detection off. */
  enabled: boolean;
  /** assertions.body.forceCompare entries that are JSON paths. */
  forceBody: readonly PathPattern[];
  /** assertions.body.forceCompare entries that are header names (lower case). */
  forceHeaders: ReadonlySet<string>;
  /** Stop recording new noise fields past this many (a guard against id-keyed maps). */
  maxEntries?: number;
}

const keyOf = (location: NoiseLocation, path: string) => `${location}\u0000${path}`;

const cut = (text: string) => (text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS)}…` : text);

export class NoiseRegistry {
  private readonly byEndpoint = new Map<string, Map<string, Entry>>();
  private entries = 0;
  /** Fields not recorded because maxEntries was reached. */
  dropped = 0;

  constructor(private readonly opts: NoiseOptions) {}

  get enabled(): boolean {
    return this.opts.enabled;
  }

  /** Records a noise field; a between-recordings reason replaces a heuristic one (it excuses more). */
  add(
    endpoint: string,
    location: NoiseLocation,
    segments: readonly Segment[],
    reason: NoiseReason,
    example?: string,
  ) {
    if (!this.opts.enabled) return;
    let fields = this.byEndpoint.get(endpoint);
    if (!fields) this.byEndpoint.set(endpoint, (fields = new Map()));
    const path = location === 'header' ? String(segments[0]) : normalisePath(segments);
    const key = keyOf(location, path);
    const existing = fields.get(key);
    if (existing) {
      if (reason === 'differs-between-recordings' && existing.reason !== reason) {
        existing.reason = reason;
        existing.example = example === undefined ? undefined : cut(example);
      }
      return;
    }
    if (this.entries >= (this.opts.maxEntries ?? 5000)) {
      this.dropped++;
      return;
    }
    this.entries++;
    fields.set(key, {
      location,
      path,
      reason,
      example: example === undefined ? undefined : cut(example),
      sample: [...segments],
    });
  }

  /** Looks at one recorded response: volatile-looking JSON leaves and header values. */
  scanRecording(
    endpoint: string,
    body: unknown,
    headers: ReadonlyMap<string, string>,
    around: readonly number[],
  ) {
    if (!this.opts.enabled) return;
    for (const [name, value] of headers) {
      if (VOLATILE_HEADERS.has(name)) this.add(ANY_ENDPOINT, 'header', [name], 'volatile-header', value);
      else {
        const reason = volatileReason(value, around);
        if (reason) this.add(endpoint, 'header', [name], reason, value);
      }
    }
    if (body === undefined) return;
    walkJson(body, body, {
      skip: () => false,
      differ: () => undefined,
      equal: (segments, value) => {
        const reason = volatileReason(value, around);
        if (reason) this.add(endpoint, 'body', segments, reason, preview(value));
      },
    });
  }

  /** Two recordings of the same request: every place they disagree is noise. */
  compareRecordings(
    endpoint: string,
    first: { body: unknown; headers: ReadonlyMap<string, string> },
    later: { body: unknown; headers: ReadonlyMap<string, string> },
  ) {
    if (!this.opts.enabled) return;
    const names = new Set([...first.headers.keys(), ...later.headers.keys()]);
    for (const name of names) {
      if (VOLATILE_HEADERS.has(name)) continue; // already noise on every endpoint
      const a = first.headers.get(name);
      const b = later.headers.get(name);
      if (a !== b)
        this.add(
          endpoint,
          'header',
          [name],
          'differs-between-recordings',
          `${a ?? '(none)'} ≠ ${b ?? '(none)'}`,
        );
    }
    walkJson(first.body, later.body, {
      skip: () => false,
      equal: () => undefined,
      differ: (segments, _kind, a, b) =>
        this.add(
          endpoint,
          'body',
          segments,
          'differs-between-recordings',
          `${preview(a) ?? '(none)'} ≠ ${preview(b) ?? '(none)'}`,
        ),
    });
  }

  private forced(location: NoiseLocation, segments: readonly Segment[]): boolean {
    if (location === 'header') return this.opts.forceHeaders.has(String(segments[0]));
    return this.opts.forceBody.some((p) => covers(p, segments));
  }

  /** Why a difference at this position of a response of `endpoint` is noise, if it is. */
  reasonFor(endpoint: string, location: NoiseLocation, segments: readonly Segment[], kind: DiffKind) {
    if (!this.opts.enabled || this.forced(location, segments)) return undefined;
    if (location === 'header') {
      const name = String(segments[0]);
      const entry = this.lookup(endpoint, location, name) ?? this.lookup(ANY_ENDPOINT, location, name);
      if (entry) return entry.reason;
      return VOLATILE_HEADERS.has(name) ? 'volatile-header' : undefined;
    }
    for (const path of normalisedPrefixes(segments)) {
      const entry = this.lookup(endpoint, location, path);
      if (entry && (entry.reason === 'differs-between-recordings' || kind === 'changed')) return entry.reason;
    }
    return undefined;
  }

  private lookup(endpoint: string, location: NoiseLocation, path: string): Entry | undefined {
    return this.byEndpoint.get(endpoint)?.get(keyOf(location, path));
  }

  /** Comparison rules for responses of one endpoint. */
  rulesFor(endpoint: string, ignore: readonly PathPattern[]): CompareRules {
    return {
      ignored: (segments) => ignore.some((p) => covers(p, segments)),
      noise: (location, segments, kind) => this.reasonFor(endpoint, location, segments, kind),
    };
  }

  /** Every noise field, sorted by endpoint then path. */
  list(): NoiseField[] {
    const out: NoiseField[] = [];
    for (const [endpoint, fields] of this.byEndpoint) {
      for (const e of fields.values()) {
        const field: NoiseField = {
          endpoint,
          location: e.location,
          path: e.path,
          reason: e.reason,
          forced: this.forced(e.location, e.sample),
        };
        if (e.example !== undefined) field.example = e.example;
        out.push(field);
      }
    }
    return out.sort((a, b) => a.endpoint.localeCompare(b.endpoint) || a.path.localeCompare(b.path));
  }
}
