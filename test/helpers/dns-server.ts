// A small authoritative DNS server for tests (RFC 1035 wire format, UDP and TCP on the same
// port of 127.0.0.1): answers A, AAAA and SRV questions from a table the test changes at will.
import dgram from 'node:dgram';
import net from 'node:net';

export interface SrvEntry { priority?: number; weight: number; port: number; target: string }
export type DnsEntry = 'NX' | 'REFUSED' | 'SERVFAIL' | 'DROP' | {
  a?: string[];
  aaaa?: string[];
  srv?: SrvEntry[];
  /** SRV answers carry the targets' A records in the additional section */
  additional?: boolean;
  ttl?: number;
};

export interface FakeDns {
  port: number;
  /** lower-case name -> entry; an absent name is NXDOMAIN */
  records: Map<string, DnsEntry>;
  /** every question received: "udp A app.test" */
  log: string[];
  tcpConnections: number;
  /** answers over UDP with more than this many records are cut and flagged TC */
  udpMaxRecords: number;
  close(): Promise<void>;
}

const TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 33: 'SRV' };

function name(labels: string): Buffer {
  const parts = labels.split('.').filter((x) => x);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

function rr(owner: Buffer, type: number, ttl: number, rdata: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0); h.writeUInt16BE(1, 2); h.writeUInt32BE(ttl, 4); h.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, h, rdata]);
}

function v4(ip: string): Buffer { return Buffer.from(ip.split('.').map(Number)); }
function v6(ip: string): Buffer {
  const [h, t] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const hs = h ? h.split(':') : [];
  const ts = t ? t.split(':') : [];
  const g = t === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const b = Buffer.alloc(16);
  g.forEach((x, i) => b.writeUInt16BE(parseInt(x || '0', 16), i * 2));
  return b;
}

/** Builds the answer to query `m`, or undefined to stay silent. */
function answer(st: FakeDns, m: Buffer, tcp: boolean): Buffer | undefined {
  if (m.length < 12) return undefined;
  let o = 12;
  const labels: string[] = [];
  while (o < m.length && m[o]) { labels.push(m.toString('latin1', o + 1, o + 1 + m[o]!)); o += m[o]! + 1; }
  o++;
  if (o + 4 > m.length) return undefined;
  const qtype = m.readUInt16BE(o);
  const question = m.subarray(12, o + 4);
  const qname = labels.join('.').toLowerCase();
  st.log.push(`${tcp ? 'tcp' : 'udp'} ${TYPES[qtype] ?? qtype} ${qname}`);
  const e = st.records.get(qname);
  if (e === 'DROP') return undefined;
  const rcode = e === undefined || e === 'NX' ? 3 : e === 'REFUSED' ? 5 : e === 'SERVFAIL' ? 2 : 0;
  const answers: Buffer[] = [];
  const extra: Buffer[] = [];
  const qptr = Buffer.from([0xc0, 0x0c]);
  if (typeof e === 'object') {
    const ttl = e.ttl ?? 1;
    if (qtype === 1) for (const ip of e.a ?? []) answers.push(rr(qptr, 1, ttl, v4(ip)));
    if (qtype === 28) for (const ip of e.aaaa ?? []) answers.push(rr(qptr, 28, ttl, v6(ip)));
    if (qtype === 33) {
      for (const s of e.srv ?? []) {
        const d = Buffer.alloc(6);
        d.writeUInt16BE(s.priority ?? 0, 0); d.writeUInt16BE(s.weight, 2); d.writeUInt16BE(s.port, 4);
        answers.push(rr(qptr, 33, ttl, Buffer.concat([d, name(s.target)])));
        if (e.additional) {
          const t = st.records.get(s.target.toLowerCase());
          if (typeof t === 'object') {
            for (const ip of t.a ?? []) extra.push(rr(name(s.target), 1, ttl, v4(ip)));
            for (const ip of t.aaaa ?? []) extra.push(rr(name(s.target), 28, ttl, v6(ip)));
          }
        }
      }
    }
  }
  let tc = false;
  if (!tcp && answers.length + extra.length > st.udpMaxRecords) {
    tc = true;
    answers.splice(st.udpMaxRecords);
    extra.length = 0;
  }
  const h = Buffer.alloc(12);
  h.writeUInt16BE(m.readUInt16BE(0), 0);
  h.writeUInt16BE(0x8580 | (tc ? 0x0200 : 0) | rcode, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  h.writeUInt16BE(extra.length, 10);
  return Buffer.concat([h, question, ...answers, ...extra]);
}

/** Starts the server on a port free for both UDP and TCP on 127.0.0.1. */
export async function startFakeDns(): Promise<FakeDns> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    const tcp = net.createServer();
    const conns = new Set<net.Socket>();
    const st: FakeDns = {
      port: 0, records: new Map(), log: [], tcpConnections: 0, udpMaxRecords: 1000,
      close: async () => {
        for (const c of conns) c.destroy();
        await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      },
    };
    udp.on('message', (m, rinfo) => {
      try { const a = answer(st, m, false); if (a) udp.send(a, rinfo.port, rinfo.address); } catch { /* ignore */ }
    });
    udp.on('error', () => { /* ignore */ });
    tcp.on('connection', (c) => {
      st.tcpConnections++;
      conns.add(c);
      c.on('close', () => conns.delete(c));
      c.on('error', () => { /* ignore */ });
      let buf = Buffer.alloc(0);
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          try {
            const a = answer(st, msg, true);
            if (a) { const l = Buffer.alloc(2); l.writeUInt16BE(a.length); c.write(Buffer.concat([l, a])); }
          } catch { /* ignore */ }
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(0, '127.0.0.1', () => resolve()); });
      st.port = udp.address().port;
      await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(st.port, '127.0.0.1', () => resolve()); });
      return st;
    } catch {
      try { udp.close(); } catch { /* */ }
      try { tcp.close(); } catch { /* */ }
    }
  }
  throw new Error('no port free for UDP and TCP');
}
