#!/usr/bin/env node
// Rule-evaluation benchmark: what backend selection costs on the keep-alive request rate when the
// frontend carries many rules. nginx on loopback is the origin (as bench/run-http.mjs); the same
// configurations are run by the system's HAProxy and by haproxy-ts, side by side.
//
//   npm run bench:rules                   (builds, then runs this script)
//   BENCH_ROUNDS=5 BENCH_DURATION=10s node bench/rules.mjs
//
// Configurations (BENCH_CONFIGS, default all), all `mode http`, keep-alive, wrk -c50 /small:
//   plain    one frontend, `default_backend` to the nginx origin
//   acl1000  1,000 backends (one server each, the nginx origin) chosen by 1,000 lines
//            `acl h<i> hdr(host) -i host<i>.example` and 1,000 lines `use_backend b<i> if h<i>`;
//            measured twice in the same process:
//              acl1000-mid   Host: host500.example (the 501st rule matches)
//              acl1000-none  Host: nomatch.example (every rule is evaluated, default_backend)
//   map100k  `use_backend %[req.hdr(host),lower,map(<file>,default_be)]` with a 100,000-line map
//            file (host<i>.example -> b<i % 1000>) and the same 1,000 backends;
//            Host: host50500.example (-> b500)
//   httplog  plain plus `option httplog` and `log 127.0.0.1:<port> local0`: one syslog datagram per
//            request to a UDP port nobody reads (the cost of building and sending the line)
// The goal checked (issue): each rule configuration keeps >= 90 % of haproxy-ts's plain rate.
//
// Before the measurements every configuration is started once per proxy with a response header
// naming the chosen backend (`http-after-response set-header x-bench-backend %b`) to check that
// each Host reaches the expected backend; the measured configurations do not have that line.
// BENCH_VERIFY=0 skips this check.
//
// Environment (as bench/run-http.mjs):
//   BENCH_DURATION (default 5s), BENCH_WARMUP (default 2s), BENCH_CONNS (default 50),
//   BENCH_THREADS, BENCH_ROUNDS (default 3; targets and configurations alternate in each round,
//   the median is reported), BENCH_PROFILE=1 (haproxy-ts under `node --cpu-prof`, profiles in
//   bench/results/prof/, one per configuration and round; see bench/profile-summary.mjs),
//   HAPROXY_BIN, HAPROXY_TS_BIN
//   BENCH_TARGETS   subset of haproxy,haproxy-ts (default both)
//   BENCH_CONFIGS   subset of plain,acl1000,map100k,httplog (default all)
//   BENCH_OUT       result file name, relative to bench/results/ (default rules-latest.json)
//
// Every process started here is killed at the end, also on failure or Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import {
  SMALL_SIZE, log, stop, freePort, waitPort, waitPortFree, httpCheck, runWrk, withProcAccounting, startNginx,
  startProxy, checkPrerequisites, machineInfo, writeResults, fmt, ratio, medianRounds, printTable, runMain, benchEnv,
  runRounds, parseDurationSec,
} from './lib.mjs';

process.env.BENCH_DURATION ||= '5s';
process.env.BENCH_ROUNDS ||= '3';
const { DURATION, WARMUP, CONNS, THREADS, TARGETS, ROUNDS, PROFILE } = benchEnv({ targets: 'haproxy,haproxy-ts', tests: 'ka' });
const CONFIGS = (process.env.BENCH_CONFIGS || 'plain,acl1000,map100k,httplog').split(',').map((x) => x.trim()).filter(Boolean);
const VERIFY = process.env.BENCH_VERIFY !== '0';
const N_BACKENDS = 1000;
const N_MAP = 100_000;
/** httplog: a UDP port no process listens on (the datagrams are dropped by the kernel) */
const LOG_PORT = 9;

/** config → its measured variants: [key, Host header, expected backend] */
const VARIANTS = {
  plain: [['plain', 'host500.example', 'default_be']],
  acl1000: [['acl1000-mid', 'host500.example', 'b500'], ['acl1000-none', 'nomatch.example', 'default_be']],
  map100k: [['map100k', `host${N_MAP / 2 + 500}.example`, 'b500']],
  httplog: [['httplog', 'host500.example', 'default_be']],
};
for (const c of CONFIGS) if (!VARIANTS[c]) throw new Error(`unknown configuration '${c}' (BENCH_CONFIGS: plain,acl1000,map100k,httplog)`);
const VARIANT_KEYS = CONFIGS.flatMap((c) => VARIANTS[c].map((v) => v[0]));

let tmp;

function backends(nginxPort) {
  let s = '';
  for (let i = 0; i < N_BACKENDS; i++) s += `\nbackend b${i}\n  server s 127.0.0.1:${nginxPort}\n`;
  return s;
}

/** The configuration text of `config`; `verify` adds the header naming the chosen backend. */
function proxyConfig(config, { fePort, nginxPort, mapPath }, verify = false) {
  let fe = `frontend fe
  bind 127.0.0.1:${fePort}
`;
  if (verify) fe += '  http-after-response set-header x-bench-backend %b\n';
  if (config === 'acl1000') {
    for (let i = 0; i < N_BACKENDS; i++) fe += `  acl h${i} hdr(host) -i host${i}.example\n`;
    for (let i = 0; i < N_BACKENDS; i++) fe += `  use_backend b${i} if h${i}\n`;
  } else if (config === 'map100k') {
    fe += `  use_backend %[req.hdr(host),lower,map(${mapPath},default_be)]\n`;
  }
  if (config === 'httplog') fe += `  log 127.0.0.1:${LOG_PORT} local0\n  option httplog\n`;
  fe += '  default_backend default_be\n';
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  option http-keep-alive
  http-reuse safe

${fe}
backend default_be
  server s 127.0.0.1:${nginxPort}
${config === 'plain' || config === 'httplog' ? '' : backends(nginxPort)}`;
}

/** The configuration for the result file: ports as placeholders, the repeated lines elided. */
function shownConfig(config, ports) {
  const lines = proxyConfig(config, ports).replaceAll(`127.0.0.1:${ports.fePort}`, '127.0.0.1:<port>')
    .replaceAll(`127.0.0.1:${ports.nginxPort}`, '127.0.0.1:<nginx-port>').replaceAll(ports.mapPath, '<tmp>/hosts.map').split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const m = /^(\s*(?:acl h|use_backend b|backend b))(\d+)\b/.exec(l);
    // keep the first two and the last of each run of numbered lines
    if (m && Number(m[2]) >= 2 && Number(m[2]) < N_BACKENDS - 1) {
      if (Number(m[2]) === 2) {
        out.push(`${m[1].replace(/\S.*/, '')}... (${m[1].trim()}2 to ${m[1].trim()}${N_BACKENDS - 2})`);
        if (m[1] === 'backend b') out.push('');
      }
      if (m[1] === 'backend b') i += 2; // its server line and the blank line after it
      continue;
    }
    out.push(l);
  }
  return out.join('\n');
}

function writeMap(mapPath) {
  const parts = [];
  for (let i = 0; i < N_MAP; i++) parts.push(`host${i}.example b${i % N_BACKENDS}\n`);
  fs.writeFileSync(mapPath, parts.join(''));
}

/** GET /small with a Host header; resolves to the x-bench-backend response header. */
function backendFor(port, host) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/small', headers: { host }, agent: false, timeout: 5000 }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => {
        if (res.statusCode !== 200 || n !== SMALL_SIZE) reject(new Error(`GET /small Host ${host}: status ${res.statusCode}, ${n} bytes`));
        else resolve(res.headers['x-bench-backend']);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET /small Host ${host}: timeout`)));
    req.on('error', reject);
  });
}

async function withProxy(target, cfgPath, fePort, fn, profile = false) {
  const t0 = Date.now();
  const proc = startProxy(target, cfgPath, { profile });
  try {
    await waitPort(fePort, proc, target, 60_000);
    const startMs = Date.now() - t0;
    await httpCheck(fePort, '/small', SMALL_SIZE);
    return await fn(proc, startMs);
  } finally {
    await stop(proc, 15_000);
    const err = proc.errText.trim();
    if (err) log(`${target} stderr:\n${err.slice(0, 2000)}`);
    await waitPortFree(fePort);
  }
}

async function verify(target, config, ports) {
  const cfgPath = path.join(tmp, `${config}-verify.cfg`);
  fs.writeFileSync(cfgPath, proxyConfig(config, ports, true));
  await withProxy(target, cfgPath, ports.fePort, async () => {
    for (const [key, host, expected] of VARIANTS[config]) {
      const got = await backendFor(ports.fePort, host);
      if (got !== expected) throw new Error(`${target} ${config}: Host ${host} reached backend '${got}', expected '${expected}' (${key})`);
    }
    log(`${target}: ${config}: routing checked (${VARIANTS[config].map(([, h, b]) => `${h} -> ${b}`).join(', ')})`);
  });
}

async function measure(target, config, ports) {
  const cfgPath = path.join(tmp, `${config}.cfg`);
  return withProxy(target, cfgPath, ports.fePort, async (proc, startMs) => {
    const res = {};
    if (WARMUP && parseDurationSec(WARMUP) > 0) {
      for (const [, host] of VARIANTS[config]) {
        await runWrk(ports.fePort, '/small', { threads: THREADS, conns: CONNS, duration: WARMUP, extra: ['-H', `Host: ${host}`] });
      }
    }
    for (const [key, host] of VARIANTS[config]) {
      const { raw, ...r } = await withProcAccounting(proc, () => runWrk(ports.fePort, '/small', { threads: THREADS, conns: CONNS, duration: DURATION, extra: ['-H', `Host: ${host}`] }));
      r.startupMs = startMs;
      res[key] = r;
      const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
      log(`${target}: ${key}: ${fmt(r.requestsPerSec, 0)} req/s${r.proxyCpuPercent !== undefined ? `, proxy CPU ${r.proxyCpuPercent}% (${r.proxyCpuMicrosPerRequest} µs/req)` : ''}${errs ? `, wrk errors ${JSON.stringify(r.errors)}` : ''}`);
    }
    return res;
  }, PROFILE && target === 'haproxy-ts');
}

const median = (xs) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1] : undefined;
};

async function main() {
  checkPrerequisites(TARGETS);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-bench-rules-'));
  const [nginxPort, fePort] = await Promise.all([freePort(), freePort()]);
  const mapPath = path.join(tmp, 'hosts.map');
  const ports = { nginxPort, fePort, mapPath };
  const startedAt = new Date().toISOString();
  const loadavgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
  log(`temp dir ${tmp}; nginx on 127.0.0.1:${nginxPort}; proxies on 127.0.0.1:${fePort}; load average ${loadavgAtStart.join(' ')}`);
  const nginx = await startNginx(tmp, nginxPort);
  if (CONFIGS.includes('map100k')) writeMap(mapPath);
  for (const c of CONFIGS) fs.writeFileSync(path.join(tmp, `${c}.cfg`), proxyConfig(c, ports));

  if (VERIFY) for (const c of CONFIGS) for (const t of TARGETS) await verify(t, c, ports);

  // one key per (configuration, target), alternating in every round
  const keys = CONFIGS.flatMap((c) => TARGETS.map((t) => `${c}|${t}`));
  const rounds = await runRounds(ROUNDS, keys, (key) => {
    const [c, t] = key.split('|');
    log(`${t}: ${c}`);
    return measure(t, c, ports);
  });
  await stop(nginx);

  // results[target][variant] = the median round (by request rate), with the per-round rates
  const rps = (e) => e.requestsPerSec;
  const results = {};
  const perRound = {}; // perRound[target][variant] = [req/s of round 1, 2, ...]
  for (const [key, list] of Object.entries(rounds)) {
    const [c, t] = key.split('|');
    results[t] ??= {};
    perRound[t] ??= {};
    const vks = VARIANTS[c].map((v) => v[0]);
    Object.assign(results[t], medianRounds(list, vks, rps));
    for (const vk of vks) perRound[t][vk] = list.map((r) => r[vk]?.requestsPerSec);
  }
  // ratios of the medians; per-round ratios too (the configurations of one round ran minutes apart
  // at most, so these see less of the host's drift)
  const ratios = { tsOverHaproxy: {}, overPlain: {} };
  for (const vk of VARIANT_KEYS) {
    const ts = results['haproxy-ts']?.[vk], hp = results.haproxy?.[vk];
    if (ts && hp) {
      ratios.tsOverHaproxy[vk] = {
        ratio: ratio(rps(ts), rps(hp)),
        rounds: perRound['haproxy-ts'][vk].map((x, i) => ratio(x, perRound.haproxy[vk][i])),
      };
    }
  }
  for (const t of TARGETS) {
    if (!results[t]?.plain) continue;
    ratios.overPlain[t] = {};
    for (const vk of VARIANT_KEYS) {
      if (vk === 'plain' || !results[t][vk]) continue;
      const byRound = perRound[t][vk].map((x, i) => ratio(x, perRound[t].plain[i]));
      ratios.overPlain[t][vk] = { ratio: ratio(rps(results[t][vk]), rps(results[t].plain)), rounds: byRound, medianOfRounds: median(byRound) };
    }
  }
  const goal = {};
  for (const [vk, r] of Object.entries(ratios.overPlain['haproxy-ts'] ?? {})) goal[vk] = { ratio: r.ratio, met: r.ratio >= 0.9 };

  const out = {
    startedAt,
    machine: { ...machineInfo(), loadavgAtStart },
    params: {
      rounds: ROUNDS, targets: TARGETS, configs: CONFIGS, duration: DURATION, warmup: WARMUP, threads: THREADS, conns: CONNS,
      smallBytes: SMALL_SIZE, backends: N_BACKENDS, mapEntries: N_MAP, profile: PROFILE, verified: VERIFY,
      hosts: Object.fromEntries(CONFIGS.flatMap((c) => VARIANTS[c].map(([k, h, b]) => [k, { host: h, backend: b }]))),
    },
    configs: Object.fromEntries(CONFIGS.map((c) => [c, shownConfig(c, ports)])),
    results,
    ratios,
    goal90: goal,
  };
  const file = writeResults(process.env.BENCH_OUT || 'rules-latest.json', out);

  const rows = [['config (Host)', 'haproxy req/s', 'haproxy-ts req/s', 'ts/haproxy', 'haproxy /plain', 'ts /plain (rounds)', 'haproxy µs/req', 'ts µs/req', 'ts start s']];
  for (const vk of VARIANT_KEYS) {
    const hp = results.haproxy?.[vk], ts = results['haproxy-ts']?.[vk];
    const c = CONFIGS.find((x) => VARIANTS[x].some((v) => v[0] === vk));
    const host = VARIANTS[c].find((v) => v[0] === vk)[1];
    const op = (t) => ratios.overPlain[t]?.[vk];
    rows.push([`${vk} (${host})`, hp ? fmt(rps(hp), 0) : '-', ts ? fmt(rps(ts), 0) : '-', fmt(ratios.tsOverHaproxy[vk]?.ratio, 3),
      op('haproxy') ? fmt(op('haproxy').ratio, 3) : '-',
      op('haproxy-ts') ? `${fmt(op('haproxy-ts').ratio, 3)} (${op('haproxy-ts').rounds.map((x) => fmt(x, 2)).join(', ')})` : '-',
      hp?.proxyCpuMicrosPerRequest !== undefined ? fmt(hp.proxyCpuMicrosPerRequest, 1) : '-',
      ts?.proxyCpuMicrosPerRequest !== undefined ? fmt(ts.proxyCpuMicrosPerRequest, 1) : '-',
      ts?.startupMs !== undefined ? fmt(ts.startupMs / 1000, 1) : '-']);
  }
  printTable(rows);
  const verdict = Object.entries(goal).map(([k, g]) => `${k} ${fmt(g.ratio, 3)} ${g.met ? 'met' : 'NOT met'}`).join(', ');
  console.log(`\nwrk -t${THREADS} -c${CONNS} -d${DURATION} /small, keep-alive${ROUNDS > 1 ? `; median of ${ROUNDS} rounds` : ''}; goal haproxy-ts config/plain >= 0.90: ${verdict || '-'}; load average ${loadavgAtStart.join(' ')} at start, ${out.machine.loadavgAtEnd.join(' ')} at end; results in ${path.relative(process.cwd(), file) || file}`);
}

runMain(main, () => tmp);
