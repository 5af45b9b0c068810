// HTTP/1.x codec: turns the bytes of a request or response head into the message model of
// htx.ts (and back), and decodes/encodes chunked bodies.
//
// Strictness follows HAProxy 3.2 (configuration.txt, "option accept-unsafe-violations-in-http-
// request" / "-response", "h1-accept-payload-with-any-method", section 1.3/1.4), completed by
// HAProxy's own regression test reg-tests/http-messaging/http_transfer_encoding.vtc and by
// probing the real haproxy 2.6 installed on this machine (the probes are listed next to the
// unit tests in test/unit/h1.test.ts). Summary of the decisions:
//
//  - Head parsing is stateless: each call re-scans the buffer from its start. It returns
//    'incomplete' until the empty line ending the head is there, and reports an error as soon
//    as an invalid byte is seen, even in an incomplete head.
//  - Leading empty lines (CRLF or bare LF) before the start line are skipped; they count in
//    headLength.
//  - Bare LF is accepted as a line ending everywhere (start line, fields, chunk lines), like
//    haproxy; a CR that is not followed by LF is an error.
//  - obs-fold: the CR and LF of the fold are replaced by one space each, in place, and the
//    whitespace that starts the continuation line is kept (haproxy 2.6 forwards
//    "X-A: one\r\n  two" as "x-a: one    two"). A fold on the first field line is an error.
//  - Request versions: "HTTP/" DIGIT "." DIGIT (case-sensitive). 1.0 gives 'HTTP/1.0', any
//    higher version gives 'HTTP/1.1' (haproxy 2.6 accepts "HTTP/2.0" and "HTTP/1.2" on H1 and
//    forwards them as HTTP/1.1); "HTTP/0.9" written out is treated like 1.0 (haproxy 2.6 does).
//    HTTP/0.9 requests without a version are refused with 400, even with acceptUnsafe (the
//    model has no HTTP/0.9). With acceptUnsafe, any upper-case protocol
//    name and several digits are accepted (configuration.txt), mapped the same way.
//  - Responses: same version rule (502 on error); the status is exactly 3 digits, 100..999.
//  - URI: 3.2 default rejects 0-32, '"', '<', '>', '\', '^', '`', '{', '|', '}', 127 and
//    bytes above 127, and fragments ('#'); acceptUnsafe only rejects 0-32 and 127.
//  - Header names: token characters only; whitespace before the colon is always an error
//    (smuggling vector), other invalid bytes (including NUL) are accepted with acceptUnsafe.
//  - Header values: NUL and the other control characters except HTAB (and DEL) are refused
//    (400/502). acceptUnsafe accepts them. NOTE: 3.2's doc only names NUL; haproxy 2.6 lets
//    \x01, \x0b and \x7f through. We follow the stricter rule (RFC 9110 5.5 field-vchar).
//  - Content-Length: comma lists and repeated fields are merged when all the values are equal
//    (the first field is kept, with the single value), refused otherwise; only digits with
//    optional blanks around each element, no empty element, no sign, at most 2^53-1.
//  - Transfer-Encoding (regtest http_transfer_encoding.vtc + haproxy 2.6 probes):
//      request : empty value, "chunked" twice, "chunked" followed by another coding, or a last
//                coding that is not "chunked" -> 400; "chunked" last but another coding before
//                it (e.g. "gzip, chunked") -> 422 (haproxy refuses any coding other than
//                chunked with 422 "Unprocessable Content").
//      response: any of the above -> 502; with acceptUnsafe, an empty value and repeated
//                "chunked" are accepted (configuration.txt, accept-unsafe-...-response).
//    With Transfer-Encoding, every Content-Length field is removed, the body is chunked and
//    clAndTe is set (the connection must then be closed, see
//    "h1-do-not-close-on-insecure-transfer-encoding"). Content-Length fields are validated
//    even then (a broken one is still a 400).
//  - HTTP/1.0 GET/HEAD/DELETE with a body (Content-Length > 0 or chunked) -> 413, unless
//    acceptPayloadWithAnyMethod ("h1-accept-payload-with-any-method"; haproxy 2.6 from Debian
//    answers 413 too). HTTP/1.0 with Transfer-Encoding is otherwise accepted (regtest c2).
//  - Head larger than maxHeadBytes -> 400, or 414 while the request line is not complete.
//    maxHeaders (tune.http.maxhdr) counts the start line: at most maxHeaders - 1 fields, more
//    -> 400 (haproxy 2.6 with maxhdr 101, seen end to end in test/interop/http-interop: 100
//    fields pass, 101 fail).
//  - 1xx and 204 responses: Content-Length and Transfer-Encoding fields are dropped (haproxy
//    does not forward them) and the framing is none.

import { HttpHeaders, type HttpHeader, type HttpRequestHead, type HttpResponseHead, type BodyFraming } from './htx.js';

export interface H1Options {
  /** max bytes of the whole head (start line + headers + final CRLF): tune.bufsize - tune.maxrewrite, default 16384-1024 */
  maxHeadBytes: number;
  /** max number of header fields: tune.http.maxhdr, default 101 */
  maxHeaders: number;
  /** option accept-unsafe-violations-in-http-request / -response (relaxes what HAProxy 3.2 relaxes) */
  acceptUnsafe?: boolean;
  /** global h1-accept-payload-with-any-method: allow HTTP/1.0 GET/HEAD/DELETE with a body (requests only) */
  acceptPayloadWithAnyMethod?: boolean;
}

export const DEFAULT_H1_OPTIONS: Readonly<H1Options> = Object.freeze({ maxHeadBytes: 16384 - 1024, maxHeaders: 101 });

export type H1Error = { state: 'error'; status: number; reason: string; offset: number };
export type H1Incomplete = { state: 'incomplete' };
export type H1RequestResult =
  | H1Incomplete
  | H1Error
  | { state: 'ok'; head: HttpRequestHead; headLength: number; framing: BodyFraming;
      /** the client asked for the connection to be closed after this exchange (HTTP/1.0 without keep-alive, or Connection: close) */
      wantsClose: boolean;
      /** Content-Length and Transfer-Encoding were both present: the length header was removed from head.headers, body is chunked, and the connection must be closed after this message */
      clAndTe: boolean;
      expectContinue: boolean; upgrade: boolean /* Connection: upgrade + Upgrade header */ };
export type H1ResponseResult =
  | H1Incomplete
  | H1Error
  | { state: 'ok'; head: HttpResponseHead; headLength: number; framing: BodyFraming; wantsClose: boolean; clAndTe: boolean };

// ---------------------------------------------------------------------------------------------
// byte classes

const CR = 13, LF = 10, SP = 32, HT = 9, COLON = 58, SEMI = 59;

/** tchar (RFC 9110 5.6.2) */
const TOKEN = new Uint8Array(256);
/** tchar for field names: 1, or 3 for upper-case letters */
const TOKEN_NAME = new Uint8Array(256);
/** bytes that may appear in a header name with acceptUnsafe: anything but CR, LF, ':', SP, HT */
const NAME_RELAXED = new Uint8Array(256);
/** bytes allowed in a field value by default: HTAB, SP, VCHAR, obs-text */
const VALUE_STRICT = new Uint8Array(256);
/** with acceptUnsafe: anything but CR and LF */
const VALUE_RELAXED = new Uint8Array(256);
/** request-target bytes, default (3.2: 0-32, 34, 60, 62, 92, 94, 96, 123-125, 127, >127 refused, '#' too) */
const URI_STRICT = new Uint8Array(256);
/** request-target bytes with acceptUnsafe: only 0-32 and 127 refused */
const URI_RELAXED = new Uint8Array(256);
const HEXVAL = new Int8Array(256).fill(-1);
(() => {
  for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) { TOKEN[c] = 1; TOKEN[c + 32] = 1; }
  for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;
  TOKEN_NAME.set(TOKEN);
  for (let c = 0; c < 256; c++) {
    NAME_RELAXED[c] = c === CR || c === LF || c === COLON || c === SP || c === HT ? 0 : 1;
    VALUE_RELAXED[c] = c === CR || c === LF ? 0 : 1;
    VALUE_STRICT[c] = c === HT || (c >= 0x20 && c !== 0x7f) ? 1 : 0;
    URI_RELAXED[c] = c > 0x20 && c !== 0x7f ? 1 : 0;
    URI_STRICT[c] = c > 0x20 && c < 0x7f ? 1 : 0;
  }
  for (const c of [34, 35, 60, 62, 92, 94, 96, 123, 124, 125]) URI_STRICT[c] = 0;
  // the name tables also tell upper-case letters apart (value 3), so that one lookup per byte
  // says both "valid" and "needs lower-casing"
  for (let c = 0x41; c <= 0x5a; c++) { TOKEN_NAME[c] = 3; NAME_RELAXED[c] = 3; }
  for (let c = 0; c < 10; c++) HEXVAL[0x30 + c] = c;
  for (let c = 0; c < 6; c++) { HEXVAL[0x41 + c] = 10 + c; HEXVAL[0x61 + c] = 10 + c; }
})();

interface Latin1Slicer { latin1Slice(start: number, end: number): string }
/** Decodes bytes [s, e) as latin1 (one char per byte) without the toString() dispatch. */
function str(b: Buffer, s: number, e: number): string {
  return (b as unknown as Latin1Slicer).latin1Slice(s, e);
}

// ---------------------------------------------------------------------------------------------
// shared field-block parser

/** Result flags of a field block (bit set). */
const F_CL = 1, F_TE = 2, F_TE_CHUNKED_LAST = 4, F_TE_OTHER = 8, F_TE_DUP_CHUNKED = 16, F_TE_EMPTY = 32,
  F_TE_AFTER_CHUNKED = 64, F_CONN_CLOSE = 128, F_CONN_KAL = 256, F_CONN_UPG = 512, F_UPGRADE = 1024,
  F_EXPECT_100 = 2048, F_CL_MULTI = 4096;

/** Scratch state of the last field-block parse (the module is used from one thread). */
const scan = {
  flags: 0,
  /** Content-Length value, when F_CL */
  cl: 0,
  /** text of the Content-Length value (digits as received) */
  clText: '',
  errOffset: 0,
  errReason: '',
  /** status to report on an error (0: use the caller's default) */
  errStatus: 0,
};

const INCOMPLETE = -1;
const ERROR = -2;
const TOO_LARGE = -3;

function fail(offset: number, reason: string, status = 0): number {
  scan.errOffset = offset;
  scan.errReason = reason;
  scan.errStatus = status;
  return ERROR;
}

/** Offsets of the scanned fields: name start, name end, value start, value end (4 per field). */
let fieldOffsets = new Int32Array(4 * 128);
/** Per field: 1 = the name has upper-case letters, 2 = the value is folded. */
let fieldBits = new Uint8Array(128);
/** Number of fields found by the last scanFields(). */
let fieldCount = 0;

/**
 * First pass over header fields, from `p` up to and including the empty line that ends them:
 * checks every byte and records where names and values are (fieldOffsets, fieldBits,
 * fieldCount), without making strings. `limit` is where the scan must stop (min of the data
 * and the size limit) and `end` the data end. Returns the position after the final line break,
 * INCOMPLETE, TOO_LARGE or ERROR (details in `scan`).
 */
function scanFields(buf: Buffer, p: number, limit: number, end: number, unsafe: boolean, maxFields: number): number {
  const nameTable = unsafe ? NAME_RELAXED : TOKEN_NAME;
  const valueTable = unsafe ? VALUE_RELAXED : VALUE_STRICT;
  let n = 0;
  fieldCount = 0;
  for (;;) {
    if (p >= limit) return moreOrTooLarge();
    let c = buf[p]!;
    // end of the block
    if (c === CR) {
      if (p + 1 >= limit) return moreOrTooLarge();
      if (buf[p + 1] !== LF) return fail(p + 1, 'CR not followed by LF');
      fieldCount = n;
      return p + 2;
    }
    if (c === LF) { fieldCount = n; return p + 1; }
    if (c === SP || c === HT) return fail(p, n === 0 ? 'folded line without a field before it' : 'invalid field line');
    // name
    const ns = p;
    let upper = 0;
    let t = 0;
    while (p < limit && (t = nameTable[c = buf[p]!]!) !== 0) { upper |= t; p++; }
    if (p >= limit) return moreOrTooLarge();
    if (c !== COLON) {
      if (c === SP || c === HT) return fail(p, 'whitespace between the field name and the colon');
      if (c === CR || c === LF) return fail(p, 'field line without a colon');
      return fail(p, 'invalid character in field name');
    }
    if (p === ns) return fail(p, 'empty field name');
    const ne = p++;
    // value: skip leading blanks
    while (p < limit && ((c = buf[p]!) === SP || c === HT)) p++;
    const vs = p;
    let ve = p; // end of the value without the trailing blanks
    let bits = upper >> 1; // 1 when the name has an upper-case letter
    for (;;) {
      const ls = p;
      while (p < limit && valueTable[c = buf[p]!] === 1) p++;
      if (p >= limit) return moreOrTooLarge();
      // trim the blanks before the line break (a blank continuation line adds nothing)
      let e = p;
      while (e > ls && ((c = buf[e - 1]!) === SP || c === HT)) e--;
      if (e > ls) ve = e;
      c = buf[p]!;
      if (c === CR) {
        if (p + 1 >= limit) return moreOrTooLarge();
        if (buf[p + 1] !== LF) return fail(p + 1, 'CR not followed by LF');
        p += 2;
      } else if (c === LF) {
        p += 1;
      } else {
        return fail(p, c === 0 ? 'NUL character in field value' : 'control character in field value');
      }
      // obs-fold: the next line starts with a blank
      if (p >= limit) return moreOrTooLarge();
      c = buf[p]!;
      if (c !== SP && c !== HT) break;
      bits |= 2;
    }
    // tune.http.maxhdr counts the start line too: at most maxFields - 1 fields
    if (n >= maxFields - 1) return fail(ns, 'too many header fields');
    if (n === fieldBits.length) growFieldArrays();
    const o = n << 2;
    fieldOffsets[o] = ns;
    fieldOffsets[o + 1] = ne;
    fieldOffsets[o + 2] = vs;
    fieldOffsets[o + 3] = ve;
    fieldBits[n++] = bits;
  }
}

function growFieldArrays(): void {
  const offs = new Int32Array(fieldOffsets.length * 2);
  offs.set(fieldOffsets);
  fieldOffsets = offs;
  const bits = new Uint8Array(fieldBits.length * 2);
  bits.set(fieldBits);
  fieldBits = bits;
}

/**
 * Second pass: makes the fields recorded by scanFields() from `text`, the latin1 decoding of
 * the same buffer from offset `base` (decoded once: one native call per head instead of two per
 * field). With `special`, handles Content-Length / Transfer-Encoding / Connection / Upgrade /
 * Expect. Returns 0 or ERROR.
 */
function buildFields(text: string, base: number, list: HttpHeader[], special: boolean): number {
  const n = fieldCount;
  const offs = fieldOffsets;
  for (let i = 0; i < n; i++) {
    const o = i << 2;
    const bits = fieldBits[i]!;
    const name = text.slice(offs[o]! - base, offs[o + 1]! - base);
    const lname = (bits & 1) !== 0 ? name.toLowerCase() : name;
    const vs = offs[o + 2]!, ve = offs[o + 3]!;
    let value = ve > vs ? text.slice(vs - base, ve - base) : '';
    if ((bits & 2) !== 0) value = unfold(value);
    list.push({ name, lname, value });
    if (special) {
      const r = specialField(lname, value, vs);
      if (r !== 0) return r;
    }
  }
  return 0;
}

/**
 * The scan reached `limit` and needs more bytes: final (TOO_LARGE) when the data already fills
 * the size limit, INCOMPLETE otherwise.
 */
function moreOrTooLarge(): number {
  return limitHit ? TOO_LARGE : INCOMPLETE;
}
/** set by the head parsers: true when the data reaches the size limit (so running out is final) */
let limitHit = false;
/** the scan limit of the last head parse (offset reported for a too-large head) */
let lastLimitValue = 0;

/** Value of a folded field: every CR and LF of the folds becomes a space, in place (rare path). */
function unfold(v: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === CR || c === LF) { out += v.slice(from, i) + ' '; from = i + 1; }
  }
  return out + v.slice(from);
}

/** Case-insensitive comparison of value[s, e) with a lower-case literal. */
function eqLower(v: string, s: number, e: number, lit: string): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    let c = v.charCodeAt(s + i);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    if (c !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/** Handles Content-Length, Transfer-Encoding, Connection, Upgrade and Expect; 0 or ERROR. */
function specialField(lname: string, value: string, vs: number): number {
  switch (lname.length) {
    case 14:
      if (lname === 'content-length') return contentLength(value, vs);
      break;
    case 17:
      if (lname === 'transfer-encoding') transferEncoding(value);
      break;
    case 10:
      if (lname === 'connection') connection(value);
      break;
    case 7:
      if (lname === 'upgrade') scan.flags |= F_UPGRADE;
      break;
    case 6:
      if (lname === 'expect' && eqLower(value, 0, value.length, '100-continue')) scan.flags |= F_EXPECT_100;
      break;
  }
  return 0;
}

/** One Content-Length field: a comma list of equal decimal numbers, equal to earlier ones. */
function contentLength(v: string, vs: number): number {
  const n = v.length;
  let i = 0;
  for (;;) {
    while (i < n && (v.charCodeAt(i) === SP || v.charCodeAt(i) === HT)) i++;
    const ds = i;
    let x = 0;
    let c = 0;
    while (i < n && (c = v.charCodeAt(i) - 48) >= 0 && c <= 9) {
      x = x * 10 + c;
      i++;
    }
    if (i === ds) return fail(vs + i, 'invalid Content-Length');
    if (x > Number.MAX_SAFE_INTEGER) return fail(vs + ds, 'Content-Length too large');
    const de = i;
    while (i < n && (v.charCodeAt(i) === SP || v.charCodeAt(i) === HT)) i++;
    if (i < n && v.charCodeAt(i) !== 44) return fail(vs + i, 'invalid Content-Length');
    if (scan.flags & F_CL) {
      if (x !== scan.cl) return fail(vs + ds, 'different Content-Length values');
      scan.flags |= F_CL_MULTI;
    } else {
      scan.flags |= F_CL;
      scan.cl = x;
      scan.clText = de - ds === n ? v : v.slice(ds, de);
    }
    if (i >= n) return 0;
    i++; // comma
    if (i >= n) return fail(vs + i, 'invalid Content-Length');
    scan.flags |= F_CL_MULTI;
  }
}

/**
 * One Transfer-Encoding field: records the codings seen (validated by the caller). Like
 * haproxy, an empty list element counts as an unknown coding (", chunked" -> 422 with haproxy
 * 2.6) except after a trailing comma ("chunked," is accepted).
 */
function transferEncoding(v: string): void {
  scan.flags |= F_TE;
  const n = v.length;
  let i = 0;
  let c = 0;
  while (i < n && ((c = v.charCodeAt(i)) === SP || c === HT)) i++;
  if (i === n) { scan.flags |= F_TE_EMPTY; return; }
  while (i < n) {
    while (i < n && ((c = v.charCodeAt(i)) === SP || c === HT)) i++;
    const s = i;
    while (i < n && v.charCodeAt(i) !== 44) i++;
    let e = i;
    while (e > s && ((c = v.charCodeAt(e - 1)) === SP || c === HT)) e--;
    if (eqLower(v, s, e, 'chunked')) {
      if (scan.flags & (F_TE_CHUNKED_LAST | F_TE_AFTER_CHUNKED)) scan.flags |= F_TE_DUP_CHUNKED;
      scan.flags |= F_TE_CHUNKED_LAST;
    } else {
      if (scan.flags & F_TE_CHUNKED_LAST) scan.flags = (scan.flags & ~F_TE_CHUNKED_LAST) | F_TE_AFTER_CHUNKED;
      scan.flags |= F_TE_OTHER;
    }
    i++; // the comma (a trailing one ends the loop)
  }
}

function connection(v: string): void {
  const n = v.length;
  let i = 0;
  while (i < n) {
    let c = v.charCodeAt(i);
    if (c === SP || c === HT || c === 44) { i++; continue; }
    const s = i;
    while (i < n && (c = v.charCodeAt(i)) !== 44) i++;
    let e = i;
    while (e > s && ((c = v.charCodeAt(e - 1)) === SP || c === HT)) e--;
    const len = e - s;
    if (len === 5 && eqLower(v, s, e, 'close')) scan.flags |= F_CONN_CLOSE;
    else if (len === 10 && eqLower(v, s, e, 'keep-alive')) scan.flags |= F_CONN_KAL;
    else if (len === 7 && eqLower(v, s, e, 'upgrade')) scan.flags |= F_CONN_UPG;
  }
}

function removeField(list: HttpHeader[], lname: string): void {
  let w = 0;
  for (let r = 0; r < list.length; r++) if (list[r]!.lname !== lname) list[w++] = list[r]!;
  list.length = w;
}

/** Keeps only the first Content-Length field, with the single value. */
function mergeContentLength(list: HttpHeader[]): void {
  let w = 0;
  let seen = false;
  for (let r = 0; r < list.length; r++) {
    const h = list[r]!;
    if (h.lname === 'content-length') {
      if (seen) continue;
      seen = true;
      h.value = scan.clText;
    }
    list[w++] = h;
  }
  list.length = w;
}

/**
 * Parses "HTTP/x.y" in buf[s, e). Returns 0 for 1.0, 1 for 1.1 and above, -1 if invalid.
 * Relaxed: any upper-case protocol name and several digits.
 */
function parseVersion(buf: Buffer, s: number, e: number, unsafe: boolean): number {
  let major = 0, minor = 0;
  if (e - s === 8 && buf[s] === 0x48 && buf[s + 1] === 0x54 && buf[s + 2] === 0x54 && buf[s + 3] === 0x50 &&
      buf[s + 4] === 0x2f && buf[s + 6] === 0x2e) {
    major = buf[s + 5]! - 48;
    minor = buf[s + 7]! - 48;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  } else {
    if (!unsafe) return -1;
    let i = s;
    while (i < e && buf[i]! >= 0x41 && buf[i]! <= 0x5a) i++;
    if (i === s || i >= e || buf[i] !== 0x2f) return -1;
    let ds = ++i;
    while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) major = major * 10 + buf[i++]! - 48;
    if (i === ds || i >= e || buf[i] !== 0x2e || major > 0xffff) return -1;
    ds = ++i;
    while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) minor = minor * 10 + buf[i++]! - 48;
    if (i === ds || i !== e || minor > 0xffff) return -1;
  }
  // haproxy 2.6 treats "HTTP/0.9" (with a version) like HTTP/1.0
  return major > 1 || major === 1 && minor >= 1 ? 1 : 0;
}

/** Skips the empty lines allowed before a start line; returns the position or ERROR/INCOMPLETE. */
function skipLeadingEmptyLines(buf: Buffer, limit: number, end: number): number {
  let p = 0;
  while (p < limit) {
    const c = buf[p]!;
    if (c === LF) { p++; continue; }
    if (c !== CR) return p;
    if (p + 1 >= limit) return moreOrTooLarge();
    if (buf[p + 1] !== LF) return fail(p + 1, 'CR not followed by LF');
    p += 2;
  }
  return moreOrTooLarge();
}

/** Finds the end of a start line at p (CR LF or LF). Returns the position after it, INCOMPLETE/TOO_LARGE or ERROR. */
function startLineEol(buf: Buffer, p: number, limit: number, end: number): number {
  if (buf[p] === LF) return p + 1;
  if (p + 1 >= limit) return moreOrTooLarge();
  if (buf[p + 1] !== LF) return fail(p + 1, 'CR not followed by LF');
  return p + 2;
}

function errorResult(status: number, reason: string, offset: number): H1Error {
  return { state: 'error', status, reason, offset };
}

const INCOMPLETE_RESULT: H1Incomplete = Object.freeze({ state: 'incomplete' }) as H1Incomplete;
const FRAMING_NONE: BodyFraming = Object.freeze({ kind: 'none' }) as BodyFraming;
const FRAMING_CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' }) as BodyFraming;
const FRAMING_CLOSE: BodyFraming = Object.freeze({ kind: 'close' }) as BodyFraming;

/**
 * Resets the scan state for a head at the start of a buffer of `end` bytes; returns how far the
 * head may extend (the buffer, or maxHeadBytes when the buffer is longer).
 */
function beginHead(end: number, opts: H1Options): number {
  const max = opts.maxHeadBytes;
  const limit = end < max ? end : max;
  limitHit = end >= max;
  lastLimitValue = limit;
  scan.flags = 0;
  return limit;
}

// ---------------------------------------------------------------------------------------------
// requests

/** Parses a request head at the start of `buf`. */
export function parseRequestHead(buf: Buffer, opts: H1Options): H1RequestResult {
  const end = buf.length;
  const limit = beginHead(end, opts);
  const unsafe = opts.acceptUnsafe === true;

  let p = skipLeadingEmptyLines(buf, limit, end);
  if (p < 0) return reqFailure(p, true);

  // method
  const ms = p;
  let c = 0;
  while (p < limit && TOKEN[c = buf[p]!] === 1) p++;
  if (p >= limit) return reqFailure(moreOrTooLarge(), true);
  if (p === ms) return errorResult(400, 'invalid character at the start of the request line', p);
  if (c !== SP && c !== HT) {
    if (c === CR || c === LF) return errorResult(400, 'HTTP/0.9 request (no URI, no version)', p);
    return errorResult(400, 'invalid character in method', p);
  }
  const me = p;
  while (p < limit && ((c = buf[p]!) === SP || c === HT)) p++;
  // request target
  const us = p;
  const uriTable = unsafe ? URI_RELAXED : URI_STRICT;
  while (p < limit && uriTable[c = buf[p]!] === 1) p++;
  if (p >= limit) return reqFailure(moreOrTooLarge(), true);
  if (c !== SP && c !== HT) {
    if (c === CR || c === LF) return errorResult(400, p === us ? 'missing URI' : 'HTTP/0.9 request (no version)', p);
    if (c === 0x23) return errorResult(400, 'fragment in URI', p);
    return errorResult(400, 'invalid character in URI', p);
  }
  const ue = p;
  while (p < limit && ((c = buf[p]!) === SP || c === HT)) p++;
  // version
  const vs = p;
  while (p < limit && (c = buf[p]!) > 0x20 && c < 0x7f) p++;
  if (p >= limit) return reqFailure(moreOrTooLarge(), true);
  if (c !== CR && c !== LF) return errorResult(400, 'invalid character in version', p);
  if (p === vs) return errorResult(400, 'HTTP/0.9 request (no version)', p);
  const minor = parseVersion(buf, vs, p, unsafe);
  if (minor < 0) return errorResult(400, 'invalid HTTP version', vs);
  p = startLineEol(buf, p, limit, end);
  if (p < 0) return reqFailure(p, true);

  // fields
  p = scanFields(buf, p, limit, end, unsafe, opts.maxHeaders);
  if (p < 0) return reqFailure(p, false);
  const text = str(buf, ms, p);
  const list: HttpHeader[] = [];
  if (buildFields(text, ms, list, true) !== 0) return reqFailure(ERROR, false);

  const f = scan.flags;
  const method = text.slice(0, me - ms);
  let framing: BodyFraming = FRAMING_NONE;
  let clAndTe = false;
  if (f & F_TE) {
    if (f & F_TE_EMPTY) return errorResult(400, 'empty Transfer-Encoding', ms);
    if (f & F_TE_DUP_CHUNKED) return errorResult(400, 'chunked applied twice', ms);
    if (!(f & F_TE_CHUNKED_LAST)) return errorResult(400, 'chunked is not the final transfer coding', ms);
    if (f & F_TE_OTHER) return errorResult(422, 'unsupported transfer coding', ms);
    if (f & F_CL) { removeField(list, 'content-length'); clAndTe = true; }
    framing = FRAMING_CHUNKED;
  } else if (f & F_CL) {
    if (f & F_CL_MULTI) mergeContentLength(list);
    framing = { kind: 'length', length: scan.cl };
  }
  if (minor === 0 && !opts.acceptPayloadWithAnyMethod &&
      (framing === FRAMING_CHUNKED || framing.kind === 'length' && framing.length > 0) &&
      (method === 'GET' || method === 'HEAD' || method === 'DELETE')) {
    return errorResult(413, 'HTTP/1.0 GET/HEAD/DELETE request with a payload', ms);
  }
  const uri = text.slice(us - ms, ue - ms);
  const upgrade = (f & (F_CONN_UPG | F_UPGRADE)) === (F_CONN_UPG | F_UPGRADE);
  if (!unsafe) {
    const bad = checkRequestSemantics(method, uri, list, upgrade);
    if (bad) return errorResult(400, bad, ms);
  }
  return {
    state: 'ok',
    head: { method, uri: method === 'CONNECT' ? uri : normalizeDefaultPort(uri, list), version: minor === 0 ? 'HTTP/1.0' : 'HTTP/1.1', headers: new HttpHeaders(list) },
    headLength: p,
    framing,
    wantsClose: (f & F_CONN_CLOSE) !== 0 || (minor === 0 && (f & F_CONN_KAL) === 0),
    clAndTe,
    expectContinue: minor === 1 && (f & F_EXPECT_100) !== 0,
    upgrade,
  };
}

/**
 * The checks `option accept-unsafe-violations-in-http-request` turns off beyond the syntax
 * (configuration.txt): the authority of an absolute-form URI must match the Host header, a
 * CONNECT must name a host and a port, and a WebSocket upgrade must carry a valid
 * Sec-WebSocket-Key (16 bytes in base64). Returns the reason of a refusal, or undefined.
 */
function checkRequestSemantics(method: string, uri: string, list: HttpHeader[], upgrade: boolean): string | undefined {
  let host: string | undefined;
  let hosts = 0;
  for (const h of list) if (h.lname === 'host') { host = h.value; hosts++; }
  if (method === 'CONNECT') {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:/?#@\[\]]+):(\d{1,5})$/.exec(uri);
    if (!m || Number(m[2]) > 65535) return 'invalid authority in CONNECT request';
  } else if (uri.charCodeAt(0) !== 0x2f && uri !== '*') {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
    if (m) {
      const authority = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
      if (hosts === 1 && host!.toLowerCase() !== authority.toLowerCase()) return 'authority does not match the Host header';
    }
  }
  if (upgrade) {
    let ws = false;
    for (const h of list) if (h.lname === 'upgrade' && /(^|,)\s*websocket\s*(,|$)/i.test(h.value)) ws = true;
    if (ws) {
      let key: string | undefined;
      for (const h of list) if (h.lname === 'sec-websocket-key') key = h.value;
      if (key === undefined || !/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key.trim())) return 'WebSocket upgrade without a valid Sec-WebSocket-Key';
    }
  }
  return undefined;
}

/**
 * Scheme-based normalisation of an absolute-form target, as HAProxy's H1 parser does: the port
 * of `http://host:80/...` and `https://host:443/...` (or an empty port) is dropped from the
 * target and from the Host header. Other request forms, CONNECT included, are left as they are.
 * Returns the target to forward; Host fields are changed in `list`.
 */
function normalizeDefaultPort(uri: string, list: HttpHeader[]): string {
  const c0 = uri.charCodeAt(0) | 0x20;
  if (c0 !== 0x68) return uri; // 'h'
  const m = /^(https?):\/\/([^/?#]*)/i.exec(uri);
  if (!m) return uri;
  const def = m[1]!.length === 5 ? '443' : '80';
  const auth = m[2]!;
  const stripped = stripDefaultPort(auth, def);
  if (stripped === auth) return uri;
  for (const h of list) if (h.lname === 'host') h.value = stripDefaultPort(h.value, def);
  return uri.slice(0, m[1]!.length + 3) + stripped + uri.slice(m[0].length);
}

/** `host:port` without the port when it is `def` or empty (IPv6 literals in brackets kept whole). */
function stripDefaultPort(authority: string, def: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.indexOf(']', colon) >= 0) return authority;
  const port = authority.slice(colon + 1);
  return port === '' || port === def ? authority.slice(0, colon) : authority;
}

function reqFailure(code: number, inStartLine: boolean): H1RequestResult {
  if (code === INCOMPLETE) return INCOMPLETE_RESULT;
  if (code === TOO_LARGE) {
    return inStartLine ? errorResult(414, 'request line too long', lastLimitValue) : errorResult(400, 'request head too large', lastLimitValue);
  }
  return errorResult(scan.errStatus || 400, scan.errReason, scan.errOffset);
}

// ---------------------------------------------------------------------------------------------
// responses

/** Parses a response head at the start of `buf`; reqMethod is the method of the request it answers. */
export function parseResponseHead(buf: Buffer, reqMethod: string, opts: H1Options): H1ResponseResult {
  const end = buf.length;
  const limit = beginHead(end, opts);
  const unsafe = opts.acceptUnsafe === true;

  let p = skipLeadingEmptyLines(buf, limit, end);
  if (p < 0) return respFailure(p);
  // version
  const vs = p;
  let c = 0;
  while (p < limit && (c = buf[p]!) > 0x20 && c < 0x7f) p++;
  if (p >= limit) return respFailure(moreOrTooLarge());
  if (c !== SP && c !== HT) return errorResult(502, 'invalid status line', p);
  const minor = parseVersion(buf, vs, p, unsafe);
  if (minor < 0) return errorResult(502, 'invalid HTTP version', vs);
  while (p < limit && ((c = buf[p]!) === SP || c === HT)) p++;
  // status: exactly 3 digits
  const ss = p;
  let status = 0;
  while (p < limit && (c = buf[p]! - 48) >= 0 && c <= 9 && p - ss < 3) { status = status * 10 + c; p++; }
  if (p >= limit) return respFailure(moreOrTooLarge());
  c = buf[p]!;
  if (p - ss !== 3 || status < 100 || (c !== SP && c !== HT && c !== CR && c !== LF)) {
    return errorResult(502, 'invalid status code', p - ss !== 3 || status >= 100 ? p : ss);
  }
  // reason
  while (p < limit && ((c = buf[p]!) === SP || c === HT)) p++;
  const rs = p;
  let re = p;
  const valueTable = unsafe ? VALUE_RELAXED : VALUE_STRICT;
  while (p < limit && valueTable[c = buf[p]!] === 1) { p++; if (c !== SP && c !== HT) re = p; }
  if (p >= limit) return respFailure(moreOrTooLarge());
  if (c !== CR && c !== LF) return errorResult(502, 'invalid character in reason', p);
  p = startLineEol(buf, p, limit, end);
  if (p < 0) return respFailure(p);

  p = scanFields(buf, p, limit, end, unsafe, opts.maxHeaders);
  if (p < 0) return respFailure(p);
  const text = str(buf, vs, p);
  const list: HttpHeader[] = [];
  if (buildFields(text, vs, list, true) !== 0) return respFailure(ERROR);

  const f = scan.flags;
  let framing: BodyFraming;
  let clAndTe = false;
  if (status < 200 || status === 204) {
    // no body, and haproxy does not forward the length fields of these responses
    if (f & F_CL) removeField(list, 'content-length');
    if (f & F_TE) removeField(list, 'transfer-encoding');
    framing = FRAMING_NONE;
  } else {
    framing = FRAMING_CLOSE;
    if (f & F_TE) {
      if ((f & F_TE_EMPTY) && !unsafe) return errorResult(502, 'empty Transfer-Encoding', vs);
      if ((f & F_TE_DUP_CHUNKED) && !unsafe) return errorResult(502, 'chunked applied twice', vs);
      if (f & F_TE_AFTER_CHUNKED) return errorResult(502, 'chunked is not the final transfer coding', vs);
      if (f & F_TE_OTHER) return errorResult(502, 'unsupported transfer coding', vs);
      if (f & F_TE_CHUNKED_LAST) framing = FRAMING_CHUNKED;
      else if (!(f & F_TE_EMPTY)) return errorResult(502, 'chunked is not the final transfer coding', vs);
      else removeField(list, 'transfer-encoding'); // empty TE tolerated by acceptUnsafe: ignored
      if (f & F_CL) {
        removeField(list, 'content-length');
        clAndTe = true;
      }
    } else if (f & F_CL) {
      if (f & F_CL_MULTI) mergeContentLength(list);
      framing = { kind: 'length', length: scan.cl };
    }
    if (status === 304 || reqMethod === 'HEAD' || (reqMethod === 'CONNECT' && status < 300)) framing = FRAMING_NONE;
  }
  return {
    state: 'ok',
    head: {
      version: minor === 0 ? 'HTTP/1.0' : 'HTTP/1.1',
      status,
      reason: re > rs ? text.slice(rs - vs, re - vs) : '',
      headers: new HttpHeaders(list),
    },
    headLength: p,
    framing,
    wantsClose: (f & F_CONN_CLOSE) !== 0 || (minor === 0 && (f & F_CONN_KAL) === 0),
    clAndTe,
  };
}

function respFailure(code: number): H1ResponseResult {
  if (code === INCOMPLETE) return INCOMPLETE_RESULT;
  if (code === TOO_LARGE) return errorResult(502, 'response head too large', lastLimitValue);
  return errorResult(502, scan.errReason, scan.errOffset);
}

// ---------------------------------------------------------------------------------------------
// chunked bodies

const enum CS {
  SIZE_START, SIZE, SIZE_BLANK, EXT, SIZE_CR, DATA, DATA_CR, DATA_LF,
  TRAILER_LINE_START, TRAILER_LINE_START_CR, TRAILER_LINE, DONE, FAILED,
}

const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

export interface ChunkedPushResult {
  /** decoded payload (views into the pushed buffer) */
  data: Buffer[];
  /** the last chunk, the trailers and the final CRLF have been consumed */
  done: boolean;
  /** bytes of the pushed buffer that belong to the body */
  consumed: number;
  /** trailer fields (only with done, and only when there were some) */
  trailers?: HttpHeaders;
  /** invalid framing; offset counts from the first byte of the chunked body */
  error?: { reason: string; offset: number };
}

/** Incremental chunked-body decoder. push() may be called with arbitrary splits of the input (including 1 byte at a time). */
export class ChunkedDecoder {
  private state = CS.SIZE_START;
  private size = 0;
  private remaining = 0;
  /** bytes of the current chunk-size line (digits + extensions) */
  private lineBytes = 0;
  /** bytes of the body consumed by previous pushes (for error offsets) */
  private base = 0;
  private trailerParts: Buffer[] = [];
  private trailerBytes = 0;
  /** body offset of the first trailer byte */
  private trailerStart = 0;
  private readonly maxTrailerBytes: number;
  private readonly maxTrailers: number;
  private readonly maxLineBytes: number;
  private readonly acceptUnsafe: boolean;
  private failure: { reason: string; offset: number } | undefined;

  constructor(opts?: { maxTrailerBytes?: number; maxTrailers?: number; maxLineBytes?: number; acceptUnsafe?: boolean }) {
    this.maxTrailerBytes = opts?.maxTrailerBytes ?? 16384 - 1024;
    this.maxTrailers = opts?.maxTrailers ?? 101;
    this.maxLineBytes = opts?.maxLineBytes ?? 16384 - 1024;
    this.acceptUnsafe = opts?.acceptUnsafe === true;
  }

  /** Total bytes consumed so far. */
  get bytesConsumed(): number { return this.base; }
  get done(): boolean { return this.state === CS.DONE; }

  push(buf: Buffer): ChunkedPushResult {
    const data: Buffer[] = [];
    const n = buf.length;
    let p = 0;
    let st = this.state;
    if (st === CS.FAILED) return { data, done: false, consumed: 0, error: this.failure! };
    while (p < n && st !== CS.DONE) {
      const c = buf[p]!;
      switch (st) {
        case CS.SIZE_START: {
          const h = HEXVAL[c]!;
          if (h < 0) return this.error(data, p, 'invalid chunk size');
          this.size = h;
          this.lineBytes = 1;
          st = CS.SIZE;
          p++;
          break;
        }
        case CS.SIZE: {
          const h = HEXVAL[c]!;
          if (h >= 0) {
            const v = this.size * 16 + h;
            if (v > MAX_CHUNK_SIZE) return this.error(data, p, 'chunk size too large');
            this.size = v;
            p++;
            if (++this.lineBytes > this.maxLineBytes) return this.error(data, p, 'chunk size line too long');
            break;
          }
          st = CS.SIZE_BLANK;
          break;
        }
        case CS.SIZE_BLANK:
          // after the digits: optional blanks, then ';' extensions or the end of the line
          if (c === SP || c === HT) { p++; if (++this.lineBytes > this.maxLineBytes) return this.error(data, p, 'chunk size line too long'); break; }
          if (c === SEMI) { p++; st = CS.EXT; break; }
          if (c === CR) { p++; st = CS.SIZE_CR; break; }
          if (c === LF) { p++; st = this.afterSizeLine(p); break; }
          return this.error(data, p, 'invalid chunk size');
        case CS.EXT:
          // extensions are ignored up to the end of the line (haproxy 2.6 lets even control
          // bytes through there); a CR must still be followed by LF
          if (c === CR) { p++; st = CS.SIZE_CR; break; }
          if (c === LF) { p++; st = this.afterSizeLine(p); break; }
          p++;
          if (++this.lineBytes > this.maxLineBytes) return this.error(data, p, 'chunk size line too long');
          break;
        case CS.SIZE_CR:
          if (c !== LF) return this.error(data, p, 'CR not followed by LF');
          p++;
          st = this.afterSizeLine(p);
          break;
        case CS.DATA: {
          const avail = n - p;
          const take = avail < this.remaining ? avail : this.remaining;
          data.push(p === 0 && take === n ? buf : buf.subarray(p, p + take));
          p += take;
          this.remaining -= take;
          if (this.remaining === 0) st = CS.DATA_CR;
          break;
        }
        case CS.DATA_CR:
          if (c === CR) { p++; st = CS.DATA_LF; break; }
          if (c === LF) { p++; st = CS.SIZE_START; break; }
          return this.error(data, p, 'missing CRLF after chunk data');
        case CS.DATA_LF:
          if (c !== LF) return this.error(data, p, 'missing CRLF after chunk data');
          p++;
          st = CS.SIZE_START;
          break;
        case CS.TRAILER_LINE_START:
          if (c === CR) { p++; st = CS.TRAILER_LINE_START_CR; break; }
          if (c === LF) { p++; st = CS.DONE; break; }
          st = CS.TRAILER_LINE;
          break;
        case CS.TRAILER_LINE_START_CR:
          if (c !== LF) return this.error(data, p, 'CR not followed by LF');
          p++;
          st = CS.DONE;
          break;
        case CS.TRAILER_LINE: {
          // copy the trailer section up to the end of this line
          const lf = buf.indexOf(LF, p);
          const stop = lf < 0 ? n : lf + 1;
          if (this.trailerBytes + (stop - p) > this.maxTrailerBytes) return this.error(data, p, 'trailers too large');
          this.trailerParts.push(buf.subarray(p, stop));
          this.trailerBytes += stop - p;
          p = stop;
          if (lf >= 0) st = CS.TRAILER_LINE_START;
          break;
        }
      }
    }
    this.state = st;
    this.base += p;
    if (st !== CS.DONE) return { data, done: false, consumed: p };
    if (this.trailerBytes === 0) return { data, done: true, consumed: p };
    // parse the trailer section (terminated by an empty line, added here)
    const block = Buffer.concat([...this.trailerParts, CRLF_BUF]);
    this.trailerParts = [];
    this.trailerBytes = 0;
    const list: HttpHeader[] = [];
    limitHit = false;
    let r = scanFields(block, 0, block.length, block.length, this.acceptUnsafe, this.maxTrailers + 1); // no start line in a trailer section
    if (r >= 0) r = buildFields(str(block, 0, block.length), 0, list, false);
    if (r < 0) {
      this.state = CS.FAILED;
      this.failure = { reason: r === ERROR ? scan.errReason : 'invalid trailers', offset: this.trailerStart + (r === ERROR ? scan.errOffset : 0) };
      return { data, done: false, consumed: p, error: this.failure };
    }
    return { data, done: true, consumed: p, trailers: new HttpHeaders(list) };
  }

  /** End of a chunk-size line; p is the position after it in the current buffer. */
  private afterSizeLine(p: number): CS {
    if (this.size === 0) {
      this.trailerBytes = 0;
      this.trailerStart = this.base + p;
      return CS.TRAILER_LINE_START;
    }
    this.remaining = this.size;
    return CS.DATA;
  }

  private error(data: Buffer[], p: number, reason: string): ChunkedPushResult {
    this.state = CS.FAILED;
    this.failure = { reason, offset: this.base + p };
    this.base += p;
    return { data, done: false, consumed: p, error: this.failure };
  }
}

// ---------------------------------------------------------------------------------------------
// serialisation

/**
 * Header fields for the wire. Like HAProxy (whose internal representation keeps only lower-case
 * names, see `h1-case-adjust` in configuration.txt), names are sent in lower case.
 */
function fieldsText(headers: HttpHeaders, names?: ReadonlyMap<string, string>): string {
  let s = '';
  const l = headers.list;
  if (names && names.size) {
    for (let i = 0; i < l.length; i++) { const h = l[i]!; s += (names.get(h.lname) ?? h.lname) + ': ' + h.value + '\r\n'; }
    return s;
  }
  for (let i = 0; i < l.length; i++) { const h = l[i]!; s += h.lname + ': ' + h.value + '\r\n'; }
  return s;
}

/** Serialises a request head for the wire (start line, headers in order, names in lower case or as `names` maps them, CRLF CRLF). */
export function formatRequestHead(head: HttpRequestHead, names?: ReadonlyMap<string, string>): Buffer {
  return Buffer.from(head.method + ' ' + head.uri + ' ' + head.version + '\r\n' + fieldsText(head.headers, names) + '\r\n', 'latin1');
}

export function formatResponseHead(head: HttpResponseHead, names?: ReadonlyMap<string, string>): Buffer {
  return Buffer.from(head.version + ' ' + head.status + ' ' + head.reason + '\r\n' + fieldsText(head.headers, names) + '\r\n', 'latin1');
}

const CRLF_BUF = Buffer.from('\r\n');

/** One chunk for a chunked body (size in hex, CRLF, data, CRLF); empty input gives nothing. */
export function encodeChunk(data: Buffer): Buffer[] {
  if (data.length === 0) return [];
  // upper-case hex, no leading zeros, as HAProxy writes chunk sizes
  return [Buffer.from(data.length.toString(16).toUpperCase() + '\r\n', 'latin1'), data, CRLF_BUF];
}

/** The last chunk with optional trailers: "0\r\n" + trailers + "\r\n". */
export function encodeLastChunk(trailers?: HttpHeaders): Buffer {
  return Buffer.from('0\r\n' + (trailers ? fieldsText(trailers) : '') + '\r\n', 'latin1');
}
