// Formatted strings for actions (header values, redirect locations, return bodies, backend names):
// the one entry point actions use to compile a log-format string (configuration.txt 8.2.6).
import type { SmpCtx } from '../sample/context.js';
import { parseSampleExpr, findClose, type SampleExpr } from '../sample/expr.js';
import { sampleToString } from '../sample/types.js';

export interface Lf {
  render(ctx: SmpCtx): string;
  /** the text has no directive: its value never changes */
  readonly isConst: boolean;
  readonly text: string;
}

export interface LfCtx {
  where: string;
  file?: string;
  proxyName?: string;
  use?: number;
  useLabel?: string;
}

type Part = string | SampleExpr;

class SimpleLf implements Lf {
  readonly text: string;
  readonly isConst: boolean;
  private readonly parts: Part[];
  constructor(text: string, parts: Part[]) {
    this.text = text;
    this.parts = parts;
    this.isConst = parts.every((p) => typeof p === 'string');
  }
  render(ctx: SmpCtx): string {
    const p = this.parts;
    if (p.length === 1 && typeof p[0] === 'string') return p[0];
    let out = '';
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (typeof x === 'string') { out += x; continue; }
      const s = x.eval(ctx);
      out += s ? (sampleToString(s) ?? '-') : '-';
    }
    return out;
  }
}

/** Compiles a formatted string; throws an Error with the message on a syntax error. */
export function compileLf(text: string, cx: LfCtx): Lf {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) { lit += text[++i]; continue; }
    if (c !== '%') { lit += c; continue; }
    if (text[i + 1] === '%') { lit += '%'; i++; continue; }
    if (text[i + 1] === '[') {
      const close = findBracket(text, i + 1);
      if (close < 0) throw new Error(`missing ']' in '${text}'`);
      const expr = text.slice(i + 2, close);
      if (lit) { parts.push(lit); lit = ''; }
      parts.push(parseSampleExpr(expr, { where: cx.where, proxyName: cx.proxyName, file: cx.file, use: cx.use, useLabel: cx.useLabel }));
      i = close;
      continue;
    }
    throw new Error(`'${text.slice(i, i + 4)}...' : log-format variables other than %[expr] are not supported yet by haproxy-ts`);
  }
  if (lit || parts.length === 0) parts.push(lit);
  return new SimpleLf(text, parts);
}

function findBracket(s: string, open: number): number {
  let depth = 0;
  let q: string | undefined;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (q) { if (c === '\\') i++; else if (c === q) q = undefined; continue; }
    if (c === '"' || c === "'") { q = c; continue; }
    if (c === '(') { const e = findClose(s, i); if (e < 0) return -1; i = e; continue; }
    if (c === '[') depth++;
    else if (c === ']') { depth--; if (depth === 0) return i; }
  }
  return -1;
}
