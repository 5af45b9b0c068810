// Logging with the real binary: every kind of log target (UDP, stdout, unix datagram socket, ring
// with `show events`, tcp@ and a ring forwarding with octet counting), the header formats,
// log-format/log-format-sd, sampling, level filters, dontlog-normal, log-separate-errors, and
// option log-health-checks. Expected texts come from HAProxy 2.6 runs of the same configurations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  freePorts, startProxyWithConfig, waitFor, sleep, cliCommand, tempDir, writeConfig, runCmd, BIN, type Proc,
} from '../helpers/harness.js';
import { rawHttp, startRecordingBackend } from '../helpers/http.js';
import { udpSyslogReceiver } from '../helpers/syslog.js';

const T = { timeout: 30_000 };

async function tcpReceiver(): Promise<{ port: number; data: () => string; close(): Promise<void> }> {
  let data = '';
  const socks = new Set<net.Socket>();
  const srv = net.createServer((c) => { socks.add(c); c.on('data', (d) => { data += d.toString('latin1'); }); c.on('error', () => {}); c.on('close', () => socks.delete(c)); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    data: () => data,
    close: () => new Promise((r) => { for (const c of socks) c.destroy(); srv.close(() => r()); }),
  };
}

// dontlognull: the harness's readiness probe (a connection closed without a request) leaves no line
const DEFAULTS = `defaults
  mode http
  log global
  option dontlognull
  timeout connect 1s
  timeout client 3s
  timeout server 3s
`;

async function get(port: number, p: string): Promise<void> {
  await rawHttp(port, `GET ${p} HTTP/1.1\r\nhost: x\r\n\r\n`, { responses: 1, timeoutMs: 3000 });
}

test('UDP: rfc5424 with log-format-sd and a custom log-format; level filter and sampling', T, async () => {
  const rx = await udpSyslogReceiver();
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log-tag mytag
  log 127.0.0.1:${rx.port} format rfc5424 local2
  log 127.0.0.1:${rx.port} format short sample 2:2 local3 info
  log 127.0.0.1:${rx.port} format short local4 notice
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "%HM %HU %ST %[str(abc),upper]"
  log-format-sd "[exampleSDID@1234 bytes=\\"%B\\" status=\\"%ST\\"]"
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    for (const u of ['/1', '/2', '/3', '/4']) await get(fp!, u);
    await waitFor(() => rx.lines.length >= 6, 5000, '6 lines');
    await sleep(100);
    const r5424 = rx.lines.filter((l) => l.startsWith('<150>1 '));
    assert.equal(r5424.length, 4);
    // "<150>1 <iso date> - mytag <pid> - [sd] <msg>" (2.6: hostname '-' without log-send-hostname)
    assert.match(r5424[0]!, /^<150>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d - mytag \d+ - \[exampleSDID@1234 bytes="73" status="200"\] GET \/1 200 ABC\n$/);
    // sample 2:2 takes every second line; the notice-only logger takes none (traffic is info)
    const short = rx.lines.filter((l) => l.startsWith('<6>'));
    assert.deepEqual(short, ['<6>GET /2 200 ABC\n', '<6>GET /4 200 ABC\n']);
    assert.equal(rx.lines.filter((l) => l.startsWith('<5>')).length, 0);
  } finally {
    await p?.stop();
    await rx.close();
  }
});

test('stdout raw, dontlog-normal and log-separate-errors', T, async () => {
  const rx = await udpSyslogReceiver();
  const [fp, dead] = await freePorts(2);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log stdout format raw daemon
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log 127.0.0.1:${rx.port} local0
  option httplog
  option dontlog-normal
  option log-separate-errors
  http-request return status 200 content-type text/plain string ok if { path /ok }
  default_backend b
backend b
  retries 0
  server s1 127.0.0.1:${dead}
`, [fp!]);
    await get(fp!, '/ok');
    await get(fp!, '/fail');
    await waitFor(() => rx.lines.length >= 1 && p!.stdout().includes('/fail'), 5000, 'error logged');
    await sleep(150);
    // only the error is logged (dontlog-normal), at level err: local0 + 3 = 131
    assert.equal(rx.lines.length, 1, rx.lines.join(""));
    assert.match(rx.lines[0]!, /^<131>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy-ts\[\d+\]: 127\.0\.0\.1:\d+ \[[^\]]+\] f b\/s1 \d+\/\d+\/-1\/-1\/\d+ 503 217 - - SC-- \d\/\d\/0\/0\/0 0\/0 "GET \/fail HTTP\/1\.1"\n$/);
    assert.doesNotMatch(p.stdout(), /\/ok/);
    assert.match(p.stdout(), /^127\.0\.0\.1:\d+ \[[^\]]+\] f b\/s1 .* 503 217 - - SC-- .*"GET \/fail HTTP\/1\.1"$/m);
  } finally {
    await p?.stop();
    await rx.close();
  }
});

test('rings: show events (list, dump, -n, live -w until a key), maxlen and format', T, async () => {
  const [fp] = await freePorts(1);
  const sock = path.join(tempDir('hts-logsock-'), 's.sock');
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  stats socket ${sock} level operator
  log ring@r1 local0
  log ring@r2 local0
ring r1
  description "my ring"
  size 32768
ring r2
  format short
  maxlen 30
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "req %HU"
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    await get(fp!, '/a');
    await get(fp!, '/bb');
    await waitFor(async () => (await cliCommand(sock, 'show events r1')).includes('/bb'), 3000, 'ring filled');
    const list = await cliCommand(sock, 'show events');
    assert.equal(list, 'Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n' +
      '    stdout     : type=fd, 0 dropped, standard output (fd#1)\n' +
      '    stderr     : type=fd, 0 dropped, standard output (fd#2)\n' +
      '    r1         : type=buffer, 0 dropped, my ring\n' +
      '    r2         : type=buffer, 0 dropped, r2\n\n');
    // r1: the default ring format is raw
    assert.equal(await cliCommand(sock, 'show events r1'), 'req /a\nreq /bb\n\n');
    assert.equal(await cliCommand(sock, 'show events r2'), '<6>req /a\n<6>req /bb\n\n');
    assert.equal(await cliCommand(sock, 'show events r1 -n'), '\n');
    assert.equal(await cliCommand(sock, 'show events nope'), 'No such event sink\n\n');
    // live: -wn shows only what comes after, until the client sends a key
    const live = net.connect(sock);
    let seen = '';
    live.on('data', (d) => { seen += d; });
    await new Promise<void>((r) => live.on('connect', () => r()));
    live.write('show events r1 -wn\n');
    await sleep(200);
    await get(fp!, '/live');
    await waitFor(() => seen.includes('req /live'), 3000, 'live event');
    assert.equal(seen, 'req /live\n');
    live.write('x');
    await waitFor(() => live.readableEnded || live.destroyed || seen.endsWith('\n\n'), 3000, 'live dump stopped');
    live.destroy();
  } finally {
    await p?.stop();
  }
});

test('tcp@ targets (non-transparent framing) and a ring server with log-proto octet-count', T, async () => {
  const a = await tcpReceiver();
  const b = await tcpReceiver();
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log tcp@127.0.0.1:${a.port} format raw local0
  log ring@fwd local0
ring fwd
  format raw
  server syslog 127.0.0.1:${b.port} log-proto octet-count
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "req %HU"
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    await get(fp!, '/one');
    await get(fp!, '/two');
    await waitFor(() => a.data().includes('/two') && b.data().includes('/two'), 5000, 'both servers fed');
    assert.equal(a.data(), 'req /one\nreq /two\n');
    assert.equal(b.data(), '8 req /one8 req /two');
  } finally {
    await p?.stop();
    await a.close();
    await b.close();
  }
});

test('unix datagram socket target (format local)', T, async (t) => {
  const py = await runCmd('python3', ['-c', 'print(1)'], { timeoutMs: 5000 }).catch(() => undefined);
  if (!py || py.code !== 0) { t.skip('python3 is needed for the receiving socket'); return; }
  const dir = tempDir('hts-logdg-');
  const sockPath = path.join(dir, 'log.sock');
  const outPath = path.join(dir, 'out.txt');
  // a receiver that writes each datagram on its own line
  const rcv = spawn('python3', ['-c', `import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(8)
f=open(sys.argv[2],'w')
try:
  while True:
    d=s.recv(65535); f.write(d.decode('latin1')); f.flush()
except socket.timeout: pass
`, sockPath, outPath], { stdio: 'ignore' });
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    await waitFor(() => fs.existsSync(sockPath), 3000, 'receiver bound');
    p = await startProxyWithConfig(`global
  log ${sockPath} local1
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "dgram %HU"
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    await get(fp!, '/dg');
    await waitFor(() => fs.existsSync(outPath) && fs.readFileSync(outPath, 'latin1').includes('/dg'), 5000, 'datagram received');
    assert.match(fs.readFileSync(outPath, 'latin1'), /^<142>\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy-ts\[\d+\]: dgram \/dg\n$/);
  } finally {
    await p?.stop();
    rcv.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('option log-health-checks: the messages of haproxy 2.6 (durations aside)', T, async () => {
  const rx = await udpSyslogReceiver();
  const [fp, sp] = await freePorts(2);
  let p: Proc | undefined;
  let srv: net.Server | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx.port} local0
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  option log-health-checks
  server s1 127.0.0.1:${sp} check inter 150 fall 2 rise 2
`, [fp!]);
    await waitFor(() => rx.lines.some((l) => l.includes('has no server available')), 5000, 'down');
    srv = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => srv!.listen(sp, '127.0.0.1', () => r()));
    await waitFor(() => rx.lines.some((l) => l.includes('is UP')), 5000, 'up');
    await new Promise<void>((r) => srv!.close(() => r()));
    srv = undefined;
    await waitFor(() => rx.lines.filter((l) => l.includes('has no server available')).length >= 2, 5000, 'down again');
    const got = rx.lines.map((l) => l.replace(/^(<\d+>)\w{3} [ \d]\d \d\d:\d\d:\d\d haproxy-ts\[\d+\]: /, '$1').replace(/duration: \d+ms/, 'duration: Nms').trimEnd());
    // captured from haproxy 2.6 with the same configuration and server behaviour
    assert.deepEqual(got, [
      '<133>Health check for server b/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms, status: 0/2 DOWN.',
      '<129>Server b/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      '<128>backend b has no server available!',
      '<133>Health check for server b/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/2 DOWN.',
      '<133>Health check for server b/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 UP.',
      '<133>Server b/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
      '<133>Health check for server b/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms, status: 1/2 UP.',
      '<133>Health check for server b/s1 failed, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms, status: 0/2 DOWN.',
      '<129>Server b/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      '<128>backend b has no server available!',
    ]);
  } finally {
    await p?.stop();
    if (srv) await new Promise<void>((r) => srv!.close(() => r()));
    await rx.close();
  }
});

test('bad log configuration: [ALERT] with file:line and exit code 1', T, async () => {
  const dir = tempDir('hts-logcfg-');
  try {
    const cases: [string, RegExp][] = [
      ['  log 127.0.0.1 format foo local0', /\[ALERT\].*parsing \[[^\]]*haproxy\.cfg:2\] : log : unknown log format 'foo'\./],
      ['  log 127.0.0.1 len 10 local0', /haproxy\.cfg:2\] : log : invalid log length '10', must be between 80 and 65535\./],
      ['  log ring@nope local0', /haproxy\.cfg:2\] : log : sink 'nope' not found/],
      ['  log backend@be local0', /haproxy\.cfg:2\] : log : log backends \('backend@be'\) need 'mode log', which is not supported yet by haproxy-ts\./],
      ['  log 127.0.0.1 profile p local0', /haproxy\.cfg:2\] : log : unknown log-profile 'p'\./],
    ];
    for (const [line, re] of cases) {
      const cfg = writeConfig(dir, `global\n${line}\n${DEFAULTS}frontend f\n  bind 127.0.0.1:1\n`);
      const r = await runCmd(process.execPath, [BIN, '-c', '-f', cfg], { timeoutMs: 10_000 });
      assert.equal(r.code, 1, line);
      assert.match(r.stderr, re, line);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the default format: "Connect from" at accept time', T, async () => {
  const rx = await udpSyslogReceiver();
  const be = await startRecordingBackend(() => 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx.port} local0
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  server s1 127.0.0.1:${be.port}
`, [fp!]);
    await get(fp!, '/');
    await waitFor(() => rx.lines.length >= 1, 3000, 'connect line');
    // 2.6: "Connect from 127.0.0.1:40996 to 127.0.0.1:25141 (f/HTTP)" at info level
    assert.match(rx.lines[0]!, new RegExp(`^<134>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d haproxy-ts\\[\\d+\\]: Connect from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:${fp} \\(f/HTTP\\)\\n$`));
  } finally {
    await p?.stop();
    await be.close();
    await rx.close();
  }
});

test('set-log-level (a level, silent) and do-log with %OG', T, async () => {
  const rx = await udpSyslogReceiver();
  const [fp] = await freePorts(1);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx.port} format short local0
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "%HU origin=%OG"
  http-request set-log-level silent if { path /quiet }
  http-request set-log-level err if { path /loud }
  http-request do-log if { path /twice }
  http-request return status 200 content-type text/plain string ok
`, [fp!]);
    for (const u of ['/quiet', '/loud', '/twice']) await get(fp!, u);
    await waitFor(() => rx.lines.length >= 3, 3000, '3 lines');
    await sleep(150);
    assert.deepEqual(rx.lines, [
      '<3>/loud origin=txn_close\n',
      '<6>/twice origin=http-req\n',
      '<6>/twice origin=txn_close\n',
    ]);
  } finally {
    await p?.stop();
    await rx.close();
  }
});

test('log-steps: one line per listed step, HTTP and TCP', T, async () => {
  const rx = await udpSyslogReceiver();
  const be = await startRecordingBackend(() => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const [hp, tp] = await freePorts(2);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx.port} format raw local0
${DEFAULTS}frontend h
  bind 127.0.0.1:${hp}
  log-steps request,connect,response,close
  log-format "h %OG %HU %ST"
  default_backend b
frontend t
  bind 127.0.0.1:${tp}
  mode tcp
  log-steps accept close
  log-format "t %OG %ts"
  default_backend bt
backend b
  server s1 127.0.0.1:${be.port}
backend bt
  mode tcp
  server s1 127.0.0.1:${be.port}
`, [hp!, tp!]);
    // the readiness probe's connection to t logs its accept step: start from a clean slate
    await sleep(150);
    rx.lines.length = 0;
    await get(hp!, '/s');
    await waitFor(() => rx.lines.length >= 4, 3000, '4 HTTP lines');
    assert.deepEqual(rx.lines.splice(0), [
      'h txn_request /s -1\n', 'h txn_connect /s -1\n', 'h txn_response /s 200\n', 'h txn_close /s 200\n',
    ]);
    await new Promise<void>((resolve) => {
      // some bytes: the defaults have dontlognull
      const s = net.connect(tp!, '127.0.0.1', () => { s.end('x'); });
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    await waitFor(() => rx.lines.length >= 2, 3000, `2 TCP lines (got ${JSON.stringify(rx.lines)})`);
    assert.equal(rx.lines[0], 't txn_accept --\n');
    assert.match(rx.lines[1]!, /^t txn_close ..\n$/);
  } finally {
    await p?.stop();
    await be.close();
    await rx.close();
  }
});

test('a stalled stdout reader costs dropped lines, never a stalled proxy (DroppedLogs)', T, async () => {
  const [fp] = await freePorts(1);
  const dir = tempDir('hts-logstall-');
  const sock = path.join(dir, 's.sock');
  // lines of about 1 kB: 200 requests write 200 kB, more than the pipe and the reader's buffer hold
  const cfg = writeConfig(dir, `global
  stats socket ${sock} level admin
  log stdout format raw local0
${DEFAULTS}frontend f
  bind 127.0.0.1:${fp}
  log-format "%HU %[str(${'x'.repeat(1000)})]"
  http-request return status 200 content-type text/plain string ok
`);
  // stdout is a pipe nobody reads; stderr is read (start-up messages)
  const child = spawn(process.execPath, [BIN, '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pause();
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  try {
    await waitFor(async () => {
      try { return (await rawHttp(fp!, 'GET /up HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 500 })).responses.length === 1; } catch { return false; }
    }, 8000, `proxy up (${err})`);
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      const r = await rawHttp(fp!, `GET /r${i} HTTP/1.1\r\nhost: x\r\n\r\n`, { responses: 1, timeoutMs: 3000 });
      assert.equal(r.responses[0]!.status, 200);
    }
    assert.ok(Date.now() - t0 < 15_000, `200 requests served in ${Date.now() - t0} ms`);
    const info = await cliCommand(sock, 'show info');
    const dropped = Number(/^DroppedLogs: (\d+)$/m.exec(info)?.[1] ?? 0);
    assert.ok(dropped > 0, `lines were dropped, not waited for (DroppedLogs ${dropped})`);
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
