// Output formats of the runtime API: `show info` (plain, typed, json, with descriptions),
// `show servers state`, weights (management.txt 9.2 and 9.3).
import { logGlobals } from '../log/syslog.js';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import { HAPROXY_VERSION, TS_VERSION, RELEASE_DATE, hasFeature } from '../cli/version.js';
import { cliState } from './cli-state.js';
import { strtol } from './cli-parse.js';

/** The version string the process reports (`show version`, `show info`). */
export function processVersion(): string {
  return `${HAPROXY_VERSION}-ts${TS_VERSION}`;
}

/** "<d>d <h>h<mm>m<ss>s" */
export function formatUptime(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const d = Math.floor(s / 86400);
  const h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  return `${d}d ${h}h${String(m).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

/** "d:hh:mm:ss" as shown in the timed prompt. */
export function formatPromptUptime(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 86400)}:${p2(Math.floor(s / 3600) % 24)}:${p2(Math.floor(s / 60) % 60)}:${p2(s % 60)}`;
}

// ---- show info ---------------------------------------------------------------------------

export type FieldType = 'str' | 's32' | 'u32' | 's64' | 'u64' | 'flt';

/** One `show info` field: its fixed position, name, tags (origin, nature, scope) and type. */
export interface InfoField {
  pos: number;
  name: string;
  tags: string;
  type: FieldType;
  desc: string;
  /** present only in builds with this feature */
  feature?: string;
}

// Positions are stable across versions; fields of features that are not built leave holes.
export const INFO_FIELDS: readonly InfoField[] = [
  { pos: 0, name: 'Name', tags: 'POS', type: 'str', desc: 'Product name' },
  { pos: 1, name: 'Version', tags: 'POS', type: 'str', desc: 'Product version' },
  { pos: 2, name: 'Release_date', tags: 'POS', type: 'str', desc: 'Release date of this version' },
  { pos: 3, name: 'Nbthread', tags: 'CGS', type: 'u32', desc: 'Number of threads (one event loop here)' },
  { pos: 4, name: 'Nbproc', tags: 'CGS', type: 'u32', desc: 'Number of worker processes (always 1)' },
  { pos: 5, name: 'Process_num', tags: 'KGP', type: 'u32', desc: 'Relative number of this worker (1)' },
  { pos: 6, name: 'Pid', tags: 'SGP', type: 'u32', desc: 'System process id of this worker' },
  { pos: 7, name: 'Uptime', tags: 'MDP', type: 'str', desc: 'Time since this worker started (days, hours, minutes, seconds)' },
  { pos: 8, name: 'Uptime_sec', tags: 'MDP', type: 'u32', desc: 'Time since this worker started, in seconds' },
  { pos: 9, name: 'Memmax_MB', tags: 'CLP', type: 'u32', desc: 'Memory limit in MB (0: none)' },
  { pos: 10, name: 'PoolAlloc_MB', tags: 'MGP', type: 'u32', desc: 'Memory allocated by the heap, in MB' },
  { pos: 11, name: 'PoolUsed_MB', tags: 'MGP', type: 'u32', desc: 'Heap memory in use, in MB' },
  { pos: 12, name: 'PoolFailed', tags: 'MCP', type: 'u32', desc: 'Failed memory allocations' },
  { pos: 13, name: 'Ulimit-n', tags: 'CLP', type: 'u32', desc: 'Limit on open file descriptors' },
  { pos: 14, name: 'Maxsock', tags: 'CLP', type: 'u32', desc: 'Limit on open sockets' },
  { pos: 15, name: 'Maxconn', tags: 'CLP', type: 'u32', desc: 'Current limit on concurrent connections' },
  { pos: 16, name: 'Hard_maxconn', tags: 'CLP', type: 'u32', desc: 'Upper bound for Maxconn' },
  { pos: 17, name: 'CurrConns', tags: 'MGP', type: 'u32', desc: 'Connections being served by proxies' },
  { pos: 18, name: 'CumConns', tags: 'MCP', type: 'u32', desc: 'Connections accepted since start' },
  { pos: 19, name: 'CumReq', tags: 'MCP', type: 'u32', desc: 'Requests (streams) processed since start' },
  { pos: 20, name: 'MaxSslConns', tags: 'MMP', type: 'u32', desc: 'Limit on SSL connections (0: none)', feature: 'OPENSSL' },
  { pos: 21, name: 'CurrSslConns', tags: 'MGP', type: 'u32', desc: 'Current SSL connections', feature: 'OPENSSL' },
  { pos: 22, name: 'CumSslConns', tags: 'MCP', type: 'u32', desc: 'SSL connections since start', feature: 'OPENSSL' },
  { pos: 23, name: 'Maxpipes', tags: 'CLP', type: 'u32', desc: 'Limit on splicing pipes' },
  { pos: 24, name: 'PipesUsed', tags: 'MGP', type: 'u32', desc: 'Pipes in use' },
  { pos: 25, name: 'PipesFree', tags: 'MGP', type: 'u32', desc: 'Pipes allocated and free' },
  { pos: 26, name: 'ConnRate', tags: 'MRP', type: 'u32', desc: 'Connections accepted over the last second' },
  { pos: 27, name: 'ConnRateLimit', tags: 'CLP', type: 'u32', desc: 'Limit on ConnRate (0: none)' },
  { pos: 28, name: 'MaxConnRate', tags: 'MMP', type: 'u32', desc: 'Highest ConnRate seen' },
  { pos: 29, name: 'SessRate', tags: 'MRP', type: 'u32', desc: 'Sessions created over the last second' },
  { pos: 30, name: 'SessRateLimit', tags: 'CLP', type: 'u32', desc: 'Limit on SessRate (0: none)' },
  { pos: 31, name: 'MaxSessRate', tags: 'MRP', type: 'u32', desc: 'Highest SessRate seen' },
  { pos: 32, name: 'SslRate', tags: 'MRP', type: 'u32', desc: 'SSL sessions over the last second', feature: 'OPENSSL' },
  { pos: 33, name: 'SslRateLimit', tags: 'CLP', type: 'u32', desc: 'Limit on SslRate', feature: 'OPENSSL' },
  { pos: 34, name: 'MaxSslRate', tags: 'MMP', type: 'u32', desc: 'Highest SslRate seen', feature: 'OPENSSL' },
  { pos: 35, name: 'SslFrontendKeyRate', tags: 'MGP', type: 'u32', desc: 'Frontend SSL keys computed over the last second', feature: 'OPENSSL' },
  { pos: 36, name: 'SslFrontendMaxKeyRate', tags: 'MMP', type: 'u32', desc: 'Highest SslFrontendKeyRate seen', feature: 'OPENSSL' },
  { pos: 37, name: 'SslFrontendSessionReuse_pct', tags: 'MGP', type: 'u32', desc: 'Percentage of frontend SSL sessions reused', feature: 'OPENSSL' },
  { pos: 38, name: 'SslBackendKeyRate', tags: 'MRP', type: 'u32', desc: 'Backend SSL keys computed over the last second', feature: 'OPENSSL' },
  { pos: 39, name: 'SslBackendMaxKeyRate', tags: 'MMP', type: 'u32', desc: 'Highest SslBackendKeyRate seen', feature: 'OPENSSL' },
  { pos: 40, name: 'SslCacheLookups', tags: 'MCP', type: 'u32', desc: 'SSL session cache lookups', feature: 'OPENSSL' },
  { pos: 41, name: 'SslCacheMisses', tags: 'MCP', type: 'u32', desc: 'SSL session cache misses', feature: 'OPENSSL' },
  { pos: 42, name: 'CompressBpsIn', tags: 'MRP', type: 'u32', desc: 'Bytes fed to the compressor over the last second' },
  { pos: 43, name: 'CompressBpsOut', tags: 'MRP', type: 'u32', desc: 'Bytes produced by the compressor over the last second' },
  { pos: 44, name: 'CompressBpsRateLim', tags: 'CLP', type: 'u32', desc: 'Limit on CompressBpsOut (0: none)' },
  { pos: 45, name: 'ZlibMemUsage', tags: 'MGP', type: 'u32', desc: 'Memory used by zlib', feature: 'ZLIB' },
  { pos: 46, name: 'MaxZlibMemUsage', tags: 'CLP', type: 'u32', desc: 'Limit on zlib memory', feature: 'ZLIB' },
  { pos: 47, name: 'Tasks', tags: 'MGP', type: 'u32', desc: 'Active tasks (sessions and listeners)' },
  { pos: 48, name: 'Run_queue', tags: 'MGP', type: 'u32', desc: 'Tasks waiting to run' },
  { pos: 49, name: 'Idle_pct', tags: 'MaP', type: 'u32', desc: 'Share of recent time the event loop was idle' },
  { pos: 50, name: 'node', tags: 'COS', type: 'str', desc: 'Node name (global node)' },
  { pos: 51, name: 'description', tags: 'COS', type: 'str', desc: 'Node description (global description)' },
  { pos: 52, name: 'Stopping', tags: 'MGP', type: 'u32', desc: '1 while the process is stopping' },
  { pos: 53, name: 'Jobs', tags: 'MGP', type: 'u32', desc: 'Listeners plus connections in progress' },
  { pos: 54, name: 'Unstoppable Jobs', tags: 'MGP', type: 'u32', desc: 'Jobs that a stop does not wait for' },
  { pos: 55, name: 'Listeners', tags: 'MGP', type: 'u32', desc: 'Listening sockets' },
  { pos: 56, name: 'ActivePeers', tags: 'MGP', type: 'u32', desc: 'Active peer connections' },
  { pos: 57, name: 'ConnectedPeers', tags: 'MGP', type: 'u32', desc: 'Connected peers' },
  { pos: 58, name: 'DroppedLogs', tags: 'MGP', type: 'u32', desc: 'Log messages dropped' },
  { pos: 59, name: 'BusyPolling', tags: 'MGP', type: 'u32', desc: '1 when busy polling is on' },
  { pos: 60, name: 'FailedResolutions', tags: 'MGP', type: 'u32', desc: 'Failed DNS resolutions' },
  { pos: 61, name: 'TotalBytesOut', tags: 'MGP', type: 'u64', desc: 'Bytes sent since start' },
  { pos: 62, name: 'TotalSplicedBytesOut', tags: 'MGP', type: 'u64', desc: 'Bytes sent through kernel pipes since start' },
  { pos: 63, name: 'BytesOutRate', tags: 'MRP', type: 'u64', desc: 'Bytes sent over the last second' },
  { pos: 64, name: 'DebugCommandsIssued', tags: 'MGP', type: 'u32', desc: 'Debug commands run (non-zero is unsafe)' },
  { pos: 65, name: 'CumRecvLogs', tags: 'MCP', type: 'u32', desc: 'Log messages received by log forwarders' },
  { pos: 66, name: 'Build info', tags: 'POS', type: 'str', desc: 'Build information' },
  { pos: 67, name: 'Memmax_bytes', tags: 'CLP', type: 'u32', desc: 'Memory limit in bytes (0: none)' },
  { pos: 68, name: 'PoolAlloc_bytes', tags: 'MGP', type: 'u64', desc: 'Memory allocated by the heap, in bytes' },
  { pos: 69, name: 'PoolUsed_bytes', tags: 'MGP', type: 'u64', desc: 'Heap memory in use, in bytes' },
  { pos: 70, name: 'Start_time_sec', tags: 'MDP', type: 'u32', desc: 'Start date, in seconds since the epoch' },
  { pos: 71, name: 'Tainted', tags: 'SGP', type: 'str', desc: 'Risky features in use (bit field)' },
  { pos: 72, name: 'TotalWarnings', tags: 'MCP', type: 'u32', desc: 'Warnings emitted' },
  { pos: 73, name: 'MaxconnReached', tags: 'MCP', type: 'u32', desc: 'Times a connection had to wait for Maxconn' },
  { pos: 74, name: 'BootTime_ms', tags: 'MDP', type: 'u32', desc: 'Start-up duration, in milliseconds' },
  { pos: 75, name: 'Niced_tasks', tags: 'MGP', type: 'u32', desc: 'Running tasks with a changed priority' },
  { pos: 76, name: 'CurrStreams', tags: 'MGP', type: 'u64', desc: 'Streams in progress' },
  { pos: 77, name: 'CumStreams', tags: 'MGP', type: 'u64', desc: 'Streams created since start' },
  { pos: 78, name: 'BlockedTrafficWarnings', tags: 'MGP', type: 'u32', desc: 'Warnings about traffic blocked by a slow task' },
];

export interface InfoValue { field: InfoField; value: string | number; type: FieldType }

/** Soft limit on open files, from /proc (0 when unknown). */
function fdLimit(): number {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? 1048576 : Number(m[1]);
  } catch { /* not Linux */ }
  return 0;
}

let eluPrev = performance.eventLoopUtilization();
let eluPrevAt = Date.now();
let idlePct = 100;
/** Idle share of the event loop, refreshed at most once a second. */
function idlePercent(): number {
  const now = Date.now();
  if (now - eluPrevAt >= 1000) {
    const cur = performance.eventLoopUtilization();
    const d = performance.eventLoopUtilization(cur, eluPrev);
    idlePct = Math.max(0, Math.min(100, Math.round((1 - d.utilization) * 100)));
    eluPrev = cur;
    eluPrevAt = now;
  }
  return idlePct;
}

/** Number of listening sockets: bound `bind` lines plus stats sockets. */
export function boundListeners(rt: Runtime): number {
  let n = 0;
  for (const l of rt.listeners) if (l.server) n++;
  return n + cliState(rt).listeners.length;
}

/** Collects the `show info` values; `useFloat` turns a few counters into floats. */
export function collectInfo(rt: Runtime, useFloat = false): InfoValue[] {
  const st = cliState(rt);
  const g = rt.global;
  const now = Date.now();
  const upMs = now - rt.startedAt;
  const mem = process.memoryUsage();
  const ulimit = fdLimit() || g.ulimitN;
  let rate = 0;
  let peakRate = 0;
  let bytesOut = st.bytesOut;
  for (const p of rt.proxies) {
    if (p.isFrontend) {
      rate += p.feCounters.sessRate.rate(now);
      peakRate = Math.max(peakRate, p.feCounters.sessRate.maxRate);
      bytesOut += p.feCounters.bytesOut;
    }
    if (p.isBackend) bytesOut += p.counters.bytesIn;
  }
  st.maxConnRate = Math.max(st.maxConnRate, rate, peakRate);
  const listeners = boundListeners(rt);
  const cliSessions = st.sessions.size;
  const streams = rt.streams.size + cliSessions;
  const cum = rt.cumConns + st.cumSessions;
  const v: Record<string, string | number | undefined> = {
    Name: 'HAProxy',
    Version: processVersion(),
    Release_date: RELEASE_DATE,
    Nbthread: 1,
    Nbproc: 1,
    Process_num: 1,
    Pid: process.pid,
    Uptime: formatUptime(upMs / 1000),
    Uptime_sec: useFloat ? upMs / 1000 : Math.floor(upMs / 1000),
    Memmax_MB: 0,
    PoolAlloc_MB: Math.floor(mem.heapTotal / 1048576),
    PoolUsed_MB: Math.floor(mem.heapUsed / 1048576),
    PoolFailed: 0,
    'Ulimit-n': ulimit,
    Maxsock: ulimit,
    Maxconn: rt.maxconn,
    Hard_maxconn: st.hardMaxconn,
    CurrConns: rt.curConns,
    CumConns: cum,
    CumReq: cum,
    MaxSslConns: 0, CurrSslConns: 0, CumSslConns: 0,
    Maxpipes: 0, PipesUsed: 0, PipesFree: 0,
    ConnRate: rate,
    ConnRateLimit: rt.connRateLimit,
    MaxConnRate: st.maxConnRate,
    SessRate: rate,
    SessRateLimit: rt.sessRateLimit,
    MaxSessRate: st.maxConnRate,
    SslRate: 0, SslRateLimit: 0, MaxSslRate: 0, SslFrontendKeyRate: 0, SslFrontendMaxKeyRate: 0,
    SslFrontendSessionReuse_pct: 0, SslBackendKeyRate: 0, SslBackendMaxKeyRate: 0, SslCacheLookups: 0, SslCacheMisses: 0,
    CompressBpsIn: 0, CompressBpsOut: 0, CompressBpsRateLim: 0,
    ZlibMemUsage: 0, MaxZlibMemUsage: 0,
    Tasks: streams + listeners,
    Run_queue: 0,
    Idle_pct: idlePercent(),
    node: g.node || os.hostname(),
    description: g.description,
    Stopping: rt.stopping ? 1 : 0,
    Jobs: listeners + rt.curConns + cliSessions,
    'Unstoppable Jobs': 0,
    Listeners: listeners,
    ActivePeers: 0, ConnectedPeers: 0, DroppedLogs: logGlobals.dropped, BusyPolling: 0, FailedResolutions: 0,
    TotalBytesOut: bytesOut,
    TotalSplicedBytesOut: 0,
    BytesOutRate: 0,
    DebugCommandsIssued: 0,
    CumRecvLogs: 0,
    'Build info': processVersion(),
    Memmax_bytes: 0,
    PoolAlloc_bytes: mem.heapTotal,
    PoolUsed_bytes: mem.heapUsed,
    Start_time_sec: useFloat ? rt.startedAt / 1000 : Math.floor(rt.startedAt / 1000),
    Tainted: '0',
    TotalWarnings: 0,
    MaxconnReached: rt.maxConnReached,
    BootTime_ms: st.bootMs,
    Niced_tasks: 0,
    CurrStreams: streams,
    CumStreams: cum,
    BlockedTrafficWarnings: 0,
  };
  const out: InfoValue[] = [];
  for (const f of INFO_FIELDS) {
    if (f.feature && !hasFeature(f.feature)) continue;
    const value = v[f.name];
    if (value === undefined) continue;
    const type: FieldType = typeof value === 'number' && !Number.isInteger(value) ? 'flt' : f.type;
    out.push({ field: f, value, type });
  }
  return out;
}

function valueText(x: InfoValue): string {
  if (x.type === 'flt') return formatFloat(x.value as number);
  return String(x.value);
}

/** printf("%f") without the useless trailing zeros. */
export function formatFloat(n: number): string {
  let s = n.toFixed(6);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function quoteDesc(d: string): string {
  return `"${d.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const ORIGIN: Record<string, string> = { M: 'Metric', S: 'Status', K: 'Key', C: 'Config', P: 'Product' };
const NATURE: Record<string, string> = {
  G: 'Gauge', L: 'Limit', m: 'Min', M: 'Max', R: 'Rate', C: 'Counter', D: 'Duration', A: 'Age', T: 'Time', N: 'Name', O: 'Output', a: 'Avg',
};
const SCOPE: Record<string, string> = { P: 'Process', S: 'Service', s: 'System', C: 'Cluster' };

export type InfoFormat = 'plain' | 'typed' | 'json';

/** Renders `show info` values: "Name: value" lines, typed lines, or one JSON array. */
export function renderInfo(values: InfoValue[], format: InfoFormat, withDesc: boolean): string {
  if (format === 'json') {
    const items = values.map((x) => ({
      field: { pos: x.field.pos, name: x.field.name },
      processNum: 1,
      tags: { origin: ORIGIN[x.field.tags[0]!] ?? 'Unknown', nature: NATURE[x.field.tags[1]!] ?? 'Unknown', scope: SCOPE[x.field.tags[2]!] ?? 'Unknown' },
      value: { type: x.type, value: x.value },
    }));
    return `${JSON.stringify(items)}\n`;
  }
  let out = '';
  for (const x of values) {
    const desc = withDesc ? `:${quoteDesc(x.field.desc)}` : '';
    if (format === 'typed') out += `${x.field.pos}.${x.field.name}.1:${x.field.tags}:${x.type}:${valueText(x)}${desc}\n`;
    else out += `${x.field.name}: ${valueText(x)}${desc}\n`;
  }
  return out;
}

// ---- show servers state ------------------------------------------------------------------

export const SERVERS_STATE_VERSION = '1';
export const SERVERS_STATE_COLUMNS = [
  'be_id', 'be_name', 'srv_id', 'srv_name', 'srv_addr', 'srv_op_state', 'srv_admin_state', 'srv_uweight',
  'srv_iweight', 'srv_time_since_last_change', 'srv_check_status', 'srv_check_result', 'srv_check_health',
  'srv_check_state', 'srv_agent_state', 'bk_f_forced_id', 'srv_f_forced_id', 'srv_fqdn', 'srv_port', 'srvrecord',
  'srv_use_ssl', 'srv_check_port', 'srv_check_addr', 'srv_agent_addr', 'srv_agent_port',
] as const;

/** Operational states (srv_op_state). */
export const SRV_ST = { STOPPED: 0, STARTING: 1, RUNNING: 2, STOPPING: 3 } as const;
/** Administrative flags (srv_admin_state). */
export const SRV_ADMF = { FMAINT: 0x01, IMAINT: 0x02, CMAINT: 0x04, FDRAIN: 0x08, IDRAIN: 0x10, RMAINT: 0x20, HMAINT: 0x40 } as const;
/** Check state flags (srv_check_state). */
export const CHK_ST = { INPROGRESS: 0x01, CONFIGURED: 0x02, ENABLED: 0x04, PAUSED: 0x08, AGENT: 0x10 } as const;

export function serverOpState(s: Server): number {
  if (s.admin === 'maint' || !s.up) return SRV_ST.STOPPED;
  if (s.cfg.slowstart > 0 && s.admin === 'ready' && s.uweight > 0 && s.eweight < s.uweight) return SRV_ST.STARTING;
  return SRV_ST.RUNNING;
}

export function serverAdminState(s: Server): number {
  let f = 0;
  if (s.admin === 'maint') f |= SRV_ADMF.FMAINT;
  if (s.cfg.disabled) f |= SRV_ADMF.CMAINT;
  if (s.admin === 'drain') f |= SRV_ADMF.FDRAIN;
  return f;
}

// `show servers state` lines are built by src/checks/cli-checks.ts (they carry the check state).

// ---- weights and limits ------------------------------------------------------------------

/** Highest user weight. */
export const MAX_WEIGHT = 256;

/**
 * Parses "<w>" or "<w>%" for `set weight`: a percentage is relative to the initial weight and
 * capped to MAX_WEIGHT; an absolute value must lie in 0..MAX_WEIGHT. Returns the new weight or
 * the error text to print.
 */
export function parseWeightChange(text: string, iweight: number, dynamic: boolean): number | string {
  const { value, rest } = strtol(text);
  let w = value;
  if (rest === text) return 'Empty weight string empty or preceded by garbage';
  if (rest === '%') {
    if (w < 0) return 'Relative weight must be positive.';
    if (w > 25600) w = 25600;
    w = Math.floor((iweight * w) / 100);
    if (w > MAX_WEIGHT) w = MAX_WEIGHT;
  } else if (w < 0 || w > MAX_WEIGHT) {
    return 'Absolute weight can only be between 0 and 256 inclusive.';
  } else if (rest !== '') {
    return 'Trailing garbage in weight string';
  }
  if (w && w !== iweight && !dynamic) return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.";
  return w;
}

/** Parses a server maxconn for `set maxconn server`: the number or the error text. */
export function parseServerMaxconn(text: string): number | string {
  const { value, rest } = strtol(text);
  if (rest === text) return 'maxconn string empty or preceded by garbage';
  if (rest !== '') return 'Trailing garbage in maxconn string';
  return value;
}
