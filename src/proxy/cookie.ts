// Cookie-based persistence (configuration.txt: "cookie", "dynamic-cookie-key", "option persist",
// and the server option "cookie"). The request side finds the server a client's cookie names and
// cleans the Cookie header per mode; the response side inserts, rewrites, prefixes or removes the
// persistence cookie in Set-Cookie. Behaviour and exact bytes were checked against HAProxy 2.6
// (see test/unit/cookie.test.ts for the recorded evidence).
import { isIPv4, isIPv6 } from 'node:net';
import {
  registerProxy, registerOption, registerServer, registerPostParse, BE, type ParseCtx,
} from '../registry/registry.js';
import type { ProxyConfig } from '../config/model.js';
import { checkCap } from './keywords.js';
import { xxh64 } from '../util/hash.js';
import type { Proxy } from './proxy.js';
import type { Server } from './server.js';
import type { HttpRequestHead, HttpResponseHead } from '../http/htx.js';

// ---- configuration --------------------------------------------------------------------------

export interface CookieConfig {
  name: string;
  /** none of rewrite/insert/prefix given: the cookie is only read (passive) */
  mode: 'passive' | 'rewrite' | 'insert' | 'prefix';
  indirect: boolean;
  nocache: boolean;
  postonly: boolean;
  preserve: boolean;
  httponly: boolean;
  secure: boolean;
  /** every `domain` argument, in order */
  domains: string[];
  /** seconds; 0 = not set */
  maxidle: number;
  maxlife: number;
  dynamic: boolean;
  /** every `attr` argument, in order */
  attrs: string[];
}

/** The one ProxyConfig field this module owns. */
export interface CookiePersistConfig {
  cookie?: CookieConfig;
  dynamicCookieKey?: string;
  /** option persist */
  persist: boolean;
}

function persistCfg(px: ProxyConfig): CookiePersistConfig {
  return (px.cookiePersist ??= { persist: false });
}

/** Characters allowed in a cookie domain: letters, digits, '.', '-', '_'. */
function badDomainChar(d: string): string | undefined {
  for (const c of d) if (!/[A-Za-z0-9._-]/.test(c)) return c;
  return undefined;
}

/** HAProxy's time parser with seconds as the default unit; values are rounded up to seconds. */
function parseSeconds(text: string): number | { bad: string } | 'overflow' {
  const m = /^(\d+)(.*)$/.exec(text);
  if (!m) return { bad: text[0] ?? '' };
  const n = Number(m[1]);
  const unit = m[2]!;
  let secs: number;
  switch (unit) {
    case '': case 's': secs = n; break;
    case 'us': secs = Math.ceil(n / 1_000_000); break;
    case 'ms': secs = Math.ceil(n / 1000); break;
    case 'm': secs = n * 60; break;
    case 'h': secs = n * 3600; break;
    case 'd': secs = n * 86400; break;
    default: {
      // a unit letter followed by junk reports the first character that is not a valid unit
      const known = /^(us|ms|s|m|h|d)/.exec(unit);
      return { bad: known ? unit[known[0].length]! : unit[0]! };
    }
  }
  if (secs >= 0x80000000) return 'overflow';
  return secs;
}

const COOKIE_OPTS = `'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr'`;

function parseCookieLine(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (!checkCap(px, 'cookie', BE, ctx)) return;
  if (!args[1]) { ctx.alert(`'cookie' expects <cookie_name> as argument.`); return; }
  // a new cookie line replaces any earlier one (including one inherited from defaults)
  const ck: CookieConfig = {
    name: args[1], mode: 'passive', indirect: false, nocache: false, postonly: false, preserve: false,
    httponly: false, secure: false, domains: [], maxidle: 0, maxlife: 0, dynamic: false, attrs: [],
  };
  const pc = persistCfg(px);
  pc.cookie = ck;
  let rw = false, ins = false, pfx = false;
  for (let i = 2; i < args.length; i++) {
    const a = args[i]!;
    switch (a) {
      case 'rewrite': rw = true; break;
      case 'insert': ins = true; break;
      case 'prefix': pfx = true; break;
      case 'indirect': ck.indirect = true; break;
      case 'nocache': ck.nocache = true; break;
      case 'postonly': ck.postonly = true; break;
      case 'preserve': ck.preserve = true; break;
      case 'httponly': ck.httponly = true; break;
      case 'secure': ck.secure = true; break;
      case 'dynamic': ck.dynamic = true; break;
      case 'domain': {
        const d = args[i + 1];
        if (!d) { ctx.alert(`'domain' expects <domain> as argument.`); pc.cookie = undefined; return; }
        if (!d.includes('.')) ctx.warn(`domain '${d}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).`);
        const bad = badDomainChar(d);
        if (bad !== undefined) { ctx.alert(`character '${bad}' is not permitted in domain name '${d}'.`); pc.cookie = undefined; return; }
        ck.domains.push(d);
        i++;
        break;
      }
      case 'maxidle':
      case 'maxlife': {
        const v = args[i + 1];
        if (!v) { ctx.alert(`'${a}' expects <${a === 'maxidle' ? 'idletime' : 'lifetime'}> in seconds as argument.`); pc.cookie = undefined; return; }
        const t = parseSeconds(v);
        if (t === 'overflow') { ctx.alert(`timer overflow in argument <${v}> to <${a}>, maximum value is 2147483647 s (~68 years).`); pc.cookie = undefined; return; }
        if (typeof t === 'object') { ctx.alert(`unexpected character '${t.bad}' in argument to <${a}>.`); pc.cookie = undefined; return; }
        if (a === 'maxidle') ck.maxidle = t; else ck.maxlife = t;
        i++;
        break;
      }
      case 'attr': {
        const v = args[i + 1];
        if (!v) { ctx.alert(`'attr' expects <value> as argument.`); pc.cookie = undefined; return; }
        for (let k = 0; k < v.length; k++) {
          const c = v.charCodeAt(k);
          if (c < 0x20 || c === 0x7f || c === 0x3b) {
            ctx.alert(`character '%x${c.toString(16).toUpperCase().padStart(2, '0')}' is not permitted in attribute value.`);
            pc.cookie = undefined;
            return;
          }
        }
        ck.attrs.push(v);
        i++;
        break;
      }
      default:
        ctx.alert(`'cookie' supports ${COOKIE_OPTS} options.`);
        pc.cookie = undefined;
        return;
    }
  }
  let bad = false;
  if (rw && ck.indirect) { ctx.alert(`cookie 'rewrite' and 'indirect' modes are incompatible.`); bad = true; }
  if (Number(rw) + Number(ins) + Number(pfx) > 1) { ctx.alert(`cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.`); bad = true; }
  if (ck.preserve && !ins && !ck.indirect) { ctx.alert(`cookie 'preserve' requires at least 'insert' or 'indirect'.`); bad = true; }
  if (bad) { pc.cookie = undefined; return; }
  ck.mode = rw ? 'rewrite' : ins ? 'insert' : pfx ? 'prefix' : 'passive';
}

registerProxy(
  { name: 'cookie', caps: BE, parse: parseCookieLine },
  {
    name: 'dynamic-cookie-key',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, 'dynamic-cookie-key', BE, ctx)) return;
      if (!args[1]) { ctx.alert(`'dynamic-cookie-key' expects <secret_key> as argument.`); return; }
      persistCfg(px).dynamicCookieKey = args[1];
    },
  },
);

registerOption({
  name: 'persist', caps: BE, negatable: true,
  set(px, enabled, rest, ctx) {
    if (rest.length) { ctx.alert(`'option persist' cannot handle unexpected argument '${rest[0]}'.`); return; }
    persistCfg(px).persist = enabled;
  },
});

registerServer({
  name: 'cookie', args: 1, inDefaultServer: true,
  parse(a, s, ctx) {
    if (!a[1]) { ctx.alert(`'cookie' expects <value> as argument.`); return; }
    s.cookie = a[1];
  },
});

// Cookies only work in HTTP mode: HAProxy warns and ignores them otherwise.
registerPostParse((config, ctx) => {
  for (const px of config.proxies) {
    if (px.kind === 'frontend' || px.mode === 'http') continue;
    if (px.cookiePersist?.cookie) {
      ctx.warn(`cookie will be ignored for proxy '${px.name}' (needs 'mode http').`);
      px.cookiePersist.cookie = undefined;
    }
    for (const s of px.servers) {
      if (s.cookie !== undefined) {
        ctx.warn(`proxy '${px.name}' : ignoring cookie for server '${s.name}' as HTTP mode is disabled.`);
      }
    }
  }
});

// ---- dates in cookie values -------------------------------------------------------------------
// insert-mode cookies with maxidle/maxlife carry "<value>|<last seen>|<first seen>": each date is
// the UNIX time divided by 4, as 30 bits written in 5 base64 characters, most significant first.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Encodes the low 30 bits of `v` as 5 base64 characters. */
export function encodeDate30(v: number): string {
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 6) s += B64[Math.floor(v / 2 ** shift) & 63];
  return s;
}

/** Decodes 5 base64 characters at `at`; -1 if one is not a base64 character. */
export function decodeDate30(s: string, at: number): number {
  let v = 0;
  for (let i = 0; i < 5; i++) {
    const d = B64.indexOf(s[at + i] ?? '\0');
    if (d < 0 || s[at + i] === undefined) return -1;
    v = v * 64 + d;
  }
  return v;
}

// ---- server cookie values (static or dynamic) -------------------------------------------------

const dynCache = new WeakMap<Server, { key: string; host: string; port: number; value: string }>();

function ipv6Bytes(text: string): number[] | undefined {
  let t = text;
  const pct = t.indexOf('%');
  if (pct >= 0) t = t.slice(0, pct);
  let tail: number[] = [];
  const lastColon = t.lastIndexOf(':');
  if (t.slice(lastColon + 1).includes('.')) {
    const v4 = t.slice(lastColon + 1);
    if (!isIPv4(v4)) return undefined;
    tail = v4.split('.').map(Number);
    t = t.slice(0, lastColon + 1) + '0:0';
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] => (h === '' ? [] : h.split(':').map((x) => parseInt(x, 16)));
  const head = parse(halves[0]!);
  const back = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - back.length).fill(0), ...back] : head;
  if (groups.length !== 8) return undefined;
  const out: number[] = [];
  for (const g of groups) out.push((g >> 8) & 255, g & 255);
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/**
 * The dynamic cookie of a server: XXH64 (seed 0) of the secret key, the server's raw address
 * bytes (4 or 16) and its port as 4 big-endian bytes, printed as 16 lower-case hex digits.
 */
export function dynamicCookie(key: string, host: string, port: number): string | undefined {
  let addr: number[] | undefined;
  if (isIPv4(host)) addr = host.split('.').map(Number);
  else if (isIPv6(host)) addr = ipv6Bytes(host);
  if (!addr) return undefined;
  const k = Buffer.from(key, 'utf8');
  const buf = Buffer.alloc(k.length + addr.length + 4);
  k.copy(buf, 0);
  Buffer.from(addr).copy(buf, k.length);
  buf.writeUInt32BE(port >>> 0, k.length + addr.length);
  return xxh64(buf).toString(16).padStart(16, '0');
}

/** The cookie value of a server, if it has one: its `cookie` setting, else a dynamic one. */
export function serverCookie(be: Proxy, s: Server): string | undefined {
  if (s.cfg.cookie !== undefined) return s.cfg.cookie;
  const pc = be.cfg.cookiePersist;
  if (!pc?.cookie?.dynamic || pc.dynamicCookieKey === undefined) return undefined;
  const c = dynCache.get(s);
  if (c && c.key === pc.dynamicCookieKey && c.host === s.host && c.port === s.port) return c.value;
  const v = dynamicCookie(pc.dynamicCookieKey, s.host, s.port);
  if (v === undefined) return undefined;
  dynCache.set(s, { key: pc.dynamicCookieKey, host: s.host, port: s.port, value: v });
  return v;
}

// ---- run time ---------------------------------------------------------------------------------

/** HAProxy's "stopped" state: down by health checks or in maintenance. Drain still runs. */
function stopped(s: Server): boolean {
  return !s.up || s.admin === 'maint';
}

/**
 * Whether the designated server may be used: any server that is not stopped (so 'drain' still
 * serves persistent clients), or any server at all with `option persist`. HAProxy 2.6 (and the
 * 3.2 code) also honour `option persist` for a server in maintenance: see the test evidence.
 */
export function persistUsable(be: Proxy, s: Server): boolean {
  return !stopped(s) || (be.cfg.cookiePersist?.persist ?? false);
}

export type CookieStatus = 'none' | 'invalid' | 'down' | 'valid' | 'expired' | 'old' | 'unused';

export interface CookieReqState {
  /** server chosen by the request cookie (HAProxy's "direct" access) */
  direct: Server | undefined;
  /** dates read from the cookie, in seconds (multiples of 4); 0 = none */
  lastDate: number;
  firstDate: number;
  /** what the request cookie was found to be (the log's persistence flag) */
  status: CookieStatus;
  /** response side: result of Set-Cookie handling */
  respStatus: 'none' | 'found' | 'deleted' | 'replaced' | 'inserted' | 'updated';
}

const isSp = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** End of a cookie value: the first ';' or ',' outside a quoted string. */
function cookieValueEnd(h: string, from: number, end: number): number {
  let quoted = false, escaped = false;
  for (let i = from; i < end; i++) {
    const c = h[i];
    if (escaped) escaped = false;
    else if (quoted) { if (c === '\\') escaped = true; else if (c === '"') quoted = false; }
    else if (c === '"') quoted = true;
    else if (c === ',' || c === ';') return i;
  }
  return end;
}

/**
 * Removes the text between delimiter `from` (or the start) and delimiter `next` (or the end),
 * keeping `next`'s delimiter and a single space after it, as HAProxy does.
 * Returns the new text, the length change, and the (possibly moved back) `from`.
 */
function deleteValue(h: string, from: number, next: number): { h: string; delta: number; from: number } {
  const end = h.length;
  let n = next;
  if (from === 0) {
    if (n < end) n++;
    while (n < end && isSp(h[n])) n++;
    return { h: h.slice(n), delta: -n, from: 0 };
  }
  let p = from;
  while (p > 0 && isSp(h[p - 1])) p--;
  let put = '';
  if (n < end) {
    put = h[n]!;
    if (p + 1 < n) put += ' ';
    n++;
    while (n < end && isSp(h[n])) n++;
  }
  return { h: h.slice(0, p) + put + h.slice(n), delta: p + put.length - n, from: p };
}

/** A name=value pair inside a Cookie or Set-Cookie value (positions in the text). */
interface CookiePair {
  /** first character of the name, after blanks */
  a: number;
  /** end of the name without trailing blanks */
  attEnd: number;
  /** position of '=' (or where the name stopped when there is none) */
  eq: number;
  /** value start and end, without surrounding blanks */
  vb: number;
  ve: number;
  /** where the value stops before trimming (the next delimiter); equals `eq` without '=' */
  end: number;
}

/**
 * Reads the pair starting at `start`: the name ends at '=', ';' or, in Cookie headers
 * (`commaEnds`), ','.
 */
function readPair(h: string, start: number, commaEnds: boolean): CookiePair {
  let a = start;
  while (a < h.length && isSp(h[a])) a++;
  let eq = a, attEnd = a;
  while (eq < h.length) {
    const c = h[eq]!;
    if (c === '=' || c === ';' || (commaEnds && c === ',')) break;
    eq++;
    if (!isSp(c)) attEnd = eq;
  }
  if (eq >= h.length || h[eq] !== '=') return { a, attEnd, eq, vb: eq, ve: eq, end: eq };
  let vb = eq + 1;
  while (vb < h.length && isSp(h[vb])) vb++;
  const end = cookieValueEnd(h, vb, h.length);
  let ve = end;
  while (ve > vb && isSp(h[ve - 1])) ve--;
  return { a, attEnd, eq, vb, ve, end };
}

/**
 * Removes the blanks around the '=' of `p` (a pair that has one); returns the new text and
 * shifts the positions of `p` that follow them (the same string when there were none).
 */
function tightenPair(h: string, p: CookiePair): string {
  let shift = 0;
  if (p.attEnd !== p.eq) { h = h.slice(0, p.attEnd) + h.slice(p.eq); shift = p.attEnd - p.eq; p.eq += shift; p.vb += shift; }
  if (p.vb > p.eq + 1) { const d = p.eq + 1 - p.vb; h = h.slice(0, p.eq + 1) + h.slice(p.vb); p.vb += d; shift += d; }
  p.ve += shift;
  p.end += shift;
  return h;
}

/** Processes one Cookie header value; returns the new value, or null to remove the header. */
function scanRequestCookies(value: string, be: Proxy, ck: CookieConfig, st: CookieReqState, now: number): string | null {
  let h = value;
  let delFrom = -1;
  let preserve = false;
  let first = true;
  let next = 0;
  for (let prev = 0; prev < h.length; prev = next) {
    const pair = readPair(h, first ? prev : prev + 1, true);
    first = false;
    next = pair.end;
    if (h[pair.a] === '$') continue; // RFC 2109 attributes follow their cookie
    if (pair.eq === pair.end) {
      // no '=': not ours, so the header must stay; flush a pending deletion
      preserve = true;
      if (delFrom >= 0) {
        const r = deleteValue(h, delFrom, prev);
        h = r.h; next += r.delta; delFrom = -1;
      }
      continue;
    }
    // spaces around '=' are removed
    h = tightenPair(h, pair);
    next = pair.end;
    const { a, attEnd, vb, ve } = pair;
    if (attEnd - a === ck.name.length && h.startsWith(ck.name, a)) {
      let delim: number;
      if (ck.mode === 'prefix') {
        delim = vb;
        while (delim < ve && h[delim] !== '~') delim++;
      } else {
        delim = ve;
        const bar = h.indexOf('|', vb);
        if (bar >= 0 && bar < ve) {
          delim = bar;
          const d1 = bar + 1;
          if (ve - d1 >= 5) { const v = decodeDate30(h, d1); if (v > 0) st.lastDate = v * 4; }
          const bar2 = h.indexOf('|', d1);
          if (bar2 >= 0 && bar2 < ve && ve - bar2 > 5) { const v = decodeDate30(h, bar2 + 1); if (v > 0) st.firstDate = v * 4; }
        }
      }
      if (st.firstDate && ck.maxlife && (now - st.firstDate > ck.maxlife || st.firstDate - now > 86400)) {
        st.status = 'old'; delim = vb; st.firstDate = 0; st.lastDate = 0;
      } else if (st.lastDate && ck.maxidle && (now - st.lastDate > ck.maxidle || st.lastDate - now > 86400)) {
        st.status = 'expired'; delim = vb; st.firstDate = 0; st.lastDate = 0;
      }
      let found: Server | undefined;
      if (delim !== vb && !st.direct) {
        const val = h.slice(vb, delim);
        for (const s of be.servers) {
          if (serverCookie(be, s) !== val) continue;
          if (persistUsable(be, s)) {
            st.status = stopped(s) ? 'down' : 'valid';
            st.direct = s;
            found = s;
            break;
          }
          st.status = 'down'; // keep looking: another server may share the value
        }
      }
      if (!found && st.status !== 'down' && st.status !== 'expired' && st.status !== 'old') {
        st.status = st.direct ? 'unused' : 'invalid';
      }
      if (ck.mode === 'prefix' && delim !== ve) {
        // give the application its own cookie back: drop "<server value>~"
        h = h.slice(0, vb) + h.slice(delim + 1);
        next += vb - (delim + 1);
        delFrom = -1;
        preserve = true;
      } else if (delFrom < 0 && ck.mode === 'insert' && ck.indirect) {
        delFrom = prev;
      }
    } else {
      preserve = true;
      if (delFrom >= 0) {
        const r = deleteValue(h, delFrom, prev);
        h = r.h; next += r.delta; delFrom = -1;
      }
    }
  }
  let end = h.length;
  if (delFrom >= 0) end = preserve ? delFrom : 0;
  if (end === 0) return null;
  return h.slice(0, end);
}

/**
 * Request side, after the backend is chosen and before load balancing. Reads the Cookie
 * header(s), modifies req.headers per mode and returns the server the cookie designates.
 */
export function cookieRequest(be: Proxy, req: HttpRequestHead, nowMs: number): { server: Server | undefined; state: CookieReqState } {
  const state: CookieReqState = { direct: undefined, lastDate: 0, firstDate: 0, status: 'none', respStatus: 'none' };
  const ck = be.cfg.cookiePersist?.cookie;
  if (!ck) return { server: undefined, state };
  const now = Math.floor(nowMs / 1000);
  const list = req.headers.list;
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    if (f.lname !== 'cookie') continue;
    const v = scanRequestCookies(f.value, be, ck, state, now);
    if (v === null) { list.splice(i, 1); i--; }
    else if (v !== f.value) list[i] = { ...f, value: v };
  }
  return { server: state.direct, state };
}

const CACHEABLE_STATUS = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);

/** HAProxy's view of whether a response may be stored by a shared cache (used by `nocache`). */
function responseCacheable(req: HttpRequestHead, resp: HttpResponseHead): boolean {
  const m = req.method;
  let cacheable = m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || m === 'TRACE';
  if (!CACHEABLE_STATUS.has(resp.status)) cacheable = false;
  if (resp.status < 200) return false;
  const pragma = resp.headers.get('pragma');
  if (pragma !== undefined && pragma.trim().toLowerCase() === 'no-cache') return false;
  let fresh = false, nullMaxAge = false;
  for (const raw of resp.headers.getAll('cache-control')) {
    for (const part of raw.split(',')) {
      const v = part.trim().toLowerCase();
      if (v === '') continue;
      if (v === 'public') { cacheable = true; continue; }
      if (v === 'max-age=0') { nullMaxAge = true; continue; }
      if (v === 'private' || v === 'no-cache' || v === 'no-store' || v === 's-maxage=0') { cacheable = false; continue; }
      if (v.startsWith('no-cache="set-cookie')) continue; // only affects the cookie flag
      if (v.startsWith('s-maxage')) { fresh = true; nullMaxAge = false; continue; }
      if (v.startsWith('max-age')) { fresh = true; continue; }
    }
  }
  if (nullMaxAge) cacheable = false;
  if (!fresh) fresh = resp.headers.has('expires');
  const validator = !fresh && (resp.headers.has('etag') || resp.headers.has('last-modified'));
  if (!fresh && !validator) cacheable = false;
  return cacheable;
}

/**
 * Response side, once the server that answered is known (undefined if none). Adds, removes or
 * rewrites Set-Cookie per mode, and adds "Cache-control: private" for `nocache` when a cookie is
 * inserted into a response a shared cache could store.
 */
export function cookieResponse(be: Proxy, state: CookieReqState, server: Server | undefined, req: HttpRequestHead, resp: HttpResponseHead, nowMs: number): void {
  const ck = be.cfg.cookiePersist?.cookie;
  if (!ck) return;
  if (resp.status < 200 && resp.status !== 101) return;
  const now = Math.floor(nowMs / 1000);
  const direct = state.direct !== undefined && state.direct === server;
  const srvCookie = server ? serverCookie(be, server) : undefined;
  let found = false;
  const list = resp.headers.list;
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    if (f.lname !== 'set-cookie') continue;
    let h = f.value;
    // only the first cookie of a Set-Cookie counts: commas may appear in attributes
    const pair = readPair(h, 0, false);
    if (pair.eq === pair.end) continue;
    const tight = tightenPair(h, pair);
    if (tight !== h) { h = tight; list[i] = { ...f, value: h }; }
    const { a, attEnd, vb, ve } = pair;
    if (attEnd - a !== ck.name.length || !h.startsWith(ck.name, a)) continue;
    found = true;
    state.respStatus = 'found';
    if (ck.preserve) continue; // the server's own cookie is left untouched
    if ((server && ck.mode === 'insert') || (direct && ck.indirect)) {
      list.splice(i, 1); i--;
      state.respStatus = 'deleted';
    } else if (server && srvCookie !== undefined && ck.mode === 'rewrite') {
      list[i] = { ...f, value: h.slice(0, vb) + srvCookie + h.slice(ve) };
      state.respStatus = 'replaced';
    } else if (server && srvCookie !== undefined && ck.mode === 'prefix') {
      list[i] = { ...f, value: h.slice(0, vb) + srvCookie + '~' + h.slice(vb) };
      state.respStatus = 'replaced';
    }
  }

  if (!server || ck.mode !== 'insert') return;
  if (found && ck.preserve) return;
  const last = state.lastDate, firstSeen = state.firstDate;
  const refresh = !direct
    || ((ck.maxidle || last) && (!last || last - now < 0))
    || (ck.maxlife && !firstSeen)
    || (!ck.maxlife && firstSeen);
  if (!refresh) return;
  if (ck.postonly && req.method !== 'POST') return;
  let v: string;
  if (srvCookie === undefined) {
    v = `${ck.name}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/`;
  } else {
    v = `${ck.name}=${srvCookie}`;
    if (ck.maxidle || ck.maxlife) {
      const stamp = Math.floor((now + 3) / 4);
      v += '|' + encodeDate30(stamp);
      if (ck.maxlife) v += '|' + encodeDate30(firstSeen ? Math.floor(firstSeen / 4) : stamp);
    }
    v += '; path=/';
  }
  if (ck.domains.length) v += '; domain=' + ck.domains.join('; domain=');
  if (ck.httponly) v += '; HttpOnly';
  if (ck.secure) v += '; Secure';
  if (ck.attrs.length) v += '; ' + ck.attrs.join('; ');
  resp.headers.add('Set-Cookie', v);
  state.respStatus = srvCookie !== undefined && direct ? 'updated' : 'inserted';
  if (ck.nocache && responseCacheable(req, resp)) resp.headers.add('Cache-control', 'private');
}
