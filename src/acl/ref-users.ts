// Who uses a pattern reference: the ACLs and map converters that built an index over it. The
// runtime API needs this to answer `get map`/`get acl` (one line per distinct use), to check a
// new key or value against every use before adding it, and to print the description of
// `show map`/`show acl` ("pattern loaded from file ... used by map at file ... line ...").
import type { PatEntry, PatternIndex, PatternRef } from './pattern.js';
import { formatIpv4, formatIpv6, type Sample } from '../sample/types.js';

/** One distinct use of a ref: a match method and, for maps, an output type. */
export interface RefExpr {
  kind: 'acl' | 'map';
  /** the match name printed by `get map/acl`: a match method, or "regm" */
  matchName: string;
  index: PatternIndex;
  /** maps: the sample type of the converter's output ('str', 'sint', 'addr'); 'key' outputs 'str' */
  outType?: 'str' | 'sint' | 'addr';
  /**
   * maps: parses a value for this output (int/ip); returns undefined when the value is invalid.
   * Absent when any string is accepted.
   */
  parseValue?: (v: string) => unknown;
  /** maps: the type name of an entry's parsed value, as `get map` prints it ("str", "sint", "ipv4"...) */
  valueType?: (e: PatEntry) => string;
}

const exprs = new WeakMap<PatternRef, RefExpr[]>();

/** Registers a use (deduplicated on kind, match name, case flag and output type); returns the kept one. */
export function addRefExpr(ref: PatternRef, x: RefExpr): RefExpr {
  let list = exprs.get(ref);
  if (!list) { list = []; exprs.set(ref, list); }
  const same = list.find((y) => y.kind === x.kind && y.matchName === x.matchName && y.outType === x.outType && y.index.icase === x.index.icase);
  if (same) return same;
  list.push(x);
  return x;
}

/** The uses of a ref, in the order they were declared. */
export function refExprs(ref: PatternRef): readonly RefExpr[] { return exprs.get(ref) ?? []; }

/** A PatternIndex over a ref for a method, shared between the users that need the same one. */
const sharedIdx = new WeakMap<PatternRef, Map<string, PatternIndex>>();
export function sharedIndex(ref: PatternRef, method: PatternIndex['method'], icase: boolean, make: () => PatternIndex): PatternIndex {
  let m = sharedIdx.get(ref);
  if (!m) { m = new Map(); sharedIdx.set(ref, m); }
  const k = `${method}/${icase ? 'i' : ''}`;
  let idx = m.get(k);
  if (!idx) { idx = make(); m.set(k, idx); }
  return idx;
}

/**
 * Records that a file-backed ref is used by an ACL or a map at a configuration place, and
 * rebuilds its description: the first use names the file, later ones are appended.
 */
export function noteRefUse(ref: PatternRef, what: 'acl' | 'map', cfgFile: string, line: number): void {
  ref.usedBy.push(`${what} at file '${cfgFile}' line ${line}`);
  ref.displayName = `pattern loaded from file '${ref.name}' used by ${ref.usedBy.join(', by ')}`;
}

/** Splits a "file:line" place as the configuration parser reports it. */
export function splitWhere(where: string, file?: string): { file: string; line: number } {
  const m = /^(.*):([0-9]+)$/.exec(where);
  if (m) return { file: m[1]!, line: Number(m[2]) };
  return { file: file ?? where, line: 0 };
}

/* ---- entry identifiers: `show map` prints them like pointers; `del/set map #<id>` use them ---- */

const PTR_BASE = 0x55d4c0a00000;
const PTR_STRIDE = 0x70;

/** The pointer-like identifier of an entry (stable and unique: derived from its sequence). */
export function entryPtr(e: PatEntry): string { return `0x${(PTR_BASE + e.seq * PTR_STRIDE).toString(16)}`; }

/**
 * The entry sequence named by the text after '#' of a `#0x<hex>` reference: 'malformed' when
 * it is not hexadecimal, undefined when no entry can have that identifier.
 */
export function ptrToSeq(text: string): number | 'malformed' | undefined {
  if (!/^0x[0-9a-fA-F]+$/.test(text)) return 'malformed';
  const v = parseInt(text.slice(2), 16);
  const d = v - PTR_BASE;
  if (d <= 0 || d % PTR_STRIDE !== 0) return undefined;
  return d / PTR_STRIDE;
}

/** A sample as `get map` prints a value. */
export function sampleText(s: Sample): string {
  switch (s.t) {
    case 'ipv4': return formatIpv4(s.v as number);
    case 'ipv6': return formatIpv6(s.v as Buffer);
    default: return String(s.v);
  }
}
