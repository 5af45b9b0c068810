// log-profile sections (configuration.txt 8.3.5) with the real binary. Expected lines follow the
// documentation's example (a success line and an error line, for a plain logger and one using
// the profile), plus do-log origins, drop, and the configuration errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  freePorts, startProxyWithConfig, waitFor, sleep, tempDir, writeConfig, runCmd, BIN, type Proc,
} from '../helpers/harness.js';
import { rawHttp } from '../helpers/http.js';

const T = { timeout: 30_000 };

async function udpReceiver(): Promise<{ port: number; lines: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const lines: string[] = [];
  s.on('message', (m) => lines.push(m.toString('latin1')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, lines, close: () => new Promise((r) => s.close(() => r())) };
}

const HDR = /^<134>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d - /;

test('the documentation example: tag, sd on any step, error format, connect dropped', T, async () => {
  const plain = await udpReceiver(), prof = await udpReceiver();
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`log-profile myprof
  log-tag "custom-tag"
  on error format "%ci: error"
  on connect drop
  on any sd "custom-sd"
listen myproxy
  mode http
  bind 127.0.0.1:${fp}
  timeout client 2s
  option httplog
  option dontlognull
  log-tag "normal"
  log 127.0.0.1:${plain.port} format rfc5424 local0
  log 127.0.0.1:${prof.port} format rfc5424 profile myprof local0
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    await rawHttp(fp!, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
    await waitFor(() => plain.lines.length >= 1 && prof.lines.length >= 1, 5000, 'success lines');
    await rawHttp(fp!, 'GET / HTTP/1.1\r\nhost x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
    await waitFor(() => plain.lines.length >= 2 && prof.lines.length >= 2, 5000, 'error lines');
    const strip = (l: string): string => l.replace(HDR, '').replace(/^(\S+) \d+ /, '$1 PID ');
    assert.match(plain.lines[0]!, HDR);
    assert.match(strip(plain.lines[0]!), /^normal PID - - 127\.0\.0\.1:\d+ \[.*\] myproxy myproxy\/<NOSRV> .* 200 \d+ - - LR-- .* "GET \/ HTTP\/1\.1"\n$/);
    assert.match(strip(prof.lines[0]!), /^custom-tag PID - custom-sd 127\.0\.0\.1:\d+ \[.*\] myproxy myproxy\/<NOSRV> .* 200 \d+ - - LR-- .* "GET \/ HTTP\/1\.1"\n$/);
    assert.match(strip(plain.lines[1]!), /^normal PID - - 127\.0\.0\.1:\d+ .* 400 .* "<BADREQ>"\n$/);
    // the error step has its own rule: its format, and no "any" sd
    assert.equal(strip(prof.lines[1]!), 'custom-tag PID - - 127.0.0.1: error\n');
  } finally {
    await p?.stop();
    await plain.close(); await prof.close();
  }
});

test('do-log origins, drop on close, logasap connect step', T, async () => {
  const rx = await udpReceiver();
  const [fp, tp, bp] = await freePorts(3);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`log-profile p
  on http-req format "req %HM %HU"
  on http-after-res format "after %ST"
  on close drop
log-profile t
  on connect format "connected %f"
  on tcp-req-conn drop
frontend f
  mode http
  bind 127.0.0.1:${fp}
  timeout client 2s
  option dontlognull
  log-format "close %ST"
  log 127.0.0.1:${rx.port} format raw profile p local0
  log 127.0.0.1:${rx.port} format raw local0
  http-request do-log
  http-after-response do-log
  http-request return status 200 content-type text/plain string ok
frontend ft
  mode tcp
  bind 127.0.0.1:${tp}
  timeout client 2s
  timeout connect 1s
  timeout server 2s
  option logasap
  log-format "tcp %f %OG"
  log 127.0.0.1:${rx.port} format raw profile t local0
  tcp-request connection do-log
  default_backend b
backend b
  mode tcp
  server s 127.0.0.1:${bp}
`, [fp!, tp!]);
    await rawHttp(fp!, 'GET /x HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
    await waitFor(() => rx.lines.length >= 5, 5000, '5 lines');
    await sleep(100);
    // the profile logger: its do-log formats, nothing at close; the plain logger: the proxy's
    // format three times (no status yet at http-request time)
    assert.deepEqual([...rx.lines].sort(), ['after 200\n', 'close -1\n', 'close 200\n', 'close 200\n', 'req GET /x\n'].sort());
    rx.lines.length = 0;
    // TCP, logasap: the log is emitted once connected (connect step); the do-log at tcp-req-conn is dropped
    const net = await import('node:net');
    const conns = new Set<import('node:net').Socket>();
    const srv = net.createServer((c) => { conns.add(c); c.on('error', () => {}); });
    await new Promise<void>((r) => srv.listen(bp!, '127.0.0.1', () => r()));
    const c = net.createConnection({ host: '127.0.0.1', port: tp! });
    c.on('error', () => {});
    try {
      c.write('hello');
      await waitFor(() => rx.lines.length >= 1, 5000, `tcp line (got ${JSON.stringify(rx.lines)})`);
      await sleep(150);
      assert.deepEqual(rx.lines, ['connected ft\n']);
    } finally {
      c.destroy();
      for (const k of conns) k.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  } finally {
    await p?.stop();
    await rx.close();
  }
});

test('log-profile configuration errors', T, async () => {
  const dir = tempDir('lprof-');
  const cases: [string, RegExp][] = [
    ['log-profile p\n  on nowhere drop\nfrontend f\n  bind 127.0.0.1:1\n', /haproxy\.cfg:2\] .*'on' expects a logging step/],
    ['log-profile p\n  on close\nfrontend f\n  bind 127.0.0.1:1\n', /haproxy\.cfg:2\] .*'on close' expects/],
    ['frontend f\n  bind 127.0.0.1:1\n  log 127.0.0.1:514 profile nope local0\n', /haproxy\.cfg:3\] : log : unknown log-profile 'nope'/],
    ['log-profile p\n  on close format "%[nosuchfetch]"\nfrontend f\n  bind 127.0.0.1:1\n', /haproxy\.cfg:1\] : log-profile 'p': failed to parse 'on close format'/],
  ];
  for (const [text, re] of cases) {
    const cfg = writeConfig(dir, text);
    const r = await runCmd(process.execPath, [BIN, '-c', '-f', cfg], { timeoutMs: 10_000 });
    assert.equal(r.code, 1, text);
    assert.match(r.stderr + r.stdout, re);
  }
});
