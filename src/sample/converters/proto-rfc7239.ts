// rfc7239_* converters (configuration.txt 7.3.1): the "Forwarded" header (RFC 7239) as HAProxy
// validates it: one element made of `for`, `by`, `host` and `proto` parameters (each at most
// once, lower case, separated by ';'); unknown parameters make the header untrusted.
import { registerConverters } from '../registry.js';
import { smpBool, smpInt, smpStr, smpIpv4, smpIpv6, parseIpv4, parseIpv6, formatIpv4, formatIpv6, cast, type Sample } from '../types.js';

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isObfs = (c: number) => isAlnum(c) || c === 0x2e || c === 0x2d || c === 0x5f;

/** A cursor over the header text. */
interface Cur { s: string; p: number }

/** Port: digits, 1..65535. */
function readPort(c: Cur): number | undefined {
  let v = 0;
  let i = c.p;
  while (i < c.s.length && isDigit(c.s.charCodeAt(i))) {
    v = v * 10 + c.s.charCodeAt(i) - 0x30;
    if (v > 65535) return undefined;
    i++;
  }
  if (!v) return undefined;
  c.p = i;
  return v;
}

/** Obfuscated identifier chars (at least one). */
function readObfs(c: Cur): string | undefined {
  let i = c.p;
  while (i < c.s.length && isObfs(c.s.charCodeAt(i))) i++;
  if (i === c.p) return undefined;
  const v = c.s.slice(c.p, i);
  c.p = i;
  return v;
}

function readIpv4(c: Cur): number | undefined {
  let i = c.p;
  while (i < c.s.length && i - c.p < 15) {
    const ch = c.s.charCodeAt(i);
    if (!isDigit(ch) && ch !== 0x2e) break;
    i++;
  }
  const txt = c.s.slice(c.p, i);
  // inet_pton refuses octets written with a leading zero
  if (/(^|\.)0[0-9]/.test(txt)) return undefined;
  const v = parseIpv4(txt);
  if (v === undefined) return undefined;
  c.p = i;
  return v;
}

/** `[v6]` (the cursor is on '['). */
function readIpv6(c: Cur): Buffer | undefined {
  const start = c.p + 1;
  let i = start;
  while (i < c.s.length && i - start < 45) {
    const ch = c.s.charCodeAt(i);
    if (!isAlnum(ch) && ch !== 0x3a) break;
    i++;
  }
  if (i >= c.s.length || c.s[i] !== ']') return undefined;
  const txt = c.s.slice(start, i);
  // inet_pton: hex groups only (no embedded IPv4 here since '.' stops the scan)
  if (!/^[0-9a-fA-F:]+$/.test(txt)) return undefined;
  const v = parseIpv6(txt);
  if (!v) return undefined;
  c.p = i + 1;
  return v;
}

export type NodeName = { t: 'unknown' } | { t: 'obfs'; v: string } | { t: 'ip4'; v: number } | { t: 'ip6'; v: Buffer };
export type NodePort = { t: 'none' } | { t: 'obfs'; v: string } | { t: 'port'; v: number };
export interface Node { name: NodeName; port: NodePort; raw: string }

function readNodeName(c: Cur, quoted: boolean): NodeName | undefined {
  if (c.p >= c.s.length) return undefined;
  const ch = c.s[c.p];
  if (ch === '_') {
    c.p++;
    const v = readObfs(c);
    return v === undefined ? undefined : { t: 'obfs', v };
  }
  if (ch === 'u') {
    if (!c.s.startsWith('unknown', c.p)) return undefined;
    c.p += 7;
    return { t: 'unknown' };
  }
  if (quoted && ch === '[') {
    const v = readIpv6(c);
    return v ? { t: 'ip6', v } : undefined;
  }
  const v = readIpv4(c);
  return v === undefined ? undefined : { t: 'ip4', v };
}

/** node = nodename [ ":" node-port ]; the port only inside quotes. */
export function readNode(c: Cur, quoted: boolean): Node | undefined {
  const start = c.p;
  const name = readNodeName(c, quoted);
  if (!name) return undefined;
  let port: NodePort = { t: 'none' };
  if (c.p < c.s.length && c.s[c.p] === ':') {
    if (!quoted) return undefined;
    c.p++;
    if (c.p < c.s.length && c.s[c.p] === '_') {
      c.p++;
      const v = readObfs(c);
      if (v === undefined) return undefined;
      port = { t: 'obfs', v };
    } else {
      const v = readPort(c);
      if (v === undefined) return undefined;
      port = { t: 'port', v };
    }
  }
  return { name, port, raw: c.s.slice(start, c.p) };
}

function readHost(c: Cur, quoted: boolean): string | undefined {
  if (c.p >= c.s.length) return undefined;
  const start = c.p;
  if (quoted && c.s[c.p] === '[') {
    if (!readIpv6(c)) return undefined;
  } else {
    while (c.p < c.s.length) {
      const ch = c.s.charCodeAt(c.p);
      if (!isAlnum(ch) && ch !== 0x2e) break;
      c.p++;
    }
  }
  if (c.p < c.s.length && c.s[c.p] === ':') {
    if (!quoted) return undefined;
    c.p++;
    if (readPort(c) === undefined) return undefined;
  }
  return c.s.slice(start, c.p);
}

export interface Forwarded { for?: string; by?: string; host?: string; proto?: string }

/** Validates a Forwarded header value; undefined when it is not trusted. */
export function parseForwarded(s: string): Forwarded | undefined {
  const c: Cur = { s, p: 0 };
  const out: Forwarded = {};
  let seen = 0;
  let first = true;
  while (c.p < s.length && seen !== 15) {
    if (!first) {
      if (s[c.p] !== ';') return undefined;
      c.p++;
    }
    first = false;
    const rest = s.length - c.p;
    let quoted = false;
    const openQuote = () => { if (c.p < s.length && s[c.p] === '"') { quoted = true; c.p++; } };
    if (!(seen & 1) && rest > 4 && s.startsWith('for=', c.p)) {
      c.p += 4; openQuote();
      const n = readNode(c, quoted);
      if (!n) return undefined;
      out.for = n.raw; seen |= 1;
    } else if (!(seen & 2) && rest > 3 && s.startsWith('by=', c.p)) {
      c.p += 3; openQuote();
      const n = readNode(c, quoted);
      if (!n) return undefined;
      out.by = n.raw; seen |= 2;
    } else if (!(seen & 4) && rest > 5 && s.startsWith('host=', c.p)) {
      c.p += 5; openQuote();
      const h = readHost(c, quoted);
      if (h === undefined) return undefined;
      out.host = h; seen |= 4;
    } else if (!(seen & 8) && rest > 6 && s.startsWith('proto=', c.p)) {
      c.p += 6;
      if (!s.startsWith('http', c.p)) return undefined;
      c.p += 4;
      if (c.p < s.length && s[c.p] === 's') { c.p++; out.proto = 'https'; } else out.proto = 'http';
      seen |= 8;
    } else {
      return undefined;
    }
    if (quoted) {
      if (c.p >= s.length || s[c.p] !== '"') return undefined;
      c.p++;
    }
  }
  return seen ? out : undefined;
}

/** An RFC 7239 obfuscated identifier (non-empty, its charset only). */
function isObfsString(s: string): boolean {
  if (!s.length) return false;
  for (let i = 0; i < s.length; i++) if (!isObfs(s.charCodeAt(i))) return false;
  return true;
}

function asStr(s: Sample): string | undefined {
  if (s.t === 'str') return s.v as string;
  const c = cast(s, 'str');
  return c ? (c.v as string) : undefined;
}

registerConverters({
  rfc7239_is_valid: (s) => smpBool(parseForwarded(s.v as string) !== undefined),
  rfc7239_field: (s, args) => {
    const f = parseForwarded(s.v as string);
    if (!f) return undefined;
    switch (args[0] as string) {
      case 'proto': return f.proto === undefined ? undefined : smpStr(f.proto);
      case 'host': return f.host === undefined ? undefined : smpStr(f.host);
      case 'for': return f.for === undefined ? undefined : smpStr(f.for);
      case 'by': return f.by === undefined ? undefined : smpStr(f.by);
      default: return undefined;
    }
  },
  rfc7239_n2nn: (s) => {
    const n = readNode({ s: s.v as string, p: 0 }, true);
    if (!n) return undefined;
    switch (n.name.t) {
      case 'unknown': return smpStr('unknown');
      case 'obfs': return smpStr(`_${n.name.v}`);
      case 'ip4': return smpIpv4(n.name.v);
      case 'ip6': return smpIpv6(n.name.v);
    }
  },
  rfc7239_n2np: (s) => {
    const n = readNode({ s: s.v as string, p: 0 }, true);
    if (!n) return undefined;
    switch (n.port.t) {
      case 'none': return undefined;
      case 'obfs': return smpStr(`_${n.port.v}`);
      case 'port': return smpInt(n.port.v);
    }
  },
  rfc7239_nn: (s) => {
    if (s.t === 'ipv4') return smpStr(formatIpv4(s.v as number));
    if (s.t === 'ipv6') return smpStr(`[${formatIpv6(s.v as Buffer)}]`);
    const v = asStr(s);
    if (v === undefined) return undefined;
    if (!v.length) return smpStr('unknown');
    return isObfsString(v) ? smpStr(`_${v}`) : undefined;
  },
  rfc7239_np: (s) => {
    if (s.t === 'sint') return smpStr(String(Number(BigInt.asUintN(32, BigInt(s.v)))));
    const v = asStr(s);
    if (v === undefined || !isObfsString(v)) return undefined;
    return smpStr(`_${v}`);
  },
});
