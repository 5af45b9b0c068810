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
//                    experimental relays pump-streams, pump-notimeout, pump-onread, pump-onread2, and
//                    pump-raw, the minimal relay on libuv handles: a ceiling for Node.js (pump-variants.mjs)
//   BENCH_ROUNDS     run every target this many times, alternating; report the median (default 1)
//   BENCH_TESTS      comma-separated subset of small,big (default both)
//   BENCH_PROFILE    1: run haproxy-ts under `node --cpu-prof` (profiles in bench/results/prof/)
//   BENCH_OUT        result file name, relative to bench/results/ (default latest.json)
//   HAPROXY_BIN      haproxy binary (default /usr/sbin/haproxy or the first one found)
//   HAPROXY_TS_BIN   haproxy-ts launcher (default bin/haproxy-ts of this repository)
//
// Writes bench/results/latest.json. Every process started here is killed at the end, also on
// failure or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, SMALL_SIZE, BIG_SIZE, log, parseDurationSec, start, stop, freePort, waitPort, waitPortFree, httpCheck,
  runWrk, withProcAccounting, startNginx, startProxy, checkPrerequisites, machineInfo, writeResults, fmt, ratio,
  medianRounds, printTable, runMain, benchEnv, runRounds,
} from './lib.mjs';

export { parseWrk } from './lib.mjs';

const { DURATION, WARMUP, CONNS, CONNS_BIG, THREADS, TARGETS, ROUNDS, TESTS, PROFILE } = benchEnv({ targets: 'direct,haproxy,haproxy-ts', tests: 'small,big' });

let tmp;

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

async function measure(name, port, proc) {
  const res = {};
  if (WARMUP && parseDurationSec(WARMUP) > 0) {
    log(`${name}: warm-up ${WARMUP}`);
    if (TESTS.includes('small')) await runWrk(port, '/small', { threads: THREADS, conns: CONNS, duration: WARMUP });
    if (TESTS.includes('big')) await runWrk(port, '/big', { threads: THREADS, conns: CONNS_BIG, duration: WARMUP });
  }
  for (const [key, urlPath, conns] of [['small', '/small', CONNS], ['big', '/big', CONNS_BIG]]) {
    if (!TESTS.includes(key)) continue;
    log(`${name}: wrk ${urlPath} -c${conns} -d${DURATION}`);
    const r = await withProcAccounting(proc, () => runWrk(port, urlPath, { threads: THREADS, conns, duration: DURATION }));
    const { raw, ...summary } = r;
    res[key] = summary;
    log(`${name}: ${urlPath}: ${fmt(r.requestsPerSec, 0)} req/s, ${fmt(r.bytesPerSec / 2 ** 20, 1)} MiB/s${r.proxyCpuPercent !== undefined ? `, proxy CPU ${r.proxyCpuPercent}% (${r.proxyCpuMicrosPerRequest} µs/req)` : ''}${r.proxyReadSyscallsPerRequest !== undefined ? `, syscalls/req r ${r.proxyReadSyscallsPerRequest} w ${r.proxyWriteSyscallsPerRequest}, bytes/syscall r ${r.proxyBytesPerReadSyscall} w ${r.proxyBytesPerWriteSyscall}` : ''}`);
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    if (errs) log(`${name}: ${urlPath}: wrk errors ${JSON.stringify(r.errors)}`);
  }
  return res;
}

async function runTarget(target, { nginxPort, fePort, cfgPath }) {
  if (target === 'direct') return measure('direct', nginxPort, undefined);
  let proc = startProxy(target, cfgPath, { profile: PROFILE });
  if (!proc && target.startsWith('pump-')) {
    // experiment: minimal relays (bench/pump-variants.mjs), not haproxy-ts
    proc = start(process.execPath, [path.join(ROOT, 'bench', 'pump-variants.mjs'), target.slice(5), String(fePort), String(nginxPort)]);
  }
  if (!proc) throw new Error(`unknown target '${target}'`);
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
  checkPrerequisites(TARGETS);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-bench-'));
  const [nginxPort, fePort] = await Promise.all([freePort(), freePort()]);
  const startedAt = new Date().toISOString();
  log(`temp dir ${tmp}; nginx on 127.0.0.1:${nginxPort}; proxies on 127.0.0.1:${fePort}`);
  const nginx = await startNginx(tmp, nginxPort);
  const cfgText = proxyConfig(fePort, nginxPort);
  const cfgPath = path.join(tmp, 'bench.cfg');
  fs.writeFileSync(cfgPath, cfgText);

  /** rounds[target] = one measure() result per round */
  const rounds = await runRounds(ROUNDS, TARGETS, (target) => runTarget(target, { nginxPort, fePort, cfgPath }));
  // per target and test: the round with the median request rate
  const results = {};
  for (const [target, list] of Object.entries(rounds)) results[target] = medianRounds(list, TESTS, (e) => e.requestsPerSec, 'roundsRequestsPerSec');
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
  const out = {
    startedAt,
    machine: machineInfo(),
    params: { rounds: ROUNDS, tests: TESTS, targets: TARGETS, duration: DURATION, warmup: WARMUP, threads: THREADS, connsSmall: CONNS, connsBig: CONNS_BIG, smallBytes: SMALL_SIZE, bigBytes: BIG_SIZE, profile: PROFILE },
    config: cfgText.replace(String(fePort), '<port>').replace(String(nginxPort), '<nginx-port>'),
    results,
    ratios,
  };
  const file = writeResults(process.env.BENCH_OUT || 'latest.json', out);

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
  printTable(rows);
  console.log(`\nwrk -t${THREADS}, /small: -c${CONNS}, /big: -c${CONNS_BIG}, -d${DURATION} each${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}; results in ${path.relative(process.cwd(), file) || file}`);
}

runMain(main, () => tmp);
