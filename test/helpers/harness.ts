// Shared helpers for integration and interop tests: free ports, temp configs, starting the real
// binary (haproxy-ts or haproxy) and stopping it, small TCP servers and clients. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repository root (tests run from dist/test/helpers). */
export const ROOT = path.resolve(here, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'haproxy-ts');

export function haproxyPath(): string | undefined {
  for (const p of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) if (fs.existsSync(p)) return p;
  return undefined;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await freePort();
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export function tempDir(prefix = 'hts-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeConfig(dir: string, text: string, name = 'haproxy.cfg'): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
}

export interface RunResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs a command to completion (bounded). */
export function runCmd(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const isNodeScript = cmd === BIN;
    const child = spawn(isNodeScript ? process.execPath : cmd, isNodeScript ? [BIN, ...args] : args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timeout running ${cmd} ${args.join(' ')}\n${stderr}`)); }, opts.timeoutMs ?? 20_000);
    child.on('error', (e) => { clearTimeout(t); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
    if (opts.input !== undefined) child.stdin.end(opts.input); else child.stdin.end();
  });
}

export interface Proc {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

/** Starts a proxy binary; resolves once every port in `waitPorts` accepts connections. */
/**
 * A test file whose tests are over but whose event loop is kept alive by something a failed or
 * timed-out test left open must not hang the whole run: after 10 minutes (the slowest file takes
 * about one) the file's process exits with an error. The timer does not itself keep the process
 * alive.
 */
setTimeout(() => {
  process.stderr.write('test file still running after 10 minutes (something was left open): exiting\n');
  process.exit(1);
}, 10 * 60_000).unref();

/**
 * Proxies still running when a test file's process ends (a test that timed out never reaches its
 * `finally`): killed on exit so that no process outlives the test run.
 */
const running = new Set<ChildProcess>();
process.on('exit', () => { for (const c of running) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

export async function startProxy(bin: string, args: string[], waitPorts: number[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; host?: string } = {}): Promise<Proc> {
  const isNodeScript = bin === BIN;
  const child = spawn(isNodeScript ? process.execPath : bin, isNodeScript ? [BIN, ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env,
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '', err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(c ?? s ?? -1)));
  const proc: Proc = {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (const port of waitPorts) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${bin} exited early (${child.exitCode}): ${err}`);
      if (await canConnect(port, opts.host)) break;
      if (Date.now() > deadline) { await proc.stop('SIGKILL'); throw new Error(`${bin} did not listen on ${port}: ${err}`); }
      await sleep(30);
    }
  }
  return proc;
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 500);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` is true, polling; throws after `timeoutMs`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface TestServer {
  port: number;
  name: string;
  /** connections accepted so far */
  accepted: number;
  /** concurrently open connections */
  open: number;
  /** the first bytes each connection received (up to the first 256 bytes), in order */
  firstBytes: Buffer[];
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/**
 * A TCP server that answers each connection: by default it replies "<name>\n" to any data and
 * echoes nothing else; `mode: 'echo'` echoes; `mode: 'hold'` keeps the connection open silently.
 */
export async function startTestServer(name: string, opts: { mode?: 'name' | 'echo' | 'hold' | 'name-close'; port?: number; host?: string } = {}): Promise<TestServer> {
  const mode = opts.mode ?? 'name';
  const ts: TestServer = {
    port: 0, name, accepted: 0, open: 0, firstBytes: [], sockets: new Set(),
    close: () => new Promise<void>((r) => { for (const s of ts.sockets) s.destroy(); srv.close(() => r()); }),
  };
  const srv = net.createServer({ allowHalfOpen: true }, (sock) => {
    ts.accepted++;
    ts.open++;
    ts.sockets.add(sock);
    let first: Buffer | undefined;
    const idx = ts.firstBytes.length;
    ts.firstBytes.push(Buffer.alloc(0));
    sock.on('error', () => {});
    sock.on('close', () => { ts.open--; ts.sockets.delete(sock); });
    sock.on('data', (d: Buffer) => {
      if (!first || first.length < 256) { first = first ? Buffer.concat([first, d]) : d; ts.firstBytes[idx] = first.subarray(0, 256); }
      if (mode === 'echo') sock.write(d);
      else if (mode === 'name') sock.write(`${name}\n`);
      else if (mode === 'name-close') sock.end(`${name}\n`);
    });
    sock.on('end', () => { if (mode !== 'hold') sock.end(); });
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  ts.port = (srv.address() as net.AddressInfo).port;
  return ts;
}

/** Connects, sends `data`, half-closes if asked, and collects the reply until the server closes. */
export function tcpExchange(port: number, data: string | Buffer, opts: { host?: string; timeoutMs?: number; halfClose?: boolean; untilBytes?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: opts.host ?? '127.0.0.1', allowHalfOpen: true });
    let got = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`tcpExchange timeout on ${port}, got '${got}'`)); }, opts.timeoutMs ?? 5000);
    s.on('connect', () => { s.write(data); if (opts.halfClose ?? true) s.end(); });
    s.on('data', (d) => {
      got += d;
      if (opts.untilBytes && got.length >= opts.untilBytes) { clearTimeout(t); s.destroy(); resolve(got); }
    });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(got); });
  });
}

/** Sends one command line to a stats socket (unix path or TCP port) and returns the answer. */
export function cliCommand(target: string | number, cmd: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? net.connect({ port: target, host: '127.0.0.1' }) : net.connect({ path: target });
    let got = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`cli timeout for '${cmd}'`)); }, timeoutMs);
    s.on('connect', () => s.write(`${cmd}\n`));
    s.on('data', (d) => { got += d; });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(got); });
  });
}

/**
 * The start of many test configurations: a "global" section with an admin stats socket on `sock`
 * (left out when `sock` is undefined), then "defaults" in mode http with connect 1s, client 5s and
 * server 5s timeouts. Ends with a newline.
 */
export function httpTestHead(sock?: string): string {
  return (sock !== undefined ? `global
  stats socket ${sock} level admin
` : '') + `defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;
}

/**
 * The "defaults" section of the health-check tests: mode `mode`, connect 500ms, client and server
 * 5s, check 300ms. Starts and ends with a newline.
 */
export function checkTestDefaults(mode: 'http' | 'tcp' = 'http'): string {
  return `
defaults
  mode ${mode}
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  timeout check 300ms
`;
}

// ------------------------------------------------------------------------------------------------
// Helpers added for the integration suites (tcp-forwarding, limits, proxy-protocol, signals,
// check-mode). Everything below is additive.

/** A connected client that records what it receives and how its connection ends. */
export interface Client {
  sock: net.Socket;
  received(): Buffer;
  text(): string;
  /** true once the peer's FIN arrived */
  gotEnd(): boolean;
  isClosed(): boolean;
  /** resolves when the socket is fully closed (never rejects) */
  closed: Promise<void>;
  waitText(s: string, timeoutMs?: number): Promise<void>;
  waitBytes(n: number, timeoutMs?: number): Promise<void>;
  waitEnd(timeoutMs?: number): Promise<void>;
  waitClosed(timeoutMs?: number): Promise<void>;
}

/** Connects to a TCP port (or a unix socket path) with half-close allowed; resolves once connected. */
export function openClient(target: number | { path: string }, opts: { host?: string; timeoutMs?: number; localAddress?: string } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = typeof target === 'number'
      ? net.connect({ port: target, host: opts.host ?? '127.0.0.1', allowHalfOpen: true, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) })
      : net.connect({ path: target.path, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    let isClosed = false;
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => { closedResolve = r; });
    sock.on('data', (d: Buffer) => { chunks.push(d); size += d.length; });
    sock.on('end', () => { ended = true; });
    sock.on('close', () => { isClosed = true; closedResolve(); });
    const received = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    const c: Client = {
      sock,
      received,
      text: () => received().toString('latin1'),
      gotEnd: () => ended,
      isClosed: () => isClosed,
      closed,
      waitText: (s, ms = 5000) => waitFor(() => received().toString('latin1').includes(s), ms, `client to receive '${s}' (got '${received().toString('latin1').slice(0, 200)}')`),
      waitBytes: (n, ms = 5000) => waitFor(() => size >= n, ms, `client to receive ${n} bytes (got ${size})`),
      waitEnd: (ms = 5000) => waitFor(() => ended || isClosed, ms, 'client to receive EOF'),
      waitClosed: (ms = 5000) => waitFor(() => isClosed, ms, 'client connection to close'),
    };
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`openClient: connect timeout to ${JSON.stringify(target)}`)); }, opts.timeoutMs ?? 3000);
    sock.once('connect', () => { clearTimeout(t); sock.removeListener('error', onErr); sock.on('error', () => {}); resolve(c); });
    const onErr = (e: Error): void => { clearTimeout(t); reject(e); };
    sock.once('error', onErr);
  });
}

/** Writes `cfgText` to a fresh temp dir and starts haproxy-ts on it; resolves when `waitPorts` accept. */
export async function startProxyWithConfig(cfgText: string, waitPorts: number[], opts: { args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Proc & { dir: string; cfg: string }> {
  const dir = tempDir();
  const cfg = writeConfig(dir, cfgText);
  let p: Proc;
  try {
    p = await startProxy(BIN, ['-f', cfg, ...(opts.args ?? [])], waitPorts, { env: opts.env, timeoutMs: opts.timeoutMs });
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  void p.exited.then(() => fs.rmSync(dir, { recursive: true, force: true }));
  return Object.assign(p, { dir, cfg });
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Closes a set of clients/servers/processes, ignoring errors (for finally blocks). */
export async function closeAll(items: Array<{ sock?: net.Socket; close?: () => Promise<void>; stop?: (s?: NodeJS.Signals) => Promise<unknown> } | undefined>): Promise<void> {
  for (const it of items) {
    if (!it) continue;
    try {
      if (it.sock) it.sock.destroy();
      else if (it.stop) await it.stop('SIGKILL');
      else if (it.close) await it.close();
    } catch { /* ignore */ }
  }
}
