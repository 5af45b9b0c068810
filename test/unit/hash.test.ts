import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { sdbm, djb2, wt6, crc32, none, avalanche, hashFunction, hashString } from '../../src/util/hash.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');

// Reference values computed by an independent implementation (Python, written
// from the algorithm definitions; wt6 cross-checked with a C build).
const VECTORS: Array<[string, number, number, number, number]> = [
  // input, sdbm, djb2, wt6, crc32
  ['', 0, 5381, 4187620192, 0],
  ['a', 97, 177670, 1900802597, 3904355907],
  ['ab', 6363201, 5863208, 314091001, 2659403885],
  ['abc', 807794786, 193485963, 2483038440, 891568578],
  ['hello world', 430867652, 894552257, 1866899626, 222957957],
  ['/index.html', 858007926, 3776231887, 822151038, 3928116034],
  ['123456789', 1755344949, 902675330, 2225171485, 3421780262],
  ['192.168.0.1', 2736327284, 3398481707, 2849228218, 2307365224],
  ['The quick brown fox jumps over the lazy dog', 2359783795, 885799134, 3840389189, 1095738169],
  ['\u00e9t\u00e9', 2918081268, 371613105, 424615331, 1154575572],
];

test('sdbm matches reference vectors', () => {
  for (const [s, v] of VECTORS) assert.equal(sdbm(b(s)), v, `sdbm(${JSON.stringify(s)})`);
  // by hand: 'ab' = 98 + 97 * 65599
  assert.equal(sdbm(b('ab')), 98 + 97 * 65599);
});

test('djb2 starts at 5381 and matches reference vectors', () => {
  assert.equal(djb2(new Uint8Array(0)), 5381);
  assert.equal(djb2(b('a')), 5381 * 33 + 97);
  for (const [s, , v] of VECTORS) assert.equal(djb2(b(s)), v, `djb2(${JSON.stringify(s)})`);
});

test('wt6 matches reference vectors', () => {
  for (const [s, , , v] of VECTORS) assert.equal(wt6(b(s)), v, `wt6(${JSON.stringify(s)})`);
});

test('crc32 is the standard CRC-32 (check value and zlib agreement)', () => {
  assert.equal(crc32(b('123456789')), 0xcbf43926);
  for (const [s, , , , v] of VECTORS) assert.equal(crc32(b(s)), v, `crc32(${JSON.stringify(s)})`);
  // random buffers against zlib's implementation
  let seed = 12345;
  for (let n = 0; n < 50; n++) {
    const buf = Buffer.alloc(n * 7 + 1);
    for (let i = 0; i < buf.length; i++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; buf[i] = seed >>> 24; }
    const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
    if (zcrc) assert.equal(crc32(buf), zcrc(buf) >>> 0);
  }
});

test('avalanche matches reference vectors and stays 32-bit unsigned', () => {
  const AV: Array<[number, number]> = [
    [0, 2874071335], [1, 881230262], [2, 3798448204], [42, 3275996016],
    [4096, 1237450891], [0xffffffff, 2120532354], [123456789, 2578161185],
  ];
  for (const [i, o] of AV) assert.equal(avalanche(i), o, `avalanche(${i})`);
  for (let i = 0; i < 1000; i++) {
    const v = avalanche(i * 2654435761);
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  }
});

test('all results are unsigned 32-bit integers', () => {
  const long = b('x'.repeat(1000));
  for (const f of [sdbm, djb2, wt6, crc32]) {
    const v = f(long);
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  }
});

test('none reads the key as a decimal integer, keeping its low 32 bits', () => {
  assert.equal(none(b('12345')), 12345);
  assert.equal(none(b('4294967295')), 4294967295);
  assert.equal(none(b('4294967296')), 0);
  assert.equal(none(b('4294967297')), 1);
  assert.equal(none(b('-1')), 0xffffffff);
  assert.equal(none(b('+7')), 7);
  assert.equal(none(b('42abc')), 42); // stops at the first non-digit
  assert.equal(none(b('abc')), 0);
  assert.equal(none(new Uint8Array(0)), 0);
  // long values: saturation to the signed 64-bit range
  assert.equal(none(b('99999999999999999999999')), 0xffffffff); // INT64_MAX low bits
  assert.equal(none(b('-99999999999999999999999')), 0); // INT64_MIN low bits
  assert.equal(none(b('1099511627776123')), Number(1099511627776123n % 4294967296n));
  assert.equal(none(b('12345678901234567890')), 0xffffffff); // > INT64_MAX
  assert.equal(none(b('1234567890123456789')), Number(1234567890123456789n % 4294967296n));
});

test('hashFunction / hashString dispatch by name', () => {
  assert.equal(hashFunction('sdbm'), sdbm);
  assert.equal(hashFunction('wt6'), wt6);
  assert.equal(hashString('djb2', 'abc'), 193485963);
  assert.equal(hashString('crc32', '123456789'), 0xcbf43926);
  assert.equal(hashString('none', '77'), 77);
});
