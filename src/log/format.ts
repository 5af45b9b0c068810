// Formatted strings ("Custom log format", configuration.txt 8.2.6): the `<fmt>` arguments of
// log-format, unique-id-format, http-request set-header/add-header, redirect, return lf-string,
// use_backend ... A format is compiled once into a flat array of parts (literal strings,
// separators and rendering closures); render() only walks that array.
import { hostname } from 'node:os';
import { parseSampleExpr, ExprError, type SampleExpr } from '../sample/expr.js';
import { sampleToString, parseIpv4, parseIpv6 } from '../sample/types.js';
import type { SmpCtx } from '../sample/context.js';

/* ------------------------------------------------------------------------------------------ */
/* Stream data the aliases read (filled by the streams; see the report for the wiring).      */
/* ------------------------------------------------------------------------------------------ */

declare module '../sample/context.js' {
  interface StreamInfo {
    /** %Tt: ms from accept to the end of the stream (or to the log with logasap); -1/undefined unknown */
    totalTime?: number;
    /** option logasap: the log is emitted early, %Tt and %B get a '+' prefix */
    logasap?: boolean;
    /** %ts: two-letter termination state (8.5); '--' when undefined */
    termState?: string;
    /** %tsc: the two persistence-cookie letters appended to termState; '--' when undefined */
    cookieState?: string;
    /** %rc: the stream was redispatched (count gets a '+' prefix); the count is ctx.retries */
    redispatched?: boolean;
    /** %sq / %bq: position in the server / backend queue when the stream left it (0 unknown) */
    srvQueuePos?: number;
    beQueuePos?: number;
    /** %si:%sp: the server connection's destination; %bi:%bp: its local (source) address */
    beConnDst?: string;
    beConnDstPort?: number;
    beConnSrc?: string;
    beConnSrcPort?: number;
    /** %s when no server was assigned but an internal service answered ('<STATS>', '<CACHE>' ...); default '<NOSRV>' */
    targetName?: string;
    /** %rt: the process-wide request/stream counter (txn.id32); 0 when undefined */
    uniqId?: number;
    /** %lc: the frontend's log counter at the time of the log; 0 when undefined */
    logCount?: number;
    /** %ft: the frontend connection uses SSL/TLS ('~' after the frontend name) */
    feSsl?: boolean;
    /** %sslc / %sslv: client-side cipher and protocol version */
    sslCipher?: string;
    sslVersion?: string;
    /** %CC / %CS: the cookie captured by 'capture cookie' in the request / response */
    capturedReqCookie?: string;
    capturedResCookie?: string;
    /** %hr/%hrl/%hs/%hsl: number of capture slots declared on the frontend (default: array length) */
    reqCapSlots?: number;
    resCapSlots?: number;
    /** %OG: the log origin ('txn_close', 'txn_request', ...); 'unspec' when undefined */
    logOrigin?: string;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Default formats (8.2.2 - 8.2.4)                                                            */
/* ------------------------------------------------------------------------------------------ */

export const TCP_LOG_FMT = '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq';
export const TCP_CLF_LOG_FMT = '%{Q}o %{-Q}ci - - [%T] "TCP " 000 %B "" "" %cp %ms %ft %b %s %Th %Tw %Tc %Tt %U %ts-- %ac %fc %bc %sc %rc %sq %bq "" "" ';
export const HTTP_LOG_FMT = '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r';
export const HTTP_CLF_LOG_FMT = '%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl';
export const HTTPS_LOG_FMT = HTTP_LOG_FMT + ' %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc';
/** the default RFC5424 structured-data part */
export const DEFAULT_RFC5424_SD_FMT = '- ';

/** The legacy default log line (8.2.1), emitted at accept time when no log format option is set. */
export function legacyConnectLog(ctx: SmpCtx): string {
  const c = ctx.conn;
  const fe = ctx.fe;
  return `Connect from ${plainAddr(c.src)}:${c.srcPort} to ${plainAddr(c.dst)}:${c.dstPort} (${fe ? fe.name : '-'}/${fe && fe.mode === 'http' ? 'HTTP' : 'TCP'})`;
}

/** The legacy connection-error log line (8.2.5) used without error-log-format. */
export function legacyErrorLog(ctx: SmpCtx, bindName: string, message: string): string {
  const c = ctx.conn;
  return `${plainAddr(c.src)}:${c.srcPort} [${dateLocalMs(c.acceptedAt)}] ${ctx.fe ? ctx.fe.name : '-'}/${bindName}: ${message}`;
}

/* ------------------------------------------------------------------------------------------ */
/* Compiled formats                                                                           */
/* ------------------------------------------------------------------------------------------ */

/** Where the result goes: logs (missing values print '-') or HTTP/payload (missing print nothing). */
export type FormatStyle = 'log' | 'http';

export interface FormatOptions {
  /** the mode of the proxy the format is in; 'tcp' rejects the HTTP-only aliases */
  proxyMode?: 'tcp' | 'http';
  /** file:line, for messages */
  where?: string;
  proxyName?: string;
  file?: string;
  /** USE.* place where the sample expressions are evaluated (fetch validity) */
  use?: number;
  useLabel?: string;
  /** 'log' (default): log-format, log-format-sd, error-log-format, unique-id-format; 'http': everything else */
  style?: FormatStyle;
  /** blanks are separators merged into one space (default: style === 'log') */
  mergeSpaces?: boolean;
}

type PartFn = (ctx: SmpCtx) => string;
/** a literal, a separator (null) or a dynamic item */
type Part = string | null | PartFn;

export class LogFormat {
  readonly text: string;
  /** the aliases used (without '%'), e.g. for deciding what the stream must keep */
  readonly aliases: readonly string[];
  /** the sample expressions used */
  readonly exprs: readonly SampleExpr[];
  private readonly parts: Part[];
  private readonly constant: string | undefined;

  constructor(text: string, parts: Part[], aliases: string[], exprs: SampleExpr[]) {
    this.text = text;
    this.parts = parts;
    this.aliases = aliases;
    this.exprs = exprs;
    let cst: string | undefined = '';
    for (const p of parts) {
      if (typeof p === 'function') { cst = undefined; break; }
      if (p === null) { if (cst.length && cst[cst.length - 1] !== ' ') cst += ' '; } else if (p.length) cst += p;
    }
    this.constant = cst;
  }

  /** True when the result never changes (no alias nor expression). */
  get isConstant(): boolean { return this.constant !== undefined; }

  render(ctx: SmpCtx): string {
    if (this.constant !== undefined) return this.constant;
    const parts = this.parts;
    let out = '';
    let lastSpace = true;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p === null) {
        if (!lastSpace) { out += ' '; lastSpace = true; }
        continue;
      }
      const s = typeof p === 'string' ? p : p(ctx);
      if (s.length !== 0) { out += s; lastSpace = false; }
    }
    return out;
  }
}

export type CompileResult =
  | { fmt: LogFormat; error?: undefined; warnings: string[] }
  | { fmt?: undefined; error: string; warnings: string[] };

/* ---- flags ---- */
const F_Q = 1, F_X = 2, F_E = 4, F_M = 8, F_BIN = 16, F_JSON = 32, F_CBOR = 64;
const FLAG_NAMES: Record<string, number> = { Q: F_Q, X: F_X, E: F_E, M: F_M, bin: F_BIN, json: F_JSON, cbor: F_CBOR };

/** Applies `+A,-B` to `flags`; unknown flags are ignored as haproxy does (with a warning here). */
function applyFlags(args: string, flags: number, warnings: string[], where: string): number {
  for (const item of args.split(',')) {
    if (item[0] !== '+' && item[0] !== '-') continue;
    const name = item.slice(1);
    const f = FLAG_NAMES[name];
    if (f === undefined) { warnings.push(`${where}ignoring unknown format flag '${item}'`); continue; }
    flags = item[0] === '+' ? flags | f : flags & ~f;
  }
  return flags;
}

/* ---- aliases ---- */
interface AliasDef { http?: boolean; build: (o: ItemOpts) => PartFn }
interface ItemOpts { flags: number; style: FormatStyle; missing: string }

const ALIASES = new Map<string, AliasDef>();
function alias(names: string, build: AliasDef['build'], http = false): void {
  for (const n of names.split(' ')) ALIASES.set(n, { http, build });
}

const hex = (n: number, w: number): string => (n >>> 0).toString(16).toUpperCase().padStart(w, '0');

/** Text the way haproxy prints a string item: quoted/escaped per flags, placeholder when absent. */
function text(v: string | undefined, o: ItemOpts): string {
  if (v === undefined || v.length === 0) return o.missing;
  if (o.flags & F_E) v = escE(v);
  return o.flags & F_Q ? '"' + v + '"' : v;
}

const RE_ESC = /["\\\]]/;
const RE_ESC_G = /["\\\]]/g;
function escE(v: string): string { return RE_ESC.test(v) ? v.replace(RE_ESC_G, '\\$&') : v; }

function hashEncoder(extra: string): (s: string) => string {
  const table = new Array<boolean>(256).fill(false);
  for (let c = 0; c < 256; c++) if (c < 32 || c >= 127) table[c] = true;
  for (const ch of extra) table[ch.charCodeAt(0)] = true;
  return (s: string) => {
    let i = 0;
    for (; i < s.length; i++) if (table[s.charCodeAt(i) & 0xff]) break;
    if (i === s.length) return s;
    let out = s.slice(0, i);
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i) & 0xff;
      out += table[c] ? '#' + hex(c, 2) : s[i];
    }
    return out;
  };
}
/** request line / URI parts in logs */
const urlEnc = hashEncoder('#"');
/** captured headers in logs */
const hdrEnc = hashEncoder('#"{|}');

/** Characters a header field value may not carry become %XX (samples in 'http' style). */
function httpEnc(s: string): string {
  let i = 0;
  for (; i < s.length; i++) { const c = s.charCodeAt(i); if ((c < 32 && c !== 9) || c === 127) break; }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += (c < 32 && c !== 9) || c === 127 ? '%' + hex(c, 2) : s[i];
  }
  return out;
}

/** An encoded chunk (URI parts): nothing or "" when empty, never '-'. */
function chunk(v: string, o: ItemOpts): string {
  v = urlEnc(v);
  if (o.flags & F_E) v = escE(v);
  return o.flags & F_Q ? '"' + v + '"' : v;
}

function plainAddr(a: string): string { return a.startsWith('::ffff:') && parseIpv4(a.slice(7)) !== undefined ? a.slice(7) : a; }

function ipItem(get: (ctx: SmpCtx) => string | undefined, o: ItemOpts): PartFn {
  if (o.flags & F_X) {
    return (ctx) => {
      const a = get(ctx);
      if (!a) return o.missing;
      const p = plainAddr(a);
      const v4 = parseIpv4(p);
      if (v4 !== undefined) return hex(v4, 8);
      const v6 = parseIpv6(p);
      return v6 ? v6.toString('hex').toUpperCase() : text(a, o);
    };
  }
  return (ctx) => { const a = get(ctx); return a ? text(plainAddr(a), o) : o.missing; };
}
function portItem(get: (ctx: SmpCtx) => number | undefined, o: ItemOpts): PartFn {
  const x = o.flags & F_X;
  return (ctx) => { const p = get(ctx); return p === undefined ? o.missing : x ? hex(p, 4) : String(p); };
}

/* dates */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? '0' + n : String(n));
const p3 = (n: number): string => (n < 10 ? '00' + n : n < 100 ? '0' + n : String(n));
function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return (off < 0 ? '-' : '+') + p2(Math.floor(a / 60)) + p2(a % 60);
}
// one-entry caches per representation: logs of a same second share the text
let cLocSec = -1, cLocTxt = '';
function dateLocalSec(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== cLocSec) {
    const d = new Date(sec * 1000);
    cLocTxt = `${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    cLocSec = sec;
  }
  return cLocTxt;
}
/** dd/Mon/yyyy:HH:MM:SS.mmm in local time (%t, %tr) */
export function dateLocalMs(ms: number): string { return dateLocalSec(ms) + '.' + p3(((ms % 1000) + 1000) % 1000); }
/** dd/Mon/yyyy:HH:MM:SS +0000 (%T, %trg) */
export function dateGmt(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}
/** dd/Mon/yyyy:HH:MM:SS +hhmm in local time (%Tl, %trl) */
export function dateLocalTz(ms: number): string { return dateLocalSec(ms) + ' ' + tzOffset(new Date(ms)); }

const reqDate = (ctx: SmpCtx): number => ctx.reqStartedAt || ctx.conn.acceptedAt;

alias('t', () => (ctx) => dateLocalMs(ctx.conn.acceptedAt));
alias('T', () => (ctx) => dateGmt(ctx.conn.acceptedAt));
alias('Tl', () => (ctx) => dateLocalTz(ctx.conn.acceptedAt));
alias('Ts', (o) => (o.flags & F_X
  ? (ctx) => hex(Math.floor(ctx.conn.acceptedAt / 1000), 8)
  : (ctx) => String(Math.floor(ctx.conn.acceptedAt / 1000))));
alias('ms', () => (ctx) => p3(ctx.conn.acceptedAt % 1000));
alias('tr', () => (ctx) => dateLocalMs(reqDate(ctx)), true);
alias('trg', () => (ctx) => dateGmt(reqDate(ctx)), true);
alias('trl', () => (ctx) => dateLocalTz(reqDate(ctx)), true);

/* timers (ms, -1 unknown) */
const nn = (n: number): number => (n < 0 ? 0 : n);
const tTt = (ctx: SmpCtx): number => ctx.stream?.totalTime ?? -1;
const tTq = (ctx: SmpCtx): number => { const t = ctx.timers; return t.request < 0 ? -1 : nn(t.handshake) + nn(t.idle) + t.request; };
alias('Th', () => (ctx) => String(ctx.timers.handshake));
alias('Ti', () => (ctx) => String(ctx.timers.idle), true);
alias('TR', () => (ctx) => String(ctx.timers.request), true);
alias('Tq', () => (ctx) => String(tTq(ctx)), true);
alias('Tw', () => (ctx) => String(ctx.timers.queue));
alias('Tc', () => (ctx) => String(ctx.timers.connect));
alias('Tr', () => (ctx) => String(ctx.timers.response), true);
alias('Tt', () => (ctx) => { const t = tTt(ctx); return (ctx.stream?.logasap && t >= 0 ? '+' : '') + t; });
alias('Ta', () => (ctx) => { const t = tTt(ctx); return t < 0 ? '-1' : (ctx.stream?.logasap ? '+' : '') + (t - nn(ctx.timers.handshake) - nn(ctx.timers.idle)); }, true);
alias('Tu', () => (ctx) => { const t = tTt(ctx); return String(t < 0 ? -1 : t - nn(ctx.timers.idle)); });
alias('Td', () => (ctx) => {
  const t = tTt(ctx), q = tTq(ctx), tm = ctx.timers;
  return String(t < 0 || q < 0 || tm.queue < 0 || tm.connect < 0 || tm.response < 0 ? -1 : t - (q + tm.queue + tm.connect + tm.response));
});

/* addresses */
alias('ci', (o) => ipItem((ctx) => ctx.conn.src, o));
alias('cp', (o) => portItem((ctx) => ctx.conn.srcPort, o));
alias('fi', (o) => ipItem((ctx) => ctx.conn.dst, o));
alias('fp', (o) => portItem((ctx) => ctx.conn.dstPort, o));
alias('bi', (o) => ipItem((ctx) => ctx.stream?.beConnSrc, o));
alias('bp', (o) => portItem((ctx) => ctx.stream?.beConnSrcPort, o));
alias('si', (o) => ipItem((ctx) => ctx.stream?.beConnDst, o));
alias('sp', (o) => portItem((ctx) => ctx.stream?.beConnDstPort, o));

/* names */
alias('f', (o) => (ctx) => text(ctx.fe?.name, o));
alias('ft', (o) => (ctx) => text(ctx.fe ? (ctx.stream?.feSsl ? ctx.fe.name + '~' : ctx.fe.name) : undefined, o));
alias('b', (o) => (ctx) => text((ctx.be ?? ctx.fe)?.name, o));
alias('s', (o) => (ctx) => text(ctx.srv ? ctx.srv.name : ctx.stream?.targetName ?? '<NOSRV>', o));
let HOSTNAME: string | undefined;
alias('H', (o) => { HOSTNAME ??= hostname(); return () => text(HOSTNAME, o); });
alias('ID', (o) => (ctx) => text(ctx.uniqueId, o));
alias('sslc', (o) => (ctx) => text(ctx.stream?.sslCipher, o));
alias('sslv', (o) => (ctx) => text(ctx.stream?.sslVersion, o));
alias('OG', (o) => (ctx) => text(ctx.stream?.logOrigin ?? 'unspec', o));
alias('pid', (o) => { const s = o.flags & F_X ? hex(process.pid, 4) : String(process.pid); return () => s; });

/* counters */
alias('ac', () => (ctx) => String(ctx.rt?.curConns ?? 0));
alias('fc', () => (ctx) => String(ctx.fe?.feCounters.cur ?? 0));
alias('bc', () => (ctx) => String((ctx.be ?? ctx.fe)?.counters.cur ?? 0));
alias('sc', () => (ctx) => String(ctx.srv?.cur ?? 0));
alias('sq', () => (ctx) => String(ctx.stream?.srvQueuePos ?? 0));
alias('bq', () => (ctx) => String(ctx.stream?.beQueuePos ?? 0));
alias('rc', () => (ctx) => (ctx.stream?.redispatched ? '+' : '') + ctx.retries);
alias('rt', (o) => (o.flags & F_X ? (ctx) => hex(ctx.stream?.uniqId ?? 0, 4) : (ctx) => String(ctx.stream?.uniqId ?? 0)));
alias('lc', () => (ctx) => String(ctx.stream?.logCount ?? 0));
alias('B', () => (ctx) => { const s = ctx.stream; return s ? (s.logasap ? '+' : '') + s.bytesOut : '0'; });
alias('U', () => (ctx) => String(ctx.stream?.bytesIn ?? 0));
alias('ST', () => (ctx) => String(ctx.status ? ctx.status : ctx.req || ctx.fe?.mode === 'http' ? -1 : 0));
alias('ts', () => (ctx) => ctx.stream?.termState ?? '--');
alias('tsc', () => (ctx) => (ctx.stream?.termState ?? '--') + (ctx.stream?.cookieState ?? '--'));

/* HTTP */
alias('CC', (o) => (ctx) => text(ctx.stream?.capturedReqCookie, o), true);
alias('CS', (o) => (ctx) => text(ctx.stream?.capturedResCookie, o), true);
alias('HM', (o) => (ctx) => chunk(ctx.req ? ctx.req.method : '', o), true);
alias('HU', (o) => (ctx) => chunk(ctx.req ? ctx.req.uri : '', o), true);
alias('HP', (o) => (ctx) => chunk(ctx.req ? uriPath(ctx.req.uri) : '', o), true);
alias('HPO', (o) => (ctx) => chunk(ctx.req ? pathOnly(ctx.req.uri) : '', o), true);
alias('HQ', (o) => (ctx) => chunk(ctx.req ? uriQuery(ctx.req.uri) : '', o), true);
alias('HV', (o) => (ctx) => chunk(ctx.req ? ctx.req.version : '', o), true);
alias('r', (o) => (ctx) => {
  const r = ctx.req;
  const line = r ? urlEnc(r.method) + ' ' + urlEnc(r.uri) + ' ' + urlEnc(r.version) : '<BADREQ>';
  const v = o.flags & F_E ? escE(line) : line;
  return o.flags & F_Q ? '"' + v + '"' : v;
}, true);
alias('hr', (o) => (ctx) => capBraces(ctx.reqCaptures, ctx.stream?.reqCapSlots, o));
alias('hs', (o) => (ctx) => capBraces(ctx.resCaptures, ctx.stream?.resCapSlots, o));
alias('hrl', (o) => (ctx) => capList(ctx.reqCaptures, ctx.stream?.reqCapSlots, o));
alias('hsl', (o) => (ctx) => capList(ctx.resCaptures, ctx.stream?.resCapSlots, o));

function uriPath(uri: string): string { const q = uri.indexOf('?'); return q < 0 ? uri : uri.slice(0, q); }
function uriQuery(uri: string): string { const q = uri.indexOf('?'); return q < 0 ? '' : uri.slice(q); }
function pathOnly(uri: string): string {
  let p = uriPath(uri);
  if (p[0] !== '/') {
    // absolute-form: skip scheme://authority
    const s = p.indexOf('://');
    if (s > 0) { const slash = p.indexOf('/', s + 3); p = slash < 0 ? '' : p.slice(slash); }
  }
  return p;
}

function capBraces(caps: (string | undefined)[], slots: number | undefined, o: ItemOpts): string {
  const n = slots ?? caps.length;
  if (n === 0) return '';
  let s = '{';
  for (let i = 0; i < n; i++) {
    if (i) s += '|';
    const v = caps[i];
    if (v !== undefined) s += hdrEnc(v);
  }
  s += '}';
  return o.flags & F_Q ? '"' + s + '"' : s;
}
function capList(caps: (string | undefined)[], slots: number | undefined, o: ItemOpts): string {
  const n = slots ?? caps.length;
  const q = o.flags & F_Q;
  let s = '';
  for (let i = 0; i < n; i++) {
    if (i) s += ' ';
    const v = caps[i];
    if (q) s += '"' + (v !== undefined ? hdrEnc(v) : '') + '"';
    else s += v !== undefined ? hdrEnc(v) : '-';
  }
  return s;
}

/** The aliases HAProxy restricts to HTTP mode. */
export function isHttpOnlyAlias(name: string): boolean { return ALIASES.get(name)?.http === true; }
export function knownAliases(): string[] { return [...ALIASES.keys()]; }

/* ---- JSON encoding (%{+json}) ---- */

/** Aliases whose value is a number (8.2.6 table, type "numeric"): JSON numbers. */
const NUMERIC_ALIASES = new Set([
  'Ts', 'ms', 'Th', 'Ti', 'TR', 'Tq', 'Tw', 'Tc', 'Tr', 'Tt', 'Ta', 'Tu', 'Td', 'cp', 'fp', 'bp', 'sp',
  'ac', 'fc', 'bc', 'sc', 'sq', 'bq', 'rc', 'rt', 'lc', 'B', 'U', 'ST', 'pid',
]);
const MISSING = '\u0000';
type ItemType = 'str' | 'sint' | 'bool' | undefined;

export function jsonString(v: string): string {
  let out = '"';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c < 32 || c === 127) {
      out += c === 10 ? '\\n' : c === 13 ? '\\r' : c === 9 ? '\\t' : '\\u' + c.toString(16).padStart(4, '0');
    } else out += v[i];
  }
  return out + '"';
}

/** A typed value from an item's text (`numeric`: a number when it is one), cast to `type` if given. */
type EncValue = null | boolean | number | string;
function encValue(text: string | undefined, numeric: boolean, type: ItemType): EncValue {
  if (text === undefined || text === MISSING) return null;
  if (type === 'bool') return text !== '' && text !== '0' && text !== 'false';
  if (type === 'sint' || (type === undefined && numeric)) {
    // incomplete values ('+' prefix with logasap) are encoded as their number
    const t = text[0] === '+' ? text.slice(1) : text;
    if (/^-?\d+$/.test(t)) return Number(t);
    return type === 'sint' ? null : text;
  }
  return text;
}

function jsonOf(v: EncValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  return jsonString(v);
}

/* ---- CBOR encoding (%{+cbor}, RFC 8949): the bytes as a latin1 string, hex unless +bin ---- */

function cborHead(major: number, n: number): string {
  const m = major << 5;
  if (n < 24) return String.fromCharCode(m | n);
  if (n < 0x100) return String.fromCharCode(m | 24, n);
  if (n < 0x10000) return String.fromCharCode(m | 25, n >> 8, n & 0xff);
  if (n < 0x100000000) return String.fromCharCode(m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const hi = Math.floor(n / 0x100000000), lo = n >>> 0;
  return String.fromCharCode(m | 27, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff,
    (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

/** A text string item (major type 3); the text is latin1 (one char per byte), as samples are. */
export function cborText(v: string): string { return cborHead(3, v.length) + v; }

function cborOf(v: EncValue): string {
  if (v === null) return '\xf6';
  if (typeof v === 'boolean') return v ? '\xf5' : '\xf4';
  if (typeof v === 'number') return v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v);
  return cborText(v);
}

const HEXU = '0123456789ABCDEF';
function hexOf(bytes: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) { const c = bytes.charCodeAt(i); out += HEXU[c >> 4]! + HEXU[c & 15]!; }
  return out;
}

/* ---- sample items ---- */
function exprItem(expr: SampleExpr, o: ItemOpts): PartFn {
  const f = o.flags;
  if (o.style === 'http') {
    // header/payload contents: absent is empty, quoting does not apply, forbidden bytes %-encoded
    return (ctx) => {
      const smp = expr.eval(ctx);
      if (smp === undefined) return '';
      const s = smp.t === 'bin' && f & F_BIN ? (smp.v as Buffer).toString('latin1') : sampleToString(smp);
      if (s === undefined || s.length === 0) return '';
      const e = httpEnc(s);
      return f & F_E ? escE(e) : e;
    };
  }
  return (ctx) => {
    const smp = expr.eval(ctx);
    if (smp === undefined) return o.missing;
    return text(smp.t === 'bin' && f & F_BIN ? (smp.v as Buffer).toString('latin1') : sampleToString(smp), o);
  };
}

/** Finds the ']' closing a sample expression starting at `p`, honouring quotes, escapes and parentheses. */
function findExprEnd(s: string, p: number): number {
  let q = '';
  let depth = 0;
  for (let i = p; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '\\') { i++; continue; }
      if (c === q) q = '';
      continue;
    }
    if (c === '\\') { i++; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '(') depth++;
    else if (c === ')') { if (depth > 0) depth--; }
    else if (c === ']' && depth === 0) return i;
  }
  return -1;
}

const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined): boolean => isAlpha(c) || isDigit(c);

/**
 * Compiles a formatted string. Errors carry haproxy's wording; warnings are for the caller to
 * print (unknown flags ...).
 */
export function compileFormat(fmtText: string, opts: FormatOptions = {}): CompileResult {
  const warnings: string[] = [];
  const where = opts.where ? `parsing [${opts.where}] : ` : '';
  const style: FormatStyle = opts.style ?? 'log';
  const merge = opts.mergeSpaces ?? style === 'log';
  const parts: Part[] = [];
  const aliases: string[] = [];
  const exprs: SampleExpr[] = [];
  let defFlags = 0;
  /** %{+json}o seen: the line is an object of the named items */
  let jsonObject = false;
  /** the global encoding is cbor (else json); +bin: raw bytes rather than hex */
  let objCbor = false, objBin = false;
  const members: { name: string; value: (ctx: SmpCtx) => EncValue }[] = [];
  let lit = '';
  const flushLit = (): void => { if (lit) { parts.push(lit); lit = ''; } };
  const fail = (error: string): CompileResult => ({ error, warnings });
  const s = fmtText;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' && merge) {
      flushLit();
      if (parts[parts.length - 1] !== null) parts.push(null);
      i++;
      continue;
    }
    if (c !== '%') { lit += c; i++; continue; }
    // an item
    i++;
    if (i >= s.length) return fail(`truncated line after '%'`);
    if (s[i] === '%') { lit += '%'; i++; continue; }
    // %(name[:type]): only meaningful with the json/cbor encodings, which are not supported
    let name: string | undefined;
    let type: string | undefined;
    if (s[i] === '(') {
      let j = i + 1;
      const nameStart = j;
      let typeStart = -1;
      for (; j < s.length; j++) {
        const ch = s[j]!;
        if (ch === ')') break;
        if (ch === ':' && typeStart < 0) { typeStart = j + 1; continue; }
        if (typeStart < 0 && !isAlnum(ch) && ch !== '_' && ch !== '-') {
          return fail(`invalid character in custom name near '${ch}' at position ${j} line : '${s}'`);
        }
      }
      if (j >= s.length) return fail(`truncated line after '%'`);
      name = s.slice(nameStart, typeStart < 0 ? j : typeStart - 1);
      if (typeStart >= 0) {
        type = s.slice(typeStart, j);
        if (type !== 'str' && type !== 'sint' && type !== 'bool') {
          return fail(`unexpected output type '${type}' at position ${typeStart} line : '${s}'. Supported types are: str, sint, bool`);
        }
      }
      i = j + 1;
      if (i >= s.length) return fail(`truncated line after '%'`);
    }
    let args: string | undefined;
    if (s[i] === '{') {
      const close = s.indexOf('}', i + 1);
      if (close < 0) return fail(`truncated line after '${s.slice(i + 1)}'`);
      args = s.slice(i + 1, close);
      i = close + 1;
      if (i >= s.length) return fail(`truncated line after '${args}'`);
      if (s[i] !== '[' && !isAlnum(s[i])) return fail(`parse argument modifier without tag name near '%{${args}}'`);
    }
    const flags = args !== undefined ? applyFlags(args, defFlags, warnings, where) : defFlags;
    const itemType = type as ItemType;
    /** json/cbor: the item's value encoded; a member of the object (global encoding) or a bare value */
    const cbor = (flags & F_CBOR) !== 0;
    const addEncoded = (get: (ctx: SmpCtx) => EncValue): void => {
      if (jsonObject) { if (name) members.push({ name, value: get }); return; }
      flushLit();
      if (cbor) {
        const bin = (flags & F_BIN) !== 0;
        parts.push((ctx) => { const b = cborOf(get(ctx)); return bin ? b : hexOf(b); });
        return;
      }
      parts.push(name && (defFlags & F_JSON) ? (ctx) => jsonString(name!) + ': ' + jsonOf(get(ctx)) : (ctx) => jsonOf(get(ctx)));
    };
    if (s[i] === '[') {
      const start = i + 1;
      const end = findExprEnd(s, start);
      const exprText = end < 0 ? s.slice(start) : s.slice(start, end);
      if (!exprText) return fail(end < 0 ? `truncated line after '%'` : `failed to parse sample expression <${s.slice(start)}> : missing fetch method`);
      let expr: SampleExpr;
      try {
        expr = parseSampleExpr(exprText, { where: opts.where ?? '', proxyName: opts.proxyName, file: opts.file, use: opts.use, useLabel: opts.useLabel });
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        return fail(`failed to parse sample expression <${s.slice(start)}> : ${e.message}`);
      }
      if (end < 0) return fail(`missing ']' after '${exprText}'`);
      exprs.push(expr);
      i = end + 1;
      if (flags & (F_JSON | F_CBOR)) {
        addEncoded((ctx) => {
          const smp = expr.eval(ctx);
          if (smp === undefined) return null;
          if (itemType === undefined && smp.t === 'bool') return smp.v === true;
          return encValue(sampleToString(smp), itemType === undefined && smp.t === 'sint', itemType);
        });
        continue;
      }
      if (jsonObject) continue;
      flushLit();
      parts.push(exprItem(expr, itemOpts(flags, style)));
      continue;
    }
    if (isAlpha(s[i])) {
      let j = i + 1;
      while (j < s.length && isAlnum(s[j])) j++;
      const tag = s.slice(i, j);
      i = j;
      if (tag === 'o') {
        defFlags = flags;
        if (flags & (F_JSON | F_CBOR)) { jsonObject = true; objCbor = (flags & F_CBOR) !== 0; objBin = (flags & F_BIN) !== 0; lit = ''; parts.length = 0; }
        continue;
      }
      const def = ALIASES.get(tag);
      if (!def) return fail(`no such format tag '${tag}'. If you wanted to emit the '%' character verbatim, you need to use '%%'`);
      if (def.http && opts.proxyMode === 'tcp') return fail(`format tag '${tag}' is reserved for HTTP mode`);
      aliases.push(tag);
      if (flags & (F_JSON | F_CBOR)) {
        const raw = def.build({ flags: flags & ~(F_Q | F_E | F_JSON | F_CBOR | F_BIN), style: 'log', missing: MISSING });
        const numeric = NUMERIC_ALIASES.has(tag);
        addEncoded((ctx) => encValue(raw(ctx), numeric, itemType));
        continue;
      }
      if (jsonObject) continue;
      flushLit();
      parts.push(def.build(itemOpts(flags, style)));
      continue;
    }
    if (name !== undefined || args !== undefined) return fail(`truncated line after '%'`);
    const ch = s[i]!;
    if (isDigit(ch) || ch === ' ' || ch === '\t') {
      return fail(`unexpected tag name near '${ch}' at position ${i} line : '${s}'. Maybe you want to write a single '%', use the syntax '%%'`);
    }
    // any other character: the '%' is dropped and the text goes on
  }
  if (jsonObject && objCbor) {
    // a CBOR map of the named items (indefinite length: 0xbf ... 0xff), hex unless +bin
    const list = members;
    const keys = list.map((m) => cborText(m.name));
    parts.length = 0;
    parts.push((ctx) => {
      let out = '\xbf';
      for (let k = 0; k < list.length; k++) out += keys[k] + cborOf(list[k]!.value(ctx));
      out += '\xff';
      return objBin ? out : hexOf(out);
    });
  } else if (jsonObject) {
    // the object of the named items; literal text and unnamed items are left out
    const list = members;
    const keys = list.map((m) => jsonString(m.name) + ': ');
    parts.length = 0;
    parts.push((ctx) => {
      let out = '{';
      for (let k = 0; k < list.length; k++) out += (k ? ', ' : '') + keys[k] + jsonOf(list[k]!.value(ctx));
      return out + '}';
    });
  } else flushLit();
  return { fmt: new LogFormat(fmtText, parts, aliases, exprs), warnings };
}

function itemOpts(flags: number, style: FormatStyle): ItemOpts {
  return { flags, style, missing: flags & F_Q ? '""' : style === 'http' ? '' : '-' };
}

/** Compiles or throws (the message is the error of compileFormat). */
export function compileFormatOrThrow(text: string, opts: FormatOptions = {}): LogFormat {
  const r = compileFormat(text, opts);
  if (r.error !== undefined) throw new Error(r.error);
  return r.fmt;
}
