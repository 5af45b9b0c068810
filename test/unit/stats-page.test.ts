// The HTTP statistics page: config keywords, access control, HTML structure and row classes,
// exports and URL options, admin POST actions. Expected strings come from haproxy 2.6's page
// (curl on a `listen stats` section) and from configuration.txt 4.2.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/config/global-keywords.js';
import '../../src/ops/cli.js';
import { parseConfigFiles } from '../../src/config/parser.js';
import { condContext } from '../../src/cli/main.js';
import { Runtime } from '../../src/proxy/runtime.js';
import type { Proxy } from '../../src/proxy/proxy.js';
import {
  matchStatsRequest, handleStatsRequest, statsAuthorize, groupNum, humanTime, serverRowClass, type StatsHttpRequest,
} from '../../src/ops/stats-page.js';
import { parseForm } from '../../src/ops/stats-admin.js';

let dir = '';
const runtimes: Runtime[] = [];
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-stats-page-')); });
after(async () => {
  for (const rt of runtimes) for (const p of rt.proxies) for (const s of p.servers) s.healthCheck?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function parse(text: string): ReturnType<typeof parseConfigFiles> {
  const f = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(f, text);
  return parseConfigFiles([f], condContext());
}
function runtime(text: string): Runtime {
  const r = parse(text);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  const rt = new Runtime(r.config, { maxconnOverride: 500 });
  runtimes.push(rt);
  return rt;
}
const px = (rt: Runtime, n: string): Proxy => rt.proxies.find((p) => p.name === n)!;
function req(uri: string, o: Partial<StatsHttpRequest> = {}): StatsHttpRequest {
  return { method: 'GET', uri, headers: [], body: Buffer.alloc(0), srcAddr: '127.0.0.1', ...o };
}
const hdr = (h: [string, string][], n: string): string | undefined => h.find(([k]) => k === n)?.[1];

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
  description px desc
  stats enable
  stats uri /st
  stats refresh 10s
  stats admin if TRUE
  stats show-legends
  stats show-node
  stats show-desc hello desc
  server a 127.0.0.1:9 weight 3
  server b 127.0.0.1:9 disabled
  server c 127.0.0.1:9 backup
backend be2
  server x 127.0.0.1:9
  server y 127.0.0.1:9 maxconn 10
frontend other
  bind 127.0.0.1:2
`;

describe('stats keywords', () => {
  it('rejects bad arguments with HAProxy messages', () => {
    const r = parse(`${BASE}
defaults d2
  stats admin if TRUE
listen a
  bind 127.0.0.1:3
  stats uri
  stats realm
  stats scope
  stats bogus
  stats admin
  stats http-request deny foo
  stats show-modules
`);
    assert.equal(r.fatal, true);
    const msgs = r.diags.map((d) => d.msg).join('\n');
    assert.match(msgs, /'stats admin' not allowed in 'defaults' section\./);
    assert.match(msgs, /'uri' needs an URI prefix\./);
    assert.match(msgs, /'realm' needs an realm name\./);
    assert.match(msgs, /'scope' needs a proxy name\./);
    assert.match(msgs, /unknown stats parameter 'bogus'/);
    assert.match(msgs, /'stats admin' requires either 'if' or 'unless' followed by a condition\./);
    assert.match(msgs, /expects either 'if' or 'unless' followed by a condition but found 'foo'/);
    assert.match(msgs, /'stats show-modules' is not supported yet by haproxy-ts\./);
  });
  it('refuses stats auth together with stats http-request', () => {
    const r = parse(`${BASE}
listen a
  bind 127.0.0.1:3
  stats auth u:p
  stats http-request allow
`);
    assert.equal(r.fatal, true);
    assert.match(r.diags.map((d) => d.msg).join('\n'), /stats 'auth'\/'realm' and 'http-request' can't be used at the same time/);
  });
  it('inherits stats settings from defaults (default URI /haproxy?stats)', () => {
    const rt = runtime(`${BASE}
  stats enable
listen a
  bind 127.0.0.1:3
listen b
  bind 127.0.0.1:4
  stats uri /other
`);
    assert.equal(matchStatsRequest(px(rt, 'a'), { method: 'GET', uri: '/haproxy?stats' }), true);
    assert.equal(matchStatsRequest(px(rt, 'b'), { method: 'GET', uri: '/haproxy?stats' }), false);
    assert.equal(matchStatsRequest(px(rt, 'b'), { method: 'GET', uri: '/other;csv' }), true);
    assert.equal(matchStatsRequest(px(rt, 'b'), { method: 'PUT', uri: '/other' }), false);
    assert.equal(matchStatsRequest(px(rt, 'b'), { method: 'GET', uri: 'http://h:80/other' }), true);
  });
});

describe('helpers', () => {
  it('groups thousands and formats durations', () => {
    assert.equal(groupNum(9985), '<span class="rls">9</span>985');
    assert.equal(groupNum(999), '999');
    assert.equal(groupNum(1234567), '<span class="rls">1</span><span class="rls">234</span>567');
    assert.equal(humanTime(1), '1s');
    assert.equal(humanTime(200), '3m20s');
    assert.equal(humanTime(7500), '2h05m');
    assert.equal(humanTime(3 * 86400 + 7200), '3d2h');
  });
  it('parses url-encoded forms', () => {
    assert.deepEqual(parseForm('s=x&s=y+z&action=maint&b=%233'), [['s', 'x'], ['s', 'y z'], ['action', 'maint'], ['b', '#3']]);
  });
});

describe('HTML page', () => {
  it('renders the header, process block, legend and proxies as HAProxy does', () => {
    const rt = runtime(CFG);
    const r = handleStatsRequest(rt, px(rt, 'stats'), req('/st'), { adminAllowed: true });
    assert.equal(r.status, 200);
    assert.equal(hdr(r.headers, 'content-type'), 'text/html');
    assert.equal(hdr(r.headers, 'cache-control'), 'no-cache');
    assert.equal(hdr(r.headers, 'refresh'), '10');
    const html = r.body.toString('latin1');
    assert.match(html, /^<!DOCTYPE HTML PUBLIC "-\/\/W3C\/\/DTD HTML 4\.01 Transitional\/\/EN"/);
    assert.match(html, new RegExp(`<h2>Statistics Report for pid ${process.pid} on [^:<]+: hello desc</h2>`));
    assert.match(html, /<h3>&gt; General process information<\/h3>/);
    assert.match(html, /<b>maxsock = <\/b> \d+; <b>maxconn = <\/b> 500; <b>maxpipes = <\/b> 0<br>/);
    assert.match(html, /<td class="maintain"><\/td><td class="noborder" colspan="3">active or backup DOWN for maintenance \(MAINT\) &nbsp;<\/td>/);
    assert.match(html, /\.active_up\s*\{background: #c0ffc0;\}/);
    assert.match(html, /\.maintain\s*\{background: #c07820;\}/);
    assert.match(html, /\.backup_up\s*\{background: #b0d0ff;\}/);
    assert.match(html, /<li><a href="\/st;up">Hide 'DOWN' servers<\/a>/);
    assert.match(html, /<li><a href="\/st;norefresh">Disable refresh<\/a>/);
    assert.match(html, /<li><a href="\/st;csv;norefresh">CSV export<\/a>/);
    // proxy title with legend tips and description
    assert.match(html, /<th class="pxname" width="10%"><a name="stats"><\/a><u><a class=px href="#stats">stats<\/a><div class=tips>cap: proxy, mode: http, id: \d+<\/div><\/u><\/th><th class="desc" width="90%">px desc<\/th>/);
    assert.match(html, /<th colspan=3>Queue<\/th><th colspan=3>Session rate<\/th><th colspan=6>Sessions<\/th><th colspan=2>Bytes<\/th><th colspan=2>Denied<\/th><th colspan=3>Errors<\/th><th colspan=2>Warnings<\/th><th colspan=9>Server<\/th>/);
    // server rows: classes, checkbox, weights, act/bck
    assert.match(html, /<tr class="active_no_check"><td><input class='stats-checkbox' type="checkbox" name="s" value="a"><\/td><td class=ac><a name="stats\/a"><\/a><u><a class=lfsb href="#stats\/a">a<\/a><div class=tips>IPv4: 127\.0\.0\.1:9, id: 1<\/div><\/u><\/td>/);
    assert.match(html, /<td class=ac><i>no check<\/i><\/td><td><\/td><td class=ac>3\/3<\/td><td class=ac>Y<\/td><td class=ac>-<\/td><td colspan=3><\/td><td class=ac>-<\/td><\/tr>/);
    assert.match(html, /<tr class="maintain"><td><input class='stats-checkbox' type="checkbox" name="s" value="b">/);
    assert.match(html, /<td class=ac>\d+s MAINT<\/td>/);
    assert.match(html, /<tr class="backup_no_check"><td><input class='stats-checkbox' type="checkbox" name="s" value="c">/);
    // frontend row: limit grouped, OPEN over the server columns
    assert.match(html, /<tr class="frontend"><td><\/td><td class=ac><a name="stats\/Frontend"><\/a><a class=lfsb href="#stats\/Frontend">Frontend<\/a><\/td><td colspan=3><\/td>/);
    assert.match(html, /<td class=ac>OPEN<\/td><td class=ac colspan=8><\/td><\/tr>/);
    // backend row: balancing tips, weights of the servers in use (a:3 + backup not counted)
    assert.match(html, /<tr class="backend"><td><\/td><td class=ac><u><a name="stats\/Backend"><\/a><a class=lfsb href="#stats\/Backend">Backend<\/a><div class=tips>balancing: roundrobin<\/div><\/u><\/td>/);
    assert.match(html, /<td class=ac>\d+s UP<\/td><td class=ac>&nbsp;<\/td><td class=ac>3\/3<\/td><td class=ac>1<\/td><td class=ac>1<\/td>/);
    // max server connections (smax, slim), then the total with its details on hover, as 2.6
    assert.match(html, /<td>0<\/td><td>10<\/td><td><u>0<div class=tips><table class=det><tr><th>Cum. sessions:<\/th><td>0<\/td><\/tr><tr><th>New connections:<\/th>/);
    assert.match(html, /<div class=tips>Connection resets during transfers: 0 client, 0 server<\/div>/);
    // admin form per backend-capable proxy, not for the frontend-only one
    assert.match(html, /<select name=action><option value=""><\/option><option value="ready">Set state to READY<\/option>/);
    assert.match(html, /<option value="shutdown">Kill Sessions<\/option><\/select><input type="hidden" name="b" value="#\d+">&nbsp;<input type="submit" value="Apply"><\/form>/);
    assert.equal((html.match(/<form method="post">/g) ?? []).length, 2);
    assert.match(html, /<a name="other\/Frontend">/);
  });

  it('without admin: no checkbox column, no form; hide-version', () => {
    const rt = runtime(`${BASE}
listen stats
  bind 127.0.0.1:1
  stats uri /
  stats hide-version
  server x 127.0.0.1:9
`);
    const html = handleStatsRequest(rt, px(rt, 'stats'), req('/'), {}).body.toString('latin1');
    assert.match(html, /<h1><a href="http:\/\/www\.haproxy\.org\/" style="text-decoration: none;">HAProxy<\/a><\/h1>/);
    assert.match(html, new RegExp(`<h2>Statistics Report for pid ${process.pid}</h2>`));
    assert.match(html, /<title>Statistics Report for HAProxy<\/title>/);
    assert.doesNotMatch(html, /<form method="post">|checkbox/);
    assert.match(html, /<tr class="titre"><th rowspan=2><\/th><th colspan=3>Queue/);
    assert.match(html, /<th class="pxname" width="10%"><a name="stats"><\/a><a class=px href="#stats">stats<\/a><\/th><th class="empty" width="90%"><\/th>/);
    assert.match(html, /<li><a href="\/;csv">CSV export<\/a>/);
    assert.doesNotMatch(html, /refresh<\/a>/);
  });

  it('server row classes follow the states', () => {
    const rt = runtime(`${BASE}
backend b
  server up 127.0.0.1:9 check inter 1h
  server bk 127.0.0.1:9 backup check inter 1h
  server dr 127.0.0.1:9
`);
    const b = px(rt, 'b');
    const [up, bk, dr] = b.servers as [typeof b.servers[0], typeof b.servers[0], typeof b.servers[0]];
    for (const s of [up, bk]) s.healthCheck!.stop();
    for (const s of [up, bk]) s.healthCheck!.force(s.healthCheck!.opts.rise + s.healthCheck!.opts.fall - 1);
    assert.equal(serverRowClass(up), 'active_up');
    assert.equal(serverRowClass(bk), 'backup_up');
    up.healthCheck!.force(up.healthCheck!.opts.rise); // one failure away from rise+fall-1
    assert.equal(serverRowClass(up), 'active_going_down');
    const req2 = handleStatsRequest(rt, b, req('/x'), {});
    assert.equal(req2.status, 503); // no stats on this proxy
    dr.setAdmin('drain');
    assert.equal(serverRowClass(dr), 'active_draining');
    dr.setAdmin('maint');
    assert.equal(serverRowClass(dr), 'maintain');
    up.healthCheck!.force(0);
    up.setOperational(false);
    assert.equal(serverRowClass(up), 'active_down');
    up.healthCheck!.force(1);
    assert.equal(serverRowClass(up), 'active_going_up');
  });

  it('shows the admin result messages', () => {
    const rt = runtime(CFG);
    const page = (st: string): string => handleStatsRequest(rt, px(rt, 'stats'), req(`/st;st=${st};norefresh`), { adminAllowed: true }).body.toString('latin1');
    assert.match(page('DONE'), /<p><div class=active_up><a class=lfsb href="\/st;norefresh" title="Remove this message">\[X\]<\/a> Action processed successfully\.<\/div>/);
    assert.match(page('NONE'), /<div class=active_going_down>.*Nothing has changed\.<\/div>/);
    assert.match(page('DENY'), /<div class=active_down>.*<b>Action denied\.<\/b><\/div>/);
    assert.match(page('XYZ'), /<div class=active_no_check>.*Unexpected result\.<\/div>/);
  });
});

describe('exports and options', () => {
  it(';csv gives show stat CSV as text/plain, with the Refresh header', () => {
    const rt = runtime(CFG);
    const r = handleStatsRequest(rt, px(rt, 'stats'), req('/st;csv'), {});
    assert.equal(hdr(r.headers, 'content-type'), 'text/plain');
    assert.equal(hdr(r.headers, 'refresh'), '10');
    const lines = r.body.toString().trim().split('\n');
    assert.match(lines[0]!, /^# pxname,svname,qcur,qmax,scur,smax,slim,stot,/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(',')),
      ['stats,FRONTEND', 'stats,a', 'stats,b', 'stats,c', 'stats,BACKEND', 'be2,x', 'be2,y', 'be2,BACKEND', 'other,FRONTEND']);
    const nr = handleStatsRequest(rt, px(rt, 'stats'), req('/st;csv;norefresh'), {});
    assert.equal(hdr(nr.headers, 'refresh'), undefined);
  });
  it(';up hides down servers, ;no-maint maintenance ones, scope= and stats scope filter proxies', () => {
    const rt = runtime(CFG);
    const rows = (uri: string): string[] => handleStatsRequest(rt, px(rt, 'stats'), req(uri), {}).body.toString().trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(','));
    assert.ok(!rows('/st;csv;up').includes('stats,b'));
    assert.ok(!rows('/st;csv;no-maint').includes('stats,b'));
    assert.deepEqual(rows('/st;csv?scope=BE'), ['be2,x', 'be2,y', 'be2,BACKEND']);
    const rt2 = runtime(`${BASE}
listen stats
  bind 127.0.0.1:1
  stats uri /
  stats scope .
  stats scope be2
  server s 127.0.0.1:9
backend be2
  server x 127.0.0.1:9
backend be3
  server x 127.0.0.1:9
`);
    const r2 = handleStatsRequest(rt2, px(rt2, 'stats'), req('/;csv'), {}).body.toString().trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 2).join(','));
    assert.deepEqual(r2, ['stats,FRONTEND', 'stats,s', 'stats,BACKEND', 'be2,x', 'be2,BACKEND']);
    const html = handleStatsRequest(rt2, px(rt2, 'stats'), req('/?scope=st'), {}).body.toString();
    assert.match(html, /<input value="st" name="scope"/);
    assert.match(html, /<a href="\/;csv\?scope=st">CSV export<\/a>/);
    assert.doesNotMatch(html, /name="be2"/);
  });
  it(';json and ;json-schema are application/json; HEAD has no body', () => {
    const rt = runtime(CFG);
    const j = handleStatsRequest(rt, px(rt, 'stats'), req('/st;json'), {});
    assert.equal(hdr(j.headers, 'content-type'), 'application/json');
    const arr = JSON.parse(j.body.toString()) as unknown[][];
    assert.equal(arr.length, 9);
    const s = handleStatsRequest(rt, px(rt, 'stats'), req('/st;json-schema'), {});
    assert.match(s.body.toString(), /^\{"\$schema":"http:\/\/json-schema\.org\/draft-04\/schema#"/);
    const h = handleStatsRequest(rt, px(rt, 'stats'), req('/st', { method: 'HEAD' }), {});
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
  });
});

describe('access control', () => {
  const AUTH = `${BASE}
listen stats
  bind 127.0.0.1:1
  stats uri /
  stats realm My\\ Stats
  stats auth admin:secret
  stats auth other:pw
`;
  const basic = (u: string): [string, string][] => [['Authorization', `Basic ${Buffer.from(u).toString('base64')}`]];
  it('asks for credentials with 401 and the realm', () => {
    const rt = runtime(AUTH);
    const r = handleStatsRequest(rt, px(rt, 'stats'), req('/'), {});
    assert.equal(r.status, 401);
    assert.equal(hdr(r.headers, 'www-authenticate'), 'Basic realm="My Stats"');
    assert.equal(hdr(r.headers, 'content-type'), 'text/html');
    assert.equal(r.body.toString(), '<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n');
    assert.equal(r.body.length, 112);
    assert.equal(handleStatsRequest(rt, px(rt, 'stats'), req('/', { headers: basic('admin:bad') }), {}).status, 401);
    assert.equal(handleStatsRequest(rt, px(rt, 'stats'), req('/', { headers: basic('admin:secret') }), {}).status, 200);
    assert.equal(handleStatsRequest(rt, px(rt, 'stats'), req('/', { headers: basic('other:pw') }), {}).status, 200);
  });
  it('default realm, stats http-request allow/deny/auth with conditions', () => {
    const rt = runtime(`${BASE}
listen s1
  bind 127.0.0.1:1
  stats auth a:b
listen s2
  bind 127.0.0.1:2
  stats enable
  acl local src 127.0.0.1
  stats http-request allow if local
  stats http-request auth realm Zone unless local
`);
    const r = handleStatsRequest(rt, px(rt, 's1'), req('/haproxy?stats'), {});
    assert.equal(hdr(r.headers, 'www-authenticate'), 'Basic realm="HAProxy Statistics"');
    const s2 = px(rt, 's2');
    // the stream evaluates the conditions; here "local" is true or false by choice
    assert.deepEqual(statsAuthorize(s2, { headers: [] }, () => true), { action: 'allow' });
    assert.deepEqual(statsAuthorize(s2, { headers: [] }, (c) => c.unless), { action: 'auth', realm: 'Zone' });
    const rt2 = runtime(`${BASE}
listen s3
  bind 127.0.0.1:1
  stats enable
  stats http-request deny
`);
    const d = handleStatsRequest(rt2, px(rt2, 's3'), req('/haproxy?stats'), {});
    assert.equal(d.status, 403);
    assert.match(d.body.toString(), /403 Forbidden/);
  });
});

describe('admin POST', () => {
  function post(rt: Runtime, body: string, admin = true, uri = '/st'): { status: number; location?: string } {
    const r = handleStatsRequest(rt, px(rt, 'stats'), req(uri, { method: 'POST', body: Buffer.from(body) }), { adminAllowed: admin });
    return { status: r.status, location: hdr(r.headers, 'location') };
  }
  it('answers 303 with the status codes of 2.6', () => {
    const rt = runtime(CFG);
    const id = px(rt, 'be2').id;
    assert.deepEqual(post(rt, `s=x&s=y&action=maint&b=%23${id}`), { status: 303, location: '/st;st=DONE' });
    assert.equal(px(rt, 'be2').servers[0]!.admin, 'maint');
    assert.equal(px(rt, 'be2').servers[1]!.admin, 'maint');
    assert.deepEqual(post(rt, `s=zz&action=maint&b=%23${id}`, true, '/st;norefresh'), { status: 303, location: '/st;st=ERRP;norefresh' });
    assert.equal(post(rt, `action=maint&b=%23${id}`).location, '/st;st=NONE');
    assert.equal(post(rt, `s=x&action=bogus&b=%23${id}`).location, '/st;st=ERRP');
    assert.equal(post(rt, 's=x&action=ready&b=%2399').location, '/st;st=ERRP');
    assert.equal(post(rt, `s=x&s=zz&action=ready&b=%23${id}`).location, '/st;st=PART');
    assert.equal(px(rt, 'be2').servers[0]!.admin, 'ready');
    assert.equal(post(rt, `s=y&action=drain&b=be2`).location, '/st;st=DONE');
    assert.equal(px(rt, 'be2').servers[1]!.admin, 'drain');
    assert.equal(post(rt, `s=y&action=ready&b=%23${id}`, false).location, '/st;st=DENY');
    assert.equal(px(rt, 'be2').servers[1]!.admin, 'drain');
    assert.equal(post(rt, `s=${'y'.repeat(20000)}&action=ready&b=%23${id}`).location, '/st;st=EXCD');
  });
  it('health actions force the server state', () => {
    const rt = runtime(CFG);
    const id = px(rt, 'be2').id;
    const x = px(rt, 'be2').servers[0]!;
    assert.equal(post(rt, `s=x&action=hdown&b=%23${id}`).location, '/st;st=DONE');
    assert.equal(x.up, false);
    assert.equal(serverRowClass(x), 'active_down');
    assert.equal(post(rt, `s=x&action=hrunn&b=%23${id}`).location, '/st;st=DONE');
    assert.equal(x.up, true);
    assert.equal(post(rt, `s=x&action=hnolb&b=%23${id}`).location, '/st;st=DONE');
    assert.equal(x.stopping, true);
    assert.equal(serverRowClass(x), 'active_nolb');
    // no health check configured: enabling/disabling checks changes nothing
    assert.equal(post(rt, `s=x&action=dhlth&b=%23${id}`).location, '/st;st=ERRP');
  });
});
