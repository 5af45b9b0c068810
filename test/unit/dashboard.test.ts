// The live dashboard (haproxy-ts extension `stats dashboard-uri`): the keyword, the sampler's
// rates from counter deltas (values computed by hand from the counters set by the test), the
// ring buffers' bounds, the JSON and the request handling (auth, admin actions).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/config/global-keywords.js';
import '../../src/ops/cli.js';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';
import type { Proxy } from '../../src/proxy/proxy.js';
import { Ring, DashboardSampler, dashboardJson, intervalValues, stopDashboardSampler } from '../../src/ops/dashboard-sampler.js';
import { matchDashboardRequest, handleDashboardRequest } from '../../src/ops/dashboard.js';
import type { StatsHttpRequest } from '../../src/ops/stats-page.js';

const runtimes: Runtime[] = [];
after(() => {
  for (const rt of runtimes) {
    stopDashboardSampler(rt);
    for (const p of rt.proxies) for (const s of p.servers) s.healthCheck?.stop();
  }
});

const alerts = (r: ReturnType<typeof parseConfigText>): string[] => r.diags.filter((d) => d.level === 'ALERT').map((d) => d.msg);

const BASE = `
defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
`;
const CFG = `${BASE}
listen stats
  bind 127.0.0.1:1
  stats uri /st
  stats dashboard-uri /dash/
  stats auth admin:pw
  stats auth view:pw
  stats admin if TRUE
frontend f
  bind 127.0.0.1:2
  default_backend b
backend b
  server s1 127.0.0.1:3
  server s2 127.0.0.1:4
backend t
  mode tcp
  server s3 127.0.0.1:5
`;

function runtime(text: string): Runtime {
  const r = parseConfigText(text);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  const rt = new Runtime(r.config, { maxconnOverride: 500 });
  runtimes.push(rt);
  return rt;
}
const px = (rt: Runtime, n: string): Proxy => rt.proxies.find((p) => p.name === n)!;
const obj = (j: ReturnType<typeof dashboardJson>, key: string) => j.objects.find((o) => o.key === key)!;

describe('stats dashboard-uri keyword', () => {
  it('stores the path without trailing slash; any stats keyword enables the stats page', () => {
    const r = parseConfigText(`${BASE}listen l\n  bind 127.0.0.1:1\n  stats dashboard-uri /live/\n`);
    assert.deepEqual(alerts(r), []);
    const st = r.config.proxies.find((p) => p.name === 'l')!.options.statsPage!;
    assert.equal(st.dashboard, '/live');
    assert.equal(st.enabled, true);
    assert.equal(st.uri, '/haproxy?stats');
  });
  it('rejects a missing or malformed path with file:line', () => {
    const r = parseConfigText(`${BASE}listen l\n  bind 127.0.0.1:1\n  stats dashboard-uri\n`);
    assert.equal(r.fatal, true);
    assert.match(alerts(r).join('\n'), /'dashboard-uri' needs a path/);
    const r2 = parseConfigText(`${BASE}listen l\n  bind 127.0.0.1:1\n  stats dashboard-uri live?x\n`);
    assert.equal(r2.fatal, true);
  });
  it('rejects a dashboard path that would hide the stats page', () => {
    const r = parseConfigText(`${BASE}listen l\n  bind 127.0.0.1:1\n  stats uri /ops/stats\n  stats dashboard-uri /ops\n`);
    assert.equal(r.fatal, true);
    assert.match(alerts(r).join('\n'), /would hide the stats page at '\/ops\/stats'/);
  });
});

describe('ring buffer', () => {
  it('keeps the last N values, oldest first, NaN read as null', () => {
    const r = new Ring(3);
    assert.deepEqual(r.toArray(), []);
    for (const v of [1, 2, NaN, 4, 5]) r.push(v);
    assert.equal(r.length, 3);
    assert.deepEqual(r.toArray(), [null, 4, 5]);
    assert.deepEqual(r.toArray(1), [4, 5]);
    assert.equal(r.last(), 5);
  });
  it('32-bit rings read back rounded to 2 decimals', () => {
    const r = new Ring(2, true);
    r.push(0.1); r.push(1234.567);
    assert.deepEqual(r.toArray(), [0.1, 1234.57]);
  });
});

describe('interval values', () => {
  const snap = (req: number, err: number, rtSum = 0, rtN = 0) => ({ req, err, rtSum, rtN, ttSum: 0, ttN: 0 });
  it('rates are deltas over the elapsed seconds; times are the average of the interval', () => {
    assert.deepEqual(intervalValues(snap(10, 1, 100, 4), snap(16, 4, 190, 7), 2), { req: 3, err: 1.5, rt: 30, tt: NaN });
  });
  it('no previous snapshot: no value', () => {
    const v = intervalValues(undefined, snap(5, 0), 1);
    assert.ok(Number.isNaN(v.req) && Number.isNaN(v.err));
  });
  it('a counter that went back (clear counters all) counts from zero', () => {
    assert.deepEqual(intervalValues(snap(100, 9, 500, 50), snap(3, 1, 40, 2), 1), { req: 3, err: 1, rt: 20, tt: NaN });
  });
});

describe('sampler', () => {
  it('rates, errors and response times per frontend, backend, server from counter deltas', () => {
    const rt = runtime(CFG);
    const s = new DashboardSampler(rt, 300, 1000);
    s.sample(10_000);
    const f = px(rt, 'f'), b = px(rt, 'b'), t = px(rt, 't');
    const s1 = b.servers[0]!, s2 = b.servers[1]!;
    // 2 seconds of traffic: 8 requests on the frontend, 6 to s1 (one 500) and 2 to s2 (refused)
    f.feCounters.reqTotal += 8; f.feCounters.hrsp[5]! += 3; f.feCounters.failedReq += 1;
    b.counters.reqTotal += 8; b.counters.hrsp[5]! += 1; b.counters.failedConns += 2;
    s1.counters.reqTotal += 6; s1.counters.hrsp[5]! += 1; s1.counters.hrsp[2]! += 5;
    s1.counters.recordTimes(0, 1, 10, 12); s1.counters.recordTimes(0, 1, 30, 40); s1.counters.recordTimes(0, 1, -1, 50);
    s2.counters.reqTotal += 2; s2.counters.failedConns += 2;
    s2.counters.cur = 3;
    t.counters.cumConns += 4; t.counters.reqTotal += 100; // TCP: connections count, not requests
    s.sample(12_000);
    const j = dashboardJson(s, { admin: false });
    assert.deepEqual(j.times, [10_000, 12_000]);
    assert.equal(j.full, true);
    assert.deepEqual(obj(j, 'f/f').req, [null, 4]);
    assert.deepEqual(obj(j, 'f/f').err, [null, 2]);      // (3 5xx + 1 ereq) / 2 s
    assert.equal(obj(j, 'f/f').rt, undefined);           // no timings on frontends
    assert.deepEqual(obj(j, 'b/b').req, [null, 4]);
    assert.deepEqual(obj(j, 'b/b').err, [null, 1.5]);    // (1 5xx + 2 econ) / 2 s
    assert.deepEqual(obj(j, 's/b/s1').req, [null, 3]);
    assert.deepEqual(obj(j, 's/b/s1').err, [null, 0.5]);
    assert.deepEqual(obj(j, 's/b/s1').rt, [null, 20]);   // (10 + 30) / 2, the -1 not recorded
    assert.deepEqual(obj(j, 's/b/s1').tt, [null, 34]);   // (12 + 40 + 50) / 3
    assert.deepEqual(obj(j, 's/b/s2').err, [null, 1]);
    assert.deepEqual(obj(j, 's/b/s2').cur, [0, 3]);
    assert.deepEqual(obj(j, 's/b/s2').rt, [null, null]);
    assert.deepEqual(obj(j, 'b/t').req, [null, 2]);
    assert.equal(obj(j, 's/b/s1').admin, 'ready');
    assert.equal(obj(j, 's/b/s1').server, 's1');
    assert.equal(obj(j, 's/b/s1').proxy, 'b');
    // a quiet second: zero rates, no response time
    s.sample(13_000);
    const j2 = dashboardJson(s, { admin: true, since: 12_000 });
    assert.equal(j2.full, false);
    assert.equal(j2.admin, true);
    assert.deepEqual(j2.times, [13_000]);
    assert.deepEqual(obj(j2, 's/b/s1').req, [0]);
    assert.deepEqual(obj(j2, 's/b/s1').rt, [null]);
  });

  it('ring buffers stay bounded to the window; all series stay aligned with the time axis', () => {
    const rt = runtime(CFG);
    const s = new DashboardSampler(rt, 5, 1000);
    const b = px(rt, 'b');
    for (let i = 1; i <= 12; i++) { b.counters.reqTotal += i; s.sample(i * 1000); }
    const j = dashboardJson(s, { admin: false });
    assert.deepEqual(j.times, [8000, 9000, 10000, 11000, 12000]);
    assert.deepEqual(obj(j, 'b/b').req, [8, 9, 10, 11, 12]);
    for (const o of j.objects) assert.equal(o.req.length, 5, o.key);
    // `since` older than the oldest sample kept: the whole window, marked full
    assert.equal(dashboardJson(s, { admin: false, since: 1000 }).full, true);
  });

  it('a server added at run time gets empty samples before it existed; a removed one disappears', () => {
    const rt = runtime(CFG);
    const s = new DashboardSampler(rt, 10, 1000);
    const b = px(rt, 'b');
    const s2 = b.servers.pop()!;
    s.sample(1000); s.sample(2000);
    assert.equal(dashboardJson(s, { admin: false }).objects.some((o) => o.key === 's/b/s2'), false);
    b.servers.push(s2);
    s.sample(3000);
    const j = dashboardJson(s, { admin: false });
    assert.deepEqual(obj(j, 's/b/s2').cur, [null, null, 0]);
    b.servers.splice(b.servers.indexOf(s2), 1);
    s.sample(4000);
    assert.equal(dashboardJson(s, { admin: false }).objects.some((o) => o.key === 's/b/s2'), false);
  });
});

describe('dashboard requests', () => {
  const basic = (u: string): [string, string] => ['authorization', `Basic ${Buffer.from(u).toString('base64')}`];
  function req(uri: string, o: Partial<StatsHttpRequest> = {}): StatsHttpRequest {
    return { method: 'GET', uri, headers: [basic('admin:pw')], body: Buffer.alloc(0), srcAddr: '127.0.0.1', ...o };
  }
  const hdr = (h: [string, string][], n: string): string | undefined => h.find(([k]) => k === n)?.[1];

  it('matches the dashboard path and its sub-paths only', () => {
    const rt = runtime(CFG);
    const p = px(rt, 'stats');
    assert.equal(matchDashboardRequest(p, { method: 'GET', uri: '/dash' }), true);
    assert.equal(matchDashboardRequest(p, { method: 'GET', uri: '/dash/data.json?since=1' }), true);
    assert.equal(matchDashboardRequest(p, { method: 'GET', uri: 'http://h:1/dash/' }), true);
    assert.equal(matchDashboardRequest(p, { method: 'GET', uri: '/dashboard' }), false);
    assert.equal(matchDashboardRequest(p, { method: 'GET', uri: '/st' }), false);
    assert.equal(matchDashboardRequest(p, { method: 'PUT', uri: '/dash' }), false);
    assert.equal(matchDashboardRequest(px(rt, 'b'), { method: 'GET', uri: '/dash' }), false);
  });

  it('auth as the stats page; page, data.json, 404 elsewhere', () => {
    const rt = runtime(CFG);
    const p = px(rt, 'stats');
    const noAuth = handleDashboardRequest(rt, p, req('/dash', { headers: [] }));
    assert.equal(noAuth.status, 401);
    assert.equal(hdr(noAuth.headers, 'www-authenticate'), 'Basic realm="HAProxy Statistics"');
    const page = handleDashboardRequest(rt, p, req('/dash/'), { adminAllowed: false });
    assert.equal(page.status, 200);
    assert.match(hdr(page.headers, 'content-type')!, /^text\/html/);
    const html = page.body.toString();
    assert.match(html, /data-base="\/dash"/);
    assert.doesNotMatch(html, /<(link|script) [^>]*(href|src)="https?:/, 'no external assets');
    const data = handleDashboardRequest(rt, p, req('/dash/data.json'), { adminAllowed: false });
    assert.equal(data.status, 200);
    assert.equal(hdr(data.headers, 'content-type'), 'application/json');
    assert.equal(Number(hdr(data.headers, 'content-length')), data.body.length);
    const j = JSON.parse(data.body.toString());
    assert.equal(j.admin, false);
    assert.deepEqual(j.objects.map((o: { key: string }) => o.key), ['f/stats', 'f/f', 'b/stats', 'b/b', 's/b/s1', 's/b/s2', 'b/t', 's/t/s3']);
    assert.equal(handleDashboardRequest(rt, p, req('/dash/other')).status, 404);
    const head = handleDashboardRequest(rt, p, req('/dash/data.json', { method: 'HEAD' }));
    assert.equal(head.body.length, 0);
  });

  it('actions: admin only, with the x-dashboard header, ready/drain/maint on a known server', () => {
    const rt = runtime(CFG);
    const p = px(rt, 'stats');
    const s1 = px(rt, 'b').servers[0]!;
    const post = (body: string, admin: boolean, extra: [string, string][] = [['x-dashboard', '1']]) => {
      const r = handleDashboardRequest(rt, p, req('/dash/action', { method: 'POST', body: Buffer.from(body), headers: [basic('admin:pw'), ...extra] }), { adminAllowed: admin });
      return { status: r.status, json: JSON.parse(r.body.toString()) as { status: string } };
    };
    assert.deepEqual(post('b=b&s=s1&action=drain', false), { status: 403, json: { status: 'DENY' } });
    assert.equal(s1.admin, 'ready');
    assert.equal(post('b=b&s=s1&action=drain', true, []).status, 403);
    assert.equal(s1.admin, 'ready');
    assert.deepEqual(post('b=b&s=s1&action=drain', true), { status: 200, json: { status: 'DONE' } });
    assert.equal(s1.admin, 'drain');
    assert.deepEqual(post('b=b&s=s1&action=maint', true), { status: 200, json: { status: 'DONE' } });
    assert.equal(s1.admin, 'maint');
    assert.deepEqual(post('b=b&s=s1&action=shutdown', true), { status: 400, json: { status: 'ERRP' } });
    assert.deepEqual(post('b=nope&s=s1&action=ready', true), { status: 400, json: { status: 'ERRP' } });
    assert.deepEqual(post('b=b&s=s1&action=ready', true), { status: 200, json: { status: 'DONE' } });
    assert.equal(s1.admin, 'ready');
    const get = handleDashboardRequest(rt, p, req('/dash/action'), { adminAllowed: true });
    assert.equal(get.status, 405);
  });
});
