// Active health checks of one server: scheduling (inter, fastinter, downinter, spread over the
// backend), the health counter (rise, fall, init-state), the UP/DOWN transitions and HAProxy's
// messages about them ("Server b/s is DOWN, reason: ..., check duration: ...").
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { runExternalCheck } from './external.js';
import { runCheck, passed, STATUS_TEXT, type CheckResult } from './engine.js';
import { newCheckOptions, type CheckRules, type ServerCheckOptions } from './config.js';
import { EventEmitter } from 'node:events';
import { logWarning, logAlert } from '../cli/messages.js';
import { sendLog } from '../log/emit.js';
import { LOG_ALERT, LOG_NOTICE, LOG_EMERG } from '../log/syslog.js';

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

/** A check run every so often on its own timer (health checks, agent checks). */
export abstract class PeriodicCheck {
  protected timer: NodeJS.Timeout | undefined;
  protected stopped = false;

  /** Starts checking after `delay` ms (the backend spreads its servers' first checks). */
  start(delay: number): void { this.schedule(delay); }

  stop(): void {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
  }

  protected schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => { this.timer = undefined; void this.runOnce(); }, Math.max(1, ms));
    this.timer.unref();
  }

  abstract runOnce(): Promise<void>;
}

/**
 * How long one check may take: without `timeout check`, `inter` bounds the whole check; with it,
 * the connection (at most `timeout connect`, or `inter`) then the read.
 */
export function checkTimeout(be: Proxy, inter: number): number {
  const t = be.cfg.timeouts as { check?: number; connect?: number };
  return t.check !== undefined ? Math.min(t.connect ?? inter, inter) + t.check : inter;
}

export class HealthCheck extends PeriodicCheck {
  readonly server: Server;
  readonly backend: Proxy;
  readonly opts: ServerCheckOptions;
  private readonly rules: CheckRules;
  /** health counter: 0 .. rise+fall-1; the server is up from `rise` */
  health: number;
  /** last result, for the runtime API and stats */
  last: CheckResult | undefined;
  /** a check is being run (CHK_ST_INPROGRESS) */
  running = false;
  /** `disable health` clears it: no new checks, the results are ignored */
  enabled = true;

  constructor(server: Server, backend: Proxy, opts: ServerCheckOptions) {
    super();
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

  /** The interval before the next check, from the current state. */
  nextInterval(): number {
    const o = this.opts;
    const max = o.rise + o.fall - 1;
    if (this.health >= max) return o.inter;
    if (!this.server.up && this.health === 0) return o.downinter ?? o.inter;
    return o.fastinter ?? o.inter;
  }

  private timeout(): number { return checkTimeout(this.backend, this.opts.inter); }

  async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    const s = this.server;
    // maintenance pauses the checks; `disable health` stops sending them
    if (s.admin === 'maint' || !this.enabled) {
      this.schedule(spreadInterval(this.nextInterval()));
      return;
    }
    this.running = true;
    try {
      // option external-check: a program decides (its timeout is the interval, as HAProxy's)
      const r = this.backend.cfg.externalCheck?.enabled
        ? await runExternalCheck(s, this.backend, this.opts.inter)
        : await runCheck(this.rules, {
          host: this.opts.addr ?? s.host, port: this.opts.port ?? s.port, sendProxy: this.opts.sendProxy, timeout: this.timeout(),
          server: s, backend: this.backend, node: checkNode.name,
        });
      if (this.stopped || !this.enabled || (s.admin as string) === 'maint') return;
      this.result(r);
    } finally {
      this.running = false;
      this.schedule(spreadInterval(this.nextInterval()));
    }
  }

  /** Applies one check result to the health counter and the server's state. */
  result(r: CheckResult): void {
    const prev = this.last;
    this.last = r;
    const o = this.opts;
    const s = this.server;
    const max = o.rise + o.fall - 1;
    // option log-health-checks: every change of the health counter or of the result is logged,
    // and the UP/DOWN messages then leave the reason out (it was just logged)
    const logHc = s.backend.cfg.options?.logHealthChecks === true;
    const before = this.health;
    const why = logHc ? '' : checkReason(r);
    if (passed(r.status)) {
      if (this.health < max) this.health++;
      if (this.health >= o.rise) this.health = max;
      if (logHc) this.logChange(r, prev, before);
      // disable-on-404: up, but no new traffic (NOLB) while the server answers 404
      const nolb = r.status === 'L7OKC';
      if (s.checkNolb !== nolb) { s.checkNolb = nolb; s.updateWeight(); }
      // a passing check ends the STOPPING state set from the CLI
      if (s.stopping && !nolb && s.up) { setServerUp(s, true, why, r); }
      if (this.health >= o.rise) {
        this.health = max;
        if (!s.up && checksAllowUp(s)) setServerUp(s, true, why, r);
      }
      return;
    }
    if (s.up) s.counters.failedChecks++;
    if (this.health > o.rise) {
      this.health--;
      if (logHc) this.logChange(r, prev, before);
      return;
    }
    this.health = 0;
    if (logHc) this.logChange(r, prev, before);
    if (s.up) setServerUp(s, false, why, r);
  }

  /** "Health check for server b/s succeeded|failed, reason: ..., status: 1/2 DOWN." */
  private logChange(r: CheckResult, prev: CheckResult | undefined, before: number): void {
    const ok = passed(r.status);
    if (this.health === before && prev !== undefined && passed(prev.status) === ok) return;
    const o = this.opts;
    const s = this.server;
    const state = this.health >= o.rise ? `${this.health - o.rise + 1}/${o.fall} UP` : `${this.health}/${o.rise} DOWN`;
    srvMessage(s.backend, `Health check for ${s.backup ? 'backup ' : ''}server ${s.backend.name}/${s.name} ${ok ? 'succeeded' : 'failed'}${checkReason(r)}, status: ${state}.`, LOG_NOTICE);
  }

  /** `set server health up|stopping|down`, and leaving maintenance (health back at `rise`). */
  force(health: number): void { this.health = health; }

  /** on-error: the next check comes after `fastinter` instead of the normal interval. */
  forceFastinter(): void {
    if (this.stopped || this.running) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.schedule(this.opts.fastinter ?? this.opts.inter);
  }
}

/** ", reason: <status text>[, code: N][, info: "..."], check duration: Nms" */
export function checkReason(r: CheckResult): string {
  let reason = `, reason: ${STATUS_TEXT[r.status]}`;
  if (r.code !== undefined) reason += `, code: ${r.code}`;
  if (r.info !== undefined && r.info !== '') reason += `, info: "${r.info}"`;
  return `${reason}, check duration: ${r.duration}ms`;
}

declare module '../proxy/server.js' {
  interface Server {
    /** `set server health down` on a server without health check keeps it down until `health up` */
    forcedDown?: boolean;
    /** `set server health stopping`: up, but no new traffic (HAProxy's STOPPING state) */
    stopping?: boolean;
  }
}

/** Whether the checks let the server be up: an enabled health check at `rise` or more and an
 *  enabled agent reporting up (HAProxy's condition for leaving the STOPPED state). */
export function checksAllowUp(s: Server): boolean {
  if (s.forcedDown) return false;
  const hc = s.healthCheck;
  if (hc && hc.enabled && hc.health < hc.opts.rise) return false;
  for (const f of upConditions) if (!f(s)) return false;
  return true;
}

/** Extra conditions for a server to be up (the agent check adds its own). */
export const upConditions: ((s: Server) => boolean)[] = [];

/** Servers that take traffic, as HAProxy counts them in its messages. */
export function onlineCounts(be: Proxy): { act: number; bck: number } {
  let act = 0, bck = 0;
  for (const x of be.servers) {
    if (!x.usable()) continue;
    if (x.backup) bck++; else act++;
  }
  return { act, bck };
}

/** A server state message: on stderr as a warning, and to the backend's loggers. */
export function srvMessage(be: Proxy, msg: string, level: number): void {
  logWarning(msg);
  sendLog(be, level, msg);
}

/** "backend has no server available!" (worded differently on stderr and in the logs, as HAProxy does) */
export function noServerMessage(be: Proxy): void {
  const kind = be.isFrontend ? 'proxy' : 'backend';
  logAlert(`${kind} '${be.name}' has no server available!`);
  sendLog(be, LOG_EMERG, `${kind} ${be.name} has no server available!`);
}

function srvWhat(s: Server): string { return `${s.backup ? 'Backup ' : ''}Server ${s.backend.name}/${s.name}`; }

/**
 * Changes a server's operational state and logs HAProxy's message: `why` follows "is UP" /
 * "is DOWN" (", reason: ..." for checks, ", changed from CLI" for the runtime API).
 */
export function setServerUp(s: Server, up: boolean, why: string, r?: CheckResult): void {
  const be = s.backend;
  const queuedBefore = s.queue.length;
  if (up) s.stopping = false;
  s.setOperational(up);
  if (s.admin === 'maint') return;
  const { act, bck } = onlineCounts(be);
  const what = srvWhat(s);
  const message = up
    ? `${what} is UP${why}. ${act} active and ${bck} backup servers online. 0 sessions requeued, ${be.totalQueued()} total in queue.`
    : `${what} is DOWN${why}. ${act} active and ${bck} backup servers left.${act === 0 && bck > 0 ? ' Running on backup.' : ''} ${s.cur} sessions active, ${queuedBefore} requeued, ${s.queue.length} remaining in queue.`;
  srvMessage(be, message, up ? LOG_NOTICE : LOG_ALERT);
  const noServerLeft = !up && act === 0 && bck === 0;
  if (noServerLeft) noServerMessage(be);
  if (!up && s.admin === 'drain') srvMessage(be, `${what} remains in forced drain mode.`, LOG_NOTICE);
  serverEvents.emit('change', { server: s, backend: be, up, message, result: r ?? { status: 'L4OK', duration: 0 }, noServerLeft } satisfies ServerChangeEvent);
}

/** `set server health stopping`: up without new traffic, with HAProxy's message. */
export function setServerStopping(s: Server, why: string): void {
  const be = s.backend;
  if (!s.up) s.setOperational(true);
  s.stopping = true;
  s.checkNolb = true;
  s.updateWeight();
  const { act, bck } = onlineCounts(be);
  srvMessage(be, `${srvWhat(s)} is stopping${why}. ${act} active and ${bck} backup servers online. 0 sessions requeued, ${be.totalQueued()} total in queue.`, LOG_NOTICE);
}

/**
 * Changes a server's administrative state (CLI `set server state`, agent replies) with the
 * messages HAProxy logs for it; health checks pause in maintenance and restart at `rise`.
 */
export function setAdminState(s: Server, state: 'ready' | 'drain' | 'maint'): void {
  const prev = s.admin;
  if (prev === state) return;
  const be = s.backend;
  const what = srvWhat(s);
  if (state === 'maint') {
    const wasUp = s.up;
    const sessions = s.cur;
    const queued = s.queue.length;
    s.setAdmin('maint');
    const { act, bck } = onlineCounts(be);
    if (wasUp) srvMessage(be, `${what} is going DOWN for maintenance. ${act} active and ${bck} backup servers left.${act === 0 && bck > 0 ? ' Running on backup.' : ''} ${sessions} sessions active, ${queued} requeued, ${s.queue.length} remaining in queue.`, LOG_ALERT);
    else srvMessage(be, `${what} was DOWN and now enters maintenance.`, LOG_NOTICE);
    if (act === 0 && bck === 0 && wasUp) noServerMessage(be);
    return;
  }
  if (prev === 'maint') {
    // leaving maintenance: the checks start again from `rise`
    const hc = s.healthCheck;
    if (hc) hc.force(hc.opts.rise);
    const up = checksAllowUp(s);
    s.setAdmin(state);
    if (up !== s.up) s.setOperational(up);
    srvMessage(be, `${what} is ${s.up ? 'UP' : 'DOWN'}/${state === 'drain' ? 'DRAIN' : 'READY'} (leaving forced maintenance).`, LOG_NOTICE);
    if (state === 'drain') srvMessage(be, `${what} remains in forced drain mode.`, LOG_NOTICE);
    return;
  }
  s.setAdmin(state);
  if (state === 'drain') {
    const { act, bck } = onlineCounts(be);
    // the wording of a server that is down: what is "left", and its sessions
    srvMessage(be, s.up
      ? `${what} enters drain state. ${act} active and ${bck} backup servers online. 0 sessions requeued, ${be.totalQueued()} total in queue.`
      : `${what} enters drain state. ${act} active and ${bck} backup servers left.${act === 0 && bck > 0 ? ' Running on backup.' : ''} ${s.cur} sessions active, 0 requeued, ${s.queue.length} remaining in queue.`, LOG_NOTICE);
  } else {
    srvMessage(be, `${what} is ${s.up ? 'UP' : 'DOWN'} (leaving forced drain).`, LOG_NOTICE);
  }
}


declare module '../proxy/server.js' {
  interface Server {
    /** http-check disable-on-404 answered 404: up but no new traffic */
    checkNolb?: boolean;
  }
}

/** The global `node` name (http-check send-state); the host name when unset. */
export const checkNode: { name?: string } = {};

/** Other checks started with the health checks (the agent checks). */
export const backendStarters: ((be: Proxy) => void)[] = [];

/** Starts the checks of every server with `check` in a backend, spread over its interval. */
export function startBackendChecks(be: Proxy, node?: string): HealthCheck[] {
  if (node) checkNode.name = node;
  for (const f of backendStarters) f(be);
  const out: HealthCheck[] = [];
  const servers = be.servers.filter((s) => s.cfg.check?.enabled);
  servers.forEach((s, i) => {
    const hc = new HealthCheck(s, be, s.cfg.check ?? newCheckOptions());
    s.healthCheck = hc;
    out.push(hc);
    // first checks spread over the interval (at most max-spread-checks)
    const span = spreadSettings.maxSpread !== undefined ? Math.min(hc.opts.inter, spreadSettings.maxSpread) : hc.opts.inter;
    hc.start(Math.floor((span * i) / Math.max(1, servers.length)) + 1);
  });
  // servers starting down (init-state down / fully-down) leave the balancer now
  if (servers.some((s) => !s.up)) be.rebuildLb();
  return out;
}

/** `spread-checks <0..50>` (percent of random jitter on intervals), `max-spread-checks <time>`. */
export const spreadSettings: { pct: number; maxSpread?: number } = { pct: 0 };

/** An interval with the spread-checks jitter applied (+/- pct %). */
export function spreadInterval(ms: number): number {
  const p = spreadSettings.pct;
  if (!p) return ms;
  return Math.max(1, Math.round(ms + (ms * p * (Math.random() * 2 - 1)) / 100));
}
