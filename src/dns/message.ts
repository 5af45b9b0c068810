// DNS wire format (RFC 1035, EDNS0 from RFC 6891): building the queries the resolvers send and
// reading the answers they get back. Only what server resolution needs: A, AAAA, CNAME, SRV.

export const QTYPE = { A: 1, CNAME: 5, AAAA: 28, SRV: 33, OPT: 41 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface DnsRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  /** A/AAAA: the address text; CNAME: the target; SRV: the target host */
  data: string;
  /** SRV only */
  priority?: number;
  weight?: number;
  port?: number;
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: { name: string; type: number; cls: number }[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** Writes a host name as DNS labels; throws on a label over 63 bytes or a name over 255. */
function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p !== '');
  const bufs: Buffer[] = [];
  let total = 1;
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    if (b.length > 63) throw new Error(`label too long in '${name}'`);
    bufs.push(Buffer.from([b.length]), b);
    total += b.length + 1;
  }
  if (total > 255) throw new Error(`name too long: '${name}'`);
  bufs.push(Buffer.from([0]));
  return Buffer.concat(bufs);
}

/**
 * A recursive query for one name and type, with an EDNS0 OPT record announcing
 * `payloadSize` (omitted when payloadSize is 0).
 */
export function encodeQuery(id: number, name: string, type: number, payloadSize = 512): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(payloadSize ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2); // IN
  const parts = [h, encodeName(name), q];
  if (payloadSize) {
    const opt = Buffer.alloc(11);
    opt[0] = 0; // root name
    opt.writeUInt16BE(QTYPE.OPT, 1);
    opt.writeUInt16BE(payloadSize, 3);
    // extended rcode, version, flags, rdlength: all zero
    parts.push(opt);
  }
  return Buffer.concat(parts);
}

export class DnsParseError extends Error {}

/** Reads a possibly compressed name at `off`; returns it and the offset after it. */
function readName(buf: Buffer, off: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  let jumps = 0;
  let len = 0;
  for (;;) {
    if (off >= buf.length) throw new DnsParseError('name out of bounds');
    const b = buf[off]!;
    if ((b & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length) throw new DnsParseError('pointer out of bounds');
      if (end < 0) end = off + 2;
      if (++jumps > 64) throw new DnsParseError('compression loop');
      off = ((b & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if ((b & 0xc0) !== 0) throw new DnsParseError('bad label type');
    if (b === 0) { off++; break; }
    if (off + 1 + b > buf.length) throw new DnsParseError('label out of bounds');
    labels.push(buf.toString('latin1', off + 1, off + 1 + b));
    len += b + 1;
    if (len > 255) throw new DnsParseError('name too long');
    off += 1 + b;
  }
  return [labels.join('.'), end < 0 ? off : end];
}

function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // longest run of zero groups (length >= 2) becomes "::"
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function readRecords(buf: Buffer, off: number, count: number, out: DnsRecord[]): number {
  for (let i = 0; i < count; i++) {
    const [name, o] = readName(buf, off);
    if (o + 10 > buf.length) throw new DnsParseError('record header out of bounds');
    const type = buf.readUInt16BE(o);
    const cls = buf.readUInt16BE(o + 2);
    const ttl = buf.readUInt32BE(o + 4);
    const rdlen = buf.readUInt16BE(o + 8);
    const rd = o + 10;
    if (rd + rdlen > buf.length) throw new DnsParseError('rdata out of bounds');
    const rec: DnsRecord = { name, type, cls, ttl, data: '' };
    switch (type) {
      case QTYPE.A:
        if (rdlen !== 4) throw new DnsParseError('bad A record length');
        rec.data = `${buf[rd]}.${buf[rd + 1]}.${buf[rd + 2]}.${buf[rd + 3]}`;
        break;
      case QTYPE.AAAA:
        if (rdlen !== 16) throw new DnsParseError('bad AAAA record length');
        rec.data = ipv6Text(buf.subarray(rd, rd + 16));
        break;
      case QTYPE.CNAME:
        rec.data = readName(buf, rd)[0];
        break;
      case QTYPE.SRV:
        if (rdlen < 7) throw new DnsParseError('bad SRV record length');
        rec.priority = buf.readUInt16BE(rd);
        rec.weight = buf.readUInt16BE(rd + 2);
        rec.port = buf.readUInt16BE(rd + 4);
        rec.data = readName(buf, rd + 6)[0];
        break;
      default:
        break;
    }
    out.push(rec);
    off = rd + rdlen;
  }
  return off;
}

/** Parses a whole DNS message; throws DnsParseError when it is malformed. */
export function decodeMessage(buf: Buffer): DnsMessage {
  if (buf.length < 12) throw new DnsParseError('short header');
  const flags = buf.readUInt16BE(2);
  const m: DnsMessage = {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions: [], answers: [], authorities: [], additionals: [],
  };
  const qd = buf.readUInt16BE(4), an = buf.readUInt16BE(6), ns = buf.readUInt16BE(8), ar = buf.readUInt16BE(10);
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const [name, o] = readName(buf, off);
    if (o + 4 > buf.length) throw new DnsParseError('question out of bounds');
    m.questions.push({ name, type: buf.readUInt16BE(o), cls: buf.readUInt16BE(o + 2) });
    off = o + 4;
  }
  // a truncated message may stop anywhere after the question
  try {
    off = readRecords(buf, off, an, m.answers);
    off = readRecords(buf, off, ns, m.authorities);
    readRecords(buf, off, ar, m.additionals);
  } catch (e) {
    if (!m.tc) throw e;
  }
  return m;
}

export type AnswerStatus = 'valid' | 'nx' | 'refused' | 'other' | 'invalid' | 'truncated' | 'empty' | 'cname_error';

export interface AnswerResult {
  status: AnswerStatus;
  /** addresses for the name, following CNAMEs (A answers as IPv4 text, AAAA as IPv6 text) */
  addresses: string[];
  /** the answer went through at least one CNAME */
  cname: boolean;
  /** SRV records for the name, when the question was SRV */
  srv: DnsRecord[];
  /** A/AAAA records of the additional section (SRV answers carry the targets' addresses there) */
  additional: DnsRecord[];
}

/**
 * Checks a response against the query it answers (id, name, type) and extracts the usable
 * records: the CNAME chain from the queried name is followed to its end (at most 16 steps).
 */
export function interpretAnswer(buf: Buffer, id: number, name: string, type: number): AnswerResult {
  const res: AnswerResult = { status: 'invalid', addresses: [], cname: false, srv: [], additional: [] };
  let m: DnsMessage;
  try { m = decodeMessage(buf); } catch { return res; }
  if (!m.qr || m.id !== id || m.opcode !== 0) return res;
  const q = m.questions[0];
  if (m.questions.length !== 1 || !q || q.type !== type || q.name.toLowerCase() !== name.replace(/\.$/, '').toLowerCase()) return res;
  if (m.tc) { res.status = 'truncated'; return res; }
  switch (m.rcode) {
    case RCODE.NOERROR: break;
    case RCODE.NXDOMAIN: res.status = 'nx'; return res;
    case RCODE.REFUSED: res.status = 'refused'; return res;
    default: res.status = 'other'; return res;
  }
  let target = q.name.toLowerCase();
  const seen = new Set<string>([target]);
  for (let step = 0; step < 16; step++) {
    const cn = m.answers.find((r) => r.type === QTYPE.CNAME && r.name.toLowerCase() === target);
    if (!cn) break;
    res.cname = true;
    target = cn.data.toLowerCase();
    if (seen.has(target)) { res.status = 'cname_error'; return res; }
    seen.add(target);
  }
  for (const r of m.answers) {
    if (r.name.toLowerCase() !== target || r.cls !== 1) continue;
    if (r.type === type && (type === QTYPE.A || type === QTYPE.AAAA)) res.addresses.push(r.data);
    if (r.type === QTYPE.SRV && type === QTYPE.SRV) res.srv.push(r);
  }
  if (type === QTYPE.SRV) for (const r of m.additionals) if (r.cls === 1 && (r.type === QTYPE.A || r.type === QTYPE.AAAA)) res.additional.push(r);
  res.status = res.addresses.length || res.srv.length ? 'valid' : 'empty';
  return res;
}
