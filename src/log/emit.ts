// Logging at run time: the loggers of the global section and of each proxy, built from the
// configuration when the runtime starts (setupLogging), process and proxy event messages
// (sendLog), and the traffic logs the streams emit when they end (logStream) or, without a
// log format, when a connection is accepted (logConnect).
import { hostname } from 'node:os';
import dns from 'node:dns';
import net from 'node:net';
import type { Config } from '../config/model.js';
import type { Proxy } from '../proxy/proxy.js';
import type { SmpCtx } from '../sample/context.js';
import { Logger, logGlobals, LOG_INFO, LOG_ERR, type LoggerConfig } from './syslog.js';
import { UdpTransport, UnixDgramTransport, FdTransport, Ring, rings, type RingConfig } from './transports.js';
import type { LogTransport } from './syslog.js';
import { inetTarget, type ProxyLogConfig } from './config.js';
import { legacyConnectLog, legacyErrorLog } from './format.js';
import { bindLogForwarders, type LogForwarder } from './forward.js';
import { profileRule, stepOfOrigin } from './profile.js';

export interface ProxyLoggers {
  loggers: Logger[];
  tag: string;
  cfg: ProxyLogConfig | undefined;
  /** per-frontend log counter (%lc) */
  count: number;
}

declare module '../proxy/proxy.js' {
  interface Proxy {
    /** the proxy's loggers (src/log/emit.ts); undefined or empty: the proxy does not log */
    logs?: ProxyLoggers;
  }
}

let globalLoggers: Logger[] = [];
/** log-forward sections, with their loggers (bound by startLogForwarders) */
let forwarders: LogForwarder[] = [];

function transportFor(cfg: LoggerConfig, implicitRings: RingConfig[]): LogTransport | undefined {
  const t = cfg.target;
  if (t === 'stdout') return new FdTransport(1);
  if (t === 'stderr') return new FdTransport(2);
  const m = /^([a-z0-9]+)@(.*)$/.exec(t);
  const prefix = m?.[1];
  const rest = m ? m[2]! : t;
  switch (prefix) {
    case 'fd': return new FdTransport(Number(rest));
    case 'ring': return rings.get(rest);
    case 'unix': return new UnixDgramTransport(rest);
    case 'tcp': case 'tcp4': case 'tcp6': case 'uxst': {
      const rc: RingConfig = {
        name: t, where: cfg.where, format: cfg.format, maxlen: cfg.maxlen, size: 16384, servers: [], implicit: true,
      };
      if (prefix === 'uxst') rc.servers.push({ name: t, path: rest, proto: 'legacy' });
      else {
        const a = inetTarget(rest, prefix);
        if (typeof a === 'string') return undefined;
        rc.servers.push({ name: t, host: a.host, port: a.port, proto: 'legacy' });
      }
      implicitRings.push(rc);
      return new Ring(rc);
    }
    default: {
      if (prefix === undefined && rest.startsWith('/')) return new UnixDgramTransport(rest);
      const a = inetTarget(rest, prefix);
      if (typeof a === 'string') return undefined;
      const tr = new UdpTransport(a.host, a.port);
      if (!net.isIP(a.host)) {
        // a host name: resolved once at start-up, as HAProxy does
        dns.lookup(a.host, (err, addr) => { if (!err) tr.host = addr; });
      }
      return tr;
    }
  }
}

/** Builds the loggers; returns a function stopping the ring forwarders. */
export function setupLogging(config: Config, proxies: Proxy[]): () => void {
  const g = config.global;
  if (g.logTag !== undefined) logGlobals.tag = g.logTag;
  if (g.logSendHostname !== undefined) logGlobals.sendHostname = g.logSendHostname || hostname();
  rings.clear();
  for (const rc of g.rings?.values() ?? []) rings.set(rc.name, new Ring(rc));
  const implicit: RingConfig[] = [];
  const made: Ring[] = [];
  const mk = (c: LoggerConfig): Logger => {
    const tr = transportFor(c, implicit);
    if (tr instanceof Ring && tr.cfg.implicit) made.push(tr);
    const lg = new Logger(c, tr);
    if (c.profile !== undefined) lg.profile = g.logProfiles?.get(c.profile);
    return lg;
  };
  globalLoggers = (g.loggers ?? []).map(mk);
  for (const px of proxies) {
    const pl = px.cfg.log;
    if (!pl || !pl.loggers.length) continue;
    const list: Logger[] = [];
    for (const l of pl.loggers) {
      if (l === 'global') list.push(...globalLoggers);
      else list.push(mk(l));
    }
    px.logs = { loggers: list, tag: pl.tag ?? logGlobals.tag, cfg: pl, count: 0 };
  }
  forwarders = (g.logForwards ?? []).map((cfg) => ({
    cfg, loggers: cfg.loggers.flatMap((l) => (l === 'global' ? globalLoggers : [mk(l)])),
  }));
  for (const r of rings.values()) r.start();
  for (const r of made) r.start();
  return () => {
    for (const r of rings.values()) r.stop();
    for (const r of made) r.stop();
  };
}

/**
 * Binds the log-forward sections' listeners (after setupLogging). Rejects with the message
 * to report when one cannot be bound; resolves with a function closing them.
 */
export function startLogForwarders(): Promise<() => void> { return bindLogForwarders(forwarders); }

/**
 * Sends an event message (server state changes, proxy start/stop ...) to a proxy's loggers,
 * or to the global ones when no proxy is concerned.
 */
export function sendLog(px: Proxy | undefined, level: number, msg: string): void {
  if (px) {
    const l = px.logs;
    if (!l) return;
    for (const lg of l.loggers) lg.send(level, msg, l.tag);
    return;
  }
  for (const lg of globalLoggers) lg.send(level, msg);
}

/** At accept time: the default format's "Connect from" line when no format is set (8.2.1). */
export function logConnect(fe: Proxy, ctx: SmpCtx): void {
  const l = fe.logs;
  if (!l || l.cfg?.format) return;
  const msg = legacyConnectLog(ctx);
  for (const lg of l.loggers) lg.send(LOG_INFO, msg, l.tag);
}

export interface StreamLogInfo {
  /** an anomaly (dontlog-normal, log-separate-errors): see isLogError() */
  error: boolean;
  /** nothing was received from the client (dontlognull) */
  empty: boolean;
}

/**
 * Whether a stream's log reports an anomaly, as HAProxy decides it: a termination cause other
 * than none or local processing, retries or a redispatch, or an HTTP status of 500 or more.
 */
export function isLogError(cause: string, retries: number, redispatched: boolean, status: number): boolean {
  return redispatched || (cause !== '-' && cause !== 'L') || (cause === '-' && retries > 0) || status >= 500;
}

/**
 * Emits the traffic log of a stream (or an HTTP transaction) when it ends. `ctx` must hold
 * the values the format reads (ctx.stream, ctx.timers ...).
 */
export function logStream(fe: Proxy, ctx: SmpCtx, info: StreamLogInfo): void {
  const l = fe.logs;
  const pl = l?.cfg;
  if (!l || !pl?.compiled?.format) return;
  if (ctx.logLevel === -2) return; // set-log-level silent
  if (info.empty && pl.dontlognull) return;
  if (pl.dontlogNormal && !info.error) return;
  l.count++;
  // error logs use error-log-format when set (configuration.txt 4.2 "error-log-format")
  const fmt = info.error && pl.compiled.error ? pl.compiled.error : pl.compiled.format;
  let level = ctx.logLevel >= 0 ? ctx.logLevel : LOG_INFO;
  if (info.error && pl.separateErrors && level > LOG_ERR) level = LOG_ERR;
  let msg: string | undefined, sd: string | undefined, sdDone = false;
  const step = info.error ? 'error' : stepOfOrigin(ctx.stream?.logOrigin);
  for (const lg of l.loggers) {
    const r = lg.profile ? profileRule(lg.profile, step) : undefined;
    if (r) {
      if (r.drop) continue;
      const m = r.format?.compiled ? r.format.compiled.render(ctx) : (msg ??= fmt.render(ctx));
      const s = r.sd?.compiled ? r.sd.compiled.render(ctx) : sdDone ? sd : (sdDone = true, sd = pl.compiled.sd?.render(ctx));
      lg.send(level, m, l.tag, s);
      continue;
    }
    msg ??= fmt.render(ctx);
    if (!sdDone) { sdDone = true; sd = pl.compiled.sd?.render(ctx); }
    lg.send(level, msg, l.tag, sd);
  }
}

/** HAProxy's texts for the connection errors a session can end on before any stream exists. */
export const SESSION_ERRORS = {
  prxEmpty: 'Connection closed while waiting for PROXY protocol header',
  prxTruncated: 'Truncated PROXY protocol header received',
  prxTimeout: 'Timeout while waiting for PROXY protocol header',
  prxNotHdr: 'Received something which does not look like a PROXY protocol header',
  prxBadHdr: 'Received an invalid PROXY protocol header',
  prxBadProto: 'Received an unhandled protocol in the PROXY protocol header',
} as const;

/**
 * A session that failed before carrying any stream (a bad PROXY header ...): the error log line,
 * in error-log-format when set, else HAProxy's legacy "<src> [date] <fe>/<bind>: <message>".
 */
export function logSessionError(fe: Proxy, ctx: SmpCtx, bindName: string, message: string): void {
  const l = fe.logs;
  if (!l) return;
  const fmt = l.cfg?.compiled?.error;
  let msg: string | undefined;
  for (const lg of l.loggers) {
    const r = lg.profile ? profileRule(lg.profile, 'error') : undefined;
    if (r?.drop) continue;
    const m = r?.format?.compiled ? r.format.compiled.render(ctx) : (msg ??= fmt ? fmt.render(ctx) : legacyErrorLog(ctx, bindName, message));
    lg.send(LOG_INFO, m, l.tag, r?.sd?.compiled?.render(ctx));
  }
}

/** The message for a PROXY header parse error reason (src/net/proxy-protocol.ts). */
export function proxyHeaderErrorText(reason: string): string {
  if (reason.startsWith('not a PROXY')) return SESSION_ERRORS.prxNotHdr;
  if (reason.includes('unknown protocol') || reason.includes('address family')) return SESSION_ERRORS.prxBadProto;
  return SESSION_ERRORS.prxBadHdr;
}
