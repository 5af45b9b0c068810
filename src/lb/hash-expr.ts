// `balance hash <expr>` (configuration.txt 4.2 "balance"): the sample expression is compiled at
// start-up, evaluated per request, turned into bytes (the binary cast: a string's bytes, an
// integer's 8 big-endian bytes, an address's 4 or 16 bytes) and hashed like the other keys. No
// sample: round robin applies (the balancer does that for a null key).
import { parseSampleExpr, type SampleExpr } from '../sample/expr.js';
import { USE } from '../sample/registry.js';
import { cast } from '../sample/types.js';
import type { SmpCtx } from '../sample/context.js';
import type { BalanceConfig } from './config.js';

const compiled = new WeakMap<BalanceConfig, SampleExpr>();

/** Compiles the expression of a `balance hash` configuration; returns an error message on failure. */
export function compileBalanceHash(b: BalanceConfig, where: string, proxyName: string, file: string): string | undefined {
  if (b.algo !== 'hash') return undefined;
  try {
    compiled.set(b, parseSampleExpr(b.expr, { where, proxyName, file, use: USE.BE_SET_SRV, useLabel: 'backend use-server, balance or stick-match rule' }));
    return undefined;
  } catch (e) {
    return `'balance hash' : ${(e as Error).message}`;
  }
}

/** The bytes to hash for this request, or null when the expression gives no sample. */
export function balanceHashKey(b: BalanceConfig, ctx: SmpCtx): Uint8Array | null {
  const e = compiled.get(b);
  if (!e) return null;
  const s = e.eval(ctx);
  if (!s) return null;
  const bin = cast(s, 'bin');
  return bin ? (bin.v as Buffer) : null;
}

/** A copy of a balance configuration (defaults inheritance) keeps its compiled expression. */
export function copyBalanceHash(from: BalanceConfig, to: BalanceConfig): void {
  const e = compiled.get(from);
  if (e) compiled.set(to, e);
}
