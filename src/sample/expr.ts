// Sample expressions: `fetch[(args)][,converter[(args)]]...` (configuration.txt 7.3), compiled once
// at start-up into a fetch call and a chain of converter calls with their arguments parsed,
// typed and checked. Evaluation allocates only the samples themselves.
import { fetchRegistry, converterRegistry, type ArgSpec, type ArgCheckCtx, type FetchDef, type ConvDef, type NameRef } from './registry.js';
import { cast, canCast, parseIpv4, parseIpv6, strToInt, type Sample, type SmpType } from './types.js';
import type { SmpCtx } from './context.js';
import { suggest } from '../util/units.js';

export class ExprError extends Error {}

// A backslash (outside single quotes) escapes only a backslash, a quote or a blank; before anything
// else it is kept (a regex back-reference \1 survives). It does not protect a comma or a closing
// parenthesis: those need quotes (checked with HAProxy 2.6, which ends `str(a\)b)` at the
// backslashed parenthesis and splits `str(a\,b)` at the comma).
function isArgEscape(c: string): boolean { return c === '\\' || c === '"' || c === "'" || c === ' '; }

/** Splits the inside of `(...)` into arguments: commas separate, quotes and backslashes escape. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === q) { q = undefined; continue; }
      if (c === '\\' && q === '"' && i + 1 < text.length && isArgEscape(text[i + 1]!)) { cur += text[++i]; continue; }
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '\\' && i + 1 < text.length && isArgEscape(text[i + 1]!)) { cur += text[++i]; continue; }
    if (c === ',') { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  if (q) throw new ExprError(`unterminated quote in argument list '${text}'`);
  out.push(cur);
  return out;
}

/**
 * Finds the `)` closing the `(` at `open`, outside quotes. Parentheses nest, as the 3.2
 * documentation's `add_item(",",,(site1))` needs; a backslash does not protect one (it only
 * escapes quotes, blanks and itself). -1 if there is none.
 */
export function findClose(text: string, open: number): number {
  let q: string | undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '\\' && q === '"' && i + 1 < text.length && isArgEscape(text[i + 1]!)) { i++; continue; }
      if (c === q) q = undefined;
      continue;
    }
    if (c === '\\' && i + 1 < text.length && isArgEscape(text[i + 1]!)) { i++; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '(') depth++;
    else if (c === ')') { depth--; if (depth === 0) return i; }
  }
  return -1;
}

/** References collected while parsing, checked once the whole configuration is known. */
export const pendingRefs: { ref: NameRef; where: string; proxyName?: string; kw: string }[] = [];

/** Parses one argument according to its declared type. */
export function parseArg(spec: ArgSpec, text: string, kw: string, pos: number, cx: ArgCheckCtx): any {
  const bad = (why?: string): never => {
    throw new ExprError(`failed to parse '${text}' as type '${spec.type}' at position ${pos + 1}${why ? ` (${why})` : ''}`);
  };
  switch (spec.type) {
    case 'integer': case 'Protocol buffers field number': {
      if (spec.type === 'Protocol buffers field number') {
        if (!/^[0-9]+(\.[0-9]+)*$/.test(text)) bad();
        return text.split('.').map(Number);
      }
      if (!/^[+-]?[0-9]+$/.test(text)) bad();
      const n = strToInt(text);
      return n;
    }
    case 'string': return text;
    case 'regex':
      try { return { source: text, re: new RegExp(text) }; } catch (e) { return bad((e as Error).message); }
    case 'IPv4 address': { const v = parseIpv4(text); if (v === undefined) bad(); return v; }
    case 'IPv6 address': { const v = parseIpv6(text); if (!v) bad(); return v; }
    case 'IPv4 mask': {
      if (/^[0-9]+$/.test(text)) { const n = Number(text); if (n > 32) bad(); return n; }
      const v = parseIpv4(text);
      if (v === undefined) bad();
      // a contiguous netmask only: the prefix length
      let len = 0;
      while (len < 32 && ((v! >>> (31 - len)) & 1)) len++;
      if (len < 32 && ((v! << len) >>> 0) !== 0) bad();
      return len;
    }
    case 'IPv6 mask': { if (!/^[0-9]+$/.test(text) || Number(text) > 128) bad(); return Number(text); }
    case 'backend': case 'frontend': case 'table': case 'user list': {
      const ref: NameRef = { kind: spec.type, name: text };
      pendingRefs.push({ ref, where: cx.where, proxyName: cx.proxyName, kw });
      return ref;
    }
    case 'server': {
      const slash = text.indexOf('/');
      const ref: NameRef = slash >= 0 ? { kind: 'server', backend: text.slice(0, slash), name: text.slice(slash + 1) } : { kind: 'server', name: text, backend: cx.proxyName };
      pendingRefs.push({ ref, where: cx.where, proxyName: cx.proxyName, kw });
      return ref;
    }
  }
  return text;
}

/** Parses `text` (the inside of the parentheses, or undefined) against a keyword's argument specs. */
export function parseArgs(kwKind: string, kw: string, specs: ArgSpec[], text: string | undefined, cx: ArgCheckCtx): any[] {
  const raw = text === undefined ? [] : splitArgs(text);
  // "fetch()" is the same as "fetch"
  if (raw.length === 1 && raw[0] === '' && (specs.length === 0 || specs[0]!.optional)) raw.length = 0;
  const min = specs.filter((s) => !s.optional).length;
  if (raw.length > specs.length) {
    throw new ExprError(`invalid args in ${kwKind} '${kw}' : end of arguments expected at position ${specs.length + 1}, but got '${raw[specs.length]}'`);
  }
  if (raw.length < min) {
    throw new ExprError(`missing args for ${kwKind} '${kw}' : expected type '${specs[raw.length]!.type}' at position ${raw.length + 1}`);
  }
  const out: any[] = [];
  for (let i = 0; i < raw.length; i++) {
    try {
      out.push(parseArg(specs[i]!, raw[i]!, kw, i, cx));
    } catch (e) {
      throw new ExprError(`invalid args in ${kwKind} '${kw}' : ${(e as Error).message}`);
    }
  }
  return out;
}

export interface ConvStep { def: ConvDef; args: any[] }

/** A compiled sample expression. */
export class SampleExpr {
  readonly text: string;
  readonly fetch: FetchDef;
  readonly fetchArgs: any[];
  readonly convs: ConvStep[];
  /** output type (after the last converter) */
  readonly out: SmpType;

  constructor(text: string, fetch: FetchDef, fetchArgs: any[], convs: ConvStep[]) {
    this.text = text;
    this.fetch = fetch;
    this.fetchArgs = fetchArgs;
    this.convs = convs;
    let t: SmpType = fetch.out;
    for (const c of convs) t = c.def.sameAsInput ? t : c.def.out;
    this.out = t;
  }

  /** Evaluates the expression; undefined when the sample is not found or a step fails. */
  eval(ctx: SmpCtx): Sample | undefined {
    const s = this.fetch.fn(this.fetchArgs, ctx);
    if (s === undefined || this.convs.length === 0) return s;
    return this.convert(s, ctx);
  }

  /** Every value of the fetch, each through the converters (ACL matching). */
  evalAll(ctx: SmpCtx): Sample[] | undefined {
    if (!this.fetch.all) {
      const s = this.eval(ctx);
      return s === undefined ? undefined : [s];
    }
    const all = this.fetch.all(this.fetchArgs, ctx);
    if (all === undefined || this.convs.length === 0) return all;
    const out: Sample[] = [];
    for (const s of all) { const c = this.convert(s, ctx); if (c !== undefined) out.push(c); }
    return out;
  }

  private convert(s: Sample | undefined, ctx: SmpCtx): Sample | undefined {
    const mayChange = s!.mayChange;
    for (let i = 0; i < this.convs.length; i++) {
      const step = this.convs[i]!;
      s = cast(s!, step.def.in);
      if (s === undefined) return undefined;
      s = step.def.fn(s, step.args, ctx);
      if (s === undefined) return undefined;
    }
    if (mayChange && s) s.mayChange = true;
    return s;
  }
}

/** Reads the word of a keyword name at `p`: letters, digits and `._-+`. */
function readName(text: string, p: number): number {
  let e = p;
  while (e < text.length) {
    const c = text.charCodeAt(e);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d || c === 0x2b) e++;
    else break;
  }
  return e;
}

export interface ParseExprOptions extends ArgCheckCtx {
  /** where the expression is used (USE.* index); the fetch must be valid there */
  use?: number;
  /** a label for that place, for the error message */
  useLabel?: string;
}

/**
 * Parses a sample expression from one configuration word. HAProxy also accepts the converter
 * list spread on the following words when a parenthesis is left open; `words`/`start` allow it.
 */
export function parseSampleExpr(text: string, opts: ParseExprOptions): SampleExpr {
  let p = readName(text, 0);
  const fname = text.slice(0, p);
  if (!fname) throw new ExprError(`unknown fetch method '${text}'`);
  const fetch = fetchRegistry.get(fname);
  if (!fetch) {
    const s = suggest(fname, fetchRegistry.keys());
    throw new ExprError(`unknown fetch method '${fname}'${s ? `; did you mean '${s}' maybe ?` : ''}`);
  }
  let fargsText: string | undefined;
  if (text[p] === '(') {
    const close = findClose(text, p);
    if (close < 0) throw new ExprError(`syntax error: missing ')' after fetch method '${fname}'`);
    fargsText = text.slice(p + 1, close);
    p = close + 1;
  }
  const fargs = parseArgs('fetch method', fname, fetch.args, fargsText, opts);
  if (fetch.check) {
    const err = fetch.check(fargs, opts);
    if (err) throw new ExprError(`invalid args in fetch method '${fname}' : ${err}`);
  }
  if (opts.use !== undefined && !fetch.use[opts.use]) {
    throw new ExprError(`fetch method '${fname}' extracts information from '${fetchPlaces(fetch)}', none of which is available here${opts.useLabel ? ` ('${opts.useLabel}')` : ''}`);
  }
  const convs: ConvStep[] = [];
  let t: SmpType = fetch.out;
  while (p < text.length) {
    if (text[p] !== ',') throw new ExprError(`missing comma after fetch keyword '${fname}'`);
    // repeated and trailing commas are tolerated
    while (text[p] === ',') p++;
    if (p >= text.length) break;
    const e = readName(text, p);
    const cname = text.slice(p, e);
    const def = converterRegistry.get(cname);
    if (!def) {
      const s = cname ? suggest(cname, converterRegistry.keys()) : undefined;
      throw new ExprError(`unknown converter '${cname || text.slice(p)}'${s ? `; did you mean '${s}' maybe ?` : ''}`);
    }
    p = e;
    let cargsText: string | undefined;
    if (text[p] === '(') {
      const close = findClose(text, p);
      if (close < 0) throw new ExprError(`syntax error: missing ')' after converter '${cname}'`);
      cargsText = text.slice(p + 1, close);
      p = close + 1;
    }
    if (!canCast(t, def.in)) throw new ExprError(`converter '${cname}' cannot be applied`);
    const cargs = parseArgs('converter', cname, def.args, cargsText, opts);
    if (def.check) {
      const err = def.check(cargs, opts);
      if (err) throw new ExprError(`invalid args in converter '${cname}' : ${err}`);
    }
    convs.push({ def, args: cargs });
    t = def.sameAsInput ? t : def.out;
  }
  return new SampleExpr(text, fetch, fargs, convs);
}

/** A readable list of where a fetch may be used (for error messages). */
export function fetchPlaces(f: FetchDef): string {
  const kinds: string[] = [];
  if (f.use[0] || f.use[1]) kinds.push('connection');
  if (f.use[2] || f.use[6]) kinds.push('request contents');
  if (f.use[3] || f.use[7]) kinds.push('request headers');
  if (f.use[4] || f.use[8]) kinds.push('request body');
  if (f.use[11] || f.use[15]) kinds.push('response contents');
  if (f.use[12] || f.use[16]) kinds.push('response headers');
  if (f.use[18]) kinds.push('logs');
  return kinds.join(', ') || 'internal state';
}
