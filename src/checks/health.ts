// Active health checks of one server: scheduling (inter, fastinter, downinter, spread over the
// backend), the health counter (rise, fall, init-state), the UP/DOWN transitions and HAProxy's
// messages about them ("Server b/s is DOWN, reason: ..., check duration: ...").
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { runCheck, passed, STATUS_TEXT, type CheckResult } from './engine.js';
import { newCheckOptions, type CheckRules, type ServerCheckOptions } from './config.js';
import { EventEmitter } from 'node:events';
import { logWarning, logAlert } from '../cli/messages.js';

/**
 * Server state changes made by health checks: 'change' with { server, backend, up, message,
 * result, noServerLeft }. Features that react to them (email alerts, logs) listen here.
 */
export const serverEvents = new EventEmitter();
export interface ServerChangeEvent { server: Server; backend: Proxy; up: boolean; message: string; result: CheckResult; noServerLeft: boolean }

declare module '../proxy/server.js' {
  interface Server {
    /** the server's active health check, when `check` is set */
    healthCheck?: HealthCheck;
  }
}

export class HealthCheck {
  readonly server: Server;
  readonly backend: Proxy;
  readonly opts: ServerCheckOptions;
  private readonly rules: CheckRules;
  /** health counter: 0 .. rise+fall-1; the server is up from `rise` */
  health: number;
  /** last result, for the runtime API and stats */
  last: CheckResult | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running = false;

  constructor(server: Server, backend: Proxy, opts: ServerCheckOptions) {
    this.server = server;
    this.backend = backend;
    this.opts = opts;
    this.rules = backend.cfg.checkRules ?? { type: 'tcp', steps: [], disableOn404: false, httpExpect: false };
    const max = opts.rise + opts.fall - 1;
    switch (opts.initState) {
      case 'fully-up': this.health = max; break;
      case 'up': this.health = opts.rise; break;
      case 'down': this.health = opts.rise - 1; break;
      case 'fully-down': this.health = 0; break;
    }
    server.up = this.health >= opts.rise;
  }

  /** Starts checking after `delay` ms (the backend spreads its servers' first checks). */
  start(delay: number): void {
    this.schedule(delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.runOnce(); }, Math.max(1, ms));
    this.timer.unref();
  }

  /** The interval before the next check, from the current state. */
  private nextInterval(): number {
    const o = this.opts;
    const max = o.rise + o.fall - 1;
    if (this.server.up && this.health >= max) return o.inter;
    if (!this.server.up && this.health === 0) return o.downinter ?? o.inter;
    return o.fastinter ?? o.inter;
  }

  private timeout(): number {
    const t = this.backend.cfg.timeouts as { check?: number; connect?: number };
    // without `timeout check`, `inter` bounds the whole check; with it, connect then read
    return t.check !== undefined ? Math.min(t.connect ?? this.opts.inter, this.opts.inter) + t.check : this.opts.inter;
  }

  async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      const s = this.server;
      const r = await runCheck(this.rules, {
        host: this.opts.addr ?? s.host, port: this.opts.port ?? s.port, sendProxy: this.opts.sendProxy, timeout: this.timeout(),
      });
      if (this.stopped) return;
      this.result(r);
    } finally {
      this.running = false;
      this.schedule(this.nextInterval());
    }
  }

  /** Applies one check result to the health counter and the server's state. */
  result(r: CheckResult): void {
    this.last = r;
    const o = this.opts;
    const s = this.server;
    const max = o.rise + o.fall - 1;
    if (passed(r.status)) {
      if (this.health < max) this.health++;
      // disable-on-404: up, but no new traffic (NOLB) while the server answers 404
      const nolb = r.status === 'L7OKC';
      if (s.checkNolb !== nolb) { s.checkNolb = nolb; s.updateWeight(); }
      if (!s.up && this.health >= o.rise) {
        this.health = max;
        this.transition(true, r);
      }
      return;
    }
    if (this.health > o.rise) { this.health--; return; }
    this.health = 0;
    if (s.up) this.transition(false, r);
  }

  private transition(up: boolean, r: CheckResult): void {
    const s = this.server;
    const be = this.backend;
    const queuedBefore = s.queue.length;
    s.setOperational(up);
    if (s.admin === 'maint') return;
    const act = be.servers.filter((x) => !x.backup && x.up && x.admin !== 'maint').length;
    const bck = be.servers.filter((x) => x.backup && x.up && x.admin !== 'maint').length;
    const what = `${s.backup ? 'Backup ' : ''}Server ${be.name}/${s.name}`;
    let reason = `reason: ${STATUS_TEXT[r.status]}`;
    if (r.code !== undefined) reason += `, code: ${r.code}`;
    if (r.info !== undefined && r.info !== '') reason += `, info: "${r.info}"`;
    reason += `, check duration: ${r.duration}ms`;
    const message = up
      ? `${what} is UP, ${reason}. ${act} active and ${bck} backup servers online. 0 sessions requeued, ${be.totalQueued()} total in queue.`
      : `${what} is DOWN, ${reason}. ${act} active and ${bck} backup servers left. ${s.cur} sessions active, ${queuedBefore} requeued, ${s.queue.length} remaining in queue.`;
    logWarning(message);
    const noServerLeft = !up && act === 0 && bck === 0;
    if (noServerLeft) logAlert(`backend '${be.name}' has no server available!`);
    serverEvents.emit('change', { server: s, backend: be, up, message, result: r, noServerLeft } satisfies ServerChangeEvent);
  }
}

declare module '../proxy/server.js' {
  interface Server {
    /** http-check disable-on-404 answered 404: up but no new traffic */
    checkNolb?: boolean;
  }
}

/** Starts the checks of every server with `check` in a backend, spread over its interval. */
export function startBackendChecks(be: Proxy): HealthCheck[] {
  const out: HealthCheck[] = [];
  const servers = be.servers.filter((s) => s.cfg.check?.enabled);
  servers.forEach((s, i) => {
    const hc = new HealthCheck(s, be, s.cfg.check ?? newCheckOptions());
    s.healthCheck = hc;
    out.push(hc);
    hc.start(Math.floor((hc.opts.inter * i) / Math.max(1, servers.length)) + 1);
  });
  // servers starting down (init-state down / fully-down) leave the balancer now
  if (servers.some((s) => !s.up)) be.rebuildLb();
  return out;
}
