// Sample fetches on internal state (configuration.txt 7.3.2): constants, process facts, dates,
// proxy and server load, and a few stream facts that are not tied to a layer.
import os from 'node:os';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { registerFetch, registerFetches } from '../registry.js';
import { smpBool, smpInt, smpStr, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';
import type { Proxy } from '../../proxy/proxy.js';
import type { Server } from '../../proxy/server.js';
import { readFrontendReqRate } from '../../util/freq-ctr.js';
import { argProxy, argServer, dateIn, optionalProxyArg, unitArgCheck, type TimeUnit } from './refs.js';
import './stream-state.js';

/** Wall-clock time in ms with sub-millisecond precision. */
function nowMs(): number { return performance.timeOrigin + performance.now(); }

/* ---------------------------------------------------------------- constants */

registerFetches({
  always_true: () => ({ t: 'bool', v: true }),
  always_false: () => ({ t: 'bool', v: false }),
});

registerFetch('bool', {
  check: (args) => {
    const a = args[0] as string;
    if (a === 'true' || a === '1') args[0] = true;
    else if (a === 'false' || a === '0') args[0] = false;
    else return `invalid boolean value '${a}' (expected 'true', 'false', '1' or '0')`;
    return undefined;
  },
  fn: (args) => (args[0] ? { t: 'bool', v: true } : { t: 'bool', v: false }),
});

registerFetch('int', { fn: (args) => ({ t: 'sint', v: args[0] }) });
registerFetch('str', { fn: (args) => ({ t: 'str', v: args[0] }) });
registerFetch('meth', { fn: (args) => ({ t: 'meth', v: args[0] }) });
registerFetch('ipv4', { fn: (args) => ({ t: 'ipv4', v: args[0] }) });
registerFetch('ipv6', { fn: (args) => ({ t: 'ipv6', v: Buffer.from(args[0] as Buffer) }) });
registerFetch('bin', {
  check: (args) => {
    const h = args[0] as string;
    if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) return `invalid hexadecimal string '${h}'`;
    args[0] = Buffer.from(h, 'hex');
    return undefined;
  },
  // a copy: the constant must survive whatever is done with the sample
  fn: (args) => ({ t: 'bin', v: Buffer.from(args[0] as Buffer) }),
});

/* ---------------------------------------------------------------- process */

const HOSTNAME = os.hostname();
const PROCESS_START = Date.now() - process.uptime() * 1000;

registerFetches({
  env: (args) => {
    const v = process.env[args[0] as string];
    return v === undefined ? undefined : smpStr(Buffer.from(v, 'utf8').toString('latin1'));
  },
  hostname: () => smpStr(HOSTNAME),
  nbproc: () => smpInt(1),
  proc: () => smpInt(1),
  pid: () => smpInt(process.pid),
  // one event loop per process: always the first thread
  thread: () => smpInt(0),
  uptime: (_a, ctx) => smpInt(Math.floor((Date.now() - (ctx.rt?.startedAt ?? PROCESS_START)) / 1000)),
  stopping: (_a, ctx) => smpBool(ctx.rt?.stopping === true),
  act_conn: (_a, ctx) => (ctx.rt ? smpInt(ctx.rt.curConns) : undefined),
  date_us: () => smpInt(Math.floor((nowMs() % 1000) * 1000)),
  // termination events are not traced here: HAProxy documents "-" for that case
  term_events: () => smpStr('-'),
});

registerFetch('date', {
  check: unitArgCheck(1),
  fn: (args) => {
    const unit = args[1] as TimeUnit | undefined;
    const base = dateIn(nowMs(), unit);
    const off = args[0] as number | bigint | undefined;
    if (off === undefined) return smpInt(base);
    return smpInt(typeof off === 'bigint' ? BigInt(base) + off : base + off);
  },
});

registerFetch('rand', {
  fn: (args) => {
    const r = args[0] as number | bigint | undefined;
    // a 32-bit random scaled to the range: floor(rand32 * range / 2^32)
    const rnd = Math.floor(Math.random() * 0x100000000);
    if (r === undefined) return smpInt(rnd);
    const range = BigInt.asUintN(32, BigInt(r));
    return smpInt(Number((BigInt(rnd) * range) >> 32n));
  },
});

function hex(b: Buffer, from: number, to: number): string { return b.toString('hex', from, to); }
function uuidText(b: Buffer): string {
  return `${hex(b, 0, 4)}-${hex(b, 4, 6)}-${hex(b, 6, 8)}-${hex(b, 8, 10)}-${hex(b, 10, 16)}`;
}

registerFetch('uuid', {
  check: (args) => {
    if (args.length === 0) return undefined;
    const v = Number(args[0]);
    if (v !== 4 && v !== 7) return `unsupported UUID version '${String(args[0])}' (only 4 and 7 are supported)`;
    args[0] = v;
    return undefined;
  },
  fn: (args) => {
    if (args[0] !== 7) return smpStr(crypto.randomUUID());
    // version 7: 48-bit Unix time in ms, then random bits; version and variant fields set
    const b = crypto.randomBytes(16);
    const ms = Date.now();
    b.writeUIntBE(ms, 0, 6);
    b[6] = 0x70 | (b[6]! & 0x0f);
    b[8] = 0x80 | (b[8]! & 0x3f);
    return smpStr(uuidText(b));
  },
});

/* ---------------------------------------------------------------- proxies and servers */

/** Whether a server takes traffic now: active ones, or backups when no active one is usable. */
function countsAsUsable(px: Proxy, s: Server, activeUp: boolean, firstBackup: Server | undefined): boolean {
  if (!s.usable()) return false;
  if (!s.backup) return true;
  if (activeUp) return false;
  // without "option allbackups" only the first usable backup takes traffic
  return px.cfg.options.allbackups || s === firstBackup;
}

/** Runs `f` on each server taking traffic now; stops when f returns false. */
function forUsable(px: Proxy, f: (s: Server) => boolean | void): void {
  let activeUp = false;
  let firstBackup: Server | undefined;
  for (const s of px.servers) {
    if (!s.usable()) continue;
    if (!s.backup) { activeUp = true; break; }
    firstBackup ??= s;
  }
  for (const s of px.servers) {
    if (countsAsUsable(px, s, activeUp, firstBackup) && f(s) === false) return;
  }
}

export function usableCount(px: Proxy): number {
  let n = 0;
  forUsable(px, () => { n++; });
  return n;
}

const beFetch = (f: (px: Proxy, ctx: SmpCtx) => Sample | undefined) => ({
  fn: (args: any[], ctx: SmpCtx) => { const px = argProxy(args, ctx, 'backend'); return px ? f(px, ctx) : undefined; },
});
const feFetch = (f: (px: Proxy) => Sample | undefined) => ({
  fn: (args: any[], ctx: SmpCtx) => { const px = argProxy(args, ctx, 'frontend'); return px ? f(px) : undefined; },
});
const srvFetch = (f: (s: Server) => Sample | undefined) => ({
  fn: (args: any[], ctx: SmpCtx) => { const s = argServer(args, ctx); return s ? f(s) : undefined; },
});

registerFetches({
  be_conn: beFetch((px) => smpInt(px.counters.cur)),
  be_sess_rate: beFetch((px) => smpInt(px.counters.sessRate.rate())),
  queue: beFetch((px) => smpInt(px.totalQueued())),
  nbsrv: beFetch((px) => smpInt(usableCount(px))),
  avg_queue: beFetch((px) => {
    const n = usableCount(px);
    const q = px.totalQueued();
    return smpInt(n > 0 ? Math.floor((q + n - 1) / n) : q * 2);
  }),
  be_conn_free: beFetch((px) => {
    let free = 0;
    forUsable(px, (s) => {
      if (!s.maxconn) { free = -1; return false; }
      const m = s.dynMaxconn();
      if (m > s.cur) free += m - s.cur;
      return true;
    });
    return smpInt(free);
  }),
  connslots: beFetch((px) => {
    let slots = 0;
    for (const s of px.servers) {
      if (!s.up || s.admin === 'maint') continue;
      if (!s.maxconn || !s.maxqueue) return smpInt(-1);
      slots += (s.maxconn - s.cur) + (s.maxqueue - s.queue.length);
    }
    return smpInt(slots);
  }),
  fe_conn: feFetch((px) => smpInt(px.feCounters.cur)),
  fe_sess_rate: feFetch((px) => smpInt(px.feCounters.sessRate.rate())),
  fe_req_rate: feFetch((px) => smpInt(readFrontendReqRate(px))),
  srv_conn: srvFetch((s) => smpInt(s.cur)),
  srv_conn_free: srvFetch((s) => {
    if (!s.maxconn) return smpInt(-1);
    const m = s.dynMaxconn();
    return smpInt(m > s.cur ? m - s.cur : 0);
  }),
  srv_is_up: srvFetch((s) => smpBool(s.up && s.admin !== 'maint')),
  srv_queue: srvFetch((s) => smpInt(s.queue.length)),
  srv_sess_rate: srvFetch((s) => smpInt(s.counters.sessRate.rate())),
  srv_weight: srvFetch((s) => smpInt(s.eweight)),
  srv_uweight: srvFetch((s) => smpInt(s.uweight)),
  srv_iweight: srvFetch((s) => smpInt(s.iweight)),
});
optionalProxyArg('backend', ['be_conn', 'be_sess_rate', 'queue', 'nbsrv', 'avg_queue', 'be_conn_free', 'connslots']);
optionalProxyArg('frontend', ['fe_conn', 'fe_sess_rate', 'fe_req_rate']);

/* ---------------------------------------------------------------- stream facts */

registerFetches({
  'txn.id32': (_a, ctx) => (ctx.txnId === undefined ? undefined : smpInt(ctx.txnId >>> 0)),
  prio_class: (_a, ctx) => (ctx.stream ? smpInt(ctx.stream.prioClass ?? 0) : undefined),
  prio_offset: (_a, ctx) => (ctx.stream ? smpInt(ctx.stream.prioOffset ?? 0) : undefined),
  last_rule_file: (_a, ctx) => { const r = ctx.stream?.lastRule; return r ? smpStr(r.file) : undefined; },
  last_rule_line: (_a, ctx) => { const r = ctx.stream?.lastRule; return r ? smpInt(r.line) : undefined; },
  last_entity: (_a, ctx) => {
    const st = ctx.stream;
    if (!st) return undefined;
    if (st.lastEntity !== undefined) return smpStr(st.lastEntity);
    return st.lastRule ? smpStr(`${st.lastRule.file}:${st.lastRule.line}`) : undefined;
  },
  waiting_entity: (_a, ctx) => { const w = ctx.stream?.waitingEntity; return w === undefined ? undefined : smpStr(w); },
  wait_end: (_a, ctx) => {
    if (ctx.final) return { t: 'bool', v: true };
    ctx.wantMore = true;
    return undefined;
  },
});
