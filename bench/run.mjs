#!/usr/bin/env node
// Throughput benchmark: nginx on loopback as the origin; wrk as the client; the same TCP-mode
// configuration run by the system's HAProxy and by haproxy-ts, plus a direct-to-nginx baseline.
//
//   npm run bench                         (builds, then runs this script)
//   BENCH_DURATION=10s node bench/run.mjs
//
// Environment:
//   BENCH_DURATION   wrk duration per measurement (default 10s)
//   BENCH_WARMUP     warm-up run before each target's measurements (default 2s, 0 = none)
//   BENCH_CONNS      wrk connections for /small (default 50)
//   BENCH_CONNS_BIG  wrk connections for /big (default 20)
//   BENCH_THREADS    wrk threads (default 2)
//   BENCH_TARGETS    comma-separated subset of direct,haproxy,haproxy-ts (default all); also the
//                    experimental relays pump-streams, pump-notimeout, pump-onread, pump-onread2 (pump-variants.mjs)
//   BENCH_ROUNDS     run every target this many times, alternating; report the median (default 1)
//   BENCH_TESTS      comma-separated subset of small,big (default both)
//   BENCH_PROFILE    1: run haproxy-ts under `node --cpu-prof` (profiles in bench/results/prof/)
//   BENCH_OUT        result file name, relative to bench/results/ (default latest.json)
//   HAPROXY_BIN      haproxy binary (default /usr/sbin/haproxy or the first one found)
//   HAPROXY_TS_BIN   haproxy-ts launcher (default bin/haproxy-ts of this repository)
//
// Writes bench/results/latest.json. Every process started here is killed at the end, also on
// failure or Ctrl-C.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

const DURATION = process.env.BENCH_DURATION || '10s';
const WARMUP = process.env.BENCH_WARMUP ?? '2s';
const CONNS = Number(process.env.BENCH_CONNS || 50);
const CONNS_BIG = Number(process.env.BENCH_CONNS_BIG || 20);
const THREADS = Number(process.env.BENCH_THREADS || 2);
const TARGETS = (process.env.BENCH_TARGETS || 'direct,haproxy,haproxy-ts').split(',').map((s) => s.trim()).filter(Boolean);
const ROUNDS = Math.max(1, Math.min(20, Number(process.env.BENCH_ROUNDS || 1)));
const TESTS = (process.env.BENCH_TESTS || 'small,big').split(',').map((s) => s.trim()).filter(Boolean);
const PROFILE = process.env.BENCH_PROFILE === '1';
const HAPROXY = process.env.HAPROXY_BIN || ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p));
const HAPROXY_TS = process.env.HAPROXY_TS_BIN || path.join(ROOT, 'bin', 'haproxy-ts');
const SMALL_SIZE = 1024;
const BIG_SIZE = 1 << 20;

/** every child process started by this script, to be killed at the end */
const children = new Set();
let tmp;

function log(msg) { process.stderr.write(`[bench] ${msg}\n`); }

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const p = path.join(dir, cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function parseDurationSec(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(s).trim());
  if (!m) throw new Error(`bad duration '${s}'`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600 }[m[2] || 's'];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
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

async function waitPort(port, child, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(port))) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited early (code ${child.exitCode}):\n${child.errText || ''}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${child?.errText || ''}`);
    await sleep(50);
  }
}

async function waitPortFree(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (await canConnect(port)) {
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await sleep(50);
  }
}

/** Starts a long-running child; its stderr is kept (bounded) for error messages. */
function start(cmd, args, opts = {}) {
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

async function stop(child, timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(t);
}

function killAll() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  children.clear();
}

/** user+system CPU seconds consumed so far by a process (Linux /proc). */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck();
  } catch { return undefined; }
}
/** read/write syscall counts and bytes of a process so far (Linux /proc/<pid>/io). */
function ioStats(pid) {
  try {
    const o = {};
    for (const l of fs.readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)/.exec(l);
      if (m) o[m[1]] = Number(m[2]);
    }
    return o;
  } catch { return undefined; }
}

let CLK_TCK;
function clkTck() {
  if (CLK_TCK) return CLK_TCK;
  try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { CLK_TCK = 100; }
  return CLK_TCK;
}

/** GET through `port`; checks status and size before benchmarking. */
function httpCheck(port, urlPath, size, timeoutMs = 5000) {
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

async function runWrk(port, urlPath, conns, duration) {
  const args = [`-t${THREADS}`, `-c${conns}`, `-d${duration}`, '--latency', `http://127.0.0.1:${port}${urlPath}`];
  const child = start('wrk', args);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const limit = setTimeout(() => child.kill('SIGKILL'), (parseDurationSec(duration) + 30) * 1000);
  const code = await child.exited;
  clearTimeout(limit);
  if (code !== 0) throw new Error(`wrk ${args.join(' ')} failed (${code}):\n${out}${child.errText}`);
  const r = parseWrk(out);
  if (r.requestsPerSec === undefined) throw new Error(`cannot parse wrk output:\n${out}`);
  return { ...r, command: `wrk ${args.join(' ')}`, raw: out };
}

async function startNginx(dir, port) {
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
events { worker_connections 4096; }
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

/** The one configuration both proxies run (only the frontend port is chosen at run time). */
function proxyConfig(fePort, nginxPort) {
  return `global
  nbthread 1

defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s

listen bench
  bind 127.0.0.1:${fePort}
  server nginx 127.0.0.1:${nginxPort}
`;
}

function toolVersion(cmd, args) {
  // nginx -v prints on stderr, wrk --version exits with 1: take the first line of either
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return text.split('\n')[0]?.trim() || 'unknown';
}

async function measure(name, port, proc) {
  const res = {};
  if (WARMUP && parseDurationSec(WARMUP) > 0) {
    log(`${name}: warm-up ${WARMUP}`);
    if (TESTS.includes('small')) await runWrk(port, '/small', CONNS, WARMUP);
    if (TESTS.includes('big')) await runWrk(port, '/big', CONNS_BIG, WARMUP);
  }
  for (const [key, urlPath, conns] of [['small', '/small', CONNS], ['big', '/big', CONNS_BIG]]) {
    if (!TESTS.includes(key)) continue;
    log(`${name}: wrk ${urlPath} -c${conns} -d${DURATION}`);
    const cpu0 = proc ? cpuSeconds(proc.pid) : undefined;
    const io0 = proc ? ioStats(proc.pid) : undefined;
    const t0 = Date.now();
    const r = await runWrk(port, urlPath, conns, DURATION);
    const wall = (Date.now() - t0) / 1000;
    const cpu1 = proc ? cpuSeconds(proc.pid) : undefined;
    const io1 = proc ? ioStats(proc.pid) : undefined;
    if (cpu0 !== undefined && cpu1 !== undefined) {
      r.proxyCpuPercent = Math.round(((cpu1 - cpu0) / wall) * 1000) / 10;
      if (r.requests) r.proxyCpuMicrosPerRequest = Math.round(((cpu1 - cpu0) * 1e6) / r.requests * 10) / 10;
    }
    // (only counts read()/write(): HAProxy's recv()/send() do not show there)
    if (io0 && io1 && r.requests && io1.syscr > io0.syscr) {
      // the proxy reads and writes every byte once in each direction
      r.proxyReadSyscallsPerRequest = Math.round(((io1.syscr - io0.syscr) / r.requests) * 100) / 100;
      r.proxyWriteSyscallsPerRequest = Math.round(((io1.syscw - io0.syscw) / r.requests) * 100) / 100;
      r.proxyBytesPerReadSyscall = Math.round((io1.rchar - io0.rchar) / Math.max(1, io1.syscr - io0.syscr));
      r.proxyBytesPerWriteSyscall = Math.round((io1.wchar - io0.wchar) / Math.max(1, io1.syscw - io0.syscw));
    }
    const { raw, ...summary } = r;
    res[key] = summary;
    log(`${name}: ${urlPath}: ${fmt(r.requestsPerSec, 0)} req/s, ${fmt(r.bytesPerSec / 2 ** 20, 1)} MiB/s${r.proxyCpuPercent !== undefined ? `, proxy CPU ${r.proxyCpuPercent}% (${r.proxyCpuMicrosPerRequest} µs/req)` : ''}${r.proxyReadSyscallsPerRequest !== undefined ? `, syscalls/req r ${r.proxyReadSyscallsPerRequest} w ${r.proxyWriteSyscallsPerRequest}, bytes/syscall r ${r.proxyBytesPerReadSyscall} w ${r.proxyBytesPerWriteSyscall}` : ''}`);
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    if (errs) log(`${name}: ${urlPath}: wrk errors ${JSON.stringify(r.errors)}`);
  }
  return res;
}

function fmt(n, digits) {
  if (n === undefined || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a, b) { return a !== undefined && b ? Math.round((a / b) * 1000) / 1000 : undefined; }

async function runTarget(target, { nginxPort, fePort, cfgPath }) {
  if (target === 'direct') return measure('direct', nginxPort, undefined);
  let proc;
  if (target === 'haproxy') {
    proc = start(HAPROXY, ['-db', '-f', cfgPath]);
  } else if (target === 'haproxy-ts') {
    const profDir = path.join(RESULTS_DIR, 'prof');
    if (PROFILE) fs.mkdirSync(profDir, { recursive: true });
    const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    proc = start(process.execPath, [...nodeArgs, HAPROXY_TS, '-db', '-f', cfgPath]);
  } else if (target.startsWith('pump-')) {
    // experiment: minimal relays (bench/pump-variants.mjs), not haproxy-ts
    proc = start(process.execPath, [path.join(ROOT, 'bench', 'pump-variants.mjs'), target.slice(5), String(fePort), String(nginxPort)]);
  } else {
    throw new Error(`unknown target '${target}'`);
  }
  try {
    await waitPort(fePort, proc, target);
    await httpCheck(fePort, '/small', SMALL_SIZE);
    await httpCheck(fePort, '/big', BIG_SIZE);
    return await measure(target, fePort, proc);
  } finally {
    await stop(proc);
    if (proc.errText.trim()) log(`${target} stderr:\n${proc.errText.trim()}`);
    await waitPortFree(fePort);
  }
}

async function main() {
  for (const tool of ['wrk', 'nginx']) if (!which(tool)) throw new Error(`${tool} not found (apt-get install -y nginx wrk)`);
  if (TARGETS.includes('haproxy') && !HAPROXY) throw new Error('haproxy not found (set HAPROXY_BIN or BENCH_TARGETS=direct,haproxy-ts)');
  if (TARGETS.includes('haproxy-ts') && !fs.existsSync(HAPROXY_TS)) throw new Error(`${HAPROXY_TS} not found`);
  if (TARGETS.includes('haproxy-ts') && !fs.existsSync(path.join(path.dirname(HAPROXY_TS), '..', 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: build first (npm run build)');
  }
  const load = os.loadavg();
  if (load[0] > 0.5) log(`warning: 1-minute load average is ${load[0].toFixed(2)} before starting: other work on this machine will skew the results`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-bench-'));
  const [nginxPort, fePort] = await Promise.all([freePort(), freePort()]);
  const startedAt = new Date().toISOString();
  log(`temp dir ${tmp}; nginx on 127.0.0.1:${nginxPort}; proxies on 127.0.0.1:${fePort}`);
  const nginx = await startNginx(tmp, nginxPort);
  const cfgText = proxyConfig(fePort, nginxPort);
  const cfgPath = path.join(tmp, 'bench.cfg');
  fs.writeFileSync(cfgPath, cfgText);

  /** rounds[target] = one measure() result per round */
  const rounds = {};
  for (let round = 1; round <= ROUNDS; round++) {
    if (ROUNDS > 1) log(`round ${round}/${ROUNDS}`);
    for (const target of TARGETS) {
      (rounds[target] ??= []).push(await runTarget(target, { nginxPort, fePort, cfgPath }));
    }
  }
  // per target and test: the round with the median request rate
  const results = {};
  for (const [target, list] of Object.entries(rounds)) {
    results[target] = {};
    for (const k of TESTS) {
      const sorted = list.map((r) => r[k]).filter(Boolean).sort((a, b) => a.requestsPerSec - b.requestsPerSec);
      if (!sorted.length) continue;
      results[target][k] = { ...sorted[(sorted.length - 1) >> 1], ...(ROUNDS > 1 ? { roundsRequestsPerSec: list.map((r) => r[k]?.requestsPerSec) } : {}) };
    }
  }
  await stop(nginx);

  const ratios = {};
  if (results.haproxy && results['haproxy-ts']) {
    for (const k of TESTS) {
      if (!results.haproxy[k] || !results['haproxy-ts'][k]) continue;
      ratios[k] = {
        requestsPerSec: ratio(results['haproxy-ts'][k].requestsPerSec, results.haproxy[k].requestsPerSec),
        bytesPerSec: ratio(results['haproxy-ts'][k].bytesPerSec, results.haproxy[k].bytesPerSec),
      };
    }
  }
  const cpus = os.cpus();
  const out = {
    startedAt,
    machine: {
      cpus: cpus.length, cpuModel: cpus[0]?.model, memoryMiB: Math.round(os.totalmem() / 2 ** 20),
      kernel: `${os.type()} ${os.release()}`, node: process.version, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
      haproxy: HAPROXY ? toolVersion(HAPROXY, ['-v']) : undefined,
      nginx: toolVersion('nginx', ['-v']), wrk: toolVersion('wrk', ['--version']),
    },
    params: { rounds: ROUNDS, tests: TESTS, targets: TARGETS, duration: DURATION, warmup: WARMUP, threads: THREADS, connsSmall: CONNS, connsBig: CONNS_BIG, smallBytes: SMALL_SIZE, bigBytes: BIG_SIZE, profile: PROFILE },
    config: cfgText.replace(String(fePort), '<port>').replace(String(nginxPort), '<nginx-port>'),
    results,
    ratios,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.resolve(RESULTS_DIR, process.env.BENCH_OUT || 'latest.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');

  // table
  const rows = [['target', '/small req/s', '/small MiB/s', '/big req/s', '/big MiB/s', 'CPU% small', 'CPU% big']];
  for (const t of TARGETS) {
    const r = results[t];
    if (!r) continue;
    const sm = r.small ?? {}, bg = r.big ?? {};
    rows.push([t, fmt(sm.requestsPerSec, 0), fmt(sm.bytesPerSec / 2 ** 20, 1), fmt(bg.requestsPerSec, 0), fmt(bg.bytesPerSec / 2 ** 20, 1),
      sm.proxyCpuPercent !== undefined ? String(sm.proxyCpuPercent) : '-', bg.proxyCpuPercent !== undefined ? String(bg.proxyCpuPercent) : '-']);
  }
  if (ratios.small || ratios.big) {
    rows.push(['ratio ts/haproxy', fmt(ratios.small?.requestsPerSec, 3), fmt(ratios.small?.bytesPerSec, 3), fmt(ratios.big?.requestsPerSec, 3), fmt(ratios.big?.bytesPerSec, 3), '', '']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  console.log(line(rows[0]));
  console.log('|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|');
  for (const r of rows.slice(1)) console.log(line(r));
  console.log(`\nwrk -t${THREADS}, /small: -c${CONNS}, /big: -c${CONNS_BIG}, -d${DURATION} each${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}; results in ${path.relative(process.cwd(), file) || file}`);
}

let exiting = false;
function cleanup() {
  killAll();
  if (tmp) { try { fs.rmSync(tmp, { recursive: true, force: true }); } catch { /* best effort */ } }
}
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
