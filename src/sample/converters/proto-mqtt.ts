// mqtt_is_valid and mqtt_field_value (configuration.txt 7.3.1): the first packet of each side
// of an MQTT 3.1.1 / 5.0 connection (CONNECT from the client, CONNACK from the server).
import { registerConverters } from '../registry.js';
import { smpBool, smpStr, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';

const PACKET_TYPES = ['CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK',
  'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH'];
/** Fixed-header flags each packet type must carry (PUBLISH's vary and are never accepted here). */
const TYPE_FLAGS = [0, 0, 0, 0x0f, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** Field names each packet type accepts: named ones and MQTT 5.0 property identifiers. */
const CONNECT_FIELDS = new Set(['flags', 'protocol_name', 'protocol_version', 'client_identifier', 'will_topic', 'will_payload',
  'username', 'password', 'keepalive', '1', '2', '3', '8', '9', '17', '21', '22', '23', '24', '25', '33', '34', '38', '39']);
const CONNACK_FIELDS = new Set(['flags', 'protocol_version', 'reason_code', '17', '18', '19', '21', '22', '26', '28', '31', '33',
  '34', '36', '37', '38', '39', '40', '41', '42']);
const OTHER_FIELDS: Record<number, string[]> = {
  3: ['1', '2', '3', '8', '9', '11', '35', '38'],
  4: ['reason_code', '31', '38'], 5: ['reason_code', '31', '38'], 6: ['reason_code', '31', '38'], 7: ['reason_code', '31', '38'],
  8: ['11', '38'], 9: ['31', '38'], 10: ['38'], 11: ['31', '38'], 12: [], 13: [],
  14: ['reason_code', '17', '28', '31', '38'], 15: ['21', '22', '31', '38'],
};

const enum R { INVALID, MORE, VALID }

/** What a parsed CONNECT/CONNACK exposes: field name → value (strings as latin1, numbers). */
type Fields = Map<string, string | number>;

class Rd {
  constructor(public b: Buffer, public p: number, public end: number) {}
  u8(): number | undefined { return this.p < this.end ? this.b[this.p++] : undefined; }
  u16(): number | undefined { if (this.end - this.p < 2) return undefined; const v = this.b.readUInt16BE(this.p); this.p += 2; return v; }
  u32(): number | undefined { if (this.end - this.p < 4) return undefined; const v = this.b.readUInt32BE(this.p); this.p += 4; return v; }
  str(): string | undefined {
    const l = this.u16();
    if (l === undefined || this.end - this.p < l) return undefined;
    const s = this.b.toString('latin1', this.p, this.p + l);
    this.p += l;
    return s;
  }
  /** variable byte integer: up to 4 bytes; running out of data ends it */
  varint(): number | undefined {
    let v = 0, mul = 1;
    for (let i = 0; i < 4; i++) {
      if (this.p >= this.end) return v;
      const c = this.b[this.p++]!;
      v += (c & 0x7f) * mul;
      mul *= 128;
      if (c <= 127) return v;
    }
    return undefined;
  }
}

type PropKind = 'u8bool' | 'u8' | 'u16' | 'u16nz' | 'u32' | 'u32nz' | 'str' | 'strnz';
const CONNECT_PROPS: Record<number, PropKind> = { 17: 'u32', 33: 'u16nz', 39: 'u32nz', 34: 'u16', 25: 'u8bool', 23: 'u8bool', 21: 'str', 22: 'str' };
const WILL_PROPS: Record<number, PropKind> = { 24: 'u32', 1: 'u8bool', 2: 'u32', 3: 'str', 8: 'str', 9: 'str' };
const CONNACK_PROPS: Record<number, PropKind> = {
  17: 'u32', 33: 'u16nz', 36: 'u8bool', 37: 'u8bool', 39: 'u32nz', 18: 'strnz', 34: 'u16', 31: 'str', 40: 'u8bool',
  41: 'u8bool', 42: 'u8bool', 19: 'u16', 26: 'str', 28: 'str', 21: 'str', 22: 'str',
};

/** Reads a property list (length-prefixed) into `out`; false when invalid. */
function readProps(r: Rd, table: Record<number, PropKind>, out: Fields | undefined): boolean {
  const plen = r.varint();
  if (plen === undefined || r.end - r.p < plen) return false;
  const pr = new Rd(r.b, r.p, r.p + plen);
  r.p += plen;
  const seen = new Set<number>();
  while (pr.p < pr.end) {
    const id = pr.b[pr.p++]!;
    if (id === 38) {
      if (pr.str() === undefined || pr.str() === undefined) return false;
      continue;
    }
    const kind = table[id];
    if (!kind || seen.has(id)) return false;
    seen.add(id);
    let v: string | number | undefined;
    switch (kind) {
      case 'u8': case 'u8bool': v = pr.u8(); if (v !== undefined && kind === 'u8bool' && v > 1) return false; break;
      case 'u16': case 'u16nz': v = pr.u16(); if (kind === 'u16nz' && !v) return false; break;
      case 'u32': case 'u32nz': v = pr.u32(); if (kind === 'u32nz' && !v) return false; break;
      case 'str': case 'strnz': v = pr.str(); if (kind === 'strnz' && !v) return false; break;
    }
    if (v === undefined) return false;
    out?.set(String(id), v);
  }
  return true;
}

/** Parses the packet at the start of `b`: its type and fields, or why it cannot. */
export function mqttParse(b: Buffer, out?: Fields): { res: R; type: number } {
  if (b.length < 2) return { res: R.MORE, type: 0 };
  const t = b[0]! >> 4;
  const flags = b[0]! & 0x0f;
  if (t === 0 || flags !== TYPE_FLAGS[t]) return { res: R.INVALID, type: t };
  const r = new Rd(b, 1, b.length);
  const rlen = r.varint();
  if (rlen === undefined) return { res: R.INVALID, type: t };
  if (r.end - r.p < rlen) return { res: R.MORE, type: t };
  const start = r.p;
  const ok = (v: boolean) => ({ res: v && r.p - start === rlen ? R.VALID : R.INVALID, type: t });
  if (t === 1) {
    const name = r.str();
    // MQTT 3.1 ("MQIsdp", level 3), 3.1.1 ("MQTT", 4) and 5.0 ("MQTT", 5)
    const uname = name === undefined ? '' : name.toUpperCase();
    if (uname !== 'MQTT' && uname !== 'MQISDP') return ok(false);
    const ver = r.u8();
    if (ver !== 3 && ver !== 4 && ver !== 5) return ok(false);
    const fl = r.u8();
    if (fl === undefined || fl & 0x01) return ok(false);
    // will QoS set alone (no will, no will retain) is refused
    if ((fl & 0x3c) === 0x18) return ok(false);
    const ka = r.u16();
    if (ka === undefined) return ok(false);
    out?.set('protocol_name', name!).set('protocol_version', ver).set('flags', fl).set('keepalive', ka);
    const props: Fields = new Map();
    if (ver === 5 && !readProps(r, CONNECT_PROPS, props)) return ok(false);
    if (!props.get('21') && props.get('22')) return ok(false);
    const cid = r.str();
    if (cid === undefined) return ok(false);
    const willProps: Fields = new Map();
    if (ver === 5 && (fl & 0x04) && !readProps(r, WILL_PROPS, willProps)) return ok(false);
    let wt: string | undefined, wp: string | undefined, un: string | undefined, pw: string | undefined;
    if (fl & 0x04) {
      wt = r.str(); if (wt === undefined) return ok(false);
      wp = r.str(); if (wp === undefined) return ok(false);
    }
    if (fl & 0x80) { un = r.str(); if (un === undefined) return ok(false); }
    if (fl & 0x40) { pw = r.str(); if (pw === undefined) return ok(false); }
    if (out) {
      out.set('client_identifier', cid);
      if (wt !== undefined) out.set('will_topic', wt).set('will_payload', wp!);
      if (un !== undefined) out.set('username', un);
      if (pw !== undefined) out.set('password', pw);
      if (ver === 5) {
        // numeric properties read as 0 when absent; strings as empty (not found)
        for (const id of ['17', '33', '34', '39', '23', '25']) out.set(id, props.get(id) ?? 0);
        for (const id of ['21', '22']) if (props.has(id)) out.set(id, props.get(id)!);
        if (fl & 0x04) {
          for (const id of ['1', '2', '24']) out.set(id, willProps.get(id) ?? 0);
          for (const id of ['3', '8', '9']) if (willProps.has(id)) out.set(id, willProps.get(id)!);
        }
      }
    }
    return ok(true);
  }
  if (t === 2) {
    // a CONNACK of exactly two bytes is MQTT 3.1.1, anything longer is read as 5.0
    const avail = r.end - r.p;
    if (avail < 2) return ok(false);
    const ver = avail === 2 ? 4 : 5;
    const fl = r.u8()!;
    if (fl & 0xfe) return ok(false);
    const rc = r.u8()!;
    out?.set('protocol_version', ver).set('flags', fl).set('reason_code', rc);
    if (ver === 5) {
      const props: Fields = new Map();
      if (!readProps(r, CONNACK_PROPS, props)) return ok(false);
      if (out) {
        for (const id of ['17', '33', '36', '37', '39', '34', '40', '41', '42', '19']) out.set(id, props.get(id) ?? 0);
        for (const id of ['18', '31', '26', '28', '21', '22']) if (props.has(id)) out.set(id, props.get(id)!);
      }
    }
    return ok(true);
  }
  return { res: R.INVALID, type: t };
}

function mayChange(ctx: SmpCtx): undefined {
  if (!ctx.final) ctx.wantMore = true;
  return undefined;
}

function packetType(text: string): number {
  // a leading number (as strtoul reads it), else a name
  const m = /^[0-9]+/.exec(text);
  if (m) {
    const n = Number(m[0]);
    if (n >= 1 && n <= 15) return n;
  }
  const i = PACKET_TYPES.indexOf(text.toUpperCase());
  return i < 0 ? 0 : i + 1;
}

registerConverters({
  mqtt_is_valid: (s: Sample, _a, ctx) => {
    const r = mqttParse(s.v as Buffer);
    if (r.res === R.MORE) return mayChange(ctx);
    return smpBool(r.res === R.VALID);
  },
  mqtt_field_value: {
    check: (args) => {
      const type = packetType(args[0] as string);
      if (!type) return `Unknown MQTT type '${args[0]}'`;
      const name = (args[1] as string).toLowerCase();
      const allowed = type === 1 ? CONNECT_FIELDS.has(name) : type === 2 ? CONNACK_FIELDS.has(name) : (OTHER_FIELDS[type] ?? []).includes(name);
      if (!allowed) return `Unknown MQTT field name '${args[1]}' for packet type '${args[0]}'`;
      args[0] = type;
      args[1] = name;
      return undefined;
    },
    fn: (s, args, ctx) => {
      const fields: Fields = new Map();
      const r = mqttParse(s.v as Buffer, fields);
      if (r.res === R.MORE) return mayChange(ctx);
      if (r.res !== R.VALID || r.type !== args[0]) return undefined;
      const v = fields.get(args[1] as string);
      if (v === undefined) return undefined;
      if (typeof v === 'number') return smpStr(String(v));
      return v.length ? smpStr(v) : undefined;
    },
  },
});
