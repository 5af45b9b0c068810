// The parsed configuration: plain data, produced by the parser and consumed by the runtime.
// Defaults sections are ProxyConfig objects too; a proxy starts as a deep copy of the defaults
// section it inherits from, then its own lines apply on top (configuration.txt 4).
import { inheritLog } from '../log/config.js';
import type { ParsedAddress } from '../net/address.js';
import type { BalanceConfig, HashTypeConfig } from '../lb/config.js';
import type { ErrorReplies } from '../http/errors.js';
import type { CookiePersistConfig } from '../proxy/cookie.js';
import type { ProxyRules } from '../actions/rules.js';
import { inheritRules } from '../actions/rules.js';
import { inheritSwitching } from '../actions/keywords.js';
import { copyBalanceHash } from '../lb/hash-expr.js';

export interface Where { file: string; line: number }

export interface StatsSocketConfig {
  where: Where;
  address: ParsedAddress;
  addressText: string;
  level: 'user' | 'operator' | 'admin';
  mode?: number;
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
  exposeFdListeners: boolean;
  name?: string;
  maxconn?: number;
  backlog?: number;
  v4v6?: boolean;
  v6only?: boolean;
}

export interface GlobalConfig {
  daemon: boolean;
  pidfile?: string;
  maxconn: number;            // 0 = not set (computed)
  maxconnSet: boolean;
  /** maxconnrate / maxsessrate: new connections / sessions per second (undefined: none) */
  maxConnRate?: number;
  maxSessRate?: number;
  nbthread: number;
  statsSockets: StatsSocketConfig[];
  statsTimeout: number;       // ms
  statsMaxconn: number;
  ulimitN: number;
  tune: { bufsize: number; maxrewrite: number; httpMaxhdr: number };
  hardStopAfter?: number;
  grace: number;
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
  chroot?: string;
  localpeer?: string;
  node: string;
  description?: string;
  defaultPath?: { mode: 'current' | 'config' | 'parent' | 'origin'; origin?: string };
  pp2NeverSendLocal: boolean;
  quiet: boolean;
  /** tune.pool-low-fd-ratio / tune.pool-high-fd-ratio (percent of the descriptor limit) */
  poolLowFdRatio: number;
  poolHighFdRatio: number;
  /** strict-limits (default on): fail at start-up when the file descriptor limit cannot be raised */
  strictLimits: boolean;
  /** h1-case-adjust / h1-case-adjust-file: lower-case name → name as sent */
  h1CaseAdjust: Map<string, string>;
}

export interface BindConfig {
  where: Where;
  addressText: string;
  address: ParsedAddress;
  name?: string;
  id?: number;
  maxconn: number;            // 0 = none
  backlog: number;            // 0 = default
  v4v6: boolean;
  v6only: boolean;
  acceptProxy: boolean;
  deferAccept: boolean;
  tfo: boolean;
  interface?: string;
  /** TCP_MAXSEG for the listener (negative: lowered per accepted connection) */
  mss?: number;
  mode?: number;              // unix socket permissions
  uid?: number;
  gid?: number;
  user?: string;
  group?: string;
}

export interface ProxyV2Options { ssl: boolean; certCn: boolean; sslCipher: boolean; certSig: boolean; certKey: boolean; authority: boolean; crc32c: boolean; uniqueId: boolean }

/** Server settings shared by `server`, `default-server` and `server-template`. */
export interface ServerOptions {
  weight: number;
  maxconn: number;
  maxqueue: number;
  minconn: number;
  backup: boolean;
  disabled: boolean;
  id?: number;
  slowstart: number;          // ms
  sendProxy: 0 | 1 | 2;
  proxyV2Options?: ProxyV2Options;
  source?: SourceConfig;
  hashKey: 'id' | 'addr' | 'addr-port';
  tcpka?: boolean;
  /** `cookie <value>`: this server's persistence cookie value (src/proxy/cookie.ts) */
  cookie?: string;
  /** idle server connections (HTTP): pool-max-conn (-1 unlimited), pool-purge-delay (ms),
   *  pool-low-conn (a per-thread threshold: with one thread any idle connection may be used),
   *  max-reuse (-1 unlimited) */
  poolMaxConn?: number;
  poolPurgeDelay?: number;
  poolLowConn?: number;
  maxReuse?: number;
}

export interface ServerConfig extends ServerOptions {
  where: Where;
  name: string;
  addressText: string;
  address: ParsedAddress;
  /** the id was given in the configuration (not assigned automatically) */
  idForced?: boolean;
  /** resolved IP when the address was a host name resolved at start-up */
  resolved?: string;
}

export interface SourceConfig {
  address: ParsedAddress;
  addressText: string;
  /** usesrc client / clientip / <addr> (transparent proxy) is not supported: rejected at parse time */
}

export interface Timeouts {
  client?: number;
  server?: number;
  connect?: number;
  queue?: number;
  tunnel?: number;
  clientFin?: number;
  serverFin?: number;
  httpRequest?: number;
  httpKeepAlive?: number;
  tarpit?: number;
}

/** HTTP-mode settings of a proxy (src/http/keywords.ts owns the keywords). */
export interface HttpOptions {
  /** option http-keep-alive (default) / http-server-close / httpclose */
  connMode: 'keep-alive' | 'server-close' | 'close';
  /** option forwardfor [except <net>] [header <name>] [if-none] */
  forwardfor?: { header: string; ifNone: boolean; except?: { addr: string; prefix: number; v6: boolean } };
  /** option originalto [except <net>] [header <name>] */
  originalto?: { header: string; except?: { addr: string; prefix: number; v6: boolean } };
  /** option http-ignore-probes */
  ignoreProbes: boolean;
  /** option accept-unsafe-violations-in-http-request / -response */
  acceptUnsafeReq: boolean;
  acceptUnsafeResp: boolean;
  /** option http-drop-request-trailers / http-drop-response-trailers */
  dropReqTrailers: boolean;
  dropRespTrailers: boolean;
  /** http-reuse never|safe|aggressive|always */
  reuse: 'never' | 'safe' | 'aggressive' | 'always';
  /** monitor-uri <uri> */
  monitorUri?: string;
  /** retry-on: event keywords and status codes (as text); default conn-failure */
  retryOn: string[];
  /** option http-buffer-request */
  bufferRequest: boolean;
  /** option http-pretend-keepalive */
  pretendKeepalive: boolean;
  /** option http-no-delay (haproxy-ts always sends at once: the option changes nothing) */
  noDelay: boolean;
  /** option http-restrict-req-hdr-names */
  restrictHdrNames: 'preserve' | 'delete' | 'reject';
  /** option h1-case-adjust-bogus-client / -server */
  caseAdjustClient: boolean;
  caseAdjustServer: boolean;
}

export function newHttpOptions(): HttpOptions {
  return {
    connMode: 'keep-alive', ignoreProbes: false, acceptUnsafeReq: false, acceptUnsafeResp: false,
    dropReqTrailers: false, dropRespTrailers: false, reuse: 'safe', retryOn: ['conn-failure'],
    bufferRequest: false, pretendKeepalive: false, noDelay: false, restrictHdrNames: 'preserve',
    caseAdjustClient: false, caseAdjustServer: false,
  };
}

export interface ProxyOptions {
  abortonclose: boolean;
  allbackups: boolean;
  clitcpka: boolean;
  srvtcpka: boolean;
  nolinger: boolean;
  redispatch: boolean;
  redispatchInterval: number; // -1 (default): on the last retry; P > 0: every Pth retry; -N: on the Nth retry before the last
}

export type ProxyKind = 'defaults' | 'frontend' | 'backend' | 'listen';

export interface ProxyConfig {
  /** rate-limit sessions: new sessions accepted per second (frontends) */
  rateLimitSessions?: number;
  kind: ProxyKind;
  name: string;
  where: Where;
  id?: number;
  /** the id was given in the configuration (not assigned automatically) */
  idForced?: boolean;
  mode: 'tcp' | 'http';
  modeWhere?: Where;
  disabled: boolean;
  description?: string;
  binds: BindConfig[];
  servers: ServerConfig[];
  defaultServer: ServerOptions;
  defaultBackend?: { name: string; where: Where };
  balance?: BalanceConfig;
  balanceWhere?: Where;
  hashType?: HashTypeConfig;
  hashBalanceFactor: number;
  maxconn: number;            // frontend maxconn; 0 = not set
  backlog: number;
  fullconn: number;           // 0 = computed
  retries: number;
  timeouts: Timeouts;
  options: ProxyOptions;
  http: HttpOptions;
  source?: SourceConfig;
  /** The named defaults section this one was built from, if any (for `from`). */
  from?: string;
  /** errorfile, errorloc*, errorfiles, http-error (src/http/errors.ts) */
  errors?: ErrorReplies;
  /** cookie, dynamic-cookie-key, option persist (src/proxy/cookie.ts) */
  cookiePersist?: CookiePersistConfig;
  /** ACLs and rule sets (src/actions/rules.ts) */
  rules?: ProxyRules;
  /** content switching and other rule-driven settings (src/actions/keywords.ts) */
  switching?: import('../actions/keywords.js').SwitchingConfig;
}

export interface Config {
  files: string[];
  global: GlobalConfig;
  proxies: ProxyConfig[];    // frontends, backends, listens in declaration order
  defaults: Map<string, ProxyConfig>;
}

export function newGlobalConfig(): GlobalConfig {
  return {
    daemon: false,
    maxconn: 0,
    maxconnSet: false,
    nbthread: 1,
    statsSockets: [],
    statsTimeout: 10_000,
    statsMaxconn: 10,
    ulimitN: 0,
    tune: { bufsize: 16384, maxrewrite: 1024, httpMaxhdr: 101 },
    grace: 0,
    node: '',
    pp2NeverSendLocal: false,
    quiet: false,
    h1CaseAdjust: new Map(),
    strictLimits: true,
    poolLowFdRatio: 20,
    poolHighFdRatio: 25,
  };
}

export function newServerOptions(): ServerOptions {
  return {
    weight: 1, maxconn: 0, maxqueue: 0, minconn: 0, backup: false, disabled: false,
    slowstart: 0, sendProxy: 0, hashKey: 'id',
  };
}

export function newProxyConfig(kind: ProxyKind, name: string, where: Where): ProxyConfig {
  return {
    kind, name, where,
    mode: 'tcp',
    disabled: false,
    binds: [],
    servers: [],
    defaultServer: newServerOptions(),
    hashBalanceFactor: 0,
    maxconn: 0,
    backlog: 0,
    fullconn: 0,
    retries: 3,
    timeouts: {},
    options: { abortonclose: false, allbackups: false, clitcpka: false, srvtcpka: false, nolinger: false, redispatch: false, redispatchInterval: -1 },
    http: newHttpOptions(),
  };
}

/** A proxy section inherits everything a defaults section may hold. */
export function inheritFromDefaults(kind: ProxyKind, name: string, where: Where, def: ProxyConfig | undefined): ProxyConfig {
  const px = newProxyConfig(kind, name, where);
  if (!def) return px;
  px.mode = def.mode;
  px.modeWhere = def.modeWhere;
  px.disabled = def.disabled;
  px.defaultServer = structuredClone(def.defaultServer);
  if (kind !== 'backend' && def.defaultBackend) px.defaultBackend = { ...def.defaultBackend };
  if (kind !== 'frontend') {
    if (def.balance) { px.balance = structuredClone(def.balance); copyBalanceHash(def.balance, px.balance); }
    px.balanceWhere = def.balanceWhere;
    if (def.hashType) px.hashType = structuredClone(def.hashType);
    px.hashBalanceFactor = def.hashBalanceFactor;
    px.fullconn = def.fullconn;
    px.retries = def.retries;
    if (def.source) px.source = structuredClone(def.source);
    if (def.cookiePersist) px.cookiePersist = structuredClone(def.cookiePersist);
    // option httpchk / tcp-check rules (src/checks/config.ts): steps are shared, lists copied
    if (def.checkRules) {
      px.checkRules = {
        ...def.checkRules,
        steps: def.checkRules.steps.map((st) => (st.kind === 'http-send' ? { ...st, headers: [...st.headers] } : st)),
      };
    }
  }
  if (kind !== 'backend') {
    px.maxconn = def.maxconn;
    px.rateLimitSessions = def.rateLimitSessions;
    px.backlog = def.backlog;
  }
  px.timeouts = { ...def.timeouts };
  px.options = { ...def.options };
  if (def.errors) px.errors = { directives: [...def.errors.directives], replies: new Map() };
  px.http = structuredClone(def.http);
  if (def.rules) px.rules = inheritRules(def.rules);
  if (def.log) px.log = inheritLog(def.log);
  if (def.switching) px.switching = inheritSwitching(def.switching, kind);
  return px;
}
