import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import '../../src/net/bind-keywords.js';
import { bindKeywords, type ParseCtx } from '../../src/registry/registry.js';
import type { BindConfig } from '../../src/config/model.js';
import {
  sockopt, sockoptAvailable, sockoptLoadError, applyListenerOptions, applyClientSocketOptions,
  handleFd, bindMss, DEFER_ACCEPT_SECONDS,
} from '../../src/net/sockopt.js';

const skip = sockoptAvailable ? false : `sockopt addon unavailable: ${sockoptLoadError ?? 'missing constants'}`;

function listen(srv: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(opts, () => { srv.removeListener('error', reject); resolve(); });
  });
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

function port(srv: net.Server): number {
  const a = srv.address();
  assert.ok(a && typeof a === 'object');
  return a.port;
}

/** Connects, sends `msg`, resolves with everything received until the server closes. */
function exchange(p: number, msg: string): Promise<{ data: string; mss: number }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(p, '127.0.0.1');
    let data = '';
    let mss = -1;
    c.setEncoding('utf8');
    c.on('connect', () => {
      if (sockopt?.TCP_MAXSEG !== undefined) mss = sockopt.getIntOpt(handleFd(c), sockopt.IPPROTO_TCP, sockopt.TCP_MAXSEG);
      c.write(msg);
    });
    c.on('data', (d: string) => { data += d; });
    c.on('error', reject);
    c.on('close', () => resolve({ data, mss }));
  });
}

function echoServer(): net.Server {
  return net.createServer((s) => {
    s.setEncoding('utf8');
    s.once('data', (d: string) => s.end(`echo:${d}`));
  });
}

function newBind(): BindConfig {
  return {
    where: { file: 't', line: 1 }, addressText: '127.0.0.1:0',
    address: { family: 'ipv4', host: '127.0.0.1', port: 0, portEnd: 0, hasPort: true, isHostname: false },
    maxconn: 0, backlog: 0, v4v6: false, v6only: false, acceptProxy: false, deferAccept: false, tfo: false,
  };
}

function ctx(): ParseCtx & { alerts: string[] } {
  const alerts: string[] = [];
  return { where: { file: 't', line: 1 }, alerts, alert: (m) => { alerts.push(m); }, warn: () => {} };
}

test('bind keywords are registered only when the addon is available', () => {
  for (const k of ['defer-accept', 'tfo', 'interface', 'mss']) assert.equal(bindKeywords.has(k), sockoptAvailable, k);
});

test('bind keyword parsing', { skip }, () => {
  const b = newBind();
  const c = ctx();
  bindKeywords.get('defer-accept')!.parse(['defer-accept'], b, c);
  bindKeywords.get('tfo')!.parse(['tfo'], b, c);
  bindKeywords.get('interface')!.parse(['interface', 'lo'], b, c);
  bindKeywords.get('mss')!.parse(['mss', '1400'], b, c);
  assert.deepEqual(c.alerts, []);
  assert.equal(b.deferAccept, true);
  assert.equal(b.tfo, true);
  assert.equal(b.interface, 'lo');
  assert.equal(bindMss(b), 1400);
  bindKeywords.get('mss')!.parse(['mss', '-40'], b, c);
  assert.equal(bindMss(b), -40);
  for (const bad of ['abc', '70000', '1.5', '']) bindKeywords.get('mss')!.parse(['mss', bad], b, c);
  bindKeywords.get('interface')!.parse(['interface', 'a-very-long-interface-name'], b, c);
  bindKeywords.get('interface')!.parse(['interface', ''], b, c);
  assert.equal(c.alerts.length, 6, c.alerts.join('\n'));
  assert.equal(bindMss(b), -40);
  assert.equal(b.interface, 'lo');
});

test('addon errors carry errno text and code', { skip }, () => {
  const m = sockopt!;
  assert.throws(() => m.setIntOpt(1_000_000, m.SOL_SOCKET, m.SO_BINDTODEVICE!, 1), (e: NodeJS.ErrnoException) => {
    assert.equal(e.code, 'EBADF');
    assert.match(e.message, /Bad file descriptor/);
    return true;
  });
  assert.throws(() => m.getIntOpt('x' as unknown as number, 0, 0), TypeError);
});

test('listener options reach the kernel and the listener still works', { skip }, async () => {
  const m = sockopt!;
  const srv = echoServer();
  await listen(srv, { host: '127.0.0.1', port: 0, backlog: 100 });
  try {
    const warnings = applyListenerOptions(srv, { deferAccept: true, tfo: true, backlog: 100, iface: 'lo', mss: 1200 });
    assert.deepEqual(warnings, []);
    const fd = handleFd(srv);
    assert.ok(fd >= 0);
    // the kernel stores TCP_DEFER_ACCEPT as a number of SYN-ACK retransmits, then reads it
    // back converted to seconds: 1 s reads back as 1 with the 1 s initial RTO
    const defer = m.getIntOpt(fd, m.IPPROTO_TCP, m.TCP_DEFER_ACCEPT!);
    assert.ok(defer >= DEFER_ACCEPT_SECONDS && defer <= 3, `TCP_DEFER_ACCEPT read back as ${defer}`);
    // on Linux, TCP_FASTOPEN on a listener reads back its queue length
    assert.equal(m.getIntOpt(fd, m.IPPROTO_TCP, m.TCP_FASTOPEN!), 100);
    assert.equal(m.getIntOpt(fd, m.IPPROTO_TCP, m.TCP_MAXSEG!), 1200);
    assert.equal(m.getStrOpt(fd, m.SOL_SOCKET, m.SO_BINDTODEVICE!), 'lo');

    const r = await exchange(port(srv), 'hello');
    assert.equal(r.data, 'echo:hello');
    // the client learnt the MSS advertised by the listener (less TCP options such as timestamps)
    assert.ok(r.mss > 0 && r.mss <= 1200, `client MSS ${r.mss}`);
  } finally {
    await close(srv);
  }
});

test('defer-accept: a silent client is not accepted at once, a talking one is', { skip }, async () => {
  const srv = net.createServer({ pauseOnConnect: true });
  await listen(srv, { host: '127.0.0.1', port: 0 });
  const c = net.connect(port(srv), '127.0.0.1');
  try {
    assert.deepEqual(applyListenerOptions(srv, { deferAccept: true }), []);
    const got: { sock?: net.Socket } = {};
    srv.on('connection', (s) => { got.sock = s; });
    const accepted = (): net.Socket | undefined => got.sock; // not narrowed by the asserts below
    await once(c, 'connect'); // the client side completes the handshake immediately
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(accepted(), undefined, 'accepted before any data arrived');
    c.write('x');
    const t0 = Date.now();
    while (!accepted() && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    const s = accepted();
    assert.ok(s, 'not accepted after data arrived');
    s.destroy();
  } finally {
    c.destroy();
    await close(srv);
  }
});

test('interface: a listener bound to another device does not see loopback traffic', { skip }, async (t) => {
  const other = Object.keys(os.networkInterfaces()).find((n) => n !== 'lo');
  if (!other) { t.skip('no interface other than lo'); return; }
  const srv = echoServer();
  await listen(srv, { host: '127.0.0.1', port: 0 });
  try {
    assert.deepEqual(applyListenerOptions(srv, { iface: other }), []);
    await assert.rejects(exchange(port(srv), 'x'), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
    // and binding it back to lo lets connections in again
    assert.deepEqual(applyListenerOptions(srv, { iface: 'lo' }), []);
    assert.equal((await exchange(port(srv), 'again')).data, 'echo:again');
  } finally {
    await close(srv);
  }
});

test('failures are warnings and leave the listener working', { skip }, async () => {
  const srv = echoServer();
  await listen(srv, { host: '127.0.0.1', port: 0 });
  try {
    const w = applyListenerOptions(srv, { iface: 'nosuchdev0', mss: 10 });
    assert.equal(w.length, 2, w.join('\n'));
    assert.match(w[0]!, /^cannot bind listener to device \(No such device\)$/);
    assert.match(w[1]!, /^cannot set MSS \(Invalid argument\)$/);
    assert.equal((await exchange(port(srv), 'ok')).data, 'echo:ok');
  } finally {
    await close(srv);
  }
});

test('options are ignored on UNIX sockets', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-sockopt-'));
  const srv = net.createServer();
  try {
    await listen(srv, { path: path.join(dir, 's') });
    assert.deepEqual(applyListenerOptions(srv, { deferAccept: true, tfo: true, iface: 'lo', mss: 1000 }), []);
  } finally {
    await close(srv);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('negative mss is applied per connection without failing', { skip }, async () => {
  const srv = net.createServer();
  await listen(srv, { host: '127.0.0.1', port: 0 });
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const c = net.connect(port(srv), '127.0.0.1');
  try {
    const [s] = await accepted;
    assert.equal(typeof applyClientSocketOptions(s, { mss: -40 }), 'boolean');
    assert.equal(applyClientSocketOptions(s, { mss: 1200 }), false); // positive: listener-level only
    s.destroy();
  } finally {
    c.destroy();
    await close(srv);
  }
});
