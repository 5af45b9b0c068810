// The normalizers of `http-request normalize-uri`, on the examples of configuration.txt 4.4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizers } from '../../src/actions/normalize-uri.js';
import { splitUri } from '../../src/actions/http-actions.js';

const n = (name: string, uri: string, opt = false): string | null => normalizers[name]!.apply(uri, opt);

test('fragment-encode and fragment-strip', () => {
  assert.equal(n('fragment-encode', '/#foo'), '/%23foo');
  assert.equal(n('fragment-strip', '/#foo'), '/');
  assert.equal(n('fragment-strip', '/a?b#c'), '/a?b');
});

test('path-strip-dot', () => {
  assert.equal(n('path-strip-dot', '/.'), '/');
  assert.equal(n('path-strip-dot', '/./bar/'), '/bar/');
  assert.equal(n('path-strip-dot', '/a/./a'), '/a/a');
  assert.equal(n('path-strip-dot', '/.well-known/'), '/.well-known/');
  assert.equal(n('path-strip-dot', '/a/./b?x=/./'), '/a/b?x=/./', 'the query is left alone');
});

test('path-strip-dotdot, with and without full', () => {
  const cases: [string, string, string][] = [
    ['/foo/../', '/', '/'],
    ['/foo/../bar/', '/bar/', '/bar/'],
    ['/foo/bar/../', '/foo/', '/foo/'],
    ['/../bar/', '/../bar/', '/bar/'],
    ['/bar/../../', '/../', '/'],
    ['/foo//../', '/foo/', '/foo/'],
    ['/foo/%2E%2E/', '/foo/%2E%2E/', '/foo/%2E%2E/'],
  ];
  for (const [inp, plain, full] of cases) {
    assert.equal(n('path-strip-dotdot', inp), plain, inp);
    assert.equal(n('path-strip-dotdot', inp, true), full, `${inp} full`);
  }
  assert.equal(n('path-strip-dotdot', 'http://h/a/../b?q'), 'http://h/b?q', 'absolute-form keeps scheme and authority');
});

test('path-merge-slashes', () => {
  assert.equal(n('path-merge-slashes', '//'), '/');
  assert.equal(n('path-merge-slashes', '/foo//bar'), '/foo/bar');
  assert.equal(n('path-merge-slashes', '/a?b=//c'), '/a?b=//c');
});

test('percent-decode-unreserved, plain and strict', () => {
  assert.equal(n('percent-decode-unreserved', '/%61dmin'), '/admin');
  assert.equal(n('percent-decode-unreserved', '/foo%3Fbar=baz'), '/foo%3Fbar=baz');
  assert.equal(n('percent-decode-unreserved', '/%%36%36'), '/%66');
  assert.equal(n('percent-decode-unreserved', '/%ZZ'), '/%ZZ');
  assert.equal(n('percent-decode-unreserved', '/%%36%36', true), null);
  assert.equal(n('percent-decode-unreserved', '/%ZZ', true), null);
});

test('percent-to-uppercase, plain and strict', () => {
  assert.equal(n('percent-to-uppercase', '/%6f'), '/%6F');
  assert.equal(n('percent-to-uppercase', '/%zz'), '/%zz');
  assert.equal(n('percent-to-uppercase', '/%zz', true), null);
});

test('query-sort-by-name keeps equal names in their order', () => {
  assert.equal(n('query-sort-by-name', '/?c=3&a=1&b=2'), '/?a=1&b=2&c=3');
  assert.equal(n('query-sort-by-name', '/?aaa=3&a=1&aa=2'), '/?a=1&aa=2&aaa=3');
  assert.equal(n('query-sort-by-name', '/?a=3&b=4&a=1&b=5&a=2'), '/?a=3&a=1&a=2&b=4&b=5');
  assert.equal(n('query-sort-by-name', '/nothing'), '/nothing');
});

test('splitUri: origin, absolute and asterisk forms', () => {
  assert.deepEqual(splitUri('/a/b?x=1'), { pre: '', path: '/a/b', query: '?x=1' });
  assert.deepEqual(splitUri('http://h:8/p?q'), { pre: 'http://h:8', path: '/p', query: '?q' });
  assert.deepEqual(splitUri('http://h'), { pre: 'http://h', path: '', query: '' });
  assert.deepEqual(splitUri('*'), { pre: '', path: '', query: '' });
});
