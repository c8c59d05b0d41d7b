/** The queue between the splice and the taps: order, timestamps, its bounds, and when it is read. */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { type ChunkReader, queueChunk, readQueuedChunks } from '../../sidecar/tap-queue.js';

type Read = [string, 0 | 1, string, number];

function reader(name: string, log: Read[], onRead?: () => void): ChunkReader {
  return {
    read: (dir, chunk, t) => {
      log.push([name, dir, chunk.toString(), t]);
      onRead?.();
    },
  };
}

describe('tap queue', () => {
  it('reads nothing at once; by the next turn every chunk, in arrival order, with its arrival time', async () => {
    const log: Read[] = [];
    const a = reader('a', log);
    const b = reader('b', log);
    queueChunk(a, 0, Buffer.from('a0'), 1.5);
    queueChunk(b, 0, Buffer.from('b0'), 2.5);
    queueChunk(a, 1, Buffer.from('a1'), 3.5);
    assert.deepEqual(log, []);
    await nextTurn();
    assert.deepEqual(log, [
      ['a', 0, 'a0', 1.5],
      ['b', 0, 'b0', 2.5],
      ['a', 1, 'a1', 3.5],
    ]);
  });

  it('is read at once when asked, and when it holds 256 chunks or 1 MiB', () => {
    const log: Read[] = [];
    const r = reader('r', log);
    queueChunk(r, 0, Buffer.from('x'), 0);
    readQueuedChunks();
    assert.equal(log.length, 1);
    for (let i = 0; i < 255; i++) queueChunk(r, 0, Buffer.from(String(i)), i);
    assert.equal(log.length, 1, '255 small chunks wait');
    queueChunk(r, 1, Buffer.from('last'), 255);
    assert.equal(log.length, 257, 'the 256th is read with the others');
    assert.deepEqual(log.at(-1), ['r', 1, 'last', 255]);
    queueChunk(r, 0, Buffer.alloc(512 * 1024), 0);
    assert.equal(log.length, 257);
    queueChunk(r, 0, Buffer.alloc(512 * 1024), 0);
    assert.equal(log.length, 259, 'a full MiB is read at once');
  });

  it('a reader that asks for the queue to be read gets every chunk once, in order', async () => {
    const log: Read[] = [];
    const plain = reader('plain', log);
    const eager = reader('eager', log, () => readQueuedChunks());
    queueChunk(eager, 0, Buffer.from('1'), 1);
    queueChunk(plain, 0, Buffer.from('2'), 2);
    queueChunk(eager, 0, Buffer.from('3'), 3);
    queueChunk(plain, 0, Buffer.from('4'), 4);
    await nextTurn();
    assert.deepEqual(
      log.map((l) => l[2]),
      ['1', '2', '3', '4'],
    );
    readQueuedChunks();
    assert.equal(log.length, 4);
  });
});
