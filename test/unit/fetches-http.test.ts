// Layer-7 sample fetches. Expected values come from HAProxy 2.6 (`http-request return ...
// lf-string "%[<expr>,concat(<,,>)]"` and `http-response set-header`, queried with curl), or
// from hand computation where noted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/sample/index.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { HttpHeaders } from '../../src/http/htx.js';
import { parseSampleExpr } from '../../src/sample/expr.js';
import type { Sample } from '../../src/sample/types.js';
import { formatIpv6 } from '../../src/sample/types.js';

type H = [string, string][];
function hdrs(h: H): HttpHeaders {
  return new HttpHeaders(h.map(([name, value]) => ({ name, lname: name.toLowerCase(), value })));
}
function reqCtx(uri: string, h: H, opts: { method?: string; version?: string; src?: string } = {}): SmpCtx {
  const c = new SmpCtx(staticConn(opts.src ?? '127.0.0.1'));
  c.req = { method: opts.method ?? 'GET', uri, version: opts.version ?? 'HTTP/1.1', headers: hdrs(h) };
  c.txnNumber = 1;
  return c;
}
function resCtx(h: H, status = 200, reqUri = '/p?q'): SmpCtx {
  const c = reqCtx(reqUri, [['Host', 'h']]);
  c.res = { version: 'HTTP/1.1', status, reason: 'OK', headers: hdrs(h) };
  c.dir = 'res';
  return c;
}
const expr = (e: string) => parseSampleExpr(e, { where: 'test' });
function ev(e: string, c: SmpCtx): Sample | undefined { return expr(e).eval(c); }
/** The value as text (HAProxy's str cast), or undefined when not found. */
function str(e: string, c: SmpCtx): string | undefined {
  const s = ev(e, c);
  if (s === undefined) return undefined;
  if (s.t === 'bin') return (s.v as Buffer).toString('latin1');
  if (s.t === 'ipv4') return [s.v >>> 24, (s.v >>> 16) & 255, (s.v >>> 8) & 255, s.v & 255].join('.');
  if (s.t === 'ipv6') return formatIpv6(s.v);
  if (s.t === 'bool') return s.v ? '1' : '0';
  return String(s.v);
}
function all(e: string, c: SmpCtx): string[] | undefined {
  return expr(e).evalAll(c)?.map((s) => (s.t === 'ipv4' ? [s.v >>> 24, (s.v >>> 16) & 255, (s.v >>> 8) & 255, s.v & 255].join('.') : s.t === 'ipv6' ? formatIpv6(s.v) : String(s.v)));
}
function rejects(e: string): void { assert.throws(() => expr(e)); }

// the request of the first HAProxy run
const R1: H = [
  ['Host', '127.0.0.1:18105'], ['User-Agent', 'curl/7.88.1'], ['Accept', '*/*'],
  ['X', 'a, b ,c'], ['x', '"d,e",f'], ['ip', '1.2.3.4:80'], ['n', '42abc'],
  ['Cookie', 'c=1; d=2, c=3'], ['Cookie', '$x=1; c = 5 ; e'],
];
const U1 = '/a/b?a=1&b=2;J=3&n=12x';

test('request line: path, pathq, url, query, method, versions', () => {
  const c = reqCtx(U1, R1);
  assert.equal(str('path', c), '/a/b');
  assert.equal(str('pathq', c), U1);
  assert.equal(str('url', c), U1);
  assert.equal(str('query', c), 'a=1&b=2;J=3&n=12x');
  assert.equal(str('query(with_qm)', c), '?a=1&b=2;J=3&n=12x');
  assert.deepEqual(ev('method', c), { t: 'meth', v: 'GET' });
  assert.equal(str('req.ver', c), '1.1');
  assert.equal(str('req_ver', c), '1.1');
  assert.equal(str('capture.req.method', c), 'GET');
  assert.equal(str('capture.req.uri', c), U1);
  assert.equal(str('capture.req.ver', c), 'HTTP/1.1');
  assert.equal(str('req.proto_http', c), '1');
  assert.equal(str('req_proto_http', c), '1');
  assert.equal(str('http_first_req', c), '1');
  c.txnNumber = 2;
  assert.equal(str('http_first_req', c), '0');
  // query present but empty; with_qm adds nothing then; no query at all
  assert.equal(str('query', reqCtx('/x?', [])), '');
  assert.equal(str('query(with_qm)', reqCtx('/x?', [])), '');
  assert.equal(str('query', reqCtx('/x', [])), undefined);
  assert.equal(str('req.ver', reqCtx('/', [], { version: 'HTTP/1.0' })), '1.0');
  rejects('query(foo)');
});

test('absolute-form, authority-form and asterisk targets', () => {
  // HAProxy 2.6: target http://example.com:81/x/y?z=1 with Host example.com:81
  const a = reqCtx('http://example.com:81/x/y?z=1', [['Host', 'example.com:81']]);
  assert.equal(str('path', a), '/x/y');
  assert.equal(str('pathq', a), '/x/y?z=1');
  assert.equal(str('base', a), 'example.com:81/x/y');
  assert.equal(str('baseq', a), 'example.com:81/x/y?z=1');
  assert.equal(str('capture.req.uri', a), '/x/y?z=1');
  assert.equal(str('query', a), 'z=1');
  assert.equal(str('url_ip', a), undefined);
  assert.equal(str('url_port', a), undefined);
  // target http://1.2.3.4:8080?x&b=&a=2;n=-7.5 without Host: no path
  const b = reqCtx('http://1.2.3.4:8080?x&b=&a=2;n=-7.5', []);
  assert.equal(str('path', b), undefined);
  assert.equal(str('pathq', b), undefined);
  assert.equal(str('base', b), undefined);
  assert.equal(str('baseq', b), undefined);
  assert.equal(str('query', b), 'x&b=&a=2;n=-7.5');
  assert.equal(str('url_ip', b), '1.2.3.4');
  assert.equal(str('url_port', b), '8080');
  // http://9.8.7.6/ : default port 80
  const d = reqCtx('http://9.8.7.6/', [['Host', '9.8.7.6']]);
  assert.equal(str('url_ip', d), '9.8.7.6');
  assert.equal(str('url_port', d), '80');
  assert.equal(str('base', d), '9.8.7.6/');
  // https defaults to 443; other schemes and malformed addresses have no address (hand-checked)
  assert.equal(str('url_port', reqCtx('HTTPS://9.8.7.6/x', [])), '443');
  assert.equal(str('url_ip', reqCtx('ftp://9.8.7.6/', [])), undefined);
  assert.equal(str('url_ip', reqCtx('http://1.2.3.4.5/', [])), undefined);
  assert.equal(str('url_ip', reqCtx('http://[::1]/', [])), undefined);
  assert.equal(str('url_ip', reqCtx('/x', [])), undefined);
  // CONNECT host:port and OPTIONS *: no path
  assert.equal(str('path', reqCtx('example.com:443', [], { method: 'CONNECT' })), undefined);
  assert.equal(str('path', reqCtx('*', [], { method: 'OPTIONS' })), undefined);
  assert.equal(str('url', reqCtx('*', [], { method: 'OPTIONS' })), '*');
});

test('base, baseq and their hashes (values from HAProxy 2.6)', () => {
  const c = reqCtx('/a/b?a=1', [['Host', '127.0.0.1:18105']]);
  assert.equal(str('base', c), '127.0.0.1:18105/a/b');
  assert.equal(str('baseq', c), '127.0.0.1:18105/a/b?a=1');
  assert.deepEqual(ev('base32', c), { t: 'sint', v: 1205227141 });
  assert.equal(str('base32', reqCtx('http://example.com:81/x/y?z=1', [['Host', 'example.com:81']])), '1124090865');
  assert.equal(str('url32', reqCtx('http://example.com:81/x/y?z=1', [['Host', 'example.com:81']])), '898185915');
  assert.equal(str('url32', reqCtx(U1, [['Host', '127.0.0.1:18106']])), '1393349171');
  assert.equal(str('url32', reqCtx('http://9.8.7.6/', [['Host', '9.8.7.6']])), '2466454035');
  assert.equal(str('base32', reqCtx('http://9.8.7.6/', [['Host', '9.8.7.6']])), '2466454035');
  // neither host nor path: the avalanche of 0
  assert.equal(str('base32', reqCtx('http://1.2.3.4:8080?x', [])), '2874071335');
  assert.equal(str('url32', reqCtx('http://1.2.3.4:8080?x', [])), '2874071335');
  const s = ev('base32+src', reqCtx('/a/b', [['Host', '127.0.0.1:18107']]))!;
  assert.equal(s.t, 'bin');
  assert.equal((s.v as Buffer).toString('hex'), '4641643d7f000001');
  // IPv6 source: 4 + 16 bytes
  const s6 = ev('url32+src', reqCtx('/a/b', [['Host', '127.0.0.1:18107']], { src: '2001:db8::1' }))!;
  assert.equal((s6.v as Buffer).length, 20);
  assert.equal((s6.v as Buffer).subarray(4).toString('hex'), '20010db8000000000000000000000001');
  // base without Host is the path; with an empty Host too
  assert.equal(str('base', reqCtx('/p?q', [])), '/p');
  assert.equal(str('baseq', reqCtx('/p?q', [['Host', '']])), '/p?q');
});

test('url parameters', () => {
  const c = reqCtx(U1, R1);
  assert.equal(str('urlp', c), '1');
  assert.equal(str('urlp(a)', c), '1');
  assert.equal(str('url_param(a)', c), '1');
  assert.equal(str('urlp(J,;)', c), '3');
  assert.equal(str('urlp_val(n)', c), '12');
  const b = reqCtx('http://1.2.3.4:8080?x&b=&a=2;n=-7.5', []);
  assert.equal(str('urlp', b), '');           // first '=' is after b
  assert.equal(str('urlp(b)', b), '');
  assert.equal(str('urlp(x)', b), undefined);  // no '='
  assert.equal(str('urlp(a,;)', b), undefined); // the list starts after the first ';'
  assert.equal(str('urlp(n,;)', b), '-7.5');
  assert.equal(str('urlp_val(n)', b), '-685'); // HAProxy's lenient parse of "-7.5"
  // case-insensitive names (3.2 third argument; hand-checked)
  assert.equal(str('urlp(B,,i)', reqCtx('/?A=1&b=2', [])), '2');
  assert.equal(str('urlp(B)', reqCtx('/?A=1&b=2', [])), undefined);
  // ACL form iterates over every value
  assert.deepEqual(all('urlp', reqCtx('/?a=1&b&c=3', [])), ['1', '3']);
  assert.deepEqual(all('urlp(a)', reqCtx('/?a=1&b=2&a=3', [])), ['1', '3']);
  assert.deepEqual(all('urlp_val(a)', reqCtx('/?a=1&b=2&a=3', [])), ['1', '3']);
  assert.equal(str('urlp(a)', reqCtx('/x', [])), undefined);
  assert.deepEqual(all('urlp(a)', reqCtx('/x', [])), []);
});

test('request headers: occurrences, comma lists, counts', () => {
  const c = reqCtx(U1, R1);
  assert.equal(str('req.hdr(x)', c), 'f');
  assert.equal(str('hdr(x)', c), 'f');
  assert.equal(str('req.hdr(X,1)', c), 'a');
  assert.equal(str('req.hdr(x,-2)', c), '"d,e"');
  assert.equal(str('req.fhdr(x)', c), '"d,e",f');
  assert.equal(str('req.hdr_cnt(x)', c), '5');
  assert.equal(str('hdr_cnt(x)', c), '5');
  assert.equal(str('req.fhdr_cnt(x)', c), '2');
  assert.equal(str('req.hdr_cnt', c), '13');
  assert.equal(str('req.fhdr_cnt', c), '9');
  assert.equal(str('req.hdr()', c), '$x=1; c = 5 ; e');
  assert.equal(str('req.hdr_val(n)', c), '42');
  assert.equal(str('hdr_val(n)', c), '42');
  assert.equal(str('req.hdr_ip(ip)', c), '1.2.3.4');
  assert.equal(str('hdr_ip(ip)', c), '1.2.3.4');
  assert.deepEqual(all('req.hdr(x)', c), ['a', 'b', 'c', '"d,e"', 'f']);
  assert.deepEqual(all('req.fhdr(x)', c), ['a, b ,c', '"d,e",f']);
  assert.deepEqual(all('req.hdr(x,2)', c), ['b']);
  // empty elements count and are returned (HAProxy 2.6: "e: ,a,,  ,b,")
  const e = reqCtx('/', [['User-Agent', 'curl/7.88.1'], ['e', ',a,,  ,b,']]);
  assert.equal(str('req.hdr(e)', e), '');
  assert.equal(str('req.hdr_cnt(e)', e), '6');
  assert.equal(str('req.hdr(e,2)', e), 'a');
  assert.equal(str('req.hdr(e,3)', e), '');
  assert.equal(str('req.hdr(e,0)', e), '');
  assert.equal(str('req.hdr(e,-4)', e), '');
  assert.equal(str('req.hdr(e,-7)', e), undefined);
  assert.equal(str('req.hdr(e,7)', e), undefined);
  assert.equal(str('req.hdr(,1)', e), 'curl/7.88.1');
  assert.equal(str('req.fhdr()', e), ',a,,  ,b,');
  assert.equal(str('req.fhdr(e,-1)', e), ',a,,  ,b,');
  assert.equal(str('req.hdr(nope)', e), undefined);
  assert.equal(str('req.hdr_cnt(nope)', e), '0');
  assert.deepEqual(all('req.hdr(nope)', e), []);
  rejects('req.hdr(x,abc)');
  rejects('req.hdr(x,1,2)');
});

test('header addresses and integer values', () => {
  const c = reqCtx('/', [['ip', '[::1], 1.2.3.4:99999, ::ffff:1.2.3.4, 1.2.3.4:0x'], ['n', '99999999999'], ['n', '-0x']]);
  assert.equal(str('req.hdr_ip(ip)', c), undefined);       // HAProxy 2.6
  assert.equal(str('req.hdr_ip(ip,2)', c), undefined);     // port out of range
  assert.equal(str('req.hdr_ip(ip,3)', c), '::ffff:1.2.3.4');
  assert.equal(str('req.hdr_ip(ip,4)', c), undefined);
  assert.equal(str('req.hdr_ip(ip,1)', c), '::1');         // 3.2 doc: bracketed IPv6
  assert.deepEqual(all('req.hdr_ip(ip)', c), ['::1', '::ffff:1.2.3.4']);
  assert.equal(str('req.hdr_ip(x)', reqCtx('/', [['x', '10.0.0.1:65535']])), '10.0.0.1');
  assert.equal(str('req.hdr_ip(x)', reqCtx('/', [['x', 'garbage']])), undefined);
  assert.equal(str('req.hdr_val(n)', c), '0');
  assert.equal(str('req.hdr_val(n,1)', c), '1215752191');  // wraps as a 32-bit int
  assert.deepEqual(all('req.hdr_val(n)', c), ['1215752191', '0']);
  assert.equal(str('req.hdr_val(none)', c), undefined);
});

test('header names and header blocks', () => {
  const c = reqCtx('/', [['User-Agent', 'curl/7.88.1'], ['Accept', '*/*'], ['Cookie', 'a=1'], ['e', 'x']]);
  assert.equal(str('req.hdr_names', c), 'user-agent,accept,cookie,e');
  assert.equal(str('req.hdr_names(;x)', c), 'user-agent;accept;cookie;e');
  assert.equal(str('req.hdr_names', reqCtx('/', [])), '');
  const h = reqCtx('/', [['Host', '127.0.0.1:18134'], ['X', 'a, b ,c']]);
  assert.equal(str('req.hdrs', h), 'host: 127.0.0.1:18134\r\nx: a, b ,c\r\n\r\n');
  assert.equal(str('req.hdrs', reqCtx('/', [])), '\r\n');
  const b = ev('req.hdrs_bin', h)!;
  assert.equal(b.t, 'bin');
  assert.equal((b.v as Buffer).toString('hex').toUpperCase(), '04686F73740F3132372E302E302E313A3138313334' + '0178' + '07612C2062202C63' + '0000');
  // a 300-byte value: length encoded FC 03 (HAProxy 2.6 and the SPOE varint by hand)
  const l = ev('req.hdrs_bin', reqCtx('/', [['L', 'v'.repeat(300)]]))!.v as Buffer;
  assert.equal(l.subarray(0, 4).toString('hex'), '016cfc03');
  assert.equal(l.length, 1 + 1 + 2 + 300 + 2); // name len, name, value len (2 bytes), value, end
  assert.equal((ev('req.hdrs_bin', reqCtx('/', []))!.v as Buffer).toString('hex'), '0000');
});

test('request cookies', () => {
  const c = reqCtx(U1, R1);
  assert.equal(str('req.cook(c)', c), '5');
  assert.equal(str('cook(c)', c), '5');
  assert.equal(str('req.cook', c), '1');
  assert.equal(str('req.cook_cnt(c)', c), '3');
  assert.equal(str('cook_cnt(c)', c), '3');
  assert.equal(str('req.cook_cnt', c), '4');
  assert.equal(str('req.cook_val(c)', c), '5');
  assert.equal(str('cook_val(c)', c), '5');
  assert.deepEqual(all('req.cook(c)', c), ['1', '3', '5']);
  assert.deepEqual(all('req.cook_val(c)', c), ['1', '3', '5']);
  assert.equal(str('req.cook_names', c), 'c,d,c,c');
  assert.equal(str('req.cook_names(;)', c), 'c;d;c;c');
  const d = reqCtx('/', [['Cookie', 'b=x y ; q="a;b"; n=-12.9; z=']]);
  assert.equal(str('req.cook(b)', d), 'x y');
  assert.equal(str('req.cook(q)', d), '"a;b"');
  assert.equal(str('req.cook_val(n)', d), '-1189');
  assert.equal(str('req.cook(z)', d), '');
  assert.equal(str('req.cook(a)', d), undefined);
  assert.equal(str('req.cook', d), 'x y');
  assert.equal(str('req.cook_cnt(z)', d), '1');
  const e = reqCtx('/', [['Cookie', 'c=1, d=2;x;$c=7']]);
  assert.equal(str('req.cook(c)', e), '1');
  assert.equal(str('req.cook(d)', e), '2');
  assert.equal(str('req.cook_cnt', e), '2');
  const none = reqCtx('/', []);
  assert.equal(str('req.cook_cnt', none), '0');
  assert.equal(str('req.cook(c)', none), undefined);
  assert.equal(str('req.cook_names', none), '');
  // cookie() follows the rule's direction
  assert.equal(str('cookie(c)', c), '5');
});

test('response fetches (HAProxy 2.6 http-response)', () => {
  const c = resCtx([
    ['Set-Cookie', 'a=1; Path=/; b=2'], ['Set-Cookie', 'c = 3 , d=4'], ['Set-Cookie', 'a=5'],
    ['Set-Cookie', '=1; e=2'], ['Set-Cookie', 'noeq; f=1'], ['X-Y', '1, 2'], ['X-Ip', '[::1]'],
    ['content-length', '5'], ['content-type', 'text/plain'],
  ], 203);
  c.resBody = Buffer.from('hello');
  assert.equal(str('res.cook(a)', c), '5');
  assert.equal(str('scook(a)', c), '5');
  assert.equal(str('cookie(a)', c), '5');
  assert.equal(str('res.cook', c), '1');
  assert.equal(str('res.cook(d)', c), '4');
  assert.equal(str('res.cook(c)', c), '3');
  assert.equal(str('res.cook(f)', c), '1');
  assert.equal(str('res.cook_cnt', c), '9');
  assert.equal(str('scook_cnt(a)', c), '2');
  assert.equal(str('res.cook_cnt(a)', c), '2');
  assert.equal(str('res.cook_val(a)', c), '5');
  assert.equal(str('scook_val(a)', c), '5');
  assert.equal(str('res.cook_names', c), 'a,Path,b,c,d,a,,e,f');
  assert.equal(str('res.hdr(x-y)', c), '2');
  assert.equal(str('shdr(x-y)', c), '2');
  assert.equal(str('hdr(x-y)', c), '2');
  assert.equal(str('res.fhdr(x-y)', c), '1, 2');
  assert.equal(str('res.hdr_cnt', c), '11');
  assert.equal(str('shdr_cnt(x-y)', c), '2');
  assert.equal(str('res.fhdr_cnt', c), '9');
  assert.equal(str('res.fhdr_cnt(set-cookie)', c), '5');
  assert.equal(str('res.hdr_ip(x-ip)', c), '::1');   // 3.2: bracketed IPv6
  assert.equal(str('shdr_ip(x-ip)', c), '::1');
  assert.equal(str('res.hdr_val(x-y)', c), '2');
  assert.equal(str('shdr_val(x-y,1)', c), '1');
  assert.equal(str('res.hdr_names', c), 'set-cookie,set-cookie,set-cookie,set-cookie,set-cookie,x-y,x-ip,content-length,content-type');
  assert.equal(str('res.hdr_names(;)', c), 'set-cookie;set-cookie;set-cookie;set-cookie;set-cookie;x-y;x-ip;content-length;content-type');
  assert.equal(str('res.ver', c), '1.1');
  assert.equal(str('resp_ver', c), '1.1');
  assert.equal(str('status', c), '203');
  assert.equal(str('capture.req.method', c), 'GET');
  assert.equal(str('capture.req.uri', c), '/p?q');
  assert.equal(str('capture.req.ver', c), 'HTTP/1.1');
  assert.equal(str('capture.res.ver', c), 'HTTP/1.1');
  assert.equal(str('res.body_len', c), '5');
  assert.equal(str('res.body_size', c), '5');
  assert.equal(str('res.body', c), 'hello');
  assert.equal(str('res.hdrs', resCtx([['A', 'b']])), 'a: b\r\n\r\n');
  const hb = (ev('res.hdrs_bin', c)!.v as Buffer).toString('hex').toUpperCase();
  assert.equal(hb, '0A7365742D636F6F6B696510613D313B20506174683D2F3B20623D320A7365742D636F6F6B69650B63203D2033202C20643D340A7365742D636F6F6B696503613D350A7365742D636F6F6B6965073D313B20653D320A7365742D636F6F6B6965096E6F65713B20663D3103782D7904312C203204782D6970055B3A3A315D0E636F6E74656E742D6C656E67746801350C636F6E74656E742D747970650A746578742F706C61696E0000');
});

test('no response, no request', () => {
  const c = reqCtx('/', [['Host', 'h']]);
  for (const e of ['status', 'res.hdr(x)', 'res.hdr_cnt', 'res.cook(a)', 'res.ver', 'res.body', 'res.hdrs', 'res.hdrs_bin', 'capture.res.ver', 'res.hdr_names']) {
    assert.equal(ev(e, c), undefined, e);
  }
  // a context without any request (e.g. a TCP rule before any data, final)
  const t = new SmpCtx(staticConn());
  for (const e of ['path', 'url', 'method', 'req.hdr(host)', 'req.hdr_cnt', 'req.cook(a)', 'req.cook_cnt', 'base32', 'req.body', 'req.ver', 'req.proto_http', 'urlp(a)', 'req.hdrs', 'http_first_req']) {
    assert.equal(ev(e, t), undefined, e);
  }
  assert.equal(t.wantMore, false);
  t.final = false;
  assert.equal(ev('path', t), undefined);
  assert.equal(t.wantMore, true);
});

test('TCP proxies: the request bytes are parsed as an HTTP/1 request', () => {
  const t = new SmpCtx(staticConn());
  t.final = false;
  t.reqPayload = Buffer.from('GET /x?a=1 HTTP/1.1\r\nHost: example.com\r\n');
  assert.equal(ev('req.proto_http', t), undefined);
  assert.equal(t.wantMore, true);
  t.wantMore = false;
  t.reqPayload = Buffer.from('GET /x?a=1 HTTP/1.1\r\nHost: example.com\r\n\r\n');
  assert.equal(str('req.proto_http', t), '1');
  assert.equal(str('path', t), '/x');
  assert.equal(str('req.hdr(host)', t), 'example.com');
  assert.equal(str('req.ver', t), '1.1');
  assert.equal(str('method', t), 'GET');
  assert.equal(t.wantMore, false);
  const bad = new SmpCtx(staticConn());
  bad.reqPayload = Buffer.from('\x16\x03\x01\x00\x05hello');
  assert.equal(ev('req.proto_http', bad), undefined);
  assert.equal(ev('path', bad), undefined);
});

test('request body and body parameters (HAProxy 2.6 with http-buffer-request)', () => {
  const c = reqCtx('/', [['content-length', '15'], ['content-type', 'application/x-www-form-urlencoded']], { method: 'POST' });
  c.reqBody = Buffer.from('x&a=1&b=2=3&B=4');
  c.reqBodyComplete = true;
  assert.equal(str('req.body_param', c), '1');
  assert.equal(str('req.body_param(b)', c), '2=3');
  assert.equal(str('req.body_param(B)', c), '4');
  assert.equal(str('req.body_param(B,i)', c), '2=3'); // hand-checked: first case-insensitive match
  assert.equal(str('req.body_param(zz)', c), undefined);
  assert.deepEqual(all('req.body_param', c), ['1', '2=3', '4']);
  assert.equal(str('req.body_len', c), '15');
  assert.equal(str('req.body_size', c), '15');
  assert.equal(str('req.body', c), 'x&a=1&b=2=3&B=4');
  assert.equal(ev('req.body', c)!.t, 'bin');
  // chunked: the size is what is available
  const k = reqCtx('/', [['transfer-encoding', 'chunked']], { method: 'POST' });
  k.reqBody = Buffer.from('abc');
  k.reqBodyComplete = true;
  assert.equal(str('req.body_size', k), '3');
  // no body waited for: empty
  const g = reqCtx('/', []);
  assert.equal(str('req.body_len', g), '0');
  assert.equal(str('req.body', g), '');
  // incomplete body while more may come: the value may change, the rule should wait
  const p = reqCtx('/', [['content-length', '100']], { method: 'POST' });
  p.reqBody = Buffer.from('a=1');
  p.final = false;
  const s = ev('req.body_len', p)!;
  assert.equal(s.v, 3);
  assert.equal(s.mayChange, true);
  assert.equal(p.wantMore, true);
  assert.equal(str('req.body_size', p), '100');
});

test('status, server_status, unique-id, captures, timers', () => {
  const c = resCtx([], 404);
  assert.equal(str('status', c), '404');
  assert.equal(ev('txn.status', c), undefined);
  c.status = 503;
  assert.equal(str('txn.status', c), '503');
  assert.equal(ev('server_status', c), undefined);
  c.serverStatus = 404;
  assert.equal(str('server_status', c), '404');
  assert.equal(ev('unique-id', c), undefined);
  c.uniqueId = 'abc';
  assert.equal(str('unique-id', c), 'abc');
  const g = resCtx([]);
  g.stream = { bytesIn: 0, bytesOut: 0, genUniqueId: () => { g.uniqueId = 'gen'; return 'gen'; } };
  assert.equal(str('unique-id', g), 'gen');
  c.reqCaptures = ['host.example', undefined];
  c.resCaptures = [undefined, 'srv'];
  assert.equal(str('capture.req.hdr(0)', c), 'host.example');
  assert.equal(ev('capture.req.hdr(1)', c), undefined);
  assert.equal(ev('capture.req.hdr(5)', c), undefined);
  assert.equal(str('capture.res.hdr(1)', c), 'srv');
  rejects('capture.req.hdr(-1)');
  rejects('capture.req.hdr');
  rejects('capture.res.hdr(x)');
  c.timers = { handshake: 2, idle: 3, request: 5, queue: 7, connect: 11, response: 13 };
  assert.equal(str('req.timer.hdr', c), '5');
  assert.equal(str('req.timer.idle', c), '3');
  assert.equal(str('req.timer.queue', c), '7');
  assert.equal(str('req.timer.tq', c), '10');
  assert.equal(str('res.timer.hdr', c), '13');
  c.timers.request = -1;
  assert.equal(str('req.timer.tq', c), '-1');
});
