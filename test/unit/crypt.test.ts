// crypt(3)-compatible hashes. Expected strings come from `openssl passwd` and from libxcrypt's
// crypt() called through python3 (ctypes on libcrypt.so.1, passwords given as raw bytes), and
// the published bcrypt test vectors (Openwall crypt_blowfish / OpenBSD), checked against
// libxcrypt as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  crypt, verifyPassword, verifyPasswordCached, cryptSupported, cryptScheme, safeEqual,
  clearVerifyCache, verifyCacheSize, setVerifyCacheSize, VERIFY_CACHE_SIZE,
} from '../../src/util/crypt.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

test('MD5-crypt ($1$): openssl passwd -1 / libxcrypt vectors', () => {
  assert.equal(crypt('secret', '$1$saltsalt'), '$1$saltsalt$9xy1btjgzLYfb7hivXtC//');
  assert.equal(crypt('', '$1$'), '$1$$qRPK7m23GJusamGpoGLby/'); // openssl passwd -1 -salt '' ''
  assert.equal(crypt('', '$1$x'), '$1$x$fwjfZtMwarkdetsjiQreU1');
  assert.equal(crypt(hex('c3a9'), '$1$abc'), '$1$abc$VLqgW9A6OVusH6CzRCb5M.');
  // the stored hash works as setting
  assert.ok(verifyPassword('secret', '$1$saltsalt$9xy1btjgzLYfb7hivXtC//'));
  assert.ok(!verifyPassword('secreT', '$1$saltsalt$9xy1btjgzLYfb7hivXtC//'));
});

test('SHA-256-crypt ($5$)', () => {
  assert.equal(crypt('hello', '$5$abcdefgh'), '$5$abcdefgh$UUoko/Tf0b.8LrDH6BE28ZvVbc7xd//GfzsD0NKugU7');
  // the example of the SHA-crypt specification (openssl passwd -5 -salt saltstring)
  assert.equal(crypt('Hello world!', '$5$saltstring'), '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5');
  assert.equal(crypt(hex('c3a9'), '$5$rounds=1000$x'), '$5$rounds=1000$x$Avw8tGXV7ldRbMpr/G5lhZP3WpTrKYF2N5zA418YWF6');
  // libxcrypt refuses rounds below 1000 and counts with leading zeros ("*0")
  assert.equal(crypt('a', '$5$rounds=999$x'), undefined);
  assert.equal(crypt('a', '$5$rounds=01000$x'), undefined);
  assert.equal(crypt('a', '$5$rounds=$x'), undefined);
});

test('SHA-512-crypt ($6$)', () => {
  assert.equal(crypt('hello', '$6$rounds=1000$abc'),
    '$6$rounds=1000$abc$ezk7z0ByB2021q.W2WbfEwaXpqLCvdXKfKniTXIu2iAtsO2wmeTc6beQ6jlqtrp9cKRJUPgPePvRAbUfkVx.d1');
  // salt truncated to 16 characters; a password longer than a digest (openssl passwd -6)
  assert.equal(crypt('x'.repeat(40), '$6$0123456789abcdefXYZ'),
    '$6$0123456789abcdef$xViBRLV7W9p/u40z6EAsXwtIdzRroAJ9DgmTSUvsseYT2kvvReRR5UXx9bvEq.jYq4tdPSVJhISd3POSCPekt.');
  assert.equal(crypt(hex('c3a9'), '$6$abc'),
    '$6$abc$tAdC2NGAORPCKiADyNcf96S23G339pkWtP14HIli3PSA1SlkyW8rUR9VXHr77MFHD1uds8EHyOmvZabpGsSM91');
});

test('bcrypt: published vectors', () => {
  assert.equal(crypt('U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.'), '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW');
  assert.equal(crypt('U*U*', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.'), '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK');
  assert.equal(crypt('U*U*U', '$2a$05$XXXXXXXXXXXXXXXXXXXXXO'), '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a');
  assert.equal(crypt('', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.'), '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy');
  // 8-bit passwords: the historic sign-extension bug ($2x$), the fixed algorithm ($2y$) and
  // $2a$ with its countermeasure
  assert.equal(crypt(hex('ffa3333435'), '$2x$05$/OK.fbVrR/bpIqNJ5ianF.'), '$2x$05$/OK.fbVrR/bpIqNJ5ianF.o./n25XVfn6oAPaUvHe.Csk4zRfsYPi');
  assert.equal(crypt(hex('ffa3333435'), '$2y$05$/OK.fbVrR/bpIqNJ5ianF.'), '$2y$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e');
  assert.equal(crypt(hex('ffa334ffffffa3333435'), '$2a$05$/OK.fbVrR/bpIqNJ5ianF.'), '$2a$05$/OK.fbVrR/bpIqNJ5ianF.gPP/PygDo6gMtKRc8N0kjNHj2ExpcIC');
});

test('bcrypt: libxcrypt vectors (variants, 72-byte limit, salt canonicalisation)', () => {
  assert.equal(crypt('abc', '$2b$04$abcdefghijklmnopqrstuu'), '$2b$04$abcdefghijklmnopqrstuuCi15uRb1eH7NAlJ/TgeJertyknQpYn2');
  // 72 x 0xff: the only case where $2a$ differs from $2b$
  const ff = Buffer.alloc(72, 0xff);
  assert.equal(crypt(ff, '$2a$04$abcdefghijklmnopqrstuu'), '$2a$04$abcdefghijklmnopqrstuuFqHjb/rDLNN/ZBWitRnJrogHVUGKnN.');
  assert.equal(crypt(ff, '$2b$04$abcdefghijklmnopqrstuu'), '$2b$04$abcdefghijklmnopqrstuuJjey955Nv64O8Kva4YV/3hJowaKUXkS');
  assert.equal(crypt(ff, '$2x$04$abcdefghijklmnopqrstuu'), '$2x$04$abcdefghijklmnopqrstuuJjey955Nv64O8Kva4YV/3hJowaKUXkS');
  // only the first 72 bytes count
  const h72 = '$2b$04$abcdefghijklmnopqrstuuBzzIgyKkz7xMWYSzkIjUSnxEQFQ0WNe';
  assert.equal(crypt('a'.repeat(72), '$2b$04$abcdefghijklmnopqrstuu'), h72);
  assert.equal(crypt('a'.repeat(80), '$2b$04$abcdefghijklmnopqrstuu'), h72);
  // the last salt character carries 2 bits: written back canonically ('v' -> 'u')
  assert.equal(crypt('', '$2b$04$abcdefghijklmnopqrstuv'), '$2b$04$abcdefghijklmnopqrstuubyCG3zY1GIXMyxfivm.ClDiInHzxjiq');
  // so a stored hash with a non-canonical salt never verifies (strcmp in HAProxy)
  assert.ok(!verifyPassword('', '$2b$04$abcdefghijklmnopqrstuvbyCG3zY1GIXMyxfivm.ClDiInHzxjiq'));
  // invalid settings: cost below 4, short salt, bad characters
  assert.equal(crypt('a', '$2b$03$abcdefghijklmnopqrstuu'), undefined);
  assert.equal(crypt('a', '$2a$04$abcdefghijklmnopqrstu'), undefined);
  assert.equal(crypt('a', '$2b$04$abcdefghijklmnopqrstu!'), undefined);
  assert.equal(crypt('a', '$2c$04$abcdefghijklmnopqrstuu'), undefined);
});

test('bcrypt cost 10 verifies (timing printed)', () => {
  // python3: crypt.crypt('password', '$2b$10$abcdefghijklmnopqrstuu')
  const h = '$2b$10$abcdefghijklmnopqrstuu5Lo0g67CiD3M4RpN1BmBb4Crp5w7dbK';
  const t = process.hrtime.bigint();
  assert.ok(verifyPassword('password', h));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(`bcrypt cost 10 verification: ${ms.toFixed(1)} ms`);
  assert.ok(!verifyPassword('Password', h));
});

test('unsupported schemes and helpers', () => {
  assert.equal(cryptScheme('$y$j9T$abc$'), undefined);
  assert.ok(!cryptSupported('$y$j9T$abc$'));
  assert.ok(!cryptSupported('$7$abc'));
  assert.ok(!cryptSupported('*'));
  assert.ok(!cryptSupported(''));
  assert.ok(cryptSupported('$6$abc$xyz'));
  assert.ok(!verifyPassword('a', '$y$j9T$abc$'));
  assert.ok(safeEqual('abc', 'abc'));
  assert.ok(!safeEqual('abc', 'abd'));
  assert.ok(!safeEqual('abc', 'abcd'));
  assert.ok(safeEqual('', ''));
});

test('cache of successful checks', () => {
  clearVerifyCache();
  const h = '$1$saltsalt$9xy1btjgzLYfb7hivXtC//';
  assert.ok(!verifyPasswordCached('bad', h));
  assert.equal(verifyCacheSize(), 0); // failures are not remembered
  assert.ok(verifyPasswordCached('secret', h));
  assert.equal(verifyCacheSize(), 1);
  assert.ok(verifyPasswordCached('secret', h));
  assert.equal(verifyCacheSize(), 1);
  // a different hash is a different key
  assert.ok(!verifyPasswordCached('secret', '$1$saltsalx$9xy1btjgzLYfb7hivXtC//'));
  // bounded, least recently used dropped first
  assert.equal(VERIFY_CACHE_SIZE, 1024);
  setVerifyCacheSize(3);
  const hs = [0, 1, 2, 3].map((i) => crypt(`p${i}`, '$1$s')!);
  for (let i = 0; i < 4; i++) assert.ok(verifyPasswordCached(`p${i}`, hs[i]!));
  assert.equal(verifyCacheSize(), 3);
  setVerifyCacheSize(0);
  assert.equal(verifyCacheSize(), 0);
  assert.ok(verifyPasswordCached('secret', h));
  assert.equal(verifyCacheSize(), 0);
  setVerifyCacheSize(VERIFY_CACHE_SIZE);
  clearVerifyCache();
});
