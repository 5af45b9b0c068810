// PROXY protocol end to end: `bind ... accept-proxy` on the way in, `send-proxy` / `send-proxy-v2`
// on the way out, and rejection of invalid headers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  freePorts, openClient, startProxyWithConfig, closeAll, waitFor, sleep, type Proc, type Client,
} from '../helpers/harness.js';
import { parseProxyHeader, buildProxyV2, PP_V2_SIGNATURE } from '../../src/net/proxy-protocol.js';

const T = { timeout: 15_000 };

/** A server recording everything each connection sends; it replies "ok\n" once it has `want` bytes. */
interface CaptureServer {
  port: number;
  conns: { data: Buffer; remotePort: number }[];
  close(): Promise<void>;
}

async function startCaptureServer(): Promise<CaptureServer> {
  const socks = new Set<net.Socket>();
  const cs: CaptureServer = {
    port: 0, conns: [],
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    const rec = { data: Buffer.alloc(0), remotePort: s.remotePort ?? 0 };
    cs.conns.push(rec);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => { rec.data = Buffer.concat([rec.data, d]); });
    s.on('end', () => s.end('ok\n'));
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cs.port = (srv.address() as net.AddressInfo).port;
  return cs;
}

describe('PROXY protocol', () => {
  let cap: CaptureServer;
  let proxy: Proc | undefined;
  // listeners: plain accept-proxy → plain server; accept-proxy → send-proxy; accept-proxy → send-proxy-v2;
  // no accept-proxy → send-proxy; no accept-proxy → send-proxy-v2
  let pAccept = 0, pAcceptV1 = 0, pAcceptV2 = 0, pPlainV1 = 0, pPlainV2 = 0;

  before(async () => {
    cap = await startCaptureServer();
    [pAccept, pAcceptV1, pAcceptV2, pPlainV1, pPlainV2] = await freePorts(5) as [number, number, number, number, number];
    proxy = await startProxyWithConfig(`
defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s

listen accept_plain
  bind 127.0.0.1:${pAccept} accept-proxy
  server s 127.0.0.1:${cap.port}

listen accept_v1
  bind 127.0.0.1:${pAcceptV1} accept-proxy
  server s 127.0.0.1:${cap.port} send-proxy

listen accept_v2
  bind 127.0.0.1:${pAcceptV2} accept-proxy
  server s 127.0.0.1:${cap.port} send-proxy-v2

listen plain_v1
  bind 127.0.0.1:${pPlainV1}
  server s 127.0.0.1:${cap.port} send-proxy

listen plain_v2
  bind 127.0.0.1:${pPlainV2}
  server s 127.0.0.1:${cap.port} send-proxy-v2
`, [pAccept, pAcceptV1, pAcceptV2, pPlainV1, pPlainV2]);
    // let the readiness probes' server connections finish, then forget them
    await sleep(150);
  });

  after(async () => {
    await closeAll([proxy, cap]);
  });

  /** Sends `chunks` (with small pauses between them), half-closes, waits for "ok\n"; returns what the server got. */
  async function exchange(port: number, chunks: Buffer[]): Promise<{ client: Client; got: Buffer }> {
    const before = cap.conns.length;
    const c = await openClient(port);
    try {
      for (let i = 0; i < chunks.length; i++) {
        if (i > 0) await sleep(30);
        c.sock.write(chunks[i]!);
      }
      c.sock.end();
      await c.waitText('ok\n', 4000);
      await c.waitClosed(4000);
      const mine = cap.conns.slice(before).filter((x) => x.data.length > 0);
      assert.equal(mine.length, 1, `exactly one server connection with data (got ${mine.length})`);
      return { client: c, got: mine[0]!.data };
    } finally {
      c.sock.destroy();
    }
  }

  it('accept-proxy with a valid v1 header: the forwarded data excludes the header', T, async () => {
    const { got } = await exchange(pAccept, [Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.20 45678 8080\r\nhello world')]);
    assert.equal(got.toString(), 'hello world');
  });

  // HAProxy 2.6 resets such a connection; proxy-protocol.txt recommends tolerating partial headers,
  // which haproxy-ts does
  it('accept-proxy: a header split over several segments is reassembled', T, async () => {
    const { got } = await exchange(pAccept, [Buffer.from('PROXY TCP4 192.0'), Buffer.from('.2.10 198.51.100.20 45678 8080\r'), Buffer.from('\npayload')]);
    assert.equal(got.toString(), 'payload');
  });

  it('accept-proxy + send-proxy: the server receives the addresses from the received header', T, async () => {
    const { got } = await exchange(pAcceptV1, [Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.20 45678 8080\r\ndata')]);
    assert.equal(got.toString(), 'PROXY TCP4 192.0.2.10 198.51.100.20 45678 8080\r\ndata');
  });

  it('accept-proxy (v1 TCP6) + send-proxy: the server receives TCP6 addresses', T, async () => {
    const { got } = await exchange(pAcceptV1, [Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1000 2000\r\nsix')]);
    assert.equal(got.toString(), 'PROXY TCP6 2001:db8::1 2001:db8::2 1000 2000\r\nsix');
  });

  it('accept-proxy (v2 header in) + send-proxy (v1 out): addresses are translated', T, async () => {
    const hdr = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '203.0.113.7', dstAddr: '203.0.113.8', srcPort: 1111, dstPort: 2222 });
    const { got } = await exchange(pAcceptV1, [Buffer.concat([hdr, Buffer.from('v2in')])]);
    assert.equal(got.toString(), 'PROXY TCP4 203.0.113.7 203.0.113.8 1111 2222\r\nv2in');
  });

  it('accept-proxy + send-proxy-v2: the server receives the v2 signature and the right addresses', T, async () => {
    const { got } = await exchange(pAcceptV2, [Buffer.from('PROXY TCP4 192.0.2.10 198.51.100.20 45678 8080\r\nbinary')]);
    assert.ok(got.subarray(0, 12).equals(PP_V2_SIGNATURE), 'v2 signature');
    const r = parseProxyHeader(got);
    assert.equal(r.status, 'ok', JSON.stringify(r));
    if (r.status !== 'ok') return;
    assert.equal(r.info.version, 2);
    assert.equal(r.info.command, 'PROXY');
    assert.equal(r.info.family, 'TCP4');
    assert.equal(r.info.srcAddr, '192.0.2.10');
    assert.equal(r.info.dstAddr, '198.51.100.20');
    assert.equal(r.info.srcPort, 45678);
    assert.equal(r.info.dstPort, 8080);
    assert.equal(got.subarray(r.length).toString(), 'binary');
  });

  it('send-proxy without accept-proxy carries the real client and listener addresses', T, async () => {
    const before = cap.conns.length;
    const c = await openClient(pPlainV1);
    try {
      const clientPort = c.sock.localPort!;
      c.sock.end('x');
      await c.waitText('ok\n');
      const got = cap.conns.slice(before).find((x) => x.data.length > 0)!.data;
      assert.equal(got.toString(), `PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${pPlainV1}\r\nx`);
    } finally {
      c.sock.destroy();
    }
  });

  it('send-proxy-v2 without accept-proxy carries the real client and listener addresses', T, async () => {
    const before = cap.conns.length;
    const c = await openClient(pPlainV2);
    try {
      const clientPort = c.sock.localPort!;
      c.sock.end('y');
      await c.waitText('ok\n');
      const got = cap.conns.slice(before).find((x) => x.data.length > 0)!.data;
      const r = parseProxyHeader(got);
      assert.equal(r.status, 'ok');
      if (r.status !== 'ok') return;
      assert.deepEqual(
        { cmd: r.info.command, fam: r.info.family, src: r.info.srcAddr, dst: r.info.dstAddr, sp: r.info.srcPort, dp: r.info.dstPort },
        { cmd: 'PROXY', fam: 'TCP4', src: '127.0.0.1', dst: '127.0.0.1', sp: clientPort, dp: pPlainV2 },
      );
      assert.equal(got.subarray(r.length).toString(), 'y');
    } finally {
      c.sock.destroy();
    }
  });

  it('a received v2 LOCAL header keeps the real addresses: send-proxy-v2 emits PROXY with them (as HAProxy does)', T, async () => {
    const before = cap.conns.length;
    const c = await openClient(pAcceptV2);
    try {
      const clientPort = c.sock.localPort!;
      c.sock.end(Buffer.concat([buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }), Buffer.from('local')]));
      await c.waitText('ok\n');
      const got = cap.conns.slice(before).find((x) => x.data.length > 0)!.data;
      const r = parseProxyHeader(got);
      assert.equal(r.status, 'ok');
      if (r.status !== 'ok') return;
      assert.deepEqual(
        { cmd: r.info.command, fam: r.info.family, src: r.info.srcAddr, dst: r.info.dstAddr, sp: r.info.srcPort, dp: r.info.dstPort },
        { cmd: 'PROXY', fam: 'TCP4', src: '127.0.0.1', dst: '127.0.0.1', sp: clientPort, dp: pAcceptV2 },
      );
      assert.equal(got.subarray(r.length).toString(), 'local');
    } finally {
      c.sock.destroy();
    }
  });

  it('a received v1 UNKNOWN header keeps the real addresses for send-proxy', T, async () => {
    const before = cap.conns.length;
    const c = await openClient(pAcceptV1);
    try {
      const clientPort = c.sock.localPort!;
      c.sock.end('PROXY UNKNOWN\r\nunk');
      await c.waitText('ok\n');
      const got = cap.conns.slice(before).find((x) => x.data.length > 0)!.data;
      assert.equal(got.toString(), `PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${pAcceptV1}\r\nunk`);
    } finally {
      c.sock.destroy();
    }
  });

  // every one of these is also rejected by HAProxy 2.6 (which resets the connection)
  const badV2 = Buffer.concat([PP_V2_SIGNATURE, Buffer.from([0x31, 0x11, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]), Buffer.from('zz')]);
  for (const [label, bad] of [
    ['plain data', 'GET / HTTP/1.0\r\n\r\n'],
    ['unknown v1 protocol', 'PROXY TCP5 192.0.2.1 192.0.2.2 1 2\r\nzzz'],
    ['v1 line ending in LF only', 'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\nzzz'],
    ['v1 line missing fields', 'PROXY TCP4 192.0.2.1\r\nzzz'],
    ['v1 line without CRLF over 107 bytes', `PROXY TCP4 ${'1'.repeat(120)}`],
    ['v2 signature with version 3', badV2],
  ] as const) {
    it(`invalid header (${label}): the connection is closed and no server connection is made`, T, async () => {
      const before = cap.conns.length;
      const c = await openClient(pAccept);
      try {
        c.sock.write(bad);
        await c.waitEnd(3000);
        assert.equal(c.received().length, 0);
        await sleep(100);
        assert.equal(cap.conns.length, before, 'no backend connection');
      } finally {
        c.sock.destroy();
      }
    });
  }

  it('the client closing before a complete header: no server connection', T, async () => {
    const before = cap.conns.length;
    const c = await openClient(pAccept);
    try {
      c.sock.end('PROXY TCP4 192.0');
      await waitFor(() => c.gotEnd() || c.isClosed(), 3000, 'proxy to close');
      await sleep(100);
      assert.equal(cap.conns.length, before, 'no backend connection');
    } finally {
      c.sock.destroy();
    }
  });
});
