// HTTP/1.x codec (src/http/h1.ts): heads, framing, the hostile corpus, chunked bodies, output.
//
// "haproxy 2.6:" comments record what the real haproxy 2.6.12 (Debian) did with the same bytes,
// probed with `defaults mode http` + a frontend forwarding to a TCP server recording what it
// received. "regtest:" refers to HAProxy's reg-tests/http-messaging/http_transfer_encoding.vtc.
// "3.2 doc:" refers to /work/shared/reference/haproxy-3.2/configuration.txt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRequestHead, parseResponseHead, ChunkedDecoder, formatRequestHead, formatResponseHead,
  encodeChunk, encodeLastChunk, type H1Options, type H1RequestResult, type H1ResponseResult,
} from '../../src/http/h1.js';
import { HttpHeaders } from '../../src/http/htx.js';

const O: H1Options = { maxHeadBytes: 16384 - 1024, maxHeaders: 101 };
const U: H1Options = { ...O, acceptUnsafe: true };
const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const req = (s: string, o: H1Options = O): H1RequestResult => parseRequestHead(b(s), o);
const resp = (s: string, m = 'GET', o: H1Options = O): H1ResponseResult => parseResponseHead(b(s), m, o);

type ReqOk = Extract<H1RequestResult, { state: 'ok' }>;
type RespOk = Extract<H1ResponseResult, { state: 'ok' }>;
function okReq(r: H1RequestResult): ReqOk {
  assert.equal(r.state, 'ok', JSON.stringify(r));
  return r as ReqOk;
}
function okResp(r: H1ResponseResult): RespOk {
  assert.equal(r.state, 'ok', JSON.stringify(r));
  return r as RespOk;
}
function status(r: H1RequestResult | H1ResponseResult): number {
  assert.equal(r.state, 'error', JSON.stringify(r));
  return (r as { status: number }).status;
}
const fields = (r: ReqOk | RespOk): [string, string][] => r.head.headers.list.map((h) => [h.name, h.value]);

const BROWSER_GET =
  'GET /static/app.js?v=42 HTTP/1.1\r\n' +
  'Host: www.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
  'Accept: */*\r\n' +
  'Accept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Referer: https://www.example.com/\r\n' +
  'Connection: keep-alive\r\n' +
  'Cookie: session=abc123; theme=dark\r\n' +
  '\r\n';

describe('h1 request heads', () => {
  it('parses a browser GET', () => {
    const r = okReq(req(BROWSER_GET));
    assert.equal(r.head.method, 'GET');
    assert.equal(r.head.uri, '/static/app.js?v=42');
    assert.equal(r.head.version, 'HTTP/1.1');
    assert.equal(r.headLength, BROWSER_GET.length);
    assert.deepEqual(r.framing, { kind: 'none' });
    assert.equal(r.wantsClose, false);
    assert.equal(r.clAndTe, false);
    assert.equal(r.expectContinue, false);
    assert.equal(r.upgrade, false);
    assert.equal(r.head.headers.size, 8);
    assert.equal(r.head.headers.list[0]!.name, 'Host');
    assert.equal(r.head.headers.list[0]!.lname, 'host');
    assert.equal(r.head.headers.get('user-agent'), 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0');
  });

  it('gives every framing', () => {
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n')).framing, { kind: 'length', length: 12 });
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n')).framing, { kind: 'length', length: 0 });
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')).framing, { kind: 'chunked' });
    // transfer codings are case-insensitive (haproxy 2.6: "CHUNKED" forwarded as chunked)
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n')).framing, { kind: 'chunked' });
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\n\r\n')).framing, { kind: 'none' });
  });

  it('computes wantsClose from the version and Connection', () => {
    assert.equal(okReq(req('GET / HTTP/1.1\r\n\r\n')).wantsClose, false);
    assert.equal(okReq(req('GET / HTTP/1.1\r\nConnection: close\r\n\r\n')).wantsClose, true);
    assert.equal(okReq(req('GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n')).wantsClose, true);
    assert.equal(okReq(req('GET / HTTP/1.0\r\n\r\n')).wantsClose, true);
    assert.equal(okReq(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')).wantsClose, false);
    assert.equal(okReq(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n')).wantsClose, true);
  });

  it('detects Expect: 100-continue and upgrades', () => {
    assert.equal(okReq(req('POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n')).expectContinue, true);
    assert.equal(okReq(req('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n')).expectContinue, false);
    const u = okReq(req('GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
    assert.equal(u.upgrade, true);
    // a WebSocket upgrade needs a valid key (16 bytes in base64), unless unsafe violations are accepted
    assert.equal(status(req('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')), 400);
    assert.equal(status(req('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n')), 400);
    assert.equal(req('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', { ...O, acceptUnsafe: true }).state, 'ok');
    assert.equal(okReq(req('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n')).upgrade, false);
    assert.equal(okReq(req('GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n')).upgrade, false);
  });

  it('keeps absolute-form, authority-form and * targets as they are', () => {
    assert.equal(okReq(req('GET http://x.y:8080/a?b=c HTTP/1.1\r\nHost: x.y:8080\r\n\r\n')).head.uri, 'http://x.y:8080/a?b=c');
    // the authority must match Host (haproxy 2.6 and the 3.2 docs), unless unsafe violations are accepted
    assert.equal(status(req('GET http://x.y/a HTTP/1.1\r\nHost: other\r\n\r\n')), 400);
    assert.equal(req('GET http://x.y/a HTTP/1.1\r\nHost: other\r\n\r\n', { ...O, acceptUnsafe: true }).state, 'ok');
    assert.equal(status(req('CONNECT x.y HTTP/1.1\r\nHost: x.y\r\n\r\n')), 400, 'CONNECT needs host:port');
    assert.equal(okReq(req('CONNECT x.y:443 HTTP/1.1\r\nHost: x.y:443\r\n\r\n')).head.uri, 'x.y:443');
    assert.equal(okReq(req('OPTIONS * HTTP/1.1\r\n\r\n')).head.uri, '*');
  });

  it('drops the default port of an absolute-form http/https target, from the target and Host', () => {
    const r1 = okReq(req('GET http://x.y:80/a HTTP/1.1\r\nHost: x.y:80\r\n\r\n'));
    assert.equal(r1.head.uri, 'http://x.y/a');
    assert.equal(r1.head.headers.get('host'), 'x.y');
    const r2 = okReq(req('GET HTTPS://x.y:443 HTTP/1.1\r\nHost: x.y:443\r\n\r\n'));
    assert.equal(r2.head.uri, 'HTTPS://x.y');
    assert.equal(r2.head.headers.get('host'), 'x.y');
    assert.equal(okReq(req('GET http://x.y:/a HTTP/1.1\r\nHost: x.y:\r\n\r\n')).head.uri, 'http://x.y/a', 'empty port');
    assert.equal(okReq(req('GET https://x.y:80/a HTTP/1.1\r\nHost: x.y:80\r\n\r\n')).head.uri, 'https://x.y:80/a', 'not the default of https');
    assert.equal(okReq(req('GET http://[::1]:80/a HTTP/1.1\r\nHost: [::1]:80\r\n\r\n')).head.uri, 'http://[::1]/a');
    assert.equal(okReq(req('GET http://[::1]/a HTTP/1.1\r\nHost: [::1]\r\n\r\n')).head.uri, 'http://[::1]/a');
    assert.equal(okReq(req('GET /a HTTP/1.1\r\nHost: x.y:80\r\n\r\n')).head.headers.get('host'), 'x.y:80', 'origin-form: Host untouched');
  });

  it('accepts any token method, several blanks between the parts (haproxy 2.6 too)', () => {
    assert.equal(okReq(req('get / HTTP/1.1\r\n\r\n')).head.method, 'get');
    assert.equal(okReq(req("X-Y_Z!~ / HTTP/1.1\r\n\r\n")).head.method, "X-Y_Z!~");
    const r = okReq(req('GET  /a \tHTTP/1.1\r\n\r\n'));
    assert.equal(r.head.uri, '/a');
    assert.equal(r.head.version, 'HTTP/1.1');
  });

  it('trims blanks around values and keeps empty values', () => {
    const r = okReq(req('GET / HTTP/1.1\r\nX:  a b \t \r\nY:\r\nZ: \r\n\r\n'));
    assert.deepEqual(fields(r), [['X', 'a b'], ['Y', ''], ['Z', '']]);
  });

  it('skips empty lines before the request line (haproxy 2.6: CRLF and LF)', () => {
    const r = okReq(req('\r\n\r\n\nGET / HTTP/1.1\r\n\r\n'));
    assert.equal(r.headLength, 23);
    assert.equal(req('\r\n\r\n').state, 'incomplete');
  });

  it('accepts bare LF line endings (haproxy 2.6 forwards "GET / HTTP/1.1\\nHost: a\\n\\n")', () => {
    const s = 'GET / HTTP/1.1\nHost: a\r\nX: b\n\n';
    const r = okReq(req(s));
    assert.equal(r.headLength, s.length);
    assert.deepEqual(fields(r), [['Host', 'a'], ['X', 'b']]);
  });

  it('is incomplete at every split point of the head, then complete', () => {
    const full = b(BROWSER_GET);
    for (let i = 0; i < full.length; i++) {
      assert.equal(parseRequestHead(full.subarray(0, i), O).state, 'incomplete', `prefix ${i}`);
    }
    assert.equal(okReq(parseRequestHead(full, O)).headLength, full.length);
    const lf = b('POST /x HTTP/1.1\nA: 1\n  2\nContent-Length: 3\n\n');
    for (let i = 0; i < lf.length; i++) assert.equal(parseRequestHead(lf.subarray(0, i), O).state, 'incomplete', `prefix ${i}`);
    assert.equal(okReq(parseRequestHead(lf, O)).head.headers.get('a'), '1   2');
  });

  it('stops headLength at the end of each pipelined request', () => {
    const one = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
    const two = 'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello';
    const three = 'GET /3 HTTP/1.1\r\nHost: a\r\n\r\n';
    const all = b(one + two + three);
    const r1 = okReq(parseRequestHead(all, O));
    assert.equal(r1.head.uri, '/1');
    assert.equal(r1.headLength, one.length);
    const r2 = okReq(parseRequestHead(all.subarray(r1.headLength), O));
    assert.equal(r2.head.uri, '/2');
    assert.equal(r2.headLength, two.length - 5);
    assert.deepEqual(r2.framing, { kind: 'length', length: 5 });
    const r3 = okReq(parseRequestHead(all.subarray(r1.headLength + r2.headLength + 5), O));
    assert.equal(r3.head.uri, '/3');
    assert.equal(r3.headLength, three.length);
  });

  it('maps versions like haproxy', () => {
    assert.equal(okReq(req('GET / HTTP/1.0\r\n\r\n')).head.version, 'HTTP/1.0');
    // haproxy 2.6: "HTTP/1.2" and "HTTP/2.0" requests are forwarded as "HTTP/1.1"
    assert.equal(okReq(req('GET / HTTP/1.2\r\n\r\n')).head.version, 'HTTP/1.1');
    assert.equal(okReq(req('GET / HTTP/2.0\r\n\r\n')).head.version, 'HTTP/1.1');
    // haproxy 2.6: "HTTP/0.9" written out is forwarded and handled like 1.0
    assert.equal(okReq(req('GET / HTTP/0.9\r\n\r\n')).head.version, 'HTTP/1.0');
    // haproxy 2.6: 400 for all of these
    assert.equal(status(req('GET /\r\n\r\n')), 400); // HTTP/0.9
    assert.equal(status(req('GET / http/1.1\r\n\r\n')), 400);
    assert.equal(status(req('GET / HTTP/1.10\r\n\r\n')), 400);
    assert.equal(status(req('GET / RTSP/1.0\r\n\r\n')), 400);
    assert.equal(status(req('GET / HTTP/1.1 \r\n\r\n')), 400);
    // 3.2 doc: accept-unsafe-violations-in-http-request allows other names and several digits
    assert.equal(okReq(req('GET / RTSP/1.0\r\n\r\n', U)).head.version, 'HTTP/1.0');
    assert.equal(okReq(req('GET / HTTP/1.10\r\n\r\n', U)).head.version, 'HTTP/1.1');
    // HTTP/0.9 stays refused: the model has no HTTP/0.9
    assert.equal(status(req('GET /\r\n\r\n', U)), 400);
  });
});

describe('h1 request errors and the hostile corpus', () => {
  // [name, raw request, expected status]
  const cases: [string, string, number][] = [
    // method / request line (haproxy 2.6: 400 for each)
    ['invalid method char', 'G(T / HTTP/1.1\r\n\r\n', 400],
    ['leading space', ' GET / HTTP/1.1\r\n\r\n', 400],
    ['method only', 'GET\r\n\r\n', 400],
    ['empty URI', 'GET  HTTP/1.1\r\n\r\n', 400],
    ['CR alone in request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 400],
    // URI: 3.2 doc refuses these by default (haproxy 2.6 still let '"', '<', '{' and DEL through)
    ['URI with "', 'GET /a"b HTTP/1.1\r\n\r\n', 400],
    ['URI with <', 'GET /a<b HTTP/1.1\r\n\r\n', 400],
    ['URI with {', 'GET /a{b HTTP/1.1\r\n\r\n', 400],
    ['URI with |', 'GET /a|b HTTP/1.1\r\n\r\n', 400],
    ['URI with DEL', 'GET /a\x7fb HTTP/1.1\r\n\r\n', 400],
    ['URI with 8-bit byte (haproxy 2.6: 400)', 'GET /a\xe9b HTTP/1.1\r\n\r\n', 400],
    ['URI with fragment (haproxy 2.6: 400)', 'GET /a#b HTTP/1.1\r\n\r\n', 400],
    ['URI with NUL', 'GET /a\x00b HTTP/1.1\r\n\r\n', 400],
    // header names (haproxy 2.6: 400 for each)
    ['invalid name char', 'GET / HTTP/1.1\r\nX(A: b\r\n\r\n', 400],
    ['8-bit name char', 'GET / HTTP/1.1\r\nX\xe9A: b\r\n\r\n', 400],
    ['empty name', 'GET / HTTP/1.1\r\n: b\r\n\r\n', 400],
    ['no colon', 'GET / HTTP/1.1\r\nXA\r\n\r\n', 400],
    ['space before colon', 'POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n', 400],
    ['tab before colon', 'POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n', 400],
    ['fold on the first field line', 'GET / HTTP/1.1\r\n X: b\r\n\r\n', 400],
    // header values. haproxy 2.6 forwarded NUL, \x01, \x0b and DEL; the 3.2 doc refuses NUL by
    // default (accept-unsafe... lets it through); we refuse every control byte but HTAB.
    ['NUL in value', 'GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n', 400],
    ['\\x01 in value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 400],
    ['DEL in value', 'GET / HTTP/1.1\r\nX-A: a\x7fb\r\n\r\n', 400],
    ['CR inside value (haproxy 2.6: 400)', 'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n', 400],
    ['LF CR (haproxy 2.6: 400)', 'GET / HTTP/1.1\r\nX: a\n\rConnection: close\r\n\r\n', 400],
    // Content-Length (haproxy 2.6: 400 for each)
    ['CL +5', 'POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n', 400],
    ['CL -1', 'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400],
    ['CL 5, 6', 'POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n', 400],
    ['CL 5 then 6', 'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400],
    ['CL empty', 'POST / HTTP/1.1\r\nContent-Length: \r\n\r\n', 400],
    ['CL trailing comma', 'POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n', 400],
    ['CL hex', 'POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n', 400],
    ['CL inner space', 'POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n', 400],
    ['CL overflow', 'POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n', 400],
    ['CL above 2^53-1', 'POST / HTTP/1.1\r\nContent-Length: 9007199254740992\r\n\r\n', 400],
    ['CL invalid even with TE', 'POST / HTTP/1.1\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    // Transfer-Encoding, requests (regtest c6-c10 and haproxy 2.6)
    ['TE chunked, chunked (regtest c6)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 400],
    ['TE chunked, gzip, chunked (regtest c7)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n', 400],
    ['TE chunked, gzip (regtest c8)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    ['TE gzip (regtest c9)', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    ['TE gzip, chunked (regtest c10)', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 422],
    ['TE identity, chunked (haproxy 2.6: 422)', 'POST / HTTP/1.1\r\nTransfer-Encoding: identity, chunked\r\n\r\n', 422],
    ['TE chunked, identity (haproxy 2.6: 400)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n', 400],
    ['TE xchunked (haproxy 2.6: 400)', 'POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
    ['TE chunked\\x0b (haproxy 2.6: 400)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x0b\r\n\r\n', 400],
    ['TE twice (haproxy 2.6: 400)', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['TE gzip then chunked fields (haproxy 2.6: 422)', 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n', 422],
    ['TE empty (haproxy 2.6: 400)', 'POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n', 400],
    ['TE leading comma (haproxy 2.6: 422)', 'POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n', 422],
    // HTTP/1.0 GET/HEAD/DELETE with a payload: 3.2 doc h1-accept-payload-with-any-method;
    // haproxy 2.6 (Debian): 413 for CL: 3 and for chunked, CL: 0 is accepted
    ['HTTP/1.0 GET with CL', 'GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\n', 413],
    ['HTTP/1.0 GET chunked', 'GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 413],
    ['HTTP/1.0 HEAD with CL', 'HEAD / HTTP/1.0\r\nContent-Length: 3\r\n\r\n', 413],
    ['HTTP/1.0 DELETE with CL', 'DELETE / HTTP/1.0\r\nContent-Length: 3\r\n\r\n', 413],
  ];
  for (const [name, raw, st] of cases) {
    it(`${name} -> ${st}`, () => { assert.equal(status(req(raw)), st); });
  }

  it('reports the offset of the offending byte', () => {
    const r = req('GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n');
    assert.deepEqual(r.state === 'error' && r.offset, 22);
    const r2 = req('GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n');
    assert.deepEqual(r2.state === 'error' && r2.offset, 33);
    const r3 = req('G(T / HTTP/1.1\r\n\r\n');
    assert.deepEqual(r3.state === 'error' && r3.offset, 1);
    const r4 = req('GET /a\x01 HTTP/1.1\r\n\r\n');
    assert.deepEqual(r4.state === 'error' && r4.offset, 6);
  });

  it('reports errors before the head is complete', () => {
    assert.equal(status(req('GET / HTTP/1.1\r\nX\x00')), 400);
    assert.equal(status(req('G(')), 400);
  });

  it('accepts what acceptUnsafe relaxes (3.2 doc)', () => {
    assert.equal(okReq(req('GET /a"b{c}|^`\\<> HTTP/1.1\r\n\r\n', U)).head.uri, '/a"b{c}|^`\\<>');
    assert.equal(okReq(req('GET /a#frag HTTP/1.1\r\n\r\n', U)).head.uri, '/a#frag');
    assert.equal(okReq(req('GET /\xe9 HTTP/1.1\r\n\r\n', U)).head.uri, '/\xe9');
    assert.equal(status(req('GET /a\x7f HTTP/1.1\r\n\r\n', U)), 400);
    assert.equal(okReq(req('GET / HTTP/1.1\r\nX(A: b\r\n\r\n', U)).head.headers.get('x(a'), 'b');
    assert.equal(okReq(req('GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n', U)).head.headers.get('x'), 'a\x00b');
    // whitespace before the colon stays refused
    assert.equal(status(req('GET / HTTP/1.1\r\nX : b\r\n\r\n', U)), 400);
  });

  it('accepts HTTP/1.0 GET with a body when acceptPayloadWithAnyMethod is set', () => {
    assert.deepEqual(okReq(req('GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\n', { ...O, acceptPayloadWithAnyMethod: true })).framing,
      { kind: 'length', length: 3 });
    // haproxy 2.6: HTTP/1.0 GET with CL: 0 and HTTP/1.1 GET with a body pass
    assert.deepEqual(okReq(req('GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n')).framing, { kind: 'length', length: 0 });
    assert.deepEqual(okReq(req('GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n')).framing, { kind: 'length', length: 3 });
  });

  it('CL.TE and TE.CL: drops Content-Length, chunked, clAndTe (regtest c1; haproxy 2.6 forwards only TE)', () => {
    for (const raw of [
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 31\r\nTransfer-Encoding: chunked\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 31\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 31\r\nTransfer-Encoding: chunked\r\nContent-Length: 31\r\n\r\n',
    ]) {
      const r = okReq(req(raw));
      assert.deepEqual(r.framing, { kind: 'chunked' });
      assert.equal(r.clAndTe, true);
      assert.equal(r.head.headers.has('content-length'), false);
      assert.deepEqual(fields(r), [['Host', 'a'], ['Transfer-Encoding', 'chunked']]);
    }
  });

  it('obfuscated TE values that still mean chunked', () => {
    // haproxy 2.6: "Transfer-Encoding:  chunked" forwarded as chunked (leading blanks are not part of the value)
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nTransfer-Encoding:   chunked\r\n\r\n')).framing, { kind: 'chunked' });
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nTransfer-Encoding:\tchunked \t\r\n\r\n')).framing, { kind: 'chunked' });
    // haproxy 2.6: a trailing comma is ignored
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n')).framing, { kind: 'chunked' });
  });

  it('HTTP/1.0 POST with Transfer-Encoding is accepted, chunked, closing (regtest c2; haproxy 2.6: 200)', () => {
    const r = okReq(req('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'));
    assert.deepEqual(r.framing, { kind: 'chunked' });
    assert.equal(r.wantsClose, true);
  });

  it('merges equal Content-Length values (haproxy 2.6 forwards "content-length: 5" once)', () => {
    for (const raw of [
      'POST / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\n',
      'POST / HTTP/1.1\r\nContent-Length: 5\r\nX: y\r\nContent-Length: 5\r\n\r\n',
      'POST / HTTP/1.1\r\nContent-Length: 5 , 5\r\ncontent-length: 5\r\n\r\n',
    ]) {
      const r = okReq(req(raw));
      assert.deepEqual(r.framing, { kind: 'length', length: 5 });
      assert.deepEqual(r.head.headers.getAll('content-length'), ['5']);
    }
    // haproxy 2.6: leading zeros kept as received
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nContent-Length: 005\r\n\r\n')).head.headers.getAll('content-length'), ['005']);
  });

  it('unfolds obs-fold like haproxy: CR and LF become spaces, the indent is kept', () => {
    // haproxy 2.6 forwards "X-A: one\r\n  two" as "x-a: one    two" and "one\r\n\ttwo" as "one  \ttwo"
    assert.equal(okReq(req('GET / HTTP/1.1\r\nX-A: one\r\n  two\r\nB: c\r\n\r\n')).head.headers.get('x-a'), 'one    two');
    assert.equal(okReq(req('GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n')).head.headers.get('x-a'), 'one  \ttwo');
    assert.equal(okReq(req('GET / HTTP/1.1\r\nX-A: one\n two\n   \n\n')).head.headers.get('x-a'), 'one  two');
    // a fold inside Content-Length is parsed after unfolding
    assert.deepEqual(okReq(req('POST / HTTP/1.1\r\nContent-Length: 5,\r\n 5\r\n\r\n')).framing, { kind: 'length', length: 5 });
  });

  it('limits the head size: 414 in the request line, 400 after', () => {
    const small: H1Options = { maxHeadBytes: 64, maxHeaders: 101 };
    // haproxy 2.6 answers 400 for a 16000-byte URI; the brief and 3.2 use 414 for the request line
    assert.equal(status(parseRequestHead(b('GET /' + 'a'.repeat(100)), small)), 414);
    assert.equal(status(parseRequestHead(b('GET /' + 'a'.repeat(59)), small)), 414);
    assert.equal(parseRequestHead(b('GET /' + 'a'.repeat(58)), small).state, 'incomplete');
    assert.equal(status(parseRequestHead(b('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(100)), small)), 400);
    // exactly maxHeadBytes is fine, one more is not
    const exact = 'GET / HTTP/1.1\r\nX: ' + 'a'.repeat(64 - 23) + '\r\n\r\n';
    assert.equal(exact.length, 64);
    assert.equal(okReq(parseRequestHead(b(exact + 'body'), small)).headLength, 64);
    assert.equal(status(parseRequestHead(b('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(65 - 23) + '\r\n\r\n'), small)), 400);
    // haproxy 2.6 with the default buffer: a 16000-byte value is a 400
    assert.equal(status(req('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(16000) + '\r\n\r\n')), 400);
  });

  it('limits the number of fields (maxhdr 101 counts the start line: 100 pass, 101 fail)', () => {
    const hdrs = (n: number): string => Array.from({ length: n }, (_, i) => `X${i}: a\r\n`).join('');
    assert.equal(okReq(req('GET / HTTP/1.1\r\n' + hdrs(100) + '\r\n')).head.headers.size, 100);
    assert.equal(status(req('GET / HTTP/1.1\r\n' + hdrs(101) + '\r\n')), 400);
  });
});

describe('h1 response heads', () => {
  it('parses every framing', () => {
    assert.deepEqual(okResp(resp('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')).framing, { kind: 'length', length: 2 });
    assert.deepEqual(okResp(resp('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')).framing, { kind: 'chunked' });
    const c = okResp(resp('HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody until close'));
    assert.deepEqual(c.framing, { kind: 'close' });
    assert.equal(c.headLength, 30);
    for (const st of [100, 101, 103, 204, 304]) {
      assert.deepEqual(okResp(resp(`HTTP/1.1 ${st} X\r\nContent-Length: 10\r\n\r\n`)).framing, { kind: 'none' }, String(st));
    }
    assert.deepEqual(okResp(resp('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD')).framing, { kind: 'none' });
    assert.deepEqual(okResp(resp('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD')).framing, { kind: 'none' });
    assert.deepEqual(okResp(resp('HTTP/1.1 200 Connection established\r\n\r\n', 'CONNECT')).framing, { kind: 'none' });
    assert.deepEqual(okResp(resp('HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n', 'CONNECT')).framing, { kind: 'length', length: 3 });
  });

  it('keeps the length fields of 304, drops them from 1xx/204 (haproxy 2.6 does not forward TE of a 204)', () => {
    assert.equal(okResp(resp('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).head.headers.get('content-length'), '10');
    assert.equal(okResp(resp('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n')).head.headers.size, 0);
    assert.equal(okResp(resp('HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n')).head.headers.size, 0);
  });

  it('parses the status line', () => {
    const r = okResp(resp('HTTP/1.0 404 Not  Found \r\n\r\n'));
    assert.equal(r.head.version, 'HTTP/1.0');
    assert.equal(r.head.status, 404);
    assert.equal(r.head.reason, 'Not  Found');
    assert.equal(r.wantsClose, true);
    assert.equal(okResp(resp('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n')).wantsClose, false);
    assert.equal(okResp(resp('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n')).wantsClose, true);
    // haproxy 2.6: no reason, or an empty one, is fine
    assert.equal(okResp(resp('HTTP/1.1 200\r\n\r\n')).head.reason, '');
    assert.equal(okResp(resp('HTTP/1.1 200 \r\n\r\n')).head.reason, '');
    // haproxy 2.6 forwards HTTP/1.2 and HTTP/2.0 responses as HTTP/1.1
    assert.equal(okResp(resp('HTTP/2.0 200 OK\r\n\r\n')).head.version, 'HTTP/1.1');
    assert.equal(okResp(resp('HTTP/1.1 599 X\r\n\r\n')).head.status, 599);
    assert.equal(okResp(resp('\r\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok')).headLength, 37);
  });

  it('refuses bad status lines with 502', () => {
    // haproxy 2.6: "2x0" -> 502; it let "20", "099" and "2000" through in odd ways, we refuse
    // them (RFC 9110 15: status-code = 3DIGIT, 1xx-5xx and up to 999)
    for (const line of ['HTTP/1.1 2x0 OK', 'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 OK', 'HTTP/1.1 OK',
      'HTTQ/1.1 200 OK', 'HTTP/1.1200 OK', 'HTTP/11 200 OK']) {
      assert.equal(status(resp(line + '\r\nContent-Length: 2\r\n\r\nok')), 502, line);
    }
    // 3.2 doc: relaxed versions with accept-unsafe-violations-in-http-response
    assert.equal(okResp(resp('RTSP/1.0 200 OK\r\n\r\n', 'GET', U)).head.version, 'HTTP/1.0');
  });

  it('refuses broken framing with 502', () => {
    const cases: [string, string][] = [
      // regtest c11 (x4) and haproxy 2.6
      ['TE chunked, chunked', 'Transfer-Encoding: chunked, chunked'],
      ['TE chunked, gzip, chunked', 'Transfer-Encoding: chunked, gzip, chunked'],
      ['TE chunked, gzip', 'Transfer-Encoding: chunked, gzip'],
      ['TE gzip + CL', 'Transfer-Encoding: gzip\r\nContent-Length: 0'],
      ['TE gzip, chunked (haproxy 2.6: 502)', 'Transfer-Encoding: gzip, chunked'],
      ['TE gzip (haproxy 2.6: 502)', 'Transfer-Encoding: gzip'],
      // 3.2 doc: empty TE only with accept-unsafe-violations-in-http-response (2.6 passed it)
      ['TE empty', 'Transfer-Encoding: '],
      ['CL 2 and 3 (haproxy 2.6: 502)', 'Content-Length: 2\r\nContent-Length: 3'],
      ['space before colon (haproxy 2.6: 502)', 'Content-Length : 2'],
      ['NUL in value', 'X: a\x00b'],
    ];
    for (const [name, hdr] of cases) assert.equal(status(resp(`HTTP/1.1 200 OK\r\n${hdr}\r\n\r\n`)), 502, name);
  });

  it('accept-unsafe-violations-in-http-response relaxes empty TE and repeated chunked (3.2 doc)', () => {
    assert.deepEqual(okResp(resp('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 'GET', U)).framing, { kind: 'chunked' });
    const e = okResp(resp('HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nContent-Length: 2\r\n\r\n', 'GET', U));
    assert.deepEqual(e.framing, { kind: 'close' });
    assert.equal(e.clAndTe, true);
    assert.equal(status(resp('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'GET', U)), 502);
  });

  it('TE with CL: CL dropped, chunked, clAndTe (regtest c4: the bytes after 0 CRLF CRLF are not body)', () => {
    const r = okResp(resp('HTTP/1.1 200 Ok\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n0\r\n\r\nResponse splitting attach'));
    assert.deepEqual(r.framing, { kind: 'chunked' });
    assert.equal(r.clAndTe, true);
    assert.deepEqual(fields(r), [['Transfer-Encoding', 'chunked']]);
    // regtest c3: HTTP/1.0 response with chunked is accepted
    assert.deepEqual(okResp(resp('HTTP/1.0 200 Ok\r\nTransfer-Encoding: chunked\r\n\r\n')).framing, { kind: 'chunked' });
  });

  it('is incomplete at every split point', () => {
    const full = b('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX: a\r\n b\r\nContent-Length: 350\r\n\r\n');
    for (let i = 0; i < full.length; i++) assert.equal(parseResponseHead(full.subarray(0, i), 'GET', O).state, 'incomplete', `prefix ${i}`);
    assert.equal(okResp(parseResponseHead(full, 'GET', O)).headLength, full.length);
  });

  it('limits the head size with 502', () => {
    assert.equal(status(parseResponseHead(b('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(100)), 'GET', { maxHeadBytes: 64, maxHeaders: 10 })), 502);
  });
});

/** Feeds `input` to a fresh decoder in pieces of `step` bytes (stopping when done). */
function decodeAll(input: Buffer, step: number, dec = new ChunkedDecoder()) {
  const out: Buffer[] = [];
  let consumed = 0;
  for (let p = 0; p < input.length; p += step) {
    const piece = input.subarray(p, Math.min(input.length, p + step));
    const r = dec.push(piece);
    out.push(...r.data);
    consumed += r.consumed;
    if (r.error) return { error: r.error, body: Buffer.concat(out).toString('latin1'), consumed, done: false as const };
    if (r.done) return { done: true as const, trailers: r.trailers, body: Buffer.concat(out).toString('latin1'), consumed };
    assert.equal(r.consumed, piece.length);
  }
  return { done: false as const, body: Buffer.concat(out).toString('latin1'), consumed };
}

describe('h1 chunked decoder', () => {
  const BODY = '5\r\nhello\r\n1;ext=1;other\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nX-Two:  2 \r\n\r\n';
  const NEXT = 'GET /next HTTP/1.1\r\n\r\n';

  it('decodes, with extensions and trailers, at every piece size', () => {
    const input = b(BODY + NEXT);
    for (const step of [1, 2, 3, 7, 64, input.length]) {
      const r = decodeAll(input, step);
      assert.equal(r.done, true, `step ${step}`);
      assert.equal(r.body, 'hello 0123456789');
      assert.equal(r.consumed, BODY.length, `step ${step}`);
      assert.deepEqual(r.done && r.trailers?.list.map((h) => [h.name, h.value]), [['X-Trailer', 'yes'], ['X-Two', '2']]);
    }
  });

  it('decodes at every split point into two pieces', () => {
    const input = b(BODY + NEXT);
    for (let i = 0; i <= input.length; i++) {
      const dec = new ChunkedDecoder();
      const r1 = dec.push(input.subarray(0, i));
      let body = Buffer.concat(r1.data).toString('latin1');
      let consumed = r1.consumed;
      if (!r1.done) {
        assert.equal(r1.consumed, i);
        const r2 = dec.push(input.subarray(i));
        body += Buffer.concat(r2.data).toString('latin1');
        consumed += r2.consumed;
        assert.equal(r2.done, true, `split ${i}`);
      }
      assert.equal(body, 'hello 0123456789', `split ${i}`);
      assert.equal(consumed, BODY.length, `split ${i}`);
    }
  });

  it('returns views into the input, no trailers when none', () => {
    const input = b('3\r\nabc\r\n0\r\n\r\nNEXT');
    const r = new ChunkedDecoder().push(input);
    assert.equal(r.done, true);
    assert.equal(r.consumed, input.length - 4);
    assert.equal(r.trailers, undefined);
    assert.equal(r.data.length, 1);
    assert.equal(r.data[0]!.buffer, input.buffer);
  });

  it('accepts bare LF, blanks after the size, leading zeros (haproxy 2.6 too)', () => {
    assert.equal(decodeAll(b('3\nabc\n0\n\n'), 100).body, 'abc');
    assert.equal(decodeAll(b('3 \r\nabc\r\n3\t;a=b\r\ndef\r\n0\r\n\r\n'), 100).body, 'abcdef');
    // haproxy 2.6 accepts 17 hex digits when the value is small
    assert.equal(decodeAll(b('00000000000000003\r\nabc\r\n0\r\n\r\n'), 100).body, 'abc');
    assert.equal(decodeAll(b('3;a\x01\r\nabc\r\n0\r\n\r\n'), 100).body, 'abc');
  });

  it('refuses broken framing', () => {
    const cases: [string, string, number][] = [
      // [name, input, offset of the error]
      ['overflow (haproxy 2.6: 400)', '10000000000000003\r\nabc\r\n0\r\n\r\n', 14],
      ['2^53', '20000000000000\r\n', 13],
      ['0x prefix (haproxy 2.6: 400)', '0x3\r\nabc\r\n0\r\n\r\n', 1],
      ['leading space (haproxy 2.6: 400)', ' 3\r\nabc\r\n0\r\n\r\n', 0],
      ['no size', '\r\nabc\r\n0\r\n\r\n', 0],
      ['signed', '-3\r\nabc\r\n', 0],
      ['bad char after size', '3x\r\nabc\r\n', 1],
      ['missing CRLF after data (haproxy 2.6: 400)', '3\r\nabcX\r\n0\r\n\r\n', 6],
      ['CR not followed by LF after data', '3\r\nabc\rX0\r\n\r\n', 7],
      ['CR alone after size', '3\rabc\r\n', 2],
      ['bad trailer name (haproxy 2.6: 400)', '3\r\nabc\r\n0\r\nX T: v\r\n\r\n', 12],
      ['trailer with NUL', '0\r\nX: a\x00\r\n\r\n', 7],
      ['CR alone in final line', '0\r\n\rX', 4],
    ];
    for (const [name, input, offset] of cases) {
      for (const step of [1, 1000]) {
        const r = decodeAll(b(input), step);
        assert.ok('error' in r && r.error, `${name} step ${step}: ${JSON.stringify(r)}`);
        assert.equal(r.error.offset, offset, `${name} step ${step}`);
      }
    }
  });

  it('stays failed after an error', () => {
    const dec = new ChunkedDecoder();
    assert.ok(dec.push(b('zz')).error);
    const again = dec.push(b('3\r\nabc\r\n'));
    assert.ok(again.error);
    assert.equal(again.consumed, 0);
  });

  it('limits the trailer section', () => {
    const dec = new ChunkedDecoder({ maxTrailerBytes: 16 });
    const r = dec.push(b('0\r\nX-Long: ' + 'a'.repeat(20) + '\r\n\r\n'));
    assert.equal(r.error?.reason, 'trailers too large');
    const many = '0\r\n' + 'A: b\r\n'.repeat(5) + '\r\n';
    assert.ok(new ChunkedDecoder({ maxTrailers: 4 }).push(b(many)).error);
    assert.equal(new ChunkedDecoder({ maxTrailers: 5 }).push(b(many)).trailers?.size, 5);
  });

  it('consumes nothing once done', () => {
    const dec = new ChunkedDecoder();
    assert.equal(dec.push(b('0\r\n\r\n')).done, true);
    const r = dec.push(b('GET'));
    assert.equal(r.done, true);
    assert.equal(r.consumed, 0);
  });
});

describe('h1 output', () => {
  it('formats heads in order with lower-case names, as HAProxy sends them', () => {
    const headers = new HttpHeaders();
    headers.add('Host', 'a');
    headers.add('X-Mixed-Case', 'v 1');
    assert.equal(formatRequestHead({ method: 'GET', uri: '/x?y', version: 'HTTP/1.1', headers }).toString('latin1'),
      'GET /x?y HTTP/1.1\r\nhost: a\r\nx-mixed-case: v 1\r\n\r\n');
    assert.equal(formatResponseHead({ version: 'HTTP/1.1', status: 200, reason: 'OK', headers: new HttpHeaders() }).toString('latin1'),
      'HTTP/1.1 200 OK\r\n\r\n');
    assert.equal(formatResponseHead({ version: 'HTTP/1.0', status: 204, reason: '', headers }).toString('latin1'),
      'HTTP/1.0 204 \r\nhost: a\r\nx-mixed-case: v 1\r\n\r\n');
  });

  it('round-trips a parsed head', () => {
    const r = okReq(req(BROWSER_GET));
    // names come out in lower case, everything else as received
    const lower = BROWSER_GET.replace(/^([^:\r\n]+):/gm, (_m, n: string) => `${n.toLowerCase()}:`);
    assert.equal(formatRequestHead(r.head).toString('latin1'), lower);
  });

  it('encodes chunks and round-trips them through the decoder', () => {
    assert.deepEqual(encodeChunk(Buffer.alloc(0)), []);
    const data = Buffer.alloc(300, 'x');
    assert.equal(Buffer.concat(encodeChunk(data)).toString('latin1'), '12C\r\n' + 'x'.repeat(300) + '\r\n');
    assert.equal(encodeLastChunk().toString('latin1'), '0\r\n\r\n');
    const t = new HttpHeaders();
    t.add('X-Sum', 'abc');
    assert.equal(encodeLastChunk(t).toString('latin1'), '0\r\nx-sum: abc\r\n\r\n');
    const wire = Buffer.concat([...encodeChunk(b('hello ')), ...encodeChunk(data), encodeLastChunk(t)]);
    const r = decodeAll(wire, 5);
    assert.equal(r.done, true);
    assert.equal(r.body, 'hello ' + 'x'.repeat(300));
    assert.equal(r.done && r.trailers?.get('x-sum'), 'abc');
  });
});
