/**
 * Request text with slots filled at send time. Transforms locate what they change once, when
 * the plan is built; sending a request then only concatenates pieces (no parsing, no search).
 */

export interface SendContext {
  /** Epoch ms at the moment of sending. */
  nowMs: number;
}

export type Slot = (ctx: SendContext) => string;

/** `parts[0] slots[0](ctx) parts[1] ... parts[n]`, with parts.length === slots.length + 1. */
export interface Template {
  readonly parts: readonly string[];
  readonly slots: readonly Slot[];
}

export type Text = string | Template;

export function renderText(t: Text, ctx: SendContext): string {
  if (typeof t === 'string') return t;
  let out = t.parts[0];
  for (let i = 0; i < t.slots.length; i++) out += t.slots[i](ctx) + t.parts[i + 1];
  return out;
}

class TextBuilder {
  private readonly parts = [''];
  private readonly slots: Slot[] = [];

  text(s: string): void {
    this.parts[this.parts.length - 1] += s;
  }

  slot(slot: Slot): void {
    this.slots.push(slot);
    this.parts.push('');
  }

  build(): Text {
    return this.slots.length ? { parts: this.parts, slots: this.slots } : this.parts[0];
  }
}

/** Applies `fn` to every fixed piece: a static edit never reaches into another transform's slot. */
export function mapStatic(t: Text, fn: (s: string) => string): Text {
  if (typeof t === 'string') return fn(t);
  return { parts: t.parts.map(fn), slots: t.slots };
}

/**
 * Turns each match of the global regex `re` in the fixed pieces into a slot when `toSlot`
 * returns one; other matches stay as text.
 */
export function matchesToSlots(t: Text, re: RegExp, toSlot: (m: RegExpExecArray) => Slot | undefined): Text {
  const out = new TextBuilder();
  let changed = false;
  const scan = (s: string) => {
    re.lastIndex = 0;
    let last = 0;
    for (let m = re.exec(s); m; m = re.exec(s)) {
      const slot = toSlot(m);
      if (!slot) continue;
      out.text(s.slice(last, m.index));
      out.slot(slot);
      last = m.index + m[0].length;
      changed = true;
    }
    out.text(s.slice(last));
  };
  if (typeof t === 'string') scan(t);
  else
    t.parts.forEach((part, i) => {
      scan(part);
      if (i < t.slots.length) out.slot(t.slots[i]);
    });
  return changed ? out.build() : t;
}
