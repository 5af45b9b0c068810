// Logging configuration (configuration.txt 4.2 "log", "log-tag", "log-format", "log-format-sd",
// "error-log-format", "option tcplog|httplog|dontlognull|dontlog-normal|log-separate-errors|
// logasap"; 3.1 global "log", "log-tag", "log-send-hostname"; 12.5 "ring" sections).
// Parsing produces plain data on the configuration; setupLogging() turns it into loggers
// with their transports when the runtime starts.
import net from 'node:net';
import {
  registerGlobal, registerProxy, registerOption, registerSection, registerPostParse,
  type ParseCtx, type Caps,
} from '../registry/registry.js';
import type { Config, ProxyConfig } from '../config/model.js';
import { parseAddress } from '../net/address.js';
import { parseSize, parseTime, parseUint } from '../util/units.js';
import {
  LOG_FORMATS, levelIndex, facilityIndex, parseSample,
  type LoggerConfig, type LogFormatName,
} from './syslog.js';
import { unixDgramAvailable, type RingConfig, type RingServerConfig } from './transports.js';
import { compileFormat, TCP_LOG_FMT, TCP_CLF_LOG_FMT, HTTP_LOG_FMT, HTTP_CLF_LOG_FMT, type LogFormat } from './format.js';
import { USE } from '../sample/registry.js';

export type TrafficFormatKind = 'tcplog' | 'tcplog-clf' | 'httplog' | 'httplog-clf' | 'custom';

export interface ProxyLogConfig {
  /** the proxy's "log" lines; 'global' stands for the global section's loggers */
  loggers: (LoggerConfig | 'global')[];
  tag?: string;
  /** the traffic log format: an option or log-format, the last one wins */
  format?: { kind: TrafficFormatKind; text: string; where: { file: string; line: number } };
  sdFormat?: { text: string; where: { file: string; line: number } };
  errorFormat?: { text: string; where: { file: string; line: number } };
  dontlognull: boolean;
  dontlogNormal: boolean;
  separateErrors: boolean;
  logasap: boolean;
  /** log-steps: the steps logged (accept, request, connect, response, close); undefined: close only */
  steps?: string[];
  /** compiled at the end of parsing, for frontends */
  compiled?: { format?: LogFormat; sd?: LogFormat; error?: LogFormat };
}

declare module '../config/model.js' {
  interface GlobalConfig {
    /** global "log" lines */
    loggers?: LoggerConfig[];
    logTag?: string;
    /** log-send-hostname: the name (the system's host name when given without argument) */
    logSendHostname?: string;
    rings?: Map<string, RingConfig>;
  }
  interface ProxyConfig {
    log?: ProxyLogConfig;
  }
}

/** The transaction steps `log-steps` may name (3.2: accept, request, connect, response, close). */
export const LOG_STEPS = ['accept', 'request', 'connect', 'response', 'close'] as const;

/** Whether a frontend logs at a step: `log-steps` when set, else only at the end (close). */
export function logsAtStep(pl: ProxyLogConfig | undefined, step: string): boolean {
  if (!pl) return false;
  return pl.steps ? pl.steps.includes(step) : step === 'close';
}

export function newProxyLog(): ProxyLogConfig {
  return { loggers: [], dontlognull: false, dontlogNormal: false, separateErrors: false, logasap: false };
}

function plog(px: ProxyConfig): ProxyLogConfig { return px.log ??= newProxyLog(); }

/** A copy for a proxy inheriting from a defaults section (compiled formats are not inherited). */
export function inheritLog(def: ProxyLogConfig): ProxyLogConfig {
  return { ...def, loggers: [...def.loggers], compiled: undefined };
}

/* ------------------------------------------------------------------------------------------ */
/* "log" lines                                                                                */
/* ------------------------------------------------------------------------------------------ */

/** Checks a log target's syntax (the transport is created at start-up). Returns an error. */
function checkTarget(t: string): string | undefined {
  if (t === 'stdout' || t === 'stderr') return undefined;
  const m = /^([a-z0-9]+)@(.*)$/.exec(t);
  const prefix = m?.[1];
  const rest = m ? m[2]! : t;
  switch (prefix) {
    case 'fd':
      if (!/^\d+$/.test(rest)) return `file descriptor '${rest}' is not a valid integer in '${t}'`;
      return undefined;
    case 'ring':
      if (!rest) return `missing ring name in '${t}'`;
      return undefined;
    case 'backend':
      return `log backends ('${t}') need 'mode log', which is not supported yet by haproxy-ts`;
    case 'abns': case 'abnsz': case 'uxdg': case 'quic4': case 'quic6': case 'sockpair': case 'rhttp':
      return `address family '${prefix}@' is not supported yet by haproxy-ts for log targets ('${t}')`;
    case 'unix':
      if (!rest) return `missing path in '${t}'`;
      return unixDgramAvailable() ? undefined : `unix datagram log sockets need the native addon (build/Release/sockopt.node), which is not available`;
    case 'uxst':
      return rest ? undefined : `missing path in '${t}'`;
    case undefined: case 'udp': case 'udp4': case 'udp6': case 'ipv4': case 'ipv6': case 'tcp': case 'tcp4': case 'tcp6': {
      if (prefix === undefined && rest.startsWith('/')) {
        return unixDgramAvailable() ? undefined : `unix datagram log sockets need the native addon (build/Release/sockopt.node), which is not available`;
      }
      const a = inetTarget(rest, prefix);
      return typeof a === 'string' ? a : undefined;
    }
    default:
      return `invalid address: '${t}' in '${t}'`;
  }
}

/** host and port of an inet log target (UDP default port 514; TCP needs one) */
export function inetTarget(rest: string, prefix: string | undefined): { host: string; port: number } | string {
  const a = parseAddress(rest, { server: true });
  if (typeof a === 'string') return a;
  if (a.family === 'unix' || a.family === 'abns' || a.family === 'fd' || a.family === 'sockpair') return `invalid address: '${rest}'`;
  if (a.portOffset) return `invalid port in '${rest}'`;
  if (a.hasPort && (a.port < 1 || a.port > 65535)) return `invalid port '${a.port}'`;
  const tcp = prefix !== undefined && prefix.startsWith('tcp');
  if (tcp && !a.hasPort) return `missing port in '${rest}'`;
  if (!a.host) return `missing address in '${rest}'`;
  if ((prefix === 'udp4' || prefix === 'ipv4' || prefix === 'tcp4') && net.isIPv6(a.host)) return `invalid address: '${rest}'`;
  if ((prefix === 'udp6' || prefix === 'ipv6' || prefix === 'tcp6') && net.isIPv4(a.host)) return `invalid address: '${rest}'`;
  return { host: a.host, port: a.hasPort ? a.port : 514 };
}

/** Parses `log <target> [len <n>] [format <f>] [sample <r>:<s>] [profile <p>] <facility> [<level> [<minlevel>]]`. */
export function parseLogLine(args: string[], ctx: ParseCtx): LoggerConfig | undefined {
  // args[0] = 'log'
  if (args.length < 3) { ctx.alert(`log : expects <address> and <facility>  as arguments.`); return undefined; }
  const target = args[1]!;
  const cfg: LoggerConfig = {
    target, where: { ...ctx.where }, maxlen: 1024, format: 'local', formatSet: false,
    facility: -1, maxLevel: 7, minLevel: 0,
  };
  let i = 2;
  if (args[i] === 'len') {
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 80 || n > 65535) { ctx.alert(`log : invalid log length '${args[i + 1] ?? ''}', must be between 80 and 65535.`); return undefined; }
    cfg.maxlen = n;
    i += 2;
  }
  if (args[i] === 'format') {
    const f = args[i + 1] ?? '';
    if (!(LOG_FORMATS as readonly string[]).includes(f)) { ctx.alert(`log : unknown log format '${f}'.`); return undefined; }
    cfg.format = f as LogFormatName;
    cfg.formatSet = true;
    i += 2;
  }
  if (args[i] === 'sample') {
    const spec = args[i + 1] ?? '';
    if (!spec.includes(':')) { ctx.alert(`log : Missing sample size.`); return undefined; }
    const s = parseSample(spec);
    if (typeof s === 'string') { ctx.alert(`log : ${s}.`); return undefined; }
    cfg.sample = s;
    i += 2;
  }
  if (args[i] === 'profile') {
    const name = args[i + 1];
    if (!name) { ctx.alert(`log : 'profile' expects a log-profile name.`); return undefined; }
    cfg.profile = name;
    i += 2;
  }
  const fac = args[i];
  if (fac === undefined) { ctx.alert(`log : expects <address> and <facility>  as arguments.`); return undefined; }
  cfg.facility = facilityIndex(fac);
  if (cfg.facility < 0) { ctx.alert(`log : unknown log facility '${fac}'.`); return undefined; }
  i++;
  if (args[i] !== undefined) {
    const l = levelIndex(args[i]!);
    if (l < 0) { ctx.alert(`log : unknown optional log level '${args[i]}'.`); return undefined; }
    cfg.maxLevel = l;
    i++;
  }
  if (args[i] !== undefined) {
    const l = levelIndex(args[i]!);
    if (l < 0) { ctx.alert(`log : unknown optional minimum log level '${args[i]}'.`); return undefined; }
    cfg.minLevel = l;
    i++;
  }
  if (args[i] !== undefined) { ctx.alert(`log : cannot handle unexpected argument '${args[i]}'.`); return undefined; }
  const err = checkTarget(target);
  if (err) { ctx.alert(`log : ${err}.`); return undefined; }
  return cfg;
}

registerGlobal(
  {
    name: 'log',
    parse(args, g, ctx) {
      if (args[1] === 'global') { ctx.alert(`log : 'global' is not supported for a global syslog server.`); return; }
      const l = parseLogLine(args, ctx);
      if (l) (g.loggers ??= []).push(l);
    },
  },
  {
    name: 'log-tag',
    parse(args, g, ctx) {
      if (args.length !== 2 || !args[1]) { ctx.alert(`'log-tag' expects a tag for use in syslog.`); return; }
      g.logTag = args[1];
    },
  },
  {
    name: 'log-send-hostname',
    parse(args, g, ctx) {
      if (args.length > 2) { ctx.alert(`'log-send-hostname' expects at most one argument.`); return; }
      g.logSendHostname = args[1] ?? '';
    },
  },
);

/* ------------------------------------------------------------------------------------------ */
/* proxies                                                                                    */
/* ------------------------------------------------------------------------------------------ */

const ALL_CAPS: Caps = { d: true, f: true, b: true };
const FE_CAPS: Caps = { d: true, f: true, b: false };

/** The frontend-only directives: ignored with HAProxy's warning in a backend. */
function frontendDirective(kw: string, px: ProxyConfig, ctx: ParseCtx): boolean {
  if (px.kind !== 'backend') return true;
  ctx.warn(`backend '${px.name}' : '${kw}' directive is ignored in backends.`);
  return false;
}

function fmtArg(args: string[], kw: string, ctx: ParseCtx): string | undefined {
  if (args.length < 2) { ctx.alert(`'${kw}' expects an argument.`); return undefined; }
  if (args.length > 2) { ctx.alert(`'${kw}' : expects exactly one argument (the format string); use quotes around it if it contains spaces.`); return undefined; }
  return args[1]!;
}

registerProxy(
  {
    name: 'log', caps: ALL_CAPS,
    parse(args, px, ctx) {
      const pl = plog(px);
      if (args[1] === 'global') {
        if (args.length > 2) { ctx.alert(`log : 'log global' does not expect any other argument.`); return; }
        pl.loggers.push('global');
        return;
      }
      const l = parseLogLine(args, ctx);
      if (l) pl.loggers.push(l);
    },
  },
  {
    name: 'no log', caps: ALL_CAPS, hidden: true,
    parse(args, px, ctx) {
      if (args.length > 2) { ctx.alert(`log : 'no log' does not expect arguments.`); return; }
      plog(px).loggers = [];
    },
  },
  {
    name: 'log-tag', caps: ALL_CAPS,
    parse(args, px, ctx) {
      if (args.length !== 2 || !args[1]) { ctx.alert(`'log-tag' expects a tag for use in syslog.`); return; }
      plog(px).tag = args[1];
    },
  },
  {
    name: 'log-format', caps: FE_CAPS,
    parse(args, px, ctx) {
      if (!frontendDirective('log-format', px, ctx)) return;
      const t = fmtArg(args, 'log-format', ctx);
      if (t !== undefined) plog(px).format = { kind: 'custom', text: t, where: { ...ctx.where } };
    },
  },
  {
    name: 'log-steps', caps: FE_CAPS,
    parse(args, px, ctx) {
      if (!frontendDirective('log-steps', px, ctx)) return;
      const words = args.slice(1).flatMap((a) => a.split(',')).filter((w) => w !== '');
      if (!words.length) { ctx.alert(`'log-steps' expects 'all' or a list of steps among ${LOG_STEPS.map((x) => `'${x}'`).join(', ')}.`); return; }
      const steps: string[] = [];
      for (const w of words) {
        if (w === 'all') { steps.push(...LOG_STEPS); continue; }
        if (!(LOG_STEPS as readonly string[]).includes(w)) { ctx.alert(`'log-steps' : unknown log step '${w}' (expected 'all' or ${LOG_STEPS.map((x) => `'${x}'`).join(', ')}).`); return; }
        steps.push(w);
      }
      plog(px).steps = [...new Set(steps)];
    },
  },
  {
    name: 'log-format-sd', caps: FE_CAPS,
    parse(args, px, ctx) {
      if (!frontendDirective('log-format-sd', px, ctx)) return;
      const t = fmtArg(args, 'log-format-sd', ctx);
      if (t !== undefined) plog(px).sdFormat = { text: t, where: { ...ctx.where } };
    },
  },
  {
    name: 'error-log-format', caps: FE_CAPS,
    parse(args, px, ctx) {
      if (!frontendDirective('error-log-format', px, ctx)) return;
      const t = fmtArg(args, 'error-log-format', ctx);
      if (t !== undefined) plog(px).errorFormat = { text: t, where: { ...ctx.where } };
    },
  },
);

registerOption(
  {
    name: 'tcplog', caps: ALL_CAPS, negatable: false,
    set(px, _en, rest, ctx) {
      if (rest.length && !(rest.length === 1 && rest[0] === 'clf')) { ctx.alert(`'option tcplog' cannot handle unexpected argument '${rest[rest.length === 1 ? 0 : 1]}'.`); return; }
      if (!frontendDirective('option tcplog', px, ctx)) return;
      const clf = rest[0] === 'clf';
      plog(px).format = { kind: clf ? 'tcplog-clf' : 'tcplog', text: clf ? TCP_CLF_LOG_FMT : TCP_LOG_FMT, where: { ...ctx.where } };
    },
  },
  {
    name: 'httplog', caps: ALL_CAPS, negatable: false,
    set(px, _en, rest, ctx) {
      if (rest.length && !(rest.length === 1 && rest[0] === 'clf')) { ctx.alert(`keyword 'httplog' only supports option 'clf'.`); return; }
      if (!frontendDirective('option httplog', px, ctx)) return;
      const clf = rest[0] === 'clf';
      plog(px).format = { kind: clf ? 'httplog-clf' : 'httplog', text: clf ? HTTP_CLF_LOG_FMT : HTTP_LOG_FMT, where: { ...ctx.where } };
    },
  },
);

function feFlagOption(name: string, field: 'dontlognull' | 'dontlogNormal' | 'separateErrors' | 'logasap'): void {
  registerOption({
    name, caps: ALL_CAPS, negatable: true,
    set(px, enabled, rest, ctx) {
      if (rest.length) { ctx.alert(`'option ${name}' does not expect any argument.`); return; }
      if (px.kind === 'backend') { ctx.warn(`'${name}' ignored because backend '${px.name}' has no frontend capability.`); return; }
      plog(px)[field] = enabled;
    },
  });
}
feFlagOption('dontlognull', 'dontlognull');
feFlagOption('dontlog-normal', 'dontlogNormal');
feFlagOption('log-separate-errors', 'separateErrors');
feFlagOption('logasap', 'logasap');

/* ------------------------------------------------------------------------------------------ */
/* ring sections                                                                              */
/* ------------------------------------------------------------------------------------------ */

let curRing: RingConfig | undefined;

registerSection({
  name: 'ring',
  start(args, ctx, config) {
    const name = args[1];
    if (!name || args.length > 2) { ctx.alert(`'ring' expects one argument: the ring's name.`); curRing = undefined; return false; }
    const rings = config.global.rings ??= new Map();
    const prev = rings.get(name);
    if (prev) { ctx.alert(`sink '${name}' already exists (declared at ${prev.where.file}:${prev.where.line}).`); curRing = undefined; return false; }
    curRing = { name, where: { ...ctx.where }, format: 'raw', maxlen: 0, size: 0, servers: [] };
    rings.set(name, curRing);
    return true;
  },
  line(args, ctx, config) {
    const r = curRing;
    if (!r) return;
    const kw = args[0]!;
    switch (kw) {
      case 'description':
        if (args.length < 2) { ctx.alert(`'description' expects a text.`); return; }
        r.description = args.slice(1).join(' ');
        return;
      case 'format': {
        const f = args[1] ?? '';
        if (!(LOG_FORMATS as readonly string[]).includes(f)) { ctx.alert(`unknown format '${f}'.`); return; }
        r.format = f as LogFormatName;
        return;
      }
      case 'maxlen': {
        const n = parseUint(args[1]);
        if (n === undefined || n === 0) { ctx.alert(`invalid size '${args[1] ?? ''}' for new sink buffer.`); return; }
        r.maxlen = n;
        return;
      }
      case 'size': {
        const n = args[1] === undefined ? 'missing size' : parseSize(args[1]);
        if (typeof n === 'string' || n <= 0) { ctx.alert(`invalid size '${args[1] ?? ''}' for new sink buffer.`); return; }
        r.size = n;
        return;
      }
      case 'timeout': {
        const which = args[1];
        const t = args[2] === undefined ? 'missing value' : parseTime(args[2]);
        if ((which !== 'connect' && which !== 'server') || typeof t === 'string') { ctx.alert(`'timeout' expects 'connect' or 'server' and a delay.`); return; }
        if (which === 'connect') r.timeoutConnect = t; else r.timeoutServer = t;
        return;
      }
      case 'server': {
        const s = parseRingServer(args, ctx);
        if (s) r.servers.push(s);
        return;
      }
      case 'backing-file':
        ctx.alert(`'backing-file' is not supported yet by haproxy-ts.`);
        return;
      default:
        ctx.alert(`unknown statement '${kw}' in ring section '${r.name}'.`);
    }
    void config;
  },
});

function parseRingServer(args: string[], ctx: ParseCtx): RingServerConfig | undefined {
  const name = args[1], addr = args[2];
  if (!name || !addr) { ctx.alert(`'server' expects <name> and <addr>[:<port>] as arguments.`); return undefined; }
  const s: RingServerConfig = { name, proto: 'legacy' };
  if (addr.startsWith('/') || addr.startsWith('unix@')) s.path = addr.startsWith('/') ? addr : addr.slice(5);
  else {
    const a = inetTarget(addr.replace(/^tcp[46]?@/, ''), 'tcp');
    if (typeof a === 'string') { ctx.alert(`'server ${name}' : ${a}.`); return undefined; }
    s.host = a.host;
    s.port = a.port;
  }
  for (let i = 3; i < args.length; i++) {
    if (args[i] === 'log-proto') {
      const p = args[++i];
      if (p !== 'legacy' && p !== 'octet-count') { ctx.alert(`'server ${name}' : 'log-proto' expects one of 'legacy', 'octet-count'.`); return undefined; }
      s.proto = p;
    } else {
      ctx.alert(`'server ${name}' : '${args[i]}' is not supported yet by haproxy-ts in ring sections (only 'log-proto').`);
      return undefined;
    }
  }
  return s;
}

/* ------------------------------------------------------------------------------------------ */
/* after parsing: ring references, formats compiled per frontend                             */
/* ------------------------------------------------------------------------------------------ */

function isFrontend(px: ProxyConfig): boolean { return px.kind === 'frontend' || px.kind === 'listen'; }

function checkRingRefs(list: (LoggerConfig | 'global')[], config: Config, ctx: Pick<ParseCtx, 'alert'>): void {
  for (const l of list) {
    if (l === 'global' || !l.target.startsWith('ring@')) continue;
    const name = l.target.slice(5);
    if (!config.global.rings?.has(name)) ctx.alert(`parsing [${l.where.file}:${l.where.line}] : log : sink '${name}' not found (no such ring section).`);
  }
}

registerPostParse((config, ctx) => {
  const bufsize = config.global.tune.bufsize;
  for (const r of config.global.rings?.values() ?? []) {
    if (!r.size) r.size = bufsize;
    if (!r.maxlen) r.maxlen = r.size;
    if (r.maxlen > r.size) r.maxlen = r.size;
  }
  checkRingRefs(config.global.loggers ?? [], config, ctx);
  for (const px of config.proxies) {
    const pl = px.log;
    if (!pl) continue;
    checkRingRefs(pl.loggers, config, ctx);
    if (!isFrontend(px)) continue;
    const compiled: NonNullable<ProxyLogConfig['compiled']> = {};
    let f = pl.format;
    if (f && (f.kind === 'httplog' || f.kind === 'httplog-clf') && px.mode !== 'http') {
      ctx.warn(`parsing [${f.where.file}:${f.where.line}] : 'option httplog' not usable with ${px.kind === 'listen' ? 'proxy' : px.kind} '${px.name}' (needs 'mode http'). Falling back to 'option tcplog'.`);
      f = { kind: f.kind === 'httplog' ? 'tcplog' : 'tcplog-clf', text: f.kind === 'httplog' ? TCP_LOG_FMT : TCP_CLF_LOG_FMT, where: f.where };
      pl.format = f;
    }
    const comp = (text: string, where: { file: string; line: number }, what: string): LogFormat | undefined => {
      const r = compileFormat(text, {
        proxyMode: px.mode, where: `${where.file}:${where.line}`, file: where.file, proxyName: px.name,
        use: USE.FE_LOG_END, useLabel: 'logs', style: 'log',
      });
      for (const w of r.warnings) ctx.warn(`parsing [${where.file}:${where.line}] : ${w}`);
      if (r.error !== undefined) { ctx.alert(`Parsing [${where.file}:${where.line}]: failed to parse ${what} : ${r.error}.`); return undefined; }
      return r.fmt;
    };
    if (f) compiled.format = comp(f.text, f.where, 'log-format');
    if (pl.sdFormat) compiled.sd = comp(pl.sdFormat.text, pl.sdFormat.where, 'log-format-sd');
    if (pl.errorFormat) compiled.error = comp(pl.errorFormat.text, pl.errorFormat.where, 'error-log-format');
    pl.compiled = compiled;
  }
});


// log-forward sections (registered here so that every configuration parse knows them)
import './forward.js';
import './profile.js';
