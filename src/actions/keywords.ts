// The proxy keywords of the rules engine: `acl`, the rule sets (`tcp-request`, `tcp-response`,
// `http-request`, `http-response`, `http-after-response`), the inspect delays, and content
// switching and rule-driven settings: `use_backend`, `use-server`, `force-persist`,
// `ignore-persist`, `monitor fail`, `redirect`, `unique-id-format`, `unique-id-header`,
// `capture request|response header`, `declare capture`.
import {
  registerProxy, registerGlobal, registerPostParse, ALL, FE, NODEF, type ParseCtx, type Caps,
} from '../registry/registry.js';
import { parseVarName, setVar } from '../sample/vars.js';
import { SmpCtx, staticConn } from '../sample/context.js';
import { smpStr } from '../sample/types.js';
import type { Config, ProxyConfig, ProxyKind } from '../config/model.js';
import { Acl, parseAclTest, parseCond, type Cond } from '../acl/acl.js';
import { USE } from '../sample/registry.js';
import { pendingRefs, parseSampleExpr } from '../sample/expr.js';
import { parseTime } from '../util/units.js';
import { rulesOf, parseRule, placeOf, Rule, type RuleSetKind, type SwitchRule } from './rules.js';
import { compileLf, type Lf } from './lf.js';
import { legacyRedirect } from './http-actions.js';
import { resolveUserlistRef, checkAuthGroupPatterns, type Userlist } from '../proxy/userlist.js';
import { authGroupTests } from '../acl/acl.js';
import { aclScope } from '../sample/fetches/vars-acl.js';

export interface CaptureSlot { name?: string; len: number; where: string }

export interface SwitchingConfig {
  useBackend: SwitchRule<{ name: string; lf?: Lf }>[];
  useServer: SwitchRule<{ name: string; lf?: Lf }>[];
  forcePersist: Cond[];
  ignorePersist: Cond[];
  monitorFail: Cond[];
  /** legacy `redirect` rules, evaluated after the proxy's http-request rules */
  redirects: Rule[];
  uniqueIdFormat?: Lf;
  uniqueIdHeader?: string;
  /** capture slots: `declare capture` (no name) and `capture request|response header` */
  reqCaptures: CaptureSlot[];
  resCaptures: CaptureSlot[];
}

export function newSwitching(): SwitchingConfig {
  return { useBackend: [], useServer: [], forcePersist: [], ignorePersist: [], monitorFail: [], redirects: [], reqCaptures: [], resCaptures: [] };
}

export function switchingOf(px: ProxyConfig): SwitchingConfig {
  if (!px.switching) px.switching = newSwitching();
  return px.switching;
}

/** What a proxy takes from its defaults section: unique-id-format and -header only. */
export function inheritSwitching(def: SwitchingConfig, kind: ProxyKind): SwitchingConfig {
  const s = newSwitching();
  if (kind !== 'backend') {
    s.uniqueIdFormat = def.uniqueIdFormat;
    s.uniqueIdHeader = def.uniqueIdHeader;
  }
  return s;
}

function whereOf(ctx: ParseCtx): string { return `${ctx.where.file}:${ctx.where.line}`; }

/** The named ACLs the `acl()` fetch may name while this proxy's lines are parsed. */
function scope(px: ProxyConfig): void { aclScope.current = rulesOf(px).acls; }

/** Named defaults only: the rule keywords are refused in anonymous defaults sections. */
function anonDefaults(kw: string, px: ProxyConfig, ctx: ParseCtx): boolean {
  if (px.kind === 'defaults' && !px.name) {
    ctx.alert(`'${kw}' not allowed in anonymous 'defaults' section.`);
    return true;
  }
  return false;
}

/* ---- acl ---- */

function parseAclLine(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  if (anonDefaults('acl', px, ctx)) return;
  const name = args[1];
  if (!name) { ctx.alert(`'acl' expects an ACL name.`); return; }
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
    ctx.alert(`character '${[...name].find((c) => !/[A-Za-z0-9_.:-]/.test(c))}' is not permitted in acl name '${name}'.`);
    return;
  }
  if (/^[A-Z0-9_.]+$/.test(name) && ['TRUE', 'FALSE', 'HTTP', 'LOCALHOST', 'WAIT_END'].includes(name)) {
    ctx.warn(`acl '${name}' overrides a predefined ACL.`);
  }
  const acls = rulesOf(px).acls;
  try {
    const test = parseAclTest(args.slice(2), {
      where: whereOf(ctx), file: ctx.where.file, line: ctx.where.line, proxyName: px.name, aclName: name, warn: (m) => ctx.warn(m),
    });
    let acl = acls.get(name);
    if (!acl) { acl = new Acl(name); acls.set(name, acl); }
    acl.tests.push(test);
  } catch (e) {
    ctx.alert(`error detected while parsing ACL '${name}' : ${(e as Error).message}.`);
  }
}

/* ---- rule sets ---- */

function ruleKeyword(set: RuleSetKind, caps: Caps) {
  return {
    name: set, caps,
    parse(args: string[], px: ProxyConfig, ctx: ParseCtx) {
      scope(px);
      if (anonDefaults(set, px, ctx)) return;
      const words = set.startsWith('tcp-') ? args.slice(2) : args.slice(1);
      const rule = parseRule(set, words, px, ctx);
      if (!rule) return;
      const r = rulesOf(px);
      switch (set) {
        case 'tcp-request connection': r.tcpReqConn.push(rule); break;
        case 'tcp-request session': r.tcpReqSess.push(rule); break;
        case 'tcp-request content': r.tcpReqCont.push(rule); break;
        case 'tcp-response content': r.tcpResCont.push(rule); break;
        case 'http-request': r.httpReq.push(rule); break;
        case 'http-response': r.httpRes.push(rule); break;
        case 'http-after-response': r.httpAfter.push(rule); break;
      }
    },
  };
}

function parseTcpRequest(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  const sub = args[1];
  switch (sub) {
    case 'connection': case 'session':
      if (px.kind === 'backend') { ctx.alert(`'tcp-request ${sub}' is not allowed in 'backend' sections.`); return; }
      ruleKeyword(`tcp-request ${sub}`, ALL).parse(args, px, ctx);
      return;
    case 'content':
      ruleKeyword('tcp-request content', ALL).parse(args, px, ctx);
      return;
    case 'inspect-delay': {
      if (anonDefaults('tcp-request inspect-delay', px, ctx)) return;
      const v = args[2] === undefined ? 'missing' : parseTime(args[2]);
      if (typeof v === 'string' || args.length > 3) { ctx.alert(`'tcp-request inspect-delay' expects a positive delay in milliseconds.`); return; }
      rulesOf(px).tcpReqInspectDelay = v;
      return;
    }
    default:
      ctx.alert(`'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay', but got '${sub ?? ''}'.`);
  }
}

function parseTcpResponse(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  const sub = args[1];
  if (px.kind === 'frontend') { ctx.alert(`'tcp-response' is not allowed in 'frontend' sections.`); return; }
  switch (sub) {
    case 'content':
      ruleKeyword('tcp-response content', ALL).parse(args, px, ctx);
      return;
    case 'inspect-delay': {
      if (anonDefaults('tcp-response inspect-delay', px, ctx)) return;
      const v = args[2] === undefined ? 'missing' : parseTime(args[2]);
      if (typeof v === 'string' || args.length > 3) { ctx.alert(`'tcp-response inspect-delay' expects a positive delay in milliseconds.`); return; }
      rulesOf(px).tcpResInspectDelay = v;
      return;
    }
    default:
      ctx.alert(`'tcp-response' expects 'content' or 'inspect-delay', but got '${sub ?? ''}'.`);
  }
}

/* ---- switching ---- */

function condOf(words: string[], px: ProxyConfig, ctx: ParseCtx, use: number, label: string, kw: string): Cond | undefined | null {
  if (!words.length) return undefined;
  try {
    return parseCond(words, {
      where: whereOf(ctx), file: ctx.where.file, line: ctx.where.line, proxyName: px.name, aclName: '',
      acls: rulesOf(px).acls, use, useLabel: label, warn: (m) => ctx.warn(m),
    });
  } catch (e) {
    ctx.alert(`error detected while parsing switching rule : ${(e as Error).message}.`);
    void kw;
    return null;
  }
}

function parseUseBackend(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  const name = args[1];
  if (!name) { ctx.alert(`'use_backend' expects a backend name.`); return; }
  if (args[2] !== undefined && args[2] !== 'if' && args[2] !== 'unless') {
    ctx.alert(`'use_backend' : unexpected keyword '${args[2]}' (expects 'if' or 'unless' followed by a condition).`);
    return;
  }
  const cond = condOf(args.slice(2), px, ctx, USE.FE_SET_BCK, 'frontend use-backend rule', 'use_backend');
  if (cond === null) return;
  let lf: Lf | undefined;
  let fixed = name;
  if (name.includes('%')) {
    try {
      lf = compileLf(name, { where: whereOf(ctx), file: ctx.where.file, proxyName: px.name, use: USE.FE_SET_BCK, useLabel: 'frontend use-backend rule' });
    } catch (e) { ctx.alert(`'use_backend' : ${(e as Error).message}`); return; }
    // a format without any directive is a plain name ("%%" for a percent sign)
    if (lf.isConst) { fixed = lf.render(undefined as never); lf = undefined; }
  }
  const target = { name: fixed, lf };
  switchingOf(px).useBackend.push({ target, cond: cond ?? undefined, where: whereOf(ctx) });
}

function parseUseServer(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  const name = args[1];
  if (!name) { ctx.alert(`'use-server' expects a server name.`); return; }
  if (args[2] !== 'if' && args[2] !== 'unless') {
    ctx.alert(`'use-server' requires either 'if' or 'unless' followed by a condition.`);
    return;
  }
  const cond = condOf(args.slice(2), px, ctx, USE.BE_SET_SRV, 'backend use-server, balance or stick-match rule', 'use-server');
  if (!cond) return;
  let lf: Lf | undefined;
  if (name.includes('%')) {
    try { lf = compileLf(name, { where: whereOf(ctx), proxyName: px.name, use: USE.BE_SET_SRV }); } catch (e) { ctx.alert(`'use-server' : ${(e as Error).message}`); return; }
  }
  switchingOf(px).useServer.push({ target: { name, lf }, cond, where: whereOf(ctx) });
}

function persistKeyword(kw: 'force-persist' | 'ignore-persist') {
  return {
    name: kw, caps: { d: false, f: false, b: true },
    parse(args: string[], px: ProxyConfig, ctx: ParseCtx) {
      scope(px);
      if (args[1] !== 'if' && args[1] !== 'unless') { ctx.alert(`'${kw}' requires either 'if' or 'unless' followed by a condition.`); return; }
      const cond = condOf(args.slice(1), px, ctx, placeOf('http-request', px).use, placeOf('http-request', px).label, kw);
      if (!cond) return;
      (kw === 'force-persist' ? switchingOf(px).forcePersist : switchingOf(px).ignorePersist).push(cond);
    },
  };
}

function parseMonitor(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  if (args[1] !== 'fail') { ctx.alert(`'monitor' expects 'fail', but got '${args[1] ?? ''}'.`); return; }
  if (args[2] !== 'if' && args[2] !== 'unless') { ctx.alert(`'monitor fail' requires either 'if' or 'unless' followed by a condition.`); return; }
  const cond = condOf(args.slice(2), px, ctx, USE.FE_HRQ_HDR, 'frontend http-request header rule', 'monitor fail');
  if (!cond) return;
  switchingOf(px).monitorFail.push(cond);
}

function parseRedirectKw(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  const ci = args.findIndex((w, i) => i > 0 && (w === 'if' || w === 'unless'));
  const place = placeOf('http-request', px);
  const pc = {
    px, set: 'http-request' as const, where: whereOf(ctx), file: ctx.where.file, line: ctx.where.line,
    use: place.use, useLabel: place.label, warn: (m: string) => ctx.warn(m),
  };
  const action = legacyRedirect(ci >= 0 ? args.slice(0, ci) : args, pc);
  if (typeof action === 'string') { ctx.alert(`error detected in ${px.kind} '${px.name}' while parsing redirect rule : ${action}.`); return; }
  const cond = ci >= 0 ? condOf(args.slice(ci), px, ctx, place.use, place.label, 'redirect') : undefined;
  if (cond === null) return;
  switchingOf(px).redirects.push(new Rule(action, cond, ctx.where.file, ctx.where.line));
}

function parseUniqueIdFormat(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  scope(px);
  if (args.length !== 2) { ctx.alert(`'unique-id-format' expects one argument.`); return; }
  try {
    const lf = compileLf(args[1]!, { where: whereOf(ctx), file: ctx.where.file, proxyName: px.name, use: USE.FE_HRQ_HDR, useLabel: 'frontend http-request header rule' });
    switchingOf(px).uniqueIdFormat = args[1] === '' ? undefined : lf;
  } catch (e) {
    ctx.alert(`'unique-id-format' : ${(e as Error).message}`);
  }
}

function parseUniqueIdHeader(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (args.length !== 2) { ctx.alert(`'unique-id-header' expects one argument.`); return; }
  switchingOf(px).uniqueIdHeader = args[1];
}

function parseCapture(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  const dir = args[1];
  if (dir === 'cookie') { ctx.alert(`'capture cookie' is not supported yet by haproxy-ts (it belongs to the logging work).`); return; }
  if ((dir !== 'request' && dir !== 'response') || args[2] !== 'header' || !args[3] || args[4] !== 'len' || !args[5]) {
    ctx.alert(`'capture' expects 'cookie', 'request header' or 'response header' followed by a name and 'len' <length>.`);
    return;
  }
  if (px.kind === 'backend') { ctx.alert(`'capture' not allowed in 'backend' section.`); return; }
  const len = Number(args[5]);
  if (!Number.isInteger(len) || len <= 0) { ctx.alert(`'capture ${dir} header' : 'len' expects a positive integer.`); return; }
  const sw = switchingOf(px);
  (dir === 'request' ? sw.reqCaptures : sw.resCaptures).push({ name: args[3], len, where: whereOf(ctx) });
}

function parseDeclare(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (args[1] !== 'capture' || (args[2] !== 'request' && args[2] !== 'response') || args[3] !== 'len' || !args[4]) {
    ctx.alert(`'declare' expects 'capture request|response len <length>'.`);
    return;
  }
  const len = Number(args[4]);
  if (!Number.isInteger(len) || len <= 0) { ctx.alert(`'declare capture' : 'len' expects a positive integer.`); return; }
  const sw = switchingOf(px);
  (args[2] === 'request' ? sw.reqCaptures : sw.resCaptures).push({ len, where: whereOf(ctx) });
}

registerProxy(
  { name: 'acl', caps: ALL, parse: parseAclLine },
  { name: 'tcp-request', caps: ALL, parse: parseTcpRequest },
  { name: 'tcp-response', caps: { d: true, f: false, b: true }, parse: parseTcpResponse },
  ruleKeyword('http-request', ALL),
  ruleKeyword('http-response', ALL),
  ruleKeyword('http-after-response', ALL),
  { name: 'use_backend', caps: { d: false, f: true, b: false }, parse: parseUseBackend },
  { name: 'use-server', caps: { d: false, f: false, b: true }, parse: parseUseServer },
  persistKeyword('force-persist'),
  persistKeyword('ignore-persist'),
  { name: 'monitor', caps: { d: false, f: true, b: false }, parse: parseMonitor },
  { name: 'redirect', caps: NODEF, parse: parseRedirectKw },
  { name: 'unique-id-format', caps: FE, parse: parseUniqueIdFormat },
  { name: 'unique-id-header', caps: FE, parse: parseUniqueIdHeader },
  { name: 'capture', caps: { d: false, f: true, b: false }, parse: parseCapture },
  { name: 'declare', caps: { d: false, f: true, b: false }, parse: parseDeclare },
);

/* ---- post-parse: references ---- */

function checkRefs(config: Config, ctx: ParseCtx): void {
  const byName = new Map<string, ProxyConfig[]>();
  for (const p of config.proxies) {
    const l = byName.get(p.name) ?? [];
    l.push(p);
    byName.set(p.name, l);
  }
  const backend = (n: string) => byName.get(n)?.find((p) => p.kind === 'backend' || p.kind === 'listen');
  const frontend = (n: string) => byName.get(n)?.find((p) => p.kind === 'frontend' || p.kind === 'listen');
  for (const px of config.proxies) {
    const sw = px.switching;
    if (!sw) continue;
    for (const r of sw.useBackend) {
      if (r.target.lf) continue;
      const be = backend(r.target.name);
      if (!be) ctx.alert(`Proxy '${px.name}': unable to find required use_backend: '${r.target.name}'.`);
      else if (be === px && px.kind !== 'listen') ctx.alert(`Proxy '${px.name}': backend '${be.name}' is the frontend itself.`);
    }
    for (const r of sw.useServer) {
      if (r.target.lf) continue;
      if (!px.servers.some((s) => s.name === r.target.name)) {
        ctx.alert(`config : proxy '${px.name}' : unable to find server '${r.target.name}' referenced in a 'use-server' rule.`);
      }
    }
  }
  // references made by sample fetch/converter arguments
  for (const p of pendingRefs.splice(0)) {
    const r = p.ref;
    switch (r.kind) {
      case 'backend':
        if (!backend(r.name)) ctx.alert(`parsing [${p.where}] : unable to find backend '${r.name}' referenced in arg 1 of '${p.kw}'.`);
        break;
      case 'frontend':
        if (!frontend(r.name)) ctx.alert(`parsing [${p.where}] : unable to find frontend '${r.name}' referenced in arg 1 of '${p.kw}'.`);
        break;
      case 'server': {
        const be = r.backend ? backend(r.backend) : undefined;
        if (!be) ctx.alert(`parsing [${p.where}] : unable to find backend '${r.backend ?? ''}' referenced in arg 1 of '${p.kw}'.`);
        else if (!be.servers.some((s) => s.name === r.name)) ctx.alert(`parsing [${p.where}] : unable to find server '${r.name}' in backend '${be.name}' referenced in arg 1 of '${p.kw}'.`);
        break;
      }
      case 'user list': {
        const err = resolveUserlistRef(r, config, p.kw, p.where, 'sample fetch', p.proxyName);
        if (err) ctx.alert(err);
        break;
      }
      default:
        break; // tables are checked by their owner
    }
  }
}

/** ACLs on http_auth_group: every pattern must be a group of the userlist. */
function checkAuthGroups(_config: Config, ctx: ParseCtx): void {
  for (const t of authGroupTests.splice(0)) {
    const ul = (t.test.expr.fetchArgs[0] as { ref?: Userlist } | undefined)?.ref;
    if (!ul) continue;
    const patterns = t.test.indexes.flatMap((i) => i.refs.flatMap((r) => r.current().map((e) => e.key)));
    const err = checkAuthGroupPatterns(ul, patterns);
    if (err) ctx.alert(`proxy ${t.proxy}: acl ${t.acl} http_auth_group(): ${err}`);
  }
}

registerPostParse(checkRefs, checkAuthGroups);

/* ---- global set-var / set-var-fmt: process variables set while the configuration is read ---- */

function globalSetVar(fmt: boolean) {
  return {
    name: fmt ? 'set-var-fmt' : 'set-var',
    parse(args: string[], _g: unknown, ctx: ParseCtx) {
      const kw = args[0]!;
      if (args.length !== 3) { ctx.alert(`'${kw}' expects a variable name and ${fmt ? 'a format string' : 'a sample expression'}.`); return; }
      const ref = parseVarName(args[1]!);
      if (typeof ref === 'string') { ctx.alert(`'${kw}' : ${ref}.`); return; }
      if (ref.scope !== 'proc') { ctx.alert(`'${kw}' : only process-wide variables (proc.*) can be set in the global section.`); return; }
      const where = whereOf(ctx);
      const sctx = new SmpCtx(staticConn());
      try {
        const s = fmt
          ? smpStr(compileLf(args[2]!, { where, file: ctx.where.file, use: USE.CFG_PARSER, useLabel: 'configuration parser' }).render(sctx))
          : parseSampleExpr(args[2]!, { where, file: ctx.where.file, use: USE.CFG_PARSER, useLabel: 'configuration parser' }).eval(sctx);
        if (s) setVar(sctx, ref, s);
      } catch (e) {
        ctx.alert(`'${kw}' : ${(e as Error).message}.`);
      }
    },
  };
}

registerGlobal(globalSetVar(false), globalSetVar(true));
