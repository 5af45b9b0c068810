// The running process: proxies and listeners built from a Config, connection limits,
// soft/hard stop, listener pause/resume. One instance per process.
import { RateCounter } from './counters.js';
import { setupLogging, sendLog } from '../log/emit.js';
import { dashboardConfigured, startDashboardSampler, stopDashboardSampler } from '../ops/dashboard-sampler.js';
import { LOG_WARNING } from '../log/syslog.js';
import { startBackendChecks } from '../checks/health.js';
import { sessionSource } from '../checks/observe.js';
import { linkTracks } from '../checks/track.js';
import { setupResolvers, startResolvers, stopResolvers } from '../dns/resolver.js';
import net from 'node:net';
import fs from 'node:fs';
import type { Config, GlobalConfig, BindConfig } from '../config/model.js';
import { Proxy } from './proxy.js';
import { Counters } from './counters.js';
import { listenOn, describeAddress } from '../net/listener.js';
import { TcpStream } from '../stream/tcp-stream.js';
import { HttpStream } from '../stream/http-stream.js';

/** A client connection being served, whatever its mode. */
export type Session = TcpStream | HttpStream;
import { logAlert, logWarning, logNotice } from '../cli/messages.js';
import { applyListenerOptions, applyClientSocketOptions } from '../net/sockopt.js';
import { acceptWithOnread, type Sock } from '../net/read-buffers.js';

/** Sockets accepted but over a connection limit wait here, unread, like in a listen backlog. */
const MAX_HELD_PER_LISTENER = 10_000;

export class BindListener {
  readonly proxy: Proxy;
  readonly cfg: BindConfig;
  readonly id: number;
  readonly name: string;
  readonly counters = new Counters();
  server: net.Server | undefined;
  cur = 0;
  maxconn: number;
  held: Sock[] = [];
  state: 'ready' | 'paused' | 'stopped' | 'full' = 'stopped';

  constructor(proxy: Proxy, cfg: BindConfig, id: number) {
    this.proxy = proxy;
    this.cfg = cfg;
    this.id = cfg.id ?? id;
    this.name = cfg.name ?? `sock-${this.id}`;
    this.maxconn = cfg.maxconn;
  }

  get address(): string { return describeAddress(this.cfg.address); }
}

export class Runtime {
  readonly config: Config;
  readonly global: GlobalConfig;
  readonly proxies: Proxy[] = [];
  readonly listeners: BindListener[] = [];
  readonly streams = new Set<Session>();
  readonly startedAt = Date.now();
  curConns = 0;
  cumConns = 0;
  maxconn: number;
  maxConnReached = 0;
  stopping = false;
  paused = false;
  heldTotal = 0;
  debugMode = false;
  /** called once everything is stopped (soft stop done, or hard stop) */
  onExit: (code: number) => void = (code) => process.exit(code);
  private stopHooks: (() => void | Promise<void>)[] = [];

  constructor(config: Config, opts: { maxconnOverride?: number; debug?: boolean } = {}) {
    this.config = config;
    this.global = config.global;
    this.debugMode = opts.debug ?? false;
    this.maxconn = opts.maxconnOverride ?? (config.global.maxconn || defaultMaxconn());
    this.connRateLimit = config.global.maxConnRate ?? 0;
    this.sessRateLimit = config.global.maxSessRate ?? 0;
    for (const pc of config.proxies) this.proxies.push(new Proxy(pc, this.maxconn));
    const byName = new Map<string, Proxy>();
    for (const p of this.proxies) if (p.isBackend) byName.set(p.name, p);
    for (const p of this.proxies) {
      if (p.isFrontend && !p.isBackend && p.cfg.defaultBackend) p.defaultBackend = byName.get(p.cfg.defaultBackend.name);
      if (p.isFrontend && p.isBackend) p.defaultBackend = p;
    }
    // automatic fullconn: 10% of the sum of maxconns of frontends reaching each backend
    for (const p of this.proxies) {
      if (!p.isFrontend) continue;
      const be = p.isBackend ? p : p.defaultBackend;
      if (be) be.feMaxconnSum += p.maxconn;
    }
    // loggers (src/log/): before anything may log
    const stopLogs = setupLogging(config, this.proxies);
    this.addStopHook(stopLogs);
    for (const p of this.proxies) p.initBalancer();
    // active health checks (src/checks/): started with the runtime, stopped with the proxies
    for (const p of this.proxies) if (p.isBackend) startBackendChecks(p, this.global.node);
    linkTracks(this.proxies);
    // on-marked-down / on-marked-up: the check module ends the streams of a server
    sessionSource.each = (f) => { for (const st of this.streams) f(st); };
    // run-time name resolution (src/dns/): servers without a start-up address wait in maintenance
    const resolvers = setupResolvers(config, this.proxies);
    void startResolvers(resolvers);
    this.addStopHook(() => stopResolvers(resolvers));
    // the dashboard's history starts with the process when one is configured
    if (dashboardConfigured(this)) {
      startDashboardSampler(this);
      this.addStopHook(() => stopDashboardSampler(this));
    }
    let lid = 0;
    for (const p of this.proxies) {
      if (!p.isFrontend) continue;
      lid = 0;
      for (const b of p.cfg.binds) this.listeners.push(new BindListener(p, b, ++lid));
    }
  }

  findProxy(name: string, want: 'frontend' | 'backend' | 'any' = 'any'): Proxy | undefined {
    const byId = /^#\d+$/.test(name) ? Number(name.slice(1)) : undefined;
    return this.proxies.find((p) =>
      (byId !== undefined ? p.id === byId : p.name === name) &&
      (want === 'any' || (want === 'frontend' ? p.isFrontend : p.isBackend)));
  }

  addStopHook(fn: () => void | Promise<void>): void { this.stopHooks.push(fn); }

  /** Binds every listener of every enabled frontend. Throws with HAProxy-like messages. */
  async bindAll(): Promise<void> {
    const errors: string[] = [];
    for (const l of this.listeners) {
      if (l.proxy.stopped) continue;
      try {
        await this.bindListener(l);
      } catch (e) {
        errors.push(`Starting ${l.proxy.cfg.kind === 'listen' ? 'proxy' : 'frontend'} ${l.proxy.name}: ${(e as Error).message}`);
      }
    }
    if (errors.length) {
      for (const l of this.listeners) l.server?.close();
      throw new Error(errors.join('\n'));
    }
  }

  private async bindListener(l: BindListener): Promise<void> {
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    srv.on('connection', (sock) => this.accept(l, sock));
    await listenOn(srv, {
      address: l.cfg.address,
      backlog: l.cfg.backlog || l.proxy.cfg.backlog || undefined,
      v6only: l.cfg.v6only,
      mode: l.cfg.mode, uid: l.cfg.uid, gid: l.cfg.gid,
    });
    for (const w of applyListenerOptions(srv, {
      deferAccept: l.cfg.deferAccept, tfo: l.cfg.tfo, iface: l.cfg.interface, mss: l.cfg.mss,
      backlog: l.cfg.backlog || l.proxy.cfg.backlog || l.proxy.maxconn || undefined,
    })) logWarning(`Starting ${l.proxy.cfg.kind === 'listen' ? 'proxy' : 'frontend'} ${l.proxy.name}: ${w} [${describeAddress(l.cfg.address)}]`);
    srv.on('error', (e) => logAlert(`listener ${l.proxy.name}/${l.name}: ${e.message}`));
    acceptWithOnread(srv, (e) => logAlert(`listener ${l.proxy.name}/${l.name}: ${e.message}`));
    l.server = srv;
    l.state = 'ready';
  }

  /** The local port a listener got (for tests binding port 0 through fd@ or ranges). */
  boundPort(l: BindListener): number | undefined {
    const a = l.server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  private canAccept(l: BindListener): boolean {
    if (this.curConns >= this.maxconn) return false;
    const p = l.proxy;
    if (p.maxconn && p.feCounters.cur >= p.maxconn) return false;
    if (l.maxconn && l.cur >= l.maxconn) return false;
    // rate limits: global maxconnrate / maxsessrate, a frontend's rate-limit sessions
    if (this.connRateLimit || this.sessRateLimit || p.rateLimitSessions) {
      const now = Date.now();
      const cr = this.connRateLimit && this.connRate.rate(now) >= this.connRateLimit;
      const sr = this.sessRateLimit && this.connRate.rate(now) >= this.sessRateLimit;
      const pr = p.rateLimitSessions && p.feCounters.sessRate.rate(now) >= p.rateLimitSessions;
      if (cr || sr || pr) { this.wakeOnRate(); return false; }
    }
    return true;
  }

  /** accepted connections over the last second (maxconnrate / maxsessrate, show info ConnRate) */
  readonly connRate = new RateCounter();
  /** global maxconnrate / maxsessrate, settable with `set rate-limit ... global` (0: none) */
  connRateLimit = 0;
  sessRateLimit = 0;
  private rateTimer: NodeJS.Timeout | undefined;

  /** Held connections are looked at again once a rate limit may allow more (every 20 ms). */
  private wakeOnRate(): void {
    if (this.rateTimer) return;
    this.rateTimer = setTimeout(() => { this.rateTimer = undefined; this.wakeHeld(); }, 20);
    this.rateTimer.unref();
  }

  accept(l: BindListener, sock: Sock): void {
    sock.on('error', () => { /* handled by the stream once it starts */ });
    if (l.cfg.mss !== undefined && l.cfg.mss < 0) applyClientSocketOptions(sock, { mss: l.cfg.mss });
    if (this.stopping && l.state !== 'ready') { sock.destroy(); return; }
    if (!this.canAccept(l) || l.held.length) {
      if (l.held.length >= MAX_HELD_PER_LISTENER) { sock.destroy(); l.counters.deniedConn++; return; }
      l.held.push(sock);
      this.heldTotal++;
      if (this.curConns >= this.maxconn) this.maxConnReached++;
      sock.once('close', () => {
        const i = l.held.indexOf(sock);
        if (i >= 0) { l.held.splice(i, 1); this.heldTotal--; }
      });
      return;
    }
    this.startSession(l, sock);
  }

  private startSession(l: BindListener, sock: Sock): void {
    if (this.connRateLimit || this.sessRateLimit || l.proxy.rateLimitSessions) this.connRate.hit();
    this.curConns++;
    this.cumConns++;
    l.cur++;
    l.counters.enter();
    l.proxy.feCounters.enter();
    // a TCP frontend's stream becomes an HttpStream when it upgrades (switch-mode http, or
    // content switching choosing an HTTP backend, default_backend included): sessionUpgraded
    const st = l.proxy.mode === 'http' ? new HttpStream(this, l, sock) : new TcpStream(this, l, sock);
    this.streams.add(st);
    st.start();
  }

  /**
   * A TCP stream handed its client connection over to an HTTP stream (upgrade): the same
   * session, counted once; only the stream object changes.
   */
  sessionUpgraded(from: Session, to: Session): void {
    if (this.streams.delete(from)) this.streams.add(to);
  }

  sessionEnded(st: Session): void {
    if (!this.streams.delete(st)) return;
    this.curConns--;
    st.listener.cur--;
    st.listener.counters.leave();
    st.fe.feCounters.leave();
    if (this.heldTotal) this.wakeHeld();
    if (this.stopping && this.streams.size === 0) this.finalExit();
  }

  /** Accepts held connections while limits allow, oldest listener queue first. */
  wakeHeld(): void {
    for (const l of this.listeners) {
      while (l.held.length && this.canAccept(l) && l.state === 'ready') {
        const s = l.held.shift()!;
        this.heldTotal--;
        if (s.destroyed) continue;
        this.startSession(l, s);
      }
    }
  }

  /** Stops one listener accepting (runtime API `disable frontend`); false when it was not ready. */
  pauseListener(l: BindListener): boolean {
    if (l.state !== 'ready' && l.state !== 'full') return false;
    l.server?.close();
    l.server = undefined;
    l.state = 'paused';
    return true;
  }

  /** Binds a paused listener again (runtime API `enable frontend`). Throws when it cannot bind. */
  async resumeListener(l: BindListener): Promise<void> {
    if (l.state !== 'paused' || this.stopping) return;
    await this.bindListener(l);
    this.wakeHeld();
  }

  /** Closes one listener for good (runtime API `shutdown frontend`); its held sockets are dropped. */
  stopListener(l: BindListener): void {
    l.server?.close();
    l.server = undefined;
    l.state = 'stopped';
    for (const s of l.held) s.destroy();
    this.heldTotal -= l.held.length;
    l.held = [];
  }

  /** SIGTTOU: stop listening so that another process can bind the same addresses. */
  pauseListeners(): void {
    this.paused = true;
    for (const l of this.listeners) {
      if (l.state !== 'ready') continue;
      l.server?.close();
      l.server = undefined;
      l.state = 'paused';
    }
    logNotice('Paused all listeners.');
  }

  /** SIGTTIN: listen again after a pause. */
  async resumeListeners(): Promise<void> {
    if (!this.paused || this.stopping) return;
    this.paused = false;
    for (const l of this.listeners) {
      if (l.state !== 'paused') continue;
      try { await this.bindListener(l); } catch (e) { logWarning(`Failed to resume ${l.proxy.name}/${l.name}: ${(e as Error).message}`); }
    }
    logNotice('Resumed all listeners.');
  }

  /** SIGUSR1: stop accepting, let active sessions finish, then exit. */
  softStop(): void {
    if (this.stopping) return;
    const grace = this.global.grace;
    const stopListening = (): void => {
      this.stopping = true;
      for (const l of this.listeners) this.stopListener(l);
      for (const p of this.proxies) {
        p.stopped = true;
        const msg = `Proxy ${p.name} stopped (cumulated conns: FE: ${p.feCounters.cumConns}, BE: ${p.counters.cumConns}).`;
        if (p.isFrontend) logWarning(msg);
        // every proxy says it in its logs, at warning level (as HAProxy 2.6 does)
        sendLog(p, LOG_WARNING, msg);
      }
      void this.runStopHooks();
      if (this.global.hardStopAfter !== undefined) {
        setTimeout(() => { logWarning('Some tasks resisted to hard-stop, exiting now.'); this.hardStop(); }, this.global.hardStopAfter).unref();
      }
      if (this.streams.size === 0) this.finalExit();
    };
    if (grace > 0) setTimeout(stopListening, grace);
    else stopListening();
  }

  /** SIGTERM/SIGINT: close everything now. */
  hardStop(): void {
    this.stopping = true;
    for (const l of this.listeners) { l.server?.close(); l.server = undefined; l.state = 'stopped'; for (const s of l.held) s.destroy(); l.held = []; }
    for (const st of [...this.streams]) st.terminate('K', 'D');
    void this.runStopHooks().then(() => this.finalExit());
  }

  private stopHooksRun: Promise<void> | undefined;
  /** Runs the stop hooks once; later calls wait for the same run. */
  private runStopHooks(): Promise<void> {
    this.stopHooksRun ??= (async () => {
      for (const h of this.stopHooks) { try { await h(); } catch { /* ignore */ } }
    })();
    return this.stopHooksRun;
  }

  private exited = false;
  private finalExit(): void {
    if (this.exited) return;
    this.exited = true;
    void this.runStopHooks().then(() => {
      for (const p of this.proxies) p.dispose();
      this.onExit(0);
    });
  }

  internalError(e: unknown): void {
    logAlert(`internal error, stream aborted: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }

  debug(msg: string): void {
    if (this.debugMode) process.stderr.write(`${msg}\n`);
  }
}

/** Automatic maxconn from the file descriptor limit, as HAProxy computes it when unset. */
export function defaultMaxconn(): number {
  let limit = 1024;
  try {
    const txt = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(txt);
    if (m) {
      const soft = m[1] === 'unlimited' ? 1048576 : Number(m[1]);
      const hard = m[2] === 'unlimited' ? 1048576 : Number(m[2]);
      limit = Math.min(Math.max(soft, hard), 1048576);
    }
  } catch { /* not Linux */ }
  return Math.max(1, Math.floor((limit - 100) / 2));
}
