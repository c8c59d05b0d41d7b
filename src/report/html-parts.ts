/** Small pieces the report's sections share: metric spans, cards, meters, tones. */
import { html, type Html } from './escape.js';

export type Tone = 'good' | 'warn' | 'bad' | 'info' | 'neutral';

/** A number the tests read: the text as shown, the raw value in data-value. */
export function metric(name: string, value: number | string | null, text: string): Html {
  return html`<span data-metric="${name}" data-value="${value === null ? '' : String(value)}">${text}</span>`;
}

export function rateTone(p: number): Tone {
  return p >= 99.95 ? 'good' : p >= 90 ? 'warn' : 'bad';
}

export function card(label: string, value: Html, tone: Tone, hint?: string | Html): Html {
  return html`<div class="card ${tone}">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${hint ? html`<div class="hint">${hint}</div>` : null}
  </div>`;
}

export function meter(p: number): Html {
  const tone = rateTone(p);
  return html`<div class="meter ${tone === 'good' ? '' : tone}">
    <span style="width:${Math.max(0, Math.min(100, p))}%"></span>
  </div>`;
}
