// Log forwarding (configuration.txt 12.6 "log-forward" sections): syslog messages received over
// UDP ("dgram-bind") or TCP ("bind", RFC6587 octet counting or non-transparent framing) are
// parsed (RFC5424, RFC3164, bare priority or raw text) and sent again to the section's "log"
// targets, in the target's format or, without one, in the format they came in. Behaviour
// checked against HAProxy 2.6 forwarding the same messages (test/interop/log-forward-interop).
import dgram from 'node:dgram';
import net from 'node:net';
import { registerSection, registerPostParse, type ParseCtx } from '../registry/registry.js';
import { parseAddress } from '../net/address.js';
import { parseTime, parseUint } from '../util/units.js';
import { dateIso, nowMicros, logGlobals, type Logger, type LoggerConfig, type LogFormatName } from './syslog.js';
import { parseLogLine } from './config.js';

export type HostStrategy = 'replace' | 'fill' | 'keep' | 'append';

export interface LogForwardConfig {
  name: string;
  where: { file: string; line: number };
  dgramBinds: { host: string; port: number; where: { file: string; line: number } }[];
  binds: { host: string; port: number; where: { file: string; line: number } }[];
  loggers: (LoggerConfig | 'global')[];
  maxconn: number;
  backlog?: number;
  timeoutClient?: number;
  assumeNtf: boolean;
  dontParse: boolean;
  host: HostStrategy;
}

declare module '../config/model.js' {
  interface GlobalConfig {
    /** log-forward sections */
    logForwards?: LogForwardConfig[];
  }
}

/* ------------------------------------------------------------------------------------------ */
/* messages                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** A received syslog message split into its fields (empty string: absent or '-'). */
export interface SyslogMessage {
  /** the format it was recognised as */
  format: 'rfc5424' | 'rfc3164' | 'priority' | 'raw';
  /** -1 when the message has no priority */
  facility: number;
  level: number;
  /** the timestamp as received: RFC5424 text ('-' for the nil value) or RFC3164 text; '' none */
  ts: string;
  host: string;
  tag: string;
  pid: string;
  msgid: string;
  sd: string;
  msg: string;
}

const RE_3164_DATE = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 0-3]\d \d\d:\d\d:\d\d /;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const nil = (s: string): string => (s === '-' ? '' : s);

/** Splits a message; `dontParse` keeps it whole (option dont-parse-log). */
export function parseSyslog(raw: string, dontParse = false): SyslogMessage {
  // trailing line feeds, carriage returns and NULs are not part of the message
  let end = raw.length;
  while (end > 0) { const c = raw.charCodeAt(end - 1); if (c === 10 || c === 13 || c === 0) end--; else break; }
  const s = end === raw.length ? raw : raw.slice(0, end);
  const m: SyslogMessage = { format: 'raw', facility: -1, level: 0, ts: '', host: '', tag: '', pid: '', msgid: '', sd: '', msg: s };
  if (dontParse) return m;
  const pri = /^<(\d{1,3})>/.exec(s);
  if (!pri) return m;
  const v = Number(pri[1]);
  m.facility = v >> 3;
  m.level = v & 7;
  m.format = 'priority';
  const p = pri[0].length;
  m.msg = s.slice(p);
  if (s.startsWith('1 ', p)) { parse5424(s, p + 2, m); return m; }
  if (RE_3164_DATE.test(s.slice(p, p + 16))) parse3164(s, p, m);
  return m;
}

function parse5424(s: string, p: number, m: SyslogMessage): void {
  const f: string[] = [];
  for (let k = 0; k < 5; k++) {
    const sp = s.indexOf(' ', p);
    if (sp <= p) return;
    f.push(s.slice(p, sp));
    p = sp + 1;
  }
  // structured data: '-' or one or more [id param="value" ...] elements
  let sd: string;
  if (s[p] === '-') { sd = '-'; p++; } else if (s[p] === '[') {
    const start = p;
    while (s[p] === '[') {
      let q = false;
      p++;
      for (; p < s.length; p++) {
        const c = s[p];
        if (q) { if (c === '\\') p++; else if (c === '"') q = false; continue; }
        if (c === '"') q = true;
        else if (c === ']') break;
      }
      if (p >= s.length) return;
      p++;
    }
    sd = s.slice(start, p);
  } else return;
  if (p < s.length && s[p] !== ' ') return;
  m.format = 'rfc5424';
  m.ts = f[0]!;
  m.host = nil(f[1]!);
  m.tag = nil(f[2]!);
  m.pid = nil(f[3]!);
  m.msgid = nil(f[4]!);
  m.sd = nil(sd);
  m.msg = p < s.length ? s.slice(p + 1) : '';
}

function parse3164(s: string, p: number, m: SyslogMessage): void {
  const ts = s.slice(p, p + 15);
  let q = p + 16;
  const sp = s.indexOf(' ', q);
  if (sp <= q) return; // no host name followed by a space: not a header
  const host = s.slice(q, sp);
  q = sp + 1;
  // an optional "tag: " or "tag[pid]: "
  let tag = '', pid = '';
  let k = q;
  while (k < s.length && s[k] !== ' ' && s[k] !== '[' && s[k] !== ':') k++;
  if (k > q) {
    if (s[k] === ':' && s[k + 1] === ' ') { tag = s.slice(q, k); q = k + 2; } else if (s[k] === '[') {
      const close = s.indexOf(']', k);
      if (close > k && s[close + 1] === ':' && s[close + 2] === ' ' && !s.slice(k + 1, close).includes(' ')) {
        tag = s.slice(q, k); pid = s.slice(k + 1, close); q = close + 3;
      }
    }
  }
  m.format = 'rfc3164';
  m.ts = ts;
  m.host = host;
  m.tag = tag;
  m.pid = pid;
  m.msg = s.slice(q);
}

/* ---- dates ---- */

const p2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** RFC5424/ISO timestamp for the output: the received one, converted, or now. */
function isoTs(m: SyslogMessage, keepNil: boolean): string {
  if (m.format === 'rfc5424') {
    if (m.ts !== '-') return m.ts;
    if (keepNil) return '-';
  } else if (m.format === 'rfc3164') {
    // no year nor zone in RFC3164: the current year, an unknown offset
    const mon = MONTHS.indexOf(m.ts.slice(0, 3)) + 1;
    const day = Number(m.ts.slice(4, 6).trim());
    return `${new Date().getFullYear()}-${p2(mon)}-${p2(day)}T${m.ts.slice(7, 15)}-00:00`;
  }
  return dateIso(nowMicros());
}

/** RFC3164 timestamp for the output: the received one, converted, or now. */
function ts3164(m: SyslogMessage): string {
  if (m.format === 'rfc3164') return m.ts;
  if (m.format === 'rfc5424') {
    const r = /^\d{4}-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)/.exec(m.ts);
    if (r) {
      const mon = MONTHS[Number(r[1]) - 1];
      const day = Number(r[2]);
      if (mon) return `${mon} ${day < 10 ? ' ' + day : day} ${r[3]}`;
    }
  }
  const d = new Date();
  const day = d.getDate();
  return `${MONTHS[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** The format a message is re-emitted in by a target without one: the one it came in. */
function keptFormat(m: SyslogMessage): LogFormatName {
  if (m.format === 'rfc5424' || m.format === 'rfc3164') {
    if (m.host || m.tag || m.pid || m.msgid || m.sd) return m.format;
    return 'priority';
  }
  return m.format;
}

function applyHost(host: string, strategy: HostStrategy, src: string | undefined): string {
  if (src === undefined) return host;
  switch (strategy) {
    case 'replace': return src;
    case 'fill': return host || src;
    case 'append': return host ? host + ',' + src : src;
    default: return host;
  }
}

/**
 * The line for one target (without its final '\n'). `format` undefined: keep the incoming
 * format. `facility` is the target's, used when the message has none.
 */
export function buildForwardLine(m: SyslogMessage, format: LogFormatName | undefined, facility: number, level: number,
  strategy: HostStrategy, src: string | undefined, maxlen = Infinity): string {
  const f = format ?? keptFormat(m);
  const fac = m.facility >= 0 ? m.facility : facility;
  const pri = `<${fac * 8 + level}>`;
  switch (f) {
    case 'raw': return m.msg;
    case 'priority': return pri + m.msg;
    case 'short': return `<${level}>` + m.msg;
    case 'iso': return isoTs(m, false) + ' ' + m.msg;
    case 'timed': return `<${level}>` + isoTs(m, false) + ' ' + m.msg;
    case 'rfc5424': {
      const host = applyHost(m.host, strategy, src);
      // as for the logs haproxy emits: the structured data whole or not at all
      let line = `${pri}1 ${isoTs(m, true)} ${host || '-'} ${m.tag || '-'} ${m.pid || '-'} ${m.msgid || '-'} `;
      const sd = m.sd || '-';
      if (line.length + sd.length < maxlen) {
        line += sd;
        if (m.msg && line.length + 1 < maxlen) line += ' ' + m.msg;
      }
      return line;
    }
    case 'rfc3164': {
      const host = applyHost(m.host, strategy, src);
      return `${pri}${ts3164(m)} ${host || 'localhost'} ` + (m.tag ? m.tag + (m.pid ? `[${m.pid}]` : '') + ': ' : '') + m.msg;
    }
    default: // 'local': the RFC3164 header without the host name
      return `${pri}${ts3164(m)} ` + (m.tag ? m.tag + (m.pid ? `[${m.pid}]` : '') + ': ' : '') + m.msg;
  }
}

/** Sends a received message to every logger that takes it. */
export function forwardMessage(loggers: readonly Logger[], m: SyslogMessage, strategy: HostStrategy, src: string | undefined): void {
  for (const lg of loggers) {
    const t = lg.transport;
    if (!t || !lg.accepts(m.level)) continue;
    const level = m.level < lg.cfg.minLevel ? lg.cfg.minLevel : m.level;
    const fmt = t.ring ? t.ring.format : lg.cfg.formatSet ? lg.cfg.format : undefined;
    let line = buildForwardLine(m, fmt, lg.cfg.facility, level, strategy, src, lg.maxlen);
    if (line.length > lg.maxlen) line = line.slice(0, lg.maxlen);
    if (!t.write(line + '\n')) logGlobals.dropped++;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* TCP framing (RFC6587)                                                                      */
/* ------------------------------------------------------------------------------------------ */

/**
 * Splits a TCP stream into messages: octet counting ("<len> <msg>") when a frame starts with
 * a digit, else non-transparent framing (messages ended by a line feed); `ntf` forces the
 * latter. Returns the messages and keeps the incomplete rest; `error` on a bad frame length.
 */
export class SyslogFramer {
  private buf = '';
  constructor(private readonly ntf: boolean, private readonly maxFrame = 65536) {}
  push(data: string): { msgs: string[]; error?: string } {
    this.buf += data;
    const msgs: string[] = [];
    let p = 0;
    const b = this.buf;
    while (p < b.length) {
      const c = b.charCodeAt(p);
      if (!this.ntf && c >= 48 && c <= 57) {
        let k = p;
        while (k < b.length && b.charCodeAt(k) >= 48 && b.charCodeAt(k) <= 57) k++;
        if (k >= b.length) break;
        if (b[k] !== ' ' || k - p > 6) { this.buf = ''; return { msgs, error: 'invalid octet count' }; }
        const n = Number(b.slice(p, k));
        if (n > this.maxFrame) { this.buf = ''; return { msgs, error: 'frame too large' }; }
        if (k + 1 + n > b.length) break;
        msgs.push(b.slice(k + 1, k + 1 + n));
        p = k + 1 + n;
        continue;
      }
      if (c === 10 || c === 13 || c === 0) { p++; continue; } // empty lines between frames
      const nl = b.indexOf('\n', p);
      if (nl < 0) {
        if (b.length - p > this.maxFrame) { this.buf = ''; return { msgs, error: 'frame too large' }; }
        break;
      }
      msgs.push(b.slice(p, nl));
      p = nl + 1;
    }
    this.buf = b.slice(p);
    return { msgs };
  }
}

/* ------------------------------------------------------------------------------------------ */
/* configuration                                                                              */
/* ------------------------------------------------------------------------------------------ */

let cur: LogForwardConfig | undefined;

function parseInetBind(addr: string | undefined, kw: string, ctx: ParseCtx): { host: string; port: number } | undefined {
  if (!addr) { ctx.alert(`'${kw}' expects <addr>:<port> as argument.`); return undefined; }
  const a = parseAddress(addr, { server: true });
  if (typeof a === 'string') { ctx.alert(`'${kw}' : ${a}.`); return undefined; }
  if (a.family !== 'ipv4' && a.family !== 'ipv6') {
    ctx.alert(`'${kw}' : address family of '${addr}' is not supported yet by haproxy-ts in log-forward sections (IPv4/IPv6 only).`);
    return undefined;
  }
  if (!a.hasPort || a.port < 1 || a.port > 65535 || a.portOffset) { ctx.alert(`'${kw}' : missing or invalid port in '${addr}'.`); return undefined; }
  return { host: a.host || (a.family === 'ipv6' ? '::' : '0.0.0.0'), port: a.port };
}

registerSection({
  name: 'log-forward',
  start(args, ctx, config) {
    const name = args[1];
    if (!name || args.length > 2) { ctx.alert(`'log-forward' expects <name> as argument.`); cur = undefined; return false; }
    const list = config.global.logForwards ??= [];
    const prev = list.find((l) => l.name === name);
    if (prev) { ctx.alert(`log forwarder '${name}' has the same name as another log forwarder (declared at ${prev.where.file}:${prev.where.line}).`); cur = undefined; return false; }
    const dup = config.proxies.find((p) => p.name === name);
    if (dup) { ctx.alert(`log forwarder '${name}' has the same name as ${dup.kind} '${name}'.`); cur = undefined; return false; }
    cur = { name, where: { ...ctx.where }, dgramBinds: [], binds: [], loggers: [], maxconn: 10, assumeNtf: false, dontParse: false, host: 'fill' };
    list.push(cur);
    return true;
  },
  line(args, ctx) {
    const lf = cur;
    if (!lf) return;
    const kw = args[0]!;
    switch (kw) {
      case 'dgram-bind': case 'bind': {
        const a = parseInetBind(args[1], kw, ctx);
        if (!a) return;
        if (args.length > 2) { ctx.alert(`'${kw}' : bind parameter '${args[2]}' is not supported yet by haproxy-ts in log-forward sections.`); return; }
        (kw === 'bind' ? lf.binds : lf.dgramBinds).push({ ...a, where: { ...ctx.where } });
        return;
      }
      case 'log': {
        if (args[1] === 'global') {
          if (args.length > 2) { ctx.alert(`log : 'log global' does not expect any other argument.`); return; }
          lf.loggers.push('global');
          return;
        }
        const l = parseLogLine(args, ctx);
        if (l) lf.loggers.push(l);
        return;
      }
      case 'maxconn': case 'backlog': {
        const n = parseUint(args[1]);
        if (n === undefined || args.length !== 2) { ctx.alert(`'${kw}' expects an integer argument.`); return; }
        if (kw === 'maxconn') lf.maxconn = n; else lf.backlog = n;
        return;
      }
      case 'timeout': {
        if (args[1] !== 'client') { ctx.alert(`'timeout' supports only 'client' in log-forward sections.`); return; }
        const t = args[2] === undefined ? 'missing value' : parseTime(args[2]);
        if (typeof t === 'string' || args.length !== 3) { ctx.alert(`'timeout client' expects a delay.`); return; }
        lf.timeoutClient = t;
        return;
      }
      case 'option': {
        const o = args[1];
        if (o === 'assume-rfc6587-ntf' || o === 'dont-parse-log') {
          if (args.length !== 2) { ctx.alert(`'option ${o}' does not expect any argument.`); return; }
          if (o === 'assume-rfc6587-ntf') lf.assumeNtf = true; else lf.dontParse = true;
          return;
        }
        if (o === 'host') {
          const v = args[2];
          if (args.length !== 3 || (v !== 'replace' && v !== 'fill' && v !== 'keep' && v !== 'append')) {
            ctx.alert(`'option host' requires one of 'replace', 'fill', 'keep', 'append'.`);
            return;
          }
          lf.host = v;
          return;
        }
        ctx.alert(`unknown option '${o ?? ''}' in log-forward section '${lf.name}' (or not supported yet by haproxy-ts).`);
        return;
      }
      default:
        ctx.alert(`unknown keyword '${kw}' in log-forward section '${lf.name}'.`);
    }
  },
});

registerPostParse((config, ctx) => {
  for (const lf of config.global.logForwards ?? []) {
    const w = `${lf.where.file}:${lf.where.line}`;
    if (!lf.binds.length && !lf.dgramBinds.length) ctx.alert(`parsing [${w}] : log forwarder '${lf.name}' has no 'bind' nor 'dgram-bind' line.`);
    for (const l of lf.loggers) {
      if (l === 'global' || !l.target.startsWith('ring@')) continue;
      const name = l.target.slice(5);
      if (!config.global.rings?.has(name)) ctx.alert(`parsing [${l.where.file}:${l.where.line}] : log : sink '${name}' not found (no such ring section).`);
    }
  }
});

/* ------------------------------------------------------------------------------------------ */
/* run time                                                                                   */
/* ------------------------------------------------------------------------------------------ */

export interface LogForwarder {
  cfg: LogForwardConfig;
  loggers: Logger[];
}

const plainIp = (a: string | undefined): string | undefined =>
  a === undefined ? undefined : a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;

/**
 * Binds the forwarders' sockets. Resolves with a function closing them; rejects with an
 * HAProxy-like message when one cannot be bound.
 */
export async function bindLogForwarders(list: readonly LogForwarder[]): Promise<() => void> {
  const closers: (() => void)[] = [];
  const closeAll = (): void => { for (const c of closers) { try { c(); } catch { /* closed */ } } };
  try {
    for (const f of list) {
      const { cfg } = f;
      for (const b of cfg.dgramBinds) {
        const s = dgram.createSocket({ type: net.isIPv6(b.host) ? 'udp6' : 'udp4', reuseAddr: false });
        s.on('message', (buf, rinfo) => {
          try { forwardMessage(f.loggers, parseSyslog(buf.toString('latin1'), cfg.dontParse), cfg.host, plainIp(rinfo.address)); } catch { /* never fatal */ }
        });
        await new Promise<void>((resolve, reject) => {
          s.once('error', (e) => reject(new Error(`Starting log forwarder ${cfg.name}: cannot bind UDP socket (${(e as Error).message}) [${b.host}:${b.port}]`)));
          s.bind(b.port, b.host, () => resolve());
        });
        s.on('error', () => { /* receive errors are not fatal */ });
        closers.push(() => s.close());
      }
      let conns = 0;
      for (const b of cfg.binds) {
        const srv = net.createServer((sock) => {
          if (conns >= cfg.maxconn) { sock.destroy(); return; }
          conns++;
          const src = plainIp(sock.remoteAddress);
          const framer = new SyslogFramer(cfg.assumeNtf);
          if (cfg.timeoutClient) { sock.setTimeout(cfg.timeoutClient); sock.on('timeout', () => sock.destroy()); }
          sock.on('data', (d) => {
            try {
              const r = framer.push(d.toString('latin1'));
              for (const msg of r.msgs) forwardMessage(f.loggers, parseSyslog(msg, cfg.dontParse), cfg.host, src);
              if (r.error) sock.destroy();
            } catch { sock.destroy(); }
          });
          sock.on('error', () => { /* closed below */ });
          sock.on('close', () => { conns--; });
        });
        srv.on('error', () => { /* accept errors are not fatal */ });
        await new Promise<void>((resolve, reject) => {
          const onErr = (e: Error): void => reject(new Error(`Starting log forwarder ${cfg.name}: cannot bind socket (${e.message}) [${b.host}:${b.port}]`));
          srv.once('error', onErr);
          srv.listen({ host: b.host, port: b.port, backlog: cfg.backlog || undefined }, () => { srv.off('error', onErr); resolve(); });
        });
        closers.push(() => srv.close());
      }
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  return closeAll;
}
