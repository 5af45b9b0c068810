// Fast content switching: a run of consecutive rules of the form `use_backend <b> if <acl>` whose
// ACLs are each one exact-string test (`-m str`, with or without -i) of the same sample
// expression is evaluated with one sample fetch and one hash lookup instead of one ACL per rule.
// The table maps every pattern to the first rule of the run listing it, so the first matching
// rule wins exactly as the rule-by-rule evaluation would decide. It is rebuilt when any pattern
// list changes (runtime API `add acl`/`del acl`, actions add-acl/del-acl).
import type { SwitchRule } from './rules.js';
import type { SmpCtx } from '../sample/context.js';
import type { SampleExpr } from '../sample/expr.js';
import { cast } from '../sample/types.js';
import { patternGeneration, type PatternIndex } from '../acl/pattern.js';

/** Runs shorter than this are left to the ordinary evaluation. */
const MIN_RUN = 8;

export interface Segment {
  start: number;
  /** index after the last rule of the run */
  end: number;
  expr: SampleExpr;
  icase: boolean;
  /** the pattern indexes of each rule of the run */
  indexes: PatternIndex[][];
  table: Map<string, number> | undefined;
  gen: number;
}

export interface SwitchPlan {
  /** segment starting at a rule index */
  at: Map<number, Segment>;
}

function eligible<T>(r: SwitchRule<T>): { expr: SampleExpr; icase: boolean; indexes: PatternIndex[] } | undefined {
  const c = r.cond;
  if (!c || c.unless || c.groups.length !== 1 || c.groups[0]!.length !== 1) return undefined;
  const term = c.groups[0]![0]!;
  if (term.neg || term.acl.tests.length !== 1) return undefined;
  const t = term.acl.tests[0]!;
  if (t.method !== 'str' || t.indexes.length === 0) return undefined;
  const icase = t.indexes[0]!.icase;
  if (!t.indexes.every((i) => i.method === 'str' && i.icase === icase)) return undefined;
  return { expr: t.expr, icase, indexes: t.indexes };
}

const plans = new WeakMap<object, SwitchPlan>();

/** The plan of a rule list (built on first use). */
export function switchPlan<T>(rules: readonly SwitchRule<T>[]): SwitchPlan {
  let p = plans.get(rules);
  if (p) return p;
  p = { at: new Map() };
  let i = 0;
  while (i < rules.length) {
    const first = eligible(rules[i]!);
    if (!first) { i++; continue; }
    let j = i + 1;
    const indexes = [first.indexes];
    while (j < rules.length) {
      const e = eligible(rules[j]!);
      if (!e || e.icase !== first.icase || e.expr.text !== first.expr.text) break;
      indexes.push(e.indexes);
      j++;
    }
    if (j - i >= MIN_RUN) p.at.set(i, { start: i, end: j, expr: first.expr, icase: first.icase, indexes, table: undefined, gen: -1 });
    i = j;
  }
  plans.set(rules, p);
  return p;
}

function build(seg: Segment): Map<string, number> {
  const t = new Map<string, number>();
  for (let k = 0; k < seg.indexes.length; k++) {
    for (const idx of seg.indexes[k]!) {
      for (const ref of idx.refs) {
        for (const e of ref.current()) {
          const key = seg.icase ? e.key.toLowerCase() : e.key;
          if (!t.has(key)) t.set(key, seg.start + k);
        }
      }
    }
  }
  return t;
}

/**
 * The index of the first rule of the segment whose ACL matches, or -1. Every value of the
 * sample is looked up (an ACL matches when any value does).
 */
export function segmentMatch(seg: Segment, ctx: SmpCtx): number {
  if (!seg.table || seg.gen !== patternGeneration.n) {
    seg.table = build(seg);
    seg.gen = patternGeneration.n;
  }
  const values = seg.expr.evalAll(ctx);
  if (!values) return -1;
  let best = -1;
  for (let i = 0; i < values.length; i++) {
    const s = values[i]!;
    const c = s.t === 'str' ? s : cast(s, 'str');
    if (!c) continue;
    const key = seg.icase ? (c.v as string).toLowerCase() : (c.v as string);
    const k = seg.table.get(key);
    if (k !== undefined && (best < 0 || k < best)) best = k;
  }
  return best;
}
