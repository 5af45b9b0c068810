// HTTP-mode proxy keywords owned by the HTTP data plane: connection modes, forwardfor/originalto,
// parser relaxations, trailers, reuse, monitor-uri and the HTTP timeouts.
import net from 'node:net';
import fs from 'node:fs';
import { registerOption, registerProxy, registerTimeout, registerGlobal, registerServer, ALL, FE, BE, type Caps, type ParseCtx } from '../registry/registry.js';
import { parseTime } from '../util/units.js';
import type { ProxyConfig, HttpOptions, GlobalConfig } from '../config/model.js';
import { checkCap, registerFlagOption } from '../proxy/keywords.js';


type Net = { addr: string; prefix: number; v6: boolean };

/** `<addr>[/<prefix>|/<dotted mask>]`, IPv4 or IPv6; undefined when invalid. */
export function parseNetwork(text: string): Net | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const fam = net.isIP(addr);
  if (!fam) return undefined;
  const max = fam === 4 ? 32 : 128;
  if (slash < 0) return { addr, prefix: max, v6: fam === 6 };
  const m = text.slice(slash + 1);
  if (/^\d+$/.test(m)) {
    const p = Number(m);
    return p <= max ? { addr, prefix: p, v6: fam === 6 } : undefined;
  }
  if (fam === 4 && net.isIPv4(m)) {
    const bits = m.split('.').reduce((acc, o) => (acc << 8) | Number(o), 0) >>> 0;
    const prefix = 32 - Math.log2(((~bits) >>> 0) + 1);
    return Number.isInteger(prefix) ? { addr, prefix, v6: false } : undefined;
  }
  return undefined;
}

/** BlockLists built once per configured network (checked on every request). */
const blockLists = new WeakMap<Net, net.BlockList>();

/** Whether `ip` (plain text, v4 or v6) is inside `n`. */
export function inNetwork(ip: string, n: Net): boolean {
  let bl = blockLists.get(n);
  if (!bl) {
    bl = new net.BlockList();
    bl.addSubnet(n.addr, n.prefix, n.v6 ? 'ipv6' : 'ipv4');
    blockLists.set(n, bl);
  }
  const fam = net.isIP(ip);
  if (!fam) return false;
  return bl.check(ip, fam === 6 ? 'ipv6' : 'ipv4');
}

type HttpFlag = { [K in keyof HttpOptions]-?: HttpOptions[K] extends boolean ? K : never }[keyof HttpOptions];
function flag(name: string, caps: Caps, field: HttpFlag): void {
  registerFlagOption(name, caps, (px, on) => { px.http[field] = on; });
}
flag('http-ignore-probes', FE, 'ignoreProbes');
flag('accept-unsafe-violations-in-http-request', FE, 'acceptUnsafeReq');
flag('accept-unsafe-violations-in-http-response', BE, 'acceptUnsafeResp');
flag('http-drop-request-trailers', BE, 'dropReqTrailers');
flag('http-drop-response-trailers', FE, 'dropRespTrailers');
flag('http-buffer-request', ALL, 'bufferRequest');
flag('h1-case-adjust-bogus-client', FE, 'caseAdjustClient');
flag('h1-case-adjust-bogus-server', BE, 'caseAdjustServer');
flag('http-pretend-keepalive', BE, 'pretendKeepalive');
// every write already goes out at once (TCP_NODELAY, no MSG_MORE-style batching), which is
// what this option asks for: the setting is kept for the record
flag('http-no-delay', ALL, 'noDelay');
registerOption({
  name: 'http-restrict-req-hdr-names', caps: ALL, negatable: false,
  set(px, _enabled, rest, ctx) {
    const v = rest[0];
    if (rest.length !== 1 || (v !== 'preserve' && v !== 'delete' && v !== 'reject')) {
      ctx.alert(`'option http-restrict-req-hdr-names' expects 'preserve', 'delete' or 'reject'.`);
      return;
    }
    px.http.restrictHdrNames = v;
  },
});

function connMode(name: string, mode: HttpOptions['connMode']): void {
  registerOption({
    name, caps: ALL, negatable: true,
    set(px, enabled, rest, ctx) {
      if (rest.length) { ctx.alert(`'option ${name}' does not expect any argument.`); return; }
      // the last one wins; `no option X` falls back to the default (keep-alive)
      if (enabled) px.http.connMode = mode;
      else if (px.http.connMode === mode) px.http.connMode = 'keep-alive';
    },
  });
}
connMode('http-keep-alive', 'keep-alive');
connMode('http-server-close', 'server-close');
connMode('httpclose', 'close');

registerOption(
  {
    name: 'forwardfor', caps: ALL, negatable: false,
    set(px, _enabled, rest, ctx) {
      const ff: NonNullable<HttpOptions['forwardfor']> = { header: 'X-Forwarded-For', ifNone: false };
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i]!;
        if (w === 'except' && rest[i + 1] !== undefined) {
          const n = parseNetwork(rest[++i]!);
          if (!n) { ctx.alert(`'option forwardfor' : invalid network '${rest[i]}' after 'except'.`); return; }
          ff.except = n;
        } else if (w === 'header' && rest[i + 1] !== undefined) {
          ff.header = rest[++i]!;
        } else if (w === 'if-none') {
          ff.ifNone = true;
        } else {
          ctx.alert(`'option forwardfor' only supports optional values: 'header', 'if-none' and 'except' (got '${w}').`);
          return;
        }
      }
      px.http.forwardfor = ff;
    },
  },
  {
    name: 'originalto', caps: ALL, negatable: false,
    set(px, _enabled, rest, ctx) {
      const ot: NonNullable<HttpOptions['originalto']> = { header: 'X-Original-To' };
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i]!;
        if (w === 'except' && rest[i + 1] !== undefined) {
          const n = parseNetwork(rest[++i]!);
          if (!n) { ctx.alert(`'option originalto' : invalid network '${rest[i]}' after 'except'.`); return; }
          ot.except = n;
        } else if (w === 'header' && rest[i + 1] !== undefined) {
          ot.header = rest[++i]!;
        } else {
          ctx.alert(`'option originalto' only supports optional values: 'header' and 'except' (got '${w}').`);
          return;
        }
      }
      px.http.originalto = ot;
    },
  },
);

registerProxy(
  {
    name: 'http-reuse',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const v = args[1];
      if (args.length !== 2 || (v !== 'never' && v !== 'safe' && v !== 'aggressive' && v !== 'always')) {
        ctx.alert(`'http-reuse' expects one of 'never', 'safe', 'aggressive', 'always'.`);
        return;
      }
      px.http.reuse = v;
    },
  },
  {
    name: 'monitor-uri',
    caps: FE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, FE, ctx)) return;
      if (args.length !== 2 || !args[1]) { ctx.alert(`'monitor-uri' expects an URI.`); return; }
      px.http.monitorUri = args[1];
    },
  },
);

const RETRY_EVENTS = ['none', 'conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected'];
const RETRY_STATUSES = ['401', '403', '404', '408', '421', '425', '429', '500', '501', '502', '503', '504'];
registerProxy({
  name: 'retry-on',
  caps: BE,
  parse(args, px, ctx) {
    if (!checkCap(px, args[0]!, BE, ctx)) return;
    if (args.length < 2) { ctx.alert(`'retry-on' needs at least one keyword to specify when to retry.`); return; }
    const out = new Set<string>();
    for (const w of args.slice(1)) {
      if (w === 'all-retryable-errors') {
        for (const k of ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', '500', '502', '503', '504']) out.add(k);
      } else if (RETRY_EVENTS.includes(w) || RETRY_STATUSES.includes(w)) {
        out.add(w);
      } else {
        ctx.alert(`'retry-on': unknown keyword '${w}'.`);
        return;
      }
    }
    // "none" alone disables retries
    px.http.retryOn = out.has('none') ? [] : [...out];
  },
});

registerTimeout(
  { name: 'http-request', caps: ALL, set(px, ms) { px.timeouts.httpRequest = ms; } },
  { name: 'http-keep-alive', caps: ALL, set(px, ms) { px.timeouts.httpKeepAlive = ms; } },
  // how long tarpit holds a request before answering (http-request tarpit)
  { name: 'tarpit', caps: ALL, set(px, ms) { px.timeouts.tarpit = ms; } },
);

/** Adds one h1-case-adjust pair; returns an error text or undefined. */
function addCaseAdjust(g: GlobalConfig, from: string, to: string): string | undefined {
  if (from !== from.toLowerCase()) return `header name '${from}' must be in lower case.`;
  if (to.toLowerCase() !== from) return `header names '${from}' and '${to}' must only differ by their case.`;
  if (g.h1CaseAdjust.has(from)) return `duplicate entry for header name '${from}'.`;
  g.h1CaseAdjust.set(from, to);
  return undefined;
}

registerGlobal(
  {
    name: 'tune.pool-low-fd-ratio',
    parse(args, g, ctx) {
      const n = /^\d+$/.test(args[1] ?? '') ? Number(args[1]) : NaN;
      if (args.length !== 2 || !(n >= 0 && n <= 100)) { ctx.alert(`'${args[0]}' expects an integer argument between 0 and 100.`); return; }
      g.poolLowFdRatio = n;
    },
  },
  {
    name: 'tune.pool-high-fd-ratio',
    parse(args, g, ctx) {
      const n = /^\d+$/.test(args[1] ?? '') ? Number(args[1]) : NaN;
      if (args.length !== 2 || !(n >= 0 && n <= 100)) { ctx.alert(`'${args[0]}' expects an integer argument between 0 and 100.`); return; }
      g.poolHighFdRatio = n;
    },
  },
  {
    name: 'h1-case-adjust',
    parse(args, g, ctx) {
      if (args.length !== 3) { ctx.alert(`'${args[0]}' expects <from> and <to> as argument.`); return; }
      const err = addCaseAdjust(g, args[1]!, args[2]!);
      if (err) ctx.alert(`'${args[0]}' : ${err}`);
    },
  },
  {
    name: 'h1-case-adjust-file',
    parse(args, g, ctx) {
      if (args.length !== 2) { ctx.alert(`'${args[0]}' expects <file> as argument.`); return; }
      let text: string;
      try { text = fs.readFileSync(args[1]!, 'latin1'); } catch (e) { ctx.alert(`'${args[0]}' : failed to open file '${args[1]}' : ${(e as Error).message}.`); return; }
      text.split('\n').forEach((raw, i) => {
        const line = raw.trim();
        if (!line || line.startsWith('#')) return;
        const parts = line.split(/[ \t]+/);
        if (parts.length !== 2) { ctx.alert(`'${args[0]}' : ${args[1]}:${i + 1}: expects 2 header names per line.`); return; }
        const err = addCaseAdjust(g, parts[0]!, parts[1]!);
        if (err) ctx.alert(`'${args[0]}' : ${args[1]}:${i + 1}: ${err}`);
      });
    },
  },
);

/** An integer >= -1 (as pool-max-conn and max-reuse take). */
function intMinus1(kw: string, v: string | undefined, ctx: ParseCtx): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v) || Number(v) < -1) { ctx.alert(`'${kw}' expects -1 or a positive integer (got '${v ?? ''}').`); return undefined; }
  return Number(v);
}

registerServer(
  { name: 'pool-max-conn', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = intMinus1('pool-max-conn', a[1], ctx); if (n !== undefined) s.poolMaxConn = n; } },
  { name: 'max-reuse', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = intMinus1('max-reuse', a[1], ctx); if (n !== undefined) s.maxReuse = n; } },
  {
    name: 'pool-low-conn', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      if (!/^\d+$/.test(a[1] ?? '')) { ctx.alert(`'pool-low-conn' expects a positive integer (got '${a[1] ?? ''}').`); return; }
      s.poolLowConn = Number(a[1]);
    },
  },
  {
    name: 'pool-purge-delay', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const t = parseTime(a[1] ?? '');
      if (typeof t === 'string') { ctx.alert(`'pool-purge-delay' : ${t}`); return; }
      s.poolPurgeDelay = t;
    },
  },
);

/** Post-parse: HTTP-only settings on a TCP proxy are ignored by HAProxy with a warning. */
export function checkHttpOnTcp(px: ProxyConfig, warn: (msg: string) => void): void {
  if (px.mode === 'http' || px.kind === 'defaults') return;
  const h = px.http;
  const what: string[] = [];
  if (h.forwardfor) what.push('option forwardfor');
  if (h.originalto) what.push('option originalto');
  if (h.monitorUri) what.push('monitor-uri');
  for (const w of what) warn(`'${w}' ignored for ${px.kind} '${px.name}' as it requires HTTP mode.`);
}

