// Shared helpers of the benchmarks (bench/run.mjs for TCP mode, bench/run-http.mjs for HTTP mode):
// child-process bookkeeping (every process started through start() is killed at the end, also on
// failure or Ctrl-C), ports, /proc accounting, wrk, the nginx origin and the result table.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const SMALL_SIZE = 1024;
export const BIG_SIZE = 1 << 20;
export const HAPROXY = process.env.HAPROXY_BIN || ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p));
export const HAPROXY_TS = process.env.HAPROXY_TS_BIN || path.join(ROOT, 'bin', 'haproxy-ts');

/** every child process started by start(), to be killed at the end */
const children = new Set();

export function log(msg) { process.stderr.write(`[bench] ${msg}\n`); }

export function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

export function parseDurationSec(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(s).trim());
  if (!m) throw new Error(`bad duration '${s}'`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] || 's'];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 500);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

export async function waitPort(port, child, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited early (code ${child.exitCode}):\n${child.errText || ''}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${child?.errText || ''}`);
    await sleep(50);
  }
}

export async function waitPortFree(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (await canConnect(port)) {
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await sleep(50);
  }
}

/** Starts a long-running child; its stderr is kept (bounded) for error messages. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.errText = '';
  const keep = (d) => { if (child.errText.length < 16_384) child.errText += d; };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.on('exit', (c, s) => { children.delete(child); resolve(c ?? s); }));
  child.on('error', (e) => { child.errText += String(e); });
  children.add(child);
  return child;
}

export async function stop(child, timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(t);
}

/** Runs a child to completion (killed after limitSec); resolves to its stdout, throws on failure. */
export async function runToEnd(cmd, args, limitSec, what = `${cmd} ${args.join(' ')}`) {
  const child = start(cmd, args);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const limit = setTimeout(() => child.kill('SIGKILL'), limitSec * 1000);
  const code = await child.exited;
  clearTimeout(limit);
  if (code !== 0) throw new Error(`${what} failed (${code}):\n${out}${child.errText}`);
  return out;
}

function killAll() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  children.clear();
}

/**
 * Runs main(); on its end, on failure and on SIGINT/SIGTERM/SIGHUP kills every child started by
 * start() and removes the temporary directory returned by getTmp().
 */
export function runMain(main, getTmp) {
  let exiting = false;
  const cleanup = () => {
    killAll();
    const tmp = getTmp();
    if (tmp) { try { fs.rmSync(tmp, { recursive: true, force: true }); } catch { /* best effort */ } }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (exiting) return;
      exiting = true;
      log(`${sig}: stopping`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('exit', () => killAll());
  main().then(() => { cleanup(); }, (e) => {
    log(`FAILED: ${e && e.stack ? e.stack : e}`);
    cleanup();
    process.exitCode = 1;
  });
}

let CLK_TCK;
function clkTck() {
  if (CLK_TCK) return CLK_TCK;
  try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { CLK_TCK = 100; }
  return CLK_TCK;
}

/** user+system CPU seconds consumed so far by a process (Linux /proc). */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck();
  } catch { return undefined; }
}

/** read/write syscall counts and bytes of a process so far (Linux /proc/<pid>/io). */
export function ioStats(pid) {
  try {
    const o = {};
    for (const l of fs.readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)/.exec(l);
      if (m) o[m[1]] = Number(m[2]);
    }
    return o;
  } catch { return undefined; }
}

/** resident set size of a process in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}

/** GET through `port`; checks status and size before benchmarking. */
export function httpCheck(port, urlPath, size, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => {
        if (res.statusCode !== 200 || n !== size) reject(new Error(`GET ${urlPath} on ${port}: status ${res.statusCode}, ${n} bytes (expected 200, ${size})`));
        else resolve();
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath} on ${port}: timeout`)));
    req.on('error', reject);
  });
}

const UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** Parses wrk's summary. wrk prints sizes with 1024-based units. */
export function parseWrk(text) {
  const num = (re) => { const m = re.exec(text); return m ? Number(m[1]) : undefined; };
  const rps = num(/Requests\/sec:\s+([\d.]+)/);
  const tm = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(text);
  const lat = /Latency\s+([\d.]+)(us|ms|s)\b/.exec(text);
  const latMs = lat ? Number(lat[1]) * ({ us: 0.001, ms: 1, s: 1000 }[lat[2]]) : undefined;
  const total = /(\d+) requests in ([\d.]+)(ms|s|m),\s+([\d.]+)([KMGT]?B) read/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0;
  return {
    requestsPerSec: rps,
    bytesPerSec: tm ? Number(tm[1]) * UNITS[tm[2]] : undefined,
    latencyAvgMs: latMs,
    requests: total ? Number(total[1]) : undefined,
    errors: { connect: sock ? Number(sock[1]) : 0, read: sock ? Number(sock[2]) : 0, write: sock ? Number(sock[3]) : 0, timeout: sock ? Number(sock[4]) : 0, non2xx },
  };
}

/** Runs wrk against 127.0.0.1:port; `extra` are additional wrk arguments (e.g. a header). */
export async function runWrk(port, urlPath, { threads, conns, duration, extra = [] }) {
  const args = [`-t${threads}`, `-c${conns}`, `-d${duration}`, '--latency', ...extra, `http://127.0.0.1:${port}${urlPath}`];
  const shown = args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const out = await runToEnd('wrk', args, parseDurationSec(duration) + 30, `wrk ${shown}`);
  const r = parseWrk(out);
  if (r.requestsPerSec === undefined) throw new Error(`cannot parse wrk output:\n${out}`);
  return { ...r, command: `wrk ${shown}`, raw: out };
}

/**
 * Measures `fn()` (which returns an object with `requests`) and adds the proxy's CPU % and
 * CPU µs per request, and where it uses read()/write() its syscalls per request, from /proc.
 */
export async function withProcAccounting(proc, fn) {
  const cpu0 = proc ? cpuSeconds(proc.pid) : undefined;
  const io0 = proc ? ioStats(proc.pid) : undefined;
  const t0 = Date.now();
  const r = await fn();
  const wall = (Date.now() - t0) / 1000;
  const cpu1 = proc ? cpuSeconds(proc.pid) : undefined;
  const io1 = proc ? ioStats(proc.pid) : undefined;
  if (cpu0 !== undefined && cpu1 !== undefined) {
    r.proxyCpuPercent = Math.round(((cpu1 - cpu0) / wall) * 1000) / 10;
    if (r.requests) r.proxyCpuMicrosPerRequest = Math.round(((cpu1 - cpu0) * 1e6) / r.requests * 10) / 10;
  }
  // (only counts read()/write(): HAProxy's recv()/send() do not show there)
  if (io0 && io1 && r.requests && io1.syscr > io0.syscr) {
    r.proxyReadSyscallsPerRequest = Math.round(((io1.syscr - io0.syscr) / r.requests) * 100) / 100;
    r.proxyWriteSyscallsPerRequest = Math.round(((io1.syscw - io0.syscw) / r.requests) * 100) / 100;
    r.proxyBytesPerReadSyscall = Math.round((io1.rchar - io0.rchar) / Math.max(1, io1.syscr - io0.syscr));
    r.proxyBytesPerWriteSyscall = Math.round((io1.wchar - io0.wchar) / Math.max(1, io1.syscw - io0.syscw));
  }
  return r;
}

/** Starts nginx on 127.0.0.1:port serving /small (1 KiB) and /big (1 MiB) with keep-alive. */
export async function startNginx(dir, port, { workerConnections = 4096 } = {}) {
  const www = path.join(dir, 'www');
  fs.mkdirSync(www, { recursive: true });
  // a 1 KiB file of text and a 1 MiB file of pseudo-random bytes
  fs.writeFileSync(path.join(www, 'small'), Buffer.alloc(SMALL_SIZE, 'abcdefghijklmnopqrstuvwxyz0123456789\n'));
  const big = Buffer.alloc(BIG_SIZE);
  for (let i = 0, x = 12345; i < big.length; i++) { x = (x * 1103515245 + 12345) >>> 0; big[i] = x >>> 24; }
  fs.writeFileSync(path.join(www, 'big'), big);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const conf = `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/err.log;
pid ${dir}/nginx.pid;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location / { }
  }
}
`;
  const cfg = path.join(dir, 'nginx.conf');
  fs.writeFileSync(cfg, conf);
  const child = start(which('nginx') || 'nginx', ['-p', dir, '-e', path.join(dir, 'err.log'), '-c', cfg]);
  try {
    await waitPort(port, child, 'nginx');
  } catch (e) {
    let errLog = '';
    try { errLog = fs.readFileSync(path.join(dir, 'err.log'), 'utf8'); } catch { /* none */ }
    throw new Error(`${e.message}\n${errLog}`);
  }
  await httpCheck(port, '/small', SMALL_SIZE);
  await httpCheck(port, '/big', BIG_SIZE);
  return child;
}

/** Checks the tools and the haproxy-ts build the given targets need. */
export function checkPrerequisites(targets, tools = ['wrk', 'nginx']) {
  for (const tool of tools) if (!which(tool)) throw new Error(`${tool} not found (apt-get install -y nginx wrk)`);
  if (targets.includes('haproxy') && !HAPROXY) throw new Error('haproxy not found (set HAPROXY_BIN or BENCH_TARGETS without haproxy)');
  if (targets.includes('haproxy-ts') && !fs.existsSync(HAPROXY_TS)) throw new Error(`${HAPROXY_TS} not found`);
  if (targets.includes('haproxy-ts') && !fs.existsSync(path.join(path.dirname(HAPROXY_TS), '..', 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: build first (npm run build)');
  }
  const load = os.loadavg();
  if (load[0] > 0.5) log(`warning: 1-minute load average is ${load[0].toFixed(2)} before starting: other work on this machine will skew the results`);
}

/**
 * Starts haproxy or haproxy-ts on cfgPath (haproxy-ts under `node --cpu-prof` when profile is
 * set);
 * undefined for other targets.
 */
export function startProxy(target, cfgPath, { profile = false } = {}) {
  if (target === 'haproxy') return start(HAPROXY, ['-db', '-f', cfgPath]);
  if (target !== 'haproxy-ts') return undefined;
  const profDir = path.join(RESULTS_DIR, 'prof');
  if (profile) fs.mkdirSync(profDir, { recursive: true });
  // run as users do (the executable, so that the V8 flags of its #! line apply); under the
  // profiler through node with the same flags
  if (!profile) return start(HAPROXY_TS, ['-db', '-f', cfgPath]);
  const shebang = fs.readFileSync(HAPROXY_TS, 'utf8').split('\n')[0];
  const v8Flags = shebang.split(/\s+/).filter((w) => w.startsWith('--'));
  return start(process.execPath, [...v8Flags, '--cpu-prof', `--cpu-prof-dir=${profDir}`, HAPROXY_TS, '-db', '-f', cfgPath]);
}

function toolVersion(cmd, args) {
  // nginx -v prints on stderr, wrk --version exits with 1: take the first line of either
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || 'unknown';
}

/** Description of the machine and tools, for the result file. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length, cpuModel: cpus[0]?.model, memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: `${os.type()} ${os.release()}`, node: process.version, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    haproxy: HAPROXY ? toolVersion(HAPROXY, ['-v']) : undefined,
    nginx: toolVersion('nginx', ['-v']), wrk: toolVersion('wrk', ['--version']),
  };
}

/** Writes the result object as JSON to bench/results/<name>; returns the path. */
export function writeResults(name, out) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.resolve(RESULTS_DIR, name);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  return file;
}

export function fmt(n, digits) {
  if (n === undefined || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(a, b) { return a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : undefined; }

/**
 * Per key of each round's result: the round with the median of `metric(entry)` (the first
 * metric that is defined), plus the per-round values when there were several rounds.
 */
export function medianRounds(list, keys, metric, roundsKey = 'rounds') {
  const res = {};
  for (const k of keys) {
    const sorted = list.map((r) => r[k]).filter(Boolean).sort((a, b) => metric(a) - metric(b));
    if (!sorted.length) continue;
    res[k] = { ...sorted[(sorted.length - 1) >> 1], ...(list.length > 1 ? { [roundsKey]: list.map((r) => (r[k] ? metric(r[k]) : undefined)) } : {}) };
  }
  return res;
}

/** Prints a Markdown table (first row = header; first column left-aligned, the others right). */
export function printTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(rows[0]));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows.slice(1)) console.log(line(r));
}

/** The settings both benchmarks read from the environment (see bench/run.mjs for their meaning). */
export function benchEnv({ targets, tests }) {
  const list = (v, d) => (v || d).split(',').map((x) => x.trim()).filter(Boolean);
  return {
    DURATION: process.env.BENCH_DURATION || '10s',
    WARMUP: process.env.BENCH_WARMUP ?? '2s',
    CONNS: Number(process.env.BENCH_CONNS || 50),
    CONNS_BIG: Number(process.env.BENCH_CONNS_BIG || 20),
    THREADS: Number(process.env.BENCH_THREADS || 2),
    TARGETS: list(process.env.BENCH_TARGETS, targets),
    ROUNDS: Math.max(1, Math.min(20, Number(process.env.BENCH_ROUNDS || 1))),
    TESTS: list(process.env.BENCH_TESTS, tests),
    PROFILE: process.env.BENCH_PROFILE === '1',
  };
}

/**
 * Runs every target once per round, targets alternating within a round; returns, per target,
 * the list of its results in round order.
 */
export async function runRounds(rounds, targets, runOne) {
  const out = {};
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`round ${round}/${rounds}`);
    for (const target of targets) (out[target] ??= []).push(await runOne(target));
  }
  return out;
}
