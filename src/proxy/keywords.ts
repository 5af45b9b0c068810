// Core proxy keywords (frontend/backend/listen/defaults) owned by the foundation.
import { compileBalanceHash } from '../lb/hash-expr.js';
import {
  registerProxy, registerOption, registerTimeout, optionKeywords, timeoutKeywords, kindAccepts,
  ALL, FE, BE, NODEF, type ParseCtx, type Caps,
} from '../registry/registry.js';
import type { ProxyConfig, SourceConfig } from '../config/model.js';
import { parseTime, parseUint } from '../util/units.js';
import { parseAddress } from '../net/address.js';
import { parseBalance, parseHashType } from '../lb/config.js';
import { KNOWN_PROXY_KEYWORDS } from '../config/known-keywords.js';

function capName(c: Caps): string {
  return c.b && !c.f ? 'backend' : 'frontend';
}

/** HAProxy warns and ignores a keyword used in a proxy lacking the needed capability. */
export function checkCap(px: ProxyConfig, kw: string, caps: Caps, ctx: ParseCtx): boolean {
  if (kindAccepts(px.kind, caps)) return true;
  const need = px.kind === 'frontend' ? 'backend' : px.kind === 'backend' ? 'frontend' : capName(caps);
  if (px.kind === 'defaults') ctx.alert(`'${kw}' not allowed in 'defaults' section.`);
  else ctx.warn(`'${kw}' ignored because ${px.kind} '${px.name}' has no ${need} capability.`);
  return false;
}

export function parseSource(words: string[], ctx: ParseCtx): SourceConfig | undefined {
  // words: [addr, ...options]
  const text = words[0];
  if (!text) { ctx.alert(`'source' expects <addr>[:<port>] as argument.`); return undefined; }
  const a = parseAddress(text, {});
  if (typeof a === 'string') { ctx.alert(`'source' : ${a}`); return undefined; }
  if (a.family !== 'ipv4' && a.family !== 'ipv6' && a.family !== 'any') { ctx.alert(`'source' : only IPv4 and IPv6 addresses are supported (got '${text}').`); return undefined; }
  if (a.isHostname) { ctx.alert(`'source' : invalid address '${text}'.`); return undefined; }
  if (words.length > 1) {
    const opt = words[1];
    if (opt === 'usesrc' || opt === 'interface') {
      ctx.alert(`'source ... ${opt}' is not supported by haproxy-ts (Node.js exposes neither transparent binding nor SO_BINDTODEVICE).`);
    } else {
      ctx.alert(`'source' only supports the 'usesrc' and 'interface' options (got '${opt}').`);
    }
    return undefined;
  }
  return { address: a, addressText: text };
}

registerProxy(
  {
    name: 'mode',
    caps: ALL,
    parse(args, px, ctx) {
      const m = args[1];
      if (args.length !== 2) { ctx.alert(`'mode' expects one argument among 'tcp', 'http', 'log', 'spop'.`); return; }
      if (m === 'tcp' || m === 'http') { px.mode = m; px.modeWhere = ctx.where; return; }
      if (m === 'log' || m === 'spop' || m === 'health') {
        ctx.alert(`'mode ${m}' is not supported yet by haproxy-ts.`);
        return;
      }
      ctx.alert(`unknown proxy mode '${m}'.`);
    },
  },
  {
    name: 'id',
    caps: NODEF,
    parse(args, px, ctx) {
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined || n < 1) { ctx.alert(`'id' expects a positive integer argument.`); return; }
      px.id = n;
    },
  },
  {
    name: 'description',
    caps: NODEF,
    parse(args, px, ctx) {
      if (args.length < 2) { ctx.alert(`'description' expects a string argument.`); return; }
      px.description = args.slice(1).join(' ');
    },
  },
  { name: 'disabled', caps: ALL, parse(args, px, ctx) { if (args.length !== 1) ctx.alert(`'disabled' takes no argument.`); else px.disabled = true; } },
  { name: 'enabled', caps: ALL, parse(args, px, ctx) { if (args.length !== 1) ctx.alert(`'enabled' takes no argument.`); else px.disabled = false; } },
  {
    name: 'default_backend',
    caps: FE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, FE, ctx)) return;
      if (args.length !== 2) { ctx.alert(`'default_backend' expects a backend name.`); return; }
      px.defaultBackend = { name: args[1]!, where: ctx.where };
    },
  },
  {
    name: 'balance',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const r = parseBalance(args.slice(1));
      if ('error' in r) { ctx.alert(r.error); return; }
      if (r.algo === 'hash') {
        const err = compileBalanceHash(r, `${ctx.where.file}:${ctx.where.line}`, px.name, ctx.where.file);
        if (err) { ctx.alert(err); return; }
      }
      if (r.algo === 'log-hash' || r.algo === 'sticky') { ctx.alert(`'balance ${r.algo}' is not supported yet by haproxy-ts (it needs 'mode log').`); return; }
      px.balance = r;
      px.balanceWhere = ctx.where;
    },
  },
  {
    name: 'hash-type',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const r = parseHashType(args.slice(1));
      if ('error' in r) { ctx.alert(r.error); return; }
      px.hashType = r;
    },
  },
  {
    name: 'hash-balance-factor',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined || (n !== 0 && n < 100)) { ctx.alert(`'hash-balance-factor' must be 0 or an integer >= 100 (got '${args[1] ?? ''}').`); return; }
      px.hashBalanceFactor = n;
    },
  },
  {
    name: 'maxconn',
    caps: FE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, FE, ctx)) return;
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined) { ctx.alert(`'maxconn' expects an integer argument.`); return; }
      px.maxconn = n;
    },
  },
  {
    name: 'rate-limit', caps: FE,
    parse(args, px, ctx) {
      if (args[1] !== 'sessions') { ctx.alert(`'rate-limit' expects 'sessions' (got '${args[1] ?? ''}').`); return; }
      const n = parseUint(args[2]);
      if (args.length !== 3 || n === undefined) { ctx.alert(`'rate-limit sessions' expects an integer value.`); return; }
      if (!checkCap(px, 'rate-limit sessions', FE, ctx)) return;
      px.rateLimitSessions = n;
    },
  },
  {
    name: 'backlog',
    caps: FE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, FE, ctx)) return;
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined) { ctx.alert(`'backlog' expects an integer argument.`); return; }
      px.backlog = n;
    },
  },
  {
    name: 'fullconn',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined) { ctx.alert(`'fullconn' expects an integer argument.`); return; }
      px.fullconn = n;
    },
  },
  {
    name: 'retries',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const n = parseUint(args[1]);
      if (args.length !== 2 || n === undefined) { ctx.alert(`'retries' expects an integer argument.`); return; }
      px.retries = n;
    },
  },
  {
    name: 'source',
    caps: BE,
    parse(args, px, ctx) {
      if (!checkCap(px, args[0]!, BE, ctx)) return;
      const s = parseSource(args.slice(1), ctx);
      if (s) px.source = s;
    },
  },
  {
    name: 'timeout',
    caps: ALL,
    parse(args, px, ctx) {
      const name = args[1] ?? '';
      const kw = timeoutKeywords.get(name);
      if (!kw) {
        if (KNOWN_PROXY_KEYWORDS.includes(`timeout ${name}`)) {
          ctx.alert(`'timeout ${name}' is not supported yet by haproxy-ts.`);
        } else {
          const list = [...timeoutKeywords.keys()].map((k) => `'${k}'`);
          ctx.alert(`'timeout' supports ${list.slice(0, -1).join(', ')} and ${list[list.length - 1]} (got '${name}')`);
        }
        return;
      }
      if (!checkCap(px, `timeout ${name}`, kw.caps, ctx)) return;
      if (args.length !== 3) { ctx.alert(`'timeout ${name}' expects an integer value (in milliseconds)`); return; }
      const t = parseTime(args[2]!);
      if (typeof t === 'string') { ctx.alert(`${t} in 'timeout ${name}'`); return; }
      kw.set(px, t);
    },
  },
  {
    name: 'option',
    caps: ALL,
    hidden: true,
    parse(args, px, ctx) { applyOption(args, px, ctx, true); },
  },
);

/** Handles `option X`, `no option X`, `default option X`. `args` starts at the word "option". */
export function applyOption(args: string[], px: ProxyConfig, ctx: ParseCtx, enabled: boolean, restoreDefault = false): void {
  const name = args[1] ?? '';
  const kw = optionKeywords.get(name);
  if (!kw) {
    if (KNOWN_PROXY_KEYWORDS.includes(`option ${name}`)) ctx.alert(`'option ${name}' is not supported yet by haproxy-ts.`);
    else ctx.alert(`unknown option '${name}'.`);
    return;
  }
  if (!enabled && !kw.negatable) { ctx.alert(`'no option ${name}' is not supported: this option cannot be negated.`); return; }
  if (!checkCap(px, `option ${name}`, kw.caps, ctx)) return;
  kw.set(px, restoreDefault ? false : enabled, args.slice(2), ctx);
}

/** Registers `option <name>` / `no option <name>`, taking no argument. */
export function registerFlagOption(name: string, caps: Caps, set: (px: ProxyConfig, enabled: boolean) => void): void {
  registerOption({
    name, caps, negatable: true,
    set(px, enabled, rest, ctx) {
      if (rest.length) { ctx.alert(`'option ${name}' does not expect any argument.`); return; }
      set(px, enabled);
    },
  });
}

function boolOption(name: string, caps: Caps, field: 'abortonclose' | 'allbackups' | 'clitcpka' | 'srvtcpka' | 'nolinger'): void {
  registerFlagOption(name, caps, (px, on) => { px.options[field] = on; });
}
boolOption('abortonclose', BE, 'abortonclose');
boolOption('allbackups', BE, 'allbackups');
boolOption('clitcpka', FE, 'clitcpka');
boolOption('srvtcpka', BE, 'srvtcpka');
boolOption('nolinger', ALL, 'nolinger');
registerOption(
  {
    name: 'tcpka', caps: ALL, negatable: false,
    set(px, enabled, rest, ctx) {
      if (rest.length) { ctx.alert(`'option tcpka' does not expect any argument.`); return; }
      if (px.kind !== 'backend') px.options.clitcpka = enabled;
      if (px.kind !== 'frontend') px.options.srvtcpka = enabled;
    },
  },
  {
    name: 'redispatch', caps: BE, negatable: true,
    set(px, enabled, rest, ctx) {
      if (rest.length > 1) { ctx.alert(`'option redispatch' expects at most one argument.`); return; }
      px.options.redispatch = enabled;
      px.options.redispatchInterval = -1;
      if (rest.length === 1) {
        const n = /^-?\d+$/.test(rest[0]!) ? Number(rest[0]) : NaN;
        if (!Number.isInteger(n)) { ctx.alert(`'option redispatch' expects an integer interval (got '${rest[0]}').`); return; }
        if (n === 0) px.options.redispatch = false;
        else px.options.redispatchInterval = n;
      }
    },
  },
);

registerTimeout(
  { name: 'client', caps: FE, set(px, ms) { px.timeouts.client = ms; } },
  { name: 'server', caps: BE, set(px, ms) { px.timeouts.server = ms; } },
  { name: 'connect', caps: BE, set(px, ms) { px.timeouts.connect = ms; } },
  { name: 'queue', caps: BE, set(px, ms) { px.timeouts.queue = ms; } },
  { name: 'tunnel', caps: BE, set(px, ms) { px.timeouts.tunnel = ms; } },
  { name: 'client-fin', caps: FE, set(px, ms) { px.timeouts.clientFin = ms; } },
  { name: 'server-fin', caps: BE, set(px, ms) { px.timeouts.serverFin = ms; } },
);
