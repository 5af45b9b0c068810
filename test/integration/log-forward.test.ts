// log-forward sections with the real binary: 3.2 behaviours HAProxy 2.6 does not have (option
// host, option assume-rfc6587-ntf, option dont-parse-log; expected values from configuration.txt
// 12.6), "log global", maxconn, timeout client, and configuration errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  freePorts, startProxyWithConfig, waitFor, sleep, tempDir, writeConfig, runCmd, BIN, type Proc,
} from '../helpers/harness.js';

const T = { timeout: 30_000 };

async function udpReceiver(): Promise<{ port: number; lines: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const lines: string[] = [];
  s.on('message', (m) => lines.push(m.toString('latin1')));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, lines, close: () => new Promise((r) => s.close(() => r())) };
}

function udpSend(port: number, msg: string): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((r) => s.send(Buffer.from(msg, 'latin1'), port, '127.0.0.1', () => { s.close(); r(); }));
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((r, j) => { const c = net.createConnection({ host: '127.0.0.1', port }); c.once('connect', () => r(c)); c.once('error', j); });
}

test('option host strategies, log global, dont-parse-log', T, async () => {
  const rx = await Promise.all([udpReceiver(), udpReceiver(), udpReceiver(), udpReceiver()]);
  const [u1, u2, u3, t1, t2, t3] = await freePorts(6);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx[3]!.port} format short local1
log-forward fill
  dgram-bind 127.0.0.1:${u1}
  bind 127.0.0.1:${t1}
  log 127.0.0.1:${rx[0]!.port} format rfc3164 local0
  log global
log-forward append
  dgram-bind 127.0.0.1:${u2}
  bind 127.0.0.1:${t2}
  option host append
  log 127.0.0.1:${rx[1]!.port} format rfc5424 local0
log-forward raw
  dgram-bind 127.0.0.1:${u3}
  bind 127.0.0.1:${t3}
  option dont-parse-log
  log 127.0.0.1:${rx[2]!.port} format raw local0
`, [t1!, t2!, t3!]);
    // fill (the default): a missing host name becomes the sender's address, a present one stays
    await udpSend(u1!, '<14>hello');
    await udpSend(u1!, '<14>Oct 11 22:14:15 myhost app: there');
    // append: "host,address"; no host: the address
    await udpSend(u2!, '<14>1 2003-10-11T22:14:15Z h1 app - - - one');
    await udpSend(u2!, '<14>1 2003-10-11T22:14:15Z - app - - - two');
    await udpSend(u3!, '<14>1 2003-10-11T22:14:15Z h1 app - - - as is');
    await waitFor(() => rx[0]!.lines.length >= 2 && rx[1]!.lines.length >= 2 && rx[2]!.lines.length >= 1 && rx[3]!.lines.length >= 2, 5000, 'forwarded lines');
    assert.match(rx[0]!.lines[0]!, /^<14>\w{3} [ \d]\d \d\d:\d\d:\d\d 127\.0\.0\.1 hello\n$/);
    assert.equal(rx[0]!.lines[1], '<14>Oct 11 22:14:15 myhost app: there\n');
    assert.deepEqual(rx[1]!.lines, [
      '<14>1 2003-10-11T22:14:15Z h1,127.0.0.1 app - - - one\n',
      '<14>1 2003-10-11T22:14:15Z 127.0.0.1 app - - - two\n',
    ]);
    // dont-parse-log: the whole message is the text (no priority: facility local0, level emerg)
    assert.deepEqual(rx[2]!.lines, ['<14>1 2003-10-11T22:14:15Z h1 app - - - as is\n']);
    // log global: the global logger's own format (short: the level only)
    assert.deepEqual(rx[3]!.lines.slice(0, 2), ['<6>hello\n', '<6>there\n']);
  } finally {
    await p?.stop();
    for (const r of rx) await r.close();
  }
});

test('TCP: assume-rfc6587-ntf, maxconn and timeout client', T, async () => {
  const rx = await udpReceiver();
  const [t1] = await freePorts(1);
  let p: Proc | undefined;
  const socks: net.Socket[] = [];
  try {
    p = await startProxyWithConfig(`log-forward lf
  bind 127.0.0.1:${t1}
  maxconn 2
  timeout client 500ms
  option assume-rfc6587-ntf
  log 127.0.0.1:${rx.port} format raw local0
`, [t1!]);
    await sleep(100); // the readiness probe's connection is gone
    const a = await connect(t1!); socks.push(a);
    // with non-transparent framing forced, "12 abc" is a message, not a frame length
    a.write('12 abc\n<13>second\n');
    await waitFor(() => rx.lines.length >= 2, 3000, '2 lines');
    assert.deepEqual(rx.lines, ['12 abc\n', 'second\n']);
    const b = await connect(t1!); socks.push(b);
    await sleep(50);
    // a third connection is over maxconn: closed at once
    const c = await connect(t1!); socks.push(c);
    const closed = await new Promise<boolean>((r) => { c.once('close', () => r(true)); setTimeout(() => r(false), 300); });
    assert.equal(closed, true, 'connection over maxconn closed');
    // timeout client closes idle connections
    const idle = await new Promise<boolean>((r) => { a.once('close', () => r(true)); setTimeout(() => r(false), 2000); });
    assert.equal(idle, true, 'idle connection closed by timeout client');
  } finally {
    for (const s of socks) s.destroy();
    await p?.stop();
    await rx.close();
  }
});

test('configuration errors name the file and line', T, async () => {
  const dir = tempDir('lfwd-');
  const cases: [string, RegExp][] = [
    ['log-forward lf\n  dgram-bind 127.0.0.1:1514\n  option host weird\n  log 127.0.0.1:514 local0\n', /\[.*haproxy\.cfg:3\] .*'option host' requires one of/],
    ['log-forward lf\n  bind 127.0.0.1:1514 ssl\n  log 127.0.0.1:514 local0\n', /\[.*haproxy\.cfg:2\] .*'ssl' is not supported yet by haproxy-ts/],
    ['log-forward lf\n  log 127.0.0.1:514 local0\n', /haproxy\.cfg:1\] : log forwarder 'lf' has no 'bind' nor 'dgram-bind'/],
    ['log-forward lf\n  dgram-bind 127.0.0.1:1514\n  log ring@nope local0\n', /haproxy\.cfg:3\] : log : sink 'nope' not found/],
    ['log-forward lf\n  dgram-bind 127.0.0.1:1514\n  frobnicate\n', /haproxy\.cfg:3\] .*unknown keyword 'frobnicate' in log-forward section 'lf'/],
  ];
  for (const [text, re] of cases) {
    const cfg = writeConfig(dir, text);
    const r = await runCmd(process.execPath, [BIN, '-c', '-f', cfg], { timeoutMs: 10_000 });
    assert.equal(r.code, 1, text);
    assert.match(r.stderr + r.stdout, re);
  }
});
