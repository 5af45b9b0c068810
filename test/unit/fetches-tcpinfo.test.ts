// TCP_INFO sample fetches (src/sample/fetches/tcpinfo.ts) and the addon's getTcpInfo
// (native/sockopt.c, src/net/sockopt.ts), on real TCP connections over loopback.
//
// Independent expectations:
// - HAProxy 2.6 with `bind ... defer-accept` and a client waiting before it sends its request
//   (the kernel then measures the RTT from the SYN-ACK to the data segment) answered
//   "rtt=513 rttus=512855" and "var=256 varus=256427": milliseconds are the microseconds
//   rounded to the nearest, half up, i.e. floor((us + 500) / 1000) (truncation would give 512);
// - 2.6 rejects an unknown unit at parse time: "invalid args in fetch method 'fc_rtt' :
//   expects 'us' or 'ms', got 'xx'", and accepts (ignores, with a warning) an argument on the
//   counters: fc_unacked(foo) gave 0 like fc_unacked;
// - 2.6 answered, on loopback, unacked/sacked/retrans/fackets/lost = 0, reordering = the
//   kernel's initial reordering metric (3 or 12 depending on cached metrics).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../src/sample/fetches/tcpinfo.js';
import { SmpCtx, staticConn, type StreamInfo } from '../../src/sample/context.js';
import { parseSampleExpr, ExprError } from '../../src/sample/expr.js';
import { fetchRegistry, dumpFetches } from '../../src/sample/registry.js';
import { sockopt, tcpInfo, tcpInfoRaw, tcpInfoAvailable, TCPI } from '../../src/net/sockopt.js';

const SKIP = tcpInfoAvailable ? false : 'sockopt addon with getTcpInfo unavailable';

function expr(text: string) { return parseSampleExpr(text, { where: 'test:1' }); }
function bad(text: string, re?: RegExp): void {
  assert.throws(() => expr(text), (e: unknown) => e instanceof ExprError && (!re || re.test((e as Error).message)));
}
function ctxWith(stream: Partial<StreamInfo> | undefined): SmpCtx {
  const c = new SmpCtx(staticConn('127.0.0.1', 40000, '127.0.0.1', 8080));
  c.stream = stream === undefined ? undefined : { bytesIn: 0, bytesOut: 0, ...stream };
  return c;
}
function val(text: string, ctx: SmpCtx): unknown {
  const s = expr(text).eval(ctx);
  if (s === undefined) return undefined;
  assert.equal(s.t, 'sint');
  return s.v;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pair { server: net.Server; accepted: net.Socket; client: net.Socket }

/** A loopback connection; with deferMs, the listener uses TCP_DEFER_ACCEPT and the client
 * sends its first byte after deferMs, so the accepted side measures an RTT of about deferMs. */
async function connectPair(deferMs = 0): Promise<Pair> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  if (deferMs > 0) {
    const m = sockopt!;
    m.setIntOpt((server as any)._handle.fd, m.IPPROTO_TCP, m.TCP_DEFER_ACCEPT!, 1);
  }
  const acceptedP = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  if (deferMs > 0) await sleep(deferMs);
  client.write('x');
  const accepted = await acceptedP;
  await new Promise<void>((r) => accepted.once('data', () => r()));
  return { server, accepted, client };
}

/** Echoes some traffic both ways so that both ends have RTT samples. */
async function traffic(p: Pair, bytes = 200_000): Promise<void> {
  p.accepted.on('data', (d) => p.accepted.write(d));
  let got = 0;
  const done = new Promise<void>((r) => {
    const on = (d: Buffer) => { got += d.length; if (got >= bytes) { p.client.off('data', on); r(); } };
    p.client.on('data', on);
  });
  p.client.write(Buffer.alloc(bytes, 0x61));
  await done;
  p.accepted.removeAllListeners('data');
  await sleep(50); // let the last ACKs arrive: the counters are then stable
}

function closePair(p: Pair): Promise<void> {
  p.client.destroy();
  p.accepted.destroy();
  return new Promise((r) => p.server.close(() => r()));
}

describe('getTcpInfo / tcpInfo', { skip: SKIP }, () => {
  let p: Pair;
  before(async () => { p = await connectPair(); await traffic(p); });
  after(() => closePair(p));

  it('reads plausible values after some traffic', () => {
    for (const s of [p.accepted, p.client]) {
      const i = tcpInfo(s)!;
      assert.ok(i, 'tcpInfo returned undefined');
      assert.equal(i.state, 1); // TCP_ESTABLISHED
      assert.ok(i.rtt > 0, `rtt ${i.rtt}`);
      assert.ok(i.rtt < 1_000_000, `rtt ${i.rtt} (loopback)`);
      assert.ok(i.rttvar >= 0);
      for (const k of ['unacked', 'sacked', 'lost', 'retrans', 'fackets', 'reordering', 'retransmits', 'totalRetrans'] as const) {
        assert.ok(Number.isInteger(i[k]) && i[k] >= 0, `${k} = ${i[k]}`);
      }
      assert.ok(i.reordering > 0); // the kernel starts it at 3 (or a cached metric)
      assert.equal(i.unacked, 0);  // all echoed data was acknowledged
    }
  });

  it('raw array follows the TCPI indexes', () => {
    const raw = tcpInfoRaw(p.accepted)!;
    assert.ok(raw instanceof Float64Array);
    assert.equal(raw.length, Object.keys(TCPI).length);
    assert.equal(raw[TCPI.state], 1);
    assert.equal(sockopt!.TCP_INFO, 11); // linux/tcp.h
  });

  it('undefined without a usable descriptor', async () => {
    assert.equal(tcpInfo({}), undefined);
    assert.equal(tcpInfo({ fd: -1 }), undefined);
    assert.equal(tcpInfoRaw({ fd: 0x7ffffff0 }), undefined); // EBADF
    const q = await connectPair();
    q.client.destroy();
    await sleep(10);
    assert.equal(tcpInfo(q.client), undefined);
    await closePair(q);
  });

  it('undefined on a UNIX socket (not TCP)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tcpi-')), 's');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(file, r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const c = net.connect(file);
    await new Promise<void>((r) => c.once('connect', () => r()));
    const a = await accepted;
    assert.equal(tcpInfo(c), undefined);
    assert.equal(tcpInfo(a), undefined);
    c.destroy(); a.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('the addon rejects bad arguments', () => {
    const get = sockopt!.getTcpInfo!;
    assert.throws(() => (get as any)('3'), TypeError);
    assert.throws(() => get(-1), (e: any) => e.code === 'EBADF');
  });
});

describe('fc_* / bc_* TCP_INFO fetches', { skip: SKIP }, () => {
  let p: Pair;
  let slow: Pair;
  before(async () => {
    p = await connectPair();
    await traffic(p);
    slow = await connectPair(520); // RTT ~520 ms on the accepted side
  });
  after(async () => { await closePair(p); await closePair(slow); });

  it('are registered with the catalogue signatures', () => {
    const lines = dumpFetches();
    for (const n of ['fc_rtt', 'fc_rttvar', 'bc_rtt', 'bc_rttvar', 'fc_unacked', 'fc_sacked', 'fc_retrans', 'fc_fackets', 'fc_lost', 'fc_reordering']) {
      assert.ok(fetchRegistry.has(n), n);
      assert.ok(lines.some((l) => l.endsWith(`] ${n}([string]): sint`)), n);
    }
  });

  it('fc_rtt(us) / fc_rttvar(us) are the raw kernel values', () => {
    const ctx = ctxWith({ cliSock: p.accepted });
    const raw = tcpInfoRaw(p.accepted)!;
    assert.equal(val('fc_rtt(us)', ctx), raw[TCPI.rtt]);
    assert.equal(val('fc_rttvar(us)', ctx), raw[TCPI.rttvar]);
    assert.ok((val('fc_rtt(us)', ctx) as number) > 0);
  });

  it('milliseconds are rounded half up (default unit and "ms")', () => {
    const ctx = ctxWith({ cliSock: slow.accepted });
    const us = tcpInfoRaw(slow.accepted)![TCPI.rtt]!;
    const vus = tcpInfoRaw(slow.accepted)![TCPI.rttvar]!;
    assert.ok(us >= 450_000 && us < 3_000_000, `rtt ${us}`);
    // hand formula established with 2.6 (512855 us -> 513 ms)
    const ms = Math.floor((us + 500) / 1000);
    assert.equal(val('fc_rtt', ctx), ms);
    assert.equal(val('fc_rtt(ms)', ctx), ms);
    assert.equal(val('fc_rtt(us)', ctx), us);
    assert.equal(val('fc_rttvar', ctx), Math.floor((vus + 500) / 1000));
    assert.equal(val('fc_rttvar(ms)', ctx), Math.floor((vus + 500) / 1000));
    // the fast connection: tens of microseconds round to 0 ms (2.6: rtt=0 rttus=12)
    const fast = ctxWith({ cliSock: p.accepted });
    assert.equal(val('fc_rtt', fast), Math.floor((tcpInfoRaw(p.accepted)![TCPI.rtt]! + 500) / 1000));
  });

  it('bc_rtt / bc_rttvar read the server socket', () => {
    const ctx = ctxWith({ cliSock: slow.accepted, srvSock: p.client });
    const raw = tcpInfoRaw(p.client)!;
    assert.equal(val('bc_rtt(us)', ctx), raw[TCPI.rtt]);
    assert.equal(val('bc_rttvar(us)', ctx), raw[TCPI.rttvar]);
    assert.equal(val('bc_rtt', ctx), Math.floor((raw[TCPI.rtt]! + 500) / 1000));
    assert.equal(val('bc_rttvar(ms)', ctx), Math.floor((raw[TCPI.rttvar]! + 500) / 1000));
    // and not the client one
    assert.notEqual(val('bc_rtt', ctx), val('fc_rtt', ctx));
  });

  it('counters are the kernel fields (fc_retrans = tcpi_retrans)', () => {
    const ctx = ctxWith({ cliSock: p.accepted });
    const raw = tcpInfoRaw(p.accepted)!;
    assert.equal(val('fc_unacked', ctx), raw[TCPI.unacked]);
    assert.equal(val('fc_sacked', ctx), raw[TCPI.sacked]);
    assert.equal(val('fc_retrans', ctx), raw[TCPI.retrans]);
    assert.equal(val('fc_fackets', ctx), raw[TCPI.fackets]);
    assert.equal(val('fc_lost', ctx), raw[TCPI.lost]);
    assert.equal(val('fc_reordering', ctx), raw[TCPI.reordering]);
    // loopback without losses (2.6: un=0 sa=0 re=0 fa=0 lo=0)
    for (const k of ['fc_unacked', 'fc_sacked', 'fc_retrans', 'fc_fackets', 'fc_lost']) assert.equal(val(k, ctx), 0, k);
    assert.ok((val('fc_reordering', ctx) as number) > 0);
  });

  it('counters accept and ignore an argument', () => {
    const ctx = ctxWith({ cliSock: p.accepted });
    const e = expr('fc_unacked(foo)');
    assert.equal(e.eval(ctx)?.v, val('fc_unacked', ctx));
    assert.equal(val('fc_reordering(us)', ctx), val('fc_reordering', ctx));
  });

  it('fail without the socket', async () => {
    for (const k of ['fc_rtt', 'fc_rttvar(us)', 'fc_unacked', 'fc_sacked', 'fc_retrans', 'fc_fackets', 'fc_lost', 'fc_reordering', 'bc_rtt', 'bc_rttvar']) {
      assert.equal(val(k, ctxWith(undefined)), undefined, `${k} without stream`);
      assert.equal(val(k, ctxWith({})), undefined, `${k} without sockets`);
    }
    // server side not connected yet
    assert.equal(val('bc_rtt', ctxWith({ cliSock: p.accepted })), undefined);
    // closed socket
    const q = await connectPair();
    q.accepted.destroy();
    await sleep(10);
    const ctx = ctxWith({ cliSock: q.accepted, srvSock: q.accepted });
    assert.equal(val('fc_rtt', ctx), undefined);
    assert.equal(val('fc_lost', ctx), undefined);
    assert.equal(val('bc_rtt', ctx), undefined);
    await closePair(q);
  });

  it('rejects bad units at parse time', () => {
    bad('fc_rtt(xx)', /invalid args in fetch method 'fc_rtt' : expects 'us' or 'ms', got 'xx'/);
    bad('fc_rttvar(s)', /expects 'us' or 'ms', got 's'/);
    bad('bc_rtt(MS)', /expects 'us' or 'ms', got 'MS'/); // case-sensitive
    bad('bc_rttvar(ns)', /got 'ns'/);
    bad('fc_rtt(us,ms)');
    bad('fc_lost(a,b)');
  });
});

describe('without the addon', () => {
  it('nothing is registered (HAPROXY_TS_NO_SOCKOPT=1)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url)); // dist/test/unit
    const mod = path.resolve(here, '..', '..', 'src', 'sample', 'fetches', 'tcpinfo.js');
    const reg = path.resolve(here, '..', '..', 'src', 'sample', 'registry.js');
    const code = `import(${JSON.stringify(mod)}).then(() => import(${JSON.stringify(reg)})).then((r) => {
      process.stdout.write(['fc_rtt','fc_lost','bc_rtt'].map((n) => r.fetchRegistry.has(n)).join(','));
    });`;
    const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, HAPROXY_TS_NO_SOCKOPT: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'false,false,false');
  });
});
