// Layer-7 sample fetches (configuration.txt 7.3.6): the request line, headers, cookies, URL and
// body parameters, bodies, status, captures, hashes of the URL, the transaction's timers.
// Authentication, cache, compression, HTTP/2 and TLS fetches live in their own modules.
//
// The request is ctx.req in HTTP proxies. In a TCP proxy (tcp-request content rules), the
// request bytes received so far are parsed as an HTTP/1 request head, as HAProxy does.
import { registerFetch, type FetchImpl } from '../registry.js';
import type { SmpCtx } from '../context.js';
import { addrSample, smpBool, smpInt, smpStr, smpBin, smpIpv4, smpIpv6, parseIpv6, type Sample } from '../types.js';
import type { HttpHeaders, HttpRequestHead, HttpResponseHead } from '../../http/htx.js';
import { parseRequestHead, DEFAULT_H1_OPTIONS } from '../../http/h1.js';
import { sdbm, avalanche } from '../../util/hash.js';
import {
  uriPath, uriPathQ, lenientInt, ipv4Prefix, urlIpv4, forEachValue, hasComma, forEachCookie,
  nextParam, varintLen, writeVarint,
} from './http-util.js';

declare module '../context.js' {
  interface SmpCtx {
    /** status code of the response as received from the server (server_status); unset when none came */
    serverStatus?: number;
  }
  interface StreamInfo {
    /**
     * Generates the transaction's unique-id from the frontend's unique-id-format when not done
     * yet, stores it in ctx.uniqueId and returns it; undefined when no format is set.
     */
    genUniqueId?(): string | undefined;
  }
}

const EMPTY = Buffer.alloc(0);

/* ---------------------------------------------------------------------------------------- */
/* Access to the messages                                                                   */
/* ---------------------------------------------------------------------------------------- */

const parsedPayloads = new WeakMap<Buffer, HttpRequestHead | null>();

/**
 * The request head: the transaction's, or the one the received request bytes parse into (TCP
 * proxies). undefined when there is none; ctx.wantMore is set when more bytes could make one.
 */
export function getReq(ctx: SmpCtx): HttpRequestHead | undefined {
  if (ctx.req) return ctx.req;
  const b = ctx.reqPayload;
  if (!b || b.length === 0) {
    if (!ctx.final) ctx.wantMore = true;
    return undefined;
  }
  const cached = parsedPayloads.get(b);
  if (cached !== undefined) return cached ?? undefined;
  const r = parseRequestHead(b, DEFAULT_H1_OPTIONS);
  if (r.state === 'incomplete') {
    if (!ctx.final) ctx.wantMore = true;
    return undefined;
  }
  const head = r.state === 'ok' ? r.head : null;
  parsedPayloads.set(b, head);
  return head ?? undefined;
}

function getRes(ctx: SmpCtx): HttpResponseHead | undefined { return ctx.res; }

/** Headers of the message of the rule's direction (hdr, cookie). */
function dirHeaders(ctx: SmpCtx): HttpHeaders | undefined {
  return ctx.dir === 'res' ? ctx.res?.headers : getReq(ctx)?.headers;
}
const reqHeaders = (ctx: SmpCtx): HttpHeaders | undefined => getReq(ctx)?.headers;
const resHeaders = (ctx: SmpCtx): HttpHeaders | undefined => ctx.res?.headers;
type HdrSource = (ctx: SmpCtx) => HttpHeaders | undefined;

/* ---------------------------------------------------------------------------------------- */
/* Headers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** Every value of header `lname` ('' for all headers), split at commas unless `full`. */
function headerValues(h: HttpHeaders, lname: string, full: boolean): string[] {
  const out: string[] = [];
  for (const f of h.list) {
    if (lname !== '' && f.lname !== lname) continue;
    if (full || !hasComma(f.value)) out.push(full ? f.value : trimSp(f.value));
    else forEachValue(f.value, (v) => { out.push(v); });
  }
  return out;
}

function trimSp(v: string): string {
  let s = 0, e = v.length;
  while (s < e && (v.charCodeAt(s) === 0x20 || v.charCodeAt(s) === 0x09)) s++;
  while (e > s && (v.charCodeAt(e - 1) === 0x20 || v.charCodeAt(e - 1) === 0x09)) e--;
  return s === 0 && e === v.length ? v : v.slice(s, e);
}

/** The occurrence `occ` (1 = first, -1 = last) of the values, or undefined. */
function pickValue(h: HttpHeaders, lname: string, full: boolean, occ: number): string | undefined {
  if (occ === -1) {
    // fast path: the last value of the last matching field
    const l = h.list;
    for (let i = l.length - 1; i >= 0; i--) {
      const f = l[i]!;
      if (lname !== '' && f.lname !== lname) continue;
      if (full) return f.value;
      if (!hasComma(f.value)) return trimSp(f.value);
      let last = '';
      forEachValue(f.value, (v) => { last = v; });
      return last;
    }
    return undefined;
  }
  const all = headerValues(h, lname, full);
  const i = occ > 0 ? occ - 1 : all.length + occ;
  return i >= 0 && i < all.length ? all[i] : undefined;
}

/** Normalizes [name, occ] arguments: lower-case name ('' = any), occurrence as a number (0 = none given). */
function checkNameOcc(args: any[]): string | undefined {
  args[0] = typeof args[0] === 'string' ? args[0].toLowerCase() : '';
  args[1] = args[1] === undefined ? 0 : Number(args[1]);
  return undefined;
}
function checkName(args: any[]): string | undefined {
  args[0] = typeof args[0] === 'string' ? args[0].toLowerCase() : '';
  return undefined;
}

/**
 * A header fetch: the chosen occurrence (default the last) as a sample made by `conv`; for ACLs,
 * every value (or only the chosen occurrence when one is given).
 */
function hdrValuesFetch(src: HdrSource, full: boolean, conv: (v: string) => Sample | undefined): FetchImpl {
  return {
    check: checkNameOcc,
    fn: (args, ctx) => {
      const h = src(ctx);
      if (!h) return undefined;
      const v = pickValue(h, args[0], full, args[1] || -1);
      return v === undefined ? undefined : conv(v);
    },
    all: (args, ctx) => {
      const h = src(ctx);
      if (!h) return undefined;
      const vals = args[1] ? [pickValue(h, args[0], full, args[1])] : headerValues(h, args[0], full);
      const out: Sample[] = [];
      for (const v of vals) {
        if (v === undefined) continue;
        const smp = conv(v);
        if (smp) out.push(smp);
      }
      return out;
    },
  };
}

function hdrFetch(src: HdrSource, full: boolean): FetchImpl { return hdrValuesFetch(src, full, smpStr); }

function hdrCntFetch(src: HdrSource, full: boolean): FetchImpl {
  return {
    check: checkName,
    fn: (args, ctx) => {
      const h = src(ctx);
      if (!h) return undefined;
      const lname: string = args[0];
      let n = 0;
      for (const f of h.list) {
        if (lname !== '' && f.lname !== lname) continue;
        if (full || !hasComma(f.value)) n++;
        else forEachValue(f.value, () => { n++; });
      }
      return smpInt(n);
    },
  };
}

/**
 * A header element as an address: IPv4, IPv4 followed by ':' and a port (0-65535), an IPv6
 * address, or an IPv6 address in square brackets.
 */
export function parseHdrIp(v: string): Sample | undefined {
  const out = { v: 0 };
  const n = ipv4Prefix(v, 0, out);
  if (n > 0) {
    if (n === v.length) return smpIpv4(out.v);
    if (v.charCodeAt(n) === 0x3a && /^[0-9]{1,5}$/.test(v.slice(n + 1)) && Number(v.slice(n + 1)) <= 65535) return smpIpv4(out.v);
  }
  if (v.length > 2 && v.charCodeAt(0) === 0x5b && v.charCodeAt(v.length - 1) === 0x5d) {
    const b = parseIpv6(v.slice(1, -1));
    return b ? smpIpv6(b) : undefined;
  }
  const b = parseIpv6(v);
  return b ? smpIpv6(b) : undefined;
}

function hdrIpFetch(src: HdrSource): FetchImpl { return hdrValuesFetch(src, false, parseHdrIp); }

function hdrValFetch(src: HdrSource): FetchImpl { return hdrValuesFetch(src, false, (v) => smpInt(lenientInt(v))); }

/** The first character of an optional delimiter argument, ',' by default. */
function checkDelim(args: any[]): string | undefined {
  args[0] = typeof args[0] === 'string' && args[0].length > 0 ? args[0][0] : ',';
  return undefined;
}

function hdrNamesFetch(src: HdrSource): FetchImpl {
  return {
    check: checkDelim,
    fn: (args, ctx) => {
      const h = src(ctx);
      if (!h) return undefined;
      let s = '';
      const l = h.list;
      for (let i = 0; i < l.length; i++) s += i === 0 ? l[i]!.lname : args[0] + l[i]!.lname;
      return smpStr(s);
    },
  };
}

/** The header block as text: `name: value` lines and the empty line. */
function hdrsFetch(src: HdrSource): FetchImpl {
  return {
    fn: (_args, ctx) => {
      const h = src(ctx);
      if (!h) return undefined;
      let s = '';
      for (const f of h.list) s += `${f.lname}: ${f.value}\r\n`;
      s += '\r\n';
      return smpBin(Buffer.from(s, 'latin1'));
    },
  };
}

/** The header block in binary form: length-prefixed names and values, then two empty strings. */
export function headersBinary(h: HttpHeaders): Buffer {
  let size = 2;
  for (const f of h.list) size += varintLen(f.lname.length) + f.lname.length + varintLen(f.value.length) + f.value.length;
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  for (const f of h.list) {
    p = writeVarint(b, p, f.lname.length);
    p += b.write(f.lname, p, 'latin1');
    p = writeVarint(b, p, f.value.length);
    p += b.write(f.value, p, 'latin1');
  }
  b[p++] = 0;
  b[p++] = 0;
  return b;
}

function hdrsBinFetch(src: HdrSource): FetchImpl {
  return {
    fn: (_args, ctx) => {
      const h = src(ctx);
      return h ? smpBin(headersBinary(h)) : undefined;
    },
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Cookies                                                                                  */
/* ---------------------------------------------------------------------------------------- */

const reqCookieHdr = (ctx: SmpCtx): [HttpHeaders | undefined, string] => [reqHeaders(ctx), 'cookie'];
const resCookieHdr = (ctx: SmpCtx): [HttpHeaders | undefined, string] => [resHeaders(ctx), 'set-cookie'];
const dirCookieHdr = (ctx: SmpCtx): [HttpHeaders | undefined, string] => [dirHeaders(ctx), ctx.dir === 'res' ? 'set-cookie' : 'cookie'];
type CookieSource = (ctx: SmpCtx) => [HttpHeaders | undefined, string];

function checkCookieName(args: any[]): string | undefined {
  if (typeof args[0] !== 'string') args[0] = '';
  return undefined;
}

/** Every value of cookie `name` ('' = every cookie) in the header fields `hname`. */
function cookieValues(h: HttpHeaders, hname: string, name: string): string[] {
  const out: string[] = [];
  for (const f of h.list) {
    if (f.lname !== hname) continue;
    forEachCookie(f.value, (n, v) => { if (name === '' || n === name) out.push(v); });
  }
  return out;
}

/** The value of a cookie: the last one of that name, or the first cookie when no name is given. */
function cookieValue(h: HttpHeaders, hname: string, name: string): string | undefined {
  let found: string | undefined;
  for (const f of h.list) {
    if (f.lname !== hname) continue;
    const stop = forEachCookie(f.value, (n, v) => {
      if (name === '') { found = v; return true; }
      if (n === name) found = v;
      return false;
    });
    if (stop) break;
  }
  return found;
}

function cookFetch(src: CookieSource): FetchImpl {
  return {
    check: checkCookieName,
    fn: (args, ctx) => {
      const [h, hn] = src(ctx);
      if (!h) return undefined;
      const v = cookieValue(h, hn, args[0]);
      return v === undefined ? undefined : smpStr(v);
    },
    all: (args, ctx) => {
      const [h, hn] = src(ctx);
      return h ? cookieValues(h, hn, args[0]).map(smpStr) : undefined;
    },
  };
}

function cookCntFetch(src: CookieSource): FetchImpl {
  return {
    check: checkCookieName,
    fn: (args, ctx) => {
      const [h, hn] = src(ctx);
      return h ? smpInt(cookieValues(h, hn, args[0]).length) : undefined;
    },
  };
}

function cookValFetch(src: CookieSource): FetchImpl {
  return {
    check: checkCookieName,
    fn: (args, ctx) => {
      const [h, hn] = src(ctx);
      if (!h) return undefined;
      const v = cookieValue(h, hn, args[0]);
      return v === undefined ? undefined : smpInt(lenientInt(v));
    },
    all: (args, ctx) => {
      const [h, hn] = src(ctx);
      return h ? cookieValues(h, hn, args[0]).map((v) => smpInt(lenientInt(v))) : undefined;
    },
  };
}

function cookNamesFetch(src: CookieSource): FetchImpl {
  return {
    check: checkDelim,
    fn: (args, ctx) => {
      const [h, hn] = src(ctx);
      if (!h) return undefined;
      let s = '';
      let first = true;
      for (const f of h.list) {
        if (f.lname !== hn) continue;
        forEachCookie(f.value, (n) => { s += first ? n : args[0] + n; first = false; });
      }
      return smpStr(s);
    },
  };
}

/* ---------------------------------------------------------------------------------------- */
/* Request line                                                                             */
/* ---------------------------------------------------------------------------------------- */

function firstHost(h: HttpHeaders): string | undefined { return h.get('host'); }

/** sdbm over `s` continuing from `h` (32-bit). */
function sdbmOn(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 65599) + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

function hashHostPath(req: HttpRequestHead, withQuery: boolean): number {
  const host = firstHost(req.headers);
  let h = host !== undefined ? sdbm(Buffer.from(host, 'latin1')) : 0;
  const p = withQuery ? uriPathQ(req.uri) : uriPath(req.uri);
  if (p !== undefined && p.length > 0 && p.charCodeAt(0) === 0x2f) h = sdbmOn(h, p);
  return avalanche(h);
}

function hashWithSrc(hash: number, ctx: SmpCtx): Sample | undefined {
  const a = addrSample(ctx.conn.src);
  if (!a) return undefined;
  if (a.t === 'ipv4') {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE(hash, 0);
    b.writeUInt32BE(a.v as number, 4);
    return smpBin(b);
  }
  const b = Buffer.allocUnsafe(20);
  b.writeUInt32BE(hash, 0);
  (a.v as Buffer).copy(b, 4);
  return smpBin(b);
}

function baseFetch(withQuery: boolean): FetchImpl {
  return {
    fn: (_args, ctx) => {
      const req = getReq(ctx);
      if (!req) return undefined;
      const host = firstHost(req.headers);
      const p = withQuery ? uriPathQ(req.uri) : uriPath(req.uri);
      if (host === undefined || host === '') return p === undefined ? undefined : smpStr(p);
      return smpStr(p === undefined ? host : host + p);
    },
  };
}

/** Version number from "HTTP/x.y": what follows the slash. */
function versionNumber(v: string): string | undefined {
  const s = v.indexOf('/');
  return s < 0 || s === v.length - 1 ? undefined : v.slice(s + 1);
}

function checkUrlParam(args: any[]): string | undefined {
  if (typeof args[0] !== 'string') args[0] = '';
  args[1] = typeof args[1] === 'string' && args[1].length > 0 ? args[1].charCodeAt(0) : 0x3f;
  args[2] = typeof args[2] === 'string' && args[2].charCodeAt(0) === 0x69;
  return undefined;
}

function urlParams(ctx: SmpCtx, args: any[], onlyFirst: boolean): string[] | undefined {
  const req = getReq(ctx);
  if (!req) return undefined;
  const uri = req.uri;
  const q = uri.indexOf(String.fromCharCode(args[1]));
  if (q < 0) return [];
  return params(uri, q + 1, uri.length, args[0], args[1], args[2], onlyFirst);
}

function params(s: string, start: number, end: number, name: string, delim: number, ci: boolean, onlyFirst: boolean): string[] {
  const out: string[] = [];
  let pos = start;
  for (;;) {
    const r = nextParam(s, pos, end, name, delim, ci);
    if (!r) break;
    out.push(s.slice(r[0], r[1]));
    if (onlyFirst) break;
    pos = r[1];
  }
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* Bodies                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/** The request body available, flagged as changing (and asking for more) while incomplete. */
function reqBody(ctx: SmpCtx): { b: Buffer; partial: boolean } | undefined {
  if (!getReq(ctx)) return undefined;
  const b = ctx.reqBody;
  if (b === undefined) return { b: EMPTY, partial: false };
  const partial = !ctx.reqBodyComplete && !ctx.final;
  if (partial) ctx.wantMore = true;
  return { b, partial };
}

function resBody(ctx: SmpCtx): { b: Buffer; partial: boolean } | undefined {
  if (!ctx.res) return undefined;
  return { b: ctx.resBody ?? EMPTY, partial: false };
}

type BodySource = (ctx: SmpCtx) => { b: Buffer; partial: boolean } | undefined;

function mark(s: Sample, partial: boolean): Sample {
  if (partial) s.mayChange = true;
  return s;
}

function bodySize(h: HttpHeaders, available: number): number {
  const cl = h.get('content-length');
  if (cl !== undefined && /^[0-9]+$/.test(cl.trim())) return Number(cl.trim());
  return available;
}

/* ---------------------------------------------------------------------------------------- */
/* Registration                                                                             */
/* ---------------------------------------------------------------------------------------- */

const reqHdr = hdrFetch(reqHeaders, false);
const resHdr = hdrFetch(resHeaders, false);
const reqHdrCnt = hdrCntFetch(reqHeaders, false);
const resHdrCnt = hdrCntFetch(resHeaders, false);
const reqHdrIp = hdrIpFetch(reqHeaders);
const resHdrIp = hdrIpFetch(resHeaders);
const reqHdrVal = hdrValFetch(reqHeaders);
const resHdrVal = hdrValFetch(resHeaders);
const reqCook = cookFetch(reqCookieHdr);
const resCook = cookFetch(resCookieHdr);
const reqCookCnt = cookCntFetch(reqCookieHdr);
const resCookCnt = cookCntFetch(resCookieHdr);
const reqCookVal = cookValFetch(reqCookieHdr);
const resCookVal = cookValFetch(resCookieHdr);

const reqVer: FetchImpl = {
  fn: (_a, ctx) => {
    const r = getReq(ctx);
    const v = r && versionNumber(r.version);
    return v === undefined ? undefined : smpStr(v);
  },
};
const resVer: FetchImpl = {
  fn: (_a, ctx) => {
    const r = getRes(ctx);
    const v = r && versionNumber(r.version);
    return v === undefined ? undefined : smpStr(v);
  },
};
const protoHttp: FetchImpl = { fn: (_a, ctx) => (getReq(ctx) ? smpBool(true) : undefined) };

const urlParam: FetchImpl = {
  check: checkUrlParam,
  fn: (args, ctx) => {
    const v = urlParams(ctx, args, true);
    return v && v.length ? smpStr(v[0]!) : undefined;
  },
  all: (args, ctx) => urlParams(ctx, args, false)?.map(smpStr),
};

const defs: Record<string, FetchImpl> = {
  // ---- request line ----
  'method': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? { t: 'meth', v: r.method } : undefined; } },
  'path': { fn: (_a, ctx) => { const r = getReq(ctx); const p = r && uriPath(r.uri); return p === undefined ? undefined : smpStr(p); } },
  'pathq': { fn: (_a, ctx) => { const r = getReq(ctx); const p = r && uriPathQ(r.uri); return p === undefined ? undefined : smpStr(p); } },
  'url': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? smpStr(r.uri) : undefined; } },
  'query': {
    check: (args) => {
      if (args[0] !== undefined && args[0] !== 'with_qm') return `unknown option '${args[0]}' (only 'with_qm' is supported)`;
      args[0] = args[0] === 'with_qm';
      return undefined;
    },
    fn: (args, ctx) => {
      const r = getReq(ctx);
      if (!r) return undefined;
      const q = r.uri.indexOf('?');
      if (q < 0) return undefined;
      return smpStr(args[0] && q < r.uri.length - 1 ? r.uri.slice(q) : r.uri.slice(q + 1));
    },
  },
  'base': baseFetch(false),
  'baseq': baseFetch(true),
  'base32': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? smpInt(hashHostPath(r, false)) : undefined; } },
  'url32': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? smpInt(hashHostPath(r, true)) : undefined; } },
  'base32+src': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? hashWithSrc(hashHostPath(r, false), ctx) : undefined; } },
  'url32+src': { fn: (_a, ctx) => { const r = getReq(ctx); return r ? hashWithSrc(hashHostPath(r, true), ctx) : undefined; } },
  'url_ip': { fn: (_a, ctx) => { const r = getReq(ctx); const u = r && urlIpv4(r.uri); return u ? smpIpv4(u.ip) : undefined; } },
  'url_port': { fn: (_a, ctx) => { const r = getReq(ctx); const u = r && urlIpv4(r.uri); return u ? smpInt(u.port) : undefined; } },
  'url_param': urlParam,
  'urlp': urlParam,
  'urlp_val': {
    check: checkUrlParam,
    fn: (args, ctx) => {
      const v = urlParams(ctx, args, true);
      return v && v.length ? smpInt(lenientInt(v[0]!)) : undefined;
    },
    all: (args, ctx) => urlParams(ctx, args, false)?.map((v) => smpInt(lenientInt(v))),
  },
  'req.ver': reqVer,
  'req_ver': reqVer,
  'req.proto_http': protoHttp,
  'req_proto_http': protoHttp,
  'http_first_req': { fn: (_a, ctx) => (ctx.txnNumber > 0 ? smpBool(ctx.txnNumber === 1) : undefined) },

  // ---- request headers ----
  'req.hdr': reqHdr,
  'req.fhdr': hdrFetch(reqHeaders, true),
  'req.hdr_cnt': reqHdrCnt,
  'hdr_cnt': reqHdrCnt,
  'req.fhdr_cnt': hdrCntFetch(reqHeaders, true),
  'req.hdr_ip': reqHdrIp,
  'hdr_ip': reqHdrIp,
  'req.hdr_val': reqHdrVal,
  'hdr_val': reqHdrVal,
  'req.hdr_names': hdrNamesFetch(reqHeaders),
  'req.hdrs': hdrsFetch(reqHeaders),
  'req.hdrs_bin': hdrsBinFetch(reqHeaders),
  'hdr': hdrFetch(dirHeaders, false),

  // ---- response headers ----
  'res.hdr': resHdr,
  'shdr': resHdr,
  'res.fhdr': hdrFetch(resHeaders, true),
  'res.hdr_cnt': resHdrCnt,
  'shdr_cnt': resHdrCnt,
  'res.fhdr_cnt': hdrCntFetch(resHeaders, true),
  'res.hdr_ip': resHdrIp,
  'shdr_ip': resHdrIp,
  'res.hdr_val': resHdrVal,
  'shdr_val': resHdrVal,
  'res.hdr_names': hdrNamesFetch(resHeaders),
  'res.hdrs': hdrsFetch(resHeaders),
  'res.hdrs_bin': hdrsBinFetch(resHeaders),
  'res.ver': resVer,
  'resp_ver': resVer,

  // ---- cookies ----
  'req.cook': reqCook,
  'cook': reqCook,
  'req.cook_cnt': reqCookCnt,
  'cook_cnt': reqCookCnt,
  'req.cook_val': reqCookVal,
  'cook_val': reqCookVal,
  'req.cook_names': cookNamesFetch(reqCookieHdr),
  'res.cook': resCook,
  'scook': resCook,
  'res.cook_cnt': resCookCnt,
  'scook_cnt': resCookCnt,
  'res.cook_val': resCookVal,
  'scook_val': resCookVal,
  'res.cook_names': cookNamesFetch(resCookieHdr),
  'cookie': cookFetch(dirCookieHdr),

  // ---- bodies ----
  'req.body': bodyFetch(reqBody),
  'req.body_len': bodyLenFetch(reqBody),
  'req.body_size': bodySizeFetch(reqBody, (ctx) => getReq(ctx)?.headers),
  'req.body_param': {
    check: (args) => {
      if (typeof args[0] !== 'string') args[0] = '';
      args[1] = typeof args[1] === 'string' && args[1].charCodeAt(0) === 0x69;
      return undefined;
    },
    fn: (args, ctx) => {
      const r = reqBody(ctx);
      if (!r) return undefined;
      const s = r.b.toString('latin1');
      const v = params(s, 0, s.length, args[0], 0x26, args[1], true);
      return v.length ? mark(smpStr(v[0]!), r.partial) : undefined;
    },
    all: (args, ctx) => {
      const r = reqBody(ctx);
      if (!r) return undefined;
      const s = r.b.toString('latin1');
      return params(s, 0, s.length, args[0], 0x26, args[1], false).map((v) => mark(smpStr(v), r.partial));
    },
  },
  'res.body': bodyFetch(resBody),
  'res.body_len': bodyLenFetch(resBody),
  'res.body_size': bodySizeFetch(resBody, (ctx) => ctx.res?.headers),

  // ---- status ----
  'status': { fn: (_a, ctx) => (ctx.res ? smpInt(ctx.res.status) : undefined) },
  'txn.status': { fn: (_a, ctx) => (ctx.status > 0 ? smpInt(ctx.status) : undefined) },
  'server_status': { fn: (_a, ctx) => (ctx.serverStatus !== undefined && ctx.serverStatus >= 0 ? smpInt(ctx.serverStatus) : undefined) },
  'unique-id': {
    fn: (_a, ctx) => {
      const id = ctx.uniqueId ?? ctx.stream?.genUniqueId?.();
      return id === undefined ? undefined : smpStr(id);
    },
  },

  // ---- captures ----
  'capture.req.hdr': captureFetch((ctx) => ctx.reqCaptures),
  'capture.res.hdr': captureFetch((ctx) => ctx.resCaptures),
  'capture.req.method': { fn: (_a, ctx) => (ctx.req ? smpStr(ctx.req.method) : undefined) },
  'capture.req.uri': { fn: (_a, ctx) => { const p = ctx.req && uriPathQ(ctx.req.uri); return p === undefined ? undefined : smpStr(p); } },
  'capture.req.ver': { fn: (_a, ctx) => (ctx.req ? smpStr(ctx.req.version) : undefined) },
  'capture.res.ver': { fn: (_a, ctx) => (ctx.res ? smpStr(ctx.res.version) : undefined) },

  // ---- timers (durations in ms, -1 when the event did not happen) ----
  'req.timer.hdr': { fn: (_a, ctx) => (ctx.req ? smpInt(ctx.timers.request) : undefined) },
  'req.timer.idle': { fn: (_a, ctx) => (ctx.req ? smpInt(ctx.timers.idle) : undefined) },
  'req.timer.queue': { fn: (_a, ctx) => smpInt(ctx.timers.queue) },
  'req.timer.tq': {
    fn: (_a, ctx) => {
      if (!ctx.req) return undefined;
      const t = ctx.timers;
      return smpInt(t.request < 0 ? -1 : Math.max(t.handshake, 0) + Math.max(t.idle, 0) + t.request);
    },
  },
  'res.timer.hdr': { fn: (_a, ctx) => (ctx.res ? smpInt(ctx.timers.response) : undefined) },
};

function bodyFetch(src: BodySource): FetchImpl {
  return { fn: (_a, ctx) => { const r = src(ctx); return r ? mark(smpBin(r.b), r.partial) : undefined; } };
}
function bodyLenFetch(src: BodySource): FetchImpl {
  return { fn: (_a, ctx) => { const r = src(ctx); return r ? mark(smpInt(r.b.length), r.partial) : undefined; } };
}
function bodySizeFetch(src: BodySource, hdrs: HdrSource): FetchImpl {
  return {
    fn: (_a, ctx) => {
      const r = src(ctx);
      const h = hdrs(ctx);
      return r && h ? mark(smpInt(bodySize(h, r.b.length)), r.partial) : undefined;
    },
  };
}
function captureFetch(slots: (ctx: SmpCtx) => (string | undefined)[]): FetchImpl {
  return {
    check: (args) => {
      const n = Number(args[0]);
      if (!Number.isInteger(n) || n < 0) return `capture index must be a non-negative integer, got '${args[0]}'`;
      args[0] = n;
      return undefined;
    },
    fn: (args, ctx) => {
      const v = slots(ctx)[args[0]];
      return v === undefined ? undefined : smpStr(v);
    },
  };
}

for (const [name, impl] of Object.entries(defs)) registerFetch(name, impl);
