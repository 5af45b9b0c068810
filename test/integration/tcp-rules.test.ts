// The rules in TCP mode, on the real binary over loopback: tcp-request connection / session /
// content rules with inspect-delay, content switching (use_backend, use-server) on payload
// contents and variables, tcp-response content rules on server data, expect-proxy layer4; SNI
// routing of real TLS ClientHellos, also run through HAProxy 2.6 for the same routing. The
// counters of denied connections/sessions/requests/responses are checked on an in-process
// runtime. Every wait is bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import { Duplex } from 'node:stream';
import {
  BIN, haproxyPath, freePorts, tempDir, writeConfig, startProxy, startTestServer, openClient, startProxyWithConfig,
  closeAll, waitFor, sleep, type TestServer, type Proc,
} from '../helpers/harness.js';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';

const T = { timeout: 20_000 };

const DEFAULTS = `
defaults
  mode tcp
  timeout connect 1s
  timeout client 10s
  timeout server 10s
`;

/** A backend that records what each connection sends and closes it once `done(bytes)` holds. */
interface Recorder { port: number; conns: Buffer[]; close(): Promise<void> }
async function startRecorder(done: (b: Buffer) => boolean): Promise<Recorder> {
  const socks = new Set<net.Socket>();
  const rec: Recorder = {
    port: 0, conns: [],
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
  const srv = net.createServer((s) => {
    socks.add(s);
    const i = rec.conns.length;
    rec.conns.push(Buffer.alloc(0));
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
    s.on('data', (d: Buffer) => {
      rec.conns[i] = Buffer.concat([rec.conns[i]!, d]);
      if (done(rec.conns[i]!)) s.destroy();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  rec.port = (srv.address() as net.AddressInfo).port;
  return rec;
}

/** A complete TLS record is there (5-byte header + its length). */
const tlsRecordDone = (b: Buffer): boolean => b.length >= 5 && b.length >= 5 + b.readUInt16BE(3);

/**
 * Opens a TLS connection with `servername` to the port and returns the bytes the TLS client wrote
 * (its ClientHello), once the connection is closed by the other side.
 */
async function clientHello(port: number, servername: string): Promise<Buffer> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const sent: Buffer[] = [];
  let closed = false;
  sock.on('close', () => { closed = true; });
  const tap = new Duplex({
    write(chunk: Buffer, _enc, cb) { sent.push(Buffer.from(chunk)); sock.write(chunk, () => cb()); },
    read() {},
    final(cb) { sock.end(); cb(); },
    destroy(err, cb) { sock.destroy(); cb(err); },
  });
  sock.on('data', (d) => tap.push(d));
  sock.on('end', () => tap.push(null));
  const t = tls.connect({ socket: tap, servername, rejectUnauthorized: false });
  t.on('error', () => {});
  try {
    await waitFor(() => closed, 8000, 'the proxy to close the TLS connection');
  } finally {
    t.destroy();
    sock.destroy();
  }
  return Buffer.concat(sent);
}

/**
 * A listener declared last, only for the start-up probe: once it accepts, every listener does,
 * and the probe's connection reaches no test backend.
 */
function readyListener(port: number): string {
  return `
listen ready
  bind 127.0.0.1:${port}
  tcp-request connection reject
  server none 127.0.0.1:1
`;
}

function sniConfig(fp: number, b0: number, b1: number, b2: number): string {
  return `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  use_backend b1 if { req.ssl_sni -i a.example }
  use_backend b2 if { req.ssl_sni -i b.example }
  default_backend b0
backend b0
  server s 127.0.0.1:${b0}
backend b1
  server s 127.0.0.1:${b1}
backend b2
  server s 127.0.0.1:${b2}
`;
}

/** SNI routing through one implementation: which backend got each hello, byte for byte. */
async function sniRouting(bin: string): Promise<void> {
  const recs = [await startRecorder(tlsRecordDone), await startRecorder(tlsRecordDone), await startRecorder(tlsRecordDone)];
  const [fp, ready] = await freePorts(2);
  const dir = tempDir('hts-sni-');
  const cfg = writeConfig(dir, sniConfig(fp!, recs[0]!.port, recs[1]!.port, recs[2]!.port) + readyListener(ready!));
  let proc: Proc | undefined;
  try {
    proc = await startProxy(bin, ['-db', '-f', cfg], [ready!]);
    const a = await clientHello(fp!, 'a.example');
    await waitFor(() => recs[1]!.conns.length === 1 && tlsRecordDone(recs[1]!.conns[0]!), 3000, 'b1 to get the hello');
    assert.equal(recs[0]!.conns.length, 0);
    assert.equal(recs[2]!.conns.length, 0);
    assert.ok(a.length > 40 && a[0] === 0x16, 'a TLS handshake record');
    assert.deepEqual(recs[1]!.conns[0], a);
    assert.ok(a.includes(Buffer.from('a.example')));

    const b = await clientHello(fp!, 'B.EXAMPLE');
    await waitFor(() => recs[2]!.conns.length === 1 && tlsRecordDone(recs[2]!.conns[0]!), 3000, 'b2 to get the hello');
    assert.deepEqual(recs[2]!.conns[0], b);
    assert.equal(recs[1]!.conns.length, 1);

    const c = await clientHello(fp!, 'c.example');
    await waitFor(() => recs[0]!.conns.length === 1 && tlsRecordDone(recs[0]!.conns[0]!), 3000, 'b0 to get the hello');
    assert.deepEqual(recs[0]!.conns[0], c);
  } finally {
    await proc?.stop('SIGTERM', 2000);
    await closeAll(recs);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts haproxy-ts with `cfg(fp)` and the test servers; always cleans up. */
async function withProxy(cfg: (fp: number) => string, fn: (fp: number) => Promise<void>, cleanup: Array<{ close(): Promise<void> }>): Promise<void> {
  const [fp, ready] = await freePorts(2);
  let proxy: Proc | undefined;
  try {
    proxy = await startProxyWithConfig(cfg(fp!) + readyListener(ready!), [ready!]);
    await fn(fp!);
  } finally {
    await closeAll([proxy, ...cleanup]);
  }
}

describe('tcp rules: content inspection and switching', () => {
  it('routes real TLS ClientHellos on the SNI (req.ssl_sni), bytes forwarded unchanged', T, async () => {
    await sniRouting(BIN);
  });

  it('a payload rule waits for the rest of the data (MISS, then PASS 200 ms later)', T, async () => {
    const b1 = await startTestServer('b1');
    const b2 = await startTestServer('b2');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 3s
  tcp-request content accept if { req.payload(0,8) -m str ABCDEFGH }
  tcp-request content reject if { req.len ge 8 }
  use_backend b2 if { req.payload(0,8) -m str ABCDEFGH }
  default_backend b1
backend b1
  server s 127.0.0.1:${b1.port}
backend b2
  server s 127.0.0.1:${b2.port}
`, async (fp) => {
      const c = await openClient(fp);
      const t0 = Date.now();
      c.sock.write('ABCD');
      await sleep(200);
      assert.equal(b1.accepted + b2.accepted, 0, 'no server while the rule waits');
      c.sock.write('EFGH');
      await c.waitText('b2\n');
      assert.ok(Date.now() - t0 >= 190);
      assert.equal(b2.firstBytes[0]!.toString(), 'ABCDEFGH');
      assert.equal(b1.accepted, 0);
      c.sock.destroy();

      // the same in two parts, but not matching: the second rule rejects once 8 bytes are there
      const d = await openClient(fp);
      d.sock.write('ABCD');
      await sleep(200);
      d.sock.write('XXXX');
      await d.waitEnd(3000);
      assert.equal(d.received().length, 0);
      assert.equal(b1.accepted + b2.accepted, 1);
    }, [b1, b2]);
  });

  it('when the inspect delay expires the rules run once more on final contents', T, async () => {
    const b1 = await startTestServer('b1');
    const b2 = await startTestServer('b2');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 500ms
  tcp-request content accept if { req.len ge 100 }
  tcp-request content reject if { req.payload(0,4) -m str KILL }
  use_backend b2 if { req.len eq 4 }
  default_backend b1
backend b1
  server s 127.0.0.1:${b1.port}
backend b2
  server s 127.0.0.1:${b2.port}
`, async (fp) => {
      const c = await openClient(fp);
      const t0 = Date.now();
      c.sock.write('abcd');
      await c.waitText('b2\n', 3000);
      const dt = Date.now() - t0;
      assert.ok(dt >= 450 && dt < 2000, `routed after the delay (${dt} ms)`);
      assert.equal(b2.firstBytes[0]!.toString(), 'abcd');
      c.sock.destroy();
      // the reject rule is only reached once the first rule cannot match anymore
      const d = await openClient(fp);
      const t1 = Date.now();
      d.sock.write('KILL');
      await d.waitEnd(3000);
      assert.ok(Date.now() - t1 >= 450);
      assert.equal(b1.accepted + b2.accepted, 1);
      // a client shutting its side makes the contents final at once
      const e = await openClient(fp);
      const t2 = Date.now();
      e.sock.end('abcd');
      await e.waitText('b2\n', 3000);
      assert.ok(Date.now() - t2 < 400, 'no wait once the client shut');
    }, [b1, b2]);
  });

  it('without inspect-delay the rules decide at once on what is there', T, async () => {
    const b1 = await startTestServer('b1');
    await withProxy((fp) => `${DEFAULTS}
listen li
  bind 127.0.0.1:${fp}
  tcp-request content reject if { req.len gt 0 }
  server s 127.0.0.1:${b1.port}
`, async (fp) => {
      const c = await openClient(fp);
      await sleep(100);
      // nothing was there when the rules ran: the connection goes through
      c.sock.write('late');
      await c.waitText('b1\n');
      c.sock.destroy();
    }, [b1]);
  });

  it('tcp-request content reject closes the connection, the server never sees it', T, async () => {
    const b1 = await startTestServer('b1');
    await withProxy((fp) => `${DEFAULTS}
listen li
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 2s
  tcp-request content reject if { req.payload(0,3) -m str BAD }
  tcp-request content accept if { req.len ge 3 }
  server s 127.0.0.1:${b1.port}
`, async (fp) => {
      const c = await openClient(fp);
      c.sock.write('BADSTUFF');
      await c.waitEnd(2000);
      assert.equal(c.received().length, 0);
      assert.equal(b1.accepted, 0);
      const d = await openClient(fp);
      d.sock.write('GOOD');
      await d.waitText('b1\n');
      assert.equal(b1.firstBytes[0]!.toString(), 'GOOD');
      d.sock.destroy();
    }, [b1]);
  });

  it('silent-drop: the connection disappears, the server never sees it', T, async () => {
    const b1 = await startTestServer('b1');
    await withProxy((fp) => `${DEFAULTS}
listen li
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 2s
  tcp-request content silent-drop if { req.payload(0,4) -m str DROP }
  tcp-request content accept if { req.len ge 4 }
  server s 127.0.0.1:${b1.port}
`, async (fp) => {
      const c = await openClient(fp);
      let err: string | undefined;
      c.sock.on('error', (e: NodeJS.ErrnoException) => { err = e.code; });
      c.sock.write('DROPME');
      await c.waitClosed(2000);
      assert.equal(c.received().length, 0);
      assert.equal(c.gotEnd(), false, 'no FIN: a reset (or nothing)');
      assert.ok(err === undefined || err === 'ECONNRESET', String(err));
      assert.equal(b1.accepted, 0);
    }, [b1]);
  });

  it('set-var then use_backend on the variable (condition and formatted name)', T, async () => {
    const b1 = await startTestServer('b1');
    const b2 = await startTestServer('b2');
    const b3 = await startTestServer('b3');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 2s
  tcp-request content set-var(txn.tag) req.payload(0,3) if { req.len ge 3 }
  tcp-request content set-var(sess.target) str(b3) if { var(txn.tag) -m str go3 }
  use_backend b2 if { var(txn.tag) -m str go2 }
  use_backend %[var(sess.target)] if { var(sess.target) -m found }
  default_backend b1
backend b1
  server s 127.0.0.1:${b1.port}
backend b2
  server s 127.0.0.1:${b2.port}
backend b3
  server s 127.0.0.1:${b3.port}
`, async (fp) => {
      for (const [send, want] of [['go2!', 'b2'], ['go3!', 'b3'], ['go1!', 'b1']] as const) {
        const c = await openClient(fp);
        c.sock.write(send);
        await c.waitText(`${want}\n`);
        c.sock.destroy();
      }
      assert.deepEqual([b1.accepted, b2.accepted, b3.accepted], [1, 1, 1]);
    }, [b1, b2, b3]);
  });

  it('the backend\'s tcp-request content rules and use-server run after switching', T, async () => {
    const s1 = await startTestServer('s1');
    const s2 = await startTestServer('s2');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  default_backend be
backend be
  tcp-request inspect-delay 2s
  tcp-request content reject if { req.payload(0,4) -m str NOPE }
  tcp-request content accept if { req.len ge 4 }
  use-server s2 if { req.payload(0,4) -m str toS2 }
  balance roundrobin
  server s1 127.0.0.1:${s1.port}
  server s2 127.0.0.1:${s2.port}
`, async (fp) => {
      for (let i = 0; i < 3; i++) {
        const c = await openClient(fp);
        c.sock.write('toS2');
        await c.waitText('s2\n');
        c.sock.destroy();
      }
      const d = await openClient(fp);
      d.sock.write('NOPE');
      await d.waitEnd(2000);
      assert.equal(s1.accepted, 0);
      assert.equal(s2.accepted, 3);
    }, [s1, s2]);
  });
});

/** A backend server sending `banner` as soon as a connection comes in, then echoing. */
async function bannerServer(banner: string): Promise<{ port: number; accepted: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const st = { port: 0, accepted: 0, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
  const srv = net.createServer((s) => {
    st.accepted++;
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
    s.write(banner);
    s.on('data', (d) => s.write(d));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  st.port = (srv.address() as net.AddressInfo).port;
  return st;
}

describe('tcp rules: response inspection', () => {
  it('tcp-response content reject on a server banner closes both sides', T, async () => {
    const evil = await bannerServer('EVIL server here\r\n');
    const good = await bannerServer('220 welcome\r\n');
    const cfg = (fp: number, port: number) => `${DEFAULTS}
listen li
  bind 127.0.0.1:${fp}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload(0,4) -m str EVIL }
  tcp-response content accept if { res.len ge 4 }
  server s 127.0.0.1:${port}
`;
    await withProxy((fp) => cfg(fp, evil.port), async (fp) => {
      const c = await openClient(fp);
      await c.waitEnd(3000);
      assert.equal(c.received().length, 0);
      assert.equal(evil.accepted, 1);
    }, [evil]);
    await withProxy((fp) => cfg(fp, good.port), async (fp) => {
      const c = await openClient(fp);
      await c.waitText('220 welcome\r\n');
      c.sock.write('ping');
      await c.waitText('ping');
      assert.equal(c.text(), '220 welcome\r\nping');
      c.sock.destroy();
    }, [good]);
  });

  it('tcp-response content waits for the banner\'s end and close forwards what came', T, async () => {
    // the banner comes in two parts; the close rule needs both
    const socks = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      socks.add(s);
      s.on('error', () => {});
      s.write('BY');
      setTimeout(() => s.write('E now\r\n'), 200);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const close = { close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
    await withProxy((fp) => `${DEFAULTS}
listen li
  bind 127.0.0.1:${fp}
  tcp-response inspect-delay 2s
  tcp-response content close if { res.payload(0,3) -m str BYE }
  server s 127.0.0.1:${port}
`, async (fp) => {
      const c = await openClient(fp);
      await c.waitEnd(3000);
      assert.equal(c.text(), 'BYE now\r\n');
    }, [close]);
  });
});

describe('tcp rules: connection and session rules', () => {
  it('tcp-request connection reject by source closes at once', T, async () => {
    const b1 = await startTestServer('b1');
    const [fp2] = await freePorts(1);
    await withProxy((fp) => `${DEFAULTS}
listen closed
  bind 127.0.0.1:${fp}
  tcp-request connection reject if { src 127.0.0.1 }
  server s 127.0.0.1:${b1.port}
listen open
  bind 127.0.0.1:${fp2}
  tcp-request connection reject if { src 10.0.0.0/8 }
  server s 127.0.0.1:${b1.port}
`, async (fp) => {
      const c = await openClient(fp);
      c.sock.write('hello');
      await c.waitEnd(2000);
      assert.equal(c.received().length, 0);
      assert.equal(b1.accepted, 0);
      const d = await openClient(fp2!);
      d.sock.write('hello');
      await d.waitText('b1\n');
      d.sock.destroy();
    }, [b1]);
  });

  it('expect-proxy layer4: a PROXY header is required from matching sources', T, async () => {
    const b1 = await startTestServer('b1');
    const b2 = await startTestServer('b2');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  tcp-request connection expect-proxy layer4 if { src 127.0.0.0/8 }
  tcp-request session reject if { src 9.9.9.9 }
  use_backend b2 if { src 1.2.3.4 }
  default_backend b1
backend b1
  server s 127.0.0.1:${b1.port}
backend b2
  server s 127.0.0.1:${b2.port}
`, async (fp) => {
      const c = await openClient(fp);
      c.sock.write('PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\npayload');
      await c.waitText('b2\n');
      assert.equal(b2.firstBytes[0]!.toString(), 'payload');
      c.sock.destroy();
      // without the header: an invalid PROXY header, closed
      const d = await openClient(fp);
      d.sock.write('GET / HTTP/1.0\r\n\r\n');
      await d.waitEnd(2000);
      assert.equal(d.received().length, 0);
      // session rules run on the addresses from the header
      const e = await openClient(fp);
      e.sock.write('PROXY TCP4 9.9.9.9 5.6.7.8 1111 2222\r\nxx');
      await e.waitEnd(2000);
      assert.equal(e.received().length, 0);
      assert.equal(b1.accepted + b2.accepted, 1);
    }, [b1, b2]);
  });
});

describe('tcp rules: connection and session rules in HTTP mode', () => {
  it('connection reject, expect-proxy layer4 and session rules on an HTTP frontend', T, async () => {
    const web = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const wp = (web.address() as net.AddressInfo).port;
    const [fp2] = await freePorts(1);
    const stop = { close: () => new Promise<void>((r) => web.close(() => r())) };
    await withProxy((fp) => `${DEFAULTS}
listen rej
  mode http
  bind 127.0.0.1:${fp}
  tcp-request connection reject if { src 127.0.0.1 }
  server s 127.0.0.1:${wp}
listen pp
  mode http
  bind 127.0.0.1:${fp2}
  tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }
  tcp-request session reject if { src 9.9.9.9 }
  server s 127.0.0.1:${wp}
`, async (fp) => {
      const c = await openClient(fp);
      c.sock.on('error', () => {});
      c.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitEnd(2000);
      assert.equal(c.received().length, 0);
      const d = await openClient(fp2!);
      d.sock.write('PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await d.waitText('ok');
      assert.match(d.text(), /^HTTP\/1\.1 200/);
      d.sock.destroy();
      const e = await openClient(fp2!);
      e.sock.on('error', () => {});
      e.sock.write('PROXY TCP4 9.9.9.9 5.6.7.8 1111 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await e.waitEnd(2000);
      assert.equal(e.received().length, 0);
    }, [stop]);
  });
});

describe('tcp rules: counters (in-process runtime)', () => {
  it('dcon, dses, dreq and dresp count on the frontend, listener and backend', T, async () => {
    const b1 = await startTestServer('b1');
    const evil = await bannerServer('EVIL\r\n');
    const [p1, p2, p3, p4, p5] = await freePorts(5);
    const r = parseConfigText(`${DEFAULTS}
listen conn
  bind 127.0.0.1:${p1}
  tcp-request connection reject if { src 127.0.0.1 }
  server s 127.0.0.1:${b1.port}
listen sess
  bind 127.0.0.1:${p2}
  tcp-request session reject if { src 127.0.0.1 }
  server s 127.0.0.1:${b1.port}
listen cont
  bind 127.0.0.1:${p3}
  tcp-request inspect-delay 2s
  tcp-request content reject if { req.payload(0,3) -m str BAD }
  server s 127.0.0.1:${b1.port}
listen drop
  bind 127.0.0.1:${p4}
  tcp-request content silent-drop
  server s 127.0.0.1:${b1.port}
listen resp
  bind 127.0.0.1:${p5}
  tcp-response inspect-delay 2s
  tcp-response content reject if { res.payload(0,4) -m str EVIL }
  server s 127.0.0.1:${evil.port}
`);
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    const rt = new Runtime(r.config, { maxconnOverride: 100 });
    rt.onExit = () => {};
    await rt.bindAll();
    try {
      const px = (n: string) => rt.findProxy(n)!;
      const li = (n: string) => rt.listeners.find((l) => l.proxy.name === n)!;
      // connects, sends, and waits until the proxy ends the connection (a reset may even come
      // before the connect event)
      const closedClient = (port: number, data?: string) => new Promise<void>((resolve, reject) => {
        const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
        const t = setTimeout(() => { c.destroy(); reject(new Error(`port ${port} not closed`)); }, 3000);
        const done = (): void => { clearTimeout(t); c.destroy(); resolve(); };
        c.on('connect', () => { if (data) c.write(data); });
        c.on('data', () => { clearTimeout(t); c.destroy(); reject(new Error(`port ${port}: data received`)); });
        c.on('end', done);
        c.on('close', done);
        c.on('error', () => {});
      });
      await closedClient(p1!, 'x');
      assert.equal(px('conn').feCounters.deniedConn, 1);
      assert.equal(li('conn').counters.deniedConn, 1);
      await closedClient(p2!, 'x');
      assert.equal(px('sess').feCounters.deniedSess, 1);
      assert.equal(li('sess').counters.deniedSess, 1);
      assert.equal(px('sess').feCounters.deniedConn, 0);
      await closedClient(p3!, 'BAD');
      assert.equal(px('cont').feCounters.deniedReq, 1);
      assert.equal(li('cont').counters.deniedReq, 1);
      await closedClient(p4!, 'x');
      assert.equal(px('drop').feCounters.deniedReq, 1);
      await closedClient(p5!);
      assert.equal(px('resp').counters.deniedResp, 1);
      assert.equal(px('resp').servers[0]!.counters.deniedResp, 1);
      assert.equal(b1.accepted, 0);
      await waitFor(() => rt.streams.size === 0, 2000, 'every stream to end');
    } finally {
      rt.hardStop();
      await closeAll([b1, evil]);
    }
  });
});

const HAPROXY = haproxyPath();
describe('tcp rules: interop with haproxy', () => {
  it('the SNI routing configuration routes the same in haproxy 2.6', { ...T, skip: HAPROXY ? false : 'haproxy not installed' }, async () => {
    await sniRouting(HAPROXY!);
  });
});
