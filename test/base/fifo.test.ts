/** The ring-backed queue the connection tap keeps its exchanges in, held to a plain array. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fifo } from '../../src/base/fifo.js';
import { seeded } from '../helpers/seeded.js';

describe('Fifo', () => {
  it('matches an array through 2,000 random sequences of push, shift, pop, clear and at', () => {
    let grewPast = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = seeded(seed);
      const fifo = new Fifo<number>();
      const want: number[] = [];
      for (let step = 0; step < 200; step++) {
        const op = r(10);
        const where = `seed ${seed} step ${step}`;
        // Pushes outnumber the rest, so the ring grows and wraps around.
        if (op < 5) {
          fifo.push(step);
          want.push(step);
        } else if (op < 7) assert.equal(fifo.shift(), want.shift(), where);
        else if (op < 8) assert.equal(fifo.pop(), want.pop(), where);
        else if (op < 9 && r(20) === 0) {
          fifo.clear();
          want.length = 0;
        }
        assert.equal(fifo.length, want.length, where);
        const i = r(want.length + 2) - 1;
        assert.equal(fifo.at(i), want[i], `${where} at(${i})`);
        grewPast = Math.max(grewPast, want.length);
      }
      assert.deepEqual(
        Array.from({ length: fifo.length }, (_, i) => fifo.at(i)),
        want,
        `seed ${seed}: final order`,
      );
    }
    assert.ok(grewPast > 16, `the queue never held more than ${grewPast} items`);
  });

  it('hands back nothing from an empty queue', () => {
    const fifo = new Fifo<string>();
    assert.equal(fifo.shift(), undefined);
    assert.equal(fifo.pop(), undefined);
    assert.equal(fifo.at(0), undefined);
    fifo.push('a');
    assert.equal(fifo.pop(), 'a');
    assert.equal(fifo.length, 0);
  });
});
