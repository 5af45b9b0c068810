// json_query, jwt_header_query, jwt_payload_query, jwt_verify (configuration.txt 7.3.1).
//
// The JSON lookup behaves like the small streaming JSON scanner HAProxy embeds: the document is
// scanned once, left to right, and the scan stops as soon as the path is matched (what follows
// the matched value is not validated). Paths are `$`, `.key` (a backslash makes the next char
// literal, e.g. `$.my\.key`) and `[index]`, chained.
import { createHmac, createPublicKey, timingSafeEqual, verify as cryptoVerify, X509Certificate, constants as cc, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath, dirname } from 'node:path';
import { registerConverters } from '../registry.js';
import { smpBool, smpInt, smpStr, cast, type Sample } from '../types.js';
import { parseVarName, getVar, type VarRef } from '../vars.js';
import type { SmpCtx } from '../context.js';

/* ---------------------------------------------------------------------------------------- */
/* JSON scanner                                                                             */
/* ---------------------------------------------------------------------------------------- */

export const enum JTok { INVALID = 0, KEY = 1, STRING = 11, NUMBER = 12, TRUE = 13, FALSE = 14, NULL = 15, ARRAY = 91, OBJECT = 123 }
const C_LBRACE = 123, C_RBRACE = 125, C_LBRACK = 91, C_RBRACK = 93, C_COMMA = 44, C_COLON = 58, C_QUOTE = 34, C_BSL = 92;
const MAX_DEPTH = 20;

export interface JsonHit { tok: JTok; start: number; len: number }

/** Length of a quoted string body starting after the opening quote at `p`, or -1. */
function passString(s: string, p: number, end: number): number {
  for (let i = p; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === C_BSL && i + 1 < end) {
      const n = s.charCodeAt(i + 1);
      // only escapes of a quote, a backslash or a raw control char are skipped as pairs
      if (n === C_QUOTE || n === C_BSL || n === 8 || n === 12 || n === 10 || n === 13 || n === 9) { i++; continue; }
    }
    if (c === 0) return -1;
    if (c === C_QUOTE) return i - p;
  }
  return -1;
}

const NUM_RE = /-?[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?/y;

/** Path segment length helpers: `raw` counts source chars, `chars` counts key chars. */
function segLen(path: string, p: number): { chars: number; raw: number } {
  let i = p, n = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.' || c === '[') break;
    n++;
    i += c === '\\' ? 2 : 1;
  }
  return { chars: n, raw: Math.min(i, path.length) - p };
}

function keyEq(s: string, kstart: number, klen: number, path: string, p: number): boolean {
  let i = p;
  for (let j = 0; j < klen; j++, i++) {
    if (path[i] === '\\') i++;
    if (i >= path.length || s.charCodeAt(kstart + j) !== path.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Finds the value designated by `path` in the JSON text `s`. Returns its token type and
 * position (strings include their quotes, arrays/objects their brackets), or undefined.
 */
export function jsonFind(s: string, path: string): JsonHit | undefined {
  if (path.charCodeAt(0) !== 0x24 /* $ */) return undefined;
  // path-matching state
  let pos = 1, d1 = 0, d2 = 0, i1 = 0, i2 = 0, obj = -1;
  let hit: JsonHit | undefined;
  const atEnd = () => pos >= path.length;
  // returns true to stop scanning
  const event = (tok: number, off: number, len: number): boolean => {
    if (tok === C_LBRACE) {
      if (atEnd() && d1 === d2) obj = off;
      d1++;
    } else if (tok === C_LBRACK) {
      if (d1 === d2 && path[pos] === '[') {
        i1 = 0;
        i2 = Math.trunc(parseFloat(path.slice(pos + 1))) || 0;
        if (i1 === i2) { d2++; pos += 3; }
      }
      if (atEnd() && d1 === d2) obj = off;
      d1++;
    } else if (tok === C_COMMA) {
      if (d1 === d2 + 1) {
        i1++;
        if (i1 === i2) {
          while (pos < path.length && path[pos] !== ']') pos++;
          pos++;
          d2++;
        }
      }
    } else if (tok === JTok.KEY && d1 === d2 + 1 && path[pos] === '.') {
      const sl = segLen(path, pos + 1);
      if (sl.chars === len - 2 && keyEq(s, off + 1, len - 2, path, pos + 1)) {
        d2++;
        pos += sl.raw + 1;
      }
    } else if (tok === JTok.KEY && d1 === d2) {
      return true; // the matched container ended: not found
    } else if (tok === C_RBRACE || tok === C_RBRACK) {
      d1--;
      if (atEnd() && d1 === d2 && obj !== -1) {
        hit = { tok: tok === C_RBRACE ? JTok.OBJECT : JTok.ARRAY, start: obj, len: off - obj + 1 };
        return true;
      }
    } else if (tok > 10 && tok < 20) {
      if (d1 === d2 && atEnd()) { hit = { tok, start: off, len }; return true; }
    }
    return false;
  };

  const n = s.length;
  const nest: number[] = [];
  let expect = 0; // 0 value, 1 key, 2 colon, 3 comma or end
  for (let i = 0; i < n; i++) {
    const start = i;
    const c = s.charCodeAt(i);
    let tok = c;
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    switch (expect) {
      case 0: {
        if (c === C_LBRACE || c === C_LBRACK) {
          if (nest.length >= MAX_DEPTH) return undefined;
          nest.push(c);
          if (c === C_LBRACE) expect = 1;
          break;
        }
        if (c === C_RBRACK && nest.length > 0) {
          if (nest[nest.length - 1] !== C_LBRACK) return undefined;
          nest.pop();
          if (nest.length === 0) { event(tok, start, i - start + 1); return hit; }
        } else if (c === 0x74 && s.startsWith('true', i) && i + 3 < n) { i += 3; tok = JTok.TRUE; }
        else if (c === 0x6e && s.startsWith('null', i) && i + 3 < n) { i += 3; tok = JTok.NULL; }
        else if (c === 0x66 && s.startsWith('false', i) && i + 4 < n) { i += 4; tok = JTok.FALSE; }
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          NUM_RE.lastIndex = i;
          const m = NUM_RE.exec(s);
          const l = m ? m[0].length : 0;
          if (l === 0 || (l === 1 && c === 0x2d)) return undefined;
          i += l - 1;
          tok = JTok.NUMBER;
        } else if (c === C_QUOTE) {
          const l = passString(s, i + 1, n);
          if (l < 0) return undefined;
          i += l + 1;
          tok = JTok.STRING;
        } else return undefined;
        if (nest.length === 0) { event(tok, start, i - start + 1); return hit; }
        expect = 3;
        break;
      }
      case 1:
        if (c === C_QUOTE) {
          const l = passString(s, i + 1, n);
          if (l < 0) return undefined;
          i += l + 1;
          tok = JTok.KEY;
          expect = 2;
        } else if (c === C_RBRACE) {
          nest.pop();
          if (nest.length === 0) { event(tok, start, i - start + 1); return hit; }
          expect = 3;
        } else return undefined;
        break;
      case 2:
        if (c !== C_COLON) return undefined;
        expect = 0;
        break;
      case 3:
        if (c === C_COMMA) expect = nest[nest.length - 1] === C_LBRACE ? 1 : 0;
        else if (c === C_RBRACK || c === C_RBRACE) {
          if (nest[nest.length - 1] !== c - 2) return undefined;
          nest.pop();
          if (nest.length === 0) { event(tok, start, i - start + 1); return hit; }
        } else return undefined;
        break;
    }
    if (event(tok, start, i - start + 1)) return hit;
  }
  return undefined;
}

/** Decodes the body of a JSON string (without quotes); \u escapes only below 0x100. */
function unescapeJson(s: string): string | undefined {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 5 < n && s[i + 1] === 'u') {
      if (s[i + 2] !== '0' || s[i + 3] !== '0') return undefined;
      const h = s.slice(i + 4, i + 6);
      out += String.fromCharCode(/^[0-9a-fA-F]{2}$/.test(h) ? parseInt(h, 16) : hexNimble(h));
      i += 5;
    } else if (c === '\\' && i + 1 < n) {
      const e = s[i + 1]!;
      const m = e === 'b' ? '\b' : e === 'f' ? '\f' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === '\\' ? '\\' : e === '"' ? '"' : undefined;
      if (m === undefined) return undefined;
      out += m;
      i++;
    } else out += c;
  }
  return out;
}

function hexNimble(h: string): number {
  let v = 0;
  for (const ch of h) {
    const c = ch.charCodeAt(0);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : 0;
    v = (v << 4) | d;
  }
  return v & 255;
}

/** printf("%g") of a double. */
export function formatG(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const ex = x.toExponential(5);
  const ePos = ex.indexOf('e');
  const exp = parseInt(ex.slice(ePos + 1), 10);
  const strip = (t: string) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (exp < -4 || exp >= 6) {
    const mant = strip(ex.slice(0, ePos));
    const a = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  }
  return strip(x.toFixed(5 - exp));
}

const JSON_INT_MAX = 9007199254740991n;

/** strtoll(text, NULL, 0) on the start of a JSON number token (sign, octal when led by 0). */
function strtollBase0(t: string): bigint {
  let i = 0, neg = false;
  if (t[i] === '-' || t[i] === '+') { neg = t[i] === '-'; i++; }
  let v = 0n;
  if (t[i] === '0') {
    i++;
    while (i < t.length && t.charCodeAt(i) >= 0x30 && t.charCodeAt(i) <= 0x37) { v = v * 8n + BigInt(t.charCodeAt(i) - 0x30); i++; }
  } else {
    while (i < t.length && t.charCodeAt(i) >= 0x30 && t.charCodeAt(i) <= 0x39) { v = v * 10n + BigInt(t.charCodeAt(i) - 0x30); i++; }
  }
  return neg ? -v : v;
}

/** The json_query lookup on a document; `asInt` is the "int" output type. */
export function jsonQuery(doc: string, path: string, asInt: boolean): Sample | undefined {
  const hit = jsonFind(doc, path);
  if (!hit) return undefined;
  switch (hit.tok) {
    case JTok.NUMBER: {
      const t = doc.substr(hit.start, hit.len);
      if (asInt) {
        const v = strtollBase0(t);
        if (v > JSON_INT_MAX || v < -JSON_INT_MAX) return undefined;
        return smpInt(Number(v));
      }
      return smpStr(formatG(Number(t.endsWith('.') ? t.slice(0, -1) : t.replace(/^(-?)\./, '$10.'))));
    }
    case JTok.TRUE: return smpBool(true);
    case JTok.FALSE: return smpBool(false);
    case JTok.STRING: {
      const v = unescapeJson(doc.substr(hit.start + 1, hit.len - 2));
      return v === undefined ? undefined : smpStr(v);
    }
    case JTok.ARRAY: return smpStr(doc.substr(hit.start, hit.len));
    default: return undefined; // null and objects are not returned
  }
}

function checkQueryArgs(args: any[], pathRequired: boolean): string | undefined {
  if (pathRequired && (args[0] === undefined || args[0] === '')) return 'json_path must not be empty';
  if (args[1] !== undefined && args[1] !== '') {
    if (args[1] !== 'int') return 'output_type only supports "int" as argument';
    args[1] = true;
  } else if (args.length > 1) {
    args[1] = false;
  }
  return undefined;
}

/* ---------------------------------------------------------------------------------------- */
/* JWT                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/** base64url alphabet values; '=' decodes like '_' (HAProxy's decoder does the same). */
const B64URL = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;
B64URL[0x3d] = 63;

/** base64url decoding without padding; undefined for a bad length or character. */
export function b64urlDecode(s: string): Buffer | undefined {
  const n = s.length;
  if (n % 4 === 1) return undefined;
  const out = Buffer.allocUnsafe(Math.floor(n / 4) * 3 + (n % 4 === 0 ? 0 : n % 4 - 1));
  let o = 0, acc = 0, k = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const v = c < 256 ? B64URL[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    if (++k === 4) {
      out[o++] = (acc >> 16) & 255; out[o++] = (acc >> 8) & 255; out[o++] = acc & 255;
      acc = 0; k = 0;
    }
  }
  if (k === 2) out[o++] = (acc >> 4) & 255;
  else if (k === 3) { out[o++] = (acc >> 10) & 255; out[o++] = (acc >> 2) & 255; }
  return out;
}

/** The n-th dot-separated part of a token (0 header, 1 payload), as HAProxy splits it. */
function jwtPart(tok: string, member: number): string | undefined {
  const d1 = tok.indexOf('.');
  if (member === 0) return d1 < 0 ? tok : tok.slice(0, d1);
  if (d1 < 0) return undefined;
  const d2 = tok.indexOf('.', d1 + 1);
  return d2 < 0 ? tok.slice(d1 + 1) : tok.slice(d1 + 1, d2);
}

function jwtMemberQuery(member: number) {
  return (s: Sample, args: any[]): Sample | undefined => {
    const tok = (s.v as Buffer).toString('latin1');
    const part = jwtPart(tok, member);
    if (part === undefined) return undefined;
    const dec = b64urlDecode(part);
    if (!dec) return undefined;
    const doc = dec.toString('latin1');
    if (args[0] === undefined) return smpStr(doc);
    return jsonQuery(doc, args[0] as string, args[1] === true);
  };
}

type JwtAlg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512' | 'none';
const JWT_ALGS = new Set<string>(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'none']);

export const JWT_OK = 1, JWT_KO = 0, JWT_UNKNOWN_ALG = -1, JWT_UNMANAGED_ALG = -2, JWT_INVALID_TOKEN = -3, JWT_OUT_OF_MEMORY = -4, JWT_UNKNOWN_CERT = -5;

/** Public keys loaded at configuration time, by the name given in the configuration. */
const jwtKeys = new Map<string, KeyObject>();

/** Loads a PEM public key or certificate file into the key cache; returns an error or undefined. */
export function jwtLoadKey(name: string, baseFile?: string): string | undefined {
  if (jwtKeys.has(name)) return undefined;
  let text: string;
  const candidates = [name];
  if (baseFile && !name.startsWith('/')) candidates.push(resolvePath(dirname(baseFile), name));
  let found: string | undefined;
  for (const p of candidates) {
    try { text = readFileSync(p, 'latin1'); found = text; break; } catch { /* next */ }
  }
  if (found === undefined) return `unable to load certificate or public key '${name}'`;
  try {
    let key: KeyObject;
    if (found.includes('-----BEGIN CERTIFICATE-----')) key = new X509Certificate(found).publicKey;
    else key = createPublicKey(found);
    jwtKeys.set(name, key);
    return undefined;
  } catch (e) {
    return `unable to load certificate or public key '${name}': ${(e as Error).message}`;
  }
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Verifies a compact JWS; returns one of the documented codes. */
export function jwtVerify(token: Buffer, alg: string, key: string): number {
  if (!JWT_ALGS.has(alg)) return JWT_UNKNOWN_ALG;
  const a = alg as JwtAlg;
  // split in at most three items; a fourth one makes the token invalid
  const d1 = token.indexOf(0x2e);
  const d2 = d1 < 0 ? -1 : token.indexOf(0x2e, d1 + 1);
  if (d2 >= 0 && token.indexOf(0x2e, d2 + 1) >= 0) return JWT_INVALID_TOKEN;
  const items = d1 < 0 ? 1 : d2 < 0 ? 2 : 3;
  if (items !== 3 && (a !== 'none' || items !== 2)) return JWT_INVALID_TOKEN;
  let sig: Buffer | undefined;
  if (items === 3) {
    sig = b64urlDecode(token.subarray(d2 + 1).toString('latin1'));
    if (!sig) return JWT_INVALID_TOKEN;
  }
  // no signature to check
  if (a === 'none') return JWT_OK;
  const signed = token.subarray(0, d2);
  const hash = HASH[a.slice(2)]!;
  const family = a.slice(0, 2);
  if (family === 'HS') {
    const mac = createHmac(hash, Buffer.from(key, 'latin1')).update(signed).digest();
    return mac.length === sig!.length && timingSafeEqual(mac, sig!) ? JWT_OK : JWT_KO;
  }
  const pk = jwtKeys.get(key);
  if (!pk) return JWT_UNKNOWN_CERT;
  try {
    if (family === 'ES') {
      if (pk.asymmetricKeyType !== 'ec') return JWT_KO;
      const curve = pk.asymmetricKeyDetails?.namedCurve;
      const olen = curve === 'prime256v1' || curve === 'secp256k1' ? 32 : curve === 'secp384r1' ? 48 : curve === 'secp521r1' ? 66 : 0;
      if (olen && sig!.length !== 2 * olen) return JWT_INVALID_TOKEN;
      return cryptoVerify(hash, signed, { key: pk, dsaEncoding: 'ieee-p1363' }, sig!) ? JWT_OK : JWT_KO;
    }
    if (pk.asymmetricKeyType !== 'rsa' && pk.asymmetricKeyType !== 'rsa-pss') return JWT_KO;
    if (family === 'PS') {
      return cryptoVerify(hash, signed, { key: pk, padding: cc.RSA_PKCS1_PSS_PADDING, saltLength: cc.RSA_PSS_SALTLEN_AUTO }, sig!) ? JWT_OK : JWT_KO;
    }
    return cryptoVerify(hash, signed, { key: pk, padding: cc.RSA_PKCS1_PADDING }, sig!) ? JWT_OK : JWT_KO;
  } catch {
    return JWT_KO;
  }
}

/** An argument that is a literal string or, when it looks like one, a variable name. */
type StrOrVar = { lit: string } | { ref: VarRef };

function strOrVar(text: string): StrOrVar {
  const r = parseVarName(text);
  return typeof r === 'string' ? { lit: text } : { ref: r };
}

function resolveStr(a: StrOrVar, ctx: SmpCtx): string | undefined {
  if ('lit' in a) return a.lit;
  const s = getVar(ctx, a.ref);
  if (!s) return undefined;
  const c = cast(s, 'str');
  return c ? (c.v as string) : undefined;
}

registerConverters({
  json_query: {
    check: (args) => checkQueryArgs(args, true),
    fn: (s, args) => jsonQuery(s.v as string, args[0] as string, args[1] === true),
  },
  jwt_header_query: {
    check: (args) => (args.length ? checkQueryArgs(args, false) : undefined),
    fn: jwtMemberQuery(0),
  },
  jwt_payload_query: {
    check: (args) => (args.length ? checkQueryArgs(args, false) : undefined),
    fn: jwtMemberQuery(1),
  },
  jwt_verify: {
    check: (args, cx) => {
      const alg = strOrVar(args[0] as string);
      const key = strOrVar(args[1] as string);
      if ('lit' in alg && !JWT_ALGS.has(alg.lit)) return `unknown JWT algorithm: ${alg.lit}`;
      // a key file is loaded now; a key that is no loadable file is an HMAC secret, or gives
      // "Unknown certificate" (-5) at run time
      if ('lit' in key) jwtLoadKey(key.lit, cx.file);
      args[0] = alg;
      args[1] = key;
      return undefined;
    },
    fn: (s, args, ctx) => {
      const alg = resolveStr(args[0] as StrOrVar, ctx);
      if (alg === undefined) return undefined;
      const key = resolveStr(args[1] as StrOrVar, ctx);
      if (key === undefined) return undefined;
      return smpInt(jwtVerify(s.v as Buffer, alg, key));
    },
  },
});
