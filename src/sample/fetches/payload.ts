// Sample fetches on raw buffer contents (configuration.txt 7.3.5): lengths, fixed and
// length-prefixed blocks, TLS hello inspection, RDP cookies and distcc tokens. They read
// ctx.reqPayload / ctx.resPayload. When the data needed is not all there yet and more may come
// (ctx.final false), they set ctx.wantMore and return nothing, so that the rule waits.
import { registerFetch, registerFetches } from '../registry.js';
import { smpBool, smpInt, smpStr, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';

const DEFAULT_BUFSIZE = 16384;
const DEFAULT_MAXREWRITE = 1024;

function bufsize(ctx: SmpCtx): number { return ctx.rt?.global.tune.bufsize ?? DEFAULT_BUFSIZE; }
/** How much of a buffer can be filled with incoming data (the rest is kept for rewrites). */
function recvLimit(ctx: SmpCtx): number {
  const t = ctx.rt?.global.tune;
  return (t?.bufsize ?? DEFAULT_BUFSIZE) - (t?.maxrewrite ?? DEFAULT_MAXREWRITE);
}

/** Not enough data yet: wait for more unless nothing more will come. */
function tooShort(ctx: SmpCtx): undefined {
  if (!ctx.final) ctx.wantMore = true;
  return undefined;
}

type Dir = 'req' | 'res' | 'ctx';
function chan(ctx: SmpCtx, dir: Dir): Buffer | undefined {
  const d = dir === 'ctx' ? ctx.dir : dir;
  return d === 'res' ? ctx.resPayload : ctx.reqPayload;
}

/* ---------------------------------------------------------------- lengths and blocks */

function lenFetch(dir: Dir) {
  return (_a: any[], ctx: SmpCtx): Sample | undefined => {
    const b = chan(ctx, dir);
    if (!b) return undefined;
    return { t: 'sint', v: b.length, mayChange: !ctx.final };
  };
}

/** payload(<offset>,<length>): length 0 takes everything from offset on. */
function payloadFetch(dir: Dir) {
  return (args: any[], ctx: SmpCtx): Sample | undefined => {
    const b = chan(ctx, dir);
    if (!b) return undefined;
    const off = Number(args[0]);
    const len = Number(args[1]);
    const max = bufsize(ctx);
    if (off < 0 || len < 0 || len > max || off + len > max) return undefined; // can never match
    if (off + len > b.length) return tooShort(ctx);
    if (len === 0) return { t: 'bin', v: b.subarray(off), mayChange: !ctx.final };
    return { t: 'bin', v: b.subarray(off, off + len) };
  };
}

interface LvArgs { rel: boolean; off: number }

function payloadLvCheck(args: any[]): string | undefined {
  const o1 = Number(args[0]);
  const l = Number(args[1]);
  if (o1 < 0) return 'payload offset1 must be positive';
  if (l === 0) return 'payload length must be > 0';
  if (l < 0) return 'payload length must be > 0';
  const t = args[2] as string | undefined;
  if (t !== undefined && t.length > 0) {
    if (!/^[+-]?[0-9]+$/.test(t)) return 'payload offset2 is not a number';
    const v = Number(t);
    if (o1 + l + v < 0) return 'payload offset2 too negative';
    args[2] = { rel: t[0] === '+' || t[0] === '-', off: v } satisfies LvArgs;
  } else if (t !== undefined) {
    args.length = 2;
  }
  return undefined;
}

/** payload_lv(<offset1>,<length>[,<offset2>]): a block whose size is stored in the buffer. */
function payloadLvFetch(dir: Dir) {
  return (args: any[], ctx: SmpCtx): Sample | undefined => {
    const b = chan(ctx, dir);
    if (!b) return undefined;
    const lenOff = Number(args[0]);
    const lenSize = Number(args[1]);
    if (lenOff + lenSize > b.length) return tooShort(ctx);
    let size = 0;
    for (let i = 0; i < lenSize; i++) size = ((size << 8) + b[lenOff + i]!) >>> 0;
    let start = lenOff + lenSize;
    const o2 = args[2] as LvArgs | undefined;
    if (o2) start = o2.rel ? start + o2.off : o2.off;
    const max = bufsize(ctx);
    if (!size || size > max || start + size > max || start < 0) return undefined; // can never match
    if (start + size > b.length) return tooShort(ctx);
    return { t: 'bin', v: b.subarray(start, start + size) };
  };
}

registerFetches({
  'req.len': lenFetch('req'),
  req_len: lenFetch('req'),
  'res.len': lenFetch('res'),
  'req.payload': payloadFetch('req'),
  'res.payload': payloadFetch('res'),
  payload: payloadFetch('ctx'),
});
registerFetch('req.payload_lv', { check: payloadLvCheck, fn: payloadLvFetch('req') });
registerFetch('res.payload_lv', { check: payloadLvCheck, fn: payloadLvFetch('res') });
registerFetch('payload_lv', { check: payloadLvCheck, fn: payloadLvFetch('ctx') });

/* ---------------------------------------------------------------- TLS hello messages */

/** Type of the handshake message at the start of the buffer (ClientHello 1, ServerHello 2). */
function helloTypeFetch(dir: Dir) {
  return (_a: any[], ctx: SmpCtx): Sample | undefined => {
    const b = chan(ctx, dir);
    if (!b) return undefined;
    if (b.length === 0) return tooShort(ctx);
    const ct = b[0]!;
    if (!((ct >= 0x14 && ct <= 0x17) || ct === 0xff)) return undefined;
    if (b.length < 9) return tooShort(ctx);
    if (b[1]! < 3) return undefined;                          // SSLv3 record format or later
    if (b.readUInt16BE(3) < 4) return undefined;              // room for a handshake header
    const hsLen = (b[6]! << 16) | (b[7]! << 8) | b[8]!;
    if (b.length < 9 + hsLen) return tooShort(ctx);
    return smpInt(b[5]!);
  };
}

/** Protocol version of an SSLv3/TLS record's client hello, or of an SSLv2 client hello. */
function sslVerFetch(_a: any[], ctx: SmpCtx): Sample | undefined {
  const b = ctx.reqPayload;
  if (!b) return undefined;
  if (b.length === 0) return tooShort(ctx);
  let p: number;
  let version: number;
  let msgLen: number;
  const ct = b[0]!;
  if ((ct >= 0x14 && ct <= 0x17) || ct === 0xff) {
    if (b.length < 11) return tooShort(ctx);
    const recVer = (b[1]! << 16) | b[2]!;
    msgLen = b.readUInt16BE(3);
    if (recVer < 0x030000) return undefined;
    if (msgLen < 6 || msgLen > (1 << 14) + 2048) return undefined;
    p = 5;
    // the version announced in the hello, not the record's
    version = (b[p + 4]! << 16) | b[p + 5]!;
  } else {
    // SSLv2 hello: 2- or 3-byte header, message type 1, then version and list lengths
    let rlen: number;
    let plen: number;
    if (ct & 0x80) {
      if (b.length < 3) return tooShort(ctx);
      rlen = ((ct & 0x7f) << 8) | b[1]!;
      plen = 0;
      p = 2;
    } else {
      if (b.length < 4) return tooShort(ctx);
      rlen = ((ct & 0x3f) << 8) | b[1]!;
      plen = b[2]!;
      p = 3;
    }
    if (b[p] !== 0x01) return undefined;
    p++;
    if (b.length - p < 8) return tooShort(ctx);
    version = (b[p]! << 16) | b[p + 1]!;
    const cilen = b.readUInt16BE(p + 2);
    const silen = b.readUInt16BE(p + 4);
    const chlen = b.readUInt16BE(p + 6);
    p += 8;
    if (cilen % 3 !== 0) return undefined;
    if (silen && silen !== 16) return undefined;
    if (chlen < 16 || chlen > 32) return undefined;
    if (rlen !== 9 + cilen + silen + chlen) return undefined;
    msgLen = cilen + silen + chlen + plen;
  }
  // the whole message must be there, as far as it can fit in a buffer
  const room = recvLimit(ctx) - p;
  if (msgLen > room) msgLen = room;
  if (b.length - p < msgLen) return tooShort(ctx);
  return smpInt(version);
}

interface TlsExt { type: number; data: Buffer }
interface ClientHello { version: number; ciphers: Buffer; exts: TlsExt[] | undefined }
type HelloResult = ClientHello | 'short' | 'bad';

const helloCache = new WeakMap<Buffer, { len: number; r: HelloResult }>();

/**
 * Parses the TLS ClientHello at the start of a buffer (RFC 8446 4.1.2 / RFC 5246 7.4.1.2). The
 * message may span several handshake records. 'short': more bytes are needed; 'bad': not one.
 */
export function parseClientHello(b: Buffer): HelloResult {
  const c = helloCache.get(b);
  if (c && c.len === b.length) return c.r;
  const r = parseHelloUncached(b);
  helloCache.set(b, { len: b.length, r });
  return r;
}

function parseHelloUncached(b: Buffer): HelloResult {
  if (b.length < 1) return 'short';
  if (b[0] !== 0x16) return 'bad';
  if (b.length < 3) return 'short';
  if (b[1]! < 3) return 'bad';
  if (b.length < 5) return 'short';
  // gather the handshake bytes of consecutive handshake records
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let p = 0;
  while (need < 0 || have < need) {
    if (p + 5 > b.length) return 'short';
    if (b[p] !== 0x16 || b[p + 1]! < 3) return 'bad';
    const rl = b.readUInt16BE(p + 3);
    if (rl === 0) return 'bad';
    const frag = b.subarray(p + 5, Math.min(p + 5 + rl, b.length));
    parts.push(frag);
    have += frag.length;
    if (need < 0 && have >= 4) {
      const h = parts.length === 1 ? frag : Buffer.concat(parts);
      if (h[0] !== 0x01) return 'bad';
      need = 4 + ((h[1]! << 16) | (h[2]! << 8) | h[3]!);
    } else if (need < 0 && have >= 1) {
      const h = parts.length === 1 ? frag : Buffer.concat(parts);
      if (h[0] !== 0x01) return 'bad';
    }
    if (frag.length < rl) { if (need < 0 || have < need) return 'short'; break; }
    p += 5 + rl;
  }
  const msg = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).subarray(4, need);
  const n = msg.length;
  if (n < 2 + 32 + 1) return 'bad';
  const major = msg[0]!, minor = msg[1]!;
  if (major < 3 || (major === 3 && minor < 1)) return 'bad';    // TLS 1.0 at least
  let q = 34;
  const sidLen = msg[q]!;
  if (sidLen > 32 || q + 1 + sidLen > n) return 'bad';
  q += 1 + sidLen;
  if (q + 2 > n) return 'bad';
  const cl = msg.readUInt16BE(q);
  if (cl < 2 || q + 2 + cl > n) return 'bad';
  const ciphers = msg.subarray(q + 2, q + 2 + cl);
  q += 2 + cl;
  if (q + 1 > n) return 'bad';
  const compLen = msg[q]!;
  if (compLen < 1 || q + 1 + compLen > n) return 'bad';
  q += 1 + compLen;
  if (q === n) return { version: (major << 16) | minor, ciphers, exts: undefined };
  if (q + 2 > n) return 'bad';
  const el = msg.readUInt16BE(q);
  if (q + 2 + el > n) return 'bad';
  q += 2;
  const end = q + el;
  const exts: TlsExt[] = [];
  while (q + 4 <= end) {
    const type = msg.readUInt16BE(q);
    const len = msg.readUInt16BE(q + 2);
    if (q + 4 + len > end) return 'bad';
    exts.push({ type, data: msg.subarray(q + 4, q + 4 + len) });
    q += 4 + len;
  }
  return { version: (major << 16) | minor, ciphers, exts };
}

/** Runs `f` on the request's ClientHello; waits or fails as the parse says. */
function withHello(ctx: SmpCtx, f: (h: ClientHello) => Sample | undefined): Sample | undefined {
  const b = ctx.reqPayload;
  if (!b) return undefined;
  const h = parseClientHello(b);
  if (h === 'short') return tooShort(ctx);
  if (h === 'bad') return undefined;
  return f(h);
}

function ext(h: ClientHello, type: number): Buffer | undefined {
  if (!h.exts) return undefined;
  for (const e of h.exts) if (e.type === type) return e.data;
  return undefined;
}

/** The data of a list-valued extension after its 2-byte length (supported_groups, sigalgs). */
function extList(h: ClientHello, type: number): Buffer | undefined {
  const d = ext(h, type);
  if (!d || d.length < 2) return undefined;
  const l = d.readUInt16BE(0);
  if (l + 2 > d.length || l === 0) return undefined;
  return d.subarray(2, 2 + l);
}

const EXT_SNI = 0, EXT_GROUPS = 10, EXT_SIGALGS = 13, EXT_ALPN = 16, EXT_TICKET = 35, EXT_KEYSHARE = 51;

function sniOf(h: ClientHello): string | undefined {
  const d = ext(h, EXT_SNI);
  if (!d || d.length < 2) return undefined;
  const l = Math.min(d.readUInt16BE(0) + 2, d.length);
  for (let p = 2; p + 3 <= l;) {
    const nt = d[p]!;
    const nl = d.readUInt16BE(p + 1);
    if (p + 3 + nl > l) return undefined;
    if (nt === 0) return d.toString('latin1', p + 3, p + 3 + nl);
    p += 3 + nl;
  }
  return undefined;
}

function alpnOf(h: ClientHello): string[] | undefined {
  const d = ext(h, EXT_ALPN);
  if (!d || d.length < 3) return undefined;
  const l = Math.min(d.readUInt16BE(0) + 2, d.length);
  const out: string[] = [];
  for (let p = 2; p < l;) {
    const nl = d[p]!;
    if (p + 1 + nl > l) break;
    out.push(d.toString('latin1', p + 1, p + 1 + nl));
    p += 1 + nl;
  }
  return out.length ? out : undefined;
}

function keyshareGroups(h: ClientHello): Buffer | undefined {
  const d = ext(h, EXT_KEYSHARE);
  if (!d || d.length < 2) return undefined;
  const l = Math.min(d.readUInt16BE(0) + 2, d.length);
  const groups: number[] = [];
  for (let p = 2; p + 4 <= l;) {
    const g = d.readUInt16BE(p);
    const kl = d.readUInt16BE(p + 2);
    if (p + 4 + kl > l) return undefined;
    groups.push(g >> 8, g & 255);
    p += 4 + kl;
  }
  return groups.length ? Buffer.from(groups) : undefined;
}

const sniFetch = (_a: any[], ctx: SmpCtx) => withHello(ctx, (h) => { const s = sniOf(h); return s === undefined ? undefined : smpStr(s); });

registerFetches({
  'req.ssl_hello_type': helloTypeFetch('req'),
  req_ssl_hello_type: helloTypeFetch('req'),
  'res.ssl_hello_type': helloTypeFetch('res'),
  rep_ssl_hello_type: helloTypeFetch('res'),
  'req.ssl_ver': sslVerFetch,
  req_ssl_ver: sslVerFetch,
  'req.ssl_sni': sniFetch,
  req_ssl_sni: sniFetch,
  'req.ssl_ec_ext': (_a, ctx) => withHello(ctx, (h) => (ext(h, EXT_GROUPS) ? smpBool(true) : undefined)),
  'req.ssl_st_ext': (_a, ctx) => withHello(ctx, (h) => {
    if (!h.exts) return undefined;
    const t = ext(h, EXT_TICKET);
    return smpInt(t === undefined ? 0 : t.length > 0 ? 2 : 1);
  }),
  'req.ssl_cipherlist': (_a, ctx) => withHello(ctx, (h) => ({ t: 'bin', v: h.ciphers })),
  'req.ssl_sigalgs': (_a, ctx) => withHello(ctx, (h) => { const v = extList(h, EXT_SIGALGS); return v ? { t: 'bin', v } : undefined; }),
  'req.ssl_supported_groups': (_a, ctx) => withHello(ctx, (h) => { const v = extList(h, EXT_GROUPS); return v ? { t: 'bin', v } : undefined; }),
  'req.ssl_keyshare_groups': (_a, ctx) => withHello(ctx, (h) => { const v = keyshareGroups(h); return v ? { t: 'bin', v } : undefined; }),
});

registerFetch('req.ssl_alpn', {
  fn: (_a, ctx) => withHello(ctx, (h) => { const l = alpnOf(h); return l ? smpStr(l[0]!) : undefined; }),
  all: (_a, ctx) => {
    let list: Sample[] | undefined;
    withHello(ctx, (h) => { const l = alpnOf(h); if (l) list = l.map(smpStr); return undefined; });
    return list;
  },
});

/* ---------------------------------------------------------------- RDP cookie */

const RDP_PREFIX = 11;    // TPKT header (4) and X.224 connection request header (7)

function lowerEq(b: Buffer, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    let c = b[at + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    let d = s.charCodeAt(i);
    if (d >= 0x41 && d <= 0x5a) d |= 0x20;
    if (c !== d) return false;
  }
  return true;
}

/** The RDP cookie value, 'short' when more data is needed, undefined when there is none. */
export function rdpCookie(b: Buffer, name: string | undefined): string | 'short' | undefined {
  let p = RDP_PREFIX;
  if (b.length <= p + 7) return 'short';
  if (!lowerEq(b, p, 'Cookie:')) return undefined;
  p += 7;
  while (p < b.length && b[p] === 0x20) p++;
  if (name) {
    if (b.length - p <= name.length) return 'short';
    if (b[p + name.length] !== 0x3d || !lowerEq(b, p, name)) return undefined;
    p += name.length + 1;
  } else {
    while (p < b.length && b[p] !== 0x3d) {
      if (b[p] === 0x0d || b[p] === 0x0a) return undefined;
      p++;
    }
    if (p >= b.length) return 'short';
    p++;
  }
  const start = p;
  while (p < b.length && b[p] !== 0x0d) p++;
  if (b.length - p < 2) return 'short';
  if (b[p + 1] !== 0x0a) return undefined;
  return b.toString('latin1', start, p);
}

function rdpFetch(args: any[], ctx: SmpCtx): Sample | undefined {
  const b = ctx.reqPayload;
  if (!b) return undefined;
  const v = rdpCookie(b, args[0] as string | undefined);
  if (v === 'short') return tooShort(ctx);
  return v === undefined ? undefined : smpStr(v);
}

function rdpCntFetch(args: any[], ctx: SmpCtx): Sample | undefined {
  const b = ctx.reqPayload;
  if (!b) return undefined;
  const v = rdpCookie(b, args[0] as string | undefined);
  if (v === 'short') return tooShort(ctx);
  return smpInt(v === undefined ? 0 : 1);
}

registerFetches({
  'req.rdp_cookie': rdpFetch,
  rdp_cookie: rdpFetch,
  'req.rdp_cookie_cnt': rdpCntFetch,
  rdp_cookie_cnt: rdpCntFetch,
});

/* ---------------------------------------------------------------- distcc */

// tokens whose 8-hex-digit parameter is a plain value, not the size of a following body
const NO_BODY = new Set([0x41524743 /* ARGC */, 0x44495354 /* DIST */, 0x4e46494c /* NFIL */, 0x53544154 /* STAT */, 0x444f4e45 /* DONE */]);

function distccCheck(args: any[]): string | undefined {
  const t = args[0] as string;
  if (t.length !== 4) return 'token name must be exactly 4 characters';
  args[0] = ((t.charCodeAt(0) << 24) | (t.charCodeAt(1) << 16) | (t.charCodeAt(2) << 8) | t.charCodeAt(3)) >>> 0;
  args[1] = args.length > 1 ? Number(args[1]) : 0;
  return undefined;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Finds occurrence `occ` (0: the first) of `token`; its parameter and body offset. */
function distccFind(b: Buffer, ctx: SmpCtx, token: number, occ: number): { param: number; body: number } | 'short' | undefined {
  const limit = recvLimit(ctx);
  let ofs = 0;
  let seen = 0;
  for (;;) {
    if (ofs + 12 > b.length) return ofs + 12 <= limit ? 'short' : undefined;
    const tok = b.readUInt32BE(ofs);
    let param = 0;
    for (let i = 0; i < 8; i++) {
      const h = hexVal(b[ofs + 4 + i]!);
      if (h < 0) return undefined;
      param = (param * 16) + h;
    }
    ofs += 12;
    if (tok === token) {
      seen++;
      if (!occ || occ === seen) return { param, body: ofs };
    }
    if (!NO_BODY.has(tok)) ofs += param;
  }
}

registerFetch('distcc_param', {
  check: distccCheck,
  fn: (args, ctx) => {
    const b = chan(ctx, 'ctx');
    if (!b) return undefined;
    const r = distccFind(b, ctx, args[0] as number, args[1] as number);
    if (r === 'short') return tooShort(ctx);
    return r ? smpInt(r.param) : undefined;
  },
});

registerFetch('distcc_body', {
  check: distccCheck,
  fn: (args, ctx) => {
    const b = chan(ctx, 'ctx');
    if (!b) return undefined;
    const r = distccFind(b, ctx, args[0] as number, args[1] as number);
    if (r === 'short') return tooShort(ctx);
    if (!r) return undefined;
    const end = r.body + r.param;
    if (end <= b.length) return { t: 'bin', v: b.subarray(r.body, end) };
    // the body is not all there: wait for it while it can fit, else give what fits
    if (end <= recvLimit(ctx)) return tooShort(ctx);
    if (!ctx.final && b.length < recvLimit(ctx)) return tooShort(ctx);
    return { t: 'bin', v: b.subarray(r.body, Math.min(b.length, recvLimit(ctx))), mayChange: !ctx.final };
  },
});
