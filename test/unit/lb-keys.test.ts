import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  uriKey, uriPath, urlParamKey, urlParamBodyKey, hdrKey, rdpCookieKey, sourceKey, httpLbKey,
} from '../../src/lb/config.js';

const str = (k: Uint8Array | null): string | null => (k === null ? null : Buffer.from(k).toString('latin1'));

test('uriKey: stops at the query string unless whole', () => {
  assert.equal(str(uriKey('/a/b/c?x=1')), '/a/b/c');
  assert.equal(str(uriKey('/a/b/c?x=1', { whole: true })), '/a/b/c?x=1');
  assert.equal(str(uriKey('/')), '/');
  assert.equal(str(uriKey('')), '');
});

test('uriKey: len limits the number of characters considered', () => {
  assert.equal(str(uriKey('/abcdef/ghi', { len: 4 })), '/abc');
  assert.equal(str(uriKey('/ab?cdef', { len: 6 })), '/ab');
  assert.equal(str(uriKey('/ab?cdef', { len: 6, whole: true })), '/ab?cd');
  assert.equal(str(uriKey('/ab', { len: 100 })), '/ab');
});

test('uriKey: depth counts directory levels (slashes)', () => {
  assert.equal(str(uriKey('/a/b/c/d.html', { depth: 1 })), '/a');
  assert.equal(str(uriKey('/a/b/c/d.html', { depth: 2 })), '/a/b');
  assert.equal(str(uriKey('/a/b/c/d.html', { depth: 3 })), '/a/b/c');
  assert.equal(str(uriKey('/a/b/c/d.html', { depth: 9 })), '/a/b/c/d.html');
  // both limits: the first reached wins
  assert.equal(str(uriKey('/aaaa/bbbb/cccc', { depth: 2, len: 7 })), '/aaaa/b');
  assert.equal(str(uriKey('/a/b/cccccc', { depth: 2, len: 9 })), '/a/b');
});

test('uriKey: path-only drops scheme and authority', () => {
  assert.equal(uriPath('http://example.com/x/y?z'), '/x/y?z');
  assert.equal(uriPath('https://u@h:8443'), '');
  assert.equal(uriPath('*'), '');
  assert.equal(uriPath('example.com:443'), '');
  assert.equal(str(uriKey('http://example.com/x/y?z=1', { pathOnly: true })), '/x/y');
  assert.equal(str(uriKey('http://example.com/x/y?z=1')), 'http://example.com/x/y');
  assert.equal(str(uriKey('http://example.com/x/y?z=1', { pathOnly: true, depth: 1 })), '/x');
  // same key for an HTTP/1 origin-form and an absolute-form target
  assert.deepEqual(uriKey('/p/q', { pathOnly: true }), uriKey('http://h/p/q', { pathOnly: true }));
});

test('urlParamKey: found, missing, empty, case-sensitive', () => {
  assert.equal(str(urlParamKey('/p?uid=42&x=1', 'uid')), '42');
  assert.equal(str(urlParamKey('/p?x=1&uid=42', 'uid')), '42');
  assert.equal(str(urlParamKey('/p?x=1&uid=42#frag', 'uid')), '42#frag');
  assert.equal(urlParamKey('/p?x=1&uid2=42', 'uid'), null);
  assert.equal(urlParamKey('/p?auid=42', 'uid'), null);
  assert.equal(urlParamKey('/p?UID=42', 'uid'), null);
  assert.equal(urlParamKey('/p/uid=42', 'uid'), null); // no query string
  assert.equal(urlParamKey('/p?uid', 'uid'), null); // no '='
  assert.equal(str(urlParamKey('/p?uid=&x=1', 'uid')), ''); // present but empty: hashed as empty
  assert.equal(str(urlParamKey('/p?uid=', 'uid')), '');
});

test('urlParamBodyKey: url-encoded body lookup', () => {
  const body = Buffer.from('a=1&session=abc123&z=9');
  assert.equal(str(urlParamBodyKey(body, 'session')), 'abc123');
  assert.equal(str(urlParamBodyKey(Buffer.from('session=xyz\r\n'), 'session')), 'xyz');
  assert.equal(urlParamBodyKey(Buffer.from('session=a{b}'), 'session'), null); // not url-encoded
  assert.equal(urlParamBodyKey(Buffer.from('other=1'), 'session'), null);
  assert.equal(urlParamBodyKey(null, 'session'), null);
});

test('hdrKey: absent/empty, first value, use_domain_only', () => {
  assert.equal(hdrKey(undefined, false), null);
  assert.equal(hdrKey('', false), null);
  assert.equal(hdrKey('   ', false), null);
  assert.equal(str(hdrKey('Mozilla/5.0', false)), 'Mozilla/5.0');
  assert.equal(str(hdrKey(' a , b', false)), 'a');
  assert.equal(str(hdrKey('haproxy.1wt.eu', true)), '1wt');
  assert.equal(str(hdrKey('www.example.com', true)), 'example');
  assert.equal(str(hdrKey('example.com', true)), 'example');
  assert.equal(str(hdrKey('a.b.c.example.co', true)), 'example');
  assert.equal(str(hdrKey('localhost', true)), 'localhost');
  assert.equal(str(hdrKey('haproxy.1wt.eu', false)), 'haproxy.1wt.eu');
});

function rdpPayload(cookieLine: string, extra = ''): Uint8Array {
  const line = Buffer.from(cookieLine, 'latin1');
  const tail = Buffer.from(extra, 'latin1');
  const total = 11 + line.length + tail.length;
  const tpkt = Buffer.from([3, 0, (total >> 8) & 0xff, total & 0xff]);
  const x224 = Buffer.from([total - 5, 0xe0, 0, 0, 0, 0, 0]);
  return Buffer.concat([tpkt, x224, line, tail]);
}

test('rdpCookieKey: parses the mstshash cookie of a connection request', () => {
  assert.equal(str(rdpCookieKey(rdpPayload('Cookie: mstshash=alice\r\n', '\x01\x00\x08\x00\x03\x00\x00\x00'))), 'alice');
  assert.equal(str(rdpCookieKey(rdpPayload('cookie:   MSTSHASH=bob\r\n'))), 'bob');
  assert.equal(str(rdpCookieKey(rdpPayload('Cookie: msts=3640205228.15629.0000\r\n'), 'msts')), '3640205228.15629.0000');
  assert.equal(rdpCookieKey(rdpPayload('Cookie: msts=123\r\n')), null); // other name
  assert.equal(rdpCookieKey(rdpPayload('Cookie: mstshash=alice')), null); // no CRLF yet
  assert.equal(rdpCookieKey(rdpPayload('Cookie: mstshash=\r\n')), null); // empty value
  assert.equal(rdpCookieKey(rdpPayload('Hello: mstshash=alice\r\n')), null);
  assert.equal(rdpCookieKey(new Uint8Array(5)), null);
  // empty name: any cookie
  assert.equal(str(rdpCookieKey(rdpPayload('Cookie: foo=bar\r\n'), '')), 'bar');
});

test('sourceKey: IPv4, IPv6, mapped, invalid', () => {
  assert.deepEqual([...sourceKey('10.1.2.3')!], [10, 1, 2, 3]);
  assert.deepEqual([...sourceKey('::ffff:10.1.2.3')!], [10, 1, 2, 3]);
  assert.deepEqual([...sourceKey('2001:db8::1')!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...sourceKey('::1')!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...sourceKey('[fe80::1%eth0]')!], [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...sourceKey('1:2:3:4:5:6:7:8')!], [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
  assert.equal(sourceKey('/var/run/sock'), null);
  assert.equal(sourceKey(''), null);
  assert.equal(sourceKey(undefined), null);
  assert.equal(sourceKey('300.1.1.1'), null);
});

test('httpLbKey: computes the key for HTTP algorithms from a request', () => {
  const headers: Record<string, string> = { host: 'www.example.org', 'user-agent': 'curl/8' };
  const req = { uri: '/a/b?sid=9', method: 'GET', header: (n: string) => headers[n] };
  assert.equal(str(httpLbKey({ algo: 'uri', len: 0, depth: 1, whole: false, pathOnly: false }, req)), '/a');
  assert.equal(str(httpLbKey({ algo: 'url_param', param: 'sid', checkPost: false }, req)), '9');
  assert.equal(str(httpLbKey({ algo: 'hdr', header: 'Host', useDomainOnly: true }, req)), 'example');
  assert.equal(httpLbKey({ algo: 'hdr', header: 'X-None', useDomainOnly: false }, req), null);
  const post = { uri: '/login', method: 'POST', body: Buffer.from('user=joe&sid=77') };
  assert.equal(str(httpLbKey({ algo: 'url_param', param: 'sid', checkPost: true }, post)), '77');
  assert.equal(httpLbKey({ algo: 'url_param', param: 'sid', checkPost: false }, post), null);
  assert.equal(httpLbKey({ algo: 'roundrobin' }, req), null);
});
