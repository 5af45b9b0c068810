// The live dashboard's history (haproxy-ts extension, `stats dashboard-uri`): once per interval
// (1 s), per frontend, backend and server, the request rate and error rate (from the deltas of
// the counters), the average response and total times of the transactions that ended during
// the interval (from the cumulative sums of the timing averages), the current sessions and the
// state. The last `window` samples (300: 5 minutes) are kept in fixed-size ring buffers.
//
// Requests are HTTP requests (req_tot) in HTTP mode, connections (stot) in TCP mode. Errors:
// frontends: 5xx responses + invalid requests (ereq); backends and servers: 5xx responses +
// connection errors (econ) + response errors (eresp). Frontends have no timing counters.
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import type { Counters } from '../proxy/counters.js';
import { serverStatus } from './stats-fields.js';

export const DASH_WINDOW = 300;
export const DASH_INTERVAL_MS = 1000;

/**
 * Fixed-size ring of numbers (NaN = no value); oldest first when read. The series use 32-bit
 * floats (read back rounded to 2 decimals): 5 series x 300 samples = 6 KB per object.
 */
export class Ring {
  private readonly buf: Float64Array | Float32Array;
  private head = 0;
  private len = 0;
  constructor(readonly size: number, private readonly f32 = false) { this.buf = f32 ? new Float32Array(size) : new Float64Array(size); }
  push(v: number): void {
    this.buf[(this.head + this.len) % this.size] = v;
    if (this.len < this.size) this.len++;
    else this.head = (this.head + 1) % this.size;
  }
  get length(): number { return this.len; }
  /** The values from index `from` (0 = oldest kept) to the newest; NaN becomes null. */
  toArray(from = 0): (number | null)[] {
    const out: (number | null)[] = [];
    for (let i = Math.max(0, from); i < this.len; i++) {
      const v = this.buf[(this.head + i) % this.size]!;
      out.push(Number.isNaN(v) ? null : this.f32 ? Math.round(v * 100) / 100 : v);
    }
    return out;
  }
  last(): number | undefined { return this.len ? this.buf[(this.head + this.len - 1) % this.size] : undefined; }
}

export type DashKind = 'frontend' | 'backend' | 'server';

/** Cumulative counter values read at one sample. */
interface Snapshot { req: number; err: number; rtSum: number; rtN: number; ttSum: number; ttN: number }

export interface DashSeries {
  key: string;
  kind: DashKind;
  proxy: Proxy;
  server?: Server;
  req: Ring;
  err: Ring;
  /** average response time (ms) of the transactions ended in the interval (NaN: none) */
  rt: Ring;
  /** average total time (ms) */
  tt: Ring;
  cur: Ring;
  prev?: Snapshot;
  seen: number;
}

function snapshot(c: Counters, kind: DashKind, http: boolean): Snapshot {
  const req = http ? c.reqTotal : c.cumConns;
  const err = c.hrsp[5]! + (kind === 'frontend' ? c.failedReq : c.failedConns + c.failedResp);
  return { req, err, rtSum: c.rTime.total, rtN: c.rTime.count, ttSum: c.tTime.total, ttN: c.tTime.count };
}

/** A non-negative delta; a counter that went back (`clear counters all`) restarts from its value. */
function delta(now: number, before: number): number {
  return now >= before ? now - before : now;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** One object's values for an interval of `sec` seconds (exported for the unit tests). */
export function intervalValues(prev: Snapshot | undefined, cur: Snapshot, sec: number): { req: number; err: number; rt: number; tt: number } {
  if (!prev || sec <= 0) return { req: NaN, err: NaN, rt: NaN, tt: NaN };
  const reset = cur.rtN < prev.rtN || cur.ttN < prev.ttN;
  const rtN = reset ? cur.rtN : cur.rtN - prev.rtN;
  const ttN = reset ? cur.ttN : cur.ttN - prev.ttN;
  const rtS = reset ? cur.rtSum : cur.rtSum - prev.rtSum;
  const ttS = reset ? cur.ttSum : cur.ttSum - prev.ttSum;
  return {
    req: round2(delta(cur.req, prev.req) / sec),
    err: round2(delta(cur.err, prev.err) / sec),
    rt: rtN > 0 ? round2(rtS / rtN) : NaN,
    tt: ttN > 0 ? round2(ttS / ttN) : NaN,
  };
}

export class DashboardSampler {
  readonly times: Ring;
  private readonly byObj = new Map<Proxy | Server, DashSeries>();
  private readonly feSeries = new Map<Proxy, DashSeries>();
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private samples = 0;

  constructor(readonly rt: Pick<Runtime, 'proxies'>, readonly window = DASH_WINDOW, readonly intervalMs = DASH_INTERVAL_MS) {
    this.times = new Ring(window);
  }

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => { try { this.sample(); } catch { /* never take the process down */ } }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean { return this.timer !== undefined; }

  private series(map: Map<Proxy | Server, DashSeries>, obj: Proxy | Server, kind: DashKind, proxy: Proxy, server?: Server): DashSeries {
    let s = map.get(obj);
    if (!s) {
      const w = this.window;
      s = {
        key: kind === 'server' ? `s/${proxy.name}/${server!.name}` : `${kind === 'frontend' ? 'f' : 'b'}/${proxy.name}`,
        kind, proxy, server, req: new Ring(w, true), err: new Ring(w, true), rt: new Ring(w, true), tt: new Ring(w, true), cur: new Ring(w, true), seen: 0,
      };
      // aligned with the time axis (the current sample's time is already pushed): the samples
      // taken before the object existed are empty
      for (let i = 0; i < this.times.length - 1; i++) { s.req.push(NaN); s.err.push(NaN); s.rt.push(NaN); s.tt.push(NaN); s.cur.push(NaN); }
      map.set(obj, s);
    }
    s.seen = this.samples;
    return s;
  }

  /** Takes one sample (the timer calls it every interval; tests call it directly). */
  sample(now = Date.now()): void {
    const sec = this.lastAt ? (now - this.lastAt) / 1000 : 0;
    this.lastAt = now;
    this.samples++;
    this.times.push(now);
    const rec = (s: DashSeries, c: Counters, http: boolean, cur: number): void => {
      const snap = snapshot(c, s.kind, http);
      const v = intervalValues(s.prev, snap, sec);
      s.prev = snap;
      s.req.push(v.req); s.err.push(v.err); s.rt.push(v.rt); s.tt.push(v.tt); s.cur.push(cur);
    };
    for (const p of this.rt.proxies) {
      const http = p.mode === 'http';
      if (p.isFrontend) rec(this.series(this.feSeries, p, 'frontend', p), p.feCounters, http, p.feCounters.cur);
      if (p.isBackend) {
        rec(this.series(this.byObj, p, 'backend', p), p.counters, http, p.counters.cur);
        for (const srv of p.servers) rec(this.series(this.byObj, srv, 'server', p, srv), srv.counters, http, srv.counters.cur);
      }
    }
    // servers deleted at run time are forgotten
    for (const [k, s] of this.byObj) if (s.seen !== this.samples) this.byObj.delete(k);
  }

  /** Every series in display order: frontends, then each backend followed by its servers. */
  all(): DashSeries[] {
    return [...this.feSeries.values(), ...this.byObj.values()];
  }
}

const samplers = new WeakMap<object, DashboardSampler>();

/** Starts (once) the dashboard sampler of a runtime; the runtime may call it at start-up. */
export function startDashboardSampler(rt: Runtime): DashboardSampler {
  let s = samplers.get(rt);
  if (!s) { s = new DashboardSampler(rt); samplers.set(rt, s); }
  s.start();
  return s;
}

export function stopDashboardSampler(rt: Runtime): void {
  samplers.get(rt)?.stop();
}

/** Whether any proxy of the configuration has a dashboard (the runtime's start-up check). */
export function dashboardConfigured(rt: Runtime): boolean {
  return rt.proxies.some((p) => p.cfg.options.statsPage?.enabled && p.cfg.options.statsPage.dashboard !== undefined);
}

// ---- JSON -----------------------------------------------------------------------------------

export interface DashJsonObject {
  key: string;
  kind: DashKind;
  proxy: string;
  server?: string;
  mode: string;
  /** OPEN/STOP (frontend), UP/DOWN (backend), the stats status column (server) */
  status: string;
  /** server admin state */
  admin?: string;
  weight?: string;
  backup?: boolean;
  req: (number | null)[];
  err: (number | null)[];
  rt?: (number | null)[];
  tt?: (number | null)[];
  cur: (number | null)[];
}

export interface DashJson {
  now: number;
  interval: number;
  window: number;
  admin: boolean;
  /** true when the series start at the oldest sample kept (else they follow `since`) */
  full: boolean;
  times: number[];
  objects: DashJsonObject[];
}

function statusOf(s: DashSeries): string {
  if (s.kind === 'server') return serverStatus(s.server!);
  if (s.kind === 'frontend') return s.proxy.stopped ? 'STOP' : 'OPEN';
  return s.proxy.servers.length > 0 && s.proxy.usableServers() === 0 ? 'DOWN' : 'UP';
}

/**
 * The series as the page reads them. `since` (a sample time) limits them to the newer samples;
 * `inScope` filters the proxies shown.
 */
export function dashboardJson(sampler: DashboardSampler, opts: { admin: boolean; since?: number; inScope?: (p: Proxy) => boolean }): DashJson {
  const times = sampler.times.toArray() as number[];
  let from = 0;
  let full = true;
  if (opts.since !== undefined && times.length && opts.since >= times[0]!) {
    from = times.findIndex((t) => t > opts.since!);
    if (from < 0) from = times.length;
    full = false;
  }
  const objects: DashJsonObject[] = [];
  for (const s of sampler.all()) {
    if (opts.inScope && !opts.inScope(s.proxy)) continue;
    const o: DashJsonObject = {
      key: s.key, kind: s.kind, proxy: s.proxy.name, mode: s.proxy.mode, status: statusOf(s),
      req: s.req.toArray(from), err: s.err.toArray(from), cur: s.cur.toArray(from),
    };
    if (s.kind !== 'frontend') { o.rt = s.rt.toArray(from); o.tt = s.tt.toArray(from); }
    if (s.server) {
      o.server = s.server.name;
      o.admin = s.server.admin;
      o.weight = `${s.server.eweight}/${s.server.uweight}`;
      o.backup = !!s.server.backup;
    }
    objects.push(o);
  }
  return {
    now: Date.now(), interval: sampler.intervalMs / 1000, window: sampler.window, admin: opts.admin, full,
    times: times.slice(from), objects,
  };
}
