// Section dispatcher: turns the reader's logical lines into a Config, then runs the post-parse
// checks. Keywords are looked up in the registries filled by the feature modules.
import { resetExperimental } from './global-keywords.js';
import { pendingRefs } from '../sample/expr.js';
import { authGroupTests } from '../acl/acl.js';
import { pendingReplySections } from '../actions/http-reply.js';
import { spreadSettings } from '../checks/health.js';
import { externalGlobal } from '../checks/external.js';
import {
  globalKeywords, proxyKeywords, bindKeywords, serverKeywords, sectionKeywords, postParseChecks,
  type ParseCtx, type SectionKeyword,
} from '../registry/registry.js';
import {
  newGlobalConfig, inheritFromDefaults, type Config, type ProxyConfig, type ProxyKind, type Where,
  type BindConfig, type ServerConfig, type ServerOptions,
} from './model.js';
import { readConfig, type CfgDiag } from './reader.js';
import type { CondContext } from './cond.js';
import { parseAddress, splitAddressList } from '../net/address.js';
import { suggest, parseUint } from '../util/units.js';
import { applyOption } from '../proxy/keywords.js';
import { checkHttpOnTcp } from '../http/keywords.js';
import {
  KNOWN_GLOBAL_KEYWORDS, KNOWN_PROXY_KEYWORDS, KNOWN_SERVER_KEYWORDS, KNOWN_BIND_KEYWORDS,
} from './known-keywords.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { applyInitAddr } from '../dns/config.js';

export interface Diagnostic { level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG'; msg: string; where?: Where; }

export interface ParseResult {
  config: Config;
  diags: Diagnostic[];
  /** true when an ALERT was emitted: the configuration must not run */
  fatal: boolean;
}

const PROXY_SECTIONS = new Set(['defaults', 'frontend', 'backend', 'listen']);
/** Sections HAProxy 3.2 has that belong to features not built yet. */
const UNSUPPORTED_SECTIONS = new Set([
  'userlist', 'peers', 'resolvers', 'mailers', 'http-errors', 'cache', 'ring', 'program', 'crt-store',
  'log-forward', 'traces', 'acme', 'fcgi-app', 'dynamic-update', 'ssl-f-use',
]);

interface State {
  section: 'none' | 'global' | 'proxy' | 'skip' | 'other';
  /** the registered section being parsed when section is 'other' */
  other?: SectionKeyword;
  proxy?: ProxyConfig;
  lastDefaults?: ProxyConfig;
}

export function parseConfigFiles(files: string[], cond: CondContext): ParseResult {
  const diags: Diagnostic[] = [];
  let fatal = false;
  resetExperimental();
  // references collected by expressions parsed outside a configuration (tests, CLI) are not ours
  pendingRefs.length = 0;
  authGroupTests.length = 0;
  pendingReplySections.length = 0;
  spreadSettings.pct = 0;
  externalGlobal.allowed = false; externalGlobal.preserveEnv = false; externalGlobal.forkWanted = false;
  spreadSettings.maxSpread = undefined;
  const config: Config = { files, global: newGlobalConfig(), proxies: [], defaults: new Map() };
  const st: State = { section: 'none' };
  const onDiag = (d: CfgDiag): void => {
    diags.push({ level: d.level, msg: d.msg, where: { file: d.file, line: d.line } });
    if (d.level === 'ALERT') fatal = true;
  };
  let curWhere: Where = { file: '', line: 0 };
  const ctx: ParseCtx = {
    get where() { return curWhere; },
    alert(msg) { fatal = true; diags.push({ level: 'ALERT', msg, where: curWhere }); },
    warn(msg) { diags.push({ level: 'WARNING', msg, where: curWhere }); },
  };
  const anonDefaultsSeen: ProxyConfig[] = [];

  for (const line of readConfig(files, cond, onDiag)) {
    curWhere = { file: line.file, line: line.line };
    const w = line.words;
    if (w.length === 0) continue;
    const kw = w[0]!;
    // section headers
    if (kw === 'global') {
      if (w.length > 1) ctx.alert(`'global' section does not take any argument.`);
      st.section = 'global'; st.proxy = undefined;
      continue;
    }
    if (PROXY_SECTIONS.has(kw)) {
      startProxy(kw as ProxyKind, w, config, st, ctx, anonDefaultsSeen);
      continue;
    }
    const sk = sectionKeywords.get(kw);
    if (sk) {
      st.section = sk.start(w, ctx, config) ? 'other' : 'skip';
      st.other = sk; st.proxy = undefined;
      continue;
    }
    if (UNSUPPORTED_SECTIONS.has(kw)) {
      ctx.alert(`'${kw}' section is not supported yet by haproxy-ts.`);
      st.section = 'skip'; st.proxy = undefined;
      continue;
    }
    switch (st.section) {
      case 'none':
        ctx.alert(`unknown keyword '${kw}' out of section.`);
        break;
      case 'skip':
        break;
      case 'other':
        st.other!.line(w, ctx, config);
        break;
      case 'global':
        parseGlobalLine(w, config, ctx);
        break;
      case 'proxy':
        parseProxyLine(w, st.proxy!, ctx);
        break;
    }
  }
  if (!fatal) {
    postParse(config, ctx);
    // registered checks report without a config line: their messages name the place themselves
    const post: ParseCtx = {
      where: { file: '', line: 0 },
      alert(msg) { fatal = true; diags.push({ level: 'ALERT', msg }); },
      warn(msg) { diags.push({ level: 'WARNING', msg }); },
    };
    for (const check of postParseChecks) check(config, post);
  }
  return { config, diags, fatal };
}

function startProxy(kind: ProxyKind, w: string[], config: Config, st: State, ctx: ParseCtx, anon: ProxyConfig[]): void {
  let name = '';
  let from: string | undefined;
  let i = 1;
  if (w[1] !== undefined && w[1] !== 'from') { name = w[1]; i = 2; }
  if (w[i] === 'from') {
    from = w[i + 1];
    if (from === undefined) { ctx.alert(`'from' expects a defaults section name.`); st.section = 'skip'; return; }
    i += 2;
  }
  if (i < w.length) { ctx.alert(`${kind} '${name}': unexpected argument '${w[i]}'.`); }
  if (kind !== 'defaults' && !name) {
    ctx.alert(`'${kind}' expects <name> as an argument.`);
    st.section = 'skip';
    return;
  }
  if (name && !/^[A-Za-z0-9_.:-]+$/.test(name)) {
    ctx.alert(`character '${[...name].find((c) => !/[A-Za-z0-9_.:-]/.test(c))}' is not permitted in '${kind}' name '${name}'.`);
  }
  let def: ProxyConfig | undefined;
  if (from !== undefined) {
    def = config.defaults.get(from);
    if (!def) {
      ctx.alert(`${kind} '${name}' : defaults section '${from}' not found.`);
      st.section = 'skip';
      return;
    }
  } else if (kind !== 'defaults') {
    // a proxy inherits the last defaults section; a defaults section starts afresh
    def = st.lastDefaults;
  }
  const px = inheritFromDefaults(kind, name, ctx.where, def);
  if (from) px.from = from;
  if (kind === 'defaults') {
    if (name) {
      const prev = config.defaults.get(name);
      if (prev) ctx.alert(`Parsing [${ctx.where.file}:${ctx.where.line}]: defaults section '${name}' has the same name as another defaults section declared at ${prev.where.file}:${prev.where.line}.`);
      config.defaults.set(name, px);
    } else {
      anon.push(px);
    }
    st.lastDefaults = px;
  } else {
    for (const other of config.proxies) {
      if (other.name !== name) continue;
      const clash = kind === 'listen' || other.kind === 'listen' || other.kind === kind;
      if (clash) {
        ctx.alert(`Parsing [${ctx.where.file}:${ctx.where.line}]: ${kind} '${name}' has the same name as ${other.kind} '${other.name}' declared at ${other.where.file}:${other.where.line}.`);
        break;
      }
    }
    config.proxies.push(px);
  }
  st.section = 'proxy';
  st.proxy = px;
}

function parseGlobalLine(w: string[], config: Config, ctx: ParseCtx): void {
  const kw = w[0]!;
  const k = globalKeywords.get(kw);
  if (k) { k.parse(w, config.global, ctx); return; }
  if (kw === 'stats' && globalKeywords.has(`stats ${w[1]}`)) { globalKeywords.get(`stats ${w[1]}`)!.parse(w, config.global, ctx); return; }
  // "no <keyword>" for the global keywords that can be negated (registered as "no <keyword>")
  if (kw === 'no' && w[1] !== undefined && globalKeywords.has(`no ${w[1]}`)) { globalKeywords.get(`no ${w[1]}`)!.parse(w, config.global, ctx); return; }
  if (KNOWN_GLOBAL_KEYWORDS.includes(kw) || (kw === 'stats' && w[1] !== undefined)) {
    ctx.alert(`'${kw === 'stats' ? `stats ${w[1]}` : kw}' is not supported yet by haproxy-ts.`);
    return;
  }
  const cand = suggest(kw, [...globalKeywords.keys()].filter((k) => !k.includes(' ')).concat(KNOWN_GLOBAL_KEYWORDS));
  ctx.alert(`unknown keyword '${kw}' in 'global' section${cand ? `; did you mean '${cand}' maybe ?` : ''}`);
}

function parseProxyLine(w: string[], px: ProxyConfig, ctx: ParseCtx): void {
  let kw = w[0]!;
  if ((kw === 'no' || kw === 'default') && w[1] === 'option') {
    applyOption(w.slice(1), px, ctx, kw !== 'no', kw === 'default');
    return;
  }
  if (kw === 'no' && w[1] !== undefined && proxyKeywords.has(`no ${w[1]}`)) {
    proxyKeywords.get(`no ${w[1]}`)!.parse(w, px, ctx);
    return;
  }
  if (kw === 'no' || kw === 'default') {
    const what = w[1] === undefined ? kw : `${kw} ${w[1]}`;
    ctx.alert(`'${what}' : the '${kw}' prefix is only supported before 'option' keywords.`);
    return;
  }
  switch (kw) {
    case 'bind': parseBindLine(w, px, ctx); return;
    case 'server': parseServerLine(w, px, ctx); return;
    case 'default-server': parseDefaultServer(w, px, ctx); return;
    case 'server-template': parseServerTemplate(w, px, ctx); return;
  }
  const k = proxyKeywords.get(kw);
  if (k) { k.parse(w, px, ctx); return; }
  const two = `${kw} ${w[1] ?? ''}`;
  if (KNOWN_PROXY_KEYWORDS.includes(kw) || KNOWN_PROXY_KEYWORDS.includes(two) || KNOWN_PROXY_KEYWORDS.some((k2) => k2.startsWith(`${kw} `))) {
    const shown = KNOWN_PROXY_KEYWORDS.includes(two) ? two : kw;
    ctx.alert(`'${shown}' is not supported yet by haproxy-ts.`);
    return;
  }
  kw = w[0]!;
  const names = new Set<string>(['bind', 'server', 'default-server', 'server-template', ...proxyKeywords.keys()]);
  for (const k2 of KNOWN_PROXY_KEYWORDS) names.add(k2.split(' ')[0]!);
  const cand = suggest(kw, names);
  const section = px.kind;
  ctx.alert(`unknown keyword '${kw}' in '${section}' section${cand ? `; did you mean '${cand}' maybe ?` : ''}`);
}

function hasFe(px: ProxyConfig): boolean { return px.kind === 'frontend' || px.kind === 'listen'; }
function hasBe(px: ProxyConfig): boolean { return px.kind === 'backend' || px.kind === 'listen' || px.kind === 'defaults'; }

function parseBindLine(w: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (!hasFe(px)) {
    if (px.kind === 'defaults') ctx.alert(`'bind' not allowed in 'defaults' section.`);
    else ctx.warn(`'bind' ignored because ${px.kind} '${px.name}' has no frontend capability.`);
    return;
  }
  if (w.length < 2) { ctx.alert(`'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.`); return; }
  const made: BindConfig[] = [];
  for (const text of splitAddressList(w[1]!)) {
    const a = parseAddress(text, { bind: true });
    if (typeof a === 'string') {
      ctx.alert(`'bind' : ${a.startsWith('missing port') ? `missing port specification in '${text}'` : a}`);
      return;
    }
    if (a.isHostname) {
      ctx.alert(`'bind' : invalid address: '${text}'`);
      return;
    }
    for (let port = a.port; port <= a.portEnd; port++) {
      made.push({
        where: ctx.where, addressText: text, address: { ...a, port, portEnd: port },
        maxconn: 0, backlog: 0, v4v6: false, v6only: false, acceptProxy: false, deferAccept: false, tfo: false,
      });
    }
  }
  let i = 2;
  while (i < w.length) {
    const name = w[i]!;
    const k = bindKeywords.get(name);
    if (!k) {
      if (KNOWN_BIND_KEYWORDS.includes(name)) ctx.alert(`'bind ${w[1]}' : '${name}' option is not supported yet by haproxy-ts.`);
      else {
        const cand = suggest(name, [...bindKeywords.keys(), ...KNOWN_BIND_KEYWORDS]);
        ctx.alert(`'bind ${w[1]}' unknown keyword '${name}'.${cand ? ` Did you mean '${cand}' maybe ?` : ''}`);
      }
      return;
    }
    const args = w.slice(i, i + 1 + k.args);
    if (args.length < 1 + k.args) { ctx.alert(`'bind ${w[1]}' : missing argument for '${name}'.`); return; }
    for (const b of made) k.parse(args, b, ctx);
    i += 1 + k.args;
  }
  px.binds.push(...made);
}

function parseServerOptions(w: string[], start: number, opts: ServerOptions, label: string, ctx: ParseCtx, isDefault: boolean): boolean {
  let i = start;
  while (i < w.length) {
    const name = w[i]!;
    const k = serverKeywords.get(name);
    if (!k) {
      if (KNOWN_SERVER_KEYWORDS.includes(name)) ctx.alert(`'${label}' : '${name}' option is not supported yet by haproxy-ts.`);
      else {
        const cand = suggest(name, [...serverKeywords.keys(), ...KNOWN_SERVER_KEYWORDS]);
        ctx.alert(`'${label}' : unknown keyword '${name}'${cand ? `; did you mean '${cand}' maybe ?` : ''}`);
      }
      return false;
    }
    if (isDefault && !k.inDefaultServer) { ctx.alert(`'${label}' : '${name}' option is not accepted in default-server sections.`); return false; }
    const args = w.slice(i, i + 1 + k.args);
    if (args.length < 1 + k.args) { ctx.alert(`'${label}' : '${name}' expects an argument.`); return false; }
    k.parse(args, opts, ctx);
    i += 1 + k.args;
  }
  return true;
}

function backendOnly(kw: string, px: ProxyConfig, ctx: ParseCtx, allowDefaults: boolean): boolean {
  if (px.kind === 'frontend') { ctx.warn(`'${kw}' ignored because frontend '${px.name}' has no backend capability.`); return false; }
  if (px.kind === 'defaults' && !allowDefaults) { ctx.alert(`'${kw}' not allowed in 'defaults' section.`); return false; }
  return true;
}

function parseDefaultServer(w: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (!backendOnly('default-server', px, ctx, true)) return;
  parseServerOptions(w, 1, px.defaultServer, `default-server`, ctx, true);
}

function parseServerLine(w: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (!backendOnly('server', px, ctx, false)) return;
  if (w.length < 3) { ctx.alert(`'server' expects <name> and <addr>[:<port>] as arguments.`); return; }
  const name = w[1]!;
  const label = `server ${px.name}/${name}`;
  const a = parseAddress(w[2]!, { server: true });
  if (typeof a === 'string') { ctx.alert(`'${label}' : ${a}`); return; }
  if (a.family === 'abns' || a.family === 'fd' || a.family === 'sockpair') { ctx.alert(`'${label}' : address family of '${w[2]}' is not usable for a server.`); return; }
  const prev = px.servers.find((s) => s.name === name);
  if (prev) {
    ctx.alert(`${px.kind} '${px.name}', another server named '${name}' was already defined at line ${prev.where.line}, please use distinct names.`);
    return;
  }
  const opts = structuredClone(px.defaultServer);
  delete opts.id;
  if (!parseServerOptions(w, 3, opts, label, ctx, false)) return;
  px.servers.push({ ...opts, where: ctx.where, name, addressText: w[2]!, address: a });
}

function parseServerTemplate(w: string[], px: ProxyConfig, ctx: ParseCtx): void {
  if (!backendOnly('server-template', px, ctx, false)) return;
  if (w.length < 4) { ctx.alert(`'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments.`); return; }
  const prefix = w[1]!;
  const m = /^(\d+)(?:-(\d+))?$/.exec(w[2]!);
  if (!m) { ctx.alert(`'server-template ${prefix}' : invalid range '${w[2]}'.`); return; }
  let from = 1, to = Number(m[1]);
  if (m[2] !== undefined) { from = Number(m[1]); to = Number(m[2]); }
  if (from < 1 || to < from) { ctx.alert(`'server-template ${prefix}' : invalid range '${w[2]}'.`); return; }
  const a = parseAddress(w[3]!, { server: true });
  if (typeof a === 'string') { ctx.alert(`'server-template ${prefix}' : ${a}`); return; }
  const opts = structuredClone(px.defaultServer);
  delete opts.id;
  if (!parseServerOptions(w, 4, opts, `server-template ${prefix}`, ctx, false)) return;
  if (opts.id !== undefined) { ctx.alert(`'server-template ${prefix}' : 'id' cannot be used with server-template.`); return; }
  for (let n = from; n <= to; n++) {
    const name = `${prefix}${n}`;
    if (px.servers.some((s) => s.name === name)) {
      ctx.alert(`${px.kind} '${px.name}', another server named '${name}' was already defined, please use distinct names.`);
      return;
    }
    px.servers.push({ ...structuredClone(opts), where: ctx.where, name, addressText: w[3]!, address: { ...a } });
  }
}

/** Checks that need the whole configuration (HAProxy's check_config_validity). */
function postParse(config: Config, ctx0: ParseCtx): void {
  const at = (where: Where | undefined): ParseCtx => ({
    where: where ?? { file: '', line: 0 },
    alert: (m) => ctx0.alert(m),
    warn: (m) => ctx0.warn(m),
  });
  const backends = new Map<string, ProxyConfig>();
  for (const px of config.proxies) if (px.kind !== 'frontend') backends.set(px.name, px);
  // proxy ids: automatic ones fill the holes after explicit ones
  for (const p of config.proxies) {
    p.idForced = p.id !== undefined;
    for (const s of p.servers) s.idForced = s.id !== undefined;
  }
  assignIds(config.proxies.map((p) => p), (p) => p.id, (p, id) => { p.id = id; }, (p, other) =>
    at(p.where).alert(`Parsing [${p.where.file}:${p.where.line}]: ${p.kind} '${p.name}' has the same ID (${p.id}) as ${other.kind} '${other.name}' declared at ${other.where.file}:${other.where.line}.`));
  for (const px of config.proxies) {
    const c = at(px.where);
    if (px.kind === 'frontend' || px.kind === 'listen') {
      if (px.defaultBackend) {
        const be = backends.get(px.defaultBackend.name);
        if (!be) c.alert(`Proxy '${px.name}': unable to find required default_backend: '${px.defaultBackend.name}'.`);
        // a TCP frontend may hand its connections to an HTTP backend (an HTTP/1 upgrade,
        // configuration.txt section 4); an HTTP frontend cannot use a TCP backend
        else if (px.mode === 'http' && be.mode !== 'http') c.alert(`Proxy '${px.name}': unable to use backend '${be.name}' with different mode.`);
      }
      if (px.binds.length === 0) c.warn(`${px.kind} '${px.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`);
    }
    checkHttpOnTcp(px, (m) => c.warn(m));
    if (px.kind !== 'frontend') {
      if (px.balance && px.mode !== 'http' && ['uri', 'url_param', 'hdr'].includes(px.balance.algo)) {
        c.warn(`Layer 7 hash not possible for ${px.kind} '${px.name}' (needs 'mode http'). Falling back to round robin.`);
        px.balance = { algo: 'roundrobin' } as typeof px.balance;
      }
      assignIds(px.servers, (s) => s.id, (s, id) => { s.id = id; }, (s, other) =>
        at(s.where).alert(`parsing [${s.where.file}:${s.where.line}] : server ${px.name}/${s.name} has the same ID (${s.id}) as server ${other.name} declared at ${other.where.file}:${other.where.line}.`));
    }
    const missing: string[] = [];
    const hasFront = px.kind === 'frontend' || px.kind === 'listen';
    const hasBack = px.kind === 'backend' || px.kind === 'listen';
    if (!px.disabled && (hasFront || hasBack)) {
      if (hasFront && !px.timeouts.client) missing.push('client');
      if (hasBack && (!px.timeouts.connect || !px.timeouts.server)) missing.push('connect', 'server');
      if (missing.length) {
        c.warn(`missing timeouts for ${px.kind} '${px.name}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.`);
      }
    }
  }
}

function assignIds<T>(items: T[], get: (t: T) => number | undefined, set: (t: T, id: number) => void, dup: (t: T, other: T) => void): void {
  const used = new Map<number, T>();
  for (const it of items) {
    const id = get(it);
    if (id === undefined) continue;
    const other = used.get(id);
    if (other) dup(it, other);
    else used.set(id, it);
  }
  let next = 1;
  for (const it of items) {
    if (get(it) !== undefined) continue;
    while (used.has(next)) next++;
    set(it, next);
    used.set(next, it);
  }
}

/** Resolves server host names at start-up (libc resolver, as `init-addr libc`). */
export async function resolveServerNames(config: Config, diags: Diagnostic[]): Promise<boolean> {
  let ok = true;
  const jobs: Promise<void>[] = [];
  for (const px of config.proxies) {
    for (const s of px.servers) {
      if (!s.address.isHostname) continue;
      jobs.push(applyInitAddr(s, async (h, f) => (await lookup(h, { family: f })).address).then((found) => {
        if (found) return;
        ok = false;
        diags.push({ level: 'ALERT', msg: `parsing [${s.where.file}:${s.where.line}] : 'server ${s.name}' : could not resolve address '${s.address.host}'.`, where: s.where });
      }));
    }
    if (px.source?.address.isHostname) ok = false;
  }
  await Promise.all(jobs);
  return ok;
}

export { isIP, parseUint };
