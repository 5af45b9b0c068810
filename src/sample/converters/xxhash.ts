// Non-cryptographic hashes used by converters: CRC32C (Castagnoli), XXH32, XXH3 (64-bit).
// XXH64 lives in src/util/hash.ts. All inputs are raw bytes; 64-bit values are bigints.

let crc32cTable: Uint32Array | undefined;

/** CRC-32C (reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), as in RFC 4960 B. */
export function crc32c(key: Uint8Array): number {
  let t = crc32cTable;
  if (!t) {
    t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      t[n] = c >>> 0;
    }
    crc32cTable = t;
  }
  let c = 0xffffffff;
  for (let i = 0; i < key.length; i++) c = t[(c ^ key[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/* ---- XXH32 ---- */
const P32_1 = 0x9e3779b1, P32_2 = 0x85ebca77, P32_3 = 0xc2b2ae3d, P32_4 = 0x27d4eb2f, P32_5 = 0x165667b1;

function rotl32(v: number, n: number): number { return ((v << n) | (v >>> (32 - n))) >>> 0; }
function rd32(b: Uint8Array, i: number): number { return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0; }
function round32(acc: number, lane: number): number { return Math.imul(rotl32((acc + Math.imul(lane, P32_2)) >>> 0, 13), P32_1) >>> 0; }

/** XXH32 of `data` with a 32-bit seed. */
export function xxh32(data: Uint8Array, seed: number): number {
  const len = data.length;
  let i = 0;
  let h: number;
  seed >>>= 0;
  if (len >= 16) {
    let v1 = (seed + P32_1 + P32_2) >>> 0, v2 = (seed + P32_2) >>> 0, v3 = seed, v4 = (seed - P32_1) >>> 0;
    for (; i + 16 <= len; i += 16) {
      v1 = round32(v1, rd32(data, i)); v2 = round32(v2, rd32(data, i + 4));
      v3 = round32(v3, rd32(data, i + 8)); v4 = round32(v4, rd32(data, i + 12));
    }
    h = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) >>> 0;
  } else {
    h = (seed + P32_5) >>> 0;
  }
  h = (h + len) >>> 0;
  for (; i + 4 <= len; i += 4) h = Math.imul(rotl32((h + Math.imul(rd32(data, i), P32_3)) >>> 0, 17), P32_4) >>> 0;
  for (; i < len; i++) h = Math.imul(rotl32((h + Math.imul(data[i]!, P32_5)) >>> 0, 11), P32_1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), P32_2) >>> 0;
  h = Math.imul(h ^ (h >>> 13), P32_3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/* ---- XXH3 64-bit ---- */
const M = 0xffffffffffffffffn;
const P64_1 = 0x9e3779b185ebca87n, P64_2 = 0xc2b2ae3d27d4eb4fn, P64_3 = 0x165667b19e3779f9n;
const P64_4 = 0x85ebca77c2b2ae63n, P64_5 = 0x27d4eb2f165667c5n;
const MX1 = 0x165667919e3779f9n, MX2 = 0x9fb21c651e98df25n;

const K_SECRET = Buffer.from(
  'b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f' +
  'cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c' +
  '3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
  'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364' +
  'eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e' +
  '2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e', 'hex');

function r64(b: Uint8Array, i: number): bigint {
  return BigInt(rd32(b, i)) | (BigInt(rd32(b, i + 4)) << 32n);
}
function rotl64(v: bigint, r: bigint): bigint { return ((v << r) | (v >> (64n - r))) & M; }
function mulFold(a: bigint, b: bigint): bigint { const p = a * b; return (p & M) ^ (p >> 64n); }
function xxh64Aval(h: bigint): bigint {
  h ^= h >> 33n; h = (h * P64_2) & M;
  h ^= h >> 29n; h = (h * P64_3) & M;
  return h ^ (h >> 32n);
}
function xxh3Aval(h: bigint): bigint {
  h ^= h >> 37n; h = (h * MX1) & M;
  return h ^ (h >> 32n);
}
function rrmxmx(h: bigint, len: number): bigint {
  h ^= rotl64(h, 49n) ^ rotl64(h, 24n);
  h = (h * MX2) & M;
  h ^= (h >> 35n) + BigInt(len);
  h = (h * MX2) & M;
  return h ^ (h >> 28n);
}
function mix16(d: Uint8Array, di: number, s: Uint8Array, si: number, seed: bigint): bigint {
  return mulFold(r64(d, di) ^ ((r64(s, si) + seed) & M), r64(d, di + 8) ^ ((r64(s, si + 8) - seed) & M));
}
function swap32(v: number): number { return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0; }
function swap64(v: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 8; i++) { r = (r << 8n) | (v & 0xffn); v >>= 8n; }
  return r;
}

function acc512(acc: bigint[], d: Uint8Array, di: number, s: Uint8Array, si: number): void {
  for (let i = 0; i < 8; i++) {
    const v = r64(d, di + 8 * i);
    const k = v ^ r64(s, si + 8 * i);
    acc[i ^ 1] = (acc[i ^ 1]! + v) & M;
    acc[i] = (acc[i]! + (k & 0xffffffffn) * (k >> 32n)) & M;
  }
}
function scramble(acc: bigint[], s: Uint8Array, si: number): void {
  for (let i = 0; i < 8; i++) {
    let a = acc[i]!;
    a ^= a >> 47n;
    a ^= r64(s, si + 8 * i);
    acc[i] = (a * BigInt(P32_1)) & M;
  }
}

function hashLong(d: Uint8Array, s: Uint8Array): bigint {
  const len = d.length;
  const acc = [BigInt(P32_3), P64_1, P64_2, P64_3, P64_4, BigInt(P32_2), P64_5, BigInt(P32_1)];
  const stripes = (s.length - 64) / 8;
  const block = 64 * stripes;
  const nb = Math.floor((len - 1) / block);
  for (let n = 0; n < nb; n++) {
    for (let k = 0; k < stripes; k++) acc512(acc, d, n * block + k * 64, s, k * 8);
    scramble(acc, s, s.length - 64);
  }
  const last = Math.floor((len - 1 - block * nb) / 64);
  for (let k = 0; k < last; k++) acc512(acc, d, nb * block + k * 64, s, k * 8);
  acc512(acc, d, len - 64, s, s.length - 64 - 7);
  let r = (BigInt(len) * P64_1) & M;
  for (let i = 0; i < 4; i++) r = (r + mulFold(acc[2 * i]! ^ r64(s, 11 + 16 * i), acc[2 * i + 1]! ^ r64(s, 11 + 16 * i + 8))) & M;
  return xxh3Aval(r);
}

/** XXH3 64-bit of `data` with a 64-bit seed; unsigned 64-bit result. */
export function xxh3(data: Uint8Array, seedIn: bigint): bigint {
  const seed = seedIn & M;
  const len = data.length;
  const s = K_SECRET;
  if (len === 0) return xxh64Aval(seed ^ r64(s, 56) ^ r64(s, 64));
  if (len <= 3) {
    const c = ((data[0]! << 16) | (data[len >> 1]! << 24) | data[len - 1]! | (len << 8)) >>> 0;
    const flip = (BigInt((rd32(s, 0) ^ rd32(s, 4)) >>> 0) + seed) & M;
    return xxh64Aval(BigInt(c) ^ flip);
  }
  if (len <= 8) {
    const sd = seed ^ (BigInt(swap32(Number(seed & 0xffffffffn))) << 32n);
    const in1 = BigInt(rd32(data, 0)), in2 = BigInt(rd32(data, len - 4));
    const flip = ((r64(s, 8) ^ r64(s, 16)) - sd) & M;
    return rrmxmx((in2 + (in1 << 32n)) ^ flip, len);
  }
  if (len <= 16) {
    const f1 = ((r64(s, 24) ^ r64(s, 32)) + seed) & M;
    const f2 = ((r64(s, 40) ^ r64(s, 48)) - seed) & M;
    const lo = r64(data, 0) ^ f1, hi = r64(data, len - 8) ^ f2;
    return xxh3Aval((BigInt(len) + swap64(lo) + hi + mulFold(lo, hi)) & M);
  }
  if (len <= 128) {
    let acc = (BigInt(len) * P64_1) & M;
    if (len > 32) {
      if (len > 64) {
        if (len > 96) { acc += mix16(data, 48, s, 96, seed); acc += mix16(data, len - 64, s, 112, seed); }
        acc += mix16(data, 32, s, 64, seed); acc += mix16(data, len - 48, s, 80, seed);
      }
      acc += mix16(data, 16, s, 32, seed); acc += mix16(data, len - 32, s, 48, seed);
    }
    acc += mix16(data, 0, s, 0, seed); acc += mix16(data, len - 16, s, 16, seed);
    return xxh3Aval(acc & M);
  }
  if (len <= 240) {
    let acc = (BigInt(len) * P64_1) & M;
    for (let i = 0; i < 8; i++) acc += mix16(data, 16 * i, s, 16 * i, seed);
    acc = xxh3Aval(acc & M);
    const rounds = Math.floor(len / 16);
    for (let i = 8; i < rounds; i++) acc += mix16(data, 16 * i, s, 16 * (i - 8) + 3, seed);
    acc += mix16(data, len - 16, s, 136 - 17, seed);
    return xxh3Aval(acc & M);
  }
  if (seed === 0n) return hashLong(data, s);
  const custom = Buffer.alloc(s.length);
  for (let i = 0; i < s.length; i += 16) {
    custom.writeBigUInt64LE((r64(s, i) + seed) & M, i);
    custom.writeBigUInt64LE((r64(s, i + 8) - seed) & M, i + 8);
  }
  return hashLong(data, custom);
}
