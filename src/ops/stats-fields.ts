// The proxy statistics fields (management.txt 9.1 "CSV format", 9.2 typed output): one entry per
// column, in CSV order, with its name, a description, its typed-output tags and type, and how
// each kind of object (frontend, listener, backend, server) fills it. `show stat` is built on it;
// the HTML stats page and the Prometheus exporter are meant to be built on it too.
// A getter returning undefined leaves the field empty, as HAProxy does for that object type.
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import type { BindListener, Runtime } from '../proxy/runtime.js';
import type { Counters } from '../proxy/counters.js';
import type { CheckResult } from '../checks/engine.js';
import { STATUS_TEXT } from '../checks/engine.js';
import { balanceAlgoName } from '../lb/config.js';
import { defaultBalance } from '../lb/config.js';
import { serverOpState, SRV_ST } from './cli-format.js';

export type StatType = 'str' | 's32' | 'u32' | 's64' | 'u64';
export type ObjKind = 'F' | 'L' | 'B' | 'S';
export type StatValue = string | number | undefined;

/** What the getters may read besides the object itself. */
export interface StatEnv {
  rt?: Runtime;
  now: number;
  /** addresses and cookies are shown only to operator and admin sessions */
  legends: boolean;
}

export interface StatField {
  pos: number;
  name: string;
  desc: string;
  /** origin, nature and scope letters (management.txt 9.2), e.g. "MCP" */
  tags: string;
  type: StatType;
  /** tags/type differing for one object kind, e.g. { B: 'MGP' } */
  over?: Partial<Record<ObjKind, string>>;
  fe?: (p: Proxy, env: StatEnv) => StatValue;
  li?: (l: BindListener, env: StatEnv) => StatValue;
  be?: (p: Proxy, env: StatEnv) => StatValue;
  srv?: (s: Server, env: StatEnv) => StatValue;
}

const http = (p: Proxy): boolean => p.mode === 'http';
const secs = (ms: number): number => Math.max(0, Math.floor(ms / 1000));
const lastSess = (c: Counters, now: number): number => (c.lastSess ? secs(now - c.lastSess) : -1);

/** A counter read the same way on every object kind that has it. */
function all(get: (c: Counters) => StatValue, kinds = 'FLBS', onlyHttp = false): Pick<StatField, 'fe' | 'li' | 'be' | 'srv'> {
  const out: Pick<StatField, 'fe' | 'li' | 'be' | 'srv'> = {};
  if (kinds.includes('F')) out.fe = (p) => (onlyHttp && !http(p) ? undefined : get(p.feCounters));
  if (kinds.includes('L')) out.li = (l) => get(l.counters);
  if (kinds.includes('B')) out.be = (p) => (onlyHttp && !http(p) ? undefined : get(p.counters));
  if (kinds.includes('S')) out.srv = (s) => (onlyHttp && !http(s.backend) ? undefined : get(s.counters));
  return out;
}
const zero = (kinds: string, onlyHttp = false): Pick<StatField, 'fe' | 'li' | 'be' | 'srv'> => all(() => 0, kinds, onlyHttp);

// ---- servers ------------------------------------------------------------------------------

/** The server whose checks decide for `s` (the end of its `track` chain). */
export function trackRef(s: Server): Server {
  let r = s;
  for (let i = 0; i < 32 && r.tracked; i++) r = r.tracked;
  return r;
}

/** The health check when it is configured, enabled and not paused by maintenance. */
function activeCheck(s: Server): NonNullable<Server['healthCheck']> | undefined {
  const hc = s.healthCheck;
  return hc && hc.enabled && s.admin !== 'maint' ? hc : undefined;
}
function activeAgent(s: Server): NonNullable<Server['agentCheck']> | undefined {
  const a = s.agentCheck;
  return a && a.enabled ? a : undefined;
}
/** chkfail, chkdown and downtime are shown for servers with their own check. */
const ownCheck = (s: Server): boolean => !!s.healthCheck && !s.tracked;

/** The server's status column ("UP", "UP 1/3", "DOWN", "no check", "MAINT", "DRAIN"...). */
export function serverStatus(s: Server): string {
  const ref = trackRef(s);
  if (s.admin === 'maint') return 'MAINT';
  for (let t = s.tracked, i = 0; t && i < 32; t = t.tracked, i++) {
    if (t.admin === 'maint') return `MAINT (via ${t.backend.name}/${t.name})`;
  }
  const hc = ref.healthCheck?.enabled ? ref.healthCheck : undefined;
  const ag = activeAgent(ref);
  const max = hc ? hc.opts.rise + hc.opts.fall - 1 : 0;
  if (s.up && !(s.stopping || s.checkNolb)) {
    const goingDown = !!hc && hc.health < max;
    const frac = hc ? `${hc.health - hc.opts.rise + 1}/${hc.opts.fall}` : '';
    if (s.admin === 'drain') return ag ? 'DRAIN (agent)' : goingDown ? `DRAIN ${frac}` : 'DRAIN';
    if (goingDown) return `UP ${frac}`;
    return hc ? 'UP' : 'no check';
  }
  if (s.up) {
    if ((!s.healthCheck && !s.tracked) || !hc || hc.health === max) return 'NOLB';
    return `NOLB ${hc.health - hc.opts.rise + 1}/${hc.opts.fall}`;
  }
  if (ag && ag.health === 0) return 'DOWN (agent)';
  if (hc && hc.health === 0) return 'DOWN';
  if (hc) return `DOWN ${hc.health}/${hc.opts.rise}`;
  return 'DOWN';
}

function checkStatusText(r: CheckResult | undefined, running: boolean): string {
  return `${running ? '* ' : ''}${r ? r.status : 'INI'}`;
}
const L7_CODED = new Set(['L7OK', 'L7OKC', 'L7STS', 'L7RSP']);
function checkDesc(r: CheckResult | undefined): string { return r ? STATUS_TEXT[r.status] : 'Initializing'; }

/** Backend weight, user weight and active/backup counts, from the servers that take traffic. */
export function backendWeights(p: Proxy): { weight: number; uweight: number; act: number; bck: number } {
  let act = 0, bck = 0, wa = 0, wb = 0, ua = 0, ub = 0;
  for (const s of p.servers) {
    if (!s.usable()) continue;
    if (s.backup) { bck++; wb += s.eweight; ub += s.uweight; } else { act++; wa += s.eweight; ua += s.uweight; }
  }
  return act ? { weight: wa, uweight: ua, act, bck } : { weight: wb, uweight: ub, act, bck };
}

/** "ip:port", "[ipv6]:port" or "unix", as the addr column shows it. */
export function statAddr(family: string, host: string, port: number): string {
  if (family === 'unix' || family === 'abns') return 'unix';
  const h = host === '' ? (family === 'ipv6' ? '::' : '0.0.0.0') : host;
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

function frontendStatus(p: Proxy, env: StatEnv): string {
  if (p.stopped) return 'STOP';
  if (env.rt?.paused) return 'PAUSED';
  return 'OPEN';
}
function listenerStatus(l: BindListener): string {
  switch (l.state) {
    case 'ready': return 'OPEN';
    case 'full': return 'FULL';
    case 'paused': return 'PAUSED';
    default: return 'STOP';
  }
}

// ---- the table ----------------------------------------------------------------------------

const hrsp = (i: number): Pick<StatField, 'fe' | 'li' | 'be' | 'srv'> => all((c) => c.hrsp[i], 'FBS', true);

export const STAT_FIELDS: readonly StatField[] = [
  { pos: 0, name: 'pxname', desc: 'Name of the proxy', tags: 'KNS', type: 'str',
    fe: (p) => p.name, li: (l) => l.proxy.name, be: (p) => p.name, srv: (s) => s.backend.name },
  { pos: 1, name: 'svname', desc: 'FRONTEND, BACKEND, or the name of the server or listener', tags: 'KNS', type: 'str',
    fe: () => 'FRONTEND', li: (l) => l.name, be: () => 'BACKEND', srv: (s) => s.name },
  { pos: 2, name: 'qcur', desc: 'Requests waiting in the queue now (backend: those not bound to a server yet)', tags: 'MGP', type: 'u32', ...all((c) => c.queueCur, 'BS') },
  { pos: 3, name: 'qmax', desc: 'Highest qcur seen', tags: 'MMP', type: 'u32', ...all((c) => c.queueMax, 'BS') },
  { pos: 4, name: 'scur', desc: 'Sessions in progress', tags: 'MGP', type: 'u32', ...all((c) => c.cur) },
  { pos: 5, name: 'smax', desc: 'Highest scur seen', tags: 'MMP', type: 'u32', ...all((c) => c.max) },
  { pos: 6, name: 'slim', desc: 'Session limit: maxconn of the frontend, listener or server, fullconn of the backend', tags: 'CLP', type: 'u32',
    fe: (p) => p.maxconn, li: (l) => l.maxconn, be: (p) => p.fullconn(), srv: (s) => s.maxconn || undefined },
  { pos: 7, name: 'stot', desc: 'Sessions since start', tags: 'MCP', type: 'u64', ...all((c) => c.cumConns) },
  { pos: 8, name: 'bin', desc: 'Bytes received from clients', tags: 'MCP', type: 'u64', ...all((c) => c.bytesIn) },
  { pos: 9, name: 'bout', desc: 'Bytes sent to clients', tags: 'MCP', type: 'u64', ...all((c) => c.bytesOut) },
  { pos: 10, name: 'dreq', desc: 'Requests denied by rules', tags: 'MCP', type: 'u64', ...all((c) => c.deniedReq, 'FLB') },
  { pos: 11, name: 'dresp', desc: 'Responses denied by rules', tags: 'MCP', type: 'u64', ...all((c) => c.deniedResp) },
  { pos: 12, name: 'ereq', desc: 'Invalid or aborted requests', tags: 'MCP', type: 'u64', ...all((c) => c.failedReq, 'FL') },
  { pos: 13, name: 'econ', desc: 'Failed connection attempts to servers', tags: 'MCP', type: 'u64', ...all((c) => c.failedConns, 'BS') },
  { pos: 14, name: 'eresp', desc: 'Invalid or missing responses (server aborts included)', tags: 'MCP', type: 'u64', ...all((c) => c.failedResp, 'BS') },
  { pos: 15, name: 'wretr', desc: 'Connection retries', tags: 'MCP', type: 'u64', ...all((c) => c.retries, 'BS') },
  { pos: 16, name: 'wredis', desc: 'Redispatches to another server', tags: 'MCP', type: 'u64', ...all((c) => c.redispatches, 'BS') },
  { pos: 17, name: 'status', desc: 'State of the object (OPEN, UP, DOWN, MAINT, DRAIN, NOLB, no check...)', tags: 'SGP', type: 'str',
    fe: frontendStatus, li: listenerStatus,
    be: (p) => (backendWeights(p).weight > 0 || p.servers.length === 0 ? 'UP' : 'DOWN'), srv: serverStatus },
  { pos: 18, name: 'weight', desc: 'Effective weight (backend: sum over the servers in use)', tags: 'MaP', type: 'u32',
    be: (p) => backendWeights(p).weight, srv: (s) => s.eweight },
  { pos: 19, name: 'act', desc: 'Active servers in use (server: 1 when not a backup)', tags: 'MGP', type: 'u32', over: { S: 'SGP' },
    be: (p) => backendWeights(p).act, srv: (s) => (s.backup ? 0 : 1) },
  { pos: 20, name: 'bck', desc: 'Backup servers in use (server: 1 when a backup)', tags: 'MGP', type: 'u32', over: { S: 'SGP' },
    be: (p) => backendWeights(p).bck, srv: (s) => (s.backup ? 1 : 0) },
  { pos: 21, name: 'chkfail', desc: 'Failed health checks while the server was up', tags: 'MCP', type: 'u64',
    srv: (s) => (ownCheck(s) ? s.counters.failedChecks : undefined) },
  { pos: 22, name: 'chkdown', desc: 'Transitions to DOWN', tags: 'MCP', type: 'u64',
    be: (p) => p.counters.downTrans, srv: (s) => (ownCheck(s) ? s.counters.downTrans : undefined) },
  { pos: 23, name: 'lastchg', desc: 'Seconds since the last state change', tags: 'MAP', type: 'u32',
    be: (p, e) => secs(e.now - p.counters.stateChangedAt), srv: (s, e) => secs(e.now - s.lastChange) },
  { pos: 24, name: 'downtime', desc: 'Seconds spent down in total', tags: 'MCP', type: 'u32',
    be: (p, e) => (p.servers.length ? secs(p.counters.downtime(e.now)) : undefined),
    srv: (s, e) => (ownCheck(s) ? secs(s.counters.downtime(e.now)) : undefined) },
  { pos: 25, name: 'qlimit', desc: 'Queue limit of the server (maxqueue), empty when unlimited', tags: 'CGS', type: 'u32', srv: (s) => s.maxqueue || undefined },
  { pos: 26, name: 'pid', desc: 'Relative process number (1)', tags: 'KGP', type: 'u32', fe: () => 1, li: () => 1, be: () => 1, srv: () => 1 },
  { pos: 27, name: 'iid', desc: 'Proxy id', tags: 'KGS', type: 'u32', fe: (p) => p.id, li: (l) => l.proxy.id, be: (p) => p.id, srv: (s) => s.backend.id },
  { pos: 28, name: 'sid', desc: 'Server or listener id within the proxy (0 for FRONTEND and BACKEND)', tags: 'KGS', type: 'u32',
    fe: () => 0, li: (l) => l.id, be: () => 0, srv: (s) => s.puid },
  { pos: 29, name: 'throttle', desc: 'Slow-start progress in percent while a server ramps up', tags: 'MaP', type: 'u32',
    srv: (s, e) => (serverOpState(s) === SRV_ST.STARTING && s.cfg.slowstart > 0
      ? Math.min(100, Math.floor((100 * (e.now - s.lastChange)) / s.cfg.slowstart)) : undefined) },
  { pos: 30, name: 'lbtot', desc: 'Times the server was chosen (load balancing, persistence, redispatch)', tags: 'MCP', type: 'u64', ...all((c) => c.lbTotal, 'BS') },
  { pos: 31, name: 'tracked', desc: 'Tracked server as <backend>/<server>', tags: 'CNS', type: 'str',
    srv: (s) => (s.tracked ? `${s.tracked.backend.name}/${s.tracked.name}` : undefined) },
  { pos: 32, name: 'type', desc: 'Object type: 0 frontend, 1 backend, 2 server, 3 listener', tags: 'CGS', type: 'u32',
    fe: () => 0, li: () => 3, be: () => 1, srv: () => 2 },
  { pos: 33, name: 'rate', desc: 'Sessions over the last second', tags: 'MRP', type: 'u32', over: { B: 'MGP' }, ...all((c) => c.sessRate.rate(), 'FBS') },
  { pos: 34, name: 'rate_lim', desc: 'Limit on new sessions per second', tags: 'CLP', type: 'u32', fe: (p) => p.rateLimitSessions },
  { pos: 35, name: 'rate_max', desc: 'Highest rate seen', tags: 'MMP', type: 'u32', over: { B: 'MGP' }, ...all((c) => c.sessRate.maxRate, 'FBS') },
  { pos: 36, name: 'check_status', desc: 'Last health check status ("* " while one runs)', tags: 'MOP', type: 'str',
    srv: (s) => { const hc = activeCheck(s); return hc ? checkStatusText(hc.last, hc.running) : undefined; } },
  { pos: 37, name: 'check_code', desc: 'Layer 5-7 code of the last health check', tags: 'MOP', type: 'u32',
    srv: (s) => { const r = activeCheck(s)?.last; return r && L7_CODED.has(r.status) && r.code !== undefined ? r.code : undefined; } },
  { pos: 38, name: 'check_duration', desc: 'Duration of the last health check, ms', tags: 'MDP', type: 'u64',
    srv: (s) => activeCheck(s)?.last?.duration },
  { pos: 39, name: 'hrsp_1xx', desc: 'HTTP responses with a 1xx status', tags: 'MCP', type: 'u64', ...hrsp(1) },
  { pos: 40, name: 'hrsp_2xx', desc: 'HTTP responses with a 2xx status', tags: 'MCP', type: 'u64', ...hrsp(2) },
  { pos: 41, name: 'hrsp_3xx', desc: 'HTTP responses with a 3xx status', tags: 'MCP', type: 'u64', ...hrsp(3) },
  { pos: 42, name: 'hrsp_4xx', desc: 'HTTP responses with a 4xx status', tags: 'MCP', type: 'u64', ...hrsp(4) },
  { pos: 43, name: 'hrsp_5xx', desc: 'HTTP responses with a 5xx status', tags: 'MCP', type: 'u64', ...hrsp(5) },
  { pos: 44, name: 'hrsp_other', desc: 'HTTP responses with another status', tags: 'MCP', type: 'u64', ...hrsp(0) },
  { pos: 45, name: 'hanafail', desc: 'Failed checks reported by traffic observation', tags: 'MCP', type: 'u64' },
  { pos: 46, name: 'req_rate', desc: 'HTTP requests over the last second', tags: 'MRP', type: 'u32', fe: (p) => p.feCounters.reqRate.rate() },
  { pos: 47, name: 'req_rate_max', desc: 'Highest req_rate seen', tags: 'MMP', type: 'u32', fe: (p) => p.feCounters.reqRate.maxRate },
  { pos: 48, name: 'req_tot', desc: 'HTTP requests since start', tags: 'MCP', type: 'u64',
    fe: (p) => p.feCounters.reqTotal, be: (p) => (http(p) ? p.counters.reqTotal : undefined),
    srv: (s) => (http(s.backend) ? s.counters.reqTotal : undefined) },
  { pos: 49, name: 'cli_abrt', desc: 'Transfers aborted by the client', tags: 'MCP', type: 'u64', ...all((c) => c.cliAborts, 'BS') },
  { pos: 50, name: 'srv_abrt', desc: 'Transfers aborted by the server', tags: 'MCP', type: 'u64', ...all((c) => c.srvAborts, 'BS') },
  { pos: 51, name: 'comp_in', desc: 'Response bytes given to the compressor (no compression in haproxy-ts: 0)', tags: 'MCP', type: 'u64', ...zero('FB') },
  { pos: 52, name: 'comp_out', desc: 'Bytes produced by the compressor', tags: 'MCP', type: 'u64', ...zero('FB') },
  { pos: 53, name: 'comp_byp', desc: 'Bytes that bypassed the compressor', tags: 'MCP', type: 'u64', ...zero('FB') },
  { pos: 54, name: 'comp_rsp', desc: 'Responses compressed', tags: 'MCP', type: 'u64', ...zero('FB') },
  { pos: 55, name: 'lastsess', desc: 'Seconds since the last session was assigned (-1: never)', tags: 'MAP', type: 's32',
    be: (p, e) => lastSess(p.counters, e.now), srv: (s, e) => lastSess(s.counters, e.now) },
  { pos: 56, name: 'last_chk', desc: 'Output or error text of the last health check', tags: 'MOP', type: 'str',
    srv: (s) => { const hc = activeCheck(s); return hc ? (hc.last?.info ?? '') : undefined; } },
  { pos: 57, name: 'last_agt', desc: 'Output or error text of the last agent check', tags: 'MOP', type: 'str',
    srv: (s) => { const a = activeAgent(s); return a ? (a.last?.info ?? '') : undefined; } },
  { pos: 58, name: 'qtime', desc: 'Average queue time, ms (last 1024 sessions)', tags: 'MaP', type: 'u32', ...all((c) => c.qTime.avg(), 'BS') },
  { pos: 59, name: 'ctime', desc: 'Average connect time, ms (last 1024 sessions)', tags: 'MaP', type: 'u32', ...all((c) => c.cTime.avg(), 'BS') },
  { pos: 60, name: 'rtime', desc: 'Average response time, ms (last 1024 sessions; 0 in TCP)', tags: 'MaP', type: 'u32', ...all((c) => c.rTime.avg(), 'BS') },
  { pos: 61, name: 'ttime', desc: 'Average total session time, ms (last 1024 sessions)', tags: 'MaP', type: 'u32', ...all((c) => c.tTime.avg(), 'BS') },
  { pos: 62, name: 'agent_status', desc: 'Last agent check status', tags: 'MOP', type: 'str',
    srv: (s) => { const a = activeAgent(s); return a ? checkStatusText(a.last, a.running) : undefined; } },
  { pos: 63, name: 'agent_code', desc: 'Code reported by the agent', tags: 'MOP', type: 'u32',
    srv: (s) => { const r = activeAgent(s)?.last; return r && L7_CODED.has(r.status) && r.code !== undefined ? r.code : undefined; } },
  { pos: 64, name: 'agent_duration', desc: 'Duration of the last agent check, ms', tags: 'MDP', type: 'u64', srv: (s) => activeAgent(s)?.last?.duration },
  { pos: 65, name: 'check_desc', desc: 'Meaning of check_status in words', tags: 'MOP', type: 'str',
    srv: (s) => { const hc = activeCheck(s); return hc ? checkDesc(hc.last) : undefined; } },
  { pos: 66, name: 'agent_desc', desc: 'Meaning of agent_status in words', tags: 'MOP', type: 'str',
    srv: (s) => { const a = activeAgent(s); return a ? checkDesc(a.last) : undefined; } },
  { pos: 67, name: 'check_rise', desc: 'Health check rise setting', tags: 'CGS', type: 'u32', srv: (s) => activeCheck(s)?.opts.rise },
  { pos: 68, name: 'check_fall', desc: 'Health check fall setting', tags: 'CGS', type: 'u32', srv: (s) => activeCheck(s)?.opts.fall },
  { pos: 69, name: 'check_health', desc: 'Health counter, 0 to rise+fall-1', tags: 'CGS', type: 'u32', srv: (s) => activeCheck(s)?.health },
  { pos: 70, name: 'agent_rise', desc: 'Agent rise setting (1)', tags: 'CGS', type: 'u32', srv: (s) => (activeAgent(s) ? 1 : undefined) },
  { pos: 71, name: 'agent_fall', desc: 'Agent fall setting (1)', tags: 'CGS', type: 'u32', srv: (s) => (activeAgent(s) ? 1 : undefined) },
  { pos: 72, name: 'agent_health', desc: 'Agent health counter', tags: 'CGS', type: 'u32', srv: (s) => activeAgent(s)?.health },
  { pos: 73, name: 'addr', desc: 'Address:port, or "unix"', tags: 'CGS', type: 'str',
    li: (l, e) => (e.legends ? statAddr(l.cfg.address.family, l.cfg.address.host, l.cfg.address.port) : undefined),
    srv: (s, e) => (e.legends ? statAddr(s.isUnix ? 'unix' : s.host.includes(':') ? 'ipv6' : 'ipv4', s.host, s.port) : undefined) },
  { pos: 74, name: 'cookie', desc: 'Cookie value of the server, or cookie name of the backend', tags: 'CNS', type: 'str',
    be: (p, e) => (e.legends ? p.cfg.cookiePersist?.cookie?.name : undefined),
    srv: (s, e) => (e.legends && http(s.backend) ? s.cfg.cookie : undefined) },
  { pos: 75, name: 'mode', desc: 'Proxy mode (tcp, http)', tags: 'CGS', type: 'str',
    fe: (p) => p.mode, li: (l) => l.proxy.mode, be: (p) => p.mode, srv: (s) => s.backend.mode },
  { pos: 76, name: 'algo', desc: 'Load-balancing algorithm', tags: 'CGS', type: 'str', be: (p) => balanceAlgoName(p.cfg.balance ?? defaultBalance()) },
  { pos: 77, name: 'conn_rate', desc: 'Connections accepted over the last second', tags: 'MRP', type: 'u32', fe: (p) => p.feCounters.sessRate.rate() },
  { pos: 78, name: 'conn_rate_max', desc: 'Highest conn_rate seen', tags: 'MMP', type: 'u32', fe: (p) => p.feCounters.sessRate.maxRate },
  { pos: 79, name: 'conn_tot', desc: 'Connections accepted since start', tags: 'MCP', type: 'u64', fe: (p) => p.feCounters.cumConns },
  { pos: 80, name: 'intercepted', desc: 'Requests answered by the proxy itself', tags: 'MCP', type: 'u64', ...all((c) => c.intercepted, 'F', true) },
  { pos: 81, name: 'dcon', desc: 'Connections rejected by tcp-request connection rules', tags: 'MCP', type: 'u64', ...all((c) => c.deniedConn, 'FL') },
  { pos: 82, name: 'dses', desc: 'Sessions rejected by tcp-request session rules', tags: 'MCP', type: 'u64', ...all((c) => c.deniedSess, 'FL') },
  { pos: 83, name: 'wrew', desc: 'Failed header or URI rewrites', tags: 'MCP', type: 'u64', ...all((c) => c.failedRewrites) },
  { pos: 84, name: 'connect', desc: 'Connection attempts to servers', tags: 'MCP', type: 'u64', ...all((c) => c.connAttempts, 'BS') },
  { pos: 85, name: 'reuse', desc: 'Requests sent over a reused server connection', tags: 'MCP', type: 'u64', ...all((c) => c.reuses, 'BS') },
  { pos: 86, name: 'cache_lookups', desc: 'Cache lookups (no cache in haproxy-ts: 0)', tags: 'MCP', type: 'u64', ...zero('FB', true) },
  { pos: 87, name: 'cache_hits', desc: 'Cache hits (no cache in haproxy-ts: 0)', tags: 'MCP', type: 'u64', ...zero('FB', true) },
  { pos: 88, name: 'srv_icur', desc: 'Idle server connections available for reuse', tags: 'MGP', type: 'u32', srv: () => 0 },
  { pos: 89, name: 'src_ilim', desc: 'Limit on idle server connections (pool-max-conn)', tags: 'CLP', type: 'u32' },
  { pos: 90, name: 'qtime_max', desc: 'Longest queue time seen, ms', tags: 'MMP', type: 'u32', ...all((c) => c.qTime.max, 'BS') },
  { pos: 91, name: 'ctime_max', desc: 'Longest connect time seen, ms', tags: 'MMP', type: 'u32', ...all((c) => c.cTime.max, 'BS') },
  { pos: 92, name: 'rtime_max', desc: 'Longest response time seen, ms', tags: 'MMP', type: 'u32', ...all((c) => c.rTime.max, 'BS') },
  { pos: 93, name: 'ttime_max', desc: 'Longest total session time seen, ms', tags: 'MMP', type: 'u32', ...all((c) => c.tTime.max, 'BS') },
  { pos: 94, name: 'eint', desc: 'Internal errors', tags: 'MCP', type: 'u64', ...all((c) => c.internalErrors) },
  { pos: 95, name: 'idle_conn_cur', desc: 'Idle server connections not safe to reuse for a new client', tags: 'MGP', type: 'u32', srv: () => 0 },
  { pos: 96, name: 'safe_conn_cur', desc: 'Idle server connections safe to reuse', tags: 'MGP', type: 'u32', srv: () => 0 },
  { pos: 97, name: 'used_conn_cur', desc: 'Server connections in use', tags: 'MGP', type: 'u32', srv: (s) => s.cur },
  { pos: 98, name: 'need_conn_est', desc: 'Estimated server connections needed', tags: 'MGP', type: 'u32', srv: (s) => s.cur },
  { pos: 99, name: 'uweight', desc: 'User weight (backend: sum over the servers in use)', tags: 'MaP', type: 'u32',
    be: (p) => backendWeights(p).uweight, srv: (s) => s.uweight },
  { pos: 100, name: 'agg_server_status', desc: 'Aggregated server status (placeholder, 0)', tags: 'MGP', type: 'u32', be: () => 0 },
  { pos: 101, name: 'agg_server_check_status', desc: 'Aggregated check status (deprecated, 0)', tags: 'MGP', type: 'u32', be: () => 0 },
  { pos: 102, name: 'agg_check_status', desc: 'Aggregated check status (placeholder, 0)', tags: 'MGP', type: 'u32', be: () => 0 },
];

/** Tags and type of a field for one object kind. */
export function fieldTags(f: StatField, kind: ObjKind): { tags: string; type: StatType } {
  const o = f.over?.[kind];
  if (!o) return { tags: f.tags, type: f.type };
  const [tags, type] = o.split(':');
  return { tags: tags!, type: (type as StatType | undefined) ?? f.type };
}

export type StatObject =
  | { kind: 'F'; proxy: Proxy }
  | { kind: 'L'; listener: BindListener }
  | { kind: 'B'; proxy: Proxy }
  | { kind: 'S'; server: Server };

/** The value of every field for one object, indexed like STAT_FIELDS (undefined = empty). */
export function statValues(o: StatObject, env: StatEnv): StatValue[] {
  const out: StatValue[] = new Array(STAT_FIELDS.length);
  for (let i = 0; i < STAT_FIELDS.length; i++) {
    const f = STAT_FIELDS[i]!;
    switch (o.kind) {
      case 'F': out[i] = f.fe?.(o.proxy, env); break;
      case 'L': out[i] = f.li?.(o.listener, env); break;
      case 'B': out[i] = f.be?.(o.proxy, env); break;
      case 'S': out[i] = f.srv?.(o.server, env); break;
    }
  }
  return out;
}

/** Proxy id and object id of an object (typed and JSON outputs). */
export function objectIds(o: StatObject): { iid: number; sid: number } {
  switch (o.kind) {
    case 'F': case 'B': return { iid: o.proxy.id, sid: 0 };
    case 'L': return { iid: o.listener.proxy.id, sid: o.listener.id };
    case 'S': return { iid: o.server.backend.id, sid: o.server.puid };
  }
}

export const OBJ_TYPE_NAME: Record<ObjKind, string> = { F: 'Frontend', B: 'Backend', L: 'Listener', S: 'Server' };
export const TAG_ORIGIN: Record<string, string> = { M: 'Metric', S: 'Status', K: 'Key', C: 'Config', P: 'Product' };
export const TAG_NATURE: Record<string, string> = {
  G: 'Gauge', L: 'Limit', m: 'Min', M: 'Max', R: 'Rate', C: 'Counter', D: 'Duration', A: 'Age', T: 'Time', N: 'Name', O: 'Output', a: 'Avg',
};
export const TAG_SCOPE: Record<string, string> = { P: 'Process', S: 'Service', s: 'System', C: 'Cluster' };
