// General-purpose converters (configuration.txt 7.3.1): arithmetic and bitwise operators,
// string manipulation, encodings, hashes, dates and cryptographic digests/ciphers.
import { createHash, createHmac, createCipheriv, createDecipheriv, getHashes, timingSafeEqual } from 'node:crypto';
import { registerConverters, converterRegistry, type ConvImpl } from '../registry.js';
import type { SmpCtx } from '../context.js';
import {
  INT64_MAX, INT64_MIN, cast, intBig, ipv6ToV4, smpBin, smpBool, smpInt, smpIpv4, smpIpv6, smpStr,
  type Sample,
} from '../types.js';
import { getVar, intOrVar, parseVarName, setVar, type VarRef } from '../vars.js';
import { crc32, djb2, sdbm, wt6, avalanche, xxh64 } from '../../util/hash.js';
import { crc32c, xxh32, xxh3 } from './xxhash.js';
import { gmTime, localTime, strftime, httpDate, parseHttpDate } from './time.js';
import { registerWhen } from './when.js';

type IntFn = (ctx: SmpCtx) => number | bigint | undefined;

/* ---------------------------------------------------------------------------------------- */
/* signed 64-bit arithmetic, saturating as documented                                       */
/* ---------------------------------------------------------------------------------------- */

const SAFE = Number.MAX_SAFE_INTEGER;
function sat(b: bigint): number | bigint { return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b; }
function isSmall(v: number | bigint): v is number { return typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff; }

function add(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') { const r = a + b; if (r >= -SAFE && r <= SAFE) return r; }
  return sat(intBig(a) + intBig(b));
}
function sub(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') { const r = a - b; if (r >= -SAFE && r <= SAFE) return r; }
  return sat(intBig(a) - intBig(b));
}
function mul(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') { const r = a * b; if (r >= -SAFE && r <= SAFE) return r === 0 ? 0 : r; }
  return sat(intBig(a) * intBig(b));
}
function div(a: number | bigint, b: number | bigint): number | bigint {
  if (b === 0 || b === 0n) return INT64_MAX;
  if (typeof a === 'number' && typeof b === 'number') { const r = a % b; const q = (a - r) / b; return q === 0 ? 0 : q; }
  return sat(intBig(a) / intBig(b));
}
function mod(a: number | bigint, b: number | bigint): number | bigint {
  if (b === 0 || b === 0n) return 0;
  if (typeof a === 'number' && typeof b === 'number') { const r = a % b; return r === 0 ? 0 : r; }
  return intBig(a) % intBig(b);
}
function bitop(op: 'and' | 'or' | 'xor', a: number | bigint, b: number | bigint): number | bigint {
  if (isSmall(a) && isSmall(b)) return op === 'and' ? a & b : op === 'or' ? a | b : a ^ b;
  const x = intBig(a), y = intBig(b);
  return BigInt.asIntN(64, op === 'and' ? x & y : op === 'or' ? x | y : x ^ y);
}

function arith(op: (a: number | bigint, b: number | bigint) => number | bigint): ConvImpl {
  return {
    check: (args) => {
      const f = intOrVar(String(args[0]));
      if (typeof f === 'string') return f;
      args[0] = f;
      return undefined;
    },
    fn: (s, args, ctx) => {
      const b = (args[0] as IntFn)(ctx);
      if (b === undefined) return undefined;
      return smpInt(op(s.v, b));
    },
  };
}

/* ---------------------------------------------------------------------------------------- */
/* helpers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

function varCheck(args: any[], i: number): string | undefined {
  if (args.length <= i || args[i] === '') { if (args.length > i) args[i] = undefined; return undefined; }
  const r = parseVarName(String(args[i]));
  if (typeof r === 'string') return r;
  args[i] = r;
  return undefined;
}
function varStr(ctx: SmpCtx, ref: VarRef | undefined): string | undefined {
  if (!ref) return undefined;
  const v = getVar(ctx, ref);
  if (!v) return undefined;
  const c = cast(v, 'str');
  return c ? (c.v as string) : undefined;
}
function varBin(ctx: SmpCtx, ref: VarRef): Buffer | undefined {
  const v = getVar(ctx, ref);
  if (!v) return undefined;
  const c = cast(v, 'bin');
  return c ? (c.v as Buffer) : undefined;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL = /^[A-Za-z0-9_-]*$/;
/** Strict base64 decoding (length multiple of 4, padding only at the end). */
export function b64decode(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !B64.test(s)) return undefined;
  return Buffer.from(s, 'base64');
}
function b64urlDecode(s: string): Buffer | undefined {
  if (s.length % 4 === 1 || !B64URL.test(s)) return undefined;
  return Buffer.from(s, 'base64url');
}

function hashConv(h: (b: Uint8Array) => number): ConvImpl {
  return {
    fn: (s, args) => {
      let v = h(s.v as Buffer);
      if (args.length && args[0] !== 0 && args[0] !== 0n) v = avalanche(v);
      return smpInt(v);
    },
  };
}

const HEX = '0123456789ABCDEF';
function hexOf(b: Buffer, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return out;
}

/** field/word: extracts fields or words by index (negative from the end) and count. */
function fieldConv(words: boolean): ConvImpl {
  return {
    check: (args) => {
      if (args[0] === 0 || args[0] === 0n) return 'index must not be zero';
      if (!args[1]) return 'empty delimiter list';
      if (args.length > 2 && Number(args[2]) < 0) return 'count must not be negative';
      return undefined;
    },
    fn: (s, args) => {
      const str = s.v as string;
      const idx = Number(args[0]);
      const delims = args[1] as string;
      const count = args.length > 2 ? Number(args[2]) : 1;
      // split into tokens with positions
      const toks: [number, number][] = [];
      let st = 0;
      for (let i = 0; i <= str.length; i++) {
        if (i === str.length || delims.includes(str[i]!)) { toks.push([st, i]); st = i + 1; }
      }
      const list = words ? toks.filter(([a, b]) => b > a) : toks;
      if (words && list.length === 0) return smpStr('');
      const n = list.length;
      let first: number, last: number;
      if (idx > 0) {
        if (idx > n) return words ? smpStr('') : undefined;
        first = idx - 1;
        last = count === 0 ? n - 1 : Math.min(n - 1, first + count - 1);
      } else {
        if (-idx > n) return words ? smpStr('') : undefined;
        last = n + idx;
        first = count === 0 ? 0 : Math.max(0, last - count + 1);
      }
      return smpStr(str.slice(list[first]![0], list[last]![1]));
    },
  };
}

/* ---- JSON escaping ---- */
type JsonMode = 'ascii' | 'utf8' | 'utf8s' | 'utf8p' | 'utf8ps';
const JSON_MODES: readonly JsonMode[] = ['ascii', 'utf8', 'utf8s', 'utf8p', 'utf8ps'];

function jsonEsc(c: number): string {
  switch (c) {
    case 0x22: return '\\"';
    case 0x5c: return '\\\\';
    case 0x2f: return '\\/';
    case 0x08: return '\\b';
    case 0x0c: return '\\f';
    case 0x0d: return '\\r';
    case 0x0a: return '\\n';
    case 0x09: return '\\t';
  }
  if (c < 0x20 || c > 0x7e) return '\\u' + c.toString(16).padStart(4, '0');
  return String.fromCharCode(c);
}

/** Decodes one UTF-8 sequence at i: [code point, length, error kind] */
function utf8At(s: string, i: number): [number, number, 'ok' | 'bad' | 'overlong' | 'range'] {
  const c = s.charCodeAt(i);
  if (c < 0x80) return [c, 1, 'ok'];
  let need: number, cp: number, min: number;
  if (c >= 0xc0 && c < 0xe0) { need = 1; cp = c & 0x1f; min = 0x80; }
  else if (c >= 0xe0 && c < 0xf0) { need = 2; cp = c & 0x0f; min = 0x800; }
  else if (c >= 0xf0 && c < 0xf8) { need = 3; cp = c & 0x07; min = 0x10000; }
  else return [c, 1, 'bad'];
  let k = 1;
  for (; k <= need; k++) {
    if (i + k >= s.length) return [0, k, 'bad'];
    const d = s.charCodeAt(i + k);
    if ((d & 0xc0) !== 0x80) return [0, k, 'bad'];
    cp = (cp << 6) | (d & 0x3f);
  }
  if (cp < min) return [cp, k, 'overlong'];
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return [cp, k, 'range'];
  return [cp, k, 'ok'];
}

function jsonConv(s: Sample, args: any[]): Sample | undefined {
  const str = s.v as string;
  const mode = args[0] as JsonMode;
  let out = '';
  if (mode === 'ascii') {
    for (let i = 0; i < str.length; i++) out += jsonEsc(str.charCodeAt(i));
    return smpStr(out);
  }
  const silent = mode === 'utf8s' || mode === 'utf8ps';
  const permissive = mode === 'utf8p' || mode === 'utf8ps';
  for (let i = 0; i < str.length;) {
    const [cp, len, err] = utf8At(str, i);
    i += len;
    let bad = err === 'bad' || err === 'range' || (err === 'overlong' && !permissive);
    if (!bad && cp > 0xffff) bad = true; // cannot be written with 4 hex digits
    if (bad) { if (silent) continue; return undefined; }
    out += jsonEsc(cp);
  }
  return smpStr(out);
}

/* ---- URL encoding ---- */
function isUnreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/* ---- language ---- */
function languageConv(s: Sample, args: any[]): Sample | undefined {
  const wanted = args[0] as Set<string>;
  const hdr = s.v as string;
  let best: string | undefined;
  let bestQ = 0;
  for (const part of hdr.split(',')) {
    const items = part.split(';');
    const lang = items[0]!.trim();
    if (!lang) continue;
    let q = 1000;
    for (let k = 1; k < items.length; k++) {
      const m = /^\s*q\s*=\s*([01](?:\.[0-9]{0,3})?)\s*$/.exec(items[k]!);
      if (m) q = Math.min(1000, Math.round(parseFloat(m[1]!) * 1000));
    }
    if (q <= bestQ) continue;
    let match: string | undefined;
    if (wanted.has(lang)) match = lang;
    else {
      const dash = lang.indexOf('-');
      if (dash > 0 && wanted.has(lang.slice(0, dash))) match = lang.slice(0, dash);
    }
    if (match !== undefined) { best = match; bestQ = q; }
  }
  if (best !== undefined) return smpStr(best);
  return args.length > 1 ? smpStr(args[1] as string) : undefined;
}

/* ---- host header ---- */
function splitHost(h: string): { host: string; port: string | undefined } | undefined {
  if (h.startsWith('[')) {
    const e = h.indexOf(']');
    if (e < 0) return undefined;
    const rest = h.slice(e + 1);
    if (rest === '') return { host: h.slice(0, e + 1), port: undefined };
    if (rest[0] !== ':') return undefined;
    return { host: h.slice(0, e + 1), port: rest.slice(1) };
  }
  const c = h.lastIndexOf(':');
  if (c < 0) return { host: h, port: undefined };
  return { host: h.slice(0, c), port: h.slice(c + 1) };
}

/* ---- time conversions ---- */
function timeConv(local: boolean, unit: 1 | 1000 | 1000000): ConvImpl {
  return {
    fn: (s, args) => {
      let v = s.v as number | bigint;
      if (args.length > 1) v = add(v, args[1]);
      if (typeof v === 'bigint') return undefined;
      let sec = v, ns: number | undefined;
      if (unit !== 1) {
        sec = Math.floor(v / unit);
        ns = (v - sec * unit) * (1e9 / unit);
      }
      const tm = local ? localTime(sec) : gmTime(sec);
      if (!tm) return undefined;
      return smpStr(strftime(args[0] as string, tm, ns));
    },
  };
}

/* ---- crypto arguments: base64 text or a variable holding base64 ---- */
type B64Arg = { buf: Buffer } | { ref: VarRef };
function b64ArgCheck(args: any[], i: number): string | undefined {
  const text = String(args[i] ?? '');
  if (text === '') { args[i] = { buf: Buffer.alloc(0) }; return undefined; }
  const r = parseVarName(text);
  if (typeof r !== 'string') { args[i] = { ref: r }; return undefined; }
  const buf = b64decode(text);
  if (!buf) return 'argument needs to be base64 encoded, and can either be a string or a variable';
  args[i] = { buf };
  return undefined;
}
function b64ArgValue(ctx: SmpCtx, a: B64Arg): Buffer | undefined {
  if ('buf' in a) return a.buf;
  const t = varStr(ctx, a.ref);
  return t === undefined ? undefined : b64decode(t);
}

const DIGESTS = new Set(getHashes().map((h) => h.toLowerCase()));
function digestName(text: string): string | undefined {
  const n = text.toLowerCase();
  return DIGESTS.has(n) ? n : undefined;
}

function aesCheck(enc: boolean) {
  return (args: any[]): string | undefined => {
    const bits = Number(args[0]);
    if (bits !== 128 && bits !== 192 && bits !== 256) return `key size must be 128, 192 or 256 (bits).`;
    args[0] = `aes-${bits}-gcm`;
    for (const i of [1, 2]) { const e = b64ArgCheck(args, i); if (e) return e; }
    if (enc) {
      const r = parseVarName(String(args[3]));
      if (typeof r === 'string') return `failed to parse aead_tag: ${r}`;
      args[3] = r;
      return undefined;
    }
    return b64ArgCheck(args, 3);
  };
}

/* ---------------------------------------------------------------------------------------- */
/* registrations                                                                            */
/* ---------------------------------------------------------------------------------------- */

registerConverters({
  /* ---- arithmetic and bitwise ---- */
  add: arith(add),
  sub: arith(sub),
  mul: arith(mul),
  div: arith(div),
  mod: arith(mod),
  and: arith((a, b) => bitop('and', a, b)),
  or: arith((a, b) => bitop('or', a, b)),
  xor: arith((a, b) => bitop('xor', a, b)),
  neg: (s) => smpInt(s.v === INT64_MIN ? INT64_MAX : typeof s.v === 'bigint' ? -s.v : -s.v || 0),
  cpl: (s) => smpInt(typeof s.v === 'bigint' ? BigInt.asIntN(64, ~s.v) : -s.v - 1),
  bool: (s) => smpBool(s.v !== 0 && s.v !== 0n),
  not: (s) => smpBool(s.v === 0 || s.v === 0n),
  odd: (s) => smpBool(typeof s.v === 'bigint' ? (s.v & 1n) === 1n : (s.v & 1) === 1 || s.v % 2 !== 0),
  even: (s) => smpBool(typeof s.v === 'bigint' ? (s.v & 1n) === 0n : s.v % 2 === 0),
  htonl: (s) => { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(Number(BigInt.asUintN(32, intBig(s.v)))); return smpBin(b); },

  /* ---- strings ---- */
  lower: (s) => smpStr((s.v as string).toLowerCase()),
  upper: (s) => smpStr((s.v as string).toUpperCase()),
  length: (s) => smpInt((s.v as string).length),
  cut_crlf: (s) => {
    const v = s.v as string;
    let i = 0;
    while (i < v.length && v[i] !== '\r' && v[i] !== '\n') i++;
    return i === v.length ? s : smpStr(v.slice(0, i));
  },
  ltrim: (s, args) => {
    const v = s.v as string, set = args[0] as string;
    let i = 0;
    while (i < v.length && set.includes(v[i]!)) i++;
    return smpStr(v.slice(i));
  },
  rtrim: (s, args) => {
    const v = s.v as string, set = args[0] as string;
    let e = v.length;
    while (e > 0 && set.includes(v[e - 1]!)) e--;
    return smpStr(v.slice(0, e));
  },
  field: fieldConv(false),
  word: fieldConv(true),
  iif: (s, args) => smpStr(s.v ? args[0] : args[1]),
  concat: {
    check: (args) => varCheck(args, 1),
    fn: (s, args, ctx) => smpStr((s.v as string) + (args[0] ?? '') + (varStr(ctx, args[1]) ?? '') + (args[2] ?? '')),
  },
  add_item: {
    check: (args) => {
      if ((args.length < 2 || args[1] === '') && (args.length < 3)) return 'expected at least a variable name or a suffix';
      return varCheck(args, 1);
    },
    fn: (s, args, ctx) => {
      const cur = s.v as string;
      const v = varStr(ctx, args[1]) ?? '';
      const suff = (args[2] as string | undefined) ?? '';
      const delim = cur.length && (v.length || suff.length) ? (args[0] as string) : '';
      return smpStr(cur + delim + v + suff);
    },
  },
  strcmp: {
    check: (args) => varCheck(args, 0),
    fn: (s, args, ctx) => {
      const o = varStr(ctx, args[0]);
      if (o === undefined) return undefined;
      const a = s.v as string;
      return smpInt(a === o ? 0 : a < o ? -1 : 1);
    },
  },
  secure_memcmp: {
    check: (args) => varCheck(args, 0),
    fn: (s, args, ctx) => {
      const o = varBin(ctx, args[0]);
      if (o === undefined) return undefined;
      const a = s.v as Buffer;
      return smpBool(a.length === o.length && timingSafeEqual(a, o));
    },
  },
  param: (s, args) => {
    const name = args[0] as string;
    const delim = args.length > 1 && args[1] !== '' ? (args[1] as string) : '&';
    const v = s.v as string;
    for (const seg of v.split(delim)) {
      const eq = seg.indexOf('=');
      const key = eq < 0 ? seg : seg.slice(0, eq);
      if (key === name) return smpStr(eq < 0 ? '' : seg.slice(eq + 1));
    }
    return undefined;
  },
  regsub: {
    check: (args) => {
      const flags = (args[2] as string | undefined) ?? '';
      let f = '';
      for (const c of flags) {
        if (c === 'i') { if (!f.includes('i')) f += 'i'; } else if (c === 'g') { if (!f.includes('g')) f += 'g'; } else return `invalid regex flag '${c}', only 'i' and 'g' are supported`;
      }
      args[0] = new RegExp(args[0].source, f);
      // precompile the substitution: literal parts and group numbers
      const parts: (string | number)[] = [];
      const t = args[1] as string;
      let lit = '';
      for (let i = 0; i < t.length; i++) {
        const c = t[i]!;
        if (c === '\\' && i + 1 < t.length) {
          const n = t[i + 1]!;
          if (n >= '0' && n <= '9') { if (lit) parts.push(lit); lit = ''; parts.push(Number(n)); i++; continue; }
          if (n === '\\') { lit += '\\'; i++; continue; }
          if (n === 'x' && i + 3 < t.length && hexVal(t.charCodeAt(i + 2)) >= 0 && hexVal(t.charCodeAt(i + 3)) >= 0) {
            lit += String.fromCharCode(hexVal(t.charCodeAt(i + 2)) * 16 + hexVal(t.charCodeAt(i + 3))); i += 3; continue;
          }
        }
        lit += c;
      }
      if (lit) parts.push(lit);
      args[1] = parts;
      return undefined;
    },
    fn: (s, args) => {
      const re = args[0] as RegExp;
      const parts = args[1] as (string | number)[];
      re.lastIndex = 0;
      return smpStr((s.v as string).replace(re, (...m: any[]) => {
        let out = '';
        for (const p of parts) out += typeof p === 'string' ? p : (typeof m[p] === 'string' && p < m.length - 2 ? m[p] : '');
        return out;
      }));
    },
  },
  json: {
    check: (args) => { if (args.length === 0) args.push('ascii'); return JSON_MODES.includes(args[0]) ? undefined : "Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'"; },
    fn: jsonConv,
  },
  url_dec: (s, args) => {
    const v = s.v as string;
    if (v.indexOf('%') < 0 && v.indexOf('+') < 0) return s;
    let form = args.length > 0 && args[0] !== 0 && args[0] !== 0n;
    let out = '';
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 0x25) {
        if (i + 2 >= v.length) return undefined;
        const h = hexVal(v.charCodeAt(i + 1)), l = hexVal(v.charCodeAt(i + 2));
        if (h < 0 || l < 0) return undefined;
        out += String.fromCharCode(h * 16 + l);
        i += 2;
      } else if (c === 0x2b && form) out += ' ';
      else { if (c === 0x3f) form = true; out += v[i]; }
    }
    return smpStr(out);
  },
  url_enc: {
    check: (args) => (args.length && args[0] !== 'query' ? `Unexpected encode type. Allowed value is 'query'` : undefined),
    fn: (s) => {
      const v = s.v as string;
      let out = '';
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        out += isUnreserved(c) ? v[i] : '%' + HEX[c >> 4] + HEX[c & 15];
      }
      return smpStr(out);
    },
  },
  language: {
    check: (args) => { args[0] = new Set(String(args[0]).split(';').filter((x) => x)); return undefined; },
    fn: languageConv,
  },
  host_only: (s) => {
    const h = splitHost(s.v as string);
    return h ? smpStr(h.host.toLowerCase()) : undefined;
  },
  port_only: (s) => {
    const h = splitHost(s.v as string);
    if (!h) return undefined;
    if (h.port === undefined) return smpInt(0);
    if (!/^[0-9]{1,5}$/.test(h.port) || Number(h.port) > 65535) return undefined;
    return smpInt(Number(h.port));
  },

  /* ---- encodings ---- */
  hex: (s) => smpStr(hexOf(s.v as Buffer, 0, (s.v as Buffer).length)),
  hex2i: (s) => {
    const v = s.v as string;
    let n = 0n;
    for (let i = 0; i < v.length; i++) {
      const d = hexVal(v.charCodeAt(i));
      if (d < 0) return smpInt(0);
      n = ((n << 4n) | BigInt(d)) & 0xffffffffffffffffn;
    }
    return smpInt(BigInt.asIntN(64, n));
  },
  base64: (s) => smpStr((s.v as Buffer).toString('base64')),
  ub64enc: (s) => smpStr((s.v as Buffer).toString('base64url')),
  b64dec: (s) => { const b = b64decode(s.v as string); return b ? smpBin(b) : undefined; },
  ub64dec: (s) => { const b = b64urlDecode(s.v as string); return b ? smpBin(b) : undefined; },
  be2hex: {
    check: (args) => (args.length > 1 && Number(args[1]) < 0 ? 'chunk size must not be negative' : undefined),
    fn: (s, args) => {
      const b = s.v as Buffer;
      const sep = (args[0] as string | undefined) ?? '';
      const chunk = args.length > 1 && Number(args[1]) > 0 ? Number(args[1]) : 1;
      const trunc = args.length > 2 && Number(args[2]) !== 0;
      const end = trunc ? b.length - (b.length % chunk) : b.length;
      let out = '';
      for (let i = 0; i < end; i += chunk) {
        if (i && sep) out += sep;
        out += hexOf(b, i, Math.min(end, i + chunk));
      }
      return smpStr(out);
    },
  },
  be2dec: {
    check: (args) => {
      const n = Number(args[1]);
      if (!(n >= 1 && n <= 8)) return 'chunk_size out of [1..8] range';
      return undefined;
    },
    fn: (s, args) => {
      const b = s.v as Buffer;
      const sep = args[0] as string;
      const chunk = Number(args[1]);
      const trunc = args.length > 2 && Number(args[2]) !== 0;
      const end = trunc ? b.length - (b.length % chunk) : b.length;
      let out = '';
      for (let i = 0; i < end; i += chunk) {
        if (i) out += sep;
        let v = 0n;
        for (let k = i; k < Math.min(end, i + chunk); k++) v = (v << 8n) | BigInt(b[k]!);
        out += v.toString();
      }
      return smpStr(out);
    },
  },
  bytes: {
    check: (args) => {
      for (let i = 0; i < args.length; i++) {
        const f = intOrVar(String(args[i]));
        if (typeof f === 'string') return f;
        args[i] = f;
      }
      return undefined;
    },
    fn: (s, args, ctx) => {
      const b = s.v as Buffer;
      const empty = () => smpBin(b.subarray(0, 0));
      const off = (args[0] as IntFn)(ctx);
      if (off === undefined || off < 0 || off >= b.length) return empty();
      let end = b.length;
      if (args.length > 1) {
        const len = (args[1] as IntFn)(ctx);
        if (len === undefined || len < 0) return empty();
        end = Math.min(b.length, Number(off) + Number(len));
      }
      return smpBin(b.subarray(Number(off), end));
    },
  },

  /* ---- hashes ---- */
  crc32: hashConv(crc32),
  crc32c: hashConv(crc32c),
  djb2: hashConv(djb2),
  sdbm: hashConv(sdbm),
  wt6: hashConv(wt6),
  xxh32: (s, args) => smpInt(xxh32(s.v as Buffer, args.length ? Number(BigInt.asUintN(32, intBig(args[0]))) : 0)),
  xxh64: (s, args) => smpInt(BigInt.asIntN(64, xxh64(s.v as Buffer, args.length ? BigInt.asUintN(64, intBig(args[0])) : 0n))),
  xxh3: (s, args) => smpInt(BigInt.asIntN(64, xxh3(s.v as Buffer, args.length ? BigInt.asUintN(64, intBig(args[0])) : 0n))),

  /* ---- dates ---- */
  date: (s) => { const t = parseHttpDate(s.v as string); return t === undefined ? undefined : smpInt(t); },
  http_date: {
    check: (args) => {
      const u = args.length > 1 ? String(args[1]) : 's';
      if (u !== 's' && u !== 'ms' && u !== 'us') return `Invalid unit '${u}', expected 's', 'ms' or 'us'`;
      args[1] = u === 's' ? 1 : u === 'ms' ? 1000 : 1000000;
      if (args.length < 1 || args[0] === undefined) args[0] = 0;
      return undefined;
    },
    fn: (s, args) => {
      const v = add(s.v, args[0]);
      if (typeof v === 'bigint') return undefined;
      const unit = args[1] as number;
      const sec = Math.floor(v / unit);
      const frac = unit === 1 ? undefined : '.' + String(v - sec * unit).padStart(unit === 1000 ? 3 : 6, '0');
      const d = httpDate(sec, frac);
      return d === undefined ? undefined : smpStr(d);
    },
  },
  utime: timeConv(false, 1),
  ltime: timeConv(true, 1),
  ms_utime: timeConv(false, 1000),
  ms_ltime: timeConv(true, 1000),
  us_utime: timeConv(false, 1000000),
  us_ltime: timeConv(true, 1000000),

  /* ---- addresses ---- */
  ipmask: {
    fn: (s, args) => {
      if (s.t === 'ipv6') {
        const v4 = (s.v as Buffer)[10] === 0xff ? ipv6ToV4(s.v as Buffer) : undefined;
        if (v4 === undefined) {
          if (args.length < 2) return undefined;
          const len = args[1] as number;
          const src = s.v as Buffer;
          const out = Buffer.alloc(16);
          for (let i = 0; i < 16; i++) {
            const bits = Math.max(0, Math.min(8, len - i * 8));
            out[i] = src[i]! & ((0xff00 >> bits) & 0xff);
          }
          return smpIpv6(out);
        }
        s = smpIpv4(v4);
      }
      const len = args[0] as number;
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      return smpIpv4(((s.v as number) & mask) >>> 0);
    },
  },

  /* ---- cryptography ---- */
  sha1: (s) => smpBin(createHash('sha1').update(s.v as Buffer).digest()),
  sha2: {
    check: (args) => {
      const bits = args.length ? Number(args[0]) : 256;
      if (![224, 256, 384, 512].includes(bits)) return `Unsupported number of bits: '${bits}'.`;
      args[0] = `sha${bits}`;
      return undefined;
    },
    fn: (s, args) => smpBin(createHash(args[0]).update(s.v as Buffer).digest()),
  },
  digest: {
    check: (args) => { const n = digestName(String(args[0])); if (!n) return `Unknown digest '${args[0]}'`; args[0] = n; return undefined; },
    fn: (s, args) => smpBin(createHash(args[0]).update(s.v as Buffer).digest()),
  },
  hmac: {
    check: (args) => {
      const n = digestName(String(args[0]));
      if (!n) return `Unknown digest '${args[0]}'`;
      args[0] = n;
      return b64ArgCheck(args, 1);
    },
    fn: (s, args, ctx) => {
      const key = b64ArgValue(ctx, args[1]);
      if (!key) return undefined;
      return smpBin(createHmac(args[0], key).update(s.v as Buffer).digest());
    },
  },
  aes_gcm_dec: {
    check: aesCheck(false),
    fn: (s, args, ctx) => {
      const nonce = b64ArgValue(ctx, args[1]), key = b64ArgValue(ctx, args[2]), tag = b64ArgValue(ctx, args[3]);
      if (!nonce || !key || !tag || nonce.length === 0 || tag.length === 0) return undefined;
      try {
        const d = createDecipheriv(args[0], key, nonce);
        d.setAuthTag(tag);
        const out = Buffer.concat([d.update(s.v as Buffer), d.final()]);
        return smpBin(out);
      } catch {
        return undefined;
      }
    },
  },
  aes_gcm_enc: {
    check: aesCheck(true),
    fn: (s, args, ctx) => {
      const nonce = b64ArgValue(ctx, args[1]), key = b64ArgValue(ctx, args[2]);
      if (!nonce || !key || nonce.length === 0) return undefined;
      try {
        const c = createCipheriv(args[0], key, nonce);
        const out = Buffer.concat([c.update(s.v as Buffer), c.final()]);
        setVar(ctx, args[3], smpStr(c.getAuthTag().toString('base64')));
        return smpBin(out);
      } catch {
        return undefined;
      }
    },
  },
});

registerWhen();


// The 3.2 documentation gives these converters an optional first argument (json([<input-code>]),
// url_enc([<enc_type>]), be2hex([<separator>],...)); HAProxy's registration list shows it as
// mandatory. The documentation decides; -dKcnv still prints the registered signature.
for (const name of ['json', 'url_enc', 'be2hex']) {
  const d = converterRegistry.get(name);
  if (d && d.args[0]) d.args[0].optional = true;
}
