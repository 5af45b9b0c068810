// Interop: Debian's halog (shipped with haproxy) reads the httplog lines of haproxy-ts and reports
// the same statistics as for HAProxy 2.6's lines after the same traffic: status codes (-st), per
// server counts (-srv, timing columns aside) and per URL request/error/byte counts (-u).
// Skipped when haproxy or halog is missing. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, haproxyPath, freePorts, tempDir, writeConfig, startProxy, runCmd, waitFor, sleep,
} from '../helpers/harness.js';
import { rawHttp, startRecordingBackend } from '../helpers/http.js';

const HAPROXY = haproxyPath();
const HALOG = ['/usr/bin/halog', '/usr/sbin/halog'].find((p) => fs.existsSync(p));
const SKIP = HAPROXY && HALOG ? false : 'haproxy or halog not installed';

async function traffic(port: number): Promise<void> {
  const reqs: string[] = [];
  for (let i = 0; i < 6; i++) reqs.push(`GET /page${i % 3} HTTP/1.1\r\nhost: x\r\n\r\n`);
  reqs.push('GET /missing HTTP/1.1\r\nhost: x\r\n\r\n', 'GET /denied HTTP/1.1\r\nhost: x\r\n\r\n', 'GET /nosrv HTTP/1.1\r\nhost: x\r\n\r\n');
  for (const r of reqs) await rawHttp(port, r, { responses: 1, timeoutMs: 4000 });
}

async function run(bin: string, dir: string, name: string): Promise<string> {
  const s1 = await startRecordingBackend((r) => (r.head.includes('/missing') ? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n' : 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello'));
  const s2 = await startRecordingBackend(() => 'HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world');
  const [fp, ready, dead] = await freePorts(3);
  const cfg = writeConfig(dir, `global
  nbthread 1
  log stdout format rfc3164 local0
  log-send-hostname host
  log-tag haproxy
defaults
  mode http
  timeout connect 1s
  timeout client 3s
  timeout server 3s
frontend ready
  bind 127.0.0.1:${ready}
frontend f
  bind 127.0.0.1:${fp}
  log global
  option httplog
  http-request deny if { path /denied }
  use_backend nosrv if { path /nosrv }
  default_backend b
backend b
  balance roundrobin
  server s1 127.0.0.1:${s1.port}
  server s2 127.0.0.1:${s2.port}
backend nosrv
  retries 0
  server dead 127.0.0.1:${dead}
`, `${name}.cfg`);
  const p = await startProxy(bin, ['-db', '-f', cfg], [ready!], { timeoutMs: 8000 });
  try {
    await traffic(fp!);
    await waitFor(() => (p.stdout().match(/\n/g) ?? []).length >= 9, 5000, `${name}: 9 log lines`);
    await sleep(100);
    return p.stdout();
  } finally {
    await p.stop('SIGTERM', 2000);
    await s1.close();
    await s2.close();
  }
}

async function halog(file: string, opt: string): Promise<string> {
  const r = await runCmd('sh', ['-c', `${HALOG} ${opt} < '${file}'`], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, / 0 parsing errors/, `halog ${opt} parses every line: ${r.stderr}`);
  return r.stdout;
}

test('halog reports the same statistics on haproxy-ts and haproxy 2.6 logs', { skip: SKIP, timeout: 60_000 }, async () => {
  const dir = tempDir('hts-halog-');
  try {
    const logs: Record<string, string> = {};
    logs['haproxy'] = await run(HAPROXY!, dir, 'haproxy');
    logs['haproxy-ts'] = await run(BIN, dir, 'haproxy-ts');
    const files: Record<string, string> = {};
    for (const [k, v] of Object.entries(logs)) {
      // haproxy 2.6 writes its own start-up notices on stdout too: keep the traffic lines only
      const lines = v.split('\n').filter((l) => /\] f /.test(l)).join('\n') + '\n';
      files[k] = path.join(dir, `${k}.log`);
      fs.writeFileSync(files[k]!, lines);
    }
    const st = { a: await halog(files['haproxy']!, '-st'), b: await halog(files['haproxy-ts']!, '-st') };
    assert.equal(st.b, st.a);
    assert.match(st.a, /^200 6$/m);
    // -srv: name and status counts (the average connect/response times differ)
    const srvCols = (s: string): string[] => s.trim().split('\n').map((l) => l.split(' ').slice(0, 10).join(' ')).sort();
    assert.deepEqual(srvCols(await halog(files['haproxy-ts']!, '-srv')), srvCols(await halog(files['haproxy']!, '-srv')));
    // -u: requests, errors, bytes per URL (columns req err ... bavg btot src; times aside)
    const urlCols = (s: string): string[] => s.trim().split('\n').map((l) => { const c = l.split(' '); return [c[0], c[1], c[6], c[7], c[8]].join(' '); }).sort();
    assert.deepEqual(urlCols(await halog(files['haproxy-ts']!, '-u')), urlCols(await halog(files['haproxy']!, '-u')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
