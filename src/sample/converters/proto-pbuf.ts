// protobuf and ungrpc (configuration.txt 7.3.1): a field of a protocol buffers message, by its
// dotted field number path, raw (bin) or decoded as an integer for the given field type.
import { registerConverters } from '../registry.js';
import { smpBin, smpInt, type Sample } from '../types.js';

/** Field types accepted as second argument; the value says which wire type they decode. */
const PB_TYPES: Record<string, { wire: number; code: number }> = {
  int32: { wire: 0, code: 1 }, uint32: { wire: 0, code: 2 }, int64: { wire: 0, code: 3 }, uint64: { wire: 0, code: 4 },
  bool: { wire: 0, code: 5 }, enum: { wire: 0, code: 6 }, sint32: { wire: 0, code: 7 }, sint64: { wire: 0, code: 8 },
  fixed64: { wire: 1, code: 9 }, sfixed64: { wire: 1, code: 10 }, double: { wire: 1, code: 11 },
  fixed32: { wire: 5, code: 12 }, sfixed32: { wire: 5, code: 13 }, float: { wire: 5, code: 14 },
};
const RAW = 0;

/** A varint at `p` (bounded by `end`): [value, next position], or undefined. */
function readVarint(b: Buffer, p: number, end: number): [bigint, number] | undefined {
  let v = 0n;
  let shift = 0n;
  while (p < end) {
    const c = b[p++]!;
    v |= BigInt(c & 0x7f) << shift;
    if (!(c & 0x80)) return [BigInt.asUintN(64, v), p];
    if (p >= end) return undefined;
    shift += 7n;
    if (shift > 63n) return undefined;
  }
  return undefined;
}

/** A varint as a number (key or length), with the raw 64-bit value kept for keys. */
function readSmallVarint(b: Buffer, p: number, end: number): [number, number, bigint] | undefined {
  let v = 0, mul = 1;
  const start = p;
  for (let i = 0; i < 4 && p < end; i++) {
    const c = b[p++]!;
    v += (c & 0x7f) * mul;
    if (!(c & 0x80)) return [v, p, BigInt(v)];
    mul *= 128;
  }
  const r = readVarint(b, start, end);
  return r ? [Number(r[0]), r[1], r[0]] : undefined;
}

function storeVarint(b: Buffer, p: number, end: number, type: number): Sample | undefined {
  if (type === RAW) {
    let q = p;
    let n = 0;
    while (q < end) {
      const c = b[q++]!;
      if (!(c & 0x80)) return smpBin(b.subarray(p, q));
      if (q >= end || ++n > 9) return undefined;
    }
    return undefined;
  }
  if (type > 8) return undefined;
  const r = readVarint(b, p, end);
  if (!r) return undefined;
  const u = r[0];
  if (type === 7 || type === 8) return smpInt(BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n)));
  return smpInt(BigInt.asIntN(64, u));
}

function store64(b: Buffer, p: number, end: number, type: number): Sample | undefined {
  if (end - p < 8) return undefined;
  if (type === RAW) return smpBin(b.subarray(p, p + 8));
  if (type === 9 || type === 10) return smpInt(b.readBigInt64LE(p));
  if (type === 11) {
    const d = b.readDoubleLE(p);
    if (!Number.isFinite(d)) return undefined;
    return smpInt(BigInt.asIntN(64, BigInt(Math.trunc(d))));
  }
  return undefined;
}

function store32(b: Buffer, p: number, end: number, type: number): Sample | undefined {
  if (end - p < 4) return undefined;
  if (type === RAW) return smpBin(b.subarray(p, p + 4));
  if (type === 12) return smpInt(b.readUInt32LE(p));
  if (type === 13) return smpInt(b.readInt32LE(p));
  if (type === 14) {
    const f = b.readFloatLE(p);
    if (!Number.isFinite(f)) return undefined;
    return smpInt(Number(BigInt.asUintN(32, BigInt(Math.trunc(f)))));
  }
  return undefined;
}

/**
 * Walks the message in b[p, end) looking for the field path `ids`. The walk keeps going
 * forward only: once a field of the path is matched, the search continues inside it; when
 * its contents are exhausted without a match, the search restarts from the first id of the
 * path at the current position. Returns the sample (or undefined) and where the walk stopped.
 */
function lookup(b: Buffer, p: number, end: number, ids: number[], type: number): { smp: Sample | undefined; pos: number } {
  let field = 0;
  let elen = 0; // bytes left in the entered length-delimited field
  const last = ids.length - 1;
  while (field < ids.length) {
    if (end - p <= 0) return { smp: undefined, pos: p };
    let sleft = end - p;
    const k = readSmallVarint(b, p, end);
    if (!k) return { smp: undefined, pos: p };
    p = k[1];
    const wire = Number(k[2] & 7n);
    const num = Number((k[2] >> 3n) & 0xffffffffn);
    const found = num === ids[field];
    switch (wire) {
      case 0: {
        if (found) break;
        // skip a varint
        let ok = false;
        for (let n = 0; p < end; n++) {
          const c = b[p++]!;
          if (!(c & 0x80)) { ok = true; break; }
          if (p >= end || n >= 9) break;
        }
        if (!ok) return { smp: undefined, pos: p };
        break;
      }
      case 1: case 5: {
        const sz = wire === 1 ? 8 : 4;
        if (!found) {
          if (end - p < sz) return { smp: undefined, pos: p };
          p += sz;
        }
        break;
      }
      case 2: {
        const l = readSmallVarint(b, p, end);
        if (!l) return { smp: undefined, pos: p };
        p = l[1];
        elen = l[0];
        if (elen > end - p) return { smp: undefined, pos: p };
        sleft = end - p;
        if (!found) p += elen;
        break;
      }
      default:
        return { smp: undefined, pos: p };
    }
    if (found && field === last) {
      switch (wire) {
        case 0: return { smp: storeVarint(b, p, end, type), pos: p };
        case 1: return { smp: store64(b, p, end, type), pos: p };
        case 5: return { smp: store32(b, p, end, type), pos: p };
        default: return { smp: type === RAW ? smpBin(b.subarray(p, p + elen)) : undefined, pos: p };
      }
    }
    if (elen > 0) elen -= sleft - (end - p);
    if (found) field++;
    else if (elen <= 0) field = 0;
  }
  return { smp: undefined, pos: p };
}

function checkPbArgs(args: any[]): string | undefined {
  if (args[1] === undefined) { args[1] = RAW; return undefined; }
  const t = PB_TYPES[args[1] as string];
  if (!t) return `Wrong protocol buffer type '${args[1]}'`;
  args[1] = t.code;
  return undefined;
}

registerConverters({
  protobuf: {
    check: checkPbArgs,
    fn: (s, args) => {
      const b = s.v as Buffer;
      return lookup(b, 0, b.length, args[0] as number[], args[1] as number).smp;
    },
  },
  ungrpc: {
    check: checkPbArgs,
    fn: (s, args) => {
      const b = s.v as Buffer;
      let p = 0;
      let left = b.length;
      // each gRPC message: 1 byte compressed flag, 4 bytes length, then the message
      while (left > 5) {
        const mlen = b.readUInt32BE(p + 1);
        p += 5;
        left -= 5;
        if (left < mlen) return undefined;
        const r = lookup(b, p, p + mlen, args[0] as number[], args[1] as number);
        if (r.smp) return r.smp;
        p = r.pos;
        left -= mlen;
      }
      return undefined;
    },
  },
});
