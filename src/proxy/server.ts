// A server at run time: its settings, administrative and operational state, load and queue.
import type { ServerConfig, SourceConfig, ProxyV2Options } from '../config/model.js';
import type { LbServer } from '../lb/types.js';
import { WEIGHT_SCALE } from '../lb/balancers.js';
import { Counters } from './counters.js';
import { WaitQueue, type Waiter } from './queue.js';
import type { Backend } from './proxy.js';

export interface PendingConn extends Waiter {
  /** called when a slot is granted on `srv` */
  grant(srv: Server): void;
}

export type ServerAdmin = 'ready' | 'drain' | 'maint';

export class Server implements LbServer {
  readonly name: string;
  readonly puid: number;
  readonly backup: boolean;
  readonly cfg: ServerConfig;
  readonly backend: Backend;
  /** address used to connect: ip text or unix path; '' for "use the client's destination" */
  host: string;
  port: number;
  portOffset?: '+' | '-';
  readonly isUnix: boolean;
  /** weight set by configuration or CLI (0..256) */
  uweight: number;
  /** weight as configured at start-up (the CLI's "initial weight") */
  readonly iweight: number;
  eweight: number;
  cur = 0;
  maxconn: number;
  readonly minconn: number;
  readonly maxqueue: number;
  admin: ServerAdmin;
  /** operational state, set by health checks (src/checks/health.ts) */
  up = true;
  readonly counters = new Counters();
  readonly queue = new WaitQueue<PendingConn>();
  hashKey: number;
  lb: unknown = undefined;
  readonly sendProxy: 0 | 1 | 2;
  readonly ppOpts?: ProxyV2Options;
  readonly source?: SourceConfig;
  /** slow-start ramp: time the server came back, 0 when not ramping */
  private rampStart = 0;
  private rampTimer: NodeJS.Timeout | undefined;
  lastChange = Date.now();

  constructor(cfg: ServerConfig, backend: Backend) {
    this.cfg = cfg;
    this.backend = backend;
    this.name = cfg.name;
    this.puid = cfg.id!;
    this.backup = cfg.backup;
    this.isUnix = cfg.address.family === 'unix';
    this.host = cfg.resolved ?? cfg.address.host;
    if (!this.isUnix && this.host === '') this.host = '';
    this.port = cfg.address.port;
    this.portOffset = cfg.address.portOffset;
    this.uweight = cfg.weight;
    this.iweight = cfg.weight;
    this.eweight = cfg.weight;
    this.maxconn = cfg.maxconn;
    this.minconn = cfg.minconn;
    this.maxqueue = cfg.maxqueue;
    this.admin = cfg.disabled ? 'maint' : 'ready';
    this.sendProxy = cfg.sendProxy;
    this.ppOpts = cfg.proxyV2Options;
    this.source = cfg.source;
    this.hashKey = this.computeHashKey();
    if (this.admin === 'maint') this.counters.startDown(this.lastChange);
  }

  computeHashKey(): number {
    switch (this.cfg.hashKey) {
      case 'id': return this.puid;
      case 'addr': return hashText(this.host) >>> 12;
      case 'addr-port': return hashText(`${this.host}:${this.port}`) >>> 12;
    }
  }

  /** Changes the address new connections go to (run-time DNS resolution). */
  setAddress(host: string): void {
    this.host = host;
    this.hashKey = this.computeHashKey();
    if (this.cfg.hashKey !== 'id') this.backend.rebuildLb();
  }

  usable(): boolean {
    return this.up && this.admin === 'ready' && this.eweight > 0;
  }

  /** Effective connection limit: minconn/maxconn/fullconn ramp and slow-start (configuration.txt fullconn, slowstart). */
  dynMaxconn(): number {
    if (!this.maxconn) return 0;
    let max = this.maxconn;
    if (this.minconn && this.minconn < this.maxconn) {
      const full = this.backend.fullconn();
      if (full > 0) {
        max = Math.ceil((this.backend.counters.cur * this.maxconn) / full);
        max = Math.max(this.minconn, Math.min(max, this.maxconn));
      }
    }
    if (this.rampStart) {
      const ratio = Math.min(1, (Date.now() - this.rampStart) / Math.max(1, this.cfg.slowstart));
      max = Math.max(1, Math.ceil(max * ratio));
    }
    return max;
  }

  isFull(): boolean {
    const m = this.dynMaxconn();
    return m > 0 && this.cur >= m;
  }

  /** Room in this server's queue (maxqueue 0 = unlimited). */
  queueHasRoom(): boolean {
    return !this.maxqueue || this.queue.length < this.maxqueue;
  }

  /** Operational status word as HAProxy shows it. */
  statusText(): string {
    if (this.admin === 'maint') return 'MAINT';
    if (!this.up) return 'DOWN';
    if (this.admin === 'drain') return 'DRAIN';
    if ((this.eweight === 0 && this.uweight === 0) || this.checkNolb) return 'NOLB';
    return 'UP';
  }

  setAdmin(state: ServerAdmin): void {
    if (state === this.admin) return;
    const wasServing = this.admin === 'ready';
    const wasMaint = this.admin === 'maint';
    this.admin = state;
    this.lastChange = Date.now();
    this.counters.noteState(!this.up || state === 'maint', this.lastChange);
    if (wasMaint && state !== 'maint') this.startRamp();
    if (state === 'maint') this.stopRamp();
    this.updateWeight();
    if (wasServing !== (state === 'ready')) this.backend.serverStateChanged(this);
  }

  setWeight(w: number): void {
    this.uweight = w;
    this.updateWeight();
  }

  /** A health check changed the operational state: slow start on the way up, queues re-dispatched. */
  /** the balancer's weight while slowstart ramps (scaled units), else undefined */
  lbScaled: number | undefined;

  setOperational(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.lastChange = Date.now();
    this.counters.noteState(!up || this.admin === 'maint', this.lastChange);
    if (up) this.startRamp(); else this.stopRamp();
    this.updateWeight();
    this.backend.serverStateChanged(this);
  }

  updateWeight(): void {
    let w = this.admin === 'ready' && !this.checkNolb ? this.uweight : 0;
    // slowstart ramps the balancer's weight in its scaled units (16 per user weight unit), so
    // that even a weight-1 server ramps up; the weight shown (eweight) is rounded up to user units
    let scaled: number | undefined;
    if (this.rampStart && w > 0) {
      const ratio = Math.min(1, (Date.now() - this.rampStart) / Math.max(1, this.cfg.slowstart));
      scaled = ratio < 1 ? Math.max(1, Math.ceil(w * WEIGHT_SCALE * ratio)) : undefined;
      w = Math.max(1, Math.ceil(w * ratio));
    }
    if (w !== this.eweight || scaled !== this.lbScaled) {
      this.eweight = w;
      this.lbScaled = scaled;
      this.backend.rebuildLb();
    }
    // A freed or enlarged slot may serve queued streams.
    this.backend.dispatchQueues(this);
  }

  private startRamp(): void {
    if (!this.cfg.slowstart) return;
    this.rampStart = Date.now();
    const step = Math.max(10, Math.floor(this.cfg.slowstart / 20));
    this.stopTimer();
    this.rampTimer = setInterval(() => {
      if (Date.now() - this.rampStart >= this.cfg.slowstart) this.stopRamp();
      this.updateWeight();
    }, step);
    this.rampTimer.unref();
  }

  private stopRamp(): void {
    this.rampStart = 0;
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.rampTimer) { clearInterval(this.rampTimer); this.rampTimer = undefined; }
  }

  dispose(): void { this.stopTimer(); this.healthCheck?.stop(); }
}

function hashText(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}
