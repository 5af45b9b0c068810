// FIFO of streams waiting for a server connection slot (per server and per backend).

export interface Waiter {
  /** set when the waiter left the queue (served, expired or aborted) */
  dequeued: boolean;
  queuedAt: number;
}

export class WaitQueue<T extends Waiter> {
  private items: T[] = [];
  private head = 0;
  private live = 0;

  get length(): number { return this.live; }

  push(w: T): void {
    w.dequeued = false;
    this.items.push(w);
    this.live++;
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
