// Health check configuration (configuration.txt 5.2 `check`, `inter`, `fastinter`, `downinter`,
// `rise`, `fall`, `port`, `addr`, `init-state`, `check-send-proxy`; 4.2 `option httpchk`,
// `http-check send|expect|connect|comment|disable-on-404`, `option tcp-check`,
// `tcp-check connect|send|send-binary|expect|comment`, `timeout check`).
//
// Every check type runs on one rule engine (engine.ts), as HAProxy's: a check is a list of
// connect / send / expect steps; `option httpchk` and `http-check` build such a list with an
// HTTP request and an HTTP status expectation.
import { registerServer, registerProxy, registerOption, registerTimeout, registerGlobal, BE, type ParseCtx } from '../registry/registry.js';
import { spreadSettings } from './health.js';
import type { ProxyConfig, ServerOptions } from '../config/model.js';
import { parseTime, parseUint } from '../util/units.js';

/** Server-side check settings (server and default-server lines). */
export interface ServerCheckOptions {
  enabled: boolean;
  /** intervals (ms): normal, while changing state (fastinter), while down (downinter) */
  inter: number;
  fastinter?: number;
  downinter?: number;
  rise: number;
  fall: number;
  port?: number;
  addr?: string;
  initState: 'fully-up' | 'up' | 'down' | 'fully-down';
  sendProxy: boolean;
}

export function newCheckOptions(): ServerCheckOptions {
  return { enabled: false, inter: 2000, rise: 2, fall: 3, initState: 'up', sendProxy: false };
}

declare module '../config/model.js' {
  interface ServerOptions {
    /** health checks (src/checks/) */
    check?: ServerCheckOptions;
  }
  interface ProxyConfig {
    /** the check rules of the backend (src/checks/) */
    checkRules?: CheckRules;
  }
}

export type ExpectKind = 'string' | 'rstring' | 'binary' | 'rbinary' | 'status' | 'rstatus';

export type CheckStep =
  | { kind: 'connect'; port?: number; addr?: string; sendProxy: boolean; comment?: string }
  | { kind: 'send'; data: Buffer; comment?: string }
  | { kind: 'http-send'; method: string; uri: string; version: string; headers: [string, string][]; body: string; comment?: string }
  | { kind: 'expect'; type: ExpectKind; neg: boolean; pattern: string; re?: RegExp; bin?: Buffer; statuses?: [number, number][]; comment?: string; opts?: ExpectOptions };

/** tcp-check / http-check expect options: bytes to wait for, the statuses to report, a comment. */
export interface ExpectOptions {
  minRecv?: number;
  comment?: string;
  okStatus?: string;
  errorStatus?: string;
  toutStatus?: string;
}

export interface CheckRules {
  /** 'tcp': connect only (Layer 4); 'tcp-check': option tcp-check rules; 'http': option httpchk */
  type: 'tcp' | 'tcp-check' | 'http';
  steps: CheckStep[];
  /** http-check disable-on-404: a 404 puts the server in NOLB (drain) */
  disableOn404: boolean;
  /** explicit http-check expect given (else 2xx/3xx passes) */
  httpExpect: boolean;
}

function rulesOf(px: ProxyConfig): CheckRules {
  if (!px.checkRules) px.checkRules = { type: 'tcp', steps: [], disableOn404: false, httpExpect: false };
  return px.checkRules;
}

/* ---- server keywords ---- */

function opts(s: ServerOptions): ServerCheckOptions {
  if (!s.check) s.check = newCheckOptions();
  return s.check;
}

function timeArg(kw: string, v: string | undefined, ctx: ParseCtx): number | undefined {
  const t = parseTime(v ?? '');
  if (typeof t === 'string' || t === 0) { ctx.alert(`'${kw}' expects a positive delay in milliseconds (got '${v ?? ''}').`); return undefined; }
  return t;
}

function countArg(kw: string, v: string | undefined, ctx: ParseCtx): number | undefined {
  const n = parseUint(v);
  if (n === undefined || n < 1) { ctx.alert(`'${kw}' expects an integer argument > 0 (got '${v ?? ''}').`); return undefined; }
  return n;
}

registerServer(
  { name: 'check', args: 0, inDefaultServer: true, parse(_a, s) { opts(s).enabled = true; } },
  { name: 'no-check', args: 0, inDefaultServer: true, parse(_a, s) { opts(s).enabled = false; } },
  { name: 'inter', args: 1, inDefaultServer: true, parse(a, s, ctx) { const t = timeArg('inter', a[1], ctx); if (t !== undefined) opts(s).inter = t; } },
  { name: 'fastinter', args: 1, inDefaultServer: true, parse(a, s, ctx) { const t = timeArg('fastinter', a[1], ctx); if (t !== undefined) opts(s).fastinter = t; } },
  { name: 'downinter', args: 1, inDefaultServer: true, parse(a, s, ctx) { const t = timeArg('downinter', a[1], ctx); if (t !== undefined) opts(s).downinter = t; } },
  { name: 'rise', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = countArg('rise', a[1], ctx); if (n !== undefined) opts(s).rise = n; } },
  { name: 'fall', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = countArg('fall', a[1], ctx); if (n !== undefined) opts(s).fall = n; } },
  {
    name: 'port', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const n = parseUint(a[1]);
      if (n === undefined || n < 1 || n > 65535) { ctx.alert(`'port' expects a valid TCP port (got '${a[1] ?? ''}').`); return; }
      opts(s).port = n;
    },
  },
  {
    name: 'addr', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const v = a[1] ?? '';
      if (!/^[0-9.]+$/.test(v) && !v.includes(':')) { ctx.alert(`'addr' expects an IP address (got '${v}').`); return; }
      opts(s).addr = v;
    },
  },
  {
    name: 'init-state', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const v = a[1];
      if (v !== 'fully-up' && v !== 'up' && v !== 'down' && v !== 'fully-down') { ctx.alert(`'init-state' expects 'fully-up', 'up', 'down' or 'fully-down' (got '${v ?? ''}').`); return; }
      opts(s).initState = v;
    },
  },
  { name: 'check-send-proxy', args: 0, inDefaultServer: true, parse(_a, s) { opts(s).sendProxy = true; } },
);

/* ---- proxy keywords ---- */

/** `http-check expect status` codes: "200", "200-299", "200,301-302". */
function parseStatusList(text: string): [number, number][] | undefined {
  const out: [number, number][] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part.trim());
    if (!m) return undefined;
    out.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return out;
}

function parseExpect(words: string[], http: boolean, ctx: ParseCtx, kw: string): CheckStep | undefined {
  let i = 1;
  const o: ExpectOptions = {};
  // options come before the match: min-recv, comment, ok-status, error-status, tout-status
  const STATUSES: Record<string, string[]> = {
    'ok-status': ['L7OK', 'L7OKC', 'L6OK', 'L4OK'],
    'error-status': ['L7RSP', 'L7STS', 'L6RSP', 'L4CON'],
    'tout-status': ['L7TOUT', 'L6TOUT', 'L4TOUT'],
  };
  for (;;) {
    const w = words[i];
    if (w === 'min-recv') {
      const n = Number(words[i + 1]);
      if (!Number.isInteger(n) || n < -1) { ctx.alert(`'${kw} expect min-recv' expects an integer.`); return undefined; }
      o.minRecv = n;
      i += 2;
    } else if (w === 'comment') {
      if (words[i + 1] === undefined) { ctx.alert(`'${kw} expect comment' expects a message.`); return undefined; }
      o.comment = words[i + 1];
      i += 2;
    } else if (w !== undefined && STATUSES[w]) {
      const st = words[i + 1];
      if (!st || !STATUSES[w]!.includes(st)) { ctx.alert(`'${kw} expect ${w}' expects one of ${STATUSES[w]!.join(', ')} (got '${st ?? ''}').`); return undefined; }
      if (w === 'ok-status') o.okStatus = st; else if (w === 'error-status') o.errorStatus = st; else o.toutStatus = st;
      i += 2;
    } else if (w === 'on-success' || w === 'on-error' || w === 'status-code') {
      ctx.alert(`'${kw} expect ${w}' is not supported yet by haproxy-ts.`);
      return undefined;
    } else break;
  }
  let neg = false;
  if (words[i] === '!') { neg = true; i++; }
  const type = words[i] as ExpectKind | undefined;
  const pattern = words[i + 1];
  const allowed: ExpectKind[] = http ? ['status', 'rstatus', 'string', 'rstring'] : ['string', 'rstring', 'binary', 'rbinary'];
  if (!type || !allowed.includes(type)) {
    ctx.alert(`'${kw} expect' only supports ${allowed.map((a) => `'${a}'`).join(', ')} here (got '${type ?? ''}'); other forms are not supported yet by haproxy-ts.`);
    return undefined;
  }
  if (pattern === undefined) { ctx.alert(`'${kw} expect ${type}' expects <pattern> as an argument.`); return undefined; }
  if (words.length > i + 2) { ctx.alert(`'${kw} expect' : unexpected '${words[i + 2]}' after the pattern.`); return undefined; }
  const step: Extract<CheckStep, { kind: 'expect' }> = { kind: 'expect', type, neg, pattern, opts: o };
  try {
    if (type === 'rstring' || type === 'rstatus') step.re = new RegExp(pattern);
    if (type === 'rbinary') step.re = new RegExp(pattern, 'i');
  } catch (e) { ctx.alert(`'${kw} expect' : invalid regex '${pattern}': ${(e as Error).message}`); return undefined; }
  if (type === 'binary') {
    if (!/^([0-9a-fA-F]{2})+$/.test(pattern)) { ctx.alert(`'${kw} expect binary' expects an even number of hex digits.`); return undefined; }
    step.bin = Buffer.from(pattern, 'hex');
  }
  if (type === 'status') {
    const l = parseStatusList(pattern);
    if (!l) { ctx.alert(`'${kw} expect status' expects a status code list (got '${pattern}').`); return undefined; }
    step.statuses = l;
  }
  return step;
}

/** Unescapes the \r \n \t \\ \xHH sequences tcp-check send strings may contain. */
function unescapeSend(s: string): Buffer {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) { out += c; continue; }
    const n = s[++i]!;
    if (n === 'r') out += '\r';
    else if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else out += n;
  }
  return Buffer.from(out, 'latin1');
}

function httpSendStep(px: ProxyConfig): Extract<CheckStep, { kind: 'http-send' }> {
  const r = rulesOf(px);
  let s = r.steps.find((x): x is Extract<CheckStep, { kind: 'http-send' }> => x.kind === 'http-send');
  if (!s) {
    s = { kind: 'http-send', method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [], body: '' };
    r.steps.push(s);
  }
  return s;
}

registerOption(
  {
    name: 'httpchk', caps: BE, negatable: false,
    set(px, _en, args, ctx) {
      // option httpchk [<method>] [<uri>] [<version>] / option httpchk <uri>
      const r = rulesOf(px);
      r.type = 'http';
      const s = httpSendStep(px);
      if (args.length === 1) s.uri = args[0]!;
      else if (args.length >= 2) {
        s.method = args[0]!;
        s.uri = args[1]!;
        if (args[2] !== undefined) {
          // the version may carry headers after "\r\n" (the legacy way of sending a Host)
          const [ver, ...rest] = args[2].split('\\r\\n');
          s.version = ver!;
          for (const h of rest) {
            const c = h.indexOf(':');
            if (c > 0) s.headers.push([h.slice(0, c).trim(), h.slice(c + 1).trim()]);
          }
        }
        if (args.length > 3) ctx.alert(`'option httpchk' : too many arguments.`);
      }
    },
  },
  {
    name: 'tcp-check', caps: BE, negatable: false,
    set(px) { rulesOf(px).type = 'tcp-check'; },
  },
);

registerProxy(
  {
    name: 'http-check', caps: BE,
    parse(args, px, ctx) {
      const sub = args[1];
      const r = rulesOf(px);
      switch (sub) {
        case 'expect': {
          const e = parseExpect(args.slice(1), true, ctx, 'http-check');
          if (!e) return;
          r.steps.push(e);
          r.httpExpect = true;
          return;
        }
        case 'send': {
          const s = httpSendStep(px);
          for (let i = 2; i < args.length; i += 2) {
            const k = args[i]!, v = args[i + 1];
            if (v === undefined && k !== 'hdr') { ctx.alert(`'http-check send' : '${k}' expects an argument.`); return; }
            switch (k) {
              case 'meth': s.method = v!; break;
              case 'uri': s.uri = v!; break;
              case 'ver': s.version = v!; break;
              case 'hdr': {
                const val = args[i + 2];
                if (v === undefined || val === undefined) { ctx.alert(`'http-check send hdr' expects <name> and <value>.`); return; }
                s.headers.push([v, val]);
                i++;
                break;
              }
              case 'body': s.body = v!; break;
              default:
                ctx.alert(`'http-check send' : option '${k}' is not supported yet by haproxy-ts.`);
                return;
            }
          }
          return;
        }
        case 'disable-on-404':
          r.disableOn404 = true;
          return;
        case 'comment':
          return; // a comment for messages only: nothing to do
        default:
          ctx.alert(`'http-check ${sub ?? ''}' is not supported yet by haproxy-ts.`);
      }
    },
  },
  {
    name: 'tcp-check', caps: BE,
    parse(args, px, ctx) {
      const sub = args[1];
      const r = rulesOf(px);
      switch (sub) {
        case 'connect': {
          const step: Extract<CheckStep, { kind: 'connect' }> = { kind: 'connect', sendProxy: false };
          for (let i = 2; i < args.length; i++) {
            const k = args[i]!;
            if (k === 'port') { const n = parseUint(args[++i]); if (!n || n > 65535) { ctx.alert(`'tcp-check connect port' expects a port.`); return; } step.port = n; }
            else if (k === 'addr') { step.addr = args[++i]; }
            else if (k === 'send-proxy') step.sendProxy = true;
            else if (k === 'comment') step.comment = args[++i];
            else { ctx.alert(`'tcp-check connect' : option '${k}' is not supported yet by haproxy-ts.`); return; }
          }
          r.steps.push(step);
          return;
        }
        case 'send':
          if (args[2] === undefined) { ctx.alert(`'tcp-check send' expects <data> as an argument.`); return; }
          r.steps.push({ kind: 'send', data: unescapeSend(args[2]) });
          return;
        case 'send-binary':
          if (!/^([0-9a-fA-F]{2})+$/.test(args[2] ?? '')) { ctx.alert(`'tcp-check send-binary' expects an even number of hex digits.`); return; }
          r.steps.push({ kind: 'send', data: Buffer.from(args[2]!, 'hex') });
          return;
        case 'expect': {
          const e = parseExpect(args.slice(1), false, ctx, 'tcp-check');
          if (e) r.steps.push(e);
          return;
        }
        case 'comment':
          return;
        default:
          ctx.alert(`'tcp-check ${sub ?? ''}' is not supported yet by haproxy-ts.`);
      }
    },
  },
);

registerTimeout({ name: 'check', caps: BE, set(px, ms) { (px.timeouts as { check?: number }).check = ms; } });

registerGlobal(
  {
    name: 'spread-checks',
    parse(args, _g, ctx) {
      const n = parseUint(args[1]);
      if (n === undefined || n > 50 || args.length !== 2) { ctx.alert(`'spread-checks' expects an integer argument between 0 and 50.`); return; }
      spreadSettings.pct = n;
    },
  },
  {
    name: 'max-spread-checks',
    parse(args, _g, ctx) {
      const t = parseTime(args[1] ?? '');
      if (typeof t === 'string' || args.length !== 2) { ctx.alert(`'max-spread-checks' expects a positive delay in milliseconds.`); return; }
      spreadSettings.maxSpread = t;
    },
  },
);
