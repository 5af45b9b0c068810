// Health check configuration (configuration.txt 5.2 `check`, `inter`, `fastinter`, `downinter`,
// `rise`, `fall`, `port`, `addr`, `init-state`, `check-send-proxy`; 4.2 `option httpchk`,
// `http-check send|expect|connect|comment|disable-on-404`, `option tcp-check`,
// `tcp-check connect|send|send-binary|expect|comment`, `timeout check`).
//
// Every check type runs on one rule engine (engine.ts), as HAProxy's: a check is a list of
// connect / send / expect steps; `option httpchk` and `http-check` build such a list with an
// HTTP request and an HTTP status expectation.
import { registerServer, registerProxy, registerOption, registerTimeout, registerGlobal, registerPostParse, BE, type ParseCtx } from '../registry/registry.js';
import { spreadSettings } from './health.js';
import type { ProxyConfig, ServerOptions } from '../config/model.js';
import { parseTime, parseUint } from '../util/units.js';
import { compileLf, type Lf } from '../actions/lf.js';
import { parseSampleExpr, type SampleExpr } from '../sample/expr.js';
import { parseVarName, VAR_CONDS, type VarRef, type VarCond } from '../sample/vars.js';
import { USE } from '../sample/registry.js';

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
  interface ProxyOptions {
    /** option log-health-checks: every health change is logged (src/checks/health.ts) */
    logHealthChecks?: boolean;
  }
  interface ServerOptions {
    /** health checks (src/checks/) */
    check?: ServerCheckOptions;
  }
  interface ProxyConfig {
    /** the check rules of the backend (src/checks/) */
    checkRules?: CheckRules;
  }
}

export type ExpectKind = 'string' | 'rstring' | 'binary' | 'rbinary' | 'status' | 'rstatus' | 'string-lf' | 'binary-lf' | 'hdr' | 'fhdr';

/** One side (name or value) of an `http-check expect hdr|fhdr` pattern. */
export interface HdrPattern { meth: 'str' | 'beg' | 'end' | 'sub' | 'reg'; text: string; lf?: Lf; re?: RegExp }

export type CheckStep =
  | { kind: 'connect'; port?: number; portExpr?: SampleExpr; addr?: string; sendProxy: boolean; default?: boolean; linger?: boolean; comment?: string }
  | { kind: 'send'; data: Buffer; lf?: Lf; binary?: boolean; comment?: string }
  | { kind: 'http-send'; method?: string; uri?: string; uriLf?: Lf; version?: string; headers: [string, Lf][]; body?: string; bodyLf?: Lf; comment?: string }
  | { kind: 'expect'; type: ExpectKind; neg: boolean; pattern: string; re?: RegExp; bin?: Buffer; lf?: Lf; statuses?: [number, number][]; hdr?: { name: HdrPattern; value?: HdrPattern; full: boolean }; comment?: string; opts?: ExpectOptions; implicit?: boolean }
  | { kind: 'set-var'; ref: VarRef; conds: VarCond[]; expr?: SampleExpr; lf?: Lf; comment?: string }
  | { kind: 'unset-var'; ref: VarRef; comment?: string }
  | { kind: 'comment'; text: string; comment?: string };

/** tcp-check / http-check expect options: bytes to wait for, the statuses to report, messages. */
export interface ExpectOptions {
  minRecv?: number;
  comment?: string;
  okStatus?: string;
  errorStatus?: string;
  toutStatus?: string;
  onSuccess?: Lf;
  onError?: Lf;
  statusCode?: SampleExpr;
}

/** The request of `option httpchk` (defaults for every `http-check send`). */
export interface HttpDefaults { method: string; uri: string; version: string; headers: [string, Lf][] }

export interface CheckRules {
  /** 'tcp': connect only (Layer 4); 'tcp-check': option tcp-check rules; 'http': option httpchk */
  type: 'tcp' | 'tcp-check' | 'http';
  steps: CheckStep[];
  /** http-check disable-on-404: a 404 puts the server in NOLB (drain) */
  disableOn404: boolean;
  /** explicit http-check expect given (else 2xx/3xx passes) */
  httpExpect: boolean;
  /** a canned protocol check (option redis-check ...): no tcp-check step details in messages */
  proto?: boolean;
  /** option httpchk's request */
  httpDefaults?: HttpDefaults;
  /** http-check send-state: add the X-Haproxy-Server-State header */
  sendState?: boolean;
  /** a `comment` rule waiting for the next rule */
  pendingComment?: string;
  /** which rule keywords added steps (for the "rules are ignored" warning) */
  usedKw?: { 'http-check'?: boolean; 'tcp-check'?: boolean };
}

/** A formatted string without directives (legacy `option httpchk` headers). */
export function constLf(text: string): Lf { return { text, isConst: true, render: () => text }; }

function rulesOf(px: ProxyConfig): CheckRules {
  if (!px.checkRules) px.checkRules = { type: 'tcp', steps: [], disableOn404: false, httpExpect: false };
  return px.checkRules;
}

/** Adds a rule; a preceding `comment` rule becomes its comment (unless it has its own). */
function addStep(r: CheckRules, st: CheckStep): void {
  if (st.kind !== 'comment' && r.pendingComment !== undefined) {
    if (st.comment === undefined) st.comment = r.pendingComment;
    r.pendingComment = undefined;
  }
  if (st.kind === 'comment') r.pendingComment = st.text;
  r.steps.push(st);
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

interface RuleCtx { ctx: ParseCtx; px: ProxyConfig; kw: string }

function where(c: RuleCtx): string { return `${c.ctx.where.file}:${c.ctx.where.line}`; }

function lfOf(text: string, c: RuleCtx): Lf | undefined {
  try {
    return compileLf(text, { where: where(c), file: c.ctx.where.file, proxyName: c.px.name, use: USE.BE_CHK_RUL, useLabel: `backend ${c.kw} rule` }, (m) => c.ctx.warn(m));
  } catch (e) { c.ctx.alert(`'${c.kw}' : ${(e as Error).message}.`); return undefined; }
}

function exprOf(text: string, c: RuleCtx): SampleExpr | undefined {
  try {
    return parseSampleExpr(text, { where: where(c), file: c.ctx.where.file, proxyName: c.px.name, use: USE.BE_CHK_RUL, useLabel: `backend ${c.kw} rule` });
  } catch (e) { c.ctx.alert(`'${c.kw}' : ${(e as Error).message}.`); return undefined; }
}

const HDR_METHS = ['str', 'beg', 'end', 'sub', 'reg'] as const;

/** `hdr|fhdr name [-m meth] <name> [value [-m meth] <value>] [full]`; returns [pattern, next index]. */
function parseHdrExpect(words: string[], i: number, c: RuleCtx): [{ name: HdrPattern; value?: HdrPattern; full: boolean }, number] | undefined {
  const side = (which: 'name' | 'value'): HdrPattern | undefined => {
    const w = words[i];
    if (w !== which && w !== `${which}-lf`) { c.ctx.alert(`'${c.kw} expect' : '${words[0]}' expects at the name keyword as first argument followed by a pattern.`); return undefined; }
    const isLf = w.endsWith('-lf');
    i++;
    let meth: HdrPattern['meth'] = 'str';
    if (words[i] === '-m') {
      const m = words[i + 1] as HdrPattern['meth'];
      if (!HDR_METHS.includes(m)) { c.ctx.alert(`'${c.kw} expect' : '${words[0]}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '${m ?? ''}').`); return undefined; }
      meth = m;
      i += 2;
    }
    const text = words[i];
    if (text === undefined) {
      c.ctx.alert(which === 'name' ? `'${c.kw} expect' : '${words[0]}' expects at the name keyword as first argument followed by a pattern.` : `'${c.kw} expect' : '${words[0]}' : '${w}' expects a pattern as argument.`);
      return undefined;
    }
    i++;
    const pat: HdrPattern = { meth, text };
    if (isLf) {
      if (meth === 'reg') { c.ctx.alert(`'${c.kw} expect ${words[0]}' : '${w}' cannot be used with the 'reg' matching method.`); return undefined; }
      const lf = lfOf(text, c);
      if (!lf) return undefined;
      pat.lf = lf;
    } else if (meth === 'reg') {
      try { pat.re = new RegExp(text, which === 'name' ? 'i' : ''); } catch (e) { c.ctx.alert(`'${c.kw} expect' : invalid regex '${text}': ${(e as Error).message}`); return undefined; }
    }
    if (which === 'name' && !pat.lf) pat.text = text.toLowerCase();
    return pat;
  };
  const name = side('name');
  if (!name) return undefined;
  let value: HdrPattern | undefined;
  if (words[i] === 'value' || words[i] === 'value-lf') { value = side('value'); if (!value) return undefined; }
  let full = false;
  if (words[i] === 'full') { full = true; i++; }
  return [{ name, value, full }, i];
}

function parseExpect(words: string[], http: boolean, c: RuleCtx): CheckStep | undefined {
  const { ctx, kw } = c;
  let i = 1;
  const o: ExpectOptions = {};
  const STATUSES: Record<string, string[]> = {
    'ok-status': ['L4OK', 'L6OK', 'L7OK', 'L7OKC'],
    'error-status': ['L4CON', 'L6RSP', 'L7RSP', 'L7STS', 'L7OKC'],
    'tout-status': ['L4TOUT', 'L6TOUT', 'L7TOUT'],
  };
  // options come before the match
  for (;;) {
    const w = words[i];
    if (w === 'min-recv') {
      const n = Number(words[i + 1]);
      if (words[i + 1] === undefined) { ctx.alert(`'${kw} expect' : 'min-recv' expects a integer as argument.`); return undefined; }
      if (!Number.isInteger(n) || n < -1) { ctx.alert(`'${kw} expect' : 'min-recv' expects a integer as argument (got '${words[i + 1]}').`); return undefined; }
      o.minRecv = n;
      i += 2;
    } else if (w === 'comment') {
      if (words[i + 1] === undefined) { ctx.alert(`'${kw} expect' : 'comment' expects a string as argument.`); return undefined; }
      o.comment = words[i + 1];
      i += 2;
    } else if (w !== undefined && STATUSES[w]) {
      const st = words[i + 1];
      if (st === undefined) { ctx.alert(`'${kw} expect' : '${w}' expects a string as argument.`); return undefined; }
      if (!STATUSES[w]!.includes(st)) {
        // haproxy 2.6's wording (its error-status list does not name L7OKC, which it accepts)
        const names = (w === 'error-status' ? STATUSES[w]!.slice(0, 4) : STATUSES[w]!).map((x) => `'${x}'`);
        ctx.alert(`'${kw} expect' : '${w}' only supports ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]} status (got '${st}')..`);
        return undefined;
      }
      if (w === 'ok-status') o.okStatus = st; else if (w === 'error-status') o.errorStatus = st; else o.toutStatus = st;
      i += 2;
    } else if (w === 'on-success' || w === 'on-error') {
      if (words[i + 1] === undefined) { ctx.alert(`'${kw} expect' : '${w}' expects a string as argument.`); return undefined; }
      const lf = lfOf(words[i + 1]!, c);
      if (!lf) return undefined;
      if (w === 'on-success') o.onSuccess = lf; else o.onError = lf;
      i += 2;
    } else if (w === 'status-code') {
      if (words[i + 1] === undefined) { ctx.alert(`'${kw} expect' : 'status-code' expects an expression as argument.`); return undefined; }
      const e = exprOf(words[i + 1]!, c);
      if (!e) return undefined;
      o.statusCode = e;
      i += 2;
    } else break;
  }
  let neg = false;
  if (words[i] === '!') { neg = true; i++; } else if (words[i]?.startsWith('!')) { neg = true; words = [...words]; words[i] = words[i]!.slice(1); }
  const type = words[i] as ExpectKind | undefined;
  const allowed: ExpectKind[] = http
    ? ['status', 'rstatus', 'hdr', 'fhdr', 'string', 'rstring', 'string-lf']
    : ['string', 'rstring', 'string-lf', 'binary', 'rbinary', 'binary-lf'];
  if (words.length <= 1) { ctx.alert(`'${kw} expect' : expects at least a matching pattern as arguments.`); return undefined; }
  if (type === undefined && !neg) { ctx.alert(`'${kw} expect' : pattern not found.`); return undefined; }
  if (!type || !allowed.includes(type)) { ctx.alert(onlySupports(kw, http, type ?? '')); return undefined; }
  const step: Extract<CheckStep, { kind: 'expect' }> = { kind: 'expect', type, neg, pattern: '', opts: o, comment: o.comment };
  if (type === 'hdr' || type === 'fhdr') {
    const r = parseHdrExpect(words.slice(i), 1, c);
    if (!r) return undefined;
    step.hdr = r[0];
    i += r[1];
    if (words.length > i) { ctx.alert(onlySupports(kw, http, words[i]!)); return undefined; }
    return step;
  }
  const pattern = words[i + 1];
  if (pattern === undefined) { ctx.alert(`'${kw} expect' : '${type}' expects a <pattern> as argument.`); return undefined; }
  if (words.length > i + 2) { ctx.alert(onlySupports(kw, http, words[i + 2]!)); return undefined; }
  step.pattern = pattern;
  try {
    if (type === 'rstring' || type === 'rstatus') step.re = new RegExp(pattern);
    if (type === 'rbinary') step.re = new RegExp(pattern, 'i');
  } catch (e) { ctx.alert(`'${kw} expect' : regex '${pattern}' is invalid (${(e as Error).message}).`); return undefined; }
  if (type === 'binary') {
    const bad = hexError(pattern);
    if (bad) { ctx.alert(`'${kw} expect' : invalid binary string (${bad}).`); return undefined; }
    step.bin = Buffer.from(pattern, 'hex');
  }
  if (type === 'string-lf' || type === 'binary-lf') {
    const lf = lfOf(pattern, c);
    if (!lf) return undefined;
    step.lf = lf;
  }
  if (type === 'status') {
    const l = parseStatusList(pattern);
    if (!l) {
      const ch = /[^0-9,-]/.exec(pattern)?.[0];
      ctx.alert(ch !== undefined ? `'${kw} expect' : invalid character '${ch}' in the list of status codes.` : `'${kw} expect' : invalid list of status codes '${pattern}'.`);
      return undefined;
    }
    step.statuses = l;
  }
  return step;
}

/** haproxy 2.6's "only supports" alert for an unknown `expect` word. */
function onlySupports(kw: string, http: boolean, got: string): string {
  return http
    ? `'${kw} expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '${got}' as argument..`
    : `'${kw} expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '${got}' as argument..`;
}

/** Why a hex string is not valid binary data (haproxy 2.6's words), or undefined. */
function hexError(h: string): string | undefined {
  const bad = /[^0-9a-fA-F]/.exec(h);
  if (bad) return `an hex digit is expected (found '${bad[0]}')`;
  if (h.length % 2 || !h.length) return 'an even number of hex digit is expected';
  return undefined;
}

const SEND_OPTS = ['comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body', 'body-lf'];
function sendUnknown(k: string): string {
  return `'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '${k}' as argument..`;
}

/** Unescapes the \r \n \t \\ \xHH sequences tcp-check send strings may contain. */
function unescapeSend(s: string): Buffer {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\' || i + 1 >= s.length) { out += ch; continue; }
    const n = s[++i]!;
    if (n === 'r') out += '\r';
    else if (n === 'n') out += '\n';
    else if (n === 't') out += '\t';
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
    else out += n;
  }
  return Buffer.from(out, 'latin1');
}

/** `[comment <msg>]` at the end of a rule: the comment, or false after an alert. */
function trailingComment(args: string[], from: number, c: RuleCtx, what: string): string | undefined | false {
  if (args.length <= from) return undefined;
  if (args[from] === 'comment' && args[from + 1] !== undefined && args.length === from + 2) return args[from + 1];
  if (args[from] === 'comment' && args[from + 1] === undefined) c.ctx.alert(`'${c.kw} ${what}' : 'comment' expects a string as argument.`);
  else c.ctx.alert(`'${c.kw} ${what}' : expects 'comment' but got '${args[from] === 'comment' ? args[from + 2] : args[from]}' as argument..`);
  return false;
}

/** set-var(name[,cond...]) / set-var-fmt(...) / unset-var(name) rules; proc, sess and check scopes only. */
function parseVarRule(args: string[], c: RuleCtx): CheckStep | undefined {
  const m = /^(set-var|set-var-fmt|unset-var)\((.*)\)$/.exec(args[1] ?? '');
  if (!m) { c.ctx.alert(`'${c.kw} ${args[1]}' expects a variable name between parentheses.`); return undefined; }
  const act = m[1]!;
  const parts = m[2]!.split(',').map((x) => x.trim());
  const ref = parseVarName(parts[0]!);
  if (typeof ref === 'string') { c.ctx.alert(`'${c.kw} ${act}' : ${ref}.`); return undefined; }
  if (ref.scope !== 'proc' && ref.scope !== 'sess' && ref.scope !== 'check') {
    c.ctx.alert(`'${c.kw} ${act}' : only the 'proc', 'sess' and 'check' scopes can be used here (got '${ref.text}').`);
    return undefined;
  }
  if (act === 'unset-var') {
    if (parts.length > 1 || args.length > 2) { c.ctx.alert(`'${c.kw} unset-var' expects only a variable name.`); return undefined; }
    return { kind: 'unset-var', ref };
  }
  const conds: VarCond[] = [];
  for (const x of parts.slice(1)) {
    if (!VAR_CONDS.includes(x as VarCond)) { c.ctx.alert(`'${c.kw} ${act}' : unknown condition '${x}'.`); return undefined; }
    conds.push(x as VarCond);
  }
  if (args.length !== 3) { c.ctx.alert(`'${c.kw} ${act}' expects exactly one ${act === 'set-var' ? 'sample expression' : 'format string'}.`); return undefined; }
  if (act === 'set-var') { const e = exprOf(args[2]!, c); return e ? { kind: 'set-var', ref, conds, expr: e } : undefined; }
  const lf = lfOf(args[2]!, c);
  return lf ? { kind: 'set-var', ref, conds, lf } : undefined;
}

/** `connect [default] [port <expr>] [addr <ip>] [send-proxy] [linger] [comment <msg>]` ... */
function parseConnect(args: string[], c: RuleCtx): CheckStep | undefined {
  const step: Extract<CheckStep, { kind: 'connect' }> = { kind: 'connect', sendProxy: false };
  for (let i = 2; i < args.length; i++) {
    const k = args[i]!;
    if (k === 'default') step.default = true;
    else if (k === 'linger') step.linger = true;
    else if (k === 'send-proxy') step.sendProxy = true;
    else if (k === 'port') {
      const v = args[++i];
      if (v === undefined) { c.ctx.alert(`'${c.kw} connect' : 'port' expects a port number or a sample expression as argument..`); return undefined; }
      if (/^[0-9]+$/.test(v)) {
        const n = Number(v);
        if (n < 1 || n > 65535) { c.ctx.alert(`'${c.kw} connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got ${v}..`); return undefined; }
        step.port = n;
      } else {
        const e = exprOf(v, c);
        if (!e) return undefined;
        step.portExpr = e;
      }
    } else if (k === 'addr') {
      const v = args[++i];
      if (v === undefined) { c.ctx.alert(`'${c.kw} connect' : 'addr' expects <ipv4|ipv6> as argument..`); return undefined; }
      if (!/^[0-9.]+$/.test(v) && !v.includes(':')) { c.ctx.alert(`'${c.kw} connect' : 'addr' : invalid address: '${v}' in '${v}'`); return undefined; }
      step.addr = v.replace(/^ipv[46]@/, '');
    } else if (k === 'comment') {
      if (args[i + 1] === undefined) { c.ctx.alert(`'${c.kw} connect' : 'comment' expects a string as argument.`); return undefined; }
      step.comment = args[++i];
    } else if (k === 'ssl' || k === 'sni' || k === 'alpn' || k === 'proto') {
      c.ctx.alert(`'${c.kw} connect' : option '${k}' is not supported yet by haproxy-ts (TLS and alternative muxes are not implemented).`);
      return undefined;
    } else if (k === 'via-socks4') {
      c.ctx.alert(`'${c.kw} connect' : option 'via-socks4' is not supported yet by haproxy-ts (no server 'socks4').`);
      return undefined;
    } else { c.ctx.alert(`'${c.kw} connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '${k}' as argument..`); return undefined; }
  }
  return step;
}

function defaultsOf(r: CheckRules): HttpDefaults {
  return (r.httpDefaults ??= { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [] });
}

registerOption(
  {
    name: 'log-health-checks', caps: BE, negatable: true,
    set(px, enabled, rest, ctx) {
      if (rest.length) { ctx.alert(`'option log-health-checks' does not expect any argument.`); return; }
      px.options = { ...px.options, logHealthChecks: enabled };
    },
  },
  {
    name: 'httpchk', caps: BE, negatable: false,
    set(px, _en, args, ctx) {
      // option httpchk [<method>] [<uri>] [<version>] / option httpchk <uri>
      const r = rulesOf(px);
      r.type = 'http';
      const s = defaultsOf(r);
      if (args.length === 1) s.uri = args[0]!;
      else if (args.length >= 2) {
        s.method = args[0]!;
        s.uri = args[1]!;
        if (args[2] !== undefined) {
          // the version may carry headers after "\r\n" (the legacy way of sending a Host)
          // (the configuration lexer has already turned "\r\n" into CR LF; literal ones are accepted too)
          const [ver, ...rest] = args[2].split(/\r\n|\\r\\n/);
          s.version = ver!;
          for (const h of rest) {
            const c = h.indexOf(':');
            if (c > 0) s.headers.push([h.slice(0, c).trim(), constLf(h.slice(c + 1).trim())]);
          }
        }
        if (args.length > 3) ctx.alert(`'option httpchk' cannot handle unexpected argument '${args[3]}'.`);
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
      const sub = args[1] ?? '';
      const r = rulesOf(px);
      const c: RuleCtx = { ctx, px, kw: 'http-check' };
      if (sub !== 'disable-on-404' && sub !== 'send-state') (r.usedKw ??= {})['http-check'] = true;
      if (/^(set-var|set-var-fmt|unset-var)\(/.test(sub)) { const st = parseVarRule(args, c); if (st) addStep(r, st); return; }
      switch (sub) {
        case 'expect': {
          const e = parseExpect(args.slice(1), true, c);
          if (!e) return;
          addStep(r, e);
          r.httpExpect = true;
          return;
        }
        case 'send': {
          const s: Extract<CheckStep, { kind: 'http-send' }> = { kind: 'http-send', headers: [] };
          for (let i = 2; i < args.length; i += 2) {
            const k = args[i]!, v = args[i + 1];
            if (v === undefined) {
              ctx.alert(k === 'hdr' ? `'http-check send' : 'hdr' expects <name> and <value> as arguments.`
                : SEND_OPTS.includes(k) ? `'http-check send' : '${k}' expects a string as argument..` : sendUnknown(k));
              return;
            }
            switch (k) {
              case 'meth': s.method = v; break;
              case 'uri': s.uri = v; s.uriLf = undefined; break;
              case 'uri-lf': { const lf = lfOf(v, c); if (!lf) return; s.uriLf = lf; s.uri = v; break; }
              case 'ver': s.version = v; break;
              case 'hdr': {
                const val = args[i + 2];
                if (val === undefined) { ctx.alert(`'http-check send' : 'hdr' expects <name> and <value> as arguments.`); return; }
                const lf = lfOf(val, c);
                if (!lf) return;
                // content-length and transfer-encoding are computed, never taken from here
                if (!/^(content-length|transfer-encoding)$/i.test(v)) s.headers.push([v, lf]);
                i++;
                break;
              }
              case 'body': s.body = v; s.bodyLf = undefined; break;
              case 'body-lf': { const lf = lfOf(v, c); if (!lf) return; s.bodyLf = lf; s.body = undefined; break; }
              case 'comment': s.comment = v; break;
              default:
                ctx.alert(sendUnknown(k));
                return;
            }
          }
          addStep(r, s);
          return;
        }
        case 'connect': { const st = parseConnect(args, c); if (st) addStep(r, st); return; }
        case 'send-state':
          if (args.length > 2) { ctx.alert(`'http-check' cannot handle unexpected argument '${args[2]}'.`); return; }
          r.sendState = true;
          return;
        case 'disable-on-404':
          if (args.length > 2) { ctx.alert(`'http-check' cannot handle unexpected argument '${args[2]}'.`); return; }
          r.disableOn404 = true;
          return;
        case 'comment':
          if (args[2] === undefined) { ctx.alert(`'http-check comment' : expects a string as argument.`); return; }
          if (args.length > 3) { ctx.alert(`'http-check comment' : unexpected argument '${args[3]}' (quote the message).`); return; }
          addStep(r, { kind: 'comment', text: args[2] });
          return;
        default:
          ctx.alert(`'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`);
      }
    },
  },
  {
    name: 'tcp-check', caps: BE,
    parse(args, px, ctx) {
      const sub = args[1] ?? '';
      const r = rulesOf(px);
      const c: RuleCtx = { ctx, px, kw: 'tcp-check' };
      (r.usedKw ??= {})['tcp-check'] = true;
      if (/^(set-var|set-var-fmt|unset-var)\(/.test(sub)) { const st = parseVarRule(args, c); if (st) addStep(r, st); return; }
      switch (sub) {
        case 'connect': { const st = parseConnect(args, c); if (st) addStep(r, st); return; }
        case 'send': case 'send-lf': {
          if (args[2] === undefined) { ctx.alert(`'tcp-check ${sub}' : 'string' expects a ${sub} as argument.`); return; }
          const cm = trailingComment(args, 3, c, sub);
          if (cm === false) return;
          if (sub === 'send') { addStep(r, { kind: 'send', data: unescapeSend(args[2]), comment: cm }); return; }
          const lf = lfOf(args[2], c);
          if (lf) addStep(r, { kind: 'send', data: Buffer.alloc(0), lf, comment: cm });
          return;
        }
        case 'send-binary': case 'send-binary-lf': {
          if (args[2] === undefined) { ctx.alert(`'tcp-check ${sub}' : '${sub === 'send-binary' ? 'binary string' : 'string'}' expects a ${sub} as argument.`); return; }
          const cm = trailingComment(args, 3, c, sub);
          if (cm === false) return;
          if (sub === 'send-binary') {
            const bad = hexError(args[2]);
            if (bad) { ctx.alert(`'tcp-check send-binary' : '${args[2]}' invalid binary string (${bad}).`); return; }
            addStep(r, { kind: 'send', data: Buffer.from(args[2], 'hex'), comment: cm });
            return;
          }
          const lf = lfOf(args[2], c);
          if (lf) addStep(r, { kind: 'send', data: Buffer.alloc(0), lf, binary: true, comment: cm });
          return;
        }
        case 'expect': {
          const e = parseExpect(args.slice(1), false, c);
          if (e) addStep(r, e);
          return;
        }
        case 'comment':
          if (args[2] === undefined) { ctx.alert(`'tcp-check comment' : expects a string as argument.`); return; }
          if (args.length > 3) { ctx.alert(`'tcp-check comment' : unexpected argument '${args[3]}' (quote the message).`); return; }
          addStep(r, { kind: 'comment', text: args[2] });
          return;
        default:
          ctx.alert(`'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '${sub}'`);
      }
    },
  },
);

/** Rules given without the option that enables them are not run: said as haproxy 2.6 says it. */
registerPostParse((config, ctx) => {
  for (const px of config.proxies) {
    const r = px.checkRules;
    if (!r || r.type !== 'tcp' || !r.usedKw || px.kind === 'defaults' || px.kind === 'frontend') continue;
    const what = px.kind === 'listen' ? 'proxy' : px.kind;
    if (r.usedKw['http-check']) ctx.warn(`${what} '${px.name}' uses http-check rules without 'option httpchk', so the rules are ignored.`);
    if (r.usedKw['tcp-check']) ctx.warn(`${what} '${px.name}' uses tcp-check rules without 'option tcp-check', so the rules are ignored.`);
  }
});

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
