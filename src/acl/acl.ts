// ACLs and conditions (configuration.txt 7.1, 7.2, 7.4): the `acl` keyword, the ACL-specific
// keywords (hdr_beg, path_end, ... = a fetch and a match method), the predefined ACLs, and the
// `if`/`unless` conditions made of named and anonymous ACLs with implicit AND, `or`/`||` and `!`.
// Evaluation is tri-state: a test that cannot decide yet because contents may still arrive
// answers MISS, and the rule waits (tcp-request content with an inspect-delay).
import { ACL_CATALOGUE } from '../sample/catalogue.js';
import { fetchRegistry } from '../sample/registry.js';
import { parseSampleExpr, ExprError, findClose, type SampleExpr } from '../sample/expr.js';
import type { SmpCtx } from '../sample/context.js';
import type { Sample } from '../sample/types.js';
import { PatternIndex, PatternError, defaultMethod, parseIntPattern, patternRefs, MATCH_METHODS, MATCH_ONLY, type MatchMethod, type PatEntry } from './pattern.js';
import { loadPatternFile } from './files.js';
import { addRefExpr, noteRefUse, sharedIndex } from './ref-users.js';

export const enum AclResult { FAIL = 0, PASS = 1, MISS = 2 }

const INT_OPS = ['eq', 'ge', 'gt', 'le', 'lt'];

/** One line of an ACL: an expression matched against patterns with a method. */
export class AclTest {
  readonly expr: SampleExpr;
  readonly method: MatchMethod;
  readonly indexes: PatternIndex[];
  readonly where: string;

  constructor(expr: SampleExpr, method: MatchMethod, indexes: PatternIndex[], where: string) {
    this.expr = expr;
    this.method = method;
    this.indexes = indexes;
    this.where = where;
  }

  /** The entry matching the sample (any index), or undefined. */
  matchSample(s: Sample): PatEntry | undefined {
    if (this.method === 'found') return MATCH_ONLY;
    if (this.method === 'bool') {
      const idx = this.indexes[0]!;
      return idx.match(s);
    }
    for (let i = 0; i < this.indexes.length; i++) {
      const e = this.indexes[i]!.match(s);
      if (e) return e;
    }
    return undefined;
  }

  exec(ctx: SmpCtx): AclResult {
    ctx.wantMore = false;
    const all = this.expr.evalAll(ctx);
    let mayChange = ctx.wantMore;
    if (all) {
      for (let i = 0; i < all.length; i++) {
        const s = all[i]!;
        if (s.mayChange) mayChange = true;
        if (this.matchSample(s)) return AclResult.PASS;
      }
    }
    return mayChange ? AclResult.MISS : AclResult.FAIL;
  }
}

/** A named ACL: its lines are OR-ed, in declaration order. */
export class Acl {
  readonly name: string;
  readonly tests: AclTest[] = [];
  constructor(name: string) { this.name = name; }

  exec(ctx: SmpCtx): AclResult {
    let miss = false;
    for (let i = 0; i < this.tests.length; i++) {
      const r = this.tests[i]!.exec(ctx);
      if (r === AclResult.PASS) return AclResult.PASS;
      if (r === AclResult.MISS) miss = true;
    }
    return miss ? AclResult.MISS : AclResult.FAIL;
  }

  /** Fetches used (for placement checks). */
  fetchUses(): boolean[][] { return this.tests.map((t) => t.expr.fetch.use); }
}

/* ---------------------------------------------------------------------------------------- */
/* ACL-specific keywords                                                                    */
/* ---------------------------------------------------------------------------------------- */

const aclKeywordMap = new Map<string, { fetch: string; method: MatchMethod }>(
  ACL_CATALOGUE.map(([kw, fetch, method]) => [kw, { fetch, method: method as MatchMethod }]),
);

/** The ACL keywords whose fetch is implemented, for `-dKacl`. */
export function dumpAclKeywords(): string[] {
  return ACL_CATALOGUE.filter(([, fetch]) => fetchRegistry.has(fetch)).map(([kw, fetch, m]) => `${kw} = ${fetch} -m ${m}`).sort();
}

/** ACL tests on http_auth_group, whose patterns are checked against the userlist after parsing. */
export const authGroupTests: { test: AclTest; proxy: string; acl: string }[] = [];

/* ---------------------------------------------------------------------------------------- */
/* Parsing `acl <name> <criterion> [flags] [operator] [values]`                             */
/* ---------------------------------------------------------------------------------------- */

export interface AclParseCtx {
  /** "file:line" */
  where: string;
  file: string;
  line: number;
  proxyName?: string;
  /** the ACL's name for descriptions ("" for anonymous ones) */
  aclName: string;
  warn?(msg: string): void;
}

/** Reads the criterion word: a fetch or ACL keyword with arguments and converters. */
function splitCriterion(word: string): { name: string; rest: string } {
  let i = 0;
  while (i < word.length && word[i] !== '(' && word[i] !== ',') i++;
  return { name: word.slice(0, i), rest: word.slice(i) };
}

/**
 * Builds one ACL test from the words after the ACL name (`criterion [flags] [op] values...`).
 * Throws an Error with the message HAProxy-style on failure.
 */
export function parseAclTest(words: string[], cx: AclParseCtx): AclTest {
  if (words.length === 0) throw new Error('missing ACL criterion');
  let crit = words[0]!;
  // a criterion may be spread over several words when a parenthesis is left open
  let wi = 1;
  while (unbalanced(crit) && wi < words.length) crit += ' ' + words[wi++]!;
  const { name, rest } = splitCriterion(crit);
  const alias = aclKeywordMap.get(name);
  let exprText = crit;
  let method: MatchMethod | undefined;
  if (alias && fetchRegistry.has(alias.fetch)) {
    exprText = alias.fetch + rest;
    // the ACL keyword's method applies only without converters
    const afterArgs = rest.startsWith('(') ? rest.slice(findClose(rest, 0) + 1) : rest;
    if (afterArgs === '') method = alias.method;
  }
  let expr: SampleExpr;
  try {
    expr = parseSampleExpr(exprText, { where: cx.where, proxyName: cx.proxyName, file: cx.file });
  } catch (e) {
    if (e instanceof ExprError && alias && !fetchRegistry.has(alias.fetch)) {
      throw new Error(`ACL keyword '${name}' is not supported yet by haproxy-ts`);
    }
    throw new Error(e instanceof ExprError ? e.message : String(e));
  }
  if (method === undefined) method = defaultMethod(expr.out);

  // flags
  let icase = false;
  let uid: number | undefined;
  let asMap = false;
  const files: { path: string; icase: boolean }[] = [];
  let explicitMethod = false;
  for (; wi < words.length; wi++) {
    const w = words[wi]!;
    if (w === '--') { wi++; break; }
    if (w.length < 2 || w[0] !== '-') break;
    switch (w) {
      case '-i': icase = true; continue;
      case '-n': continue; // no DNS resolution: haproxy-ts never resolves patterns
      case '-M': asMap = true; continue;
      case '-u': {
        const v = words[++wi];
        if (v === undefined || !/^[0-9]+$/.test(v)) throw new Error(`'-u' expects a unique numeric id`);
        uid = Number(v);
        if (patternRefs.byUid(uid)) throw new Error(`the unique id ${uid} is already used`);
        continue;
      }
      case '-f': {
        const f = words[++wi];
        if (f === undefined) throw new Error(`'-f' expects a file name`);
        files.push({ path: f, icase });
        continue;
      }
      case '-m': {
        const m = words[++wi];
        if (m === undefined) throw new Error(`'-m' expects a match method`);
        if (!MATCH_METHODS.includes(m as MatchMethod)) throw new Error(`unknown matching method '${m}' when parsing ACL expression`);
        if (files.length) throw new Error(`'-m' must only be specified before patterns and files in parsing ACL expression`);
        method = m as MatchMethod;
        explicitMethod = true;
        continue;
      }
      default:
        // patterns starting with '-' must follow '--'
        throw new Error(`'${w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.`);
    }
  }
  if (method === undefined) {
    throw new Error(`matching method must be specified first (using '-m') when using a sample fetch of this type ('${name}')`);
  }
  void explicitMethod;
  // integer operators may appear among the values and apply to the values after them; a
  // value with an operator is turned into the equivalent range (one holding ':' or '-' is kept)
  let values = words.slice(wi);
  if (method === 'int' || method === 'len') {
    const out: string[] = [];
    let cur: string | undefined;
    for (const v of values) {
      if (INT_OPS.includes(v)) { cur = v; continue; }
      if (!cur || cur === 'eq' || v.includes(':') || v.includes('-')) { out.push(v); continue; }
      try {
        const r = parseIntPattern(v, cur);
        out.push(`${r.lo === -Infinity ? '' : r.lo}:${r.hi === Infinity ? '' : r.hi}`);
      } catch (e) {
        throw new Error(e instanceof PatternError ? e.message : String(e));
      }
    }
    values = out;
  }
  if ((method === 'found' || method === 'bool') && (values.length || files.length)) {
    cx.warn?.(`'${method}' matching method ignores the patterns given to ACL '${cx.aclName}'`);
  }
  const indexes: PatternIndex[] = [];
  if (method === 'found' || method === 'bool') {
    indexes.push(new PatternIndex(method, false));
    return new AclTest(expr, method, indexes, cx.where);
  }
  for (const f of files) {
    const ref = patternRefs.get(f.path, asMap, 'file');
    if (ref.usedAsMap && !asMap && ref.loaded) {
      throw new Error(`The file "${f.path}" is already used as two column file and cannot be used by as one column file.`);
    }
    ref.usedAsAcl = true;
    loadPatternFile(ref, f.path, asMap);
    noteRefUse(ref, 'acl', cx.file, cx.line);
    // indexes over the same list with the same method and case are shared
    const idx = sharedIndex(ref, method, f.icase && method !== 'ip' && method !== 'int', () => {
      const i = new PatternIndex(method, f.icase);
      i.attach(ref);
      return i;
    });
    if (idx.errors.length) throw new Error(`failed to load '${f.path}' : ${idx.errors[0]}`);
    indexes.push(idx);
    addRefExpr(ref, { kind: 'acl', matchName: method, index: idx });
  }
  // inline values (HAProxy also creates this list, empty, when only files are given)
  {
    const desc = `acl '${name}' file '${cx.file}' line ${cx.line}`;
    const ref = patternRefs.anonymous(desc, uid);
    ref.usedAsAcl = true;
    ref.displayName = desc;
    const idx = new PatternIndex(method, icase);
    for (const v of values) {
      try { idx.parse(v); } catch (e) {
        throw new Error(e instanceof PatternError ? e.message : String(e));
      }
      ref.add(v, undefined);
    }
    idx.attach(ref);
    addRefExpr(ref, { kind: 'acl', matchName: method, index: idx });
    if (values.length || !files.length) indexes.push(idx);
  }
  const test = new AclTest(expr, method, indexes, cx.where);
  if (expr.fetch.name === 'http_auth_group' && expr.convs.length === 0) authGroupTests.push({ test, proxy: cx.proxyName ?? '', acl: cx.aclName });
  return test;
}

function unbalanced(s: string): boolean {
  let depth = 0;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) { if (c === '\\') i++; else if (c === q) q = undefined; continue; }
    if (c === '"' || c === "'") q = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return depth > 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Predefined ACLs (7.4)                                                                    */
/* ---------------------------------------------------------------------------------------- */

const PREDEFINED: Record<string, string[]> = {
  FALSE: ['always_false'],
  HTTP: ['req.proto_http'],
  'HTTP_1.0': ['req.ver', '1.0'],
  'HTTP_1.1': ['req.ver', '1.1'],
  'HTTP_2.0': ['req.ver', '2.0'],
  'HTTP_3.0': ['req.ver', '3.0'],
  HTTP_CONTENT: ['req.hdr_val(content-length)', 'gt', '0'],
  HTTP_URL_ABS: ['url_reg', '^[^/:]*://'],
  HTTP_URL_SLASH: ['url_beg', '/'],
  HTTP_URL_STAR: ['url', '*'],
  LOCALHOST: ['src', '127.0.0.1/8', '::1'],
  METH_CONNECT: ['method', 'CONNECT'],
  METH_DELETE: ['method', 'DELETE'],
  METH_GET: ['method', 'GET', 'HEAD'],
  METH_HEAD: ['method', 'HEAD'],
  METH_OPTIONS: ['method', 'OPTIONS'],
  METH_POST: ['method', 'POST'],
  METH_PUT: ['method', 'PUT'],
  METH_TRACE: ['method', 'TRACE'],
  RDP_COOKIE: ['req.rdp_cookie_cnt', 'gt', '0'],
  REQ_CONTENT: ['req.len', 'gt', '0'],
  TRUE: ['always_true'],
  WAIT_END: ['wait_end'],
};
export const PREDEFINED_ACL_NAMES: readonly string[] = Object.keys(PREDEFINED);

const predefinedCache = new Map<string, Acl>();

/** A predefined ACL, built on first use; undefined when unknown or when its fetch is missing. */
export function predefinedAcl(name: string): Acl | undefined {
  const cached = predefinedCache.get(name);
  if (cached) return cached;
  const words = PREDEFINED[name];
  if (!words) return undefined;
  const acl = new Acl(name);
  try {
    acl.tests.push(parseAclTest(words, { where: 'builtin', file: 'builtin', line: 0, aclName: name }));
  } catch {
    return undefined;
  }
  predefinedCache.set(name, acl);
  return acl;
}

/* ---------------------------------------------------------------------------------------- */
/* Conditions                                                                               */
/* ---------------------------------------------------------------------------------------- */

export interface CondTerm { acl: Acl; neg: boolean }

/** `if`/`unless` followed by OR-ed groups of AND-ed (possibly negated) ACLs. */
export class Cond {
  readonly unless: boolean;
  readonly groups: CondTerm[][];
  readonly where: string;

  constructor(unless: boolean, groups: CondTerm[][], where: string) {
    this.unless = unless;
    this.groups = groups;
    this.where = where;
  }

  /** Evaluates the condition (the `unless` inversion included). */
  exec(ctx: SmpCtx): AclResult {
    let res: AclResult = AclResult.FAIL;
    for (let g = 0; g < this.groups.length; g++) {
      const terms = this.groups[g]!;
      let gr: AclResult = AclResult.PASS;
      for (let i = 0; i < terms.length; i++) {
        const t = terms[i]!;
        let r = t.acl.exec(ctx);
        if (t.neg && r !== AclResult.MISS) r = r === AclResult.PASS ? AclResult.FAIL : AclResult.PASS;
        if (r === AclResult.FAIL) { gr = AclResult.FAIL; break; }
        if (r === AclResult.MISS) gr = AclResult.MISS;
      }
      if (gr === AclResult.PASS) { res = AclResult.PASS; break; }
      if (gr === AclResult.MISS) res = AclResult.MISS;
    }
    if (this.unless && res !== AclResult.MISS) res = res === AclResult.PASS ? AclResult.FAIL : AclResult.PASS;
    return res;
  }

  /** Every ACL test in the condition. */
  tests(): AclTest[] {
    const out: AclTest[] = [];
    for (const g of this.groups) for (const t of g) out.push(...t.acl.tests);
    return out;
  }
}

export interface CondParseCtx extends AclParseCtx {
  /** the named ACLs visible here */
  acls: Map<string, Acl>;
  /** place the condition is evaluated (USE.*), for the "will never match" warning */
  use?: number;
  useLabel?: string;
}

/**
 * Parses the words after `if`/`unless` (words[0] is the keyword). Throws an Error with the
 * message on failure.
 */
export function parseCond(words: string[], cx: CondParseCtx): Cond {
  const kw = words[0];
  if (kw !== 'if' && kw !== 'unless') throw new Error(`conditions must start with either 'if' or 'unless' (got '${kw}')`);
  const groups: CondTerm[][] = [[]];
  let i = 1;
  let neg = false;
  let anon = 0;
  if (words.length === 1) throw new Error(`missing condition after '${kw}'`);
  while (i < words.length) {
    let w = words[i]!;
    if (w === 'or' || w === '||') {
      if (groups[groups.length - 1]!.length === 0) throw new Error(`missing ACL before '${w}'`);
      groups.push([]);
      i++;
      continue;
    }
    while (w.startsWith('!')) { neg = !neg; w = w.slice(1); }
    if (w === '') { i++; continue; }
    let acl: Acl | undefined;
    if (w === '{') {
      const end = words.indexOf('}', i + 1);
      if (end < 0) throw new Error(`missing closing '}' in condition`);
      const inner = words.slice(i + 1, end);
      if (!inner.length) throw new Error(`empty anonymous ACL`);
      acl = new Acl(`anonymous`);
      acl.tests.push(parseAclTest(inner, { ...cx, aclName: '' }));
      anon++;
      i = end + 1;
    } else {
      acl = cx.acls.get(w) ?? predefinedAcl(w);
      if (!acl) {
        if (PREDEFINED[w]) throw new Error(`predefined ACL '${w}' is not supported yet by haproxy-ts`);
        throw new Error(`no such ACL : '${w}'`);
      }
      i++;
    }
    groups[groups.length - 1]!.push({ acl, neg });
    neg = false;
  }
  if (groups[groups.length - 1]!.length === 0) throw new Error(`missing ACL after 'or'`);
  const cond = new Cond(kw === 'unless', groups, cx.where);
  if (cx.use !== undefined && cx.warn) {
    for (const g of groups) {
      for (const t of g) {
        if (t.acl.tests.length && t.acl.tests.every((x) => !x.expr.fetch.use[cx.use!])) {
          const what = t.acl.name === 'anonymous' ? 'anonymous acl' : `acl '${t.acl.name}'`;
          cx.warn(`${what} will never match because it only involves keywords that are incompatible with '${cx.useLabel ?? 'this rule'}'`);
        }
      }
    }
  }
  return cond;
}
