// TCP forwarding through haproxy-ts: data integrity, half-close, who-closes-first, load-balancing,
// frontend/backend wiring, retries/redispatch, source address, port-less servers, unix sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {
  freePorts, freePort, tempDir, startTestServer, tcpExchange, openClient, startProxyWithConfig, closeAll,
  waitFor, type TestServer, type Proc,
} from '../helpers/harness.js';

const T = { timeout: 15_000 };

const DEFAULTS = `
defaults
  mode tcp
  timeout connect 500ms
  timeout client 10s
  timeout server 10s
`;

/** A server that waits for the client's FIN, then answers (after `delayMs`) with what it got and closes. */
async function startReplyAfterEndServer(delayMs = 50): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    let n = 0;
    s.on('data', (d: Buffer) => { n += d.length; });
    s.on('end', () => { setTimeout(() => s.end(`got ${n} bytes after your FIN\n`), delayMs); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

describe('tcp forwarding', () => {
  it('carries 1 MiB of random data both ways intact (sha256)', T, async () => {
    const echo = await startTestServer('echo', { mode: 'echo' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen big
  bind 127.0.0.1:${fp}
  server e 127.0.0.1:${echo.port}
`, [fp!]);
      const payload = crypto.randomBytes(1 << 20);
      const c = await openClient(fp!);
      c.sock.end(payload);
      await c.waitClosed(10_000);
      const got = c.received();
      assert.equal(got.length, payload.length);
      assert.equal(crypto.createHash('sha256').update(got).digest('hex'), crypto.createHash('sha256').update(payload).digest('hex'));
    } finally {
      await closeAll([proxy, echo]);
    }
  });

  it('slow readers on both sides: 4 parallel streams of 6 MiB stay intact under backpressure', { timeout: 40_000 }, async () => {
    // The echo server pipes with backpressure and the clients read in bursts, so the proxy's
    // writes queue in both directions (read buffers held by queued writes, then reused).
    const socks = new Set<net.Socket>();
    const echo = net.createServer({ allowHalfOpen: true }, (s) => {
      socks.add(s);
      s.on('error', () => {});
      s.on('close', () => socks.delete(s));
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    const ep = (echo.address() as net.AddressInfo).port;
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen big
  bind 127.0.0.1:${fp}
  server e 127.0.0.1:${ep}
`, [fp!]);
      const one = (): Promise<void> => new Promise((resolve, reject) => {
        const payload = crypto.randomBytes(6 << 20);
        const c = net.connect({ port: fp!, host: '127.0.0.1', allowHalfOpen: true });
        const chunks: Buffer[] = [];
        let n = 0;
        const t = setTimeout(() => { c.destroy(); reject(new Error(`stalled after ${n} bytes`)); }, 35_000);
        c.on('error', (e) => { clearTimeout(t); reject(e); });
        c.on('data', (d: Buffer) => {
          chunks.push(d);
          n += d.length;
          // a slow reader: stop for a moment every ~256 KiB
          if ((n >> 18) !== ((n - d.length) >> 18)) { c.pause(); setTimeout(() => c.resume(), 5); }
        });
        c.on('end', () => {
          clearTimeout(t);
          const got = Buffer.concat(chunks);
          try {
            assert.equal(got.length, payload.length);
            assert.ok(got.equals(payload), 'echoed bytes differ from those sent');
            resolve();
          } catch (e) { reject(e); }
          c.end();
        });
        c.on('connect', () => { c.end(payload); });
      });
      await Promise.all([one(), one(), one(), one()]);
    } finally {
      await closeAll([proxy]);
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });

  it('half-close: the client ends its side and still receives the reply sent afterwards', T, async () => {
    const srv = await startReplyAfterEndServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen hc
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${srv.port}
`, [fp!]);
      const reply = await tcpExchange(fp!, 'hello', { halfClose: true, timeoutMs: 5000 });
      assert.equal(reply, 'got 5 bytes after your FIN\n');
    } finally {
      await closeAll([proxy, srv]);
    }
  });

  it('half-close: once the client has sent its FIN, timeout client no longer cuts a slow server reply', T, async () => {
    // HAProxy 2.6 delivers the reply here: the client is done sending, only "timeout server" applies
    const srv = await startReplyAfterEndServer(800);
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`
defaults
  mode tcp
  timeout connect 500ms
  timeout client 300ms
  timeout server 5s
listen hc_slow
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${srv.port}
`, [fp!]);
      const reply = await tcpExchange(fp!, 'slow', { halfClose: true, timeoutMs: 5000 });
      assert.equal(reply, 'got 4 bytes after your FIN\n');
    } finally {
      await closeAll([proxy, srv]);
    }
  });

  it('server closes first: the client gets the data then EOF, and the session ends when the client closes', T, async () => {
    const srv = await startTestServer('bye', { mode: 'name-close' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen sc
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${srv.port}
`, [fp!]);
      const c = await openClient(fp!);
      c.sock.write('x');
      await c.waitEnd();
      assert.equal(c.text(), 'bye\n');
      assert.equal(c.gotEnd(), true, 'EOF (FIN) expected, not a reset');
      c.sock.end();
      await c.waitClosed();
      await waitFor(() => srv.open === 0, 2000, 'server side closed');
    } finally {
      await closeAll([proxy, srv]);
    }
  });

  it('roundrobin honours weights 2:1 over 30 connections', T, async () => {
    const a = await startTestServer('A');
    const b = await startTestServer('B');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen rr
  bind 127.0.0.1:${fp}
  balance roundrobin
  server a 127.0.0.1:${a.port} weight 2
  server b 127.0.0.1:${b.port} weight 1
`, [fp!]);
      // the readiness probe made one connection without data: count replies instead
      const counts: Record<string, number> = {};
      for (let i = 0; i < 30; i++) {
        const r = (await tcpExchange(fp!, 'x')).trim();
        counts[r] = (counts[r] ?? 0) + 1;
      }
      assert.equal((counts.A ?? 0) + (counts.B ?? 0), 30, JSON.stringify(counts));
      // one probe connection (no data) may have shifted the sequence by one
      assert.ok(Math.abs((counts.A ?? 0) - 20) <= 1, JSON.stringify(counts));
      assert.ok(Math.abs((counts.B ?? 0) - 10) <= 1, JSON.stringify(counts));
    } finally {
      await closeAll([proxy, a, b]);
    }
  });

  it('frontend + backend wired with default_backend; two frontends share it', T, async () => {
    const s = await startTestServer('be1');
    const other = await startTestServer('unused');
    const [fp1, fp2] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
frontend fe1
  bind 127.0.0.1:${fp1}
  default_backend be1

frontend fe2
  bind 127.0.0.1:${fp2}
  default_backend be1

backend be0
  server u 127.0.0.1:${other.port}

backend be1
  server s 127.0.0.1:${s.port}
`, [fp1!, fp2!]);
      assert.equal(await tcpExchange(fp1!, 'x'), 'be1\n');
      assert.equal(await tcpExchange(fp2!, 'x'), 'be1\n');
      assert.equal(other.accepted, 0);
    } finally {
      await closeAll([proxy, s, other]);
    }
  });

  it('a frontend without default_backend closes connections', T, async () => {
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
frontend lonely
  bind 127.0.0.1:${fp}
`, [fp!]);
      const c = await openClient(fp!);
      c.sock.write('hi');
      await c.waitEnd(3000);
      assert.equal(c.received().length, 0);
    } finally {
      await closeAll([proxy]);
    }
  });

  it('listen section with several bind addresses', T, async () => {
    const s = await startTestServer('L');
    const [fp1, fp2] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen l
  bind 127.0.0.1:${fp1},127.0.0.1:${fp2}
  server s 127.0.0.1:${s.port}
`, [fp1!, fp2!]);
      assert.equal(await tcpExchange(fp1!, 'x'), 'L\n');
      assert.equal(await tcpExchange(fp2!, 'x'), 'L\n');
    } finally {
      await closeAll([proxy, s]);
    }
  });

  it('dead server with retries 1: the client connection is closed without data', T, async () => {
    const [fp, dead] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen dead
  bind 127.0.0.1:${fp}
  retries 1
  server d 127.0.0.1:${dead}
`, [fp!]);
      const t0 = Date.now();
      const r = await tcpExchange(fp!, 'x', { timeoutMs: 5000 });
      assert.equal(r, '');
      assert.ok(Date.now() - t0 < 4000, 'closed in bounded time');
    } finally {
      await closeAll([proxy]);
    }
  });

  it('option redispatch: with one of two servers dead every connection is served by the live one', T, async () => {
    const live = await startTestServer('live');
    const [fp, dead] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen rd
  bind 127.0.0.1:${fp}
  retries 1
  option redispatch
  balance roundrobin
  server d 127.0.0.1:${dead}
  server l 127.0.0.1:${live.port}
`, [fp!]);
      const replies = [];
      for (let i = 0; i < 8; i++) replies.push(await tcpExchange(fp!, 'x', { timeoutMs: 5000 }));
      assert.deepEqual(replies, Array(8).fill('live\n'));
    } finally {
      await closeAll([proxy, live]);
    }
  });

  it('source 127.0.0.2 on the backend: the server sees that address', T, async () => {
    const seen: string[] = [];
    // record only connections that carry data: the readiness probe's connection carries none
    const srv = net.createServer((s) => { s.on('error', () => {}); s.once('data', () => { seen.push(s.remoteAddress ?? ''); s.end('ok\n'); }); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const sport = (srv.address() as net.AddressInfo).port;
    const [fp1, fp2] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen src_be
  bind 127.0.0.1:${fp1}
  source 127.0.0.2
  server s 127.0.0.1:${sport}

listen src_srv
  bind 127.0.0.1:${fp2}
  server s 127.0.0.1:${sport} source 127.0.0.3
`, [fp1!, fp2!]);
      assert.equal(await tcpExchange(fp1!, 'x'), 'ok\n');
      assert.equal(await tcpExchange(fp2!, 'x'), 'ok\n');
      assert.deepEqual(seen, ['127.0.0.2', '127.0.0.3']);
    } finally {
      await closeAll([proxy]);
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('server without port uses the port the client connected to; +N offsets it', T, async () => {
    // bind on 127.0.0.1:P; the servers listen on 127.0.0.2:P and 127.0.0.2:P+1 (all loopback)
    let fp = 0;
    let same: TestServer | undefined;
    let plus: TestServer | undefined;
    for (let attempt = 0; attempt < 10 && !plus; attempt++) {
      fp = await freePort();
      try {
        same = await startTestServer('same-port', { host: '127.0.0.2', port: fp });
        plus = await startTestServer('port-plus-1', { host: '127.0.0.2', port: fp + 1 });
      } catch {
        await same?.close(); same = undefined;
      }
    }
    assert.ok(same && plus, 'could not find two adjacent free ports');
    let proxy: Proc | undefined;
    let proxy2: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen noport
  bind 127.0.0.1:${fp}
  server x 127.0.0.2
`, [fp]);
      assert.equal(await tcpExchange(fp, 'x'), 'same-port\n');
      await proxy.stop();
      proxy2 = await startProxyWithConfig(`${DEFAULTS}
listen offset
  bind 127.0.0.1:${fp}
  server x 127.0.0.2:+1
`, [fp]);
      assert.equal(await tcpExchange(fp, 'x'), 'port-plus-1\n');
    } finally {
      await closeAll([proxy, proxy2, same, plus]);
    }
  });

  it('unix socket server address and unix bind with mode 600', T, async () => {
    const dir = tempDir('hts-unix-');
    const srvPath = path.join(dir, 's.sock');
    const bindPath = path.join(dir, 'p.sock');
    const socks = new Set<net.Socket>();
    const srv = net.createServer({ allowHalfOpen: true }, (s) => {
      socks.add(s);
      s.on('error', () => {});
      s.on('data', (d) => s.write(`unix:${d}`));
      s.on('end', () => s.end());
      s.on('close', () => socks.delete(s));
    });
    await new Promise<void>((r) => srv.listen(srvPath, () => r()));
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen tcp_to_unix
  bind 127.0.0.1:${fp}
  server u ${srvPath}

listen unix_to_unix
  bind ${bindPath} mode 600
  server u unix@${srvPath}
`, [fp!]);
      assert.equal(await tcpExchange(fp!, 'a'), 'unix:a');
      await waitFor(() => fs.existsSync(bindPath), 3000, 'unix bind socket');
      const st = fs.statSync(bindPath);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);
      const c = await openClient({ path: bindPath });
      c.sock.end('b');
      await c.waitClosed();
      assert.equal(c.text(), 'unix:b');
    } finally {
      await closeAll([proxy]);
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
