// Hash functions used by the load-balancing code ("hash-type" functions).
//
// Every function takes the key as raw bytes and returns an unsigned 32-bit
// integer, computed with the same wrap-around arithmetic as a C `unsigned int`
// so that results are identical to HAProxy's for the same input.

/** Names accepted by `hash-type <method> <function>`. */
export type HashFunctionName = 'sdbm' | 'djb2' | 'wt6' | 'crc32' | 'none';

/**
 * sdbm: h = c + (h << 6) + (h << 16) - h for every byte, starting from 0.
 * (h << 6) + (h << 16) - h is h * 65599, done here with a 32-bit multiply.
 */
export function sdbm(key: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) {
    h = (Math.imul(h, 65599) + key[i]!) | 0;
  }
  return h >>> 0;
}

/** djb2 (Bernstein): starts at 5381, h = h * 33 + c for every byte. */
export function djb2(key: Uint8Array): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) {
    h = (Math.imul(h, 33) + key[i]!) | 0;
  }
  return h >>> 0;
}

/** Rotate a 32-bit value left by n bits (n taken modulo 32; 0 leaves it unchanged). */
function rotl32(v: number, n: number): number {
  n &= 31;
  if (n === 0) return v >>> 0;
  return ((v << n) | (v >>> (32 - n))) >>> 0;
}

/**
 * wt6: HAProxy's own hash. Two 32-bit lanes are mixed with every input byte
 * (one by xor, one by addition, both complemented), then cross-rotated by
 * variable amounts derived from the current state. The result is the xor of
 * both lanes.
 */
export function wt6(key: Uint8Array): number {
  let a = 0xa53c965a;
  let b = 0x5ca6953a;
  let ra = 6;
  let rb = 18;
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    const na = ~(a ^ c) >>> 0;
    const nb = ~((b + c) | 0) >>> 0;
    // the new first lane is the rotated second one, and vice versa
    a = rotl32(nb, ra);
    b = rotl32(na, rb);
    const mix = ((a >>> 16) ^ b) & 0xffff;
    ra = mix & 0x1f;
    rb = mix >>> 11;
  }
  return (a ^ b) >>> 0;
}

let crcTable: Uint32Array | undefined;

function getCrcTable(): Uint32Array {
  if (crcTable) return crcTable;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  crcTable = t;
  return t;
}

/**
 * The usual reflected CRC-32 (polynomial 0x04C11DB7, reflected 0xEDB88320,
 * initial value and final xor 0xFFFFFFFF) as used by Ethernet, zlib, PNG...
 */
export function crc32(key: Uint8Array): number {
  const t = getCrcTable();
  let c = 0xffffffff;
  for (let i = 0; i < key.length; i++) c = t[(c ^ key[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const U64_MAX = 0xffffffffffffffffn;
const I64_MAX = 0x7fffffffffffffffn;
const I64_MIN_ABS = 0x8000000000000000n;

/**
 * "none": the key is not hashed but read as a number. As HAProxy does, the
 * bytes are parsed as an optionally signed decimal integer (stopping at the
 * first non-digit, saturating to the signed 64-bit range), and the low 32 bits
 * of that value are returned. Integer samples reach the balancer in their
 * decimal text form, so e.g. `hash req.hdr(x),crc32` + `hash-type ... none`
 * uses the converter's result as is. A key with no leading digits yields 0.
 */
export function none(key: Uint8Array): number {
  let i = 0;
  let neg = false;
  if (key.length > 0 && key[0] === 0x2d /* - */) { neg = true; i = 1; }
  else if (key.length > 0 && key[0] === 0x2b /* + */) i = 1;
  const start = i;
  while (i < key.length && key[i]! >= 0x30 && key[i]! <= 0x39) i++;
  const ndig = i - start;
  if (ndig === 0) return 0;
  if (ndig <= 15) {
    // fits exactly in a double: no need for BigInt
    let v = 0;
    for (let j = start; j < i; j++) v = v * 10 + (key[j]! - 0x30);
    if (neg) v = -v;
    const m = v % 4294967296;
    return (m < 0 ? m + 4294967296 : m) >>> 0;
  }
  let v = 0n;
  for (let j = start; j < i; j++) {
    v = v * 10n + BigInt(key[j]! - 0x30);
    if (v > U64_MAX) { v = U64_MAX; break; }
  }
  let r: bigint;
  if (neg) r = v > I64_MIN_ABS ? -I64_MIN_ABS : -v;
  else r = v > I64_MAX ? I64_MAX : v;
  return Number(BigInt.asUintN(32, r));
}

/**
 * Full-avalanche mixing of a 32-bit integer (one of Bob Jenkins' integer
 * hashes, six add/xor-shift rounds), followed as in HAProxy by a
 * multiplication by the prime 3221225473 (about 3/4 of 2^32) to spread the
 * values over the whole 32-bit space.
 */
export function avalanche(h: number): number {
  let a = h | 0;
  a = (a + 0x7ed55d16 + (a << 12)) | 0;
  a = (a ^ 0xc761c23c) ^ (a >>> 19);
  a = (a + 0x165667b1 + (a << 5)) | 0;
  a = ((a + 0xd3a2646c) | 0) ^ (a << 9);
  a = (a + 0xfd7046c5 + (a << 3)) | 0;
  a = (a ^ 0xb55a4f09) ^ (a >>> 16);
  return Math.imul(a, 3221225473 | 0) >>> 0;
}

/** The hash function designated by its `hash-type` name. */
export function hashFunction(name: HashFunctionName): (key: Uint8Array) => number {
  switch (name) {
    case 'sdbm': return sdbm;
    case 'djb2': return djb2;
    case 'wt6': return wt6;
    case 'crc32': return crc32;
    case 'none': return none;
  }
}

/** Convenience: hash a text (UTF-8 encoded) with the named function. */
export function hashString(name: HashFunctionName, s: string): number {
  return hashFunction(name)(Buffer.from(s, 'utf8'));
}

// ---- XXH64 (xxHash, 64-bit variant), used for dynamic persistence cookies ----------------
const X1 = 0x9E3779B185EBCA87n;
const X2 = 0xC2B2AE3D27D4EB4Fn;
const X3 = 0x165667B19E3779F9n;
const X4 = 0x85EBCA77C2B2AE63n;
const X5 = 0x27D4EB2F165667C5n;
const M64 = 0xFFFFFFFFFFFFFFFFn;

function rotl64(v: bigint, r: bigint): bigint {
  return ((v << r) | (v >> (64n - r))) & M64;
}

function xxRound(acc: bigint, lane: bigint): bigint {
  return (rotl64((acc + lane * X2) & M64, 31n) * X1) & M64;
}

function xxMerge(acc: bigint, v: bigint): bigint {
  return (((acc ^ xxRound(0n, v)) * X1) + X4) & M64;
}

function le64(b: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[i + k]!);
  return v;
}

function le32(b: Uint8Array, i: number): bigint {
  return BigInt((b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0);
}

/** XXH64 of `data` with `seed`, as an unsigned 64-bit bigint. */
export function xxh64(data: Uint8Array, seed = 0n): bigint {
  const len = data.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let a = (seed + X1 + X2) & M64;
    let b = (seed + X2) & M64;
    let c = seed & M64;
    let d = (seed - X1) & M64;
    for (; i + 32 <= len; i += 32) {
      a = xxRound(a, le64(data, i));
      b = xxRound(b, le64(data, i + 8));
      c = xxRound(c, le64(data, i + 16));
      d = xxRound(d, le64(data, i + 24));
    }
    h = (rotl64(a, 1n) + rotl64(b, 7n) + rotl64(c, 12n) + rotl64(d, 18n)) & M64;
    h = xxMerge(h, a); h = xxMerge(h, b); h = xxMerge(h, c); h = xxMerge(h, d);
  } else {
    h = (seed + X5) & M64;
  }
  h = (h + BigInt(len)) & M64;
  for (; i + 8 <= len; i += 8) {
    h ^= xxRound(0n, le64(data, i));
    h = (rotl64(h, 27n) * X1 + X4) & M64;
  }
  if (i + 4 <= len) {
    h ^= (le32(data, i) * X1) & M64;
    h = (rotl64(h, 23n) * X2 + X3) & M64;
    i += 4;
  }
  for (; i < len; i++) {
    h ^= (BigInt(data[i]!) * X5) & M64;
    h = (rotl64(h, 11n) * X1) & M64;
  }
  h ^= h >> 33n; h = (h * X2) & M64;
  h ^= h >> 29n; h = (h * X3) & M64;
  h ^= h >> 32n;
  return h;
}
