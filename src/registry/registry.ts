// Typed keyword registries. Each feature module registers the keywords it owns when it is
// imported; nothing is registered unless it works. `-dK` prints from these tables.
import type { Config, GlobalConfig, ProxyConfig, ProxyKind, Where, BindConfig, ServerOptions } from '../config/model.js';

export interface ParseCtx {
  where: Where;
  alert(msg: string): void;
  warn(msg: string): void;
  /** Proxy being parsed, for messages such as "proxy 'x'". */
  proxyLabel?: string;
}

export interface GlobalKeyword {
  name: string;
  parse(args: string[], g: GlobalConfig, ctx: ParseCtx): void;
}

/** Which proxy sections accept a keyword: (d)efaults, (f)rontend, (b)ackend; listen takes f or b. */
export interface Caps { d: boolean; f: boolean; b: boolean }

export interface ProxyKeyword {
  name: string;
  caps: Caps;
  parse(args: string[], px: ProxyConfig, ctx: ParseCtx): void;
  /** shown in -dK output after the name (e.g. sub-keywords) */
  hidden?: boolean;
}

export interface OptionKeyword {
  name: string;
  caps: Caps;
  /** may be prefixed with "no" */
  negatable: boolean;
  /** extra arguments allowed after the option name */
  set(px: ProxyConfig, enabled: boolean, args: string[], ctx: ParseCtx): void;
}

export interface BindKeyword {
  name: string;
  /** number of arguments it takes */
  args: number;
  parse(args: string[], bind: BindConfig, ctx: ParseCtx): void;
}

export interface ServerKeyword {
  name: string;
  args: number;
  /** also valid on default-server lines */
  inDefaultServer: boolean;
  parse(args: string[], srv: ServerOptions, ctx: ParseCtx): void;
}

export interface TimeoutKeyword {
  name: string;
  caps: Caps;
  set(px: ProxyConfig, ms: number): void;
}

export const globalKeywords = new Map<string, GlobalKeyword>();
export const proxyKeywords = new Map<string, ProxyKeyword>();
export const optionKeywords = new Map<string, OptionKeyword>();
export const bindKeywords = new Map<string, BindKeyword>();
export const serverKeywords = new Map<string, ServerKeyword>();
export const timeoutKeywords = new Map<string, TimeoutKeyword>();

export function registerGlobal(...kws: GlobalKeyword[]): void { for (const k of kws) globalKeywords.set(k.name, k); }
export function registerProxy(...kws: ProxyKeyword[]): void { for (const k of kws) proxyKeywords.set(k.name, k); }
export function registerOption(...kws: OptionKeyword[]): void { for (const k of kws) optionKeywords.set(k.name, k); }
export function registerBind(...kws: BindKeyword[]): void { for (const k of kws) bindKeywords.set(k.name, k); }
export function registerServer(...kws: ServerKeyword[]): void { for (const k of kws) serverKeywords.set(k.name, k); }
export function registerTimeout(...kws: TimeoutKeyword[]): void { for (const k of kws) timeoutKeywords.set(k.name, k); }

export const ALL: Caps = { d: true, f: true, b: true };
export const FE: Caps = { d: true, f: true, b: false };
export const BE: Caps = { d: true, f: false, b: true };
export const FE_NODEF: Caps = { d: false, f: true, b: false };
export const BE_NODEF: Caps = { d: false, f: false, b: true };
export const NODEF: Caps = { d: false, f: true, b: true };

/** A top-level section other than global and the proxies (e.g. http-errors). */
export interface SectionKeyword {
  name: string;
  /** the section's header line; false: the section's lines are skipped */
  start(args: string[], ctx: ParseCtx, config: Config): boolean;
  /** one line inside the section */
  line(args: string[], ctx: ParseCtx, config: Config): void;
}
export const sectionKeywords = new Map<string, SectionKeyword>();
export function registerSection(...kws: SectionKeyword[]): void { for (const k of kws) sectionKeywords.set(k.name, k); }

/** Checks run after parsing when no alert was raised (HAProxy's check_config_validity hooks). */
export type PostParseCheck = (config: Config, ctx: ParseCtx) => void;
export const postParseChecks: PostParseCheck[] = [];
export function registerPostParse(...checks: PostParseCheck[]): void { postParseChecks.push(...checks); }

export function kindAccepts(kind: ProxyKind, caps: Caps): boolean {
  switch (kind) {
    case 'defaults': return caps.d;
    case 'frontend': return caps.f;
    case 'backend': return caps.b;
    case 'listen': return caps.f || caps.b;
  }
}

// ---- runtime API (CLI) keywords ------------------------------------------------------------

export type CliLevel = 'user' | 'operator' | 'admin';

export interface CliContext {
  level: CliLevel;
  /** write output for the current command */
  out(text: string): void;
}

export interface CliKeyword {
  /** the fixed leading words, e.g. ['show', 'info'] */
  words: string[];
  usage: string;
  help: string;
  level: CliLevel;
  /** args are all the words of the command line, including the fixed ones */
  run(args: string[], ctx: CliContext, payload?: string): void | Promise<void>;
}

export const cliKeywords: CliKeyword[] = [];
export function registerCli(...kws: CliKeyword[]): void { cliKeywords.push(...kws); }

// ---- sample fetches, converters, ACL keywords, actions, filters, services ----------------
// The modules owning them install the functions listing what they registered; -dK prints them.
export interface NamedEntry { name: string; signature: string }
export const filters: NamedEntry[] = [];
export const services: NamedEntry[] = [];
export const keywordDumpers: {
  acl?: () => string[];
  smp?: () => string[];
  cnv?: () => string[];
  /** rule-set actions, printed in the 'listen' block ("\thttp-request deny") */
  actions?: () => string[];
} = {};

function capsLabel(c: Caps): string {
  const parts: string[] = [];
  if (c.f) parts.push('FE');
  if (c.b) parts.push('BE');
  return `[ ${parts.join(' ')} ]`;
}

/** Output of `-dK<classes>`, laid out as `haproxy -dKall` does. */
export function dumpKeywords(classes: string[]): string {
  const want = new Set(classes.includes('all') ? ['acl', 'cfg', 'cli', 'cnv', 'flt', 'smp', 'svc'] : classes);
  const out: string[] = [];
  if (want.has('acl')) {
    out.push('# List of registered ACL keywords:');
    out.push(...(keywordDumpers.acl?.() ?? []));
  }
  if (want.has('cfg')) {
    out.push('# List of registered configuration keywords:');
    out.push('global');
    for (const k of [...globalKeywords.keys()].sort()) out.push(`\t${k}`);
    out.push('listen');
    for (const k of [...proxyKeywords.keys()].sort()) if (!proxyKeywords.get(k)!.hidden) out.push(`\t${k}`);
    for (const k of [...timeoutKeywords.keys()].sort()) out.push(`\ttimeout ${k}`);
    for (const k of [...bindKeywords.values()].sort((a, b) => a.name.localeCompare(b.name))) out.push(`\tbind <addr> ${k.name}${k.args ? ` +${k.args}` : ''}`);
    for (const k of [...serverKeywords.values()].sort((a, b) => a.name.localeCompare(b.name))) out.push(`\tserver <name> <addr> ${k.name}${k.args ? ` +${k.args}` : ''}`);
    for (const k of [...optionKeywords.values()].sort((a, b) => a.name.localeCompare(b.name))) out.push(`\toption ${k.name} ${capsLabel(k.caps)}`);
    out.push(...(keywordDumpers.actions?.() ?? []));
  }
  if (want.has('cli')) {
    out.push('# List of registered CLI keywords:');
    for (const k of [...cliKeywords].sort((a, b) => a.words.join(' ').localeCompare(b.words.join(' ')))) out.push(`${k.words.join(' ')} [WORKER]`);
  }
  if (want.has('cnv')) {
    out.push('# List of registered sample converter functions:');
    out.push(...(keywordDumpers.cnv?.() ?? []));
  }
  if (want.has('flt')) {
    out.push('# List of registered filter names:');
    for (const e of filters) out.push(`${e.name} ${e.signature}`);
  }
  if (want.has('smp')) {
    out.push('# List of registered sample fetch functions:');
    out.push(...(keywordDumpers.smp?.() ?? []));
  }
  if (want.has('svc')) {
    out.push('# List of registered service names:');
    for (const e of services) out.push(e.name);
  }
  return out.join('\n') + '\n';
}
