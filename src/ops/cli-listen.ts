// The stats sockets themselves: binding every `stats socket` line, accepting connections
// within `stats maxconn` and the per-socket `maxconn`, the idle `stats timeout`, and closing
// everything (and removing our UNIX socket files) when the process stops.
import net from 'node:net';
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../proxy/runtime.js';
import { describeAddress, errText } from '../net/listener.js';
import { logAlert, endStartupLog } from '../cli/messages.js';
import { cliState, setCliRuntime, type CliListener, type CliSocketConfig, type CliState } from './cli-state.js';
import { CliSession } from './cli-session.js';

/** Longest path a UNIX socket address can hold (sun_path minus the final NUL). */
const UNIX_PATH_MAX = 107;

function listenP(srv: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => { srv.removeListener('listening', onListening); reject(e); };
    const onListening = (): void => { srv.removeListener('error', onError); resolve(); };
    srv.once('error', onError);
    srv.once('listening', onListening);
    srv.listen(opts);
  });
}

function bindError(cfg: CliSocketConfig, what: string, e: unknown): Error {
  const where = `Binding [${cfg.where.file}:${cfg.where.line}] for frontend GLOBAL`;
  const reason = errText(e as NodeJS.ErrnoException);
  if (cfg.address.family === 'unix') return new Error(`${where}: ${what} UNIX socket (${reason}) [${cfg.address.host}]`);
  return new Error(`${where}: ${what} socket (${reason}) [${describeAddress(cfg.address)}]`);
}

/**
 * Binds a UNIX socket the way HAProxy does: on a temporary name next to the final one, with
 * its permissions set, then renamed over the final path. An old process still listening on
 * that path keeps its socket open but can no longer be reached there, and closing it later
 * never removes the new file.
 */
async function listenUnix(srv: net.Server, l: CliListener, backlog: number): Promise<void> {
  const cfg = l.cfg;
  const path = cfg.address.host;
  const tmp = `${path}.${process.pid}.tmp`;
  const useTmp = Buffer.byteLength(tmp) <= UNIX_PATH_MAX;
  const target = useTmp ? tmp : path;
  try {
    if (fs.lstatSync(target).isSocket()) fs.unlinkSync(target);
  } catch { /* absent */ }
  try {
    await listenP(srv, { path: target, backlog });
  } catch (e) {
    throw bindError(cfg, 'cannot bind', e);
  }
  try {
    if (cfg.mode !== undefined) fs.chmodSync(target, cfg.mode);
    if (cfg.uid !== undefined || cfg.gid !== undefined) fs.chownSync(target, cfg.uid ?? -1, cfg.gid ?? -1);
    if (useTmp) fs.renameSync(tmp, path);
    l.unixPath = path;
    l.unixIno = fs.statSync(path).ino;
  } catch (e) {
    srv.close();
    try { if (useTmp) fs.unlinkSync(tmp); } catch { /* gone */ }
    throw bindError(cfg, 'cannot change ownership, permissions or name of', e);
  }
}

async function bindOne(rt: Runtime, cfg: CliSocketConfig): Promise<CliListener> {
  const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const l: CliListener = { cfg, server: srv, cur: 0, held: [] };
  const a = cfg.address;
  const backlog = cfg.backlog && cfg.backlog > 0 ? cfg.backlog : 1024;
  if (a.family === 'unix') {
    await listenUnix(srv, l, backlog);
  } else {
    let opts: net.ListenOptions;
    if (a.family === 'abns') opts = { path: `\0${a.host}`, backlog };
    else if (a.family === 'fd' || a.family === 'sockpair') opts = { fd: Number(a.host), backlog } as net.ListenOptions;
    else opts = { host: a.host || (a.family === 'ipv6' ? '::' : '0.0.0.0'), port: a.port, backlog, ipv6Only: cfg.v6only ?? false };
    try {
      await listenP(srv, opts);
    } catch (e) {
      throw bindError(cfg, 'cannot bind', e);
    }
  }
  srv.on('error', (e) => logAlert(`stats socket ${describeAddress(cfg.address)}: ${e.message}`));
  srv.on('connection', (sock) => {
    try { accept(rt, l, sock); } catch (e) { sock.destroy(); rt.internalError(e); }
  });
  return l;
}

function full(rt: Runtime, st: CliState, l: CliListener): boolean {
  if (st.sessions.size >= rt.global.statsMaxconn) return true;
  return !!l.cfg.maxconn && l.cur >= l.cfg.maxconn;
}

function accept(rt: Runtime, l: CliListener, sock: net.Socket): void {
  const st = cliState(rt);
  sock.on('error', () => { /* reported by 'close' */ });
  if (st.stopped) { sock.destroy(); return; }
  if (full(rt, st, l) || l.held.length) {
    // like a full listen queue: the connection waits, unread, for a free slot
    l.held.push(sock);
    sock.once('close', () => {
      const i = l.held.indexOf(sock);
      if (i >= 0) l.held.splice(i, 1);
    });
    return;
  }
  startSession(rt, st, l, sock);
}

function dequeue(rt: Runtime, st: CliState): void {
  for (const l of st.listeners) {
    while (l.held.length && !full(rt, st, l)) {
      const s = l.held.shift()!;
      if (s.destroyed) continue;
      startSession(rt, st, l, s);
    }
  }
}

function startSession(rt: Runtime, st: CliState, l: CliListener, sock: net.Socket): void {
  const g = rt.global;
  let ended = false;
  let lingerTimer: NodeJS.Timeout | undefined;
  const session = new CliSession(rt, {
    write(text) {
      if (sock.destroyed || !sock.writable) return;
      st.bytesOut += Buffer.byteLength(text);
      sock.write(text);
    },
    end() {
      if (ended) return;
      ended = true;
      if (sock.destroyed) return;
      // like HAProxy, close both ways once the answer is out; a client that never sends its
      // FIN cannot keep the session open
      sock.once('finish', () => sock.destroy());
      sock.end();
      lingerTimer = setTimeout(() => sock.destroy(), session.timeoutMs);
      lingerTimer.unref();
    },
    setTimeout(ms) { sock.setTimeout(ms); },
  }, {
    level: l.cfg.level,
    severityOutput: l.cfg.severityOutput,
    timeoutMs: g.statsTimeout,
    maxCommandBytes: g.tune.bufsize,
  });
  const handle = { destroy: () => { session.close(); sock.destroy(); } };
  st.sessions.add(handle);
  st.cumSessions++;
  l.cur++;
  const decoder = new StringDecoder('utf8');
  sock.on('data', (d: Buffer) => { try { session.feed(decoder.write(d)); } catch { sock.destroy(); } });
  sock.on('end', () => {
    try {
      session.feed(decoder.end());
      session.endInput();
    } catch { sock.destroy(); }
  });
  sock.on('timeout', () => sock.destroy());
  sock.once('close', () => {
    if (lingerTimer) clearTimeout(lingerTimer);
    session.close();
    if (st.sessions.delete(handle)) l.cur--;
    dequeue(rt, st);
  });
  sock.setTimeout(g.statsTimeout);
  if (l.cfg.address.family !== 'unix' && l.cfg.address.family !== 'abns') sock.setNoDelay(true);
  sock.resume();
}

/**
 * Closes the listeners, drops waiting and open sessions, removes our UNIX socket files. All
 * of it happens synchronously (the process may exit right after the stop hooks are started);
 * the returned promise only waits for the servers to report their closing.
 */
function stopAll(st: CliState): Promise<void> {
  st.stopped = true;
  const ls = st.listeners.splice(0);
  // sessions first: a server's close() completes only once its connections are gone
  for (const h of [...st.sessions]) h.destroy();
  const closing = ls.map((l) => {
    for (const s of l.held.splice(0)) s.destroy();
    return new Promise<void>((resolve) => {
      try { l.server.close(() => resolve()); } catch { resolve(); }
    });
  });
  for (const l of ls) {
    if (l.unixPath === undefined) continue;
    try {
      const cur = fs.lstatSync(l.unixPath);
      if (cur.isSocket() && cur.ino === l.unixIno) fs.unlinkSync(l.unixPath);
    } catch { /* gone or replaced */ }
  }
  return Promise.all(closing).then(() => undefined);
}

/**
 * Binds every configured stats socket (after the proxies' listeners). Throws an Error whose
 * message lines are HAProxy-like alerts when one cannot be bound; nothing stays bound then.
 */
export async function startStatsSockets(rt: Runtime): Promise<void> {
  const st = cliState(rt);
  setCliRuntime(rt);
  st.hardMaxconn = rt.maxconn;
  st.bootMs = Math.round(performance.now());
  const errors: string[] = [];
  const bound: CliListener[] = [];
  for (const cfg of rt.global.statsSockets as CliSocketConfig[]) {
    try {
      bound.push(await bindOne(rt, cfg));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) {
    for (const l of bound) {
      l.server.close();
      try { if (l.unixPath && fs.lstatSync(l.unixPath).ino === l.unixIno) fs.unlinkSync(l.unixPath); } catch { /* gone */ }
    }
    errors.push('[haproxy-ts.main()] Some protocols failed to start their listeners! Exiting.');
    throw new Error(errors.join('\n'));
  }
  st.listeners.push(...bound);
  rt.addStopHook(() => stopAll(st));
  // the process is up: what follows is not part of `show startup-logs`
  endStartupLog();
}

/** Addresses the stats sockets actually listen on (for `show cli sockets` and tests). */
export function boundAddress(l: CliListener): string {
  const a = l.cfg.address;
  switch (a.family) {
    case 'unix': return `unix@${a.host}`;
    case 'abns': return `abns@${a.host}`;
    case 'fd': case 'sockpair': return `sockpair@${a.host}`;
    default: {
      const info = l.server.address();
      if (info && typeof info === 'object') {
        return info.family === 'IPv6' ? `ipv6@[${info.address}]:${info.port}` : `ipv4@${info.address}:${info.port}`;
      }
      return describeAddress(a);
    }
  }
}
