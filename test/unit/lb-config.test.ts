import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseBalance, parseHashType, parseHashBalanceFactor, defaultHashType, defaultBalance,
  isDynamicBalance, isHashAlgo, balanceNeedsHttp,
} from '../../src/lb/config.js';

function ok<T>(r: T | { error: string }): T {
  if (r && typeof r === 'object' && 'error' in r) assert.fail(`unexpected error: ${(r as { error: string }).error}`);
  return r as T;
}
function err(r: unknown): string {
  assert.ok(r && typeof r === 'object' && 'error' in r, `expected an error, got ${JSON.stringify(r)}`);
  return (r as { error: string }).error;
}

test('parseBalance: simple algorithms', () => {
  for (const a of ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'sticky'] as const) {
    assert.deepEqual(ok(parseBalance([a])), { algo: a });
  }
  assert.deepEqual(ok(parseBalance([])), { algo: 'roundrobin' });
  assert.deepEqual(defaultBalance(), { algo: 'roundrobin' });
});

test('parseBalance: uri and its options', () => {
  assert.deepEqual(ok(parseBalance(['uri'])), { algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false });
  assert.deepEqual(ok(parseBalance(['uri', 'len', '12', 'depth', '3', 'whole', 'path-only'])),
    { algo: 'uri', len: 12, depth: 3, whole: true, pathOnly: true });
  assert.match(err(parseBalance(['uri', 'len'])), /'len' expects a positive integer/);
  assert.match(err(parseBalance(['uri', 'depth', '0'])), /'depth' expects a positive integer \(got '0'\)/);
  assert.match(err(parseBalance(['uri', 'len', 'x'])), /positive integer/);
  assert.match(err(parseBalance(['uri', 'foo'])), /only accepts parameters 'len', 'depth', 'path-only', and 'whole' \(got 'foo'\)/);
});

test('parseBalance: url_param', () => {
  assert.deepEqual(ok(parseBalance(['url_param', 'uid'])), { algo: 'url_param', param: 'uid', checkPost: false });
  assert.deepEqual(ok(parseBalance(['url_param', 'sid', 'check_post', '64'])), { algo: 'url_param', param: 'sid', checkPost: true });
  assert.match(err(parseBalance(['url_param'])), /requires an URL parameter name/);
  assert.match(err(parseBalance(['url_param', 'x', 'post'])), /only accepts 'check_post' modifier \(got 'post'\)/);
});

test('parseBalance: hdr()', () => {
  assert.deepEqual(ok(parseBalance(['hdr(Host)'])), { algo: 'hdr', header: 'Host', useDomainOnly: false });
  assert.deepEqual(ok(parseBalance(['hdr(host)', 'use_domain_only'])), { algo: 'hdr', header: 'host', useDomainOnly: true });
  assert.match(err(parseBalance(['hdr()'])), /requires an http header field name/);
  assert.match(err(parseBalance(['hdr(host'])), /requires an http header field name/);
  assert.match(err(parseBalance(['hdr(host)', 'domain'])), /only accepts 'use_domain_only' modifier/);
});

test('parseBalance: rdp-cookie', () => {
  assert.deepEqual(ok(parseBalance(['rdp-cookie'])), { algo: 'rdp-cookie', cookie: 'mstshash' });
  assert.deepEqual(ok(parseBalance(['rdp-cookie(msts)'])), { algo: 'rdp-cookie', cookie: 'msts' });
  assert.match(err(parseBalance(['rdp-cookie()'])), /missing cookie name/);
  assert.match(err(parseBalance(['rdp-cookiex'])), /missing cookie name/);
});

test('parseBalance: random and draws', () => {
  assert.deepEqual(ok(parseBalance(['random'])), { algo: 'random', draws: 2 });
  assert.deepEqual(ok(parseBalance(['random()'])), { algo: 'random', draws: 2 });
  assert.deepEqual(ok(parseBalance(['random(5)'])), { algo: 'random', draws: 5 });
  assert.deepEqual(ok(parseBalance(['random(1)'])), { algo: 'random', draws: 1 });
  assert.deepEqual(ok(parseBalance(['random(0x10)'])), { algo: 'random', draws: 16 });
  assert.match(err(parseBalance(['random(0)'])), /number of draws must be at least 1/);
  assert.match(err(parseBalance(['random(3'])), /missing closing parenthesis/);
  assert.match(err(parseBalance(['random(3x)'])), /unexpected character 'x'/);
  assert.match(err(parseBalance(['random(x)'])), /unexpected character 'x'/);
});

test('parseBalance: hash and log-hash', () => {
  assert.deepEqual(ok(parseBalance(['hash', 'req.cookie(id)'])), { algo: 'hash', expr: 'req.cookie(id)' });
  assert.match(err(parseBalance(['hash'])), /requires a sample expression/);
  assert.match(err(parseBalance(['hash', 'a', 'b'])), /takes no other argument \(got 'b'\)/);
  assert.deepEqual(ok(parseBalance(['log-hash', 'field(1)'])), { algo: 'log-hash', converters: 'field(1)' });
});

test('parseBalance: unknown algorithm lists the supported ones', () => {
  const e = err(parseBalance(['roundrobbin']));
  assert.match(e, /^balance only supports /);
  for (const a of ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param', 'hdr(name)', 'rdp-cookie(name)', 'random', 'hash']) {
    assert.ok(e.includes(`'${a}'`), a);
  }
  assert.match(err(parseBalance(['randomx'])), /only supports/);
});

test('parseHashType: defaults and explicit functions', () => {
  assert.deepEqual(defaultHashType(), { method: 'map-based', fn: 'sdbm', avalanche: false });
  assert.deepEqual(ok(parseHashType(['map-based'])), { method: 'map-based', fn: 'sdbm', avalanche: false });
  // consistent without a function implies sdbm + avalanche
  assert.deepEqual(ok(parseHashType(['consistent'])), { method: 'consistent', fn: 'sdbm', avalanche: true });
  assert.deepEqual(ok(parseHashType(['consistent', 'sdbm'])), { method: 'consistent', fn: 'sdbm', avalanche: false });
  for (const fn of ['sdbm', 'djb2', 'wt6', 'crc32', 'none'] as const) {
    assert.deepEqual(ok(parseHashType(['map-based', fn, 'avalanche'])), { method: 'map-based', fn, avalanche: true });
  }
});

test('parseHashType: errors', () => {
  assert.match(err(parseHashType([])), /only supports 'consistent' and 'map-based'/);
  assert.match(err(parseHashType(['ring'])), /only supports 'consistent' and 'map-based'/);
  assert.match(err(parseHashType(['avalanche'])), /no longer supported/);
  assert.match(err(parseHashType(['consistent', 'md5'])), /hash functions/);
  assert.match(err(parseHashType(['consistent', 'djb2', 'mix'])), /only supports 'avalanche' as a modifier/);
});

test('parseHashBalanceFactor', () => {
  assert.equal(parseHashBalanceFactor(['0']), 0);
  assert.equal(parseHashBalanceFactor(['150']), 150);
  assert.match(err(parseHashBalanceFactor(['100'])), /must be 0 or greater than 100/);
  assert.match(err(parseHashBalanceFactor(['50'])), /must be 0 or greater than 100/);
  assert.match(err(parseHashBalanceFactor([])), /expects an integer/);
  assert.match(err(parseHashBalanceFactor(['abc'])), /expects an integer/);
});

test('algorithm properties', () => {
  const cons = { method: 'consistent', fn: 'sdbm', avalanche: true } as const;
  assert.equal(isDynamicBalance({ algo: 'roundrobin' }), true);
  assert.equal(isDynamicBalance({ algo: 'static-rr' }), false);
  assert.equal(isDynamicBalance({ algo: 'leastconn' }), true);
  assert.equal(isDynamicBalance({ algo: 'random', draws: 2 }), true);
  assert.equal(isDynamicBalance({ algo: 'source' }), false);
  assert.equal(isDynamicBalance({ algo: 'source' }, cons), true);
  assert.equal(isHashAlgo({ algo: 'source' }), true);
  assert.equal(isHashAlgo({ algo: 'random', draws: 2 }), false);
  assert.equal(balanceNeedsHttp({ algo: 'hdr', header: 'host', useDomainOnly: false }), true);
  assert.equal(balanceNeedsHttp({ algo: 'source' }), false);
});
