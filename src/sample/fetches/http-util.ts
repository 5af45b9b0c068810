// Text helpers for the layer-7 fetches (configuration.txt 7.3.6): request-target parts, header
// value lists, cookies, URL/body parameters and HAProxy's lenient number parsing. Every helper
// works on strings holding one char per byte (latin1), as header values are kept.

/** True for SP and HT. */
function isSpHt(c: number): boolean { return c === 0x20 || c === 0x09; }

function isAlpha(c: number): boolean { return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); }
function isAlnum(c: number): boolean { return isAlpha(c) || (c >= 0x30 && c <= 0x39); }

/**
 * Where the path starts in a request target: origin-form starts with it; absolute-form has it
 * after `scheme://authority`; authority-form (CONNECT) and `*` have none (-1).
 */
export function pathStart(uri: string): number {
  const n = uri.length;
  if (n === 0) return -1;
  const c0 = uri.charCodeAt(0);
  if (c0 === 0x2f) return 0;
  if (c0 === 0x2a) return -1;
  let p = 0;
  if (isAlpha(c0)) {
    // a scheme (letters, digits, + - .) followed by "://", else the whole is an authority
    p = 1;
    while (p < n) {
      const c = uri.charCodeAt(p);
      if (isAlnum(c) || c === 0x2b || c === 0x2d || c === 0x2e) p++;
      else break;
    }
    if (p < n && uri.charCodeAt(p) === 0x3a) {
      p++;
      if (p < n && uri.charCodeAt(p) === 0x2f) {
        p++;
        if (p < n && uri.charCodeAt(p) === 0x2f) p++;
      }
    }
  }
  // skip the authority up to the first slash
  const s = uri.indexOf('/', p);
  return s;
}

/** The path without the query string, or undefined when the target has no path. */
export function uriPath(uri: string): string | undefined {
  const s = pathStart(uri);
  if (s < 0) return undefined;
  const q = uri.indexOf('?', s);
  return q < 0 ? (s === 0 ? uri : uri.slice(s)) : uri.slice(s, q);
}

/** The path with the query string, or undefined when the target has no path. */
export function uriPathQ(uri: string): string | undefined {
  const s = pathStart(uri);
  if (s < 0) return undefined;
  return s === 0 ? uri : uri.slice(s);
}

/* ---- HAProxy's string to int conversion used by the *_val fetches ---- */

/**
 * Reads a leading decimal number the lenient way HAProxy does for hdr_val, cook_val and urlp_val:
 * an optional '-', then characters until one above '9' is met; characters below '0' are taken
 * as negative digits (so "7.5" reads as 68); the result wraps as a 32-bit signed int.
 */
export function lenientInt(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  let i = 0;
  if (s.charCodeAt(0) !== 0x2d) {
    for (let p = 0; p < n; p++) {
      const j = s.charCodeAt(p) - 48;
      if (j > 9) break;
      i = (Math.imul(i, 10) + j) | 0;
    }
  } else {
    for (let p = 1; p < n; p++) {
      const j = s.charCodeAt(p) - 48;
      if (j > 9) break;
      i = (Math.imul(i, 10) - j) | 0;
    }
  }
  return i;
}

/* ---- IPv4 prefix of a text (as used for URLs and header addresses) ---- */

/**
 * Parses a dotted quad at the start of `s` (from `at`); returns the number of characters used
 * and the address, or 0 when there is none. Parsing stops at the first character that is
 * neither a digit nor a dot.
 */
export function ipv4Prefix(s: string, at: number, out: { v: number }): number {
  let octets = 0;
  let cur = 0;
  let saw = false;
  let acc = 0;
  let p = at;
  for (; p < s.length; p++) {
    const c = s.charCodeAt(p);
    if (c >= 0x30 && c <= 0x39) {
      if (!saw) {
        if (++octets > 4) return 0;
        saw = true;
        cur = 0;
      }
      cur = cur * 10 + (c - 48);
      if (cur > 255) return 0;
    } else if (c === 0x2e) {
      if (!saw || octets === 4) return 0;
      acc = acc * 256 + cur;
      saw = false;
    } else {
      break;
    }
  }
  if (octets < 4) return 0;
  out.v = (acc * 256 + cur) >>> 0;
  return p - at;
}

/**
 * The IPv4 address and port of an absolute http:// or https:// URL whose host is a dotted quad
 * (the port defaults to the scheme's), or undefined.
 */
export function urlIpv4(uri: string): { ip: number; port: number } | undefined {
  const sep = uri.indexOf('://');
  if (sep < 0) return undefined;
  const scheme = uri.slice(0, sep).toLowerCase();
  let port: number;
  if (scheme === 'http') port = 80;
  else if (scheme === 'https') port = 443;
  else return undefined;
  let p = sep + 3;
  const out = { v: 0 };
  const used = ipv4Prefix(uri, p, out);
  if (!used) return undefined;
  p += used;
  if (p < uri.length && uri.charCodeAt(p) === 0x3a) {
    p++;
    let v = 0;
    while (p < uri.length) {
      const c = uri.charCodeAt(p);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 48);
      p++;
    }
    port = v & 0xffff;
  }
  return { ip: out.v, port };
}

/* ---- header value lists ---- */

/**
 * Calls `cb` with every comma-separated element of a header value, trimmed of spaces and tabs;
 * commas inside double quotes (with backslash escapes) do not separate. Stops when cb returns true.
 */
export function forEachValue(v: string, cb: (s: string) => boolean | void): boolean {
  const n = v.length;
  let start = 0;
  for (;;) {
    let p = start;
    let quoted = false;
    let esc = false;
    for (; p < n; p++) {
      const c = v.charCodeAt(p);
      if (esc) esc = false;
      else if (quoted) {
        if (c === 0x5c) esc = true;
        else if (c === 0x22) quoted = false;
      } else if (c === 0x22) quoted = true;
      else if (c === 0x2c) break;
    }
    let s = start, e = p;
    while (s < e && isSpHt(v.charCodeAt(s))) s++;
    while (e > s && isSpHt(v.charCodeAt(e - 1))) e--;
    if (cb(s === 0 && e === n ? v : v.slice(s, e))) return true;
    if (p >= n) return false;
    start = p + 1;
  }
}

/** True when a header value contains a comma (fast path check for single-element values). */
export function hasComma(v: string): boolean { return v.indexOf(',') >= 0; }

/* ---- cookies ---- */

/** Where a cookie value ends: at ',' or ';' outside double quotes. */
function cookieValueEnd(v: string, p: number): number {
  let quoted = false;
  let esc = false;
  for (; p < v.length; p++) {
    const c = v.charCodeAt(p);
    if (esc) esc = false;
    else if (quoted) {
      if (c === 0x5c) esc = true;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x2c || c === 0x3b) return p;
  }
  return p;
}

/**
 * Calls `cb(name, value)` for every `name=value` pair of a Cookie or Set-Cookie header value,
 * in order. Pairs are separated by ';' or ','; spaces around names and values are ignored;
 * values may be quoted; names starting with '$' and elements without '=' are skipped. Stops
 * when cb returns true.
 */
export function forEachCookie(v: string, cb: (name: string, value: string) => boolean | void): boolean {
  const n = v.length;
  let p = 0;
  while (p < n) {
    while (p < n && isSpHt(v.charCodeAt(p))) p++;
    const ab = p;
    let ae = p;
    let eq = p;
    while (eq < n) {
      const c = v.charCodeAt(eq);
      if (c === 0x3d || c === 0x3b || c === 0x2c) break;
      eq++;
      if (!isSpHt(c)) ae = eq;
    }
    let next: number;
    let hasEq = false;
    let vb = eq, ve = eq;
    if (eq < n && v.charCodeAt(eq) === 0x3d) {
      hasEq = true;
      vb = eq + 1;
      while (vb < n && isSpHt(v.charCodeAt(vb))) vb++;
      next = cookieValueEnd(v, vb);
      ve = next;
      while (ve > vb && isSpHt(v.charCodeAt(ve - 1))) ve--;
    } else {
      next = eq;
    }
    if (hasEq && !(ab < n && v.charCodeAt(ab) === 0x24)) {
      if (cb(v.slice(ab, ae), v.slice(vb, ve))) return true;
    }
    p = next + 1;
  }
  return false;
}

/* ---- URL and body parameters ---- */

function isParamDelim(c: number, delim: number): boolean { return c === 0x26 || c === 0x3b || c === delim; }

function sameName(s: string, at: number, name: string, ci: boolean): boolean {
  if (!ci) return s.startsWith(name, at);
  for (let i = 0; i < name.length; i++) {
    let a = s.charCodeAt(at + i), b = name.charCodeAt(i);
    if (a >= 0x41 && a <= 0x5a) a += 32;
    if (b >= 0x41 && b <= 0x5a) b += 32;
    if (a !== b) return false;
  }
  return true;
}

/**
 * Finds the next parameter value in s[pos, end): with a name, the value of the next
 * `name=` found at the start of a parameter; without one, the text after the next '='.
 * Parameters end at '&', ';' or `delim` (a char code). Returns [valueStart, valueEnd] or undefined;
 * the search for the following one continues at valueEnd.
 */
export function nextParam(s: string, pos: number, end: number, name: string, delim: number, ci: boolean): [number, number] | undefined {
  const nl = name.length;
  let vs: number;
  if (nl === 0) {
    const eq = s.indexOf('=', pos);
    if (eq < 0 || eq >= end) return undefined;
    vs = eq + 1;
  } else {
    let p = pos;
    let found = -1;
    while (p < end) {
      if (p + nl >= end) return undefined;
      if (s.charCodeAt(p + nl) === 0x3d) {
        if (sameName(s, p, name, ci)) { found = p; break; }
        p += nl + 1;
      }
      while (p < end && !isParamDelim(s.charCodeAt(p), delim)) p++;
      if (p >= end) return undefined;
      p++;
    }
    if (found < 0) return undefined;
    vs = found + nl + 1;
  }
  let ve = vs;
  while (ve < end && !isParamDelim(s.charCodeAt(ve), delim)) ve++;
  return [vs, ve];
}

/* ---- SPOE variable-length integers (req.hdrs_bin) ---- */

/** Bytes needed to encode n. */
export function varintLen(n: number): number {
  if (n < 240) return 1;
  let len = 1;
  n = Math.floor((n - 240) / 16);
  while (n >= 128) { len++; n = Math.floor((n - 128) / 128); }
  return len + 1;
}

/** Writes n at b[p]; returns the position after it. */
export function writeVarint(b: Buffer, p: number, n: number): number {
  if (n < 240) { b[p] = n; return p + 1; }
  b[p++] = (n & 0xff) | 240;
  n = Math.floor((n - 240) / 16);
  while (n >= 128) {
    b[p++] = (n & 0xff) | 128;
    n = Math.floor((n - 128) / 128);
  }
  b[p++] = n;
  return p;
}
