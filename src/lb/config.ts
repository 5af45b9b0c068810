// Configuration of load balancing: the `balance` and `hash-type` keywords, and
// the entry point building a Balancer for a backend.

import type { HashFunctionName } from '../util/hash.js';

export type BalanceConfig =
  | { algo: 'roundrobin' }
  | { algo: 'static-rr' }
  | { algo: 'leastconn' }
  | { algo: 'first' }
  | { algo: 'source' }
  | { algo: 'uri'; len: number; depth: number; whole: boolean; pathOnly: boolean }
  | { algo: 'url_param'; param: string; checkPost: boolean }
  | { algo: 'hdr'; header: string; useDomainOnly: boolean }
  | { algo: 'random'; draws: number }
  | { algo: 'rdp-cookie'; cookie: string }
  | { algo: 'hash'; expr: string }
  /** LOG-mode algorithms, parsed so that such configurations are accepted */
  | { algo: 'log-hash'; converters: string }
  | { algo: 'sticky' };

export type BalanceAlgo = BalanceConfig['algo'];

export interface HashTypeConfig {
  method: 'map-based' | 'consistent';
  fn: HashFunctionName;
  avalanche: boolean;
}

export interface BalancerOptions {
  /** `option allbackups` */
  allbackups: boolean;
  /** `hash-balance-factor` (0 = off) */
  hashBalanceFactor: number;
  /** random source in [0,1) for `balance random` (tests); defaults to Math.random */
  random?: () => number;
}

/** The algorithm used when a backend has no `balance` line. */
export function defaultBalance(): BalanceConfig {
  return { algo: 'roundrobin' };
}

/** `hash-type` when not configured: map-based, sdbm, no avalanche. */
export function defaultHashType(): HashTypeConfig {
  return { method: 'map-based', fn: 'sdbm', avalanche: false };
}

const SUPPORTED =
  "balance only supports 'roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', " +
  "'url_param', 'hdr(name)', 'rdp-cookie(name)', 'random', 'hash', 'log-hash' and 'sticky' options.";

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\+?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Parses the words following `balance`. Error messages are complete
 * sentences starting with "balance", in HAProxy's style.
 */
export function parseBalance(args: string[]): BalanceConfig | { error: string } {
  const a0 = args[0] ?? '';
  if (a0 === '') return { algo: 'roundrobin' };

  switch (a0) {
    case 'roundrobin':
    case 'static-rr':
    case 'leastconn':
    case 'first':
    case 'source':
    case 'sticky':
      return { algo: a0 };
    case 'uri': {
      const cfg = { algo: 'uri' as const, len: 0, depth: 0, whole: false, pathOnly: false };
      for (let i = 1; i < args.length; ) {
        const w = args[i]!;
        if (w === 'len' || w === 'depth') {
          const n = positiveInt(args[i + 1]);
          if (n === undefined) {
            return { error: `balance uri : '${w}' expects a positive integer (got '${args[i + 1] ?? ''}').` };
          }
          if (w === 'len') cfg.len = n;
          else cfg.depth = n;
          i += 2;
        } else if (w === 'whole') {
          cfg.whole = true;
          i++;
        } else if (w === 'path-only') {
          cfg.pathOnly = true;
          i++;
        } else {
          return { error: `balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '${w}').` };
        }
      }
      return cfg;
    }
    case 'url_param': {
      const param = args[1];
      if (!param) return { error: 'balance url_param requires an URL parameter name.' };
      let checkPost = false;
      if (args[2] !== undefined && args[2] !== '') {
        if (args[2] !== 'check_post') {
          return { error: `balance url_param only accepts 'check_post' modifier (got '${args[2]}').` };
        }
        checkPost = true;
        // an optional former <max_wait> argument may follow; it is ignored
      }
      return { algo: 'url_param', param, checkPost };
    }
    case 'hash': {
      if (!args[1]) return { error: 'balance hash requires a sample expression.' };
      if (args[2] !== undefined && args[2] !== '') {
        return { error: `balance hash takes no other argument (got '${args[2]}').` };
      }
      return { algo: 'hash', expr: args[1] };
    }
    case 'log-hash': {
      if (!args[1]) return { error: 'balance log-hash requires a converter list.' };
      return { algo: 'log-hash', converters: args[1] };
    }
  }

  if (a0.startsWith('hdr(')) {
    const close = a0.indexOf(')', 4);
    if (close <= 4) return { error: 'balance hdr requires an http header field name.' };
    const header = a0.slice(4, close);
    let useDomainOnly = false;
    if (args[1] !== undefined && args[1] !== '') {
      if (args[1] !== 'use_domain_only') {
        return { error: `balance ${a0} only accepts 'use_domain_only' modifier (got '${args[1]}').` };
      }
      useDomainOnly = true;
    }
    return { algo: 'hdr', header, useDomainOnly };
  }

  if (a0.startsWith('rdp-cookie')) {
    const rest = a0.slice(10);
    if (rest === '') return { algo: 'rdp-cookie', cookie: 'mstshash' };
    if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close <= 1) return { error: 'balance rdp-cookie : missing cookie name.' };
      return { algo: 'rdp-cookie', cookie: rest.slice(1, close) };
    }
    return { error: 'balance rdp-cookie : missing cookie name.' };
  }

  if (a0 === 'random' || a0.startsWith('random(')) {
    if (a0 === 'random' || a0 === 'random()') return { algo: 'random', draws: 2 };
    const inner = a0.slice(7);
    const m = /^\s*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))/.exec(inner);
    const num = m ? m[1]! : '';
    const after = inner.slice(m ? m[0].length : 0);
    if (!m) {
      if (after === '') return { error: 'balance random : missing closing parenthesis.' };
      return { error: `balance random : unexpected character '${after[0]}' after argument.` };
    }
    if (after[0] !== ')') {
      if (after === '') return { error: 'balance random : missing closing parenthesis.' };
      return { error: `balance random : unexpected character '${after[0]}' after argument.` };
    }
    const draws = parseCInt(num);
    if (!(draws >= 1)) return { error: 'balance random : number of draws must be at least 1.' };
    return { algo: 'random', draws };
  }

  return { error: SUPPORTED };
}

/** strtol(..., 0)-like: decimal, 0x hexadecimal or 0 octal. */
function parseCInt(s: string): number {
  let neg = false;
  let t = s;
  if (t[0] === '+' || t[0] === '-') { neg = t[0] === '-'; t = t.slice(1); }
  let v: number;
  if (/^0[xX]/.test(t)) v = parseInt(t.slice(2), 16);
  else if (t.length > 1 && t[0] === '0') v = parseInt(t, 8);
  else v = parseInt(t, 10);
  return neg ? -v : v;
}

/** Parses the words following `hash-type`: `<method> [<function> [avalanche]]`. */
export function parseHashType(args: string[]): HashTypeConfig | { error: string } {
  const method = args[0] ?? '';
  if (method === 'avalanche') {
    return { error: "'hash-type avalanche' is no longer supported, use 'hash-type map-based sdbm avalanche' instead." };
  }
  if (method !== 'map-based' && method !== 'consistent') {
    return { error: "'hash-type' only supports 'consistent' and 'map-based'." };
  }
  const fn = args[1] ?? '';
  if (fn === '') {
    // consistent hashing defaults to sdbm + avalanche, map-based to plain sdbm
    return { method, fn: 'sdbm', avalanche: method === 'consistent' };
  }
  if (fn !== 'sdbm' && fn !== 'djb2' && fn !== 'wt6' && fn !== 'crc32' && fn !== 'none') {
    return { error: "'hash-type' only supports 'sdbm', 'djb2', 'crc32', 'wt6' or 'none' hash functions." };
  }
  const mod = args[2] ?? '';
  if (mod !== '' && mod !== 'avalanche') {
    return { error: "'hash-type' only supports 'avalanche' as a modifier for hash functions." };
  }
  if (args.length > 3 && args[3] !== '') {
    return { error: `'hash-type' takes at most 3 arguments (got '${args[3]}').` };
  }
  return { method, fn, avalanche: mod === 'avalanche' };
}

/** Parses the word following `hash-balance-factor`: 0 (off) or an integer above 100. */
export function parseHashBalanceFactor(args: string[]): number | { error: string } {
  const a = args[0];
  if (a === undefined || a === '') return { error: "'hash-balance-factor' expects an integer argument." };
  if (!/^\d+$/.test(a)) return { error: `'hash-balance-factor' expects an integer argument (got '${a}').` };
  const n = Number(a);
  if (n !== 0 && n <= 100) return { error: "'hash-balance-factor' must be 0 or greater than 100." };
  return n;
}

/** Name of the algorithm as shown in stats ("roundrobin", "uri", "hdr"...). */
export function balanceAlgoName(cfg: BalanceConfig): string {
  return cfg.algo;
}

/** Whether the algorithm is one of those hashing a request key. */
export function isHashAlgo(cfg: BalanceConfig): boolean {
  switch (cfg.algo) {
    case 'source': case 'uri': case 'url_param': case 'hdr': case 'rdp-cookie': case 'hash': case 'log-hash':
      return true;
    default:
      return false;
  }
}

/**
 * Whether server weights may change at run time (slow start, `set weight`).
 * static-rr and map-based hashing are static: the core should only allow
 * weights of 0 or the initial weight for them, as HAProxy does.
 */
export function isDynamicBalance(cfg: BalanceConfig, hashType?: HashTypeConfig): boolean {
  switch (cfg.algo) {
    case 'static-rr':
    case 'log-hash':
      return false;
    case 'roundrobin': case 'leastconn': case 'first': case 'random': case 'sticky':
      return true;
    default:
      return (hashType ?? defaultHashType()).method === 'consistent';
  }
}

/** Whether the algorithm needs HTTP request data (`uri`, `url_param`, `hdr()`). */
export function balanceNeedsHttp(cfg: BalanceConfig): boolean {
  return cfg.algo === 'uri' || cfg.algo === 'url_param' || cfg.algo === 'hdr';
}

export { createBalancer } from './balancers.js';
export {
  uriKey, uriPath, urlParamKey, urlParamBodyKey, hdrKey, rdpCookieKey, sourceKey, textBytes, httpLbKey,
  type UriKeyOptions, type HttpKeyInput,
} from './keys.js';
