#!/usr/bin/env node
// HTTP-mode benchmark: nginx on loopback as the origin; the same `mode http` configuration run by
// the system's HAProxy and by haproxy-ts, side by side, plus a direct-to-nginx baseline and a
// plain Node.js reverse proxy (bench/node-http-proxy.mjs: node:http + undici Pool).
//
//   npm run bench:http                    (builds, then runs this script)
//   BENCH_ROUNDS=2 node bench/run-http.mjs
//
// Tests (BENCH_TESTS, default all):
//   ka       keep-alive small requests: wrk -c50 /small, request rate
//   close    the same with `-H 'Connection: close'` (one connection per request), request rate
//   big      1 MiB responses: wrk -c20 /big, throughput
//   latency  fixed load (bench/rate-load.mjs: BENCH_RATE req/s over BENCH_RATE_CONNS keep-alive
//            connections for BENCH_DURATION), latency percentiles
//   idle     BENCH_IDLE_CONNS idle keep-alive client connections held open through a freshly
//            started proxy (bench/idle-conns.mjs), the proxy's RSS; not run for `direct`
//
// Environment (as bench/run.mjs, plus):
//   BENCH_DURATION, BENCH_WARMUP, BENCH_CONNS (ka, close), BENCH_CONNS_BIG, BENCH_THREADS,
//   BENCH_ROUNDS, BENCH_PROFILE, HAPROXY_BIN, HAPROXY_TS_BIN: see bench/run.mjs
//   BENCH_TARGETS     subset of direct,haproxy,haproxy-ts,node (default all); also pump-raw, the
//                     minimal relay on libuv handles (bench/pump-variants.mjs raw), as a ceiling
//   BENCH_RATE        requests/s of the latency test (default 5000)
//   BENCH_RATE_CONNS  connections of the latency test (default 50)
//   BENCH_IDLE_CONNS  connections of the idle test (default 10000)
//   BENCH_OUT         result file name, relative to bench/results/ (default http-latest.json)
//
// Every process started here is killed at the end, also on failure or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, SMALL_SIZE, BIG_SIZE, log, parseDurationSec, start, stop, freePort, waitPort, waitPortFree, httpCheck,
  runWrk, runToEnd, withProcAccounting, startNginx, startProxy, checkPrerequisites, machineInfo, writeResults,
  fmt, ratio, medianRounds, printTable, runMain, benchEnv, runRounds,
} from './lib.mjs';

const { DURATION, WARMUP, CONNS, CONNS_BIG, THREADS, TARGETS, ROUNDS, TESTS, PROFILE } = benchEnv({ targets: 'direct,haproxy,haproxy-ts,node', tests: 'ka,close,big,latency,idle' });
const RATE = Number(process.env.BENCH_RATE || 5000);
const RATE_CONNS = Number(process.env.BENCH_RATE_CONNS || 50);
const IDLE_CONNS = Number(process.env.BENCH_IDLE_CONNS || 10_000);

let tmp;

/** The one configuration both proxies run (only the two ports are chosen at run time). */
function proxyConfig(fePort, nginxPort) {
  // no strict-limits: both proxies want 2 x maxconn file descriptors and containers often cap the
  // hard limit (e.g. at 20,000); both then warn and run with the limit they have, which is enough
  // for the idle test
  return `global
  nbthread 1
  maxconn 20000
  no strict-limits

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  option http-keep-alive
  http-reuse safe

listen bench
  bind 127.0.0.1:${fePort}
  server nginx 127.0.0.1:${nginxPort}
`;
}

/** test key → wrk URL path, connections, extra arguments */
const WRK_TESTS = {
  ka: ['/small', CONNS, []],
  close: ['/small', CONNS, ['-H', 'Connection: close']],
  big: ['/big', CONNS_BIG, []],
};

function startTarget(target, { fePort, nginxPort, cfgPath }) {
  if (target === 'node') return start(process.execPath, [path.join(ROOT, 'bench', 'node-http-proxy.mjs'), String(fePort), String(nginxPort)]);
  // experiment: the minimal relay on libuv handles (bench/pump-variants.mjs raw), a ceiling for
  // any Node.js proxy; it relays bytes and does no HTTP processing at all
  if (target === 'pump-raw') return start(process.execPath, [path.join(ROOT, 'bench', 'pump-variants.mjs'), 'raw', String(fePort), String(nginxPort)]);
  const proc = startProxy(target, cfgPath, { profile: PROFILE });
  if (!proc) throw new Error(`unknown target '${target}'`);
  return proc;
}

async function runLatency(port) {
  const args = [path.join(ROOT, 'bench', 'rate-load.mjs'), '--port', String(port), '--path', '/small', '--rate', String(RATE),
    '--conns', String(RATE_CONNS), '--duration', String(parseDurationSec(DURATION))];
  const out = await runToEnd(process.execPath, args, parseDurationSec(DURATION) + 30);
  return { ...JSON.parse(out.trim().split('\n').pop()), command: `node bench/rate-load.mjs ${args.slice(1).join(' ')}` };
}

async function measure(name, port, proc) {
  const res = {};
  if (WARMUP && parseDurationSec(WARMUP) > 0) {
    log(`${name}: warm-up ${WARMUP}`);
    for (const k of ['ka', 'big']) {
      const [urlPath, conns] = WRK_TESTS[k];
      if (TESTS.includes(k)) await runWrk(port, urlPath, { threads: THREADS, conns, duration: WARMUP });
    }
  }
  for (const [key, [urlPath, conns, extra]] of Object.entries(WRK_TESTS)) {
    if (!TESTS.includes(key)) continue;
    log(`${name}: ${key}: wrk ${urlPath} -c${conns} ${extra.join(' ')} -d${DURATION}`);
    const { raw, ...r } = await withProcAccounting(proc, () => runWrk(port, urlPath, { threads: THREADS, conns, duration: DURATION, extra }));
    res[key] = r;
    log(`${name}: ${key}: ${fmt(r.requestsPerSec, 0)} req/s, ${fmt(r.bytesPerSec / 2 ** 20, 1)} MiB/s${r.proxyCpuPercent !== undefined ? `, proxy CPU ${r.proxyCpuPercent}% (${r.proxyCpuMicrosPerRequest} µs/req)` : ''}`);
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    if (errs) log(`${name}: ${key}: wrk errors ${JSON.stringify(r.errors)}`);
  }
  if (TESTS.includes('latency')) {
    log(`${name}: latency: ${RATE} req/s over ${RATE_CONNS} connections for ${DURATION}`);
    const r = await withProcAccounting(proc, () => runLatency(port));
    res.latency = r;
    log(`${name}: latency: p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms (${r.achievedRate} req/s, ${r.errors} errors)${r.proxyCpuPercent !== undefined ? `, proxy CPU ${r.proxyCpuPercent}%` : ''}`);
  }
  return res;
}

async function withTarget(target, ports, fn) {
  const proc = startTarget(target, ports);
  try {
    await waitPort(ports.fePort, proc, target);
    await httpCheck(ports.fePort, '/small', SMALL_SIZE);
    await httpCheck(ports.fePort, '/big', BIG_SIZE);
    return await fn(proc);
  } finally {
    await stop(proc);
    if (proc.errText.trim()) log(`${target} stderr:\n${proc.errText.trim().slice(0, 2000)}`);
    await waitPortFree(ports.fePort);
  }
}

async function runIdle(target, ports) {
  log(`${target}: idle: ${IDLE_CONNS} keep-alive connections`);
  return withTarget(target, ports, async (proc) => {
    const args = [path.join(ROOT, 'bench', 'idle-conns.mjs'), '--port', String(ports.fePort), '--pid', String(proc.pid),
      '--conns', String(IDLE_CONNS), '--path', '/small', '--hold', '2', '--limit', '120'];
    const out = await runToEnd(process.execPath, args, 150);
    const r = { ...JSON.parse(out.trim().split('\n').pop()), command: `node bench/idle-conns.mjs ${args.slice(1).join(' ')}` };
    log(`${target}: idle: RSS ${fmt(r.rssMiB, 1)} MiB with ${r.stillOpen} of ${r.conns} connections open (${r.failed} failed; ${fmt(r.rssBeforeKiB / 1024, 1)} MiB before)`);
    return r;
  });
}

async function runTarget(target, ports) {
  const res = target === 'direct' ? await measure('direct', ports.nginxPort, undefined) : await withTarget(target, ports, (proc) => measure(target, ports.fePort, proc));
  if (TESTS.includes('idle') && target !== 'direct') res.idle = await runIdle(target, ports);
  return res;
}

/** the value a test is ranked by, for the median over rounds and for the ratios */
const METRIC = {
  ka: (e) => e.requestsPerSec, close: (e) => e.requestsPerSec, big: (e) => e.bytesPerSec,
  latency: (e) => e.latencyMs?.p99, idle: (e) => e.rssKiB,
};

async function main() {
  checkPrerequisites(TARGETS.filter((t) => t !== 'node'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-bench-http-'));
  const [nginxPort, fePort] = await Promise.all([freePort(), freePort()]);
  const startedAt = new Date().toISOString();
  const loadavgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  log(`temp dir ${tmp}; nginx on 127.0.0.1:${nginxPort}; proxies on 127.0.0.1:${fePort}; load average ${loadavgAtStart.join(' ')}`);
  // the idle test may make the proxies open one server connection per client connection
  const nginx = await startNginx(tmp, nginxPort, { workerConnections: 19_000 });
  const cfgText = proxyConfig(fePort, nginxPort);
  const cfgPath = path.join(tmp, 'bench.cfg');
  fs.writeFileSync(cfgPath, cfgText);

  const rounds = await runRounds(ROUNDS, TARGETS, (target) => runTarget(target, { nginxPort, fePort, cfgPath }));
  const keys = Object.keys(METRIC).filter((k) => TESTS.includes(k));
  const results = {};
  for (const [target, list] of Object.entries(rounds)) {
    results[target] = {};
    for (const k of keys) Object.assign(results[target], medianRounds(list, [k], METRIC[k]));
  }
  await stop(nginx);

  const ts = results['haproxy-ts'] ?? {};
  const ratios = { tsOverHaproxy: {}, tsOverNode: {} };
  for (const k of keys) {
    if (ts[k] && results.haproxy?.[k]) ratios.tsOverHaproxy[k] = ratio(METRIC[k](ts[k]), METRIC[k](results.haproxy[k]));
    if (ts[k] && results.node?.[k]) ratios.tsOverNode[k] = ratio(METRIC[k](ts[k]), METRIC[k](results.node[k]));
  }
  const out = {
    startedAt,
    machine: { ...machineInfo(), loadavgAtStart },
    params: {
      rounds: ROUNDS, tests: TESTS, targets: TARGETS, duration: DURATION, warmup: WARMUP, threads: THREADS, conns: CONNS, connsBig: CONNS_BIG,
      rate: RATE, rateConns: RATE_CONNS, idleConns: IDLE_CONNS, smallBytes: SMALL_SIZE, bigBytes: BIG_SIZE, profile: PROFILE,
    },
    config: cfgText.replace(String(fePort), '<port>').replace(String(nginxPort), '<nginx-port>'),
    results,
    ratios,
  };
  const file = writeResults(process.env.BENCH_OUT || 'http-latest.json', out);

  const cell = (t, k, f) => { const e = results[t]?.[k]; return e ? f(e) : '-'; };
  const rows = [['target', 'keep-alive req/s', 'close req/s', '/big MiB/s', 'p50 ms', 'p99 ms', 'idle RSS MiB', 'CPU% ka']];
  for (const t of TARGETS) {
    if (!results[t]) continue;
    rows.push([t, cell(t, 'ka', (e) => fmt(e.requestsPerSec, 0)), cell(t, 'close', (e) => fmt(e.requestsPerSec, 0)),
      cell(t, 'big', (e) => fmt(e.bytesPerSec / 2 ** 20, 1)), cell(t, 'latency', (e) => fmt(e.latencyMs.p50, 3)),
      cell(t, 'latency', (e) => fmt(e.latencyMs.p99, 3)), cell(t, 'idle', (e) => fmt(e.rssKiB / 1024, 1)),
      cell(t, 'ka', (e) => (e.proxyCpuPercent !== undefined ? String(e.proxyCpuPercent) : '-'))]);
  }
  for (const [label, r] of [['ratio ts/haproxy', ratios.tsOverHaproxy], ['ratio ts/node', ratios.tsOverNode]]) {
    if (Object.keys(r).length) rows.push([label, fmt(r.ka, 3), fmt(r.close, 3), fmt(r.big, 3), '', fmt(r.latency, 3), fmt(r.idle, 3), '']);
  }
  printTable(rows);
  console.log(`\nwrk -t${THREADS} -d${DURATION}, keep-alive and close: -c${CONNS}, /big: -c${CONNS_BIG}; latency: ${RATE} req/s over ${RATE_CONNS} connections; idle: ${IDLE_CONNS} connections${ROUNDS > 1 ? `; median of ${ROUNDS} rounds` : ''}; load average ${loadavgAtStart.join(' ')} at start, ${out.machine.loadavgAtEnd.join(' ')} at end; results in ${path.relative(process.cwd(), file) || file}`);
}

runMain(main, () => tmp);
