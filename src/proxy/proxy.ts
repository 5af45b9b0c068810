// Frontends and backends at run time. A `listen` section is one Proxy with both roles, as in
// HAProxy; stats show its FRONTEND and BACKEND sides separately, hence two counter sets.
import { servedBefore } from './queue.js';
import type { ProxyConfig } from '../config/model.js';
import { Counters } from './counters.js';
import { WaitQueue } from './queue.js';
import { Server, type PendingConn } from './server.js';
import { createBalancer } from '../lb/config.js';
import type { Balancer, LbRequest } from '../lb/types.js';

export type AssignResult =
  | { kind: 'assigned'; server: Server }
  | { kind: 'queued'; server?: Server }
  | { kind: 'none'; reason: 'no-server' | 'full' };

export class Proxy {
  readonly name: string;
  readonly id: number;
  readonly cfg: ProxyConfig;
  readonly isFrontend: boolean;
  readonly isBackend: boolean;
  readonly feCounters = new Counters();
  readonly counters = new Counters();          // backend side
  servers: Server[] = [];
  readonly queue = new WaitQueue<PendingConn>();
  balancer: Balancer | undefined;
  defaultBackend: Proxy | undefined;
  /** frontend connection limit (0 = none); settable from the CLI */
  maxconn: number;
  /** rate-limit sessions: new sessions per second the frontend accepts (0 = none) */
  rateLimitSessions: number;
  /** set when the proxy was stopped (soft stop, or disabled) */
  stopped = false;
  /** sum of frontend maxconns that may reach this backend (for automatic fullconn) */
  feMaxconnSum = 0;
  lastChange = Date.now();

  constructor(cfg: ProxyConfig, defaultFrontendMaxconn: number) {
    this.cfg = cfg;
    this.name = cfg.name;
    this.id = cfg.id!;
    this.isFrontend = cfg.kind === 'frontend' || cfg.kind === 'listen';
    this.isBackend = cfg.kind === 'backend' || cfg.kind === 'listen';
    this.maxconn = cfg.maxconn || defaultFrontendMaxconn;
    this.rateLimitSessions = cfg.rateLimitSessions ?? 0;
    this.stopped = cfg.disabled;
    if (this.isBackend) {
      this.servers = cfg.servers.map((s) => new Server(s, this));
    }
  }

  initBalancer(): void {
    if (!this.isBackend) return;
    const cfg = this.cfg.balance ?? { algo: 'roundrobin' as const };
    this.balancer = createBalancer(cfg as never, this.cfg.hashType as never, this.servers, {
      allbackups: this.cfg.options.allbackups,
      hashBalanceFactor: this.cfg.hashBalanceFactor,
    });
  }

  get mode(): 'tcp' | 'http' { return this.cfg.mode; }

  fullconn(): number {
    if (this.cfg.fullconn) return this.cfg.fullconn;
    return Math.max(1, Math.ceil(this.feMaxconnSum / 10));
  }

  findServer(name: string): Server | undefined {
    if (/^#\d+$/.test(name)) {
      const id = Number(name.slice(1));
      return this.servers.find((s) => s.puid === id);
    }
    return this.servers.find((s) => s.name === name);
  }

  /** Number of servers that can take traffic (active ones, or backups when none is). */
  usableServers(): number {
    let n = 0;
    for (const s of this.servers) if (s.usable() && !s.backup) n++;
    if (n) return n;
    for (const s of this.servers) if (s.usable()) n++;
    return n;
  }

  rebuildLb(): void { this.balancer?.rebuild(); }

  serverStateChanged(s: Server): void {
    this.lastChange = Date.now();
    // backend availability for the stats (chkdown, downtime)
    this.counters.noteState(this.servers.length > 0 && this.usableServers() === 0, this.lastChange);
    this.rebuildLb();
    if (!s.usable()) {
      // its waiters go back to the backend queue, oldest first
      for (const w of s.queue.drain()) {
        s.counters.queueCur = s.queue.length;
        this.queue.push(w);
      }
      this.counters.queueCur = this.queue.length;
      if (this.counters.queueCur > this.counters.queueMax) this.counters.queueMax = this.counters.queueCur;
      for (const other of this.servers) if (other !== s) this.dispatchQueues(other);
    } else {
      this.dispatchQueues(s);
    }
  }

  /**
   * Picks a server for a new connection. `waiter.grant` is NOT called for an immediate
   * assignment (the result says so); it is called later when a queued waiter gets a slot.
   */
  assign(req: LbRequest, avoid: Server | null, waiter: PendingConn): AssignResult {
    const b = this.balancer!;
    const s = b.pick(req, avoid) as Server | null;
    if (s) {
      if (!s.isFull()) { this.take(s); return { kind: 'assigned', server: s }; }
      if (s.queueHasRoom()) {
        this.enqueue(waiter, s);
        return { kind: 'queued', server: s };
      }
      const other = b.pick(req, s) as Server | null;
      if (other && other !== s && !other.isFull()) { this.take(other); return { kind: 'assigned', server: other }; }
      if (other && other !== s && other.queueHasRoom()) { this.enqueue(waiter, other); return { kind: 'queued', server: other }; }
      return { kind: 'none', reason: 'full' };
    }
    if (this.usableServers() > 0) {
      this.enqueue(waiter, undefined);
      return { kind: 'queued' };
    }
    return { kind: 'none', reason: 'no-server' };
  }

  /**
   * A server chosen by persistence (cookie): taken when it has a free slot, else the waiter
   * queues on it while its queue has room; undefined when neither (the caller falls back to
   * load balancing).
   */
  assignTo(s: Server, waiter: PendingConn): AssignResult | undefined {
    if (!s.isFull()) { this.take(s); return { kind: 'assigned', server: s }; }
    if (s.queueHasRoom()) { this.enqueue(waiter, s); return { kind: 'queued', server: s }; }
    return undefined;
  }

  private enqueue(w: PendingConn, s: Server | undefined): void {
    w.queuedAt = Date.now();
    if (s) {
      s.queue.push(w);
      s.counters.queueCur = s.queue.length;
      if (s.counters.queueCur > s.counters.queueMax) s.counters.queueMax = s.counters.queueCur;
    } else {
      this.queue.push(w);
    }
    this.counters.queueCur = this.totalQueued();
    if (this.counters.queueCur > this.counters.queueMax) this.counters.queueMax = this.counters.queueCur;
  }

  totalQueued(): number {
    let n = this.queue.length;
    for (const s of this.servers) n += s.queue.length;
    return n;
  }

  /** A waiter gave up (timeout or client abort). */
  unqueue(w: PendingConn, s: Server | undefined): void {
    (s ? s.queue : this.queue).remove(w);
    if (s) s.counters.queueCur = s.queue.length;
    else for (const srv of this.servers) srv.queue.remove(w);
    this.queue.remove(w);
    this.counters.queueCur = this.totalQueued();
  }

  take(s: Server): void {
    s.cur++;
    s.counters.enter();
    s.counters.lbTotal++;
    this.counters.lbTotal++;
    this.balancer!.onTaken(s);
  }

  release(s: Server): void {
    if (s.cur > 0) s.cur--;
    s.counters.leave();
    this.balancer!.onReleased(s);
    this.dispatchQueues(s);
  }

  /** Gives free slots of `s` to the oldest waiters of its own queue or of the backend queue. */
  dispatchQueues(s: Server): void {
    if (!this.balancer) return;
    for (;;) {
      if (s.isFull()) return;
      const own = s.queue.peek();
      const shared = s.usable() ? this.queue.peek() : undefined;
      let w: PendingConn | undefined;
      if (own && (!shared || !servedBefore(shared, own))) { w = s.queue.shift(); s.counters.queueCur = s.queue.length; }
      else if (shared) w = this.queue.shift();
      if (!w) return;
      this.counters.queueCur = this.totalQueued();
      this.take(s);
      w.grant(s);
    }
  }

  /** Lowest server id not in use (ids of deleted servers are reused, as in HAProxy). */
  nextServerId(): number {
    const used = new Set(this.servers.map((s) => s.puid));
    let id = 1;
    while (used.has(id)) id++;
    return id;
  }

  /**
   * Adds a server at run time (CLI `add server`). The list is changed in place: the balancer,
   * the stats and the state dumps all read this same array.
   */
  addServer(s: Server): void {
    this.servers.push(s);
    this.lastChange = Date.now();
    this.rebuildLb();
  }

  /** Removes a server at run time (CLI `del server`); the caller checked it is idle and in maintenance. */
  removeServer(s: Server): boolean {
    const i = this.servers.indexOf(s);
    if (i < 0) return false;
    this.servers.splice(i, 1);
    // a waiter can no longer be bound to it (the caller checked its queue is empty)
    for (const w of s.queue.drain()) this.queue.push(w);
    s.dispose();
    this.lastChange = Date.now();
    this.counters.noteState(this.servers.length > 0 && this.usableServers() === 0, this.lastChange);
    this.rebuildLb();
    return true;
  }

  dispose(): void { for (const s of this.servers) s.dispose(); }
}
export type Backend = Proxy;
