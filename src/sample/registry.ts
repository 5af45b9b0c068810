// Registries of sample fetches and converters. A module registers the keywords it implements;
// their interface (argument types, input/output types, where a fetch may be used) comes from
// HAProxy 3.2's catalogue (catalogue.ts), so `-dKsmp` / `-dKcnv` print what haproxy 3.2 prints
// for the same keyword. Nothing is registered unless it works.
import { FETCH_CATALOGUE, CONVERTER_CATALOGUE } from './catalogue.js';
import type { SmpCtx } from './context.js';
import type { Sample, SmpType } from './types.js';

/* ---- places a fetch may be used (the 22 columns of -dKsmp) ---- */
export const USE = {
  FE_CON_ACC: 0,   // frontend tcp-request connection rule
  FE_SES_ACC: 1,   // frontend tcp-request session rule
  FE_REQ_CNT: 2,   // frontend tcp-request content rule
  FE_HRQ_HDR: 3,   // frontend http-request rule
  FE_HRQ_BDY: 4,   // frontend http-request body rule
  FE_SET_BCK: 5,   // frontend use-backend rule
  BE_REQ_CNT: 6,   // backend tcp-request content rule
  BE_HRQ_HDR: 7,   // backend http-request rule
  BE_HRQ_BDY: 8,   // backend http-request body rule
  BE_SET_SRV: 9,   // backend use-server, balance or stick-match rule
  BE_SRV_CON: 10,  // server source selection
  BE_RES_CNT: 11,  // backend tcp-response content rule
  BE_HRS_HDR: 12,  // backend http-response rule
  BE_HRS_BDY: 13,  // backend http-response body rule
  BE_STO_RUL: 14,  // backend stick-store rule
  FE_RES_CNT: 15,  // frontend tcp-response content rule
  FE_HRS_HDR: 16,  // frontend http-response rule
  FE_HRS_BDY: 17,  // frontend http-response body rule
  FE_LOG_END: 18,  // logs
  BE_CHK_RUL: 19,  // backend tcp-check rule
  CFG_PARSER: 20,  // configuration parser
  CLI_PARSER: 21,  // CLI parser
} as const;
export type UsePlace = typeof USE[keyof typeof USE];

export const USE_LABELS: readonly string[] = [
  'frontend tcp-request connection rule', 'frontend tcp-request session rule', 'frontend tcp-request content rule',
  'frontend http-request header rule', 'frontend http-request body rule', 'frontend use-backend rule',
  'backend tcp-request content rule', 'backend http-request header rule', 'backend http-request body rule',
  'backend use-server, balance or stick-match rule', 'server source selection', 'backend tcp-response content rule',
  'backend http-response header rule', 'backend http-response body rule', 'backend stick-store rule',
  'frontend tcp-response content rule', 'frontend http-response header rule', 'frontend http-response body rule',
  'logs', 'backend tcp-check rule', 'configuration parser', 'CLI parser',
];

/* ---- argument types ---- */
export type ArgType =
  | 'integer' | 'string' | 'backend' | 'frontend' | 'server' | 'table' | 'user list' | 'regex'
  | 'IPv4 address' | 'IPv6 address' | 'IPv4 mask' | 'IPv6 mask' | 'Protocol buffers field number';

export interface ArgSpec { type: ArgType; optional: boolean }

/** Parses a catalogue argument list such as `string[,integer,integer]`. */
export function parseArgSpecs(text: string): ArgSpec[] {
  const out: ArgSpec[] = [];
  let optional = false;
  let cur = '';
  const flush = () => { if (cur) { out.push({ type: cur as ArgType, optional }); cur = ''; } };
  for (const ch of text) {
    if (ch === '[') { flush(); optional = true; continue; }
    if (ch === ']') { flush(); continue; }
    if (ch === ',') { flush(); continue; }
    cur += ch;
  }
  flush();
  return out;
}

/** A reference to a named object, resolved after the whole configuration is parsed. */
export interface NameRef<T = unknown> { kind: 'backend' | 'frontend' | 'server' | 'table' | 'user list'; name: string; backend?: string; ref?: T }

/** What a keyword's check() sees at configuration time. */
export interface ArgCheckCtx {
  /** file:line of the expression, for messages */
  where: string;
  /** the proxy the expression is in (undefined in global/CLI) */
  proxyName?: string;
  /** the file the configuration comes from (to resolve relative map file names) */
  file?: string;
}

export type FetchFn = (args: any[], ctx: SmpCtx) => Sample | undefined;

export interface FetchDef {
  name: string;
  args: ArgSpec[];
  /** the catalogue's argument text, for -dK */
  argText: string;
  out: SmpType;
  /** 22 booleans: where the fetch may be used (USE.*) */
  use: boolean[];
  fn: FetchFn;
  /**
   * Every value, for fetches that have several (headers, cookies, parameters): ACLs match
   * any of them. Without it, the single value of fn is used.
   */
  all?: (args: any[], ctx: SmpCtx) => Sample[] | undefined;
  /** validates/transforms the parsed arguments; returns an error message or undefined */
  check?: (args: any[], cx: ArgCheckCtx) => string | undefined;
}

export type ConvFn = (s: Sample, args: any[], ctx: SmpCtx) => Sample | undefined;

export interface ConvDef {
  name: string;
  args: ArgSpec[];
  argText: string;
  in: SmpType;
  /** output type; 'same' in the catalogue is stored as 'any' with sameAsInput */
  out: SmpType;
  sameAsInput?: boolean;
  fn: ConvFn;
  check?: (args: any[], cx: ArgCheckCtx) => string | undefined;
}

export const fetchRegistry = new Map<string, FetchDef>();
export const converterRegistry = new Map<string, ConvDef>();

const fetchCatalogue = new Map(FETCH_CATALOGUE.map((r) => [r[0], r]));
const convCatalogue = new Map(CONVERTER_CATALOGUE.map((r) => [r[0], r]));

export interface FetchImpl {
  fn: FetchFn;
  all?: FetchDef['all'];
  check?: FetchDef['check'];
  /** overrides of the catalogue, for fetches HAProxy 3.2 does not list */
  args?: string;
  out?: SmpType;
  use?: string;
}

/** Registers the implementation of a fetch HAProxy lists (or, with args/out/use, a new one). */
export function registerFetch(name: string, impl: FetchImpl): void {
  const cat = fetchCatalogue.get(name);
  const argText = impl.args ?? cat?.[1];
  const out = (impl.out ?? cat?.[2]) as SmpType | undefined;
  const use = impl.use ?? cat?.[3];
  if (argText === undefined || out === undefined || use === undefined) throw new Error(`sample fetch '${name}' is not in the catalogue and has no signature`);
  fetchRegistry.set(name, {
    name, args: parseArgSpecs(argText), argText, out: out === ('any' as SmpType) ? 'any' : out,
    use: [...use].map((c) => c === 'Y'), fn: impl.fn, all: impl.all, check: impl.check,
  });
}

export function registerFetches(defs: Record<string, FetchImpl | FetchFn>): void {
  for (const [name, d] of Object.entries(defs)) registerFetch(name, typeof d === 'function' ? { fn: d } : d);
}

export interface ConvImpl {
  fn: ConvFn;
  check?: ConvDef['check'];
  args?: string;
  in?: SmpType;
  out?: SmpType | 'same';
}

export function registerConverter(name: string, impl: ConvImpl): void {
  const cat = convCatalogue.get(name);
  const argText = impl.args ?? cat?.[1];
  const inT = (impl.in ?? cat?.[2]) as SmpType | undefined;
  const outT = (impl.out ?? cat?.[3]) as SmpType | 'same' | undefined;
  if (argText === undefined || inT === undefined || outT === undefined) throw new Error(`converter '${name}' is not in the catalogue and has no signature`);
  converterRegistry.set(name, {
    name, args: parseArgSpecs(argText), argText, in: inT,
    out: outT === 'same' ? 'any' : outT, sameAsInput: outT === 'same', fn: impl.fn, check: impl.check,
  });
}

export function registerConverters(defs: Record<string, ConvImpl | ConvFn>): void {
  for (const [name, d] of Object.entries(defs)) registerConverter(name, typeof d === 'function' ? { fn: d } : d);
}

/** `-dKsmp` lines, as haproxy prints them. */
export function dumpFetches(): string[] {
  return [...fetchRegistry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((d) =>
    `[ ${d.use.map((u) => (u ? 'Y' : '.')).join(' ')} ] ${d.name}${d.argText ? `(${d.argText})` : ''}: ${d.out}`);
}

/** `-dKcnv` lines, as haproxy prints them (output type first). */
export function dumpConverters(): string[] {
  return [...converterRegistry.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((d) =>
    `${d.name}${d.argText ? `(${d.argText})` : ''}: ${d.sameAsInput ? 'same' : d.out} => ${d.in}`);
}
