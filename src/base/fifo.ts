/**
 * A first-in first-out queue on a ring that doubles when full: once it has grown to what a
 * connection needs, pushing and shifting allocate nothing (an array's shift/splice and push
 * reallocate its backing store as it empties and refills, once per request on a hot path).
 */
export class Fifo<T> {
  private ring: (T | undefined)[] = [undefined, undefined, undefined, undefined];
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count++) & (this.ring.length - 1)] = item;
  }

  /** The item `i` places from the front (0: the oldest); undefined past the end. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.count ? this.ring[(this.head + i) & (this.ring.length - 1)] : undefined;
  }

  /** Takes the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return item;
  }

  /** Takes the newest item. */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const at = (this.head + --this.count) & (this.ring.length - 1);
    const item = this.ring[at];
    this.ring[at] = undefined;
    return item;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array<T | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) & (this.ring.length - 1)];
    this.ring = next;
    this.head = 0;
  }
}
