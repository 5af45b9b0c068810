// Server-side connections of HTTP streams, and the per-server pools of idle ones (http-reuse).
//
// A SrvConn reads into its own buffer (onread) and hands every event to its current owner: the
// HTTP stream using it, or the pool while it is idle. An idle connection that receives anything
// or is closed by the server is dropped from the pool; idle connections are closed after a purge
// delay.
import net from 'node:net';
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

/** How long an idle server connection is kept (HAProxy's pool-purge-delay default). */
export const IDLE_PURGE_MS = 5000;
/** Idle connections kept per server at most. */
const MAX_IDLE_PER_SERVER = 1000;

export class SrvConn {
  readonly server: Server;
  readonly sock: net.Socket;
  readonly rbuf = new ReadBuffer();
  owner: SrvConnOwner | undefined;
  connected = false;
  ended = false;
  closed = false;
  /** requests sent on this connection */
  uses = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(server: Server, opts: (onread: { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean }) => net.NetConnectOpts, owner: SrvConnOwner) {
    this.server = server;
    this.owner = owner;
    const sock = net.connect(opts({ buffer: this.rbuf.next, callback: this.onRead }));
    this.sock = sock;
    sock.once('connect', () => { this.connected = true; this.owner?.onSrvConnect(this); });
    sock.on('end', () => { this.ended = true; if (this.owner) this.owner.onSrvEnd(this); else this.dropIdle(); });
    sock.on('close', () => { this.closed = true; if (this.owner) this.owner.onSrvClose(this); else this.dropIdle(); });
    sock.on('error', (e) => { if (this.owner) this.owner.onSrvError(this, e); else this.dropIdle(); });
    sock.on('drain', () => this.owner?.onSrvDrain(this));
  }

  private readonly onRead = (n: number, buf: Uint8Array): boolean => {
    if (this.owner) return this.owner.onSrvData(this, n, buf as Buffer);
    // an idle connection must stay silent: anything from the server makes it unusable
    this.dropIdle();
    return false;
  };

  /** Usable for another request: open both ways and nothing pending. */
  get reusable(): boolean {
    return this.connected && !this.ended && !this.closed && !this.sock.destroyed && this.sock.writableLength === 0 && !this.rbuf.busy;
  }

  /** Puts the connection in its server's idle pool (or closes it when it cannot be kept). */
  release(): void {
    this.owner = undefined;
    if (!this.reusable) { this.destroy(); return; }
    const list = idleList(this.server);
    if (list.length >= MAX_IDLE_PER_SERVER) { this.destroy(); return; }
    list.push(this);
    this.idleTimer = setTimeout(() => this.dropIdle(), IDLE_PURGE_MS);
    this.idleTimer.unref();
    this.sock.unref();
  }

  /** Takes this idle connection for `owner`. */
  adopt(owner: SrvConnOwner): void {
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    this.sock.ref();
    this.owner = owner;
  }

  private dropIdle(): void {
    const list = pools.get(this.server);
    if (list) { const i = list.indexOf(this); if (i >= 0) list.splice(i, 1); }
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    this.destroy();
  }

  destroy(): void {
    this.owner = undefined;
    if (!this.sock.destroyed) this.sock.destroy();
    this.rbuf.release(false);
  }
}

const pools = new WeakMap<Server, SrvConn[]>();

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

/** Number of idle connections kept for `s` (for stats). */
export function idleCount(s: Server): number {
  return pools.get(s)?.length ?? 0;
}

/** Closes every idle connection (stopping). */
export function closeIdle(servers: Iterable<Server>): void {
  for (const s of servers) {
    const l = pools.get(s);
    if (!l) continue;
    for (const c of l.splice(0)) c.destroy();
  }
}
