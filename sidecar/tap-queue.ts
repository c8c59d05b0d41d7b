/**
 * Where proxied chunks wait for their taps until the end of the event loop's poll phase. The
 * splice forwards each chunk as soon as it is read; the taps then read every chunk of that turn
 * one after another (setImmediate), with their code and data still in the CPU's caches, instead
 * of each between two socket writes that evict them. Measured on the sidecar-throughput load
 * (A/B of tap processes, alternating rounds): about 5-8% less CPU per request. Timestamps are
 * taken when a chunk is queued, so nothing recorded changes. Bounded: at QUEUE_CHUNKS chunks or
 * QUEUE_BYTES bytes the queue is read at once. A tap reads the queue before anyone looks at its
 * state (ConnectionTap drains it first in finish, idle, off and upstreamFailed).
 */

/** What reads a queued chunk: ConnectionTap. */
export interface ChunkReader {
  read(dir: 0 | 1, chunk: Buffer, t: number): void;
}

const QUEUE_CHUNKS = 256;
const QUEUE_BYTES = 1 << 20;

const readers: (ChunkReader | undefined)[] = new Array<ChunkReader | undefined>(QUEUE_CHUNKS).fill(undefined);
const chunks: (Buffer | undefined)[] = new Array<Buffer | undefined>(QUEUE_CHUNKS).fill(undefined);
const dirs = new Uint8Array(QUEUE_CHUNKS);
const times = new Float64Array(QUEUE_CHUNKS);
let count = 0;
/** The next entry to read: reading may re-enter (a reader's hook asks for the queue to be read). */
let next = 0;
let bytes = 0;
let scheduled = false;

export function queueChunk(reader: ChunkReader, dir: 0 | 1, chunk: Buffer, t: number): void {
  if (count === QUEUE_CHUNKS) readQueuedChunks();
  const i = count++;
  readers[i] = reader;
  chunks[i] = chunk;
  dirs[i] = dir;
  times[i] = t;
  bytes += chunk.length;
  if (count === QUEUE_CHUNKS || bytes >= QUEUE_BYTES) readQueuedChunks();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(onImmediate);
  }
}

/** Hands every queued chunk to its reader, oldest first. Readers do not throw (they fail open). */
export function readQueuedChunks(): void {
  while (next < count) {
    const i = next++;
    const reader = readers[i]!;
    const chunk = chunks[i]!;
    readers[i] = undefined;
    chunks[i] = undefined;
    reader.read(dirs[i] as 0 | 1, chunk, times[i]);
  }
  next = count = bytes = 0;
}

function onImmediate(): void {
  scheduled = false;
  readQueuedChunks();
}
