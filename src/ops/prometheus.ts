// HAProxy's Prometheus exporter (the "prometheus-exporter" service of `http-request use-service`):
// the process metrics come from `show info`, the frontend, listener, backend and server metrics
// from the statistics fields (stats-fields.ts), rendered in Prometheus' text exposition format
// with the metric names, HELP texts, TYPE lines, labels and ordering HAProxy's exporter uses.
// Query parameters: `scope=<global|frontend|listener|backend|server|sticktable|*|>` (repeatable,
// empty resets), `no-maint` (skip servers in maintenance), `extra-counters` (accepted: haproxy-ts
// has no module registering extra counters). haproxy-ts has no stick tables: the sticktable scope
// is accepted and yields nothing.
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import { collectInfo } from './cli-format.js';
import { STAT_FIELDS, statValues, type StatEnv, type StatObject, type StatValue } from './stats-fields.js';
import { defaultErrorMessage, errorMessageFor, reasonPhrase, type ErrorReply } from '../http/errors.js';
import { HttpHeaders } from '../http/htx.js';
import { registerAction, Act, type Action } from '../actions/rules.js';
import { services } from '../registry/registry.js';

// [suffix, show info field, type, HELP]
const PROCESS_METRICS: readonly (readonly [string, string, 'g' | 'c', string])[] = [
  ['nbthread', 'Nbthread', 'g', 'Number of started threads (global.nbthread)'],
  ['nbproc', 'Nbproc', 'g', 'Number of started worker processes (historical, always 1)'],
  ['relative_process_id', 'Process_num', 'g', 'Relative worker process number (1)'],
  ['uptime_seconds', 'Uptime_sec', 'g', 'How long ago this worker process was started (seconds)'],
  ['pool_failures_total', 'PoolFailed', 'c', 'Number of failed pool allocations since this worker was started'],
  ['max_fds', 'Ulimit-n', 'g', 'Hard limit on the number of per-process file descriptors'],
  ['max_sockets', 'Maxsock', 'g', 'Hard limit on the number of per-process sockets'],
  ['max_connections', 'Maxconn', 'g', 'Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)'],
  ['hard_max_connections', 'Hard_maxconn', 'g', 'Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)'],
  ['current_connections', 'CurrConns', 'g', 'Current number of connections on this worker process'],
  ['connections_total', 'CumConns', 'c', 'Total number of connections on this worker process since started'],
  ['requests_total', 'CumReq', 'c', 'Total number of requests on this worker process since started'],
  ['max_ssl_connections', 'MaxSslConns', 'g', 'Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited'],
  ['current_ssl_connections', 'CurrSslConns', 'g', 'Current number of SSL endpoints on this worker process (front+back)'],
  ['ssl_connections_total', 'CumSslConns', 'c', 'Total number of SSL endpoints on this worker process since started (front+back)'],
  ['max_pipes', 'Maxpipes', 'g', 'Hard limit on the number of pipes for splicing, 0=unlimited'],
  ['pipes_used_total', 'PipesUsed', 'c', 'Current number of pipes in use in this worker process'],
  ['pipes_free_total', 'PipesFree', 'c', 'Current number of allocated and available pipes in this worker process'],
  ['current_connection_rate', 'ConnRate', 'g', 'Number of front connections created on this worker process over the last second'],
  ['limit_connection_rate', 'ConnRateLimit', 'g', 'Hard limit for ConnRate (global.maxconnrate)'],
  ['max_connection_rate', 'MaxConnRate', 'g', 'Highest ConnRate reached on this worker process since started (in connections per second)'],
  ['current_session_rate', 'SessRate', 'g', 'Number of sessions created on this worker process over the last second'],
  ['limit_session_rate', 'SessRateLimit', 'g', 'Hard limit for SessRate (global.maxsessrate)'],
  ['max_session_rate', 'MaxSessRate', 'g', 'Highest SessRate reached on this worker process since started (in sessions per second)'],
  ['current_ssl_rate', 'SslRate', 'g', 'Number of SSL connections created on this worker process over the last second'],
  ['limit_ssl_rate', 'SslRateLimit', 'g', 'Hard limit for SslRate (global.maxsslrate)'],
  ['max_ssl_rate', 'MaxSslRate', 'g', 'Highest SslRate reached on this worker process since started (in connections per second)'],
  ['current_frontend_ssl_key_rate', 'SslFrontendKeyRate', 'g', 'Number of SSL keys created on frontends in this worker process over the last second'],
  ['max_frontend_ssl_key_rate', 'SslFrontendMaxKeyRate', 'g', 'Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)'],
  ['frontend_ssl_reuse', 'SslFrontendSessionReuse_pct', 'g', 'Percent of frontend SSL connections which did not require a new key'],
  ['current_backend_ssl_key_rate', 'SslBackendKeyRate', 'g', 'Number of SSL keys created on backends in this worker process over the last second'],
  ['max_backend_ssl_key_rate', 'SslBackendMaxKeyRate', 'g', 'Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)'],
  ['ssl_cache_lookups_total', 'SslCacheLookups', 'c', 'Total number of SSL session ID lookups in the SSL session cache on this worker since started'],
  ['ssl_cache_misses_total', 'SslCacheMisses', 'c', "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started"],
  ['http_comp_bytes_in_total', 'CompressBpsIn', 'c', 'Number of bytes submitted to the HTTP compressor in this worker process over the last second'],
  ['http_comp_bytes_out_total', 'CompressBpsOut', 'c', 'Number of bytes emitted by the HTTP compressor in this worker process over the last second'],
  ['limit_http_comp', 'CompressBpsRateLim', 'g', 'Limit of CompressBpsOut beyond which HTTP compression is automatically disabled'],
  ['current_zlib_memory', 'ZlibMemUsage', 'g', 'Amount of memory currently used by HTTP compression on the current worker process (in bytes)'],
  ['max_zlib_memory', 'MaxZlibMemUsage', 'g', 'Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)'],
  ['current_tasks', 'Tasks', 'g', 'Total number of tasks in the current worker process (active + sleeping)'],
  ['current_run_queue', 'Run_queue', 'g', 'Total number of active tasks+tasklets in the current worker process'],
  ['idle_time_percent', 'Idle_pct', 'g', 'Percentage of last second spent waiting in the current worker thread'],
  ['stopping', 'Stopping', 'g', '1 if the worker process is currently stopping, otherwise zero'],
  ['jobs', 'Jobs', 'g', 'Current number of active jobs on the current worker process (frontend connections, master connections, listeners)'],
  ['unstoppable_jobs', 'Unstoppable Jobs', 'g', 'Current number of unstoppable jobs on the current worker process (master connections)'],
  ['listeners', 'Listeners', 'g', 'Current number of active listeners on the current worker process'],
  ['active_peers', 'ActivePeers', 'g', 'Current number of verified active peers connections on the current worker process'],
  ['connected_peers', 'ConnectedPeers', 'g', 'Current number of peers having passed the connection step on the current worker process'],
  ['dropped_logs_total', 'DroppedLogs', 'c', 'Total number of dropped logs for current worker process since started'],
  ['busy_polling_enabled', 'BusyPolling', 'g', '1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)'],
  ['failed_resolutions', 'FailedResolutions', 'c', 'Total number of failed DNS resolutions in current worker process since started'],
  ['bytes_out_total', 'TotalBytesOut', 'c', 'Total number of bytes emitted by current worker process since started'],
  ['spliced_bytes_out_total', 'TotalSplicedBytesOut', 'c', 'Total number of bytes emitted by current worker process through a kernel pipe since started'],
  ['bytes_out_rate', 'BytesOutRate', 'g', 'Number of bytes emitted by current worker process over the last second'],
  ['recv_logs_total', 'CumRecvLogs', 'c', 'Total number of log messages received by log-forwarding listeners on this worker process since started'],
  ['build_info', 'Build info', 'g', 'Build info'],
  ['max_memory_bytes', 'Memmax_bytes', 'g', "Worker process's hard limit on memory usage in byes (-m on command line)"],
  ['pool_allocated_bytes', 'PoolAlloc_bytes', 'g', 'Amount of memory allocated in pools (in bytes)'],
  ['pool_used_bytes', 'PoolUsed_bytes', 'g', 'Amount of pool memory currently used (in bytes)'],
  ['start_time_seconds', 'Start_time_sec', 'g', 'Start time in seconds'],
];

// [suffix, stats field, type, object kinds, HELP]
const PROXY_METRICS_RAW: readonly (readonly [string, string, 'g' | 'c', string, string])[] = [
  ['current_sessions', 'scur', 'g', 'FLBS', 'Number of current sessions on the frontend, backend or server'],
  ['max_sessions', 'smax', 'g', 'FLBS', 'Highest value of current sessions encountered since process started'],
  ['limit_sessions', 'slim', 'g', 'FLBS', "Frontend/listener/server's maxconn, backend's fullconn"],
  ['sessions_total', 'stot', 'c', 'FLBS', 'Total number of sessions since process started'],
  ['bytes_in_total', 'bin', 'c', 'FLBS', 'Total number of request bytes since process started'],
  ['bytes_out_total', 'bout', 'c', 'FLBS', 'Total number of response bytes since process started'],
  ['requests_denied_total', 'dreq', 'c', 'FLB', 'Total number of denied requests since process started'],
  ['responses_denied_total', 'dresp', 'c', 'FLBS', 'Total number of denied responses since process started'],
  ['request_errors_total', 'ereq', 'c', 'FL', 'Total number of invalid requests since process started'],
  ['status', 'status', 'g', 'FLBS', 'Current status of the service, per state label value.'],
  ['limit_session_rate', 'rate_lim', 'g', 'F', "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)"],
  ['max_session_rate', 'rate_max', 'g', 'FBS', 'Highest value of sessions per second observed since the worker process started'],
  ['http_responses_total', 'hrsp_1xx', 'c', 'FBS', 'Total number of HTTP responses with status 100-199 returned by this object since the worker process started'],
  ['http_requests_rate_max', 'req_rate_max', 'g', 'F', 'Highest value of http requests observed since the worker process started'],
  ['http_requests_total', 'req_tot', 'c', 'FB', 'Total number of HTTP requests processed by this object since the worker process started'],
  ['http_comp_bytes_in_total', 'comp_in', 'c', 'FB', 'Total number of bytes submitted to the HTTP compressor for this object since the worker process started'],
  ['http_comp_bytes_out_total', 'comp_out', 'c', 'FB', 'Total number of bytes emitted by the HTTP compressor for this object since the worker process started'],
  ['http_comp_bytes_bypassed_total', 'comp_byp', 'c', 'FB', 'Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)'],
  ['http_comp_responses_total', 'comp_rsp', 'c', 'FB', 'Total number of HTTP responses that were compressed for this object since the worker process started'],
  ['connections_rate_max', 'conn_rate_max', 'g', 'F', 'Highest value of connections per second observed since the worker process started'],
  ['connections_total', 'conn_tot', 'c', 'F', 'Total number of new connections accepted on this frontend since the worker process started'],
  ['intercepted_requests_total', 'intercepted', 'c', 'F', 'Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started'],
  ['denied_connections_total', 'dcon', 'c', 'FL', 'Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started'],
  ['denied_sessions_total', 'dses', 'c', 'FL', 'Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started'],
  ['failed_header_rewriting_total', 'wrew', 'c', 'FLBS', 'Total number of failed HTTP header rewrites since the worker process started'],
  ['http_cache_lookups_total', 'cache_lookups', 'c', 'FB', 'Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started'],
  ['http_cache_hits_total', 'cache_hits', 'c', 'FB', 'Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started'],
  ['internal_errors_total', 'eint', 'c', 'FLBS', 'Total number of internal errors since process started'],
  ['current_queue', 'qcur', 'g', 'BS', 'Number of current queued connections'],
  ['max_queue', 'qmax', 'g', 'BS', 'Highest value of queued connections encountered since process started'],
  ['connection_errors_total', 'econ', 'c', 'BS', 'Total number of failed connections to server since the worker process started'],
  ['response_errors_total', 'eresp', 'c', 'BS', 'Total number of invalid responses since the worker process started'],
  ['retry_warnings_total', 'wretr', 'c', 'BS', 'Total number of server connection retries since the worker process started'],
  ['redispatch_warnings_total', 'wredis', 'c', 'BS', 'Total number of server redispatches due to connection failures since the worker process started'],
  ['weight', 'weight', 'g', 'BS', "Server's effective weight, or sum of active servers' effective weights for a backend"],
  ['active_servers', 'act', 'g', 'B', 'Total number of active UP servers with a non-zero weight'],
  ['backup_servers', 'bck', 'g', 'B', 'Total number of backup UP servers with a non-zero weight'],
  ['check_up_down_total', 'chkdown', 'c', 'BS', 'Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started'],
  ['check_last_change_seconds', 'lastchg', 'g', 'BS', 'How long ago the last server state changed, in seconds'],
  ['downtime_seconds_total', 'downtime', 'c', 'BS', 'Total time spent in DOWN state, for server or backend'],
  ['loadbalanced_total', 'lbtot', 'c', 'BS', 'Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)'],
  ['client_aborts_total', 'cli_abrt', 'c', 'BS', 'Total number of requests or connections aborted by the client since the worker process started'],
  ['server_aborts_total', 'srv_abrt', 'c', 'BS', 'Total number of requests or connections aborted by the server since the worker process started'],
  ['last_session_seconds', 'lastsess', 'g', 'BS', 'How long ago some traffic was seen on this object on this worker process, in seconds'],
  ['queue_time_average_seconds', 'qtime', 'g', 'BS', 'Avg. queue time for last 1024 successful connections.'],
  ['connect_time_average_seconds', 'ctime', 'g', 'BS', 'Avg. connect time for last 1024 successful connections.'],
  ['response_time_average_seconds', 'rtime', 'g', 'BS', 'Avg. response time for last 1024 successful connections.'],
  ['total_time_average_seconds', 'ttime', 'g', 'BS', 'Avg. total time for last 1024 successful connections.'],
  ['connection_attempts_total', 'connect', 'c', 'BS', 'Total number of outgoing connection attempts on this backend/server since the worker process started'],
  ['connection_reuses_total', 'reuse', 'c', 'BS', 'Total number of reused connection on this backend/server since the worker process started'],
  ['max_queue_time_seconds', 'qtime_max', 'g', 'BS', 'Maximum observed time spent in the queue'],
  ['max_connect_time_seconds', 'ctime_max', 'g', 'BS', 'Maximum observed time spent waiting for a connection to complete'],
  ['max_response_time_seconds', 'rtime_max', 'g', 'BS', 'Maximum observed time spent waiting for a server response'],
  ['max_total_time_seconds', 'ttime_max', 'g', 'BS', 'Maximum observed total request+response time (request+queue+connect+response+processing)'],
  ['uweight', 'uweight', 'g', 'BS', "Server's user weight, or sum of active servers' user weights for a backend"],
  ['agg_server_status', 'agg_server_status', 'g', 'B', "Backend's aggregated gauge of servers' status"],
  ['agg_server_check_status', 'agg_server_check_status', 'g', 'B', "Backend's aggregated gauge of servers' state check status"],
  ['agg_check_status', 'agg_check_status', 'g', 'B', "Backend's aggregated gauge of servers' state check status"],
  ['check_failures_total', 'chkfail', 'c', 'S', 'Total number of failed individual health checks per server/backend, since the worker process started'],
  ['queue_limit', 'qlimit', 'g', 'S', 'Limit on the number of connections in queue, for servers only (maxqueue argument)'],
  ['current_throttle', 'throttle', 'g', 'S', "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"],
  ['check_status', 'check_status', 'g', 'S', 'Status of last health check, per state label value.'],
  ['check_code', 'check_code', 'g', 'S', 'layer5-7 code, if available of the last health check.'],
  ['check_duration_seconds', 'check_duration', 'g', 'S', 'Total duration of the latest server health check, in seconds.'],
  ['idle_connections_current', 'srv_icur', 'g', 'S', 'Current number of idle connections available for reuse on this server'],
  ['idle_connections_limit', 'src_ilim', 'g', 'S', "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)"],
  ['unsafe_idle_connections_current', 'idle_conn_cur', 'g', 'S', 'Current number of unsafe idle connections'],
  ['safe_idle_connections_current', 'safe_conn_cur', 'g', 'S', 'Current number of safe idle connections'],
  ['used_connections_current', 'used_conn_cur', 'g', 'S', 'Current number of connections in use'],
  ['need_connections_current', 'need_conn_est', 'g', 'S', 'Estimated needed number of connections'],
];

type Kind = 'F' | 'L' | 'B' | 'S';

/** How a proxy metric's samples are made. */
type Special = 'status' | 'hrsp' | 'check_status' | 'check_code' | 'check_duration' | 'agg_srv' | 'agg_chk';

interface ProxyMetric {
  suffix: string;
  /** index in STAT_FIELDS */
  idx: number;
  pos: number;
  type: 'gauge' | 'counter';
  kinds: string;
  help: string;
  /** only for objects of HTTP proxies */
  httpOnly: boolean;
  /** milliseconds exported as seconds ("%f") */
  ms: boolean;
  special?: Special;
}

const HTTP_ONLY = new Set(['http_responses_total', 'http_requests_rate_max', 'http_requests_total', 'http_comp_bytes_in_total',
  'http_comp_bytes_out_total', 'http_comp_bytes_bypassed_total', 'http_comp_responses_total', 'intercepted_requests_total',
  'http_cache_lookups_total', 'http_cache_hits_total']);
const MS_FIELDS = new Set(['qtime', 'ctime', 'rtime', 'ttime', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'check_duration']);
const SPECIAL: Record<string, Special> = {
  status: 'status', hrsp_1xx: 'hrsp', check_status: 'check_status', check_code: 'check_code', check_duration: 'check_duration',
  agg_server_status: 'agg_srv', agg_server_check_status: 'agg_srv', agg_check_status: 'agg_chk',
};

const FIELD_INDEX = new Map(STAT_FIELDS.map((f, i) => [f.name, i]));
function fieldIndex(name: string): number {
  const i = FIELD_INDEX.get(name);
  if (i === undefined) throw new Error(`prometheus: unknown stats field ${name}`);
  return i;
}

/** The proxy metrics in statistics field order (the order HAProxy dumps them in every scope). */
const PROXY_METRICS: readonly ProxyMetric[] = PROXY_METRICS_RAW.map(([suffix, field, t, kinds, help]) => {
  const idx = fieldIndex(field);
  return {
    suffix, idx, pos: STAT_FIELDS[idx]!.pos, type: t === 'g' ? 'gauge' as const : 'counter' as const, kinds, help,
    httpOnly: HTTP_ONLY.has(suffix), ms: MS_FIELDS.has(field), special: SPECIAL[field],
  };
}).sort((a, b) => a.pos - b.pos);

const HRSP_CODES: readonly (readonly [string, number])[] = [
  ['1xx', fieldIndex('hrsp_1xx')], ['2xx', fieldIndex('hrsp_2xx')], ['3xx', fieldIndex('hrsp_3xx')],
  ['4xx', fieldIndex('hrsp_4xx')], ['5xx', fieldIndex('hrsp_5xx')], ['other', fieldIndex('hrsp_other')],
];
const CHECK_STATUS_IDX = fieldIndex('check_status');
const CHECK_CODE_IDX = fieldIndex('check_code');
const CHECK_DURATION_IDX = fieldIndex('check_duration');
const STATUS_IDX = fieldIndex('status');

/** State label values, in HAProxy's order. */
const FE_STATES = ['DOWN', 'UP'] as const;
const LI_STATES = ['WAITING', 'OPEN', 'FULL'] as const;
const BE_STATES = ['DOWN', 'UP'] as const;
const SRV_STATES = ['DOWN', 'UP', 'MAINT', 'DRAIN', 'NOLB'] as const;
const CHECK_STATES = ['HANA', 'SOCKERR', 'L4OK', 'L4TOUT', 'L4CON', 'L6OK', 'L6TOUT', 'L6RSP', 'L7TOUT', 'L7RSP', 'L7OK', 'L7OKC',
  'L7STS', 'PROCERR', 'PROCTOUT', 'PROCOK'] as const;

function feState(status: StatValue): string { return status === 'STOP' ? 'DOWN' : 'UP'; }
function liState(status: StatValue): string { return status === 'OPEN' ? 'OPEN' : status === 'FULL' ? 'FULL' : 'WAITING'; }
/** The server state the exporter reports, from the status column ("UP 1/3", "MAINT (via b/s)", "no check"...). */
export function promServerState(status: StatValue): string {
  const s = String(status ?? '');
  if (s.startsWith('MAINT')) return 'MAINT';
  if (s.startsWith('DRAIN')) return 'DRAIN';
  if (s.startsWith('NOLB')) return 'NOLB';
  if (s.startsWith('UP') || s === 'no check') return 'UP';
  return 'DOWN';
}
/** The last check result of a server with an enabled check ("* L7OK" -> "L7OK", "INI" -> none). */
function checkState(v: StatValue): string | undefined {
  if (v === undefined) return undefined;
  return String(v).replace(/^\* /, '');
}

// ---- query string ---------------------------------------------------------------------------

export const SCOPES = ['global', 'frontend', 'listener', 'backend', 'server', 'sticktable'] as const;
export type Scope = typeof SCOPES[number];

export interface PromQuery {
  scopes: Set<Scope>;
  noMaint: boolean;
  extraCounters: boolean;
}

function decode(s: string): string {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

/**
 * Parses the query string of the exporter's URI. Scopes are applied in order: a value adds its
 * scope, `*` all of them, an empty value none (until a later one); without any `scope`
 * everything is exported. Returns undefined for a bad request (unknown scope, `scope` without `=`).
 */
export function parsePromQuery(uri: string): PromQuery | undefined {
  const q: PromQuery = { scopes: new Set(SCOPES), noMaint: false, extraCounters: false };
  const qm = uri.indexOf('?');
  if (qm < 0) return q;
  let end = uri.indexOf('#', qm);
  if (end < 0) end = uri.length;
  let first = true;
  for (const part of uri.slice(qm + 1, end).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    if (key === 'scope') {
      if (eq < 0) return undefined;
      const v = decode(part.slice(eq + 1));
      if (first) { q.scopes.clear(); first = false; }
      if (v === '') q.scopes.clear();
      else if (v === '*') for (const s of SCOPES) q.scopes.add(s);
      else if ((SCOPES as readonly string[]).includes(v)) q.scopes.add(v as Scope);
      else return undefined;
    } else if (key === 'no-maint') q.noMaint = true;
    else if (key === 'extra-counters') q.extraCounters = true;
  }
  return q;
}

// ---- rendering --------------------------------------------------------------------------------

function labelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function num(v: StatValue, ms: boolean): string {
  if (v === undefined || v === '') return 'NaN';
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return 'NaN';
  return ms ? (n / 1000).toFixed(6) : String(n);
}

/** Writes the metric family: HELP and TYPE lines come with the first sample only. */
class Family {
  private lines = '';
  constructor(private readonly name: string, private readonly help: string, private readonly type: string) {}
  add(labels: string, value: string): void { this.lines += `${this.name}{${labels}} ${value}\n`; }
  addBare(value: string): void { this.lines += `${this.name} ${value}\n`; }
  text(): string { return this.lines ? `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.lines}` : ''; }
}

function renderProcess(rt: Runtime): string {
  const info = new Map<string, string | number>();
  for (const v of collectInfo(rt)) info.set(v.field.name, v.value);
  let out = '';
  for (const [suffix, field, t, help] of PROCESS_METRICS) {
    const f = new Family(`haproxy_process_${suffix}`, help, t === 'g' ? 'gauge' : 'counter');
    const v = info.get(field);
    if (suffix === 'build_info') f.add(`version="${labelValue(String(v ?? ''))}"`, '1');
    else f.addBare(num(v, false));
    out += f.text();
  }
  return out;
}

interface Obj { o: StatObject; labels: string; http: boolean; vals: StatValue[] }

function proxyObjects(rt: Runtime, kind: Kind, q: PromQuery, env: StatEnv): Obj[] {
  const out: Obj[] = [];
  const http = (p: Proxy): boolean => p.mode === 'http';
  const push = (o: StatObject, labels: string, h: boolean): void => { out.push({ o, labels, http: h, vals: statValues(o, env) }); };
  for (const p of rt.proxies) {
    const px = `proxy="${labelValue(p.name)}"`;
    switch (kind) {
      case 'F':
        if (p.isFrontend) push({ kind: 'F', proxy: p }, px, http(p));
        break;
      case 'L':
        if (p.isFrontend && p.cfg.options.socketStats) {
          for (const l of rt.listeners) if (l.proxy === p) push({ kind: 'L', listener: l }, `${px},listener="${labelValue(l.name)}"`, http(p));
        }
        break;
      case 'B':
        if (p.isBackend) push({ kind: 'B', proxy: p }, px, http(p));
        break;
      case 'S':
        if (!p.isBackend) break;
        for (const s of p.servers) {
          const o: StatObject = { kind: 'S', server: s };
          const vals = statValues(o, env);
          if (q.noMaint && promServerState(vals[STATUS_IDX]) === 'MAINT') continue;
          out.push({ o, labels: `${px},server="${labelValue(s.name)}"`, http: http(p), vals });
        }
        break;
    }
  }
  return out;
}

/** The statistics values of every server of a backend (maintenance included). */
function backendServers(p: Proxy, env: StatEnv): StatValue[][] {
  return p.servers.map((s: Server) => statValues({ kind: 'S', server: s }, env));
}

function renderKind(rt: Runtime, kind: Kind, q: PromQuery, env: StatEnv): string {
  const scope = kind === 'F' ? 'frontend' : kind === 'L' ? 'listener' : kind === 'B' ? 'backend' : 'server';
  const objs = proxyObjects(rt, kind, q, env);
  if (!objs.length) return '';
  let out = '';
  for (const m of PROXY_METRICS) {
    if (!m.kinds.includes(kind)) continue;
    const f = new Family(`haproxy_${scope}_${m.suffix}`, m.help, m.type);
    const list = m.httpOnly ? objs.filter((x) => x.http) : objs;
    switch (m.special) {
      case 'hrsp':
        for (const [code, idx] of HRSP_CODES) for (const x of list) f.add(`${x.labels},code="${code}"`, num(x.vals[idx], false));
        break;
      case 'status': {
        const states: readonly string[] = kind === 'F' ? FE_STATES : kind === 'L' ? LI_STATES : kind === 'B' ? BE_STATES : SRV_STATES;
        for (const x of list) {
          const st = x.vals[STATUS_IDX];
          const cur = kind === 'F' ? feState(st) : kind === 'L' ? liState(st) : kind === 'B' ? (st === 'UP' ? 'UP' : 'DOWN') : promServerState(st);
          for (const s of states) f.add(`${x.labels},state="${s}"`, s === cur ? '1' : '0');
        }
        break;
      }
      case 'check_status':
        for (const x of list) {
          const cur = checkState(x.vals[CHECK_STATUS_IDX]);
          if (cur === undefined) continue;
          for (const s of CHECK_STATES) f.add(`${x.labels},state="${s}"`, s === cur ? '1' : '0');
        }
        break;
      case 'check_code':
        for (const x of list) {
          if (x.vals[CHECK_STATUS_IDX] === undefined) continue;
          f.add(x.labels, num(x.vals[CHECK_CODE_IDX] ?? 0, false));
        }
        break;
      case 'check_duration':
        for (const x of list) {
          // only once a check has completed
          if (x.vals[CHECK_STATUS_IDX] === undefined || x.vals[CHECK_DURATION_IDX] === undefined) continue;
          f.add(x.labels, num(x.vals[CHECK_DURATION_IDX], true));
        }
        break;
      case 'agg_srv':
        for (const x of list) {
          // backends without servers have no aggregated gauges
          if (!(x.o as { proxy: Proxy }).proxy.servers.length) continue;
          const counts = new Map<string, number>();
          for (const v of backendServers((x.o as { proxy: Proxy }).proxy, env)) {
            const st = promServerState(v[STATUS_IDX]);
            counts.set(st, (counts.get(st) ?? 0) + 1);
          }
          for (const s of SRV_STATES) f.add(`${x.labels},state="${s}"`, String(counts.get(s) ?? 0));
        }
        break;
      case 'agg_chk':
        for (const x of list) {
          if (!(x.o as { proxy: Proxy }).proxy.servers.length) continue;
          const counts = new Map<string, number>();
          for (const v of backendServers((x.o as { proxy: Proxy }).proxy, env)) {
            const st = checkState(v[CHECK_STATUS_IDX]);
            if (st !== undefined) counts.set(st, (counts.get(st) ?? 0) + 1);
          }
          for (const s of CHECK_STATES) f.add(`${x.labels},state="${s}"`, String(counts.get(s) ?? 0));
        }
        break;
      default:
        for (const x of list) f.add(x.labels, num(x.vals[m.idx], m.ms));
    }
    out += f.text();
  }
  return out;
}

/** The exposition text for a query (HAProxy's order: process, frontends, listeners, backends, servers). */
export function renderMetrics(rt: Runtime, q: PromQuery, now = Date.now()): string {
  const env: StatEnv = { rt, now, legends: false };
  let out = '';
  if (q.scopes.has('global')) out += renderProcess(rt);
  if (q.scopes.has('frontend')) out += renderKind(rt, 'F', q, env);
  if (q.scopes.has('listener')) out += renderKind(rt, 'L', q, env);
  if (q.scopes.has('backend')) out += renderKind(rt, 'B', q, env);
  if (q.scopes.has('server')) out += renderKind(rt, 'S', q, env);
  // sticktable: haproxy-ts has no stick tables, nothing to export
  return out;
}

export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4';

/** Renders the exposition text for a request URI (query string parsed for scope/no-maint...). */
export function renderPrometheus(rt: Runtime, uri: string): { status: number; contentType: string; body: string } {
  const q = parsePromQuery(uri);
  if (!q) {
    const r = defaultErrorMessage(400);
    return { status: 400, contentType: 'text/html', body: r.body.toString('latin1') };
  }
  return { status: 200, contentType: PROM_CONTENT_TYPE, body: renderMetrics(rt, q) };
}

/** Metric family names, TYPE and HELP of everything the exporter can produce (tests, docs). */
export function describeMetrics(): { name: string; type: string; help: string }[] {
  const out: { name: string; type: string; help: string }[] = [];
  for (const [suffix, , t, help] of PROCESS_METRICS) out.push({ name: `haproxy_process_${suffix}`, type: t === 'g' ? 'gauge' : 'counter', help });
  for (const [kind, scope] of [['F', 'frontend'], ['L', 'listener'], ['B', 'backend'], ['S', 'server']] as const) {
    for (const m of PROXY_METRICS) if (m.kinds.includes(kind)) out.push({ name: `haproxy_${scope}_${m.suffix}`, type: m.type, help: m.help });
  }
  return out;
}

// ---- the service --------------------------------------------------------------------------

/** The exporter's reply: chunked, like HAProxy's applet; no body for HEAD. */
export function promReply(body: string, head: boolean): ErrorReply {
  const headers = new HttpHeaders();
  headers.add('cache-control', 'no-cache');
  headers.add('content-type', PROM_CONTENT_TYPE);
  headers.add('transfer-encoding', 'chunked');
  let payload = Buffer.alloc(0);
  if (!head) {
    const b = Buffer.from(body, 'utf8');
    payload = b.length
      ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`, 'latin1'), b, Buffer.from('\r\n0\r\n\r\n', 'latin1')])
      : Buffer.from('0\r\n\r\n', 'latin1');
  }
  return { empty: false, version: 'HTTP/1.1', status: 200, reason: reasonPhrase(200), headers, body: payload, close: false };
}

/** The services `use-service` knows (-dKsvc lists them). */
const SERVICES = new Set(['prometheus-exporter']);
services.push({ name: 'prometheus-exporter', signature: '' });

registerAction({
  name: 'use-service',
  sets: ['http-request', 'tcp-request content'],
  parse(words, pc) {
    const name = words[1];
    if (name === undefined || name === '') return `'use-service' expects a service name.`;
    if (!SERVICES.has(name)) return `'${name}' unknown service name.`;
    if (pc.set !== 'http-request') return `Prometheus exporter service only available on 'http-request' rulesets`;
    if (words.length > 2) return `expects either 'if' or 'unless' followed by a condition but found '${words[2]}'`;
    return {
      name: 'use-service',
      run(h) {
        const rt = h.ctx.rt;
        const req = h.ctx.req;
        let reply: ErrorReply;
        let status: number;
        if (!rt || !req) {
          status = 500;
          reply = errorMessageFor(h.be?.cfg, 500, h.fe.cfg);
        } else {
          try {
            const r = renderPrometheus(rt, req.uri);
            status = r.status;
            reply = r.status === 200 ? promReply(r.body, req.method === 'HEAD') : errorMessageFor(h.be?.cfg, r.status, h.fe.cfg);
          } catch {
            // a bug in a getter must not take the process down
            status = 500;
            reply = errorMessageFor(h.be?.cfg, 500, h.fe.cfg);
          }
        }
        h.verdict = { kind: 'reply', reply, status, deny: false, applet: true, target: '<PROMEX>' };
        return Act.DONE;
      },
    } satisfies Action;
  },
});
