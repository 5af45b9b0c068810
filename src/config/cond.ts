// Conditional expressions used by ".if" / ".elif" and by "-cc"
// (configuration.txt 2.4 "Conditional blocks").
//
// The words of the directive (already tokenized, so quotes are gone and
// environment variables are expanded) are glued back with single spaces and the
// resulting text is parsed as:
//
//   expr := and-expr [ "||" expr ]
//   and-expr := term [ "&&" and-expr ]
//   term := { "!" } ( integer | "(" expr ")" | predicate [ "(" args ")" ] )
//
// Blanks (spaces/tabs) are allowed around operators, but inside predicate
// arguments they are part of the value.

import { tokenizeLine, type EnvMap } from './lexer.js';

export interface CondContext {
  /** current version string, e.g. "3.2.0" */
  version: string;
  /** true if the feature is listed as present ("+NAME") in the build features */
  hasFeature(name: string): boolean;
  /** true if the run-time option (POLL, EPOLL, SPLICE, ...) is enabled */
  isEnabled(option: string): boolean;
  /** environment for defined(); defaults to process.env */
  env?: Record<string, string | undefined>;
}

export class CondError extends Error {
  /** 0-based offset of the offending part in the evaluated expression text */
  readonly pos: number;
  /** the expression text as evaluated (words joined with spaces) */
  readonly expr: string;

  constructor(message: string, pos = 0, expr = '') {
    super(message);
    this.name = 'CondError';
    this.pos = pos;
    this.expr = expr;
  }
}

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Split a version string of the form
 *   a[.b[.c[.d]]][-{dev,rc,pre}N][-...][-commit]
 * into 7 numbers: a, b, c, d, tag kind (dev=1, rc/pre=2, release=3), tag
 * number and trailing build/commit number. Missing numbers count as zero, so
 * "3.2" equals "3.2.0", and "3.2-dev4" < "3.2-rc1" < "3.2". Returns null when
 * the string is not a version.
 */
export function parseVersion(version: string): number[] | null {
  const out = [0, 0, 0, 0, 3, 0, 0];
  if (version.length === 0) return null;

  const readNum = (from: number): { value: number; end: number } => {
    let end = from;
    while (end < version.length && version.charCodeAt(end) >= 0x30 && version.charCodeAt(end) <= 0x39) end++;
    return { value: end > from ? Number(version.slice(from, end)) : 0, end };
  };

  const trailing = (from: number): number[] | null => {
    // the last dash-separated field is taken as a build number when numeric
    const rest = version.slice(from);
    const dash = rest.lastIndexOf('-');
    const field = dash >= 0 ? rest.slice(dash + 1) : rest;
    if (dash >= 0 && field.length === 0) return null;
    out[6] = /^[0-9]+$/.test(field) ? Number(field) : 0;
    return out;
  };

  const tag = (from: number): number[] | null => {
    const c = version.charCodeAt(from);
    if (c >= 0x30 && c <= 0x39) return trailing(from);
    let p = from;
    if (version.startsWith('dev', p)) {
      out[4] = 1;
      p += 3;
    } else if (version.startsWith('rc', p)) {
      out[4] = 2;
      p += 2;
    } else if (version.startsWith('pre', p)) {
      out[4] = 2;
      p += 3;
    } else {
      return trailing(from);
    }
    const num = readNum(p);
    out[5] = num.value;
    if (num.end >= version.length) return out;
    if (version[num.end] !== '-') return null;
    return trailing(num.end + 1);
  };

  let p = 0;
  for (let k = 0; k < 4; k++) {
    const num = readNum(p);
    out[k] = num.value;
    if (num.end >= version.length) return out;
    const sep = version[num.end];
    if (sep === '-') return tag(num.end + 1);
    if (sep !== '.' || k === 3) return null;
    p = num.end + 1;
  }
  return null; // not reached
}

/**
 * Compare two version strings: negative if a is older than b, 0 if equal,
 * positive if a is newer. Throws RangeError if either is not a version.
 */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  if (!va) throw new RangeError(`invalid version '${a}'`);
  const vb = parseVersion(b);
  if (!vb) throw new RangeError(`invalid version '${b}'`);
  for (let k = 0; k < va.length; k++) {
    if (va[k]! < vb[k]!) return -1;
    if (va[k]! > vb[k]!) return 1;
  }
  return 0;
}

/*
 * Position of <arg> relative to the current version: -1 if older, 0 if the
 * same, 1 if newer. Like HAProxy, an unparsable current version gives -2 and
 * an unparsable argument gives -3 (so version_atleast() is then true and
 * version_before() false).
 */
function compareWithCurrent(current: string, arg: string): number {
  const loc = parseVersion(current);
  if (!loc) return -2;
  const mod = parseVersion(arg);
  if (!mod) return -3;
  for (let k = 0; k < loc.length; k++) {
    if (mod[k]! < loc[k]!) return -1;
    if (mod[k]! > loc[k]!) return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

type PredName =
  | 'defined'
  | 'feature'
  | 'streq'
  | 'strneq'
  | 'strstr'
  | 'version_atleast'
  | 'version_before'
  | 'enabled';

const PREDICATES: ReadonlyMap<string, { name: PredName; nargs: number }> = new Map([
  ['defined', { name: 'defined', nargs: 1 }],
  ['feature', { name: 'feature', nargs: 1 }],
  ['streq', { name: 'streq', nargs: 2 }],
  ['strneq', { name: 'strneq', nargs: 2 }],
  ['strstr', { name: 'strstr', nargs: 2 }],
  ['version_atleast', { name: 'version_atleast', nargs: 1 }],
  ['version_before', { name: 'version_before', nargs: 1 }],
  ['enabled', { name: 'enabled', nargs: 1 }],
] as const);

type Term =
  | { kind: 'const'; value: boolean; neg: boolean }
  | { kind: 'paren'; expr: OrExpr; neg: boolean }
  | { kind: 'pred'; pred: PredName; args: string[]; neg: boolean };

/** list of terms joined by && */
type AndExpr = Term[];
/** list of and-expressions joined by || */
type OrExpr = AndExpr[];

const MAX_DEPTH = 512;

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  private err(msg: string, at: number): never {
    throw new CondError(msg, at, this.text);
  }

  private skipBlanks(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** parses "a || b || ..." ; returns null if nothing could be parsed (empty input) */
  parseOr(depth: number): OrExpr | null {
    if (this.atEnd()) return null;
    const start = this.pos;
    const list: OrExpr = [];
    for (;;) {
      const opStart = this.pos;
      const and = this.parseAnd(depth);
      if (!and) {
        this.err(`unparsable conditional expression '${this.text.slice(opStart)}'`, opStart);
      }
      list.push(and);
      this.skipBlanks();
      if (this.text.startsWith('||', this.pos)) {
        this.pos += 2;
        this.skipBlanks();
        if (this.atEnd()) this.err(`unparsable conditional expression '${this.text.slice(start)}'`, start);
        continue;
      }
      return list;
    }
  }

  /** parses "a && b && ..." ; returns null if nothing could be parsed */
  private parseAnd(depth: number): AndExpr | null {
    if (this.atEnd()) return null;
    const start = this.pos;
    const list: AndExpr = [];
    for (;;) {
      const termStart = this.pos;
      const term = this.parseTerm(depth);
      if (!term) {
        this.err(`unparsable conditional sub-expression '${this.text.slice(termStart)}'`, termStart);
      }
      list.push(term);
      this.skipBlanks();
      if (this.text.startsWith('&&', this.pos)) {
        this.pos += 2;
        this.skipBlanks();
        if (this.atEnd()) this.err(`unparsable conditional expression '${this.text.slice(start)}'`, start);
        continue;
      }
      return list;
    }
  }

  private parseTerm(depth: number): Term | null {
    this.skipBlanks();
    if (this.atEnd()) return null;
    const start = this.pos;
    if (depth <= 0) this.err(`unparsable conditional expression '${this.text.slice(start)}'`, start);

    let neg = false;
    while (this.text[this.pos] === '!') {
      neg = !neg;
      this.pos++;
      this.skipBlanks();
    }

    // an integer, with C strtol() base-0 syntax (decimal, 0x hex, 0 octal)
    const m = /^[+-]?(?:0[xX][0-9a-fA-F]+|[1-9][0-9]*|0[0-7]*)/.exec(this.text.slice(this.pos));
    if (m) {
      this.pos += m[0].length;
      const digits = m[0].replace(/^[+-]/, '').replace(/^0[xX]/, '');
      return { kind: 'const', value: /[^0]/.test(digits), neg };
    }

    if (this.text[this.pos] === '(') {
      this.pos++;
      this.skipBlanks();
      const expr = this.parseOr(depth - 1);
      if (!expr) this.err(`unparsable conditional expression '${this.text.slice(start)}'`, start);
      this.skipBlanks();
      if (this.text[this.pos] !== ')') {
        this.err(`expected ')' after conditional expression '${this.text.slice(start)}'`, start);
      }
      this.pos++;
      this.skipBlanks();
      return { kind: 'paren', expr, neg };
    }

    // predicate name: everything up to a space or an opening parenthesis
    let end = this.pos;
    while (end < this.text.length && this.text[end] !== ' ' && this.text[end] !== '(') end++;
    const word = this.text.slice(this.pos, end);
    const pred = PREDICATES.get(word);
    if (!pred) this.err(`unparsable conditional expression '${this.text.slice(start)}'`, start);
    this.pos = end;
    const args = this.parseArgs(pred.name, pred.nargs);
    return { kind: 'pred', pred: pred.name, args, neg };
  }

  /*
   * Predicate argument list, with the second-level quoting rules: single and
   * double quotes group text (so ',' and ')' lose their meaning), and outside
   * single quotes a backslash escapes '\', ' ', '"', '\'' and gives \r \n \t.
   * Without parenthesis a single empty argument is assumed.
   */
  private parseArgs(pred: string, nargs: number): string[] {
    const t = this.text;
    const args: string[] = [];
    const argErr = (msg: string, at: number, argNum: number): never =>
      this.err(`${msg} in argument ${argNum} of predicate '${pred}' used in conditional expression`, at);

    if (t[this.pos] !== '(') {
      args.push('');
      if (args.length < nargs) {
        argErr(`missing arguments (got ${args.length}/${nargs}), type 'string' expected`, this.pos, args.length);
      }
      return args;
    }
    this.pos++;

    while (args.length < nargs) {
      let out = '';
      let squote = false;
      let dquote = false;
      while (this.pos < t.length) {
        const c = t[this.pos]!;
        if (c === '"' && !squote) {
          dquote = !dquote;
          this.pos++;
        } else if (c === "'" && !dquote) {
          squote = !squote;
          this.pos++;
        } else if (c === '\\' && !squote) {
          const d = t[this.pos + 1];
          if (d === undefined) {
            argErr(`failed to parse '${t.slice(this.pos)}' after '${out}' as type 'string' at position ${args.length + 1}`, this.pos, args.length);
          }
          if (d === '\\' || d === ' ' || d === '"' || d === "'") {
            out += d;
            this.pos += 2;
          } else if (d === 'r') {
            out += '\r';
            this.pos += 2;
          } else if (d === 'n') {
            out += '\n';
            this.pos += 2;
          } else if (d === 't') {
            out += '\t';
            this.pos += 2;
          } else {
            out += '\\';
            this.pos += 1;
          }
        } else if (!squote && !dquote && (c === ',' || c === ')')) {
          break;
        } else {
          out += c;
          this.pos++;
        }
      }
      args.push(out);
      if (this.pos >= t.length || t[this.pos] === ')' || args.length >= nargs) break;
      this.pos++; // skip the comma
    }

    if (args.length < nargs) {
      argErr(`missing arguments (got ${args.length}/${nargs}), type 'string' expected`, this.pos, args.length);
    }
    if (t[this.pos] !== ')') {
      const rest = t.slice(this.pos);
      argErr(rest ? `expected ')' before '${rest}'` : `expected ')'`, this.pos, args.length > 1 ? args.length - 1 : args.length);
    }
    this.pos++;
    return args;
  }
}

function parseExpression(text: string): OrExpr {
  const p = new Parser(text);
  const expr = p.parseOr(MAX_DEPTH);
  if (!expr) throw new CondError(`unparsable conditional expression '${text}'`, 0, text);
  while (text[p.pos] === ' ' || text[p.pos] === '\t') p.pos++;
  if (p.pos < text.length) {
    throw new CondError(
      `unexpected character '${text[p.pos]}' at the end of conditional expression '${text}'`,
      p.pos,
      text,
    );
  }
  return expr;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

function evalTerm(term: Term, ctx: CondContext): boolean {
  let v: boolean;
  switch (term.kind) {
    case 'const':
      v = term.value;
      break;
    case 'paren':
      v = evalOr(term.expr, ctx);
      break;
    case 'pred': {
      const a = term.args;
      switch (term.pred) {
        case 'defined': {
          const env = ctx.env ?? process.env;
          v = Object.prototype.hasOwnProperty.call(env, a[0]!) && typeof env[a[0]!] === 'string';
          break;
        }
        case 'feature':
          v = ctx.hasFeature(a[0]!);
          break;
        case 'streq':
          v = a[0] === a[1];
          break;
        case 'strneq':
          v = a[0] !== a[1];
          break;
        case 'strstr':
          v = a[0]!.includes(a[1]!);
          break;
        case 'version_atleast':
          v = compareWithCurrent(ctx.version, a[0]!) <= 0;
          break;
        case 'version_before':
          v = compareWithCurrent(ctx.version, a[0]!) > 0;
          break;
        case 'enabled':
          v = ctx.isEnabled(a[0]!);
          break;
      }
      break;
    }
  }
  return term.neg ? !v : v;
}

function evalOr(expr: OrExpr, ctx: CondContext): boolean {
  // || stops on the first true sub-expression, && on the first false term
  return expr.some((and) => and.every((term) => evalTerm(term, ctx)));
}

/**
 * Evaluate the condition made of <words> (the words following ".if"/".elif",
 * already tokenized). An empty condition is false. Throws CondError on a
 * syntax error.
 */
export function evalCondition(words: string[], ctx: CondContext): boolean {
  const text = words.join(' ');
  if (text.length === 0) return false;
  const expr = parseExpression(text);
  return evalOr(expr, ctx);
}

/**
 * Tokenize <text> like a configuration line (quotes, escapes, "$VAR"
 * expansion) then evaluate it as a condition; this is what "-cc" does.
 * Throws CondError on a tokenizing or syntax error.
 */
export function evalConditionText(text: string, ctx: CondContext): boolean {
  const env: EnvMap = ctx.env ?? process.env;
  const tok = tokenizeLine(text, env);
  if (tok.error) throw new CondError(tok.error, tok.errorPos ?? 0, text);
  return evalCondition(tok.words, ctx);
}
