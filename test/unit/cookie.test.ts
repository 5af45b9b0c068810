// Cookie persistence: configuration, request and response sides.
//
// Evidence: Debian's HAProxy 2.6.12 was run with `listen l` (mode http) in front of a raw Node.js
// backend that echoes the request head it receives and emits the Set-Cookie / Cache-Control /
// other headers asked for in its query string; servers s1 (cookie a), s2 (cookie b), s3 (backup,
// no cookie). The comments marked "2.6:" quote what was seen on the wire (header names are written
// in lower case by HAProxy's H1 encoder, which our codec does too).
import test from 'node:test';
import assert from 'node:assert/strict';
import '../../src/config/global-keywords.js';
import '../../src/proxy/keywords.js';
import '../../src/http/keywords.js';
import '../../src/proxy/server-keywords.js';
import '../../src/proxy/cookie.js';
import '../../src/net/bind-keywords.js';
import { parseConfigText } from '../helpers/config.js';
import { Proxy } from '../../src/proxy/proxy.js';
import { HttpHeaders, type HttpRequestHead, type HttpResponseHead } from '../../src/http/htx.js';
import {
  cookieRequest, cookieResponse, persistUsable, encodeDate30, decodeDate30, dynamicCookie, serverCookie,
} from '../../src/proxy/cookie.js';
import { xxh64 } from '../../src/util/hash.js';

const parse = parseConfigText;
const alerts = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'ALERT').map((d) => d.msg);
const warnings = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'WARNING').map((d) => d.msg);

const DEF = `defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
`;
function backendWith(line: string, extra = '') {
  return parse(`${DEF}backend b\n  ${line}\n${extra}  server s1 127.0.0.1:8080\n`);
}

// ---- configuration -------------------------------------------------------------------------

test('cookie line: all options parsed', () => {
  const r = backendWith('cookie SRV insert indirect nocache postonly preserve httponly secure domain .a.com domain b.com maxidle 30m maxlife 8h dynamic attr SameSite=Lax attr x=y');
  assert.deepEqual(alerts(r), []);
  const ck = r.config.proxies[0]!.cookiePersist!.cookie!;
  assert.equal(ck.name, 'SRV');
  assert.equal(ck.mode, 'insert');
  assert.deepEqual([ck.indirect, ck.nocache, ck.postonly, ck.preserve, ck.httponly, ck.secure, ck.dynamic], [true, true, true, true, true, true, true]);
  assert.deepEqual(ck.domains, ['.a.com', 'b.com']);
  assert.equal(ck.maxidle, 1800);
  assert.equal(ck.maxlife, 8 * 3600);
  assert.deepEqual(ck.attrs, ['SameSite=Lax', 'x=y']);
  // no mode keyword: passive cookie
  assert.equal(backendWith('cookie SRV').config.proxies[0]!.cookiePersist!.cookie!.mode, 'passive');
  // maxidle rounds up to whole seconds (2.6 accepts "maxidle 10ms")
  assert.equal(backendWith('cookie SRV insert maxidle 10ms').config.proxies[0]!.cookiePersist!.cookie!.maxidle, 1);
});

test('cookie line: errors and warnings as HAProxy reports them', () => {
  // 2.6 `haproxy -c` output for each line, after "parsing [t.cfg:7] : " / "parsing [t.cfg:7]: "
  const cases: [string, string][] = [
    ['cookie', `'cookie' expects <cookie_name> as argument.`],
    ['cookie SRV foo', `'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.`],
    ['cookie SRV insert rewrite', `cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.`],
    ['cookie SRV insert prefix', `cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.`],
    ['cookie SRV rewrite indirect', `cookie 'rewrite' and 'indirect' modes are incompatible.`],
    ['cookie SRV preserve', `cookie 'preserve' requires at least 'insert' or 'indirect'.`],
    ['cookie SRV domain', `'domain' expects <domain> as argument.`],
    ['cookie SRV domain a/b.com', `character '/' is not permitted in domain name 'a/b.com'.`],
    ['cookie SRV domain a_b.c-d.com domain x*y.com', `character '*' is not permitted in domain name 'x*y.com'.`],
    ['cookie SRV maxidle', `'maxidle' expects <idletime> in seconds as argument.`],
    ['cookie SRV maxlife', `'maxlife' expects <lifetime> in seconds as argument.`],
    ['cookie SRV maxidle 10x', `unexpected character 'x' in argument to <maxidle>.`],
    ['cookie SRV maxlife -1', `unexpected character '-' in argument to <maxlife>.`],
    ['cookie SRV maxidle 99999999999', `timer overflow in argument <99999999999> to <maxidle>, maximum value is 2147483647 s (~68 years).`],
    ['cookie SRV attr', `'attr' expects <value> as argument.`],
    ['cookie SRV attr a;b', `character '%x3B' is not permitted in attribute value.`],
    ['cookie SRV attr "a\\tb"', `character '%x09' is not permitted in attribute value.`],
    ['dynamic-cookie-key', `'dynamic-cookie-key' expects <secret_key> as argument.`],
  ];
  for (const [line, msg] of cases) {
    const r = backendWith(line);
    assert.deepEqual(alerts(r), [msg], line);
  }
  // 2.6: "domain 'foo' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3)."
  const w = backendWith('cookie SRV domain foo');
  assert.deepEqual(alerts(w), []);
  assert.deepEqual(warnings(w), [`domain 'foo' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).`]);
  // accepted by 2.6 without a message
  for (const ok of ['cookie SRV dynamic', 'dynamic-cookie-key a b', 'cookie SRV prefix indirect', 'cookie SRV rewrite maxidle 10']) {
    assert.deepEqual(alerts(backendWith(ok)), [], ok);
  }
});

test('cookie keywords in a frontend are ignored with a warning; tcp mode drops the cookie', () => {
  // 2.6: parsing [t2.cfg:8] : 'cookie' ignored because frontend 'f' has no backend capability.
  //      parsing [t2.cfg:9] : 'dynamic-cookie-key' ignored because frontend 'f' has no backend capability.
  const r = parse(`${DEF}frontend f\n  bind :8999\n  cookie SRV insert\n  dynamic-cookie-key k\n  default_backend b\nbackend b\n  server s1 127.0.0.1:8080\n`);
  assert.deepEqual(alerts(r), []);
  assert.deepEqual(warnings(r).filter((m) => /cookie/.test(m)), [
    `'cookie' ignored because frontend 'f' has no backend capability.`,
    `'dynamic-cookie-key' ignored because frontend 'f' has no backend capability.`,
  ]);
  // 2.6: cookie will be ignored for proxy 'l' (needs 'mode http').
  //      proxy 'l' : ignoring cookie for server 's1' as HTTP mode is disabled.
  const t = parse(`${DEF}listen l\n  mode tcp\n  bind :8999\n  cookie SRV insert\n  server s1 127.0.0.1:8080 cookie a\n`);
  assert.deepEqual(alerts(t), []);
  assert.deepEqual(warnings(t).filter((m) => /cookie/.test(m)), [
    `cookie will be ignored for proxy 'l' (needs 'mode http').`,
    `proxy 'l' : ignoring cookie for server 's1' as HTTP mode is disabled.`,
  ]);
  assert.equal(t.config.proxies[0]!.cookiePersist!.cookie, undefined);
});

test('option persist, inheritance from defaults, server cookie and default-server cookie', () => {
  const r = parse(`defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
  cookie SRV insert indirect nocache
  dynamic-cookie-key sekret
  option persist
backend b1
  server s1 127.0.0.1:8080 cookie a
  server s2 127.0.0.1:8081
backend b2
  no option persist
  cookie OTHER prefix
  default-server cookie x
  server s1 127.0.0.1:8080
  server s2 127.0.0.1:8081 cookie y
`);
  assert.deepEqual(alerts(r), []);
  const [b1, b2] = r.config.proxies;
  assert.equal(b1!.cookiePersist!.cookie!.name, 'SRV');
  assert.equal(b1!.cookiePersist!.cookie!.mode, 'insert');
  assert.equal(b1!.cookiePersist!.dynamicCookieKey, 'sekret');
  assert.equal(b1!.cookiePersist!.persist, true);
  assert.equal(b1!.servers[0]!.cookie, 'a');
  assert.equal(b1!.servers[1]!.cookie, undefined);
  assert.equal(b2!.cookiePersist!.persist, false);
  assert.equal(b2!.cookiePersist!.cookie!.name, 'OTHER');
  assert.equal(b2!.cookiePersist!.cookie!.mode, 'prefix');
  // 2.6 accepts "default-server cookie x" (every server gets that value unless it sets its own)
  assert.equal(b2!.servers[0]!.cookie, 'x');
  assert.equal(b2!.servers[1]!.cookie, 'y');
  // the defaults section itself was not modified by b2
  assert.equal(b1!.cookiePersist!.cookie!.mode, 'insert');
  // 2.6: parsing [t2.cfg:10] : 'option persist' cannot handle unexpected argument 'x'.
  assert.deepEqual(alerts(backendWith('option persist x')), [`'option persist' cannot handle unexpected argument 'x'.`]);
});

// ---- helpers for run-time tests ----------------------------------------------------------------

function makeBackend(cookieLine: string, opts: { persist?: boolean; s1?: string; s2?: string; extra?: string } = {}): Proxy {
  const s1 = opts.s1 ?? 'cookie a';
  const s2 = opts.s2 ?? 'cookie b';
  const r = parse(`${DEF}backend l\n  ${cookieLine}\n${opts.persist ? '  option persist\n' : ''}${opts.extra ?? ''}  server s1 127.0.0.1:9101 ${s1}\n  server s2 127.0.0.1:9102 ${s2}\n  server s3 127.0.0.1:9103 backup\n`);
  assert.deepEqual(alerts(r), []);
  return new Proxy(r.config.proxies[0]!, 1000);
}

function req(method: string, ...headers: [string, string][]): HttpRequestHead {
  const h = new HttpHeaders();
  h.add('Host', 'x');
  for (const [n, v] of headers) h.add(n, v);
  return { method, uri: '/', version: 'HTTP/1.1', headers: h };
}
function resp(status: number, ...headers: [string, string][]): HttpResponseHead {
  const h = new HttpHeaders();
  h.add('Content-Length', '0');
  for (const [n, v] of headers) h.add(n, v);
  return { version: 'HTTP/1.1', status, reason: 'OK', headers: h };
}
const cookies = (r: HttpRequestHead) => r.headers.getAll('cookie');
const setCookies = (r: HttpResponseHead) => r.headers.getAll('set-cookie');
const cacheCtl = (r: HttpResponseHead) => r.headers.getAll('cache-control');

// The moment of the 2.6 maxidle/maxlife run: `date +%s` printed 1796072451 and HAProxy emitted
// "SRV=a|aw3kB|aw3kB" for a new client.
const T0 = 1796072451_000;

// ---- request side ------------------------------------------------------------------------------

test('insert indirect: our cookie is removed from what the server sees', () => {
  const be = makeBackend('cookie SRV insert indirect nocache');
  // [request Cookie header(s), server chosen, Cookie header(s) the server received] — all from 2.6
  const cases: [string[], string | undefined, string[]][] = [
    [['SRV=b'], 's2', []],
    [['x=1; SRV=b; y=2'], 's2', ['x=1; y=2']],
    [['SRV=b; y=2'], 's2', ['y=2']],
    [['x=1; SRV=b'], 's2', ['x=1']],
    [['x=1', 'SRV=b'], 's2', ['x=1']],
    [['SRV=zz'], undefined, []],                               // unknown value: LB, cookie still removed
    [['$Version=1; SRV=b; $Path=/; z=3'], 's2', ['$Version=1; z=3']],
    [['SRV = b ; z = 3'], 's2', ['z=3']],
    [['a=1, SRV=b, c=2'], 's2', ['a=1, c=2']],                // commas separate cookies too
    [['a; SRV=b'], 's2', ['a']],
  ];
  for (const [inp, srv, out] of cases) {
    const r = req('GET', ...inp.map((v): [string, string] => ['Cookie', v]));
    const { server } = cookieRequest(be, r, T0);
    assert.equal(server?.name, srv, inp.join(' | '));
    assert.deepEqual(cookies(r), out, inp.join(' | '));
  }
});

test('insert without indirect and passive mode leave the Cookie header alone', () => {
  for (const line of ['cookie SRV insert', 'cookie SRV', 'cookie SRV indirect']) {
    const be = makeBackend(line);
    const r = req('GET', ['Cookie', 'SRV=a; k=2']);
    assert.equal(cookieRequest(be, r, T0).server?.name, 's1', line);
    // 2.6 (insert): server received "cookie: SRV=a; k=2"
    assert.deepEqual(cookies(r), ['SRV=a; k=2'], line);
  }
});

test('prefix: the "<server>~" part is stripped before the server sees the cookie', () => {
  const be = makeBackend('cookie JSESSIONID prefix');
  const run = (v: string) => { const r = req('GET', ['Cookie', v]); return { srv: cookieRequest(be, r, T0).server?.name, seen: cookies(r) }; };
  // 2.6: "JSESSIONID=b~xyz; o=1" → s2, server saw "JSESSIONID=xyz; o=1"
  assert.deepEqual(run('JSESSIONID=b~xyz; o=1'), { srv: 's2', seen: ['JSESSIONID=xyz; o=1'] });
  // 2.6: no delimiter → unknown value "xyz", header untouched
  assert.deepEqual(run('JSESSIONID=xyz; o=1'), { srv: undefined, seen: ['JSESSIONID=xyz; o=1'] });
  // 2.6: unknown server value: still stripped
  assert.deepEqual(run('JSESSIONID=zz~xyz'), { srv: undefined, seen: ['JSESSIONID=xyz'] });
  assert.deepEqual(run('JSESSIONID=~xyz'), { srv: undefined, seen: ['JSESSIONID=xyz'] });
});

test('first matching server wins; several cookies; shared values', () => {
  const be = makeBackend('cookie SRV insert indirect', { s1: 'cookie same', s2: 'cookie same' });
  const r = req('GET', ['Cookie', 'SRV=same']);
  const { server, state } = cookieRequest(be, r, T0);
  assert.equal(server?.name, 's1');
  assert.equal(state.status, 'valid');
  // s1 down: the next server with the same value is used
  be.servers[0]!.up = false;
  assert.equal(cookieRequest(be, req('GET', ['Cookie', 'SRV=same']), T0).server?.name, 's2');
  be.servers[0]!.up = true;
  // two persistence cookies: the first one decides, the second is reported unused and removed too
  const be2 = makeBackend('cookie SRV insert indirect');
  const r2 = req('GET', ['Cookie', 'SRV=b; x=1; SRV=a']);
  const res2 = cookieRequest(be2, r2, T0);
  assert.equal(res2.server?.name, 's2');
  assert.equal(res2.state.status, 'unused');
  assert.deepEqual(cookies(r2), ['x=1']);
  // empty value never designates a server (a cookie-less backup must not become sticky)
  assert.equal(cookieRequest(be2, req('GET', ['Cookie', 'SRV=']), T0).server, undefined);
  // no cookie configured: nothing happens
  const be3 = makeBackend('balance roundrobin');
  const r3 = req('GET', ['Cookie', 'SRV=a']);
  assert.equal(cookieRequest(be3, r3, T0).server, undefined);
  assert.deepEqual(cookies(r3), ['SRV=a']);
});

test('down, maintenance and drain servers; option persist; persistUsable', () => {
  // 2.6, no option persist: s2 in maint → request with SRV=b went to s1 and got "SRV=a; path=/";
  //      s2 in drain → request with SRV=b still went to s2, no Set-Cookie.
  // 2.6, option persist: s2 in maint → SRV=b still went to s2 (the 3.2 code does the same: the
  //      cookie is honoured when the server is not running only under option persist, and
  //      maintenance is a "not running" state like down).
  const be = makeBackend('cookie SRV insert indirect nocache');
  const s2 = be.servers[1]!;
  s2.setAdmin('maint');
  let r = cookieRequest(be, req('GET', ['Cookie', 'SRV=b']), T0);
  assert.equal(r.server, undefined);
  assert.equal(r.state.status, 'down');
  assert.equal(persistUsable(be, s2), false);
  s2.setAdmin('drain');
  r = cookieRequest(be, req('GET', ['Cookie', 'SRV=b']), T0);
  assert.equal(r.server, s2);
  assert.equal(r.state.status, 'valid');
  assert.equal(persistUsable(be, s2), true);
  s2.setAdmin('ready');
  s2.up = false;
  assert.equal(cookieRequest(be, req('GET', ['Cookie', 'SRV=b']), T0).server, undefined);
  assert.equal(persistUsable(be, s2), false);

  const bp = makeBackend('cookie SRV insert indirect nocache', { persist: true });
  const p2 = bp.servers[1]!;
  p2.up = false;
  r = cookieRequest(bp, req('GET', ['Cookie', 'SRV=b']), T0);
  assert.equal(r.server, p2);
  assert.equal(r.state.status, 'down');
  assert.equal(persistUsable(bp, p2), true);
  p2.up = true;
  p2.setAdmin('maint');
  assert.equal(cookieRequest(bp, req('GET', ['Cookie', 'SRV=b']), T0).server, p2);
  assert.equal(persistUsable(bp, p2), true);
});

test('date encoding: 30-bit values in 5 base64 characters', () => {
  // 2.6 at date +%s = 1796072451 emitted "aw3kB" = (1796072451 + 3) >> 2
  assert.equal(encodeDate30((1796072451 + 3) >> 2), 'aw3kB');
  assert.equal(decodeDate30('aw3kB', 0), (1796072451 + 3) >> 2);
  assert.equal(decodeDate30('aw!kB', 0), -1);
  assert.equal(decodeDate30('aw3k', 0), -1);
  for (const v of [0, 1, 63, 64, 0x3fffffff, 449018114]) assert.equal(decodeDate30(encodeDate30(v), 0), v);
});

test('maxidle / maxlife: expired and future dates ignore the cookie', () => {
  const be = makeBackend('cookie SRV insert indirect nocache maxidle 30m maxlife 8h');
  const now = T0 / 1000;
  const d = (secs: number) => encodeDate30(Math.floor(secs / 4));
  const run = (v: string) => { const r = req('GET', ['Cookie', v]); const o = cookieRequest(be, r, T0); return { srv: o.server?.name, st: o.state, seen: cookies(r) }; };
  // recent dates: valid, dates kept for the response
  let o = run(`SRV=b|${d(now - 60)}|${d(now - 60)}`);
  assert.equal(o.srv, 's2');
  assert.equal(o.st.lastDate, Math.floor((now - 60) / 4) * 4);
  assert.equal(o.st.firstDate, Math.floor((now - 60) / 4) * 4);
  assert.deepEqual(o.seen, []);
  // idle for an hour > 30m
  o = run(`SRV=b|${d(now - 3600)}|${d(now - 60)}`);
  assert.equal(o.srv, undefined);
  assert.equal(o.st.status, 'expired');
  assert.equal(o.st.lastDate, 0);
  // first seen 9h ago > 8h; 7h ago is fine
  assert.equal(run(`SRV=b|${d(now - 60)}|${d(now - 9 * 3600)}`).st.status, 'old');
  assert.equal(run(`SRV=b|${d(now - 60)}|${d(now - 7 * 3600)}`).srv, 's2');
  // more than a day in the future
  assert.equal(run(`SRV=b|${d(now + 2 * 86400)}`).st.status, 'expired');
  assert.equal(run(`SRV=b|${d(now + 10)}|${d(now - 60)}`).srv, 's2');
  // malformed or short dates are ignored, the cookie still counts
  o = run(`SRV=b|!!!!!|${d(now - 60)}`);
  assert.equal(o.srv, 's2');
  assert.equal(o.st.lastDate, 0);
  assert.notEqual(o.st.firstDate, 0);
  assert.equal(run('SRV=b|abc').srv, 's2');
  // other cookies are kept: 2.6 server saw "cookie: a=1; c=2"
  assert.deepEqual(run(`a=1; SRV=b|${d(now - 60)}|${d(now - 60)}; c=2`).seen, ['a=1; c=2']);
});

// ---- response side -----------------------------------------------------------------------------

function roundTrip(be: Proxy, cookieHdr: string | undefined, srvName: string, method = 'GET', respHeaders: [string, string][] = [], status = 200, now = T0) {
  const r = req(method, ...(cookieHdr !== undefined ? [['Cookie', cookieHdr] as [string, string]] : []));
  const { state } = cookieRequest(be, r, now);
  const rs = resp(status, ...respHeaders);
  cookieResponse(be, state, be.servers.find((s) => s.name === srvName), r, rs, now);
  return { req: r, resp: rs, state };
}

test('insert: Set-Cookie only when the client did not come with a valid cookie', () => {
  const be = makeBackend('cookie SRV insert indirect nocache');
  // 2.6: "set-cookie: SRV=a; path=/" for a new client; nothing when SRV=b reached s2
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1').resp), ['SRV=a; path=/']);
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b', 's2').resp), []);
  // 2.6: unknown value → "SRV=b; path=/" from the server chosen by LB
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=zz', 's2').resp), ['SRV=b; path=/']);
  // the designated server was not the one that answered (redispatch): insert again
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b', 's1').resp), ['SRV=a; path=/']);
  // 2.6: server's own SRV cookie is removed, others stay:
  //   sc "SRV=hello; path=/" + "o=1", request SRV=a → only "set-cookie: o=1"
  //   same without cookie → "o=1" then "SRV=a; path=/"
  let t = roundTrip(be, 'SRV=a', 's1', 'GET', [['Set-Cookie', 'SRV=hello; path=/'], ['Set-Cookie', 'o=1']]);
  assert.deepEqual(setCookies(t.resp), ['o=1']);
  t = roundTrip(be, undefined, 's1', 'GET', [['Set-Cookie', 'SRV=hello; path=/'], ['Set-Cookie', 'o=1']]);
  assert.deepEqual(setCookies(t.resp), ['o=1', 'SRV=a; path=/']);
  // no server (error produced locally): nothing inserted
  const r = req('GET');
  const { state } = cookieRequest(be, r, T0);
  const rs = resp(503);
  cookieResponse(be, state, undefined, r, rs, T0);
  assert.deepEqual(setCookies(rs), []);
  // 1xx interim responses are left alone
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1', 'GET', [], 100).resp), []);
});

test('insert: a server without cookie value gets an expiring cookie', () => {
  // 2.6 with s1 and s2 disabled, request SRV=b served by backup s3:
  //   "set-cookie: SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"
  const be = makeBackend('cookie SRV insert indirect nocache');
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b', 's3').resp), ['SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/']);
});

test('nocache: "Cache-control: private" only on responses a cache could store', () => {
  const be = makeBackend('cookie SRV insert indirect nocache');
  const cc = (method: string, hdrs: [string, string][], status = 200) => cacheCtl(roundTrip(be, undefined, 's1', method, hdrs, status).resp);
  const ma = ['Cache-Control', 'max-age=60'] as [string, string];
  // each line: 2.6 result (the added "cache-control: private" comes after the set-cookie)
  assert.deepEqual(cc('GET', []), []);                                         // no freshness, no validator
  assert.deepEqual(cc('GET', [['Cache-Control', 'public']]), ['public']);      // public alone is not enough
  assert.deepEqual(cc('GET', [ma]), ['max-age=60', 'private']);
  assert.deepEqual(cc('GET', [['Expires', 'Thu, 01 Dec 2094 16:00:00 GMT']]), ['private']);
  assert.deepEqual(cc('GET', [['ETag', '"x"']]), ['private']);
  assert.deepEqual(cc('GET', [['Last-Modified', 'Thu, 01 Dec 2004 16:00:00 GMT']]), ['private']);
  assert.deepEqual(cc('HEAD', [ma]), ['max-age=60', 'private']);
  assert.deepEqual(cc('OPTIONS', [ma]), ['max-age=60', 'private']);
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'FOO']) assert.deepEqual(cc(m, [ma]), ['max-age=60'], m);
  assert.deepEqual(cc('GET', [ma, ['Pragma', 'no-cache']]), ['max-age=60']);
  assert.deepEqual(cc('GET', [['Cache-Control', 'max-age=0']]), ['max-age=0']);
  assert.deepEqual(cc('GET', [['Cache-Control', 'max-age=60, private']]), ['max-age=60, private']);
  assert.deepEqual(cc('GET', [['Cache-Control', 'private']]), ['private']);
  assert.deepEqual(cc('GET', [['Cache-Control', 'no-cache="set-cookie"'], ['ETag', '"x"']]), ['no-cache="set-cookie"', 'private']);
  assert.deepEqual(cc('GET', [ma, ['Vary', '*']]), ['max-age=60', 'private']);
  for (const st of [203, 404, 501]) assert.deepEqual(cc('GET', [ma], st), ['max-age=60', 'private'], String(st));
  for (const st of [201, 302, 304]) assert.deepEqual(cc('GET', [ma], st), ['max-age=60'], String(st));
  // 3.2 lets s-maxage override a max-age=0 (2.6 did not: it emitted no "private" here)
  assert.deepEqual(cc('GET', [['Cache-Control', 'max-age=0'], ['Cache-Control', 's-maxage=10']]), ['max-age=0', 's-maxage=10', 'private']);
  // no Set-Cookie inserted → no Cache-control either
  assert.deepEqual(cacheCtl(roundTrip(be, 'SRV=a', 's1', 'GET', [ma]).resp), ['max-age=60']);
  // the header is added with HAProxy's spelling
  const t = roundTrip(be, undefined, 's1', 'GET', [ma]);
  assert.deepEqual(t.resp.headers.list.slice(-2).map((h) => h.name), ['Set-Cookie', 'Cache-control']);
});

test('insert with every attribute, maxidle/maxlife dates (byte-exact)', () => {
  const be = makeBackend('cookie SRV insert indirect nocache httponly secure domain .a.com domain b.com maxidle 30m maxlife 8h attr SameSite=Lax attr x=y');
  const tail = '; path=/; domain=.a.com; domain=b.com; HttpOnly; Secure; SameSite=Lax; x=y';
  // 2.6 at 1796072451: "set-cookie: SRV=a|aw3kB|aw3kB; path=/; domain=.a.com; domain=b.com; HttpOnly; Secure; SameSite=Lax; x=y"
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1').resp), [`SRV=a|aw3kB|aw3kB${tail}`]);
  // cookie without dates: accepted but refreshed (2.6: "Cookie: SRV=b" → "SRV=b|aw3kB|aw3kB...")
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b', 's2').resp), [`SRV=b|aw3kB|aw3kB${tail}`]);
  // recent cookie: last date refreshed, first date kept (2.6: "SRV=b|aw3jy|aw3jy" → "SRV=b|aw3kC|aw3jy")
  const now2 = decodeDate30('aw3kC', 0) * 4 - 2;
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b|aw3jy|aw3jy', 's2', 'GET', [], 200, now2 * 1000).resp), [`SRV=b|aw3kC|aw3jy${tail}`]);
  // last date not yet in the past: no refresh (2.6: "SRV=b|aw3kE|aw3jy" → no set-cookie)
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b|aw3kE|aw3jy', 's2', 'GET', [], 200, now2 * 1000).resp), []);
  // expired by maxlife: new dates on the LB's server (2.6: "SRV=a|aw3kC|aw3kC")
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b|aw3jy|aw1ld', 's1', 'GET', [], 200, now2 * 1000).resp), [`SRV=a|aw3kC|aw3kC${tail}`]);
  // bad last date: refreshed, first date kept (2.6: "SRV=b|!!!!!|aw3jy" → "SRV=b|aw3kC|aw3jy")
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=b|!!!!!|aw3jy', 's2', 'GET', [], 200, now2 * 1000).resp), [`SRV=b|aw3kC|aw3jy${tail}`]);
  // maxidle only: one date
  const bi = makeBackend('cookie SRV insert maxidle 60');
  assert.deepEqual(setCookies(roundTrip(bi, undefined, 's1').resp), ['SRV=a|aw3kB; path=/']);
  // dates present but maxlife not configured: rewritten without the first date
  assert.deepEqual(setCookies(roundTrip(bi, `SRV=a|${encodeDate30((T0 / 1000 + 100) >> 2)}|aw3jy`, 's1').resp), ['SRV=a|aw3kB; path=/']);
});

test('postonly and preserve', () => {
  const bp = makeBackend('cookie SRV insert postonly');
  // 2.6: GET → no set-cookie; POST → "SRV=b; path=/"; POST with SRV=b → none
  assert.deepEqual(setCookies(roundTrip(bp, undefined, 's1', 'GET').resp), []);
  assert.deepEqual(setCookies(roundTrip(bp, undefined, 's2', 'POST').resp), ['SRV=b; path=/']);
  assert.deepEqual(setCookies(roundTrip(bp, 'SRV=b', 's2', 'POST').resp), []);
  const bs = makeBackend('cookie SRV insert preserve nocache');
  const ma = ['Cache-Control', 'max-age=9'] as [string, string];
  // 2.6: server emits "SRV=; Max-Age=0" → kept as is, nothing inserted, no private
  let t = roundTrip(bs, undefined, 's1', 'GET', [['Set-Cookie', 'SRV=; Max-Age=0'], ma]);
  assert.deepEqual(setCookies(t.resp), ['SRV=; Max-Age=0']);
  assert.deepEqual(cacheCtl(t.resp), ['max-age=9']);
  // 2.6: no server cookie → "SRV=b; path=/" + "cache-control: private"
  t = roundTrip(bs, undefined, 's2', 'GET', [ma]);
  assert.deepEqual(setCookies(t.resp), ['SRV=b; path=/']);
  assert.deepEqual(cacheCtl(t.resp), ['max-age=9', 'private']);
  // 2.6: valid cookie → nothing
  assert.deepEqual(setCookies(roundTrip(bs, 'SRV=a', 's1', 'GET', [ma]).resp), []);
});

test('rewrite: the server\'s cookie value is replaced by the server\'s cookie', () => {
  const be = makeBackend('cookie SRV rewrite');
  // 2.6: "SRV=xxxx; path=/" → "SRV=a; path=/"
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1', 'GET', [['Set-Cookie', 'SRV=xxxx; path=/']]).resp), ['SRV=a; path=/']);
  // 2.6: quoted value with a ';' inside: 'SRV="quoted;x"; path=/' → "SRV=b; path=/"
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's2', 'GET', [['Set-Cookie', 'SRV="quoted;x"; path=/']]).resp), ['SRV=b; path=/']);
  // 2.6: request cookie is left to the server ("cookie: SRV=a; q=1")
  const t = roundTrip(be, 'SRV=a; q=1', 's1');
  assert.deepEqual(cookies(t.req), ['SRV=a; q=1']);
  assert.deepEqual(setCookies(t.resp), []);
  // other cookies untouched, server without a value untouched
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's3', 'GET', [['Set-Cookie', 'SRV=xxxx'], ['Set-Cookie', 'k=v']]).resp), ['SRV=xxxx', 'k=v']);
});

test('prefix: the server\'s cookie gets "<value>~" in front', () => {
  const be = makeBackend('cookie JSESSIONID prefix');
  // 2.6: "JSESSIONID=xyz; path=/" → "JSESSIONID=a~xyz; path=/"
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1', 'GET', [['Set-Cookie', 'JSESSIONID=xyz; path=/']]).resp), ['JSESSIONID=a~xyz; path=/']);
  // 2.6: also for a direct access without indirect ("JSESSIONID=b~xyz; path=/")
  assert.deepEqual(setCookies(roundTrip(be, 'JSESSIONID=b~xyz; o=1', 's2', 'GET', [['Set-Cookie', 'JSESSIONID=xyz; path=/']]).resp), ['JSESSIONID=b~xyz; path=/']);
  // 2.6: spaces around '=' removed, the one before ';' kept; empty value prefixed:
  //   "JSESSIONID = xyz ; path=/", "other=1", "JSESSIONID=" → "JSESSIONID=b~xyz ; path=/", "other=1", "JSESSIONID=b~"
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's2', 'GET', [['Set-Cookie', 'JSESSIONID = xyz ; path=/'], ['Set-Cookie', 'other=1'], ['Set-Cookie', 'JSESSIONID=']]).resp),
    ['JSESSIONID=b~xyz ; path=/', 'other=1', 'JSESSIONID=b~']);
  // 2.6 with "prefix indirect": direct access → the server's cookie is removed
  const bi = makeBackend('cookie JSESSIONID prefix indirect');
  const t = roundTrip(bi, 'JSESSIONID=b~xyz', 's2', 'GET', [['Set-Cookie', 'JSESSIONID=xyz']]);
  assert.deepEqual(cookies(t.req), ['JSESSIONID=xyz']);
  assert.deepEqual(setCookies(t.resp), []);
});

test('passive indirect: the server\'s cookie is removed on direct access only', () => {
  const be = makeBackend('cookie SRV indirect');
  // 2.6: request SRV=a → s1 and "SRV=xx" removed; no request cookie → "set-cookie: SRV=xx" kept
  assert.deepEqual(setCookies(roundTrip(be, 'SRV=a', 's1', 'GET', [['Set-Cookie', 'SRV=xx']]).resp), []);
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1', 'GET', [['Set-Cookie', 'SRV=xx']]).resp), ['SRV=xx']);
});

// ---- dynamic cookies ---------------------------------------------------------------------------

test('XXH64 test vectors', () => {
  const hex = (s: string) => xxh64(Buffer.from(s)).toString(16).padStart(16, '0');
  assert.equal(hex(''), 'ef46db3751d8e999');
  assert.equal(hex('a'), 'd24ec4f1a98c6e5b');
  assert.equal(hex('abc'), '44bc2cf5ad770999');
  assert.equal(hex('Nobody inspects the spammish repetition'), 'fbcea83c8a378bf1');
  // longer than one 32-byte stripe
  assert.equal(xxh64(Buffer.from('x'.repeat(100))), xxh64(new Uint8Array(Buffer.from('x'.repeat(100)))));
  assert.equal(xxh64(Buffer.alloc(0), 1n) === xxh64(Buffer.alloc(0), 0n), false);
});

test('dynamic cookies match HAProxy', () => {
  // 2.6 with "cookie SRV insert dynamic" + "dynamic-cookie-key mysecret", s1 127.0.0.1:9101 without
  // cookie, s2 with "cookie fixed": "set-cookie: SRV=a5ceac781dcd2927; path=/" then "SRV=fixed; path=/"
  assert.equal(dynamicCookie('mysecret', '127.0.0.1', 9101), 'a5ceac781dcd2927');
  const be = makeBackend('cookie SRV insert dynamic', { s1: '', s2: 'cookie fixed', extra: '  dynamic-cookie-key mysecret\n' });
  assert.equal(serverCookie(be, be.servers[0]!), 'a5ceac781dcd2927');
  assert.equal(serverCookie(be, be.servers[1]!), 'fixed');
  assert.deepEqual(setCookies(roundTrip(be, undefined, 's1').resp), ['SRV=a5ceac781dcd2927; path=/']);
  assert.equal(cookieRequest(be, req('GET', ['Cookie', 'SRV=a5ceac781dcd2927']), T0).server?.name, 's1');
  // the value follows address changes
  be.servers[0]!.port = 9102;
  assert.notEqual(serverCookie(be, be.servers[0]!), 'a5ceac781dcd2927');
  // without a key, or without "dynamic", there is no value
  const nk = makeBackend('cookie SRV insert dynamic', { s1: '' });
  assert.equal(serverCookie(nk, nk.servers[0]!), undefined);
  const nd = makeBackend('cookie SRV insert', { s1: '', extra: '  dynamic-cookie-key k\n' });
  assert.equal(serverCookie(nd, nd.servers[0]!), undefined);
  // IPv6 addresses hash their 16 bytes; "::ffff:1.2.3.4" and the long form agree
  assert.equal(dynamicCookie('k', '::ffff:1.2.3.4', 80), dynamicCookie('k', '0:0:0:0:0:ffff:102:304', 80));
  assert.match(dynamicCookie('k', '::1', 80)!, /^[0-9a-f]{16}$/);
  assert.equal(dynamicCookie('k', 'not-an-ip', 80), undefined);
});
