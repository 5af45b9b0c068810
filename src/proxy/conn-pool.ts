// Server-side connections of HTTP streams, and the per-server pools of idle ones (http-reuse).
//
// A SrvConn reads into its own buffer (onread) and hands every event to its current owner: the
// HTTP stream using it, or the pool while it is idle. An idle connection that receives anything
// or is closed by the server is dropped from the pool; idle connections are closed after a purge
// delay.
import type net from 'node:net';
import { connectSock, type Sock } from '../net/raw-socket.js';
import type { Server } from './server.js';
import { ReadBuffer } from '../net/read-buffers.js';

export interface SrvConnOwner {
  onSrvConnect(c: SrvConn): void;
  /** bytes in c.rbuf (valid during the call); false pauses reading until c.sock.resume() */
  onSrvData(c: SrvConn, n: number, buf: Buffer): boolean;
  onSrvEnd(c: SrvConn): void;
  onSrvClose(c: SrvConn): void;
  onSrvError(c: SrvConn, e: Error): void;
  onSrvDrain(c: SrvConn): void;
}

/** Default of pool-purge-delay: every such interval, idle connections beyond the need are closed (ServerPool.purge). */
export const IDLE_PURGE_MS = 5000;
/** Idle connections kept per server when pool-max-conn is unlimited (-1). */
const MAX_IDLE_PER_SERVER = 10_000;

// File descriptor budget for idle connections (tune.pool-low-fd-ratio / tune.pool-high-fd-ratio):
// above `low` percent of the descriptor limit in use, released connections are closed instead of
// kept; above `high` percent, opening a new connection first closes an idle one.
const budget = { fdMax: 0, low: 20, high: 25, others: (): number => 0 };
/** server connections open (idle or in use) */
let live = 0;
/** every idle connection, oldest first (for the high-ratio eviction) */
const idleAll = new Set<SrvConn>();

/** Sets the descriptor limit and how to count the descriptors used by everything else. */
export function setPoolBudget(fdMax: number, low: number, high: number, others: () => number): void {
  budget.fdMax = fdMax;
  budget.low = low;
  budget.high = high;
  budget.others = others;
}

function fdsUsed(): number { return live + budget.others(); }

/** Whether the descriptors in use reach `pct` percent of the limit (never when no limit is known). */
function fdsAtRatio(pct: number): boolean {
  return budget.fdMax > 0 && fdsUsed() * 100 >= budget.fdMax * pct;
}

/** Before opening a server connection: above the high ratio, an idle connection makes room. */
function makeRoom(): void {
  if (!fdsAtRatio(budget.high)) return;
  const oldest = idleAll.values().next();
  if (!oldest.done) oldest.value.destroy();
}

export class SrvConn {
  readonly server: Server;
  readonly sock: Sock;
  readonly rbuf = new ReadBuffer(true);
  owner: SrvConnOwner | undefined;
  connected = false;
  ended = false;
  closed = false;
  /** requests sent on this connection */
  uses = 0;
  /** the server's pool, where this connection counts as used until it is idle or closed */
  private readonly pool: ServerPool;
  private countedUsed = true;
  /** links in its server's idle list while idle (ServerPool) */
  idleIn: ServerPool | undefined;
  idlePrev: SrvConn | undefined;
  idleNext: SrvConn | undefined;

  constructor(server: Server, opts: (onread: { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean }) => net.NetConnectOpts, owner: SrvConnOwner) {
    this.server = server;
    this.owner = owner;
    this.pool = poolOf(server);
    this.pool.use();
    makeRoom();
    const sock = connectSock(opts({ buffer: this.rbuf.next, callback: this.onRead }));
    this.sock = sock;
    live++;
    sock.once('connect', () => { this.connected = true; this.owner?.onSrvConnect(this); });
    // an idle connection (no owner) that the server ends, closes or breaks is dropped
    sock.on('end', () => { this.ended = true; if (this.owner) this.owner.onSrvEnd(this); else this.destroy(); });
    sock.on('close', () => {
      live--;
      this.closed = true;
      if (this.owner) this.owner.onSrvClose(this); else this.destroy();
    });
    sock.on('error', (e) => { if (this.owner) this.owner.onSrvError(this, e); else this.destroy(); });
    sock.on('drain', () => this.owner?.onSrvDrain(this));
  }

  private readonly onRead = (n: number, buf: Uint8Array): boolean => {
    const o = this.owner;
    // an owner that ends its transaction in this call may put the connection in the pool and
    // still answer false (it is done reading): an idle connection keeps reading
    if (o) return o.onSrvData(this, n, buf as Buffer) || this.idleIn !== undefined;
    // an idle connection must stay silent: anything from the server makes it unusable
    this.destroy();
    return false;
  };

  /** Between transactions: open both ways, nothing pending in either direction. */
  get clean(): boolean {
    return this.connected && !this.ended && !this.closed && !this.sock.destroyed && this.sock.writableLength === 0 && !this.rbuf.busy;
  }

  /** Usable for another request: clean, max-reuse not reached. */
  get reusable(): boolean {
    const maxReuse = this.server.cfg.maxReuse ?? -1;
    if (maxReuse >= 0 && this.uses > maxReuse) return false;
    return this.clean;
  }

  /** Puts the connection in its server's idle pool (or closes it when it cannot be kept). */
  release(): void {
    this.owner = undefined;
    this.rbuf.relax();
    if (!this.reusable) { this.discard(); return; }
    const cfg = this.server.cfg;
    const purge = cfg.poolPurgeDelay ?? IDLE_PURGE_MS;
    const pool = this.pool;
    if (purge === 0 || !pool.admits(cfg.poolMaxConn ?? -1, cfg.poolLowConn ?? 0)) { this.discard(); return; }
    this.uncount();
    pool.push(this);
    idleAll.add(this);
    schedulePurge(this.server, purge);
    this.sock.unref();
    // the last owner may have stopped reading (its read callback returned false as it ended);
    // an idle connection reads, to notice the server closing it
    this.sock.resume();
  }

  /** Takes this idle connection for `owner`. */
  adopt(owner: SrvConnOwner): void {
    idleAll.delete(this);
    this.countedUsed = true;
    this.pool.use();
    this.sock.ref();
    this.owner = owner;
  }

  /** No longer counted as in use by its server's pool (it went idle or is closed). */
  private uncount(): void {
    if (this.countedUsed) { this.countedUsed = false; this.pool.used--; }
  }

  /**
   * Closes a connection that is not kept after its transaction. A clean one (between
   * transactions, the server not having asked to close) is closed with a TCP reset rather than a
   * FIN, as HAProxy does: no TIME_WAIT left on the proxy's side for a connection that has
   * nothing more to say.
   */
  discard(): void {
    this.destroy(this.clean && this.uses !== Infinity);
  }

  /** Closes the connection (idle or not); `reset`: with a TCP reset. */
  destroy(reset = false): void {
    this.owner = undefined;
    this.idleIn?.remove(this);
    idleAll.delete(this);
    this.uncount();
    if (!this.sock.destroyed) {
      if (reset) this.sock.resetAndDestroy();
      else this.sock.destroy();
    }
    this.rbuf.release(false);
  }
}

/**
 * A server's connections as the pool sees them: how many are in use, the most in use since the
 * last purge, the estimate of how many are needed, and the idle ones, oldest first (a linked
 * list: taking, dropping and purging in O(1)).
 */
export class ServerPool {
  head: SrvConn | undefined;
  tail: SrvConn | undefined;
  size = 0;
  used = 0;
  maxUsed = 0;
  estNeed = 0;

  use(): void {
    this.used++;
    if (this.maxUsed < this.used) this.maxUsed = this.used;
    if (this.estNeed < this.used) this.estNeed = this.used;
  }

  /**
   * Whether a released connection (still counted as used) may stay idle, by HAProxy's rules:
   * never with pool-max-conn 0 or at its limit, nor with the descriptors in use at the high
   * ratio; always when the server has no idle connection at all; otherwise only below the low
   * ratio and while used + idle stay within the estimated need plus pool-low-conn.
   */
  admits(maxConn: number, lowConn: number): boolean {
    if (maxConn === 0 || this.size >= (maxConn < 0 ? MAX_IDLE_PER_SERVER : maxConn)) return false;
    if (fdsAtRatio(budget.high)) return false;
    if (this.size === 0) return true;
    if (fdsAtRatio(budget.low)) return false;
    return this.used + this.size <= Math.max(this.used, this.estNeed) + lowConn;
  }

  push(c: SrvConn): void {
    c.idleIn = this;
    c.idlePrev = this.tail;
    c.idleNext = undefined;
    if (this.tail) this.tail.idleNext = c; else this.head = c;
    this.tail = c;
    this.size++;
  }

  remove(c: SrvConn): void {
    if (c.idleIn !== this) return;
    if (c.idlePrev) c.idlePrev.idleNext = c.idleNext; else this.head = c.idleNext;
    if (c.idleNext) c.idleNext.idlePrev = c.idlePrev; else this.tail = c.idlePrev;
    c.idleIn = c.idlePrev = c.idleNext = undefined;
    this.size--;
  }

  /**
   * Every pool-purge-delay: half (rounded up) of the connections beyond what was needed are
   * closed, oldest first, and the estimate of the need moves halfway towards the most used since
   * the previous purge (never below it).
   */
  purge(): void {
    const excess = this.used + this.size - Math.max(this.maxUsed, this.estNeed);
    this.estNeed = Math.max(Math.floor((this.estNeed + this.maxUsed) / 2), this.maxUsed);
    this.maxUsed = this.used;
    for (let n = Math.ceil(excess / 2); n > 0 && this.head; n--) this.head.destroy();
  }
}

const pools = new WeakMap<Server, ServerPool>();

/** Server connections in use and idle (the CLI's `del server` refuses a server that has any). */
export function serverConnCounts(s: Server): { used: number; idle: number } {
  const p = pools.get(s);
  return p ? { used: p.used, idle: p.size } : { used: 0, idle: 0 };
}
const purgeTimers = new WeakMap<Server, NodeJS.Timeout>();

/**
 * Runs ServerPool.purge every pool-purge-delay while the server has idle connections.
 */
function schedulePurge(s: Server, delay: number): void {
  if (purgeTimers.has(s)) return;
  const t = setTimeout(() => {
    purgeTimers.delete(s);
    const l = pools.get(s);
    if (!l || !l.size) return;
    l.purge();
    if (l.size) schedulePurge(s, delay);
  }, delay);
  t.unref();
  purgeTimers.set(s, t);
}

/** The idle-connection bookkeeping of a server, if it ever had a pooled connection (`show servers conn`). */
export function serverPoolStats(s: Server): Readonly<ServerPool> | undefined { return pools.get(s); }

function poolOf(s: Server): ServerPool {
  let l = pools.get(s);
  if (!l) { l = new ServerPool(); pools.set(s, l); }
  return l;
}

/** The most recently idled reusable connection to `s`, taken out of the pool, or undefined. */
export function takeIdle(s: Server, owner: SrvConnOwner): SrvConn | undefined {
  const l = pools.get(s);
  while (l && l.tail) {
    const c = l.tail;
    l.remove(c);
    if (!c.reusable) { c.destroy(); continue; }
    c.adopt(owner);
    return c;
  }
  return undefined;
}
