// Runtime API commands about client sessions (streams) and server connections
// (management.txt 9.3): `show sess`, `shutdown session`, `shutdown sessions server`,
// `show servers conn`.
//
// HAProxy identifies a stream by its pointer; haproxy-ts gives each stream a small number the
// first time a command sees it, printed in hexadecimal with the same "0x" prefix. Fields of the
// one-line format that describe HAProxy internals absent here (task calls, CPU, channel and
// stream-connector flags, analysers) print 0; timers we do not expose print empty, as HAProxy
// does for an unset timer.
import { registerCli, type CliContext, type CliKeyword } from '../registry/registry.js';
import type { Runtime, Session } from '../proxy/runtime.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { serverPoolStats } from '../proxy/conn-pool.js';
import { parseTime } from '../util/units.js';
import { lookupServer } from './cli-commands.js';
import { ctxErr, ctxRuntime } from './cli-util.js';

// ---- stream identifiers ----------------------------------------------------------------------

const ids = new WeakMap<object, number>();
let nextId = 1;

/** The stable identifier of a stream (assigned on first use). */
export function streamId(st: object): number {
  let id = ids.get(st);
  if (id === undefined) { id = nextId++; ids.set(st, id); }
  return id;
}

/** Instants at which `show sess` ran: a stream's epoch is the number of dumps before it started. */
const dumpTimes: number[] = [];

/** Counts a new `show sess` dump and returns the current epoch (the number of earlier dumps). */
export function newDumpEpoch(now: number): number {
  dumpTimes.push(now);
  if (dumpTimes.length > 65536) dumpTimes.splice(0, dumpTimes.length - 65536);
  return dumpTimes.length;
}

/** Epoch of a stream accepted at `t`: dumps that started strictly before it. */
export function epochAt(t: number, times: readonly number[] = dumpTimes): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** C's "%#x": 0 stays "0", others get "0x". */
export function hexAlt(n: number): string { return n === 0 ? '0' : `0x${n.toString(16)}`; }

/**
 * HAProxy's compact duration (seconds): at most two units among d, h, m, s, the zero ones
 * skipped, "0s" for zero and "?" for a negative value.
 */
export function humanTime(sec: number): string {
  if (!(sec >= 0)) return '?';
  const t = Math.floor(sec);
  let out = '';
  let left = 2;
  if (t >= 86400) { out += `${Math.floor(t / 86400)}d`; left--; }
  if (left && Math.floor((t % 86400) / 3600)) { out += `${Math.floor((t % 86400) / 3600)}h`; left--; }
  if (left && Math.floor((t % 3600) / 60)) { out += `${Math.floor((t % 3600) / 60)}m`; left--; }
  if ((left && t % 60) || t === 0) out += `${t % 60}s`;
  return out;
}

// ---- show sess -------------------------------------------------------------------------------

/** What a dump needs from a stream (TcpStream and HttpStream provide it). */
export interface SessView {
  readonly fe: Proxy;
  readonly be: Proxy | undefined;
  readonly server: Server | undefined;
  readonly src: string;
  readonly srcPort: number;
  readonly acceptedAt: number;
  readonly dequeued: boolean;
  readonly listener: { readonly id: number; readonly address: string; readonly cfg: { readonly address: { readonly family: string } } };
  readonly cliSock: object;
  readonly srvSock: object | undefined;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

function sockFd(s: object | undefined): number {
  const h = (s as { _handle?: { fd?: unknown } } | undefined)?._handle;
  return h && typeof h.fd === 'number' && h.fd >= 0 ? h.fd : -1;
}

export function protoOf(st: SessView): string {
  if (st.listener.cfg.address.family === 'unix' || st.listener.cfg.address.family === 'abns') return 'unix_stream';
  return st.src.includes(':') ? 'tcpv6' : 'tcpv4';
}

function srcOf(st: SessView): string {
  if (protoOf(st) === 'unix_stream') return `unix:${st.listener.id}`;
  return `${st.src}:${st.srcPort}`;
}

/** Stream-connector state on the server side, by HAProxy's numbering (0 INI, 2 QUE, 8 EST). */
function backState(st: SessView): number {
  if (st.srvSock) return 8;
  if (!st.dequeued) return 2;
  return 0;
}

/** The one-line form of `show sess`. */
export function sessLine(st: SessView, id: number, epoch: number, now: number): string {
  const age = humanTime((now - st.acceptedAt) / 1000);
  const be = st.be ? st.be.name : '<NONE>';
  const srv = st.server ? st.server.name : '<none>';
  return `0x${id.toString(16)}: proto=${protoOf(st)} src=${srcOf(st)} fe=${st.fe.name} be=${be} srv=${srv}` +
    ` ts=00 epoch=${hexAlt(epoch)} age=${age} calls=0 rate=0 cpu=0 lat=0` +
    ' rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=]' +
    ` scf=[8,0h,fd=${sockFd(st.cliSock)}] scb=[${backState(st)},0h,fd=${sockFd(st.srvSock)}] exp= rc=0 c_exp=\n`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dateUs(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `[${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds() * 1000).padStart(6, '0')}]`;
}

function peerOf(s: object | undefined, which: 'local' | 'remote'): string | undefined {
  const o = s as { localAddress?: string; localPort?: number; remoteAddress?: string; remotePort?: number } | undefined;
  if (!o) return undefined;
  const a = which === 'local' ? o.localAddress : o.remoteAddress;
  const p = which === 'local' ? o.localPort : o.remotePort;
  return a ? `${a}:${p ?? 0}` : undefined;
}

/** The extended form (`show sess <id>`, `show sess all`): the subset of HAProxy's lines haproxy-ts knows. */
export function sessDetail(st: SessView, id: number, epoch: number, now: number): string {
  const be = st.be ? `${st.be.name} (id=${st.be.id} mode=${st.be.mode})` : '<NONE> (id=-1 mode=-)';
  const beAddr = st.srvSock ? ` addr=${peerOf(st.srvSock, 'local') ?? '-'}` : '';
  const srv = st.server ? `${st.server.name} (id=${st.server.puid})` : '<NONE> (id=-1)';
  const srvAddr = st.srvSock ? ` addr=${peerOf(st.srvSock, 'remote') ?? '-'}` : '';
  return `0x${id.toString(16)}: ${dateUs(st.acceptedAt)} id=${id} proto=${protoOf(st)} source=${srcOf(st)}\n` +
    `  flags=0x0, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn=(nil), pend_pos=(nil) waiting=${st.dequeued ? 0 : 1} epoch=${hexAlt(epoch)}\n` +
    `  frontend=${st.fe.name} (id=${st.fe.id} mode=${st.fe.mode}), listener=? (id=${st.listener.id}) addr=${peerOf(st.cliSock, 'local') ?? st.listener.address}\n` +
    `  backend=${be}${beAddr}\n` +
    `  server=${srv}${srvAddr}\n` +
    `  task=0x${id.toString(16)} (state=0x00 nice=0 calls=0 rate=0 exp=<NEVER> tmask=0x1 age=${humanTime((now - st.acceptedAt) / 1000)})\n` +
    `  req=0x0 (f=0x0 an=0x0 pipe=0 tofwd=-1 total=${st.bytesIn})\n` +
    `  res=0x0 (f=0x0 an=0x0 pipe=0 tofwd=-1 total=${st.bytesOut})\n`;
}

export interface SessFilter {
  /** only this stream (its identifier), or undefined for all */
  id?: number;
  /** extended dump */
  detailed: boolean;
  /** only streams older than this many seconds */
  olderSec?: number;
  susp: boolean;
  backend?: Proxy;
  frontend?: Proxy;
  server?: Server;
}

/** C strtoul(..., 0): the leading hexadecimal (0x), octal (0) or decimal number, or undefined. */
export function parseStreamId(text: string): number | undefined {
  const m = /^\s*(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(text);
  if (!m) return undefined;
  const t = m[1]!;
  if (/^0[xX]/.test(t)) return parseInt(t.slice(2), 16);
  if (t.length > 1 && t[0] === '0') return parseInt(t, 8);
  return Number(t);
}

export const SHOW_SESS_HELP = [
  'Usage: show sess [<id> | all | help] [<options>*]',
  'Without <id>, one line per stream; with <id> or "all", several lines per stream.',
  'Options:',
  '  backend <b>   only streams using backend <b>',
  '  frontend <f>  only streams accepted by frontend <f>',
  '  older <age>   only streams older than <age> (seconds by default)',
  '  server <b/s>  only streams using server <s> of backend <b>',
  '  show-uri      accepted (the request URI is not kept by haproxy-ts)',
  '  susp          only suspicious streams (haproxy-ts flags none)',
].join('\n');

/** Parses the words after `show sess`; a string is an error (or the help) to print. */
export function parseSessArgs(rt: Runtime, words: string[], ctx: CliContext): SessFilter | { help: string } | undefined {
  const f: SessFilter = { detailed: false, susp: false };
  let i = 0;
  const first = words[0];
  if (first === 'help') return { help: SHOW_SESS_HELP };
  if (first === 'all') { f.detailed = true; i = 1; }
  else if (first !== undefined && first !== '' && !['older', 'susp', 'backend', 'frontend', 'server', 'show-uri'].includes(first)) {
    const id = parseStreamId(first);
    if (id !== undefined) { f.id = id; f.detailed = true; }
    i = 1;
  }
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'older') {
      const v = words[i + 1];
      if (v === undefined || v === '') { ctxErr(ctx, "Expects a minimum age (in seconds by default)."); return undefined; }
      const ms = parseTime(v, 's');
      if (typeof ms === 'string') { ctxErr(ctx, `Invalid age: ${ms}`); return undefined; }
      f.olderSec = ms / 1000;
      i++;
    } else if (w === 'susp') {
      f.susp = true;
    } else if (w === 'show-uri') {
      // the URI is not retained by haproxy-ts streams: nothing more to print
    } else if (w === 'backend' || w === 'frontend') {
      const v = words[i + 1];
      if (v === undefined || v === '') { ctxErr(ctx, `Missing ${w} name.`); return undefined; }
      const p = rt.findProxy(v, w);
      if (!p) { ctxErr(ctx, `No such ${w}.`); return undefined; }
      if (w === 'backend') f.backend = p; else f.frontend = p;
      i++;
    } else if (w === 'server') {
      const s = lookupServer(rt, words[i + 1], ctx);
      if (!s) return undefined;
      f.server = s;
      i++;
    } else {
      ctxErr(ctx, `Unsupported option '${w}', try 'help' for more options.`);
      return undefined;
    }
  }
  return f;
}

/** The `show sess` answer for streams `list`, or undefined when the designated one is gone. */
export function renderSess(list: Iterable<SessView>, f: SessFilter, now: number, epoch: number): string | undefined {
  let out = '';
  let found = false;
  for (const st of list) {
    const id = streamId(st);
    if (f.id !== undefined && id !== f.id) continue;
    if (f.olderSec !== undefined && (now - st.acceptedAt) / 1000 < f.olderSec) continue;
    if (f.susp) continue; // nothing here matches HAProxy's "suspicious" criteria
    if (f.backend && st.be !== f.backend) continue;
    if (f.frontend && st.fe !== f.frontend) continue;
    if (f.server && st.server !== f.server) continue;
    found = true;
    const ep = epochAt(st.acceptedAt);
    out += f.detailed ? `${sessDetail(st, id, ep, now)}\n` : sessLine(st, id, ep, now);
    void epoch;
  }
  if (f.id !== undefined && !found) return undefined;
  return out;
}

/** Finds the live stream with identifier `id`. */
function findStream(rt: Runtime, id: number): Session | undefined {
  for (const st of rt.streams) if (ids.get(st) === id) return st;
  return undefined;
}

// ---- show servers conn -----------------------------------------------------------------------

/** `show servers conn` for the given backends (one thread: one idle_per_thr column). */
export function renderServersConn(backends: readonly Proxy[]): string {
  let out = '# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n';
  for (const be of backends) {
    for (const s of be.servers) {
      const p = serverPoolStats(s);
      const idle = p?.size ?? 0;
      const addr = s.isUnix ? s.host : (s.host === '' ? '0.0.0.0' : s.host);
      out += `${be.name}/${s.name} ${be.id}/${s.puid} ${addr} ${s.isUnix ? 0 : s.port} - ${s.cfg.poolPurgeDelay ?? 5000}` +
        ` ${p?.used ?? 0} ${p?.maxUsed ?? 0} ${p?.estNeed ?? 0} 0 ${idle} ${s.cfg.poolMaxConn ?? -1} ${idle} ${idle}\n`;
    }
  }
  return out;
}

// ---- commands --------------------------------------------------------------------------------

export const SESSION_COMMANDS: CliKeyword[] = [
  {
    words: ['show', 'sess'], usage: 'show sess [help|<id>|all] [opts*]', help: 'report the list of current streams or dump this exact stream', level: 'operator',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const f = parseSessArgs(rt, args.slice(2), ctx);
      if (!f) return;
      if ('help' in f) { ctx.out(`${f.help}\n`); return; }
      const now = Date.now();
      const epoch = newDumpEpoch(now);
      const text = renderSess(rt.streams as Iterable<SessView>, f, now, epoch);
      if (text === undefined) { ctxErr(ctx, 'Session not found.'); return; }
      ctx.out(text);
    },
  },
  {
    words: ['shutdown', 'session'], usage: 'shutdown session [id]', help: 'kill a specific stream', level: 'admin',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const id = args[2] === undefined || args[2] === '' ? undefined : parseStreamId(args[2]);
      if (id === undefined || id === 0) { ctxErr(ctx, "Session pointer expected (use 'show sess')."); return; }
      const st = findStream(rt, id);
      if (!st) { ctxErr(ctx, "No such session (use 'show sess')."); return; }
      st.terminate('K', 'D');
    },
  },
  {
    words: ['shutdown', 'sessions', 'server'], usage: 'shutdown sessions server <bk>/<srv>', help: 'kill the streams using a server', level: 'admin',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[3], ctx);
      if (!s) return;
      for (const st of [...rt.streams]) if (st.server === s) st.terminate('K', 'D');
    },
  },
  {
    words: ['show', 'servers', 'conn'], usage: 'show servers conn [<backend>]', help: 'dump the servers\' connection counters (all backends or one)', level: 'user',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      let backends = rt.proxies.filter((p) => p.isBackend);
      const name = args[3];
      if (name !== undefined && name !== '') {
        const be = rt.findProxy(name, 'backend');
        if (!be) { ctxErr(ctx, "Can't find backend."); return; }
        backends = [be];
      }
      ctx.out(renderServersConn(backends));
    },
  },
];

registerCli(...SESSION_COMMANDS);
