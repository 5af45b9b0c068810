// RawSocket (src/net/raw-socket.ts): the data plane's connections on libuv handles, checked
// against real net.Socket peers on loopback: connect, read into caller buffers, half-close,
// back-pressure and 'drain', flush markers, cork, destroySoon, reset, errors, and accepted
// sockets through acceptWithOnread.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { RawSocket, rawSocketsAvailable, connectSock, type OnRead } from '../../src/net/raw-socket.js';
import { acceptWithOnread, attachReader, whenFlushed, type Sock } from '../../src/net/read-buffers.js';

const skip = !rawSocketsAvailable() && 'raw handles not available in this Node.js';

/** A reader collecting everything into `got`; `more()` decides whether to keep reading. */
function collector(more: () => boolean = () => true): OnRead & { got: Buffer[]; text(): string } {
  const buf = Buffer.alloc(16 * 1024);
  const got: Buffer[] = [];
  return {
    got,
    buffer: () => buf,
    callback: (n, b) => { got.push(Buffer.from(b.subarray(0, n))); return more(); },
    text: () => Buffer.concat(got).toString('latin1'),
  };
}

const peers = new WeakMap<net.Server, Set<net.Socket>>();

function listen(onConn: (s: net.Socket) => void, opts: net.ServerOpts = {}): Promise<net.Server & { port: number }> {
  return new Promise((resolve) => {
    const conns = new Set<net.Socket>();
    const srv = net.createServer({ allowHalfOpen: true, ...opts }, (c) => { conns.add(c); c.on('close', () => conns.delete(c)); onConn(c); });
    peers.set(srv, conns);
    srv.listen(0, '127.0.0.1', () => resolve(Object.assign(srv, { port: (srv.address() as net.AddressInfo).port })));
  });
}

function closeServer(srv: net.Server): Promise<void> {
  return new Promise((r) => { srv.close(() => r()); for (const c of peers.get(srv) ?? []) c.destroy(); });
}

function once<T = unknown>(em: Sock, ev: string, ms = 5000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${ev}' within ${ms} ms`)), ms);
    em.once(ev, (...a: T[]) => { clearTimeout(t); resolve(a); });
  });
}

function connect(port: number, r: OnRead): RawSocket {
  const s = connectSock({ host: '127.0.0.1', port, onread: r } as net.NetConnectOpts);
  assert.ok(s instanceof RawSocket, 'a literal address gives a RawSocket');
  return s;
}

describe('RawSocket', { skip, timeout: 30_000 }, () => {
  test('connects, writes, reads into the caller buffer, and closes after both half-closes', async () => {
    const srv = await listen((c) => {
      let all = '';
      c.on('data', (d) => { all += d; });
      c.on('end', () => { c.end(`echo:${all}`); });
    });
    try {
      const r = collector();
      const s = connect(srv.port, r);
      assert.equal(s.readyState, 'opening');
      assert.equal(s.write('hello '), true, 'a write while connecting is queued');
      assert.ok(s.writableLength >= 6);
      await once(s, 'connect');
      assert.equal(s.remoteAddress, '127.0.0.1');
      assert.equal(s.remotePort, srv.port);
      assert.equal(s.localAddress, '127.0.0.1');
      s.write(Buffer.from('world'));
      s.end();
      const ended = once(s, 'end');
      const [hadError] = await once<boolean>(s, 'close');
      await ended;
      assert.equal(hadError, false);
      assert.equal(r.text(), 'echo:hello world');
      assert.equal(s.bytesWritten, 11);
      assert.equal(s.bytesRead, 16);
      assert.equal(s.destroyed, true);
    } finally { await closeServer(srv); }
  });

  test('a refused connection emits error (ECONNREFUSED) then close(true)', async () => {
    const port = await new Promise<number>((resolve) => { const t = net.createServer().listen(0, '127.0.0.1', () => { const p = (t.address() as net.AddressInfo).port; t.close(() => resolve(p)); }); });
    const s = connect(port, collector());
    const errP = once<NodeJS.ErrnoException>(s, 'error');
    const closeP = once<boolean>(s, 'close');
    const [err] = await errP;
    assert.equal(err!.code, 'ECONNREFUSED');
    assert.equal(err!.syscall, 'connect');
    const [hadError] = await closeP;
    assert.equal(hadError, true);
    assert.equal(s.write('x'), false, 'no write after destroy');
  });

  test('back-pressure: write() turns false, drain follows once the peer reads, and every byte arrives in order', async () => {
    let peer: net.Socket | undefined;
    const received: Buffer[] = [];
    let endSeen!: () => void;
    const gotAll = new Promise<void>((resolve) => { endSeen = resolve; });
    const srv = await listen((c) => { peer = c; c.pause(); c.on('data', (d) => received.push(d)); c.on('end', () => endSeen()); });
    try {
      const s = connect(srv.port, collector());
      await once(s, 'connect');
      const chunk = crypto.randomBytes(64 * 1024);
      const hash = crypto.createHash('sha256');
      let writes = 0;
      while (s.write(chunk)) { hash.update(chunk); if (++writes > 2000) assert.fail('write() never returned false'); }
      hash.update(chunk);
      assert.ok(s.writableLength > 0, 'bytes queued');
      let flushed = false;
      whenFlushed(s, () => { flushed = true; });
      const drained = once(s, 'drain', 10_000);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(flushed, false, 'nothing flushed while the peer does not read');
      peer!.resume();
      await drained;
      assert.equal(flushed, true, 'the flush marker fired by the time of drain');
      assert.equal(s.writableLength, 0);
      s.end();
      await gotAll;
      const all = Buffer.concat(received);
      assert.equal(all.length, chunk.length * (writes + 1));
      assert.equal(crypto.createHash('sha256').update(all).digest('hex'), hash.digest('hex'));
      s.destroy();
    } finally { await closeServer(srv); }
  });

  test('a flush marker on an empty queue fires asynchronously', async () => {
    const srv = await listen((c) => c.resume());
    try {
      const s = connect(srv.port, collector());
      await once(s, 'connect');
      let fired = false;
      whenFlushed(s, () => { fired = true; });
      assert.equal(fired, false, 'not from within the call');
      await new Promise((r) => setImmediate(r));
      assert.equal(fired, true);
      s.destroy();
    } finally { await closeServer(srv); }
  });

  test('cork/uncork sends the queued chunks in order; destroySoon delivers pending data before closing', async () => {
    let seen = '';
    let endSeen!: () => void;
    const done = new Promise<void>((resolve) => { endSeen = resolve; });
    const srv = await listen((c) => { c.on('data', (d) => { seen += d; }); c.on('end', () => { c.end(); endSeen(); }); });
    try {
      const s = connect(srv.port, collector());
      await once(s, 'connect');
      s.cork();
      s.write('a'); s.write('b'); s.write('c');
      assert.equal(s.writableLength, 3, 'held while corked');
      s.uncork();
      s.write(Buffer.alloc(200_000, 'z'));
      const closed = once(s, 'close');
      s.destroySoon();
      await done;
      await closed;
      assert.equal(seen.slice(0, 3), 'abc');
      assert.equal(seen.length, 200_003);
    } finally { await closeServer(srv); }
  });

  test('resetAndDestroy sends a reset', async () => {
    let outcome!: (what: string) => void;
    const peerErr = new Promise<string>((resolve) => { outcome = resolve; });
    const srv = await listen((c) => { c.on('error', (e: NodeJS.ErrnoException) => outcome(e.code ?? '')); c.on('end', () => outcome('end')); c.resume(); });
    try {
      const s = connect(srv.port, collector());
      await once(s, 'connect');
      s.write('x');
      await new Promise((r) => setTimeout(r, 20));
      s.resetAndDestroy();
      await once(s, 'close');
      assert.equal(await peerErr, 'ECONNRESET');
    } finally { await closeServer(srv); }
  });

  test('a callback returning false stops reading until resume()', async () => {
    let peer: net.Socket | undefined;
    const srv = await listen((c) => { peer = c; });
    try {
      let allow = false;
      const r = collector(() => allow);
      const s = connect(srv.port, r);
      await once(s, 'connect');
      await new Promise((res) => setTimeout(res, 20));
      peer!.write('one');
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(r.text(), 'one');
      peer!.write('two');
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(r.text(), 'one', 'paused: nothing more read');
      allow = true;
      s.resume();
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(r.text(), 'onetwo');
      s.destroy();
    } finally { await closeServer(srv); }
  });

  test('accepted connections are RawSockets reading into the buffer attachReader gives; server.close() completes after they close', async () => {
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const accepted: Sock[] = [];
    const r = collector();
    srv.on('connection', (sock: Sock) => {
      accepted.push(sock);
      assert.equal(attachReader(sock, r), true);
      sock.on('end', () => { sock.write('bye'); sock.end(); });
      sock.resume();
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    assert.equal(acceptWithOnread(srv, (e) => assert.fail(e)), true);
    const port = (srv.address() as net.AddressInfo).port;
    const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let back = '';
    c.on('data', (d) => { back += d; });
    await new Promise((res) => c.once('connect', res));
    c.end('ping');
    await new Promise((res) => c.once('end', res));
    c.destroy();
    assert.equal(back, 'bye');
    assert.equal(r.text(), 'ping');
    assert.ok(accepted[0] instanceof RawSocket);
    const closed = new Promise<void>((res) => srv.close(() => res()));
    await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('server.close() did not complete')), 5000))]);
  });
});

test('HAPROXY_TS_RAW_SOCKETS=0 turns raw handles off (net.Socket is used)', () => {
  const code = `import('${new URL('../../src/net/raw-socket.js', import.meta.url).href}').then((m) => { process.stdout.write(String(m.rawSocketsAvailable())); })`;
  const off = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, HAPROXY_TS_RAW_SOCKETS: '0' }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(off.stdout, 'false');
  const on = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, HAPROXY_TS_RAW_SOCKETS: '' }, encoding: 'utf8', timeout: 10_000 });
  assert.equal(on.stdout, String(rawSocketsAvailable()));
});
