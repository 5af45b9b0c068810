// Protocol health checks (configuration.txt 4.2): `option ssl-hello-chk`, `option smtpchk`,
// `option ldap-check`, `option mysql-check`, `option pgsql-check`, `option redis-check`,
// `option spop-check`. Each one is a fixed list of connect / send / expect steps run by the
// check engine (engine.ts), like HAProxy's own canned tcp-check rule sets: same bytes sent,
// same acceptance rules, same status / code / info on failure (compared with HAProxy 2.6).
import { registerOption, BE, type ParseCtx } from '../registry/registry.js';
import type { ProxyConfig } from '../config/model.js';
import type { CheckStep } from './config.js';
import { customStep, type CheckStatus, type CustomVerdict } from './engine.js';

/* ---- helpers ---- */

/** Replaces the backend's check rules with a protocol check's steps. */
function useSteps(px: ProxyConfig, steps: CheckStep[]): void {
  px.checkRules = { type: 'tcp-check', steps, disableOn404: false, httpExpect: false, proto: true };
}

function tooMany(name: string, args: string[], max: number, ctx: ParseCtx): boolean {
  if (args.length <= max) return false;
  ctx.alert(`'option ${name}' cannot handle unexpected argument '${args[max]}'.`);
  return true;
}

/** Info strings are C strings in HAProxy: they stop at the first NUL byte. */
function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return (z < 0 ? b : b.subarray(0, z)).toString('latin1');
}

/** Text up to the first CR or LF. */
function cutCrlf(s: string): string {
  const i = s.search(/[\r\n]/);
  return i < 0 ? s : s.slice(0, i);
}

const CONNECT: CheckStep = { kind: 'connect', sendProxy: false };
const send = (data: Buffer): CheckStep => ({ kind: 'send', data });

/**
 * A regex expectation over the received bytes (as latin1 text, or upper-case hex for binary),
 * with HAProxy's min-recv rule: without a minimum a mismatch waits for more data; with one, the
 * decision is taken as soon as that many bytes are there.
 */
function regexStep(o: {
  re: RegExp; hex?: boolean; neg?: boolean; minRecv?: number;
  errorStatus: CheckStatus; toutStatus?: CheckStatus;
  onError: (buf: Buffer) => { code?: number; info?: string };
  onSuccess?: (buf: Buffer) => { status: CheckStatus; code?: number; info?: string };
}): CheckStep {
  return customStep({
    minRecv: o.minRecv, errorStatus: o.errorStatus, toutStatus: o.toutStatus,
    fn(buf, ended): CustomVerdict {
      const text = o.hex ? buf.toString('hex').toUpperCase() : buf.toString('latin1');
      const match = o.re.test(text) !== !!o.neg;
      if (!match && !ended && o.minRecv === undefined) return 'wait';
      if (!match) return { status: o.errorStatus, ...o.onError(buf) };
      return o.onSuccess ? o.onSuccess(buf) : 'next';
    },
  });
}

/* ---- option redis-check ---- */

const REDIS_PING = Buffer.from('*1\r\n$4\r\nPING\r\n', 'latin1');

export function redisSteps(): CheckStep[] {
  return [
    send(REDIS_PING),
    customStep({
      errorStatus: 'L7STS',
      fn(buf, ended): CustomVerdict {
        if (buf.includes('+PONG\r\n')) return { status: 'L7OK', code: 0, info: 'Redis server is ok' };
        if (!ended) return 'wait';
        return { status: 'L7STS', code: 0, info: cutCrlf(cstr(buf)) };
      },
    }),
  ];
}

/* ---- option ssl-hello-chk ---- */

/** An SSLv3 ClientHello as HAProxy forges it; bytes 11..14 carry the current time. */
export function sslHello(nowSec: number): Buffer {
  const b = Buffer.alloc(126);
  let o = 0;
  const put = (hex: string): void => { o += b.write(hex, o, 'hex'); };
  put('16' + '0300' + '0079'); // record: handshake, SSL 3.0, 121 bytes
  put('01' + '000075'); // ClientHello, 117 bytes
  put('0300'); // client version
  b.writeUInt32BE(nowSec >>> 0, o); o += 4; // gmt_unix_time
  o += b.write('HAPROXYSSLCHK\nHAPROXYSSLCHK\n', o, 'latin1'); // 28 random bytes
  put('00'); // no session id
  put('004e'); // 39 cipher suites
  for (let c = 0x01; c <= 0x1b; c++) { b.writeUInt16BE(c, o); o += 2; }
  for (let c = 0x2f; c <= 0x3a; c++) { b.writeUInt16BE(c, o); o += 2; }
  put('01' + '00'); // one compression method: null
  return b;
}

export function sslHelloSteps(): CheckStep[] {
  return [
    // the time is taken when the check runs: a send step whose data is rebuilt each time
    { kind: 'send', get data(): Buffer { return sslHello(Math.floor(Date.now() / 1000)); } } as CheckStep,
    regexStep({
      re: /^1[56]/, hex: true, minRecv: 5, errorStatus: 'L6RSP', toutStatus: 'L6TOUT',
      onError: () => ({}),
      onSuccess: () => ({ status: 'L6OK' }),
    }),
  ];
}

/* ---- option smtpchk ---- */

/** The text after the 3-digit code (payload from byte 4, left-trimmed, up to the line end). */
function smtpText(buf: Buffer): string {
  return cutCrlf(cstr(buf.subarray(4)).replace(/^ +/, ''));
}
function smtpCode(buf: Buffer): number | undefined {
  const m = /^\d+/.exec(buf.subarray(0, 3).toString('latin1'));
  return m ? Number(m[0]) : 0;
}

export function smtpSteps(hello: string): CheckStep[] {
  const sts = (buf: Buffer): { code?: number; info?: string } => ({ code: smtpCode(buf), info: smtpText(buf) });
  return [
    CONNECT,
    // step 2: a banner with a 3-digit code
    regexStep({ re: /^[0-9]{3}[ \r]/, minRecv: 4, errorStatus: 'L7RSP', onError: (b) => ({ info: cutCrlf(cstr(b)) }) }),
    // step 3: the banner's code is 2xx
    regexStep({ re: /^2[0-9]{2}[ \r]/, minRecv: 4, errorStatus: 'L7STS', onError: sts }),
    send(Buffer.from(`${hello}\r\n`, 'latin1')),
    // step 5: the (possibly multi-line) answer to HELO/EHLO is 2xx
    regexStep({ re: /^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]/, minRecv: 4, errorStatus: 'L7STS', onError: sts }),
    send(Buffer.from('QUIT\r\n', 'latin1')),
    // step 7: the answer to QUIT is 2xx too; its text is the check's info
    regexStep({ re: /^2[0-9]{2}[- \r]/, minRecv: 4, errorStatus: 'L7STS', onError: sts, onSuccess: (b) => ({ status: 'L7OK', ...sts(b) }) }),
  ];
}

/* ---- option ldap-check ---- */

/** An anonymous LDAPv3 simple bind request, message id 1. */
const LDAP_BIND = Buffer.from('300c020101600702010304008000', 'hex');
const LDAP_RFC = 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9';

/** Reads a BindResponse: message id 1, result code 0 wanted. */
export function ldapBindResponse(b: Buffer): CustomVerdict {
  const at = (i: number): number => b[i] ?? -1;
  const bad = { status: 'L7RSP' as const, info: 'Not LDAPv3 protocol' };
  let lenBytes = at(1) & 0x80 ? at(1) & 0x7f : 0;
  if (lenBytes > 2 || at(2 + lenBytes) !== 0x02 || at(3 + lenBytes) !== 0x01 || at(4 + lenBytes) !== 0x01 || at(5 + lenBytes) !== 0x61) return bad;
  lenBytes += at(lenBytes + 6) & 0x80 ? at(lenBytes + 6) & 0x7f : 0;
  if (lenBytes > 4 || at(7 + lenBytes) !== 0x0a || at(8 + lenBytes) !== 0x01) return bad;
  const code = Math.max(0, at(lenBytes + 9));
  if (code !== 0) return { status: 'L7STS', code, info: LDAP_RFC };
  return { status: 'L7OK', code: 0 };
}

export function ldapSteps(): CheckStep[] {
  return [
    send(LDAP_BIND),
    regexStep({ re: /^30/, hex: true, minRecv: 14, errorStatus: 'L7RSP', onError: () => ({ info: 'Not LDAPv3 protocol' }) }),
    customStep({ errorStatus: 'L7RSP', fn: (buf) => ldapBindResponse(buf) }),
  ];
}

/* ---- option pgsql-check ---- */

export function pgsqlStartup(user: string): Buffer {
  const u = Buffer.from(user, 'latin1');
  const b = Buffer.alloc(4 + 4 + 5 + u.length + 2);
  b.writeUInt32BE(15 + u.length, 0); // HAProxy's length: 3 bytes short of the real one
  b.writeUInt32BE(0x00030000, 4); // protocol 3.0
  b.write('user\0', 8, 'latin1');
  u.copy(b, 13);
  return b; // the two trailing bytes are zero
}

export function pgsqlSteps(user: string): CheckStep[] {
  return [
    CONNECT,
    send(pgsqlStartup(user)),
    // an ErrorResponse ('E'): its first field's text is the info
    regexStep({ re: /^E/, neg: true, minRecv: 5, errorStatus: 'L7RSP', onError: (b) => ({ info: cstr(b.subarray(6)) }) }),
    // an Authentication request: ok, cleartext, md5 ... (R, length 8/10/12, method 0,2-6)
    regexStep({
      re: /^52000000(08|0A|0C)000000(00|02|03|04|05|06)/, hex: true, minRecv: 9, errorStatus: 'L7STS',
      onError: () => ({ code: 0, info: 'PostgreSQL unknown error' }),
      onSuccess: () => ({ status: 'L7OK', code: 0, info: 'PostgreSQL server is ok' }),
    }),
  ];
}

/* ---- option mysql-check ---- */

export function mysqlAuth(user: string, pre41: boolean): Buffer {
  const u = Buffer.from(user, 'latin1');
  const len = u.length + 7 + (pre41 ? 0 : 27);
  const head = Buffer.from([len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, 1]);
  const caps = pre41 ? Buffer.from('0080' + '000001', 'hex') : Buffer.from('00820000' + '00800001' + '21' + '00'.repeat(23), 'hex');
  // user name, NUL, filler, then a COM_QUIT packet
  return Buffer.concat([head, caps, u, Buffer.from('00' + '00' + '010000' + '00' + '01', 'hex')]);
}

/** Checks the MySQL packet at `off`: an error packet (0xff) fails with its code and text. */
function mysqlPacket(buf: Buffer, off: number, ended: boolean, last: boolean): CustomVerdict {
  if (buf.length < off + 4) return ended ? { status: 'L7RSP' } : 'wait';
  const plen = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16);
  if (buf.length < off + plen + 4) return ended ? { status: 'L7RSP' } : 'wait';
  if (buf[off + 4] === 0xff) {
    const code = (buf[off + 5] ?? 0) | ((buf[off + 6] ?? 0) << 8);
    return { status: 'L7STS', code, info: cstr(buf.subarray(off + 7)) };
  }
  return last ? { status: 'L7OK', code: 0 } : 'next';
}

export function mysqlSteps(user: string | undefined, pre41: boolean): CheckStep[] {
  if (user === undefined) return [CONNECT, customStep({ errorStatus: 'L7RSP', fn: (b, e) => mysqlPacket(b, 0, e, true) })];
  return [
    CONNECT,
    send(mysqlAuth(user, pre41)),
    customStep({ errorStatus: 'L7RSP', fn: (b, e) => mysqlPacket(b, 0, e, false) }),
    customStep({
      errorStatus: 'L7RSP',
      fn: (b, e) => mysqlPacket(b, 4 + (b[0]! | (b[1]! << 8) | (b[2]! << 16)), e, true),
    }),
  ];
}

/* ---- option spop-check ---- */

/** HAPROXY-HELLO frame: supported-versions "2.0", max-frame-size 16380, capabilities "", healthcheck true. */
export const SPOP_HELLO = Buffer.from(
  '0000004e0100000001000012737570706f727465642d76657273696f6e730803322e300e6d61782d6672616d652d73697a6503fcf0060c6361706162696c697469657308000b6865616c7468636865636b11',
  'hex',
);

const SPOE_ERRORS = [
  'normal', 'I/O error', 'a timeout occurred', 'frame is too big', 'invalid frame received',
  'version value not found', 'max-frame-size value not found', 'capabilities value not found',
  'unsupported version', 'max-frame-size too big or too small', 'fragmentation not supported',
  'invalid interlaced frames', 'frame-id not found', 'resource allocation error',
];
const SPOE_UNKNOWN = 'an unknown error occurred';
const SPOE_INVALID = 4;

class SpoeReader {
  p = 0;
  constructor(readonly b: Buffer, readonly end: number) {}
  varint(): number | undefined {
    if (this.p >= this.end) return undefined;
    let v = this.b[this.p]!;
    if (v < 240) { this.p++; return v; }
    let r = 4;
    let c: number;
    do {
      if (++this.p >= this.end) return undefined;
      c = this.b[this.p]!;
      v += c * 2 ** r;
      r += 7;
    } while (c >= 128);
    this.p++;
    return v;
  }
  bytes(): Buffer | undefined {
    const n = this.varint();
    if (n === undefined || this.p + n > this.end) return undefined;
    const s = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return s;
  }
  /** skips one typed value; false on a malformed one */
  skip(type: number): boolean {
    switch (type & 0x0f) {
      case 0: case 1: return true;
      case 2: case 3: case 4: case 5: return this.varint() !== undefined;
      case 6: this.p += 4; return this.p <= this.end;
      case 7: this.p += 16; return this.p <= this.end;
      case 8: case 9: return this.bytes() !== undefined;
      default: return false;
    }
  }
}

function spoeVersion(s: string): number {
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(s);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : -1;
}

/** Decodes the agent's answer to HAPROXY-HELLO; returns an error reason, or undefined if fine. */
export function spoeHelloError(frame: Buffer): string | undefined {
  const reason = (c: number): string => SPOE_ERRORS[c] ?? SPOE_UNKNOWN;
  const r = new SpoeReader(frame, frame.length);
  const type = frame[0];
  if (type === 102) {
    // AGENT-DISCONNECT: its status-code says why
    if (frame.length < 7 || !(frame.readUInt32BE(1) & 1) || frame[5] !== 0 || frame[6] !== 0) return reason(frame.length < 7 || frame[5] !== 0 || frame[6] !== 0 ? SPOE_INVALID : 10);
    r.p = 7;
    let code = 0;
    while (r.p < r.end) {
      const k = r.bytes();
      if (!k || !k.length) return reason(SPOE_INVALID);
      const key = k.toString('latin1');
      const t = frame[r.p++] ?? -1;
      if (key.startsWith('status-code')) {
        if (![2, 3, 4, 5].includes(t & 0x0f)) return reason(SPOE_INVALID);
        const v = r.varint();
        if (v === undefined) return reason(SPOE_INVALID);
        code = v;
      } else if (key.startsWith('message')) {
        if ((t & 0x0f) !== 8) return reason(SPOE_INVALID);
        const v = r.bytes();
        if (!v || v.length > 255) return reason(SPOE_INVALID);
      } else if (!r.skip(t)) return reason(SPOE_INVALID);
    }
    return reason(code);
  }
  if (type !== 101 || frame.length < 7) return reason(SPOE_INVALID);
  if (!(frame.readUInt32BE(1) & 1)) return reason(10);
  if (frame[5] !== 0 || frame[6] !== 0) return reason(SPOE_INVALID);
  r.p = 7;
  let vsn = 0;
  let maxFrame = 0;
  while (r.p < r.end) {
    const k = r.bytes();
    if (!k || !k.length) return reason(SPOE_INVALID);
    const key = k.toString('latin1');
    const t = frame[r.p++] ?? -1;
    if (key.startsWith('version')) {
      if ((t & 0x0f) !== 8) return reason(SPOE_INVALID);
      const v = r.bytes();
      if (!v) return reason(SPOE_INVALID);
      vsn = spoeVersion(v.toString('latin1'));
      if (vsn !== 2000) return reason(8);
    } else if (key.startsWith('max-frame-size')) {
      if (![2, 3, 4, 5].includes(t & 0x0f)) return reason(SPOE_INVALID);
      const v = r.varint();
      if (v === undefined) return reason(SPOE_INVALID);
      if (v < 256 || v > 16380) return reason(9);
      maxFrame = v;
    } else if (key.startsWith('capabilities')) {
      if ((t & 0x0f) !== 8) return reason(SPOE_INVALID);
      if (!r.bytes()) return reason(SPOE_INVALID);
    } else if (!r.skip(t)) return reason(SPOE_INVALID);
  }
  if (!vsn) return reason(5);
  if (!maxFrame) return reason(6);
  return undefined;
}

export function spopSteps(): CheckStep[] {
  return [
    send(SPOP_HELLO),
    customStep({
      minRecv: 4, errorStatus: 'L7RSP',
      fn(buf, ended): CustomVerdict {
        const size = buf.readUInt32BE(0);
        if (!ended && buf.length < 4 + size) return 'wait';
        const err = spoeHelloError(buf.subarray(4, 4 + size));
        if (err !== undefined) return { status: 'L7RSP', info: err };
        return { status: 'L7OK', code: 0 };
      },
    }),
  ];
}

/* ---- registration ---- */

registerOption(
  {
    name: 'redis-check', caps: BE, negatable: false,
    set(px, _en, args, ctx) { if (!tooMany('redis-check', args, 0, ctx)) useSteps(px, redisSteps()); },
  },
  {
    name: 'ssl-hello-chk', caps: BE, negatable: false,
    set(px, _en, args, ctx) { if (!tooMany('ssl-hello-chk', args, 0, ctx)) useSteps(px, sslHelloSteps()); },
  },
  {
    name: 'smtpchk', caps: BE, negatable: false,
    set(px, _en, args, ctx) {
      if (tooMany('smtpchk', args, 2, ctx)) return;
      // only "HELO <domain>" / "EHLO <domain>" change the default greeting
      const hello = args.length === 2 && (args[0] === 'HELO' || args[0] === 'EHLO') && args[1] !== '' ? `${args[0]} ${args[1]}` : 'HELO localhost';
      useSteps(px, smtpSteps(hello));
    },
  },
  {
    name: 'ldap-check', caps: BE, negatable: false,
    set(px, _en, args, ctx) { if (!tooMany('ldap-check', args, 0, ctx)) useSteps(px, ldapSteps()); },
  },
  {
    name: 'pgsql-check', caps: BE, negatable: false,
    set(px, _en, args, ctx) {
      if (tooMany('pgsql-check', args, 2, ctx)) return;
      if (!args[0] || !args[1]) { ctx.alert(`'option pgsql-check' expects 'user <username>' as argument.`); return; }
      if (args[0] !== 'user') { ctx.alert(`'option pgsql-check' only supports optional values: 'user'.`); return; }
      useSteps(px, pgsqlSteps(args[1]));
    },
  },
  {
    name: 'mysql-check', caps: BE, negatable: false,
    set(px, _en, args, ctx) {
      if (tooMany('mysql-check', args, 3, ctx)) return;
      if (!args[0]) { useSteps(px, mysqlSteps(undefined, false)); return; }
      if (args[0] !== 'user') { ctx.alert(`'option mysql-check' only supports optional values: 'user' (got '${args[0]}').`); return; }
      if (!args[1]) { ctx.alert(`'option mysql-check user' expects <username> as argument.`); return; }
      const v = args[2];
      if (v !== undefined && v !== 'post-41' && v !== 'pre-41') { ctx.alert(`keyword 'user' only supports 'post-41' and 'pre-41' (got '${v}').`); return; }
      useSteps(px, mysqlSteps(args[1], v === 'pre-41'));
    },
  },
);
registerOption({
  name: 'spop-check', caps: BE, negatable: false,
  set(px, _en, args, ctx) { if (!tooMany('spop-check', args, 0, ctx)) useSteps(px, spopSteps()); },
});
