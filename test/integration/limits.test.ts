// Connection limits and timeouts: server maxconn + queue, timeout queue, frontend/global/bind
// maxconn, timeout client/server/tunnel.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  freePorts, cliCommand, startTestServer, openClient, startProxyWithConfig, closeAll, sleep, waitFor,
  type Client, type Proc,
} from '../helpers/harness.js';

const T = { timeout: 15_000 };

/**
 * A server that answers "<tag>:ok\n" to the first data of each connection and keeps it open until
 * the peer ends it. It tracks, by connection, when it was accepted and when its peer's FIN came,
 * so that the number of connections "in use" is (accepted with data) - (ended).
 */
interface TrackServer {
  port: number;
  /** first data of each connection, in arrival order */
  order: string[];
  active: number;
  maxActive: number;
  close(): Promise<void>;
}

async function startTrackServer(): Promise<TrackServer> {
  const socks = new Set<net.Socket>();
  const ts: TrackServer = {
    port: 0, order: [], active: 0, maxActive: 0,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    s.on('error', () => {});
    let counted = false;
    const leave = (): void => { if (counted) { counted = false; ts.active--; } };
    s.once('data', (d: Buffer) => {
      counted = true;
      ts.active++;
      ts.maxActive = Math.max(ts.maxActive, ts.active);
      const tag = d.toString().trim();
      ts.order.push(tag);
      s.write(`${tag}:ok\n`);
    });
    s.on('end', () => { leave(); s.end(); });
    s.on('close', () => { leave(); socks.delete(s); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  ts.port = (srv.address() as net.AddressInfo).port;
  return ts;
}


/**
 * A loopback listener whose accept queue is full, so that a new connect() never completes (the
 * kernel drops the SYN): listen(0) without ever accepting, with the queue pre-filled. Node always
 * accepts, hence a tiny python3 helper; returns undefined when python3 is not available.
 */
const HAS_PYTHON = spawnSync('python3', ['-c', 'pass']).status === 0;
async function startBlackholeListener(): Promise<{ port: number; close(): void } | undefined> {
  if (!HAS_PYTHON) return undefined;
  const script = [
    'import socket, sys',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'port = s.getsockname()[1]',
    'fill = []',
    'for i in range(3):',
    '    c = socket.socket(); c.setblocking(False)',
    '    try: c.connect(("127.0.0.1", port))',
    '    except BlockingIOError: pass',
    '    fill.append(c)',
    'print(port, flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child: ChildProcess = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('python helper did not start')); }, 5000);
    child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) { clearTimeout(t); resolve(Number(out.trim())); } });
    child.once('exit', () => { clearTimeout(t); reject(new Error('python helper exited')); });
  });
  // let the filling connections reach the accept queue
  await sleep(100);
  return { port, close: () => { child.stdin!.end(); child.kill('SIGKILL'); } };
}

const base = (extra = ''): string => `
global
  maxconn 200
${extra}
defaults
  mode tcp
  timeout connect 1s
  timeout client 10s
  timeout server 10s
`;

/** base() with a stats socket on 127.0.0.1:<port>. */
const baseWithStats = (port: number): string => base().replace('global\n', `global\n  stats socket ipv4@127.0.0.1:${port}\n`);

/** CurrConns from `show info` on the stats socket at 127.0.0.1:<port>. */
async function currConns(port: number): Promise<number> {
  const m = /^CurrConns: (\d+)$/m.exec(await cliCommand(port, 'show info'));
  return Number(m?.[1] ?? -1);
}

/** Asserts that `c` receives nothing during `ms`. */
async function assertSilent(c: Client, ms: number, what: string): Promise<void> {
  await sleep(ms);
  assert.equal(c.received().length, 0, `${what}: expected no data yet, got '${c.text()}'`);
  assert.equal(c.isClosed(), false, `${what}: connection should still be open`);
}

describe('limits and timeouts', () => {
  it('server maxconn 1: extra clients wait in the queue and are served in order, one at a time', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen q
  bind 127.0.0.1:${fp}
  timeout queue 5s
  server s 127.0.0.1:${srv.port} maxconn 1
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const b = await openClient(fp!); clients.push(b);
      b.sock.write('B');
      await sleep(100); // B must be queued before C
      const c = await openClient(fp!); clients.push(c);
      c.sock.write('C');
      await assertSilent(b, 300, 'B while A holds the slot');
      assert.equal(c.received().length, 0);
      assert.deepEqual(srv.order, ['A']);
      a.sock.end();
      await b.waitText('B:ok');
      await a.waitClosed();
      await assertSilent(c, 200, 'C while B holds the slot');
      b.sock.end();
      await c.waitText('C:ok');
      c.sock.end();
      await c.waitClosed();
      assert.deepEqual(srv.order, ['A', 'B', 'C']);
      assert.equal(srv.maxActive, 1, 'the server never saw two connections at once');
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('timeout queue 300ms: a queued client is closed after about 300ms without reaching the server', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen q
  bind 127.0.0.1:${fp}
  timeout queue 300ms
  server s 127.0.0.1:${srv.port} maxconn 1
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const t0 = Date.now();
      const b = await openClient(fp!); clients.push(b);
      b.sock.write('B');
      await b.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 1500, `queued client closed after ${dt}ms, expected ~300ms`);
      assert.equal(b.received().length, 0);
      assert.deepEqual(srv.order, ['A']);
      // A is unaffected
      assert.equal(a.isClosed(), false);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('frontend maxconn 2: a third client is accepted but not forwarded until a slot frees', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
frontend fe
  bind 127.0.0.1:${fp}
  maxconn 2
  default_backend be
backend be
  server s 127.0.0.1:${srv.port}
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      const b = await openClient(fp!); clients.push(b);
      b.sock.write('B');
      await a.waitText('A:ok');
      await b.waitText('B:ok');
      const c = await openClient(fp!); clients.push(c); // the kernel accepts it
      c.sock.write('C');
      await assertSilent(c, 400, 'third client over frontend maxconn');
      assert.deepEqual([...srv.order].sort(), ['A', 'B']);
      a.sock.end();
      await c.waitText('C:ok');
      assert.ok(srv.maxActive <= 2, `server saw ${srv.maxActive} concurrent connections`);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('global maxconn 2 applies across frontends', T, async () => {
    const srv = await startTrackServer();
    const [fp1, fp2] = await freePorts(2);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`
global
  maxconn 2
defaults
  mode tcp
  timeout connect 1s
  timeout client 10s
  timeout server 10s
listen one
  bind 127.0.0.1:${fp1}
  server s 127.0.0.1:${srv.port}
listen two
  bind 127.0.0.1:${fp2}
  server s 127.0.0.1:${srv.port}
`, [fp1!, fp2!]);
      // the readiness probes may still be finishing: wait until none is left on the server
      await sleep(100);
      const a = await openClient(fp1!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const b = await openClient(fp2!); clients.push(b);
      b.sock.write('B');
      await b.waitText('B:ok');
      const c = await openClient(fp1!); clients.push(c);
      c.sock.write('C');
      const d = await openClient(fp2!); clients.push(d);
      d.sock.write('D');
      await assertSilent(c, 400, 'client on frontend one over global maxconn');
      assert.equal(d.received().length, 0, 'client on frontend two over global maxconn');
      b.sock.end();
      await waitFor(() => c.text().includes('C:ok') || d.text().includes('D:ok'), 3000, 'one waiting client to be served');
      const served = [c, d].filter((x) => x.received().length > 0).length;
      await sleep(150);
      assert.equal([c, d].filter((x) => x.received().length > 0).length, served);
      assert.equal(served, 1, 'exactly one slot was freed');
      a.sock.end();
      await c.waitText('C:ok');
      await d.waitText('D:ok');
      assert.ok(srv.maxActive <= 2, `server saw ${srv.maxActive} concurrent connections`);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('bind ... maxconn 1 limits that listener only', T, async () => {
    const srv = await startTrackServer();
    const [fp1, fp2] = await freePorts(2);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp1} maxconn 1
  bind 127.0.0.1:${fp2}
  server s 127.0.0.1:${srv.port}
`, [fp1!, fp2!]);
      await sleep(100);
      const a = await openClient(fp1!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const b = await openClient(fp1!); clients.push(b);
      b.sock.write('B');
      const c = await openClient(fp2!); clients.push(c);
      c.sock.write('C');
      await c.waitText('C:ok'); // the other listener is not limited
      await assertSilent(b, 300, 'second client on the maxconn 1 listener');
      a.sock.end();
      await b.waitText('B:ok');
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('timeout client 300ms closes an idle session', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout client 300ms
  server s 127.0.0.1:${echo.port}
`, [fp!]);
      c = await openClient(fp!);
      c.sock.write('ping');
      await c.waitText('ping');
      const t0 = Date.now();
      await c.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 200 && dt < 1500, `closed after ${dt}ms of inactivity, expected ~300ms`);
      await waitFor(() => echo.open === 0, 2000, 'server side closed too');
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });

  it('timeout client also applies before any data is received', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout client 300ms
  server s 127.0.0.1:${echo.port}
`, [fp!]);
      const t0 = Date.now();
      c = await openClient(fp!);
      await c.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 200 && dt < 1500, `closed after ${dt}ms, expected ~300ms`);
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });

  it('traffic keeps a session alive past timeout client/server; idleness then ends it', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout client 300ms
  timeout server 300ms
  server s 127.0.0.1:${echo.port}
`, [fp!]);
      c = await openClient(fp!);
      for (let i = 0; i < 10; i++) { // 1.2 s of traffic, 4x the timeouts
        c.sock.write(`m${i};`);
        await c.waitText(`m${i};`);
        await sleep(120);
      }
      assert.equal(c.isClosed(), false, 'a session with traffic every 120ms must not time out');
      const t0 = Date.now();
      await c.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 150 && dt < 1500, `closed after ${dt}ms of inactivity, expected ~300ms`);
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });

  it('timeout client-fin: once the server has closed, a client that keeps its side open is cut after it', T, async () => {
    const srv = await startTestServer('bye', { mode: 'name-close' });
    const [fp, sp] = await freePorts(2);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    const conns = (): Promise<number> => currConns(sp!);
    try {
      proxy = await startProxyWithConfig(`${baseWithStats(sp!)}
listen l
  bind 127.0.0.1:${fp}
  timeout client 10s
  timeout client-fin 300ms
  server s 127.0.0.1:${srv.port}
`, [fp!, sp!]);
      c = await openClient(fp!);
      c.sock.write('hello');
      await c.waitText('bye');
      await c.waitEnd(2000); // the proxy relays the server's FIN; the client keeps its side open
      const t0 = Date.now();
      assert.equal(await conns(), 1, 'the half-closed session is still there');
      await waitFor(async () => (await conns()) === 0, 4000, 'session ended by timeout client-fin');
      const dt = Date.now() - t0;
      assert.ok(dt >= 100 && dt < 2000, `session ended ${dt}ms after the FIN, expected ~300ms (timeout client is 10s)`);
      assert.equal(c.isClosed(), false, 'the client never closed its side');
    } finally {
      await closeAll([c, proxy, srv]);
    }
  });

  it('timeout server-fin: once the client has closed its side, a server that keeps its side open is cut after it', T, async () => {
    const hold = await startTestServer('h', { mode: 'hold' });
    const [fp, sp] = await freePorts(2);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    const conns = (): Promise<number> => currConns(sp!);
    try {
      proxy = await startProxyWithConfig(`${baseWithStats(sp!)}
listen l
  bind 127.0.0.1:${fp}
  timeout server 10s
  timeout server-fin 300ms
  server s 127.0.0.1:${hold.port}
`, [fp!, sp!]);
      // the start-up probe's session ends the same way: let it go first
      await waitFor(async () => (await conns()) === 0, 3000, 'probe session gone');
      c = await openClient(fp!);
      c.sock.write('x');
      await waitFor(() => hold.firstBytes.some((b) => b.toString() === 'x'), 2000, 'server got the data');
      c.sock.end(); // relayed to the server, which keeps its side open and says nothing
      const t0 = Date.now();
      await sleep(50);
      assert.equal(await conns(), 1, 'the half-closed session is still there');
      await waitFor(async () => (await conns()) === 0, 4000, 'session ended by timeout server-fin');
      const dt = Date.now() - t0;
      assert.ok(dt >= 100 && dt < 2000, `session ended ${dt}ms after the client's FIN, expected ~300ms (timeout server is 10s)`);
    } finally {
      await closeAll([c, proxy, hold]);
    }
  });

  it('timeout server 300ms closes a session whose server stays silent', T, async () => {
    const hold = await startTestServer('h', { mode: 'hold' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout server 300ms
  server s 127.0.0.1:${hold.port}
`, [fp!]);
      c = await openClient(fp!);
      c.sock.write('anyone?');
      await waitFor(() => hold.firstBytes.some((b) => b.toString() === 'anyone?'), 2000, 'server got the data');
      const t0 = Date.now();
      await c.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 150 && dt < 1500, `closed after ${dt}ms, expected ~300ms`);
      assert.equal(c.received().length, 0);
    } finally {
      await closeAll([c, proxy, hold]);
    }
  });

  it('timeout tunnel supersedes timeout client/server once the session is established', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout client 200ms
  timeout server 200ms
  timeout tunnel 1200ms
  server s 127.0.0.1:${echo.port}
`, [fp!]);
      c = await openClient(fp!);
      c.sock.write('one');
      await c.waitText('one');
      await sleep(600); // 3x the client/server timeouts
      assert.equal(c.isClosed(), false, 'tunnel timeout must supersede client/server timeouts');
      c.sock.write('two');
      await c.waitText('two');
      const t0 = Date.now();
      await c.waitEnd(4000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 900 && dt < 2500, `closed after ${dt}ms of inactivity, expected ~1200ms`);
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });
  it('timeout connect 300ms (server that never completes the handshake), retries 0: the client is closed after ~300ms', { ...T, skip: HAS_PYTHON ? false : 'python3 not available' }, async () => {
    const hole = await startBlackholeListener();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout connect 300ms
  retries 0
  server s 127.0.0.1:${hole!.port}
`, [fp!]);
      await sleep(100);
      const t0 = Date.now();
      c = await openClient(fp!);
      c.sock.write('x');
      await c.waitEnd(4000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 1500, `closed after ${dt}ms, expected ~300ms`);
      assert.equal(c.received().length, 0);
    } finally {
      await closeAll([c, proxy]);
      hole?.close();
    }
  });

  it('timeout connect with retries 2: three connection attempts back to back before giving up', { ...T, skip: HAS_PYTHON ? false : 'python3 not available' }, async () => {
    const hole = await startBlackholeListener();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout connect 250ms
  retries 2
  server s 127.0.0.1:${hole!.port}
`, [fp!]);
      await sleep(100);
      const t0 = Date.now();
      c = await openClient(fp!);
      c.sock.write('x');
      await c.waitEnd(5000);
      const dt = Date.now() - t0;
      // HAProxy 2.6 measures ~760ms: no turn-around delay after a connect *timeout*
      assert.ok(dt >= 700 && dt < 1150, `closed after ${dt}ms, expected 3 x 250ms without turn-around delays`);
    } finally {
      await closeAll([c, proxy]);
      hole?.close();
    }
  });

  it('without timeout queue, timeout connect bounds the time spent in the queue', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen q
  bind 127.0.0.1:${fp}
  timeout connect 300ms
  server s 127.0.0.1:${srv.port} maxconn 1
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const t0 = Date.now();
      const b = await openClient(fp!); clients.push(b);
      b.sock.write('B');
      await b.waitEnd(3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 250 && dt < 1500, `queued client closed after ${dt}ms, expected ~300ms`);
      assert.deepEqual(srv.order, ['A']);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });
  it('connection refused with retries 2: a turn-around delay of min(1s, timeout connect) between attempts', T, async () => {
    const [fp, dead] = await freePorts(2);
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxyWithConfig(`${base()}
listen l
  bind 127.0.0.1:${fp}
  timeout connect 250ms
  retries 2
  server s 127.0.0.1:${dead}
`, [fp!]);
      await sleep(100);
      const t0 = Date.now();
      c = await openClient(fp!);
      c.sock.write('x');
      await c.waitEnd(5000);
      const dt = Date.now() - t0;
      // HAProxy 2.6 measures ~510ms: two 250ms turn-around delays
      assert.ok(dt >= 450 && dt < 1100, `closed after ${dt}ms, expected ~500ms`);
    } finally {
      await closeAll([c, proxy]);
    }
  });
  it('a queued client that closes its side stays queued without abortonclose (its data is still forwarded)', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen q
  bind 127.0.0.1:${fp}
  timeout queue 5s
  server s 127.0.0.1:${srv.port} maxconn 1
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const b = await openClient(fp!); clients.push(b);
      b.sock.end('B'); // a FIN: might be a half-close, HAProxy keeps the request
      await sleep(150);
      a.sock.end();
      await waitFor(() => srv.order.includes('B'), 3000, 'B to reach the server');
      assert.deepEqual(srv.order, ['A', 'B']);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });

  it('option abortonclose: a queued client that closes is dropped and the next one is served', T, async () => {
    const srv = await startTrackServer();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    const clients: Client[] = [];
    try {
      proxy = await startProxyWithConfig(`${base()}
listen q
  bind 127.0.0.1:${fp}
  timeout queue 5s
  option abortonclose
  server s 127.0.0.1:${srv.port} maxconn 1
`, [fp!]);
      const a = await openClient(fp!); clients.push(a);
      a.sock.write('A');
      await a.waitText('A:ok');
      const b = await openClient(fp!); clients.push(b);
      b.sock.write('B');
      await sleep(100);
      const c = await openClient(fp!); clients.push(c);
      c.sock.write('C');
      await sleep(100);
      b.sock.end();
      await b.waitEnd(3000); // aborted right away
      a.sock.end();
      await c.waitText('C:ok');
      assert.deepEqual(srv.order, ['A', 'C']);
      assert.equal(srv.maxActive, 1);
    } finally {
      await closeAll([...clients, proxy, srv]);
    }
  });
});
