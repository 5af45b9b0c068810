// fix_is_valid and fix_tag_value (configuration.txt 7.3.1): FIX messages, `tag=value` pairs
// each ended by SOH (0x01).
import { registerConverters } from '../registry.js';
import { smpBool, smpBin, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';

const SOH = 0x01;
const EQ = 0x3d;
const MIN_SIZE = 26;
const TAG_NAMES: Record<string, number> = {
  msgtype: 35, checksum: 10, bodylength: 9, targetcompid: 56, beginstring: 8, sendercompid: 49,
};
/** Highest standard tag per version (user-defined tags 10000-19999 are always allowed). */
const VERSIONS: Record<string, number> = {
  'FIX.4.0': 140, 'FIX.4.1': 211, 'FIX.4.2': 446, 'FIX.4.3': 659, 'FIX.4.4': 956, 'FIXT.1.1': 1621,
};

/** Tag number of b[s, e) (all digits, not zero), checked against a version's range; 0 if bad. */
function tagId(b: Buffer, s: number, e: number, maxTag?: number): number {
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return 0;
    v = (v * 10 + c - 0x30) >>> 0;
  }
  if (v === 0) return 0;
  if (maxTag === undefined || (v >= 10000 && v <= 19999) || v <= maxTag) return v;
  return 0;
}

/** Leading decimal digits of b[s, e) as an unsigned number (stops at the first non-digit). */
function leadingUint(b: Buffer, s: number, e: number): number {
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) break;
    v = (v * 10 + c - 0x30) >>> 0;
  }
  return v;
}

const enum R { INVALID, MORE, VALID }

export function fixValidate(b: Buffer): R {
  if (b.length < MIN_SIZE) return R.MORE;
  let p = 0;
  let n = 0;
  let sum = 0;
  let bodyLen = 0;
  let body = -1;
  let maxTag: number | undefined;
  while (p < b.length) {
    const eq = b.indexOf(EQ, p);
    const soh = eq < 0 ? -1 : b.indexOf(SOH, eq);
    if (soh < 0) return R.MORE;
    if (eq === p) return R.INVALID;
    const id = tagId(b, p, eq, maxTag);
    if (!id) return R.INVALID;
    n++;
    const vs = eq + 1;
    if (n === 1) {
      if (id !== 8) return R.INVALID;
      const ver = VERSIONS[b.toString('latin1', vs, soh)];
      if (ver === undefined) return R.INVALID;
      maxTag = ver;
    } else if (n === 2) {
      if (id !== 9) return R.INVALID;
      let v = 0;
      for (let i = vs; i < soh; i++) {
        const c = b[i]!;
        if (c < 0x30 || c > 0x39) return R.INVALID;
        v = (v * 10 + c - 0x30) >>> 0;
      }
      if (!v) return R.INVALID;
      bodyLen = v;
      body = soh + 1;
    } else if (n === 3) {
      if (id !== 35) return R.INVALID;
    } else if (id === 10) {
      if (bodyLen !== p - body) return R.INVALID;
      if (soh - vs !== 3) return R.INVALID;
      return (sum & 255) === leadingUint(b, vs, soh) ? R.VALID : R.INVALID;
    }
    for (let i = p; i <= soh; i++) sum += b[i]!;
    p = soh + 1;
  }
  return body >= 0 ? R.MORE : R.INVALID;
}

/** The value of tag `id`: a view, null when more data may bring it, undefined when absent/invalid. */
export function fixTagValue(b: Buffer, id: number): Buffer | null | undefined {
  let p = 0;
  while (p < b.length) {
    const eq = b.indexOf(EQ, p);
    const soh = eq < 0 ? -1 : b.indexOf(SOH, eq);
    if (soh < 0) return null;
    if (eq === p) return undefined;
    const t = tagId(b, p, eq);
    if (!t) return undefined;
    if (t === id) return b.subarray(eq + 1, soh);
    if (t === 10) return undefined;
    p = soh + 1;
  }
  return null;
}

function mayChange(ctx: SmpCtx): undefined {
  if (!ctx.final) ctx.wantMore = true;
  return undefined;
}

registerConverters({
  fix_is_valid: (s: Sample, _a, ctx) => {
    const r = fixValidate(s.v as Buffer);
    if (r === R.MORE) return mayChange(ctx);
    return smpBool(r === R.VALID);
  },
  fix_tag_value: {
    check: (args) => {
      const text = args[0] as string;
      let id = 0;
      if (/^[0-9]+$/.test(text)) id = Number(BigInt.asUintN(32, BigInt(text)));
      else id = TAG_NAMES[text.toLowerCase()] ?? 0;
      if (!id) return `Unknown FIX tag name '${text}'`;
      args[0] = id;
      return undefined;
    },
    fn: (s, args, ctx) => {
      const v = fixTagValue(s.v as Buffer, args[0] as number);
      if (v === undefined) return undefined;
      if (v === null || v.length === 0) return mayChange(ctx);
      return smpBin(v);
    },
  },
});
