// Interop: the Prometheus exporter of Debian's HAProxy 2.6 and haproxy-ts's, for the same
// configuration and traffic, must give the same metric families in the same order: names, HELP
// texts, TYPE lines, label sets (values masked: counters and timings differ between processes).
// Only the build_info version label differs. `promtool check metrics` validates our output
// when promtool is installed. Skipped without haproxy. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BIN, haproxyPath, freePorts, tempDir, writeConfig, startProxy, sleep, httpTestHead, type Proc } from '../helpers/harness.js';
import { httpFetch } from '../helpers/http.js';

const HAPROXY = haproxyPath();
const SKIP = HAPROXY ? false : 'haproxy not installed';
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));

const get = (port: number, path: string, method = 'GET') => httpFetch(port, path, { method });

function config(p: Record<string, number>): string {
  return `
${httpTestHead()}frontend fe
  bind 127.0.0.1:${p.fe} name web
  bind 127.0.0.1:${p.fe2}
  option socket-stats
  maxconn 100
  http-request use-service prometheus-exporter if { path /metrics }
  default_backend be
frontend fet
  mode tcp
  bind 127.0.0.1:${p.fet}
  default_backend bet
backend be
  balance roundrobin
  option httpchk GET /
  server s1 127.0.0.1:${p.srv} check inter 300 maxconn 10 maxqueue 5 weight 3
  server s2 127.0.0.1:${p.srv} check inter 300
  server s3 127.0.0.1:${p.dead} track be/s1 backup
  server s4 127.0.0.1:${p.dead} disabled
backend bet
  mode tcp
  server t1 127.0.0.1:${p.srv} check inter 300
  server t2 127.0.0.1:${p.dead}
listen lst
  bind 127.0.0.1:${p.lst}
  server l1 127.0.0.1:${p.srv}
backend empty
`;
}

/** Each line with its sample value replaced, the version label of build_info neutralised. */
function shape(text: string): string[] {
  return text.split('\n').map((l) => {
    if (l.startsWith('#')) return l;
    return l.replace(/ [^ ]+$/, ' V').replace(/version="[^"]*"/, 'version="X"');
  });
}

async function run(bin: string, p: Record<string, number>, dir: string, name: string): Promise<string> {
  const cfg = writeConfig(dir, config(p), `${name}.cfg`);
  const proc: Proc = await startProxy(bin, ['-db', '-f', cfg], [p.fe!, p.lst!], { timeoutMs: 10_000 });
  try {
    await sleep(1200); // every check has run at least once (inter 300)
    for (let i = 0; i < 3; i++) await get(p.fe!, '/x');
    await get(p.fe!, '/404');
    await get(p.lst!, '/');
    const r = await get(p.fe!, '/metrics');
    assert.equal(r.status, 200, `${name}: ${r.body.slice(0, 200)}`);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    return r.body;
  } finally {
    await proc.stop();
  }
}

test('metric families, HELP, TYPE and labels equal haproxy 2.6', { skip: SKIP, timeout: 60_000 }, async () => {
  const [srvPort, dead, fe, fe2, fet, lst, fe3, fe4, fet2, lst2] = await freePorts(10);
  const srv = http.createServer((q, r) => { r.writeHead(q.url === '/404' ? 404 : 200, { 'content-type': 'text/plain' }); r.end('hello\n'); });
  await new Promise<void>((res) => srv.listen(srvPort, '127.0.0.1', res));
  const dir = tempDir('hts-prom-interop-');
  try {
    const theirs = await run(HAPROXY!, { srv: srvPort!, dead: dead!, fe: fe!, fe2: fe2!, fet: fet!, lst: lst! }, dir, 'haproxy');
    const ours = await run(BIN, { srv: srvPort!, dead: dead!, fe: fe3!, fe2: fe4!, fet: fet2!, lst: lst2! }, dir, 'ours');
    const a = shape(theirs), b = shape(ours);
    for (let i = 0; i < Math.max(a.length, b.length); i++) assert.equal(b[i], a[i], `line ${i + 1}`);
    // a few values that do not depend on timing
    assert.match(ours, /^haproxy_server_status\{proxy="be",server="s4",state="MAINT"\} 1$/m);
    assert.match(ours, /^haproxy_server_limit_sessions\{proxy="be",server="s2"\} NaN$/m);
    assert.match(ours, /^haproxy_server_queue_limit\{proxy="be",server="s1"\} 5$/m);
    assert.match(ours, /^haproxy_backend_status\{proxy="be",state="UP"\} 1$/m);
    assert.match(ours, /^haproxy_server_check_status\{proxy="be",server="s1",state="L7OK"\} 1$/m);
    assert.match(ours, /^haproxy_server_check_code\{proxy="be",server="s1"\} 200$/m);
    assert.match(ours, /^haproxy_frontend_http_responses_total\{proxy="fe",code="4xx"\} 1$/m);
    fs.writeFileSync(`${dir}/ours.txt`, ours);
    if (PROMTOOL) {
      const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: ours, encoding: 'utf8', timeout: 20_000 });
      // promtool exits 0 when the text parses; its lint remarks (counter naming...) also apply to haproxy's output
      const theirsLint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: theirs, encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, theirsLint.status, `promtool: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, /error while linting|text format parsing error/);
    }
  } finally {
    await new Promise<void>((res) => srv.close(() => res()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
