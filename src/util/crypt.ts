// Password hashes as crypt(3) computes them on glibc / libxcrypt systems, for the `password`
// option of userlist users: MD5-crypt ($1$), SHA-256-crypt ($5$), SHA-512-crypt ($6$), bcrypt
// ($2a$, $2b$, $2y$, $2x$) and the traditional 13-character DES crypt. A password is checked the
// way HAProxy does it: crypt(password, stored) is computed and compared with the stored string
// (here in constant time). Everything is byte-oriented: strings are taken one char per byte
// (latin1), as the rest of the sample engine does.
import { createHash, timingSafeEqual } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Appends `n` crypt-base64 characters of the 24-bit value b2:b1:b0, low bits first. */
function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  while (n-- > 0) { s += ITOA64[w & 0x3f]; w >>>= 6; }
  return s;
}

function latin1(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}

// ---- MD5-crypt ($1$) --------------------------------------------------------------------------

function md5Crypt(pw: Buffer, setting: string): string | undefined {
  const magic = '$1$';
  const rest = setting.slice(magic.length);
  const end = rest.indexOf('$');
  const salt = (end >= 0 ? rest.slice(0, end) : rest).slice(0, 8);
  const saltB = Buffer.from(salt, 'latin1');

  const alt = createHash('md5').update(pw).update(saltB).update(pw).digest();
  const ctx = createHash('md5').update(pw).update(magic).update(saltB);
  for (let left = pw.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(left, 16)));
  const zero = Buffer.alloc(1);
  const first = pw.subarray(0, 1);
  for (let i = pw.length; i; i >>>= 1) ctx.update(i & 1 ? zero : first);
  let fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? pw : fin);
    if (i % 3) h.update(saltB);
    if (i % 7) h.update(pw);
    h.update(i & 1 ? fin : pw);
    fin = h.digest();
  }
  const f = fin;
  const out = b64From24(f[0]!, f[6]!, f[12]!, 4) + b64From24(f[1]!, f[7]!, f[13]!, 4) +
    b64From24(f[2]!, f[8]!, f[14]!, 4) + b64From24(f[3]!, f[9]!, f[15]!, 4) +
    b64From24(f[4]!, f[10]!, f[5]!, 4) + b64From24(0, 0, f[11]!, 2);
  return `${magic}${salt}$${out}`;
}

// ---- SHA-256-crypt ($5$) and SHA-512-crypt ($6$) ----------------------------------------------

const ROUNDS_DEFAULT = 5000;
const ROUNDS_MIN = 1000;
const ROUNDS_MAX = 999_999_999;

/** Byte triples of the final encoding (SHA-256: 10 groups + 1 short; SHA-512: 21 + 1). */
const SHA256_ORDER = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]];
function sha512Order(): number[][] {
  const o: number[][] = [];
  for (let k = 0; k < 21; k++) {
    const a = k, b = k + 21, c = k + 42;
    o.push(k % 3 === 0 ? [a, b, c] : k % 3 === 1 ? [b, c, a] : [c, a, b]);
  }
  return o;
}
const SHA512_ORDER = sha512Order();

/** Repeats `src` (cyclically) to `len` bytes. */
function cycle(src: Buffer, len: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i += src.length) src.copy(out, i, 0, Math.min(src.length, len - i));
  return out;
}

function shaCrypt(pw: Buffer, setting: string, alg: 'sha256' | 'sha512'): string | undefined {
  const magic = alg === 'sha256' ? '$5$' : '$6$';
  const hlen = alg === 'sha256' ? 32 : 64;
  let rest = setting.slice(3);
  let rounds = ROUNDS_DEFAULT;
  let roundsCustom = false;
  const m = /^rounds=([0-9]+)\$/.exec(rest);
  if (m) {
    // libxcrypt (unlike older glibc, which clamped) refuses a count out of range or written
    // with leading zeros
    if (m[1]![0] === '0') return undefined;
    const n = Number(m[1]);
    if (n < ROUNDS_MIN || n > ROUNDS_MAX) return undefined;
    rounds = n;
    roundsCustom = true;
    rest = rest.slice(m[0].length);
  } else if (rest.startsWith('rounds=')) {
    return undefined;
  }
  const end = rest.indexOf('$');
  const salt = (end >= 0 ? rest.slice(0, end) : rest).slice(0, 16);
  const S = Buffer.from(salt, 'latin1');
  const P = pw;

  const B = createHash(alg).update(P).update(S).update(P).digest();
  const ca = createHash(alg).update(P).update(S);
  let cnt = P.length;
  for (; cnt > hlen; cnt -= hlen) ca.update(B);
  ca.update(B.subarray(0, cnt));
  for (cnt = P.length; cnt > 0; cnt >>>= 1) ca.update(cnt & 1 ? B : P);
  let A = ca.digest();

  const dp = createHash(alg);
  for (let i = 0; i < P.length; i++) dp.update(P);
  const Pp = cycle(dp.digest(), P.length);
  const ds = createHash(alg);
  for (let i = 0; i < 16 + A[0]!; i++) ds.update(S);
  const Sp = cycle(ds.digest(), S.length);

  for (let i = 0; i < rounds; i++) {
    const c = createHash(alg);
    c.update(i & 1 ? Pp : A);
    if (i % 3) c.update(Sp);
    if (i % 7) c.update(Pp);
    c.update(i & 1 ? A : Pp);
    A = c.digest();
  }
  let out = '';
  if (alg === 'sha256') {
    for (const [x, y, z] of SHA256_ORDER) out += b64From24(A[x!]!, A[y!]!, A[z!]!, 4);
    out += b64From24(0, A[31]!, A[30]!, 3);
  } else {
    for (const [x, y, z] of SHA512_ORDER) out += b64From24(A[x!]!, A[y!]!, A[z!]!, 4);
    out += b64From24(0, 0, A[63]!, 2);
  }
  return `${magic}${roundsCustom ? `rounds=${rounds}$` : ''}${salt}$${out}`;
}

// ---- bcrypt ($2a$, $2b$, $2y$, $2x$) ----------------------------------------------------------

const BF_ITOA64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BF_ATOI64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BF_ATOI64[BF_ITOA64.charCodeAt(i)] = i;

/**
 * Blowfish's initial state (18 P words then 4 x 256 S words) is the fractional part of pi in
 * hexadecimal. It is computed once, on first use, with Machin's formula in BigInt arithmetic
 * rather than written out as a table.
 */
let bfInit: Uint32Array | undefined;
function blowfishInit(): Uint32Array {
  if (bfInit) return bfInit;
  const words = 18 + 1024;
  const bits = BigInt(words * 32 + 64);
  const one = 1n << bits;
  const atanInv = (x: bigint): bigint => {
    // atan(1/x) = sum (-1)^k / ((2k+1) x^(2k+1))
    const x2 = x * x;
    let term = one / x;
    let sum = term;
    for (let k = 1n; term !== 0n; k++) {
      term /= x2;
      const t = term / (2n * k + 1n);
      sum = k & 1n ? sum - t : sum + t;
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  // drop the integer part (3) and the guard bits
  let frac = (pi - 3n * one) >> 64n;
  const out = new Uint32Array(words);
  for (let i = words - 1; i >= 0; i--) { out[i] = Number(frac & 0xffffffffn); frac >>= 32n; }
  bfInit = out;
  return out;
}

/** Decodes bcrypt-base64 into `n` bytes; undefined on an invalid character. */
function bfDecode(s: string, n: number): Buffer | undefined {
  const out = Buffer.alloc(n);
  let o = 0;
  let i = 0;
  const get = (): number => {
    const c = s.charCodeAt(i++);
    return c < 128 ? BF_ATOI64[c]! : -1;
  };
  while (o < n) {
    const c1 = get(), c2 = get();
    if (c1 < 0 || c2 < 0) return undefined;
    out[o++] = (c1 << 2) | ((c2 & 0x30) >> 4);
    if (o >= n) break;
    const c3 = get();
    if (c3 < 0) return undefined;
    out[o++] = ((c2 & 0x0f) << 4) | ((c3 & 0x3c) >> 2);
    if (o >= n) break;
    const c4 = get();
    if (c4 < 0) return undefined;
    out[o++] = ((c3 & 0x03) << 6) | c4;
  }
  return out;
}

function bfEncode(b: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < b.length) {
    const c1 = b[i++]!;
    s += BF_ITOA64[c1 >> 2];
    let c = (c1 & 0x03) << 4;
    if (i >= b.length) { s += BF_ITOA64[c]; break; }
    const c2 = b[i++]!;
    s += BF_ITOA64[c | (c2 >> 4)];
    c = (c2 & 0x0f) << 2;
    if (i >= b.length) { s += BF_ITOA64[c]; break; }
    const c3 = b[i++]!;
    s += BF_ITOA64[c | (c3 >> 6)] + BF_ITOA64[c3 & 0x3f];
  }
  return s;
}

/** One Blowfish block encryption in place on lr[0], lr[1]. */
function bfEncrypt(P: Uint32Array, S: Uint32Array, lr: Uint32Array): void {
  let l = lr[0]!, r = lr[1]!;
  l ^= P[0]!;
  for (let i = 1; i <= 16; i += 2) {
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[i]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[i + 1]!;
  }
  lr[0] = r ^ P[17]!;
  lr[1] = l;
}

/**
 * The key as 18 big-endian words, the password bytes followed by a NUL, repeated. `variant`:
 * 'x' reproduces the historic sign-extension bug; 'a' adds the countermeasure crypt_blowfish
 * applies to $2a$ hashes of passwords the bug would have affected.
 */
function bfKeyWords(pw: Buffer, variant: string): Uint32Array {
  const key = Buffer.concat([pw, Buffer.alloc(1)]);
  const good = new Uint32Array(18);
  const bugged = new Uint32Array(18);
  let p = 0;
  let signSeen = 0;
  let differ = false;
  for (let i = 0; i < 18; i++) {
    let g = 0, b = 0;
    for (let j = 0; j < 4; j++) {
      const byte = key[p]!;
      g = ((g << 8) | byte) >>> 0;
      const ext = byte & 0x80 ? (byte | 0xffffff00) : byte;
      b = ((b << 8) | ext) >>> 0;
      if (j && (b & 0x80)) signSeen = 1;
      p = p + 1 === key.length ? 0 : p + 1;
    }
    if (g !== b) differ = true;
    good[i] = g;
    bugged[i] = b;
  }
  if (variant === 'x') return bugged;
  if (variant === 'a' && signSeen && !differ) {
    // the bug would not have changed the key although a byte had its high bit set after the
    // first of a word: $2a$ alters the state so that such hashes cannot be confused
    const k = good.slice();
    (k as Uint32Array & { safety?: boolean }).safety = true;
    return k;
  }
  return good;
}

function bcrypt(pw: Buffer, setting: string): string | undefined {
  const m = /^\$2([abxy])\$([0-9]{2})\$/.exec(setting);
  if (!m) return undefined;
  const variant = m[1]!;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) return undefined;
  const saltText = setting.slice(7, 7 + 22);
  if (saltText.length < 22) return undefined;
  const salt = bfDecode(saltText, 16);
  if (!salt) return undefined;

  const init = blowfishInit();
  const P = init.slice(0, 18);
  const S = init.slice(18);
  const key = bfKeyWords(pw.length > 72 ? pw.subarray(0, 72) : pw, variant);
  const safety = (key as Uint32Array & { safety?: boolean }).safety === true;
  const sw = new Uint32Array(4);
  for (let i = 0; i < 4; i++) sw[i] = salt.readUInt32BE(i * 4);

  // expensive key schedule: key and salt first
  for (let i = 0; i < 18; i++) P[i] = P[i]! ^ key[i]!;
  if (safety) P[0] = P[0]! ^ 0x10000;
  const lr = new Uint32Array(2);
  let s = 0;
  for (let i = 0; i < 18; i += 2) {
    lr[0] = lr[0]! ^ sw[s]!; lr[1] = lr[1]! ^ sw[s + 1]!; s ^= 2;
    bfEncrypt(P, S, lr);
    P[i] = lr[0]!; P[i + 1] = lr[1]!;
  }
  for (let i = 0; i < 1024; i += 2) {
    lr[0] = lr[0]! ^ sw[s]!; lr[1] = lr[1]! ^ sw[s + 1]!; s ^= 2;
    bfEncrypt(P, S, lr);
    S[i] = lr[0]!; S[i + 1] = lr[1]!;
  }
  // then 2^cost rounds of expanding with the key, then with the salt
  const saltKey = new Uint32Array(18);
  for (let i = 0; i < 18; i++) saltKey[i] = sw[i & 3]!;
  const expand = (k: Uint32Array): void => {
    for (let i = 0; i < 18; i++) P[i] = P[i]! ^ k[i]!;
    lr[0] = 0; lr[1] = 0;
    for (let i = 0; i < 18; i += 2) { bfEncrypt(P, S, lr); P[i] = lr[0]!; P[i + 1] = lr[1]!; }
    for (let i = 0; i < 1024; i += 2) { bfEncrypt(P, S, lr); S[i] = lr[0]!; S[i + 1] = lr[1]!; }
  };
  const count = 2 ** cost;
  for (let r = 0; r < count; r++) {
    expand(key);
    expand(saltKey);
  }
  // encrypt the magic text 64 times
  const ctext = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const cw = new Uint32Array(6);
  for (let i = 0; i < 6; i++) cw[i] = ctext.readUInt32BE(i * 4);
  for (let r = 0; r < 64; r++) {
    for (let i = 0; i < 6; i += 2) {
      lr[0] = cw[i]!; lr[1] = cw[i + 1]!;
      bfEncrypt(P, S, lr);
      cw[i] = lr[0]!; cw[i + 1] = lr[1]!;
    }
  }
  const outB = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) outB.writeUInt32BE(cw[i]!, i * 4);
  // the salt is written back canonically: its last character only carries 2 bits
  const saltOut = saltText.slice(0, 21) + BF_ITOA64[BF_ATOI64[saltText.charCodeAt(21)]! & 0x30];
  return `$2${variant}$${m[2]}$${saltOut}${bfEncode(outB.subarray(0, 23))}`;
}

// ---- public API ---------------------------------------------------------------------------------

export type CryptScheme = 'md5' | 'sha256' | 'sha512' | 'bcrypt' | 'des';

/** The scheme of a stored hash (or setting), undefined when it is not one haproxy-ts computes. */
export function cryptScheme(hash: string): CryptScheme | undefined {
  if (hash.startsWith('$1$')) return 'md5';
  if (hash.startsWith('$5$')) return 'sha256';
  if (hash.startsWith('$6$')) return 'sha512';
  if (/^\$2[abxy]\$/.test(hash)) return 'bcrypt';
  if (/^[./0-9A-Za-z]{2}/.test(hash) && hasDes()) return 'des';
  return undefined;
}

let desCrypt: ((pw: Buffer, setting: string) => string | undefined) | undefined;
function hasDes(): boolean { return desCrypt !== undefined; }
/** Installs the traditional DES crypt (kept in its own module). */
export function setDesCrypt(fn: (pw: Buffer, setting: string) => string | undefined): void { desCrypt = fn; }

/**
 * crypt(password, setting) as libxcrypt computes it: the full hash string, or undefined when the
 * setting is not valid for a supported scheme (crypt(3) returns a failure token then).
 */
export function crypt(password: string | Buffer, setting: string): string | undefined {
  const pw = latin1(password);
  switch (cryptScheme(setting)) {
    case 'md5': return md5Crypt(pw, setting);
    case 'sha256': return shaCrypt(pw, setting, 'sha256');
    case 'sha512': return shaCrypt(pw, setting, 'sha512');
    case 'bcrypt': return bcrypt(pw, setting);
    case 'des': return desCrypt!(pw, setting);
    default: return undefined;
  }
}

/** Constant-time equality of two strings (as bytes); the length is not hidden. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const x = latin1(a), y = latin1(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x); // same work as a comparison
    return false;
  }
  return timingSafeEqual(x, y);
}

/** True when `password` hashes to `hash` (crypt(password, hash) === hash, in constant time). */
export function verifyPassword(password: string | Buffer, hash: string): boolean {
  const out = crypt(password, hash);
  if (out === undefined) return false;
  return safeEqual(out, hash);
}

/** True when a stored hash can be checked at all (its scheme and parameters are supported). */
export function cryptSupported(hash: string): boolean {
  return crypt('', hash) !== undefined;
}

// ---- cache of successful checks -----------------------------------------------------------------
//
// HAProxy runs crypt(3) on every request carrying credentials, which makes bcrypt or SHA-crypt
// with many rounds very expensive per request (configuration.txt warns about it). haproxy-ts
// remembers the last successful checks instead: the key is SHA-256 over the stored hash and the
// password, so no password is kept in clear in memory, and only successes are remembered (a
// wrong password still costs the full computation, and cannot evict anything). Entries live
// until evicted by newer ones (least recently used first); a hash change in the configuration
// gives new keys, so nothing needs to be invalidated.

const verifyCache = new Map<string, true>();
/** How many successful (hash, password) checks are remembered by default. */
export const VERIFY_CACHE_SIZE = 1024;
let cacheSize = VERIFY_CACHE_SIZE;
/** Changes the cache size (0 disables it); entries beyond it are dropped, oldest first. */
export function setVerifyCacheSize(n: number): void {
  cacheSize = n;
  while (verifyCache.size > n) verifyCache.delete(verifyCache.keys().next().value!);
}

function cacheKey(password: Buffer, hash: string): string {
  return createHash('sha256').update(hash, 'latin1').update('\0').update(password).digest('base64');
}

/** verifyPassword with the cache of successful checks. */
export function verifyPasswordCached(password: string | Buffer, hash: string): boolean {
  const pw = latin1(password);
  const key = cacheKey(pw, hash);
  if (verifyCache.has(key)) {
    // most recently used goes last
    verifyCache.delete(key);
    verifyCache.set(key, true);
    return true;
  }
  if (!verifyPassword(pw, hash)) return false;
  if (cacheSize <= 0) return true;
  if (verifyCache.size >= cacheSize) verifyCache.delete(verifyCache.keys().next().value!);
  verifyCache.set(key, true);
  return true;
}

/** Empties the cache (tests, reloads). */
export function clearVerifyCache(): void { verifyCache.clear(); }

/** Number of entries in the cache (tests). */
export function verifyCacheSize(): number { return verifyCache.size; }
