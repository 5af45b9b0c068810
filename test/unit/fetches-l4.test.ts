// Sample fetches on internal state and layer 4 (src/sample/fetches/internal.ts, l4.ts).
// Expected values: HAProxy 2.6 outputs where noted ("2.6:"), hand computations otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import '../../src/config/global-keywords.js';
import '../../src/sample/fetches/internal.js';
import '../../src/sample/fetches/l4.js';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';
import { SmpCtx, staticConn, type StreamInfo } from '../../src/sample/context.js';
import { parseSampleExpr, ExprError, pendingRefs } from '../../src/sample/expr.js';
import { fetchRegistry, dumpFetches } from '../../src/sample/registry.js';
import { nextTxnId } from '../../src/sample/fetches/stream-state.js';
import { countFrontendRequest } from '../../src/util/freq-ctr.js';
import { formatIpv4, formatIpv6, type Sample } from '../../src/sample/types.js';

function expr(text: string, proxyName?: string) { return parseSampleExpr(text, { where: 'test:1', proxyName }); }
function ev(text: string, ctx: SmpCtx, proxyName?: string): Sample | undefined { return expr(text, proxyName).eval(ctx); }
function val(text: string, ctx: SmpCtx, proxyName?: string): unknown { return ev(text, ctx, proxyName)?.v; }
function bad(text: string, re?: RegExp): void { assert.throws(() => expr(text), (e: unknown) => e instanceof ExprError && (!re || re.test((e as Error).message))); }
function ctx0(): SmpCtx { return new SmpCtx(staticConn('192.0.2.10', 40000, '127.0.0.1', 8080)); }

const CFG = `
defaults
  mode tcp
  timeout client 5s
  timeout server 7s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:1
  bind 127.0.0.1:2 name mybind
  default_backend be
frontend fe2
  mode http
  bind 127.0.0.1:3
  default_backend hb
backend hb
  mode http
  server h 127.0.0.1:13
backend be
  timeout tunnel 30s
  server s1 127.0.0.1:9 maxconn 10 maxqueue 5 weight 20
  server s2 127.0.0.1:10 maxconn 4 maxqueue 3
  server bk 127.0.0.1:11 backup maxconn 7
backend be2
  server a 127.0.0.1:12
`;

function runtime(): Runtime {
  const r = parseConfigText(CFG);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  return new Runtime(r.config, { maxconnOverride: 500 });
}

function ctxFor(rt: Runtime, fe = 'fe', be: string | undefined = 'be', listener = 0): SmpCtx {
  const c = ctx0();
  c.rt = rt;
  c.fe = rt.findProxy(fe, 'frontend');
  c.be = be ? rt.findProxy(be, 'backend') : undefined;
  c.listener = rt.listeners.filter((l) => l.proxy === c.fe)[listener];
  return c;
}

function stream(extra: Partial<StreamInfo> = {}): StreamInfo {
  return { bytesIn: 0, bytesOut: 0, ...extra } as StreamInfo;
}

describe('constants', () => {
  it('always_true / always_false', () => {
    assert.deepEqual(ev('always_true', ctx0()), { t: 'bool', v: true });
    assert.deepEqual(ev('always_false', ctx0()), { t: 'bool', v: false });
  });
  it('bool accepts true/false/1/0 only', () => {
    assert.equal(val('bool(true)', ctx0()), true);
    assert.equal(val('bool(1)', ctx0()), true);
    assert.equal(val('bool(false)', ctx0()), false);
    assert.equal(val('bool(0)', ctx0()), false);
    bad('bool(yes)');
    bad('bool');
  });
  it('int, str, meth, ipv4, ipv6', () => {
    assert.deepEqual(ev('int(-42)', ctx0()), { t: 'sint', v: -42 });
    assert.equal(val('int(9223372036854775807)', ctx0()), 9223372036854775807n);
    assert.deepEqual(ev('str(abc)', ctx0()), { t: 'str', v: 'abc' });
    assert.deepEqual(ev('str()', ctx0()), { t: 'str', v: '' });
    assert.deepEqual(ev('meth(GET)', ctx0()), { t: 'meth', v: 'GET' });
    const v4 = ev('ipv4(10.1.2.3)', ctx0())!;
    assert.equal(v4.t, 'ipv4');
    assert.equal(formatIpv4(v4.v), '10.1.2.3');
    const v6 = ev('ipv6(2001:db8::1)', ctx0())!;
    assert.equal(v6.t, 'ipv6');
    assert.equal(formatIpv6(v6.v), '2001:db8::1');
    bad('int(abc)');
    bad('ipv4(300.1.1.1)');
    bad('ipv6(zz::1)');
  });
  it('bin parses hex (2.6: bin(4142) prints AB)', () => {
    const s = ev('bin(4142)', ctx0())!;
    assert.equal(s.t, 'bin');
    assert.equal((s.v as Buffer).toString('latin1'), 'AB');
    assert.equal((ev('bin()', ctx0())!.v as Buffer).length, 0);
    bad('bin(414)');
    bad('bin(zz)');
  });
});

describe('process facts', () => {
  it('env reads the environment at run time', () => {
    const e = expr('env(HTS_TEST_FETCH_ENV)');
    delete process.env['HTS_TEST_FETCH_ENV'];
    assert.equal(e.eval(ctx0()), undefined);
    process.env['HTS_TEST_FETCH_ENV'] = 'v1';
    assert.deepEqual(e.eval(ctx0()), { t: 'str', v: 'v1' });
    process.env['HTS_TEST_FETCH_ENV'] = '';
    assert.deepEqual(e.eval(ctx0()), { t: 'str', v: '' });
    delete process.env['HTS_TEST_FETCH_ENV'];
    bad('env');
  });
  it('hostname, pid, proc, nbproc, thread', () => {
    assert.equal(val('hostname', ctx0()), os.hostname());
    assert.equal(val('pid', ctx0()), process.pid);
    assert.equal(val('proc', ctx0()), 1);   // 2.6: proc=1
    assert.equal(val('nbproc', ctx0()), 1);
    assert.equal(val('thread', ctx0()), 0);
  });
  it('date, date with offset and units, date_us', () => {
    const before = Date.now();
    const s = val('date', ctx0()) as number;
    const ms = val('date(0,ms)', ctx0()) as number;
    const us = val('date(0,us)', ctx0()) as number;
    const after = Date.now();
    assert.ok(s >= Math.floor(before / 1000) && s <= Math.floor(after / 1000));
    assert.ok(ms >= before && ms <= after);
    assert.ok(us >= before * 1000 && us <= after * 1000 + 999);
    const off = val('date(3600)', ctx0()) as number;
    assert.ok(off - 3600 >= Math.floor(before / 1000) && off - 3600 <= Math.floor(Date.now() / 1000));
    const neg = val('date(-1000,ms)', ctx0()) as number;
    assert.ok(neg + 1000 >= before && neg + 1000 <= Date.now());
    const du = val('date_us', ctx0()) as number;
    assert.ok(du >= 0 && du < 1_000_000);
    bad('date(0,h)');
    bad('date(x)');
  });
  it('rand stays in its range', () => {
    for (let i = 0; i < 200; i++) {
      const r = val('rand(10)', ctx0()) as number;
      assert.ok(Number.isInteger(r) && r >= 0 && r < 10);
      const f = val('rand', ctx0()) as number;
      assert.ok(f >= 0 && f <= 4294967295);
    }
    assert.equal(val('rand(1)', ctx0()), 0);
    assert.equal(val('rand(0)', ctx0()), 0);
  });
  it('uuid v4 (default) and v7', () => {
    const v4 = val('uuid', ctx0()) as string;
    assert.match(v4, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(val('uuid(4)', ctx0()) as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    const before = Date.now();
    const v7 = val('uuid(7)', ctx0()) as string;
    assert.match(v7, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // the first 48 bits are the Unix time in ms
    const t = parseInt(v7.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(t >= before && t <= Date.now());
    assert.notEqual(val('uuid', ctx0()), val('uuid', ctx0()));
    bad('uuid(5)');
    bad('uuid(x)');
  });
  it('uptime, stopping, act_conn', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    assert.equal(val('uptime', c), 0);
    (rt as { startedAt: number }).startedAt = Date.now() - 5500;
    assert.equal(val('uptime', c), 5);
    assert.equal(val('stopping', c), false);
    rt.stopping = true;
    assert.equal(val('stopping', c), true);
    rt.curConns = 3;
    assert.equal(val('act_conn', c), 3);
    assert.equal(ev('act_conn', ctx0()), undefined);
  });
  it('term_events reports "-" (not traced)', () => {
    assert.equal(val('term_events', ctx0()), '-');
  });
});

describe('proxy and server state', () => {
  it('be_conn, queue, be_sess_rate with and without argument', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    be.counters.enter(); be.counters.enter();
    assert.equal(val('be_conn', c, 'be'), 2);
    assert.equal(val('be_conn(be)', c, 'fe'), 2);
    assert.equal(val('be_conn(be2)', c, 'fe'), 0);
    assert.equal(val('be_sess_rate(be)', c, 'fe'), 2);
    assert.equal(val('queue(be)', c), 0);
    // without argument and outside any proxy: the stream's backend
    assert.equal(val('be_conn', c), 2);
  });
  it('an unknown backend name yields nothing', () => {
    const rt = runtime();
    assert.equal(ev('be_conn(nosuch)', ctxFor(rt), 'fe'), undefined);
  });
  it('nbsrv counts usable active servers, else one backup', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    assert.equal(val('nbsrv(be)', c), 2);
    be.findServer('s1')!.setAdmin('maint');
    assert.equal(val('nbsrv(be)', c), 1);
    be.findServer('s2')!.up = false;
    assert.equal(val('nbsrv(be)', c), 1);   // the backup
    be.findServer('bk')!.up = false;
    assert.equal(val('nbsrv(be)', c), 0);
    be.dispose();
  });
  it('backups: the first one only, all with option allbackups', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    be.servers[0]!.up = false; be.servers[1]!.up = false;
    // only bk (maxconn 7) serves: 7 free slots
    assert.equal(val('be_conn_free(be)', c), 7);
    const r = parseConfigText(`
backend b
  option allbackups
  server a 127.0.0.1:1 maxconn 2
  server x 127.0.0.1:2 backup maxconn 3
  server y 127.0.0.1:3 backup maxconn 4
`);
    const rt2 = new Runtime(r.config, { maxconnOverride: 500 });
    const c2 = new SmpCtx(staticConn());
    c2.rt = rt2;
    const b = rt2.findProxy('b')!;
    assert.equal(val('nbsrv(b)', c2), 1);
    assert.equal(val('be_conn_free(b)', c2), 2);
    b.servers[0]!.up = false;
    assert.equal(val('nbsrv(b)', c2), 2);
    assert.equal(val('be_conn_free(b)', c2), 7);
  });
  it('avg_queue rounds up, doubles without servers', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    const w = () => ({ dequeued: false, queuedAt: 0, grant: () => {} });
    for (let i = 0; i < 3; i++) be.queue.push(w());
    // 3 queued over 2 servers: ceil(3/2) = 2
    assert.equal(val('avg_queue(be)', c), 2);
    assert.equal(val('queue(be)', c), 3);
    for (const s of be.servers) s.up = false;
    assert.equal(val('avg_queue(be)', c), 6);
  });
  it('be_conn_free and connslots', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    const [s1, s2] = be.servers;
    s1!.cur = 3; s2!.cur = 4;
    // (10-3) + (4-4): the backup is not counted while actives are up
    assert.equal(val('be_conn_free(be)', c), 7);
    // (10-3)+(5-0) + (4-4)+(3-0); the backup has maxqueue 0 → -1
    assert.equal(val('connslots(be)', c), -1);
    be.servers[2]!.up = false;
    assert.equal(val('connslots(be)', c), 15);
    // a server without maxconn makes both meaningless
    assert.equal(val('be_conn_free(be2)', c), -1);
    assert.equal(val('connslots(be2)', c), -1);
  });
  it('fe_conn, fe_sess_rate, fe_req_rate', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const fe = rt.findProxy('fe')!;
    fe.feCounters.enter();
    assert.equal(val('fe_conn', c, 'fe'), 1);
    assert.equal(val('fe_conn(fe)', c, 'be'), 1);
    assert.equal(val('fe_conn(fe2)', c, 'be'), 0);
    assert.equal(val('fe_sess_rate(fe)', c), 1);
    assert.equal(val('fe_req_rate(fe)', c), 0);
    countFrontendRequest(fe); countFrontendRequest(fe); countFrontendRequest(fe);
    assert.equal(val('fe_req_rate(fe)', c), 3);
    assert.equal(val('fe_req_rate', c, 'fe'), 3);
  });
  it('srv_* fetches', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    const be = rt.findProxy('be')!;
    const s1 = be.findServer('s1')!;
    s1.cur = 4;
    s1.counters.enter();
    assert.equal(val('srv_conn(be/s1)', c), 4);
    assert.equal(val('srv_conn(s1)', c, 'be'), 4);
    assert.equal(val('srv_conn_free(be/s1)', c), 6);
    assert.equal(val('srv_conn_free(be2/a)', c), -1);
    s1.cur = 12;
    assert.equal(val('srv_conn_free(be/s1)', c), 0);
    assert.equal(val('srv_queue(be/s1)', c), 0);
    assert.equal(val('srv_sess_rate(be/s1)', c), 1);
    assert.equal(val('srv_weight(be/s1)', c), 20);
    assert.equal(val('srv_uweight(be/s1)', c), 20);
    assert.equal(val('srv_iweight(be/s1)', c), 20);
    s1.setWeight(5);
    assert.equal(val('srv_weight(be/s1)', c), 5);
    assert.equal(val('srv_uweight(be/s1)', c), 5);
    assert.equal(val('srv_iweight(be/s1)', c), 20);
    assert.equal(val('srv_is_up(be/s1)', c), true);
    s1.setAdmin('drain');
    assert.equal(val('srv_is_up(be/s1)', c), true);
    assert.equal(val('srv_weight(be/s1)', c), 0);
    s1.setAdmin('maint');
    assert.equal(val('srv_is_up(be/s1)', c), false);
    assert.equal(ev('srv_conn(be/nosuch)', c), undefined);
    bad('srv_conn');
    be.dispose();
  });
  it('an omitted proxy argument names the proxy holding the rule, for the configuration check', () => {
    pendingRefs.length = 0;
    expr('be_conn', 'fe');
    expr('fe_sess_rate', 'be');
    expr('srv_conn(s1)', 'be');
    assert.deepEqual(pendingRefs.map((p) => [p.kw, p.ref.kind, p.ref.name, p.ref.backend]), [
      ['be_conn', 'backend', 'fe', undefined], ['fe_sess_rate', 'frontend', 'be', undefined], ['srv_conn', 'server', 's1', 'be'],
    ]);
    pendingRefs.length = 0;
  });
  it('keeps the catalogue signature for -dKsmp', () => {
    assert.ok(dumpFetches().some((l) => l.endsWith('be_conn(backend): sint')));
    assert.equal(fetchRegistry.get('be_conn')!.args[0]!.optional, true);
  });
});

describe('layer 4 addresses', () => {
  it('src, src_port, dst, dst_port, fc_*', () => {
    const c = ctx0();
    assert.equal(formatIpv4(val('src', c) as number), '192.0.2.10');
    assert.equal(ev('src', c)!.t, 'ipv4');
    assert.equal(val('src_port', c), 40000);
    assert.equal(formatIpv4(val('dst', c) as number), '127.0.0.1');
    assert.equal(val('dst_port', c), 8080);
    assert.equal(formatIpv4(val('fc_src', c) as number), '192.0.2.10');
    assert.equal(val('fc_src_port', c), 40000);
    assert.equal(val('fc_dst_port', c), 8080);
    c.streamAddr = { src: '2001:db8::5', srcPort: 1, dst: '10.0.0.1', dstPort: 2 };
    assert.equal(ev('src', c)!.t, 'ipv6');
    assert.equal(formatIpv6(val('src', c) as Buffer), '2001:db8::5');
    assert.equal(val('src_port', c), 1);
    assert.equal(formatIpv4(val('dst', c) as number), '10.0.0.1');
    assert.equal(val('dst_port', c), 2);
    // the connection's own addresses are not changed
    assert.equal(formatIpv4(val('fc_src', c) as number), '192.0.2.10');
    assert.equal(formatIpv4(val('fc_dst', c) as number), '127.0.0.1');
  });
  it('IPv4-mapped addresses are IPv4', () => {
    const c = new SmpCtx(staticConn('::ffff:10.0.0.7', 5, '::1', 6));
    assert.equal(ev('src', c)!.t, 'ipv4');
    assert.equal(formatIpv4(val('src', c) as number), '10.0.0.7');
    assert.equal(ev('dst', c)!.t, 'ipv6');
  });
  it('UNIX sockets: no address nor port, but local', () => {
    const rt = runtime();
    const c = new SmpCtx(staticConn('', 0, '/tmp/sock', 0));
    assert.equal(ev('src', c), undefined);
    assert.equal(ev('src_port', c), undefined);
    assert.equal(ev('src_is_local', c), undefined);
    c.listener = rt.listeners[0];
    (c.listener!.cfg.address as { family: string }).family = 'unix';
    assert.equal(val('src_is_local', c), true);
  });
  it('*_is_local (2.6: 127.0.0.1 is local)', () => {
    const c = new SmpCtx(staticConn('127.0.0.1', 1, '127.3.4.5', 2));
    assert.equal(val('src_is_local', c), true);
    assert.equal(val('dst_is_local', c), true);   // all of 127/8 is local
    assert.equal(val('fc_src_is_local', c), true);
    const r = new SmpCtx(staticConn('192.0.2.99', 1, '::1', 2));   // TEST-NET-1 is not ours
    assert.equal(val('src_is_local', r), false);
    assert.equal(val('fc_dst_is_local', r), true);
  });
  it('dst_conn, so_id, so_name (2.6: unnamed socket has no so_name)', () => {
    const rt = runtime();
    const c = ctxFor(rt, 'fe', 'be', 0);
    assert.equal(val('so_id', c), 1);
    assert.equal(ev('so_name', c), undefined);
    const c2 = ctxFor(rt, 'fe', 'be', 1);
    assert.equal(val('so_id', c2), 2);
    assert.equal(val('so_name', c2), 'mybind');
    c2.listener!.cur = 3;
    assert.equal(val('dst_conn', c2), 3);
    assert.equal(ev('so_id', ctx0()), undefined);
  });
});

describe('PROXY protocol', () => {
  const ssl = Buffer.concat([
    Buffer.from([0x01, 0, 0, 0, 0]),
    Buffer.from([0x21, 0, 7]), Buffer.from('TLSv1.3'),
    Buffer.from([0x22, 0, 4]), Buffer.from('bob!'),
  ]);
  const info = {
    version: 2 as const, command: 'PROXY' as const, family: 'TCP4' as const,
    tlvs: [
      { type: 0x02, value: Buffer.from('example.org') },
      { type: 0x05, value: Buffer.from('uid-1') },
      { type: 0xe1, value: Buffer.from('first') },
      { type: 0x20, value: ssl },
      { type: 0xe1, value: Buffer.from('second') },
      { type: 0x02, value: Buffer.from('other.org') },
    ],
  };
  it('fc_rcvd_proxy', () => {
    const c = ctx0();
    assert.equal(val('fc_rcvd_proxy', c), false);   // 2.6: ptv=0
    c.proxyInfo = info;
    assert.equal(val('fc_rcvd_proxy', c), true);
  });
  it('fc_pp_authority / fc_pp_unique_id take the first TLV', () => {
    const c = ctx0();
    assert.equal(ev('fc_pp_authority', c), undefined);
    c.proxyInfo = info;
    assert.equal(val('fc_pp_authority', c), 'example.org');
    assert.equal(val('fc_pp_unique_id', c), 'uid-1');
  });
  it('fc_pp_tlv by number or name, every occurrence, SSL sub-TLVs', () => {
    const c = ctx0();
    c.proxyInfo = info;
    assert.equal(val('fc_pp_tlv(225)', c), 'first');
    assert.equal(val('fc_pp_tlv(0xE1)', c), 'first');
    assert.deepEqual(expr('fc_pp_tlv(225)').evalAll(c)!.map((s) => s.v), ['first', 'second']);
    assert.equal(val('fc_pp_tlv(AUTHORITY)', c), 'example.org');
    assert.equal(val('fc_pp_tlv(UNIQUE_ID)', c), 'uid-1');
    assert.equal(val('fc_pp_tlv(SSL_VERSION)', c), 'TLSv1.3');
    assert.equal(val('fc_pp_tlv(SSL_CN)', c), 'bob!');
    assert.equal(ev('fc_pp_tlv(SSL_CIPHER)', c), undefined);
    assert.equal(ev('fc_pp_tlv(ALPN)', c), undefined);
    assert.equal(ev('fc_pp_tlv(7)', ctx0()), undefined);
    bad('fc_pp_tlv(256)');
    bad('fc_pp_tlv(FOO)');
    bad('fc_pp_tlv');
  });
});

describe('proxies, server and timeouts', () => {
  it('fe_*/be_* (2.6: bsto=5000-like values, btt=0 when unset, fe_defbe)', () => {
    const rt = runtime();
    const c = ctxFor(rt, 'fe', '');
    const fe = rt.findProxy('fe')!;
    const be = rt.findProxy('be')!;
    assert.equal(val('fe_id', c), fe.id);
    assert.equal(val('fe_name', c), 'fe');
    assert.equal(val('fe_defbe', c), 'be');
    assert.equal(val('fe_client_timeout', c), 5000);
    // no backend yet: the frontend answers
    assert.equal(val('be_name', c), 'fe');
    assert.equal(val('be_id', c), fe.id);
    assert.equal(val('be_tunnel_timeout', c), 0);
    c.be = be;
    assert.equal(val('be_name', c), 'be');
    assert.equal(val('be_id', c), be.id);
    assert.equal(val('be_server_timeout', c), 7000);
    assert.equal(val('be_tunnel_timeout', c), 30000);
    assert.equal(ev('fe_name', ctx0()), undefined);
    assert.equal(ev('fe_defbe', ctxFor(rt, 'be', 'be')), undefined);
  });
  it('cur_*_timeout default to the proxies and follow the stream', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    assert.equal(val('cur_client_timeout', c), 5000);
    assert.equal(val('cur_server_timeout', c), 7000);
    assert.equal(val('cur_tunnel_timeout', c), 30000);
    c.stream = stream({ curClientTimeout: 100, curServerTimeout: 200, curTunnelTimeout: 300 });
    assert.equal(val('cur_client_timeout', c), 100);
    assert.equal(val('cur_server_timeout', c), 200);
    assert.equal(val('cur_tunnel_timeout', c), 300);
    assert.equal(ev('cur_client_timeout', ctx0()), undefined);
  });
  it('srv_id, srv_name', () => {
    const rt = runtime();
    const c = ctxFor(rt);
    assert.equal(ev('srv_name', c), undefined);
    c.srv = rt.findProxy('be')!.findServer('s2');
    assert.equal(val('srv_name', c), 's2');
    assert.equal(val('srv_id', c), 2);
  });
  it('fc_http_major: 1 in HTTP, nothing in TCP (2.6: fch=- in TCP)', () => {
    const rt = runtime();
    assert.equal(ev('fc_http_major', ctxFor(rt, 'fe')), undefined);
    assert.equal(val('fc_http_major', ctxFor(rt, 'fe2')), 1);
  });
});

describe('server connection (bc_*)', () => {
  it('nothing without a server connection', () => {
    const c = ctx0();
    c.stream = stream();
    for (const k of ['bc_src', 'bc_src_port', 'bc_dst', 'bc_dst_port', 'bc_reused', 'bc_http_major', 'bc_nb_streams', 'bc_err', 'bc_err_name', 'bc_err_str', 'bc_be_queue', 'bc_srv_queue', 'bc_glitches', 'bc_setting_streams_limit']) {
      assert.equal(ev(k, c), undefined, k);
    }
  });
  it('addresses, reuse, counts', () => {
    const rt = runtime();
    const c = ctxFor(rt, 'fe2', 'be');
    c.stream = stream({ srvConn: staticConn('127.0.0.1', 51000, '127.0.0.1', 9), srvConnReused: true, beQueuePos: 2, srvQueuePos: 1 });
    assert.equal(formatIpv4(val('bc_src', c) as number), '127.0.0.1');
    assert.equal(val('bc_src_port', c), 51000);
    assert.equal(val('bc_dst_port', c), 9);
    assert.equal(val('bc_reused', c), true);
    assert.equal(val('bc_nb_streams', c), 1);
    assert.equal(val('bc_setting_streams_limit', c), 1);
    assert.equal(val('bc_glitches', c), 0);
    assert.equal(val('bc_be_queue', c), 2);
    assert.equal(val('bc_srv_queue', c), 1);
    // backend in TCP mode: no HTTP version
    assert.equal(ev('bc_http_major', c), undefined);
  });
  it('bc_err / bc_err_name / bc_err_str follow the fc_err_str table', () => {
    const c = ctx0();
    c.stream = stream({ srvConnErr: 0 });
    assert.equal(val('bc_err', c), 0);
    assert.equal(val('bc_err_name', c), '');
    assert.equal(val('bc_err_str', c), 'Success');
    c.stream = stream({ srvConnErr: 46 });
    assert.equal(val('bc_err', c), 46);
    assert.equal(val('bc_err_name', c), 'EREFUSED');
    assert.equal(val('bc_err_str', c), 'ECONNREFUSED returned by OS');
    c.stream = stream({ srvConnErr: 8 });
    assert.equal(val('bc_err_str', c), "Can't bind to source address");
  });
});

describe('counts, dates and stream facts', () => {
  it('bytes_in / bytes_out', () => {
    const c = ctx0();
    assert.equal(ev('bytes_in', c), undefined);
    c.stream = stream({ bytesIn: 12, bytesOut: 34 } as Partial<StreamInfo>);
    assert.equal(val('bytes_in', c), 12);
    assert.equal(val('bytes_out', c), 34);
  });
  it('accept_date and request_date with units', () => {
    const c = new SmpCtx({ src: '1.2.3.4', srcPort: 1, dst: '5.6.7.8', dstPort: 2, acceptedAt: 1700000000123.456 });
    assert.equal(val('accept_date', c), 1700000000);
    assert.equal(val('accept_date(s)', c), 1700000000);
    assert.equal(val('accept_date(ms)', c), 1700000000123);
    assert.equal(val('accept_date(us)', c), 1700000000123456);
    c.txnAcceptedAt = 1700000005000;
    assert.equal(val('accept_date', c), 1700000005);
    assert.equal(ev('request_date', c), undefined);
    c.reqStartedAt = 1700000006789;
    assert.equal(val('request_date(ms)', c), 1700000006789);
    assert.equal(val('request_date', c), 1700000006);
    bad('accept_date(min)');
    bad('request_date(x)');
  });
  it('txn.conn_retries, txn.redispatched, txn.id32', () => {
    const c = ctx0();
    assert.equal(val('txn.conn_retries', c), 0);
    c.retries = 2;
    assert.equal(val('txn.conn_retries', c), 2);
    assert.equal(val('txn.redispatched', c), false);
    c.stream = stream({ redispatched: true });
    assert.equal(val('txn.redispatched', c), true);
    assert.equal(ev('txn.id32', c), undefined);
    const a = nextTxnId(), b = nextTxnId();
    assert.equal(b, a + 1);
    c.txnId = b;
    assert.equal(val('txn.id32', c), b);
  });
  it('prio_class / prio_offset default to 0 (2.6: pc=0)', () => {
    const c = ctx0();
    assert.equal(ev('prio_class', c), undefined);
    c.stream = stream();
    assert.equal(val('prio_class', c), 0);
    assert.equal(val('prio_offset', c), 0);
    c.stream = stream({ prioClass: -3, prioOffset: 1500 });
    assert.equal(val('prio_class', c), -3);
    assert.equal(val('prio_offset', c), 1500);
  });
  it('last_rule_file / last_rule_line / last_entity / waiting_entity', () => {
    const c = ctx0();
    c.stream = stream();
    assert.equal(ev('last_rule_file', c), undefined);
    assert.equal(ev('last_entity', c), undefined);
    assert.equal(ev('waiting_entity', c), undefined);
    c.stream = stream({ lastRule: { file: '/etc/h.cfg', line: 42 }, waitingEntity: '/etc/h.cfg:12' });
    assert.equal(val('last_rule_file', c), '/etc/h.cfg');
    assert.equal(val('last_rule_line', c), 42);
    assert.equal(val('last_entity', c), '/etc/h.cfg:42');
    assert.equal(val('waiting_entity', c), '/etc/h.cfg:12');
  });
  it('wait_end waits until the decision is final', () => {
    const c = ctx0();
    c.final = false;
    assert.equal(ev('wait_end', c), undefined);
    assert.equal(c.wantMore, true);
    c.final = true;
    c.wantMore = false;
    assert.equal(val('wait_end', c), true);
    assert.equal(c.wantMore, false);
  });
  it('not registered: cpu/latency counters (Node.js has no per-task accounting)', () => {
    for (const k of ['cpu_calls', 'cpu_ns_avg', 'cpu_ns_tot', 'lat_ns_avg', 'lat_ns_tot']) {
      assert.equal(fetchRegistry.has(k), false, k);
    }
  });
});
