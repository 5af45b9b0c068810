// Extraction of the hashing input ("key") for the hash-based algorithms, from
// plain request data, reproducing which bytes HAProxy feeds to its hash
// function. Every helper returns null when the input is absent, in which case
// the balancer falls back to round robin as documented.

import { isIPv4, isIPv6 } from 'node:net';
import type { BalanceConfig } from './config.js';

/** Text to bytes: latin1 when every char fits in a byte (raw wire bytes), UTF-8 otherwise. */
export function textBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  }
  return Buffer.from(s, 'latin1');
}

export interface UriKeyOptions {
  /** only consider that many characters at the beginning (0/undefined: no limit) */
  len?: number;
  /** maximum directory depth: stop before the (depth+1)-th slash (0/undefined: no limit) */
  depth?: number;
  /** include the query string (otherwise stop at the first '?') */
  whole?: boolean;
  /** start at the path: drop the scheme and authority of absolute URIs */
  pathOnly?: boolean;
}

/**
 * The path of a request target: origin-form is returned as is, absolute-form
 * loses its "scheme://authority" part, other forms ("*", authority-form) have
 * no path and give "".
 */
export function uriPath(uri: string): string {
  if (uri.startsWith('/')) return uri;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri);
  if (!m) return '';
  const rest = m[0].length;
  for (let i = rest; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x2f /* / */) return uri.slice(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) return '';
  }
  return '';
}

/** Key for `balance uri [len N] [depth N] [whole] [path-only]`. */
export function uriKey(uri: string, opts: UriKeyOptions = {}): Uint8Array {
  let u = opts.pathOnly ? uriPath(uri) : uri;
  if (opts.len && opts.len > 0 && u.length > opts.len) u = u.slice(0, opts.len);
  const stopAt = opts.depth && opts.depth > 0 ? opts.depth + 1 : 0;
  let slashes = 0;
  let end = 0;
  for (; end < u.length; end++) {
    const c = u.charCodeAt(end);
    if (c === 0x2f) {
      slashes++;
      if (slashes === stopAt) break;
    } else if (c === 0x3f && !opts.whole) {
      break;
    }
  }
  return textBytes(u.slice(0, end));
}

/**
 * Looks for `<param>=` (case-sensitive name) among the '&'-separated
 * parameters of `text`, and returns the value up to the next '&' or the end.
 * An empty value is returned as an empty key (HAProxy hashes it too).
 * `tokenOnly` enables the body-specific rule: the value ends at a blank and
 * the lookup is abandoned on any non-token byte.
 */
function findParam(text: Uint8Array, name: Uint8Array, tokenOnly: boolean): Uint8Array | null {
  const plen = name.length;
  let pos = 0;
  while (text.length - pos > plen) {
    if (text[pos + plen] === 0x3d /* = */ && matches(text, pos, name)) {
      const start = pos + plen + 1;
      let end = start;
      while (end < text.length && text[end] !== 0x26 /* & */) {
        if (tokenOnly && !isTokenChar(text[end]!)) {
          if (text[end] === 0x20 || text[end] === 0x09 || text[end] === 0x0d || text[end] === 0x0a) break;
          return null;
        }
        end++;
      }
      return text.slice(start, end);
    }
    const amp = text.indexOf(0x26, pos);
    if (amp < 0) return null;
    pos = amp + 1;
  }
  return null;
}

function matches(text: Uint8Array, pos: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if (text[pos + i] !== name[i]) return false;
  return true;
}

// RFC 9110 token characters
const TOKEN_EXTRA = new Set(Array.from("!#$%&'*+-.^_`|~", (c) => c.charCodeAt(0)));
function isTokenChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || TOKEN_EXTRA.has(c);
}

/** Key for `balance url_param <param>`: the parameter's value in the query string, or null. */
export function urlParamKey(uri: string, param: string): Uint8Array | null {
  const q = uri.indexOf('?');
  if (q < 0) return null;
  return findParam(textBytes(uri.slice(q + 1)), textBytes(param), false);
}

/**
 * Key for `balance url_param <param> check_post` when the query string did
 * not have it: looks into the (first chunk of the) url-encoded request body.
 */
export function urlParamBodyKey(body: Uint8Array | null | undefined, param: string): Uint8Array | null {
  if (!body || body.length === 0) return null;
  return findParam(body, textBytes(param), true);
}

/**
 * Key for `balance hdr(<name>) [use_domain_only]`, given the header's value
 * (undefined when absent). As with HAProxy's header lookup, only the first
 * comma-delimited element of the value is used, with surrounding blanks
 * removed; an empty one means "absent". With use_domain_only, only the label
 * before the last dot is kept ("haproxy.1wt.eu" → "1wt"); a value without a
 * dot is used whole.
 */
export function hdrKey(value: string | undefined, useDomainOnly: boolean): Uint8Array | null {
  if (value === undefined) return null;
  const comma = value.indexOf(',');
  let v = (comma >= 0 ? value.slice(0, comma) : value).replace(/^[ \t]+|[ \t]+$/g, '');
  if (v.length === 0) return null;
  if (useDomainOnly) {
    // A leading dot is not taken as the TLD separator, and the character just
    // before that separator always belongs to the kept label.
    const lastDot = v.lastIndexOf('.');
    if (lastDot >= 1) {
      const prevDot = lastDot >= 2 ? v.lastIndexOf('.', lastDot - 2) : -1;
      v = v.slice(prevDot + 1, lastDot);
    }
  }
  return textBytes(v);
}

/**
 * Key for `balance rdp-cookie[(<name>)]`: parses the cookie line of an RDP
 * connection request (TPKT + X.224 Connection Request header, 11 bytes, then
 * "Cookie: <name>=<value>\r\n"). The line keyword and the cookie name are
 * case-insensitive; an empty `name` accepts any cookie name. Returns the value,
 * or null when absent, empty, malformed or incomplete.
 */
export function rdpCookieKey(payload: Uint8Array, name = 'mstshash'): Uint8Array | null {
  const HDR = 11;
  let p = HDR;
  const n = payload.length;
  if (n <= HDR + 7) return null;
  if (!asciiEqualCI(payload, p, 'cookie:')) return null;
  p += 7;
  while (p < n && payload[p] === 0x20) p++;
  if (name.length > 0) {
    if (n - p <= name.length) return null;
    if (payload[p + name.length] !== 0x3d || !asciiEqualCI(payload, p, name)) return null;
    p += name.length + 1;
  } else {
    while (p < n && payload[p] !== 0x3d) {
      if (payload[p] === 0x0d || payload[p] === 0x0a) return null;
      p++;
    }
    if (p >= n) return null;
    p++;
  }
  const start = p;
  while (p < n && payload[p] !== 0x0d) p++;
  if (n - p < 2 || payload[p + 1] !== 0x0a) return null;
  if (p === start) return null;
  return payload.slice(start, p);
}

function asciiEqualCI(buf: Uint8Array, pos: number, s: string): boolean {
  if (buf.length - pos < s.length) return false;
  for (let i = 0; i < s.length; i++) {
    let a = buf[pos + i]!;
    let b = s.charCodeAt(i);
    if (a >= 0x41 && a <= 0x5a) a += 0x20;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (a !== b) return false;
  }
  return true;
}

/**
 * Key for `balance source`: the client address as 4 (IPv4) or 16 (IPv6)
 * network-order bytes. IPv4-mapped IPv6 addresses ("::ffff:a.b.c.d", as seen
 * on dual-stack sockets) are reduced to their IPv4 form so that a client
 * hashes the same whatever the listening socket. Brackets and a zone
 * ("%eth0") are tolerated. Anything else (unix socket, empty...) gives null.
 */
export function sourceKey(addr: string | undefined | null): Uint8Array | null {
  if (!addr) return null;
  let a = addr;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const pct = a.indexOf('%');
  if (pct >= 0) a = a.slice(0, pct);
  if (isIPv4(a)) return parseV4(a);
  if (!isIPv6(a)) return null;
  const b = parseV6(a);
  if (!b) return null;
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  return mapped ? b.slice(12) : b;
}

function parseV4(a: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = a.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseV6(a: string): Uint8Array | null {
  const out = new Uint8Array(16);
  let head = a;
  let tail = '';
  const dbl = a.indexOf('::');
  if (dbl >= 0) { head = a.slice(0, dbl); tail = a.slice(dbl + 2); }
  const toWords = (s: string): number[] | null => {
    if (s === '') return [];
    const words: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p);
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        const w = parseInt(p, 16);
        if (Number.isNaN(w)) return null;
        words.push(w);
      }
    }
    return words;
  };
  const hw = toWords(head);
  const tw = toWords(tail);
  if (!hw || !tw) return null;
  const words = new Array<number>(8).fill(0);
  hw.forEach((w, i) => { words[i] = w; });
  tw.forEach((w, i) => { words[8 - tw.length + i] = w; });
  for (let i = 0; i < 8; i++) { out[2 * i] = (words[i]! >> 8) & 0xff; out[2 * i + 1] = words[i]! & 0xff; }
  return out;
}

/** Plain view of an HTTP request, enough to compute any HTTP balancing key. */
export interface HttpKeyInput {
  /** request target as received (origin-form or absolute-form) */
  uri: string;
  /** request method, upper case */
  method?: string;
  /** value of a header by lower-case name (first occurrence, or all joined with ", "), undefined if absent */
  header?: (lowerName: string) => string | undefined;
  /** first chunk of the request body (for url_param check_post) */
  body?: Uint8Array | null;
}

/**
 * Computes the key for the HTTP-based algorithms (`uri`, `url_param`, `hdr()`)
 * from a request; returns null for other algorithms or when the data is
 * absent (the balancer then falls back to round robin).
 */
export function httpLbKey(cfg: BalanceConfig, req: HttpKeyInput): Uint8Array | null {
  switch (cfg.algo) {
    case 'uri':
      return uriKey(req.uri, cfg);
    case 'url_param': {
      const k = urlParamKey(req.uri, cfg.param);
      if (k === null && cfg.checkPost && req.method === 'POST') return urlParamBodyKey(req.body, cfg.param);
      return k;
    }
    case 'hdr':
      return hdrKey(req.header ? req.header(cfg.header.toLowerCase()) : undefined, cfg.useDomainOnly);
    default:
      return null;
  }
}
