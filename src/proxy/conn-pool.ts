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

/** Default of pool-purge-delay: every such interval, half of a server's idle connections are closed. */
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

/** Before opening a server connection: above the high ratio, an idle connection makes room. */
function makeRoom(): void {
  if (!budget.fdMax || fdsUsed() * 100 < budget.fdMax * budget.high) return;
  const oldest = idleAll.values().next();
  if (!oldest.done) oldest.value.dropIdle();
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

  constructor(server: Server, opts: (onread: { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean }) => net.NetConnectOpts, owner: SrvConnOwner) {
    this.server = server;
    this.owner = owner;
    makeRoom();
    const sock = connectSock(opts({ buffer: this.rbuf.next, callback: this.onRead }));
    this.sock = sock;
    live++;
    sock.once('connect', () => { this.connected = true; this.owner?.onSrvConnect(this); });
    sock.on('end', () => { this.ended = true; if (this.owner) this.owner.onSrvEnd(this); else this.dropIdle(); });
    sock.on('close', () => {
      live--;
      idleAll.delete(this);
      this.closed = true;
      if (this.owner) this.owner.onSrvClose(this); else this.dropIdle();
    });
    sock.on('error', (e) => { if (this.owner) this.owner.onSrvError(this, e); else this.dropIdle(); });
    sock.on('drain', () => this.owner?.onSrvDrain(this));
  }

  private readonly onRead = (n: number, buf: Uint8Array): boolean => {
    if (this.owner) return this.owner.onSrvData(this, n, buf as Buffer);
    // an idle connection must stay silent: anything from the server makes it unusable
    this.dropIdle();
    return false;
  };

  /** Usable for another request: open both ways, nothing pending, max-reuse not reached. */
  get reusable(): boolean {
    const maxReuse = this.server.cfg.maxReuse ?? -1;
    if (maxReuse >= 0 && this.uses > maxReuse) return false;
    return this.connected && !this.ended && !this.closed && !this.sock.destroyed && this.sock.writableLength === 0 && !this.rbuf.busy;
  }

  /** Puts the connection in its server's idle pool (or closes it when it cannot be kept). */
  release(): void {
    this.owner = undefined;
    this.rbuf.relax();
    if (!this.reusable) { this.destroy(); return; }
    const cfg = this.server.cfg;
    const max = cfg.poolMaxConn ?? -1;
    const purge = cfg.poolPurgeDelay ?? IDLE_PURGE_MS;
    const list = idleList(this.server);
    if (purge === 0 || max === 0 || list.length >= (max < 0 ? MAX_IDLE_PER_SERVER : max)) { this.destroy(); return; }
    if (budget.fdMax && fdsUsed() * 100 >= budget.fdMax * budget.low) { this.destroy(); return; }
    list.push(this);
    idleAll.add(this);
    schedulePurge(this.server, purge);
    this.sock.unref();
  }

  /** Takes this idle connection for `owner`. */
  adopt(owner: SrvConnOwner): void {
    idleAll.delete(this);
    this.sock.ref();
    this.owner = owner;
  }

  dropIdle(): void {
    const list = pools.get(this.server);
    if (list) { const i = list.indexOf(this); if (i >= 0) list.splice(i, 1); }
    idleAll.delete(this);
    this.destroy();
  }

  destroy(): void {
    this.owner = undefined;
    if (!this.sock.destroyed) this.sock.destroy();
    this.rbuf.release(false);
  }
}

const pools = new WeakMap<Server, SrvConn[]>();
const purgeTimers = new WeakMap<Server, NodeJS.Timeout>();

/**
 * Every pool-purge-delay while a server has idle connections, half of them (the oldest, rounded
 * up) are closed, as HAProxy does.
 */
function schedulePurge(s: Server, delay: number): void {
  if (purgeTimers.has(s)) return;
  const t = setTimeout(() => {
    purgeTimers.delete(s);
    const l = pools.get(s);
    if (!l || !l.length) return;
    const n = Math.ceil(l.length / 2);
    for (const c of l.splice(0, n)) { idleAll.delete(c); c.destroy(); }
    if (l.length) schedulePurge(s, delay);
  }, delay);
  t.unref();
  purgeTimers.set(s, t);
}

function idleList(s: Server): SrvConn[] {
  let l = pools.get(s);
  if (!l) { l = []; pools.set(s, l); }
  return l;
}

/** The most recently idled reusable connection to `s`, taken out of the pool, or undefined. */
export function takeIdle(s: Server, owner: SrvConnOwner): SrvConn | undefined {
  const l = pools.get(s);
  while (l && l.length) {
    const c = l.pop()!;
    if (!c.reusable) { c.destroy(); continue; }
    c.adopt(owner);
    return c;
  }
  return undefined;
}
