// Sample types and HAProxy's implicit casts (configuration.txt 7.1 and 7.3).
//
// Representation of the values (`Sample.v`):
//   bool  boolean
//   sint  number (a signed 64-bit integer in HAProxy; values beyond 2^53 are a bigint here)
//   ipv4  number: the address as an unsigned 32-bit integer
//   ipv6  Buffer of 16 bytes
//   str   string, one char per byte (latin1), as header values are kept
//   bin   Buffer
//   meth  string: the method name
// `addr` is an input type only (ipv4 or ipv6 accepted); `any` too.

export type SmpType = 'any' | 'bool' | 'sint' | 'addr' | 'ipv4' | 'ipv6' | 'str' | 'bin' | 'meth';

export interface Sample {
  t: SmpType;
  v: any;
  /** the value may change when more data arrives (contents being inspected) */
  mayChange?: boolean;
}

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

export function smpBool(v: boolean): Sample { return { t: 'bool', v }; }
export function smpInt(v: number | bigint): Sample { return { t: 'sint', v: normInt(v) }; }
export function smpStr(v: string): Sample { return { t: 'str', v }; }
export function smpBin(v: Buffer): Sample { return { t: 'bin', v }; }
export function smpIpv4(v: number): Sample { return { t: 'ipv4', v: v >>> 0 }; }
export function smpIpv6(v: Buffer): Sample { return { t: 'ipv6', v }; }

/** Clamps a 64-bit value into a number when it is exactly representable, else keeps a bigint. */
export function normInt(v: number | bigint): number | bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return v;
    if (!Number.isFinite(v)) return v > 0 ? Number.MAX_SAFE_INTEGER : v < 0 ? Number.MIN_SAFE_INTEGER : 0;
    return normInt(BigInt(Math.trunc(v)));
  }
  // wrap into the int64 range as a C int64 would
  const w = BigInt.asIntN(64, v);
  if (w >= BigInt(Number.MIN_SAFE_INTEGER) && w <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(w);
  return w;
}

/** A sint value as a number (precision is lost beyond 2^53). */
export function intNum(v: number | bigint): number { return typeof v === 'number' ? v : Number(v); }
/** A sint value as a bigint. */
export function intBig(v: number | bigint): bigint { return typeof v === 'bigint' ? v : BigInt(v); }

/** Text as HAProxy stores it: bytes, here one char per byte. */
export function strToBuf(s: string): Buffer { return Buffer.from(s, 'latin1'); }
export function bufToStr(b: Buffer): string { return b.toString('latin1'); }

/* ---------------------------------------------------------------------------------------- */
/* IP addresses                                                                             */
/* ---------------------------------------------------------------------------------------- */

/** Parses a dotted quad into an unsigned 32-bit number, or undefined. */
export function parseIpv4(s: string): number | undefined {
  let n = 0;
  let parts = 0;
  let cur = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (cur < 0 || cur > 255 || parts === 4) return undefined;
      n = n * 256 + cur;
      parts++;
      cur = -1;
    } else if (c >= 0x30 && c <= 0x39) {
      cur = cur < 0 ? c - 0x30 : cur * 10 + c - 0x30;
      if (cur > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? n >>> 0 : undefined;
}

export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses an IPv6 address (with an optional embedded IPv4 tail) into 16 bytes, or undefined. */
export function parseIpv6(s: string): Buffer | undefined {
  if (s.length < 2 || s.length > 45 || s.indexOf(':') < 0) return undefined;
  const out = Buffer.alloc(16);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseSide = (txt: string, allowV4: boolean): number[] | undefined => {
    if (txt === '') return [];
    const groups = txt.split(':');
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (v4 === undefined) return undefined;
        bytes.push((v4 >>> 24) & 255, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      const v = parseInt(g, 16);
      bytes.push(v >> 8, v & 255);
    }
    return bytes;
  };
  if (dbl >= 0) {
    const head = parseSide(s.slice(0, dbl), false);
    const tail = parseSide(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 14) return undefined;
    for (let i = 0; i < head.length; i++) out[i] = head[i]!;
    for (let i = 0; i < tail.length; i++) out[16 - tail.length + i] = tail[i]!;
    return out;
  }
  const all = parseSide(s, true);
  if (!all || all.length !== 16) return undefined;
  for (let i = 0; i < 16; i++) out[i] = all[i]!;
  return out;
}

/** RFC 5952 text form (lower case, longest zero run compressed, IPv4-mapped tail dotted). */
export function formatIpv6(b: Buffer): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // ::ffff:a.b.c.d and ::a.b.c.d (the latter only when not ::/::1-like) as inet_ntop prints them
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && (g[5] === 0xffff || (g[5] === 0 && (g[6] !== 0 || g[7]! > 1)))) {
    const v4 = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    return g[5] === 0xffff ? `::ffff:${v4}` : `::${v4}`;
  }
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** IPv4 → IPv4-mapped IPv6 (::ffff:a.b.c.d). */
export function ipv4ToV6(n: number): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff; b[11] = 0xff;
  b.writeUInt32BE(n >>> 0, 12);
  return b;
}

/** The IPv4 address held by an IPv4-mapped or IPv4-compatible IPv6 address, else undefined. */
export function ipv6ToV4(b: Buffer): number | undefined {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0)) return b.readUInt32BE(12);
  return undefined;
}

/** A socket address (as net reports it) as an ipv4 or ipv6 sample. */
export function addrSample(a: string | undefined): Sample | undefined {
  if (!a) return undefined;
  const v4 = parseIpv4(a);
  if (v4 !== undefined) return smpIpv4(v4);
  if (a.startsWith('::ffff:')) {
    const m = parseIpv4(a.slice(7));
    if (m !== undefined) return smpIpv4(m);
  }
  const v6 = parseIpv6(a);
  return v6 ? smpIpv6(v6) : undefined;
}

/* ---------------------------------------------------------------------------------------- */
/* Casts                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/** Parses the integer at the start of a string as HAProxy's str→sint cast does. */
export function strToInt(s: string): number | bigint | undefined {
  if (s.length === 0) return undefined;
  let i = 0;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; i = 1; }
  const start = i;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  // like HAProxy's str→sint cast: only an empty string fails; no leading digits reads as 0
  if (i === start) return 0;
  const digits = s.slice(start, i);
  if (digits.length < 16) { const n = Number(digits); return neg ? -n : n; }
  let b = BigInt(digits);
  if (neg) b = -b;
  if (b > INT64_MAX) b = INT64_MAX;
  if (b < INT64_MIN) b = INT64_MIN;
  return normInt(b);
}

const METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);
export function isKnownMethod(m: string): boolean { return METHODS.has(m); }

function toStr(s: Sample): string | undefined {
  switch (s.t) {
    case 'str': case 'meth': return s.v as string;
    case 'bool': return s.v ? '1' : '0';
    case 'sint': return String(s.v);
    case 'ipv4': return formatIpv4(s.v as number);
    case 'ipv6': return formatIpv6(s.v as Buffer);
    case 'bin': {
      // like a C string: stops at the first NUL byte
      const b = s.v as Buffer;
      const z = b.indexOf(0);
      return (z >= 0 ? b.subarray(0, z) : b).toString('latin1');
    }
    default: return undefined;
  }
}

/**
 * Converts a sample to the wanted type following HAProxy's cast matrix; returns undefined
 * when the cast does not exist or fails (the sample is then "not found").
 */
export function cast(s: Sample, to: SmpType): Sample | undefined {
  const from = s.t;
  if (to === 'any' || from === to) return s;
  switch (to) {
    case 'bool':
      if (from === 'sint') return { t: 'bool', v: s.v !== 0 && s.v !== 0n, mayChange: s.mayChange };
      if (from === 'str') { const n = strToInt(s.v); return n === undefined ? undefined : { t: 'bool', v: n !== 0, mayChange: s.mayChange }; }
      return undefined;
    case 'sint':
      if (from === 'bool') return { t: 'sint', v: s.v ? 1 : 0, mayChange: s.mayChange };
      if (from === 'ipv4') return { t: 'sint', v: s.v as number, mayChange: s.mayChange };
      if (from === 'str') { const n = strToInt(s.v); return n === undefined ? undefined : { t: 'sint', v: n, mayChange: s.mayChange }; }
      return undefined;
    case 'addr':
      if (from === 'ipv4' || from === 'ipv6') return s;
      if (from === 'sint') return { t: 'ipv4', v: Number(BigInt.asUintN(32, intBig(s.v))), mayChange: s.mayChange };
      if (from === 'str') {
        const v4 = parseIpv4(s.v);
        if (v4 !== undefined) return { t: 'ipv4', v: v4, mayChange: s.mayChange };
        const v6 = parseIpv6(s.v);
        return v6 ? { t: 'ipv6', v: v6, mayChange: s.mayChange } : undefined;
      }
      return undefined;
    case 'ipv4':
      if (from === 'sint') return { t: 'ipv4', v: Number(BigInt.asUintN(32, intBig(s.v))), mayChange: s.mayChange };
      // only an IPv4-mapped address (::ffff:a.b.c.d) casts to IPv4
      if (from === 'ipv6') { const v = (s.v as Buffer)[10] === 0xff ? ipv6ToV4(s.v) : undefined; return v === undefined ? undefined : { t: 'ipv4', v, mayChange: s.mayChange }; }
      if (from === 'str') { const v = parseIpv4(s.v); return v === undefined ? undefined : { t: 'ipv4', v, mayChange: s.mayChange }; }
      return undefined;
    case 'ipv6':
      if (from === 'sint') return { t: 'ipv6', v: ipv4ToV6(Number(BigInt.asUintN(32, intBig(s.v)))), mayChange: s.mayChange };
      if (from === 'ipv4') return { t: 'ipv6', v: ipv4ToV6(s.v), mayChange: s.mayChange };
      if (from === 'str') { const v = parseIpv6(s.v); return v ? { t: 'ipv6', v, mayChange: s.mayChange } : undefined; }
      return undefined;
    case 'str': {
      if (from === 'any' || from === 'addr') return undefined;
      const v = toStr(s);
      return v === undefined ? undefined : { t: 'str', v, mayChange: s.mayChange };
    }
    case 'bin':
      if (from === 'str' || from === 'meth') return { t: 'bin', v: strToBuf(s.v), mayChange: s.mayChange };
      if (from === 'bool') { const b = Buffer.alloc(8); b[7] = s.v ? 1 : 0; return { t: 'bin', v: b, mayChange: s.mayChange }; }
      if (from === 'sint') {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(intBig(s.v));
        return { t: 'bin', v: b, mayChange: s.mayChange };
      }
      if (from === 'ipv4') { const b = Buffer.alloc(4); b.writeUInt32BE(s.v >>> 0); return { t: 'bin', v: b, mayChange: s.mayChange }; }
      if (from === 'ipv6') return { t: 'bin', v: Buffer.from(s.v as Buffer), mayChange: s.mayChange };
      return undefined;
    case 'meth':
      if (from === 'str') return { t: 'meth', v: s.v, mayChange: s.mayChange };
      if (from === 'bin') return { t: 'meth', v: (s.v as Buffer).toString('latin1'), mayChange: s.mayChange };
      return undefined;
  }
}

/** True when a value of type `from` can be cast to `to` (checked when expressions are compiled). */
export function canCast(from: SmpType, to: SmpType): boolean {
  if (to === 'any' || from === to || from === 'any') return true;
  switch (to) {
    case 'bool': return from === 'sint' || from === 'str';
    case 'sint': return from === 'bool' || from === 'ipv4' || from === 'str';
    case 'addr': return from === 'ipv4' || from === 'ipv6' || from === 'sint' || from === 'str';
    case 'ipv4': return from === 'sint' || from === 'ipv6' || from === 'str' || from === 'addr';
    case 'ipv6': return from === 'sint' || from === 'ipv4' || from === 'str' || from === 'addr';
    case 'str': return true;
    case 'bin': return from === 'str' || from === 'meth' || from === 'bool' || from === 'sint' || from === 'ipv4' || from === 'ipv6' || from === 'addr';
    case 'meth': return from === 'str' || from === 'bin';
  }
  return false;
}

/** The sample as text, or undefined (used by formatted strings and headers). */
export function sampleToString(s: Sample): string | undefined {
  const c = cast(s, 'str');
  return c ? (c.v as string) : undefined;
}
