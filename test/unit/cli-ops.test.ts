// Formatting helpers of the runtime API commands added in cli-sessions, cli-proxies and cli-misc.
// Expected texts come from HAProxy 2.6 answers (same layout) or hand computation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/ops/cli.js';
import {
  humanTime, hexAlt, epochAt, parseStreamId, sessLine, renderServersConn, type SessView,
} from '../../src/ops/cli-sessions.js';
import { renderBackends, RATE_LIMIT_USAGE } from '../../src/ops/cli-proxies.js';
import { dateNow, renderActivity, renderPools, parsePoolsArgs, renderTasks, renderThreads } from '../../src/ops/cli-misc.js';
import type { Proxy } from '../../src/proxy/proxy.js';
import type { Server } from '../../src/proxy/server.js';

describe('show sess helpers', () => {
  it('humanTime keeps two units at most, skips zero units, prints 0s for zero', () => {
    assert.equal(humanTime(0), '0s');
    assert.equal(humanTime(1.9), '1s');
    assert.equal(humanTime(60), '1m');
    assert.equal(humanTime(61), '1m1s');
    assert.equal(humanTime(3600), '1h');
    assert.equal(humanTime(3661), '1h1m');
    assert.equal(humanTime(86400 + 7200 + 5), '1d2h');
    assert.equal(humanTime(86400 + 5), '1d5s');
    assert.equal(humanTime(-1), '?');
  });

  it('hexAlt prints like C "%#x"', () => {
    assert.equal(hexAlt(0), '0');
    assert.equal(hexAlt(10), '0xa');
    assert.equal(hexAlt(255), '0xff');
  });

  it('epochAt counts the dumps that started before a stream', () => {
    const times = [100, 200, 300];
    assert.equal(epochAt(50, times), 0);
    assert.equal(epochAt(100, times), 0);
    assert.equal(epochAt(150, times), 1);
    assert.equal(epochAt(301, times), 3);
  });

  it('parseStreamId reads numbers as strtoul(base 0) does', () => {
    assert.equal(parseStreamId('0x1f'), 31);
    assert.equal(parseStreamId('0X10zz'), 16);
    assert.equal(parseStreamId('017'), 15);
    assert.equal(parseStreamId('42'), 42);
    assert.equal(parseStreamId('zz'), undefined);
    assert.equal(parseStreamId('0'), 0);
  });

  const fe = { name: 'fe', id: 2, mode: 'tcp' } as unknown as Proxy;
  const be = { name: 'be', id: 4, mode: 'tcp' } as unknown as Proxy;
  const srv = { name: 's1', puid: 1 } as unknown as Server;
  const base = (over: Partial<SessView>): SessView => ({
    fe, be, server: srv, src: '127.0.0.1', srcPort: 39600, acceptedAt: 1000, dequeued: true,
    listener: { id: 1, address: '127.0.0.1:41001', cfg: { address: { family: 'ipv4' } } },
    cliSock: {}, srvSock: undefined, bytesIn: 0, bytesOut: 0, ...over,
  });

  it('one-line form keeps HAProxy 2.6 field order', () => {
    const line = sessLine(base({ srvSock: { _handle: { fd: 16 } }, cliSock: { _handle: { fd: 15 } } }), 0x1a, 10, 2500);
    assert.equal(line,
      '0x1a: proto=tcpv4 src=127.0.0.1:39600 fe=fe be=be srv=s1 ts=00 epoch=0xa age=1s calls=0 rate=0 cpu=0 lat=0 ' +
      'rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=15] scb=[8,0h,fd=16] exp= rc=0 c_exp=\n');
  });

  it('one-line form without backend, server or socket; IPv6 and UNIX clients', () => {
    const l1 = sessLine(base({ be: undefined, server: undefined }), 1, 0, 1000);
    assert.match(l1, /^0x1: proto=tcpv4 src=127\.0\.0\.1:39600 fe=fe be=<NONE> srv=<none> ts=00 epoch=0 age=0s /);
    assert.match(l1, /scb=\[0,0h,fd=-1\]/);
    const l2 = sessLine(base({ src: '::1', dequeued: false }), 2, 0, 1000);
    assert.match(l2, /proto=tcpv6 src=::1:39600 /);
    assert.match(l2, /scb=\[2,0h,fd=-1\]/);
    const l3 = sessLine(base({ listener: { id: 3, address: '/x', cfg: { address: { family: 'unix' } } } }), 3, 0, 1000);
    assert.match(l3, /proto=unix_stream src=unix:3 /);
  });
});

describe('show servers conn', () => {
  it('prints the header and one line per server, one idle column for one thread (as HAProxy 2.6 with nbthread 1)', () => {
    const bk = { name: 'be', id: 4 } as unknown as Proxy & { servers: Server[] };
    (bk as { servers: unknown[] }).servers = [
      { name: 's1', puid: 1, host: '127.0.0.1', port: 41010, isUnix: false, cfg: {} },
      { name: 's2', puid: 2, host: '127.0.0.1', port: 41011, isUnix: false, cfg: { poolMaxConn: 10, poolPurgeDelay: 1000 } },
    ];
    assert.equal(renderServersConn([bk]),
      '# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n' +
      'be/s1 4/1 127.0.0.1 41010 - 5000 0 0 0 0 0 -1 0 0\n' +
      'be/s2 4/2 127.0.0.1 41011 - 1000 0 0 0 0 0 10 0 0\n');
  });
});

describe('proxies', () => {
  it('show backend lists backends and listen sections only', () => {
    const px = [
      { name: 'fe', isBackend: false }, { name: 'be', isBackend: true }, { name: 'li', isBackend: true },
    ] as unknown as Proxy[];
    assert.equal(renderBackends(px), '# name\nbe\nli\n');
  });

  it('set rate-limit usage is HAProxy 2.6\'s text', () => {
    assert.equal(RATE_LIMIT_USAGE.split('\n').length, 5);
    assert.equal(RATE_LIMIT_USAGE.split('\n')[0], "'set rate-limit' only supports :");
    assert.equal(RATE_LIMIT_USAGE.split('\n')[4], "   - 'http-compression global' to set the per-process maximum compression speed in kB/s");
  });
});

describe('diagnostics', () => {
  it('date_now has microseconds on six digits', () => {
    assert.equal(dateNow(1796099048079.585), '1796099048.079585');
    assert.equal(dateNow(1000), '1.000000');
  });

  it('show activity layout for one thread: no brackets', () => {
    assert.equal(renderActivity(1500, [['accepted', 7]]), 'thread_id: 1 (1..1)\ndate_now: 1.500000\naccepted: 7\n');
  });

  it('show tasks and show threads for a single thread', () => {
    assert.equal(renderTasks(), 'Running tasks: 0 (1 threads)\n  function                     places     %    lat_tot   lat_avg\n');
    const t = renderThreads(1234);
    assert.ok(t.startsWith('* Thread 1 : id=0x0 act=1 '));
    assert.match(t, /cpu_ns: poll=0 now=1234 diff=0\n/);
    assert.ok(t.endsWith('\n\n'));
  });

  it('show pools: layout, sorting, filter, limit and total', () => {
    const rows = [
      { name: 'old_space', allocated: 100, used: 80 },
      { name: 'new_space', allocated: 300, used: 0 },
      { name: 'external', allocated: 50, used: 50 },
    ];
    const all = renderPools(rows, { detailed: false });
    assert.equal(all.split('\n')[0], 'Dumping pools usage. Use SIGQUIT to flush them.');
    assert.equal(all.split('\n')[1], '  - Pool old_space (1 bytes) : 100 allocated (100 bytes), 80 used (~0 by thread caches), needed_avg 0, 0 failures, 1 users, @0x0 [SHARED]');
    assert.ok(all.endsWith('Total: 3 pools, 450 bytes allocated, 130 used (~0 by thread caches).\n'));
    const byUsage = renderPools(rows, { sort: 'byusage', detailed: false });
    assert.deepEqual(byUsage.split('\n').slice(1, 3).map((l) => l.split(' ')[4]), ['old_space', 'external']);
    assert.match(byUsage, /Total: 2 pools, 150 bytes allocated, 130 used/);
    assert.match(renderPools(rows, { sort: 'bysize', max: 1, detailed: false }), /- Pool new_space .*\nTotal: 1 pools/);
    assert.match(renderPools(rows, { match: 'ex', detailed: false }), /Total: 1 pools, 50 bytes/);
    assert.deepEqual(parsePoolsArgs(['byname', 'match', 'old', '3']), { detailed: false, sort: 'byname', match: 'old', max: 3 });
    assert.equal(typeof parsePoolsArgs(['bogus']), 'string');
  });
});
