// Variables (configuration.txt 2.8): `<scope>.<name>` references, reading and writing them, and
// the set-var conditions (ifexists, ifnotexists, ifempty, ifnotempty, ifset, ifnotset, ifgt, iflt).
import { VAR_SCOPES, type SmpCtx, type VarScope } from './context.js';
import { cast, intNum, type Sample } from './types.js';

export interface VarRef { scope: VarScope; name: string; text: string }

/** Parses `scope.name`; returns an error message for a bad scope or name. */
export function parseVarName(text: string): VarRef | string {
  const dot = text.indexOf('.');
  if (dot <= 0) return `invalid variable name '${text}'. A variable name must be prefixed by its scope ('proc', 'sess', 'txn', 'req', 'res' or 'check')`;
  const scope = text.slice(0, dot) as VarScope;
  if (!VAR_SCOPES.includes(scope)) return `invalid scope '${text.slice(0, dot)}' in variable name '${text}'. Supported scopes are 'proc', 'sess', 'txn', 'req', 'res' and 'check'`;
  const name = text.slice(dot + 1);
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return `invalid character in variable name '${text}'`;
  return { scope, name, text };
}

export function getVar(ctx: SmpCtx, ref: VarRef): Sample | undefined {
  return ctx.vars.scope(ref.scope).get(ref.name);
}

/** Stores a copy of the sample (buffers are copied: the source may be a view). */
export function setVar(ctx: SmpCtx, ref: VarRef, s: Sample): void {
  let v = s.v;
  if (Buffer.isBuffer(v)) v = Buffer.from(v);
  ctx.vars.scope(ref.scope).set(ref.name, { t: s.t, v });
}

export function unsetVar(ctx: SmpCtx, ref: VarRef): void {
  ctx.vars.scope(ref.scope).delete(ref.name);
}

export type VarCond = 'ifexists' | 'ifnotexists' | 'ifempty' | 'ifnotempty' | 'ifset' | 'ifnotset' | 'ifgt' | 'iflt';
export const VAR_CONDS: readonly VarCond[] = ['ifexists', 'ifnotexists', 'ifempty', 'ifnotempty', 'ifset', 'ifnotset', 'ifgt', 'iflt'];

function isEmpty(s: Sample): boolean {
  switch (s.t) {
    case 'str': case 'meth': return (s.v as string).length === 0;
    case 'bin': return (s.v as Buffer).length === 0;
    default: return false;
  }
}

/**
 * Whether set-var may store `next` given the conditions (all must hold):
 *   ifexists / ifnotexists: the variable exists / does not exist
 *   ifempty / ifnotempty:   the new value is empty / not empty (strings and binaries)
 *   ifset / ifnotset:       the variable was set / not set (same as exists here)
 *   ifgt / iflt:            the current value is greater / lower than the new one (integers)
 */
export function varCondsAllow(conds: readonly VarCond[], cur: Sample | undefined, next: Sample): boolean {
  for (const c of conds) {
    switch (c) {
      case 'ifexists': case 'ifset': if (!cur) return false; break;
      case 'ifnotexists': case 'ifnotset': if (cur) return false; break;
      case 'ifempty': if (!isEmpty(next)) return false; break;
      case 'ifnotempty': if (isEmpty(next)) return false; break;
      case 'ifgt': case 'iflt': {
        // only between two integers; otherwise the condition holds
        if (!cur || cur.t !== 'sint' || next.t !== 'sint') break;
        if (c === 'ifgt' ? !(intNum(cur.v) > intNum(next.v)) : !(intNum(cur.v) < intNum(next.v))) return false;
        break;
      }
    }
  }
  return true;
}

/**
 * An argument that is an integer or a variable name (add, sub, mul, ... converters): resolved
 * per call. Returns a function giving the value, or an error message at parse time.
 */
export function intOrVar(text: string): ((ctx: SmpCtx) => number | bigint | undefined) | string {
  if (/^[+-]?[0-9]+$/.test(text)) {
    const big = BigInt(text);
    const v: number | bigint = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return () => v;
  }
  const ref = parseVarName(text);
  if (typeof ref === 'string') return ref;
  return (ctx) => {
    const s = getVar(ctx, ref);
    if (!s) return undefined;
    const c = cast(s, 'sint');
    return c ? (c.v as number | bigint) : undefined;
  };
}
