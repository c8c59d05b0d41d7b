/** isoTime keeps the last second's text: it must write what Date#toISOString writes, every time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from '../../src/base/iso-time.js';

describe('isoTime', () => {
  it('equals toISOString across milliseconds, second and day boundaries, fractions and far dates', () => {
    const times = [
      0, 1, 9, 10, 99, 100, 999, 1000, 1000.9, 59_999.5, 60_000, 1_796_326_121_571.25, 1_796_326_121_999,
      1_796_326_122_000, 1_796_326_122_007, 1_796_326_121_571.25, 86_399_999, 86_400_000, 253_402_300_799_999,
      253_402_300_800_000, -1, -1000.5,
    ];
    for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString(), `t = ${t}`);
    // A walk through one busy second and the next, in and out of order.
    for (let t = 1_700_000_000_000; t < 1_700_000_002_000; t += 7.3)
      for (const u of [t, t - 1500]) assert.equal(isoTime(u), new Date(u).toISOString(), `t = ${u}`);
  });
});
