// Streams waiting for a server connection slot (per server and per backend): first in, first out,
// within the priorities set by set-priority-class (lower first) and set-priority-offset
// (milliseconds added to the queueing date), as HAProxy orders its queues.

export interface Waiter {
  /** set when the waiter left the queue (served, expired or aborted) */
  dequeued: boolean;
  queuedAt: number;
  /** set-priority-class (-2047..2047, default 0) and set-priority-offset (ms, default 0) */
  prioClass?: number;
  prioOffset?: number;
}

/** Whether `a` is served before `b`. */
export function servedBefore(a: Waiter, b: Waiter): boolean {
  const ca = a.prioClass ?? 0, cb = b.prioClass ?? 0;
  if (ca !== cb) return ca < cb;
  return a.queuedAt + (a.prioOffset ?? 0) < b.queuedAt + (b.prioOffset ?? 0);
}

export class WaitQueue<T extends Waiter> {
  private items: T[] = [];
  private head = 0;
  private live = 0;

  get length(): number { return this.live; }

  push(w: T): void {
    w.dequeued = false;
    this.live++;
    const items = this.items;
    const last = items[items.length - 1];
    if (!last || !servedBefore(w, last)) { items.push(w); return; }
    // a higher priority: inserted before the first waiter it is served before
    let lo = this.head, hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (servedBefore(w, items[mid]!)) hi = mid; else lo = mid + 1;
    }
    items.splice(lo, 0, w);
  }

  /** Oldest live waiter without removing it. */
  peek(): T | undefined {
    while (this.head < this.items.length && this.items[this.head]!.dequeued) this.head++;
    this.compact();
    return this.items[this.head];
  }

  shift(): T | undefined {
    const w = this.peek();
    if (!w) return undefined;
    this.head++;
    w.dequeued = true;
    this.live--;
    this.compact();
    return w;
  }

  /** Marks a waiter as gone; it is skipped lazily. */
  remove(w: T): void {
    if (w.dequeued) return;
    w.dequeued = true;
    this.live--;
  }

  /** Removes and returns every live waiter. */
  drain(): T[] {
    const out: T[] = [];
    for (let w = this.shift(); w; w = this.shift()) out.push(w);
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
