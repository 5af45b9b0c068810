/**
 * PROXY protocol (v1 text and v2 binary) codec.
 *
 * Receiver side: `parseProxyHeader()` is strict and incremental. It is meant to
 * be called with everything received so far on a connection; it answers
 * 'incomplete' only while the bytes seen are a valid beginning of a header and
 * fewer than the maximum header size, 'error' as soon as a byte cannot belong to
 * a valid header, and 'ok' with the number of bytes the header occupies (any
 * bytes after it are application data).
 *
 * Sender side: `buildProxyV1()` / `buildProxyV2()` emit a header in a single
 * allocation. `parseProxyV2Options()` interprets the server keyword
 * `proxy-v2-options`.
 *
 * Nothing in this module keeps references to the caller's input buffer: TLV
 * values returned by the parser live in one private copy of the TLV area.
 */

/* ------------------------------------------------------------------------ */
/* Public types and constants                                               */
/* ------------------------------------------------------------------------ */

export interface ProxyTlv {
  type: number;
  value: Buffer;
}

export interface ProxyInfo {
  version: 1 | 2;
  command: 'LOCAL' | 'PROXY';
  /** v1 UNKNOWN, v2 AF_UNSPEC and every v2 LOCAL header map to 'UNKNOWN'. */
  family: 'TCP4' | 'TCP6' | 'UNIX' | 'UNKNOWN';
  /** Only set for v2 headers carrying addresses (v1 TCP4/TCP6 imply STREAM, and it is set too). */
  transport?: 'STREAM' | 'DGRAM';
  /** Textual IPv4, canonical IPv6 (as Node prints it) or unix socket path ("\0name" for abstract sockets). */
  srcAddr?: string;
  dstAddr?: string;
  srcPort?: number;
  dstPort?: number;
  /** v2 TLVs in wire order (the SSL TLV value is kept raw, sub-TLVs included). Empty for v1. */
  tlvs: ProxyTlv[];
}

export type ParseResult =
  | { status: 'incomplete' }
  | { status: 'error'; reason: string }
  | { status: 'ok'; length: number; info: ProxyInfo };

/** Longest possible v1 line, CRLF included. */
export const PP_V1_MAX_LEN = 107;
/** Fixed part of a v2 header. */
export const PP_V2_HEADER_LEN = 16;
/** Longest possible v2 header (fixed part + 16-bit length). */
export const PP_V2_MAX_LEN = 16 + 0xffff;
/** Largest value accepted for PP2_TYPE_UNIQUE_ID. */
export const PP2_UNIQUE_ID_MAX = 128;
/** Largest value accepted for PP2_TYPE_AUTHORITY (a host name). */
export const PP2_AUTHORITY_MAX = 255;

/** The 12-byte v2 signature. */
export const PP_V2_SIGNATURE: Buffer = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
  MIN_CUSTOM: 0xe0,
  MAX_CUSTOM: 0xef,
  MIN_EXPERIMENT: 0xf0,
  MAX_EXPERIMENT: 0xf7,
  MIN_FUTURE: 0xf8,
  MAX_FUTURE: 0xff,
} as const;

/** Sub-TLV types found inside the value of a PP2_TYPE.SSL TLV. */
export const PP2_SUBTYPE_SSL = {
  VERSION: 0x21,
  CN: 0x22,
  CIPHER: 0x23,
  SIG_ALG: 0x24,
  KEY_ALG: 0x25,
} as const;

/** Bits of the `client` byte of a PP2_TYPE.SSL TLV. */
export const PP2_CLIENT = {
  SSL: 0x01,
  CERT_CONN: 0x02,
  CERT_SESS: 0x04,
} as const;

/** Reasons reported in `{ status: 'error' }` results (stable, usable as counter keys). */
export const PROXY_ERROR = {
  NOT_PROXY: 'not a PROXY protocol header',
  V1_PROTO: 'v1: unknown protocol token',
  V1_SRC_ADDR: 'v1: invalid source address',
  V1_DST_ADDR: 'v1: invalid destination address',
  V1_SRC_PORT: 'v1: invalid source port',
  V1_DST_PORT: 'v1: invalid destination port',
  V1_CRLF: 'v1: line not terminated by CRLF',
  V1_TOO_LONG: 'v1: header too long',
  V2_VERSION: 'v2: unsupported version',
  V2_COMMAND: 'v2: invalid command',
  V2_FAMILY: 'v2: invalid address family or transport',
  V2_ADDR_LEN: 'v2: length too short for the address block',
  V2_TLV_TRUNCATED: 'v2: truncated TLV',
  V2_TLV_OVERFLOW: 'v2: TLV exceeds the header length',
  V2_CRC_LEN: 'v2: invalid CRC32C TLV length',
  V2_CRC_DUP: 'v2: duplicate CRC32C TLV',
  V2_CRC_MISMATCH: 'v2: CRC32C mismatch',
  V2_UNIQUE_ID_LEN: 'v2: unique-id TLV too long',
  V2_AUTHORITY_LEN: 'v2: authority TLV too long',
} as const;
export type ProxyErrorReason = (typeof PROXY_ERROR)[keyof typeof PROXY_ERROR];

/* Shared immutable results: no allocation on the 'incomplete' / 'error' paths. */
const INCOMPLETE: ParseResult = Object.freeze({ status: 'incomplete' as const });
const ERR = {} as Record<keyof typeof PROXY_ERROR, ParseResult>;
for (const k of Object.keys(PROXY_ERROR) as (keyof typeof PROXY_ERROR)[]) {
  ERR[k] = Object.freeze({ status: 'error' as const, reason: PROXY_ERROR[k] });
}

/* ------------------------------------------------------------------------ */
/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78)                     */
/* ------------------------------------------------------------------------ */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Raw register update (no pre/post inversion) over buf[start, end). */
function crcUpdate(reg: number, buf: Uint8Array, start: number, end: number): number {
  const t = CRC_TABLE;
  for (let i = start; i < end; i++) reg = t[(reg ^ buf[i]!) & 0xff]! ^ (reg >>> 8);
  return reg;
}

/**
 * CRC32C of `buf`. `init` is the CRC of preceding data (default 0, i.e. none),
 * so `crc32c(b, crc32c(a)) === crc32c(concat(a, b))`. Returns an unsigned 32-bit value.
 */
export function crc32c(buf: Buffer | Uint8Array, init = 0): number {
  return (crcUpdate(~init >>> 0, buf, 0, buf.length) ^ 0xffffffff) >>> 0;
}

const ZERO4 = new Uint8Array(4);

/* ------------------------------------------------------------------------ */
/* Address helpers                                                          */
/* ------------------------------------------------------------------------ */

type Src = Uint8Array | string;

function codeAt(src: Src, i: number): number {
  return typeof src === 'string' ? src.charCodeAt(i) : src[i]!;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Strict dotted quad in src[start, end): four decimal numbers 0..255, no
 * heading zeroes, single dots. Writes 4 bytes at out[o] when `out` is given.
 */
function parseIPv4(src: Src, start: number, end: number, out: Uint8Array | null, o: number): boolean {
  let parts = 0;
  let digits = 0;
  let val = 0;
  for (let i = start; i < end; i++) {
    const c = codeAt(src, i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return false;
      val = val * 10 + (c - 0x30);
      if (val > 255) return false;
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0 || parts === 3) return false;
      if (out) out[o + parts] = val;
      parts++;
      digits = 0;
      val = 0;
    } else {
      return false;
    }
  }
  if (digits === 0 || parts !== 3) return false;
  if (out) out[o + 3] = val;
  return true;
}

/**
 * IPv6 text in src[start, end) (hex groups of 1-4 digits, at most one "::",
 * optional trailing dotted quad, no zone). Writes 16 bytes at out[o].
 */
function parseIPv6(src: Src, start: number, end: number, out: Uint8Array, o: number): boolean {
  out.fill(0, o, o + 16);
  let i = start;
  if (i >= end) return false;
  if (codeAt(src, i) === 0x3a) {
    if (i + 1 >= end || codeAt(src, i + 1) !== 0x3a) return false;
    i++;
  }
  let words = 0;
  let gap = -1;
  let val = 0;
  let digits = 0;
  let groupStart = i;
  let sawV4 = false;
  while (i < end) {
    const c = codeAt(src, i);
    const h = hexVal(c);
    if (h >= 0) {
      if (digits === 4) return false;
      val = (val << 4) | h;
      digits++;
      i++;
      continue;
    }
    if (c === 0x3a) {
      i++;
      groupStart = i;
      if (digits === 0) {
        if (gap >= 0) return false;
        gap = words;
        continue;
      }
      if (i >= end || words >= 8) return false;
      out[o + words * 2] = val >> 8;
      out[o + words * 2 + 1] = val & 0xff;
      words++;
      val = 0;
      digits = 0;
      continue;
    }
    if (c === 0x2e) {
      if (words > 6) return false;
      if (!parseIPv4(src, groupStart, end, out, o + words * 2)) return false;
      words += 2;
      digits = 0;
      sawV4 = true;
      break;
    }
    return false;
  }
  if (digits > 0 && !sawV4) {
    if (words >= 8) return false;
    out[o + words * 2] = val >> 8;
    out[o + words * 2 + 1] = val & 0xff;
    words++;
  }
  if (gap >= 0) {
    if (words === 8) return false;
    const tail = (words - gap) * 2;
    if (tail > 0) {
      out.copyWithin(o + 16 - tail, o + gap * 2, o + words * 2);
      out.fill(0, o + gap * 2, o + 16 - tail);
    }
  } else if (words !== 8) {
    return false;
  }
  return true;
}

function formatIPv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** Same textual form Node/libuv produce for IPv6 addresses. */
function formatIPv6(b: Uint8Array, o: number): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let w = 0; w < 8; w++) {
    if (b[o + w * 2] === 0 && b[o + w * 2 + 1] === 0) {
      if (curBase < 0) {
        curBase = w;
        curLen = 1;
      } else {
        curLen++;
      }
    } else if (curBase >= 0) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestLen < 2) bestBase = -1;

  let s = '';
  for (let w = 0; w < 8; w++) {
    if (bestBase >= 0 && w >= bestBase && w < bestBase + bestLen) {
      if (w === bestBase) s += ':';
      continue;
    }
    if (w !== 0) s += ':';
    if (
      w === 6 &&
      bestBase === 0 &&
      (bestLen === 6 || (bestLen === 5 && b[o + 10] === 0xff && b[o + 11] === 0xff))
    ) {
      return s + formatIPv4(b, o + 12);
    }
    s += ((b[o + w * 2]! << 8) | b[o + w * 2 + 1]!).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) s += ':';
  return s;
}

const UNIX_PATH_LEN = 108;

function decodeUnixPath(b: Buffer, o: number): string {
  const end = o + UNIX_PATH_LEN;
  if (b[o] === 0) {
    // Linux abstract namespace: leading NUL, trailing NUL padding dropped.
    let last = end;
    while (last > o + 1 && b[last - 1] === 0) last--;
    return last > o + 1 ? '\0' + b.toString('utf8', o + 1, last) : '';
  }
  let z = o;
  while (z < end && b[z] !== 0) z++;
  return b.toString('utf8', o, z);
}

/* Scratch space for address conversions (module is single-threaded, calls never nest). */
const SCRATCH = new Uint8Array(32);
const MAPPED = new Uint8Array(16);

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Parse a PROXY protocol header (v1 or v2, auto-detected) at the start of `buf`.
 * See the module comment for the incremental contract.
 */
export function parseProxyHeader(buf: Buffer): ParseResult {
  if (buf.length === 0) return INCOMPLETE;
  const b0 = buf[0];
  if (b0 === 0x50 /* P */) return parseV1(buf);
  if (b0 === 0x0d) return parseV2(buf);
  return ERR.NOT_PROXY;
}

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/* scanner outcomes (non-negative values are positions) */
const SHORT = -1;
const BAD = -2;
const BAD_EOL = -3; // lone LF where CRLF was expected

let scannedPort = 0;

function scanPort(buf: Buffer, p: number, end: number, term: number): number {
  let digits = 0;
  let val = 0;
  for (; p < end; p++) {
    const c = buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return BAD; // heading zero
      val = val * 10 + (c - 0x30);
      if (val > 0xffff) return BAD;
      digits++;
    } else if (c === term && digits > 0) {
      scannedPort = val;
      return p;
    } else if (c === LF && term === CR && digits > 0) {
      return BAD_EOL;
    } else {
      return BAD;
    }
  }
  return SHORT;
}

/** Dotted quad validated byte by byte, terminated by a space. */
function scanV4(buf: Buffer, p: number, end: number): number {
  let parts = 0;
  let digits = 0;
  let val = 0;
  for (; p < end; p++) {
    const c = buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && val === 0) return BAD;
      val = val * 10 + (c - 0x30);
      if (val > 255) return BAD;
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0 || parts === 3) return BAD;
      parts++;
      digits = 0;
      val = 0;
    } else if (c === SP) {
      return digits === 0 || parts !== 3 ? BAD : p;
    } else {
      return BAD;
    }
  }
  return SHORT;
}

/** IPv6 text terminated by a space; decoded into SCRATCH[o..o+16). */
function scanV6(buf: Buffer, p: number, end: number, o: number): number {
  const start = p;
  for (; p < end; p++) {
    const c = buf[p]!;
    if (c === SP) return parseIPv6(buf, start, p, SCRATCH, o) ? p : BAD;
    if (p - start >= 45 || (c !== 0x3a && c !== 0x2e && hexVal(c) < 0)) return BAD;
  }
  return SHORT;
}

function parseV1(buf: Buffer): ParseResult {
  const n = buf.length;
  const end = n < PP_V1_MAX_LEN ? n : PP_V1_MAX_LEN;
  // Running out of bytes means "wait" unless the maximum line length is reached.
  const short = end === PP_V1_MAX_LEN ? ERR.V1_TOO_LONG : INCOMPLETE;
  let p = 0;
  for (; p < 6; p++) {
    if (p >= end) return short;
    if (buf[p] !== V1_PREFIX[p]) return ERR.NOT_PROXY;
  }

  if (p >= end) return short;
  if (buf[p] === 0x55 /* U */) {
    const kw = 'UNKNOWN';
    for (let k = 0; k < 7; k++, p++) {
      if (p >= end) return short;
      if (buf[p] !== kw.charCodeAt(k)) return ERR.V1_PROTO;
    }
    if (p >= end) return short;
    const c = buf[p];
    if (c === SP) p++;
    else if (c !== CR) return ERR.V1_PROTO;
    // Whatever follows is ignored up to the CRLF; lone CR/LF are not tolerated.
    for (; p < end; p++) {
      const ch = buf[p];
      if (ch === LF) return ERR.V1_CRLF;
      if (ch === CR) {
        if (p + 1 >= end) return short;
        if (buf[p + 1] !== LF) return ERR.V1_CRLF;
        return {
          status: 'ok',
          length: p + 2,
          info: { version: 1, command: 'PROXY', family: 'UNKNOWN', tlvs: [] },
        };
      }
    }
    return short;
  }

  // "TCP4 " / "TCP6 "
  const kw = 'TCP';
  for (let k = 0; k < 3; k++, p++) {
    if (p >= end) return short;
    if (buf[p] !== kw.charCodeAt(k)) return ERR.V1_PROTO;
  }
  if (p >= end) return short;
  const fam = buf[p];
  if (fam !== 0x34 && fam !== 0x36) return ERR.V1_PROTO;
  const v6 = fam === 0x36;
  p++;
  if (p >= end) return short;
  if (buf[p] !== SP) return ERR.V1_PROTO;
  p++;

  const srcStart = p;
  let r = v6 ? scanV6(buf, p, end, 0) : scanV4(buf, p, end);
  if (r === SHORT) return short;
  if (r === BAD) return ERR.V1_SRC_ADDR;
  const srcEnd = r;
  p = r + 1;

  const dstStart = p;
  r = v6 ? scanV6(buf, p, end, 16) : scanV4(buf, p, end);
  if (r === SHORT) return short;
  if (r === BAD) return ERR.V1_DST_ADDR;
  const dstEnd = r;
  p = r + 1;

  r = scanPort(buf, p, end, SP);
  if (r === SHORT) return short;
  if (r === BAD) return ERR.V1_SRC_PORT;
  const srcPort = scannedPort;
  p = r + 1;

  r = scanPort(buf, p, end, CR);
  if (r === SHORT) return short;
  if (r === BAD) return ERR.V1_DST_PORT;
  if (r === BAD_EOL) return ERR.V1_CRLF;
  const dstPort = scannedPort;
  p = r + 1;
  if (p >= end) return short;
  if (buf[p] !== LF) return ERR.V1_CRLF;

  return {
    status: 'ok',
    length: p + 1,
    info: {
      version: 1,
      command: 'PROXY',
      family: v6 ? 'TCP6' : 'TCP4',
      transport: 'STREAM',
      srcAddr: v6 ? formatIPv6(SCRATCH, 0) : buf.toString('latin1', srcStart, srcEnd),
      dstAddr: v6 ? formatIPv6(SCRATCH, 16) : buf.toString('latin1', dstStart, dstEnd),
      srcPort,
      dstPort,
      tlvs: [],
    },
  };
}

/** Address block size for a v2 family/transport byte, -1 when invalid. */
function v2AddrLen(fam: number): number {
  switch (fam) {
    case 0x00:
      return 0;
    case 0x11:
    case 0x12:
      return 12;
    case 0x21:
    case 0x22:
      return 36;
    case 0x31:
    case 0x32:
      return 2 * UNIX_PATH_LEN;
    default:
      return -1;
  }
}

function parseV2(buf: Buffer): ParseResult {
  const n = buf.length;
  const sigEnd = n < 12 ? n : 12;
  for (let i = 0; i < sigEnd; i++) {
    if (buf[i] !== PP_V2_SIGNATURE[i]) return ERR.NOT_PROXY;
  }
  if (n < 13) return INCOMPLETE;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return ERR.V2_VERSION;
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return ERR.V2_COMMAND;
  if (n < 14) return INCOMPLETE;
  const fam = buf[13]!;
  let addrLen = v2AddrLen(fam);
  if (addrLen < 0) return ERR.V2_FAMILY;
  if (n < 16) return INCOMPLETE;
  const len = (buf[14]! << 8) | buf[15]!;
  // An empty LOCAL header is fine whatever family it names (the family is ignored).
  if (len === 0 && cmd === 0) addrLen = 0;
  if (len < addrLen) return ERR.V2_ADDR_LEN;
  const total = PP_V2_HEADER_LEN + len;

  // Walk the TLV chain as far as the bytes received allow, so that a broken
  // chain is reported without waiting for the rest of the header.
  const tlvStart = PP_V2_HEADER_LEN + addrLen;
  let count = 0;
  let crcOff = -1;
  for (let p = tlvStart; p < total; ) {
    if (total - p < 3) return ERR.V2_TLV_TRUNCATED;
    if (p + 3 > n) return INCOMPLETE;
    const type = buf[p]!;
    const l = (buf[p + 1]! << 8) | buf[p + 2]!;
    if (p + 3 + l > total) return ERR.V2_TLV_OVERFLOW;
    if (type === PP2_TYPE.CRC32C) {
      if (l !== 4) return ERR.V2_CRC_LEN;
      if (crcOff >= 0) return ERR.V2_CRC_DUP;
      crcOff = p + 3;
    } else if (type === PP2_TYPE.UNIQUE_ID) {
      if (l > PP2_UNIQUE_ID_MAX) return ERR.V2_UNIQUE_ID_LEN;
    } else if (type === PP2_TYPE.AUTHORITY) {
      if (l > PP2_AUTHORITY_MAX) return ERR.V2_AUTHORITY_LEN;
    }
    count++;
    p += 3 + l;
  }
  if (n < total) return INCOMPLETE;

  if (crcOff >= 0) {
    // Checksum of the whole header with the checksum field itself zeroed.
    let reg = crcUpdate(0xffffffff, buf, 0, crcOff);
    reg = crcUpdate(reg, ZERO4, 0, 4);
    reg = crcUpdate(reg, buf, crcOff + 4, total);
    const computed = (reg ^ 0xffffffff) >>> 0;
    if (computed !== buf.readUInt32BE(crcOff)) return ERR.V2_CRC_MISMATCH;
  }

  const tlvs: ProxyTlv[] = new Array(count);
  if (count > 0) {
    // One private copy of the TLV area; values are views into it.
    const area = Buffer.allocUnsafe(total - tlvStart);
    buf.copy(area, 0, tlvStart, total);
    for (let p = 0, k = 0; k < count; k++) {
      const l = (area[p + 1]! << 8) | area[p + 2]!;
      tlvs[k] = { type: area[p]!, value: area.subarray(p + 3, p + 3 + l) };
      p += 3 + l;
    }
  }

  if (cmd === 0) {
    // LOCAL: the sender talks for itself, addresses (if any) are ignored.
    return { status: 'ok', length: total, info: { version: 2, command: 'LOCAL', family: 'UNKNOWN', tlvs } };
  }

  const transport = (fam & 0x0f) === 1 ? 'STREAM' : 'DGRAM';
  const a = PP_V2_HEADER_LEN;
  let info: ProxyInfo;
  switch (fam >> 4) {
    case 1:
      info = {
        version: 2,
        command: 'PROXY',
        family: 'TCP4',
        transport,
        srcAddr: formatIPv4(buf, a),
        dstAddr: formatIPv4(buf, a + 4),
        srcPort: (buf[a + 8]! << 8) | buf[a + 9]!,
        dstPort: (buf[a + 10]! << 8) | buf[a + 11]!,
        tlvs,
      };
      break;
    case 2:
      info = {
        version: 2,
        command: 'PROXY',
        family: 'TCP6',
        transport,
        srcAddr: formatIPv6(buf, a),
        dstAddr: formatIPv6(buf, a + 16),
        srcPort: (buf[a + 32]! << 8) | buf[a + 33]!,
        dstPort: (buf[a + 34]! << 8) | buf[a + 35]!,
        tlvs,
      };
      break;
    case 3:
      info = {
        version: 2,
        command: 'PROXY',
        family: 'UNIX',
        transport,
        srcAddr: decodeUnixPath(buf, a),
        dstAddr: decodeUnixPath(buf, a + UNIX_PATH_LEN),
        tlvs,
      };
      break;
    default:
      info = { version: 2, command: 'PROXY', family: 'UNKNOWN', tlvs };
  }
  return { status: 'ok', length: total, info };
}

/** First TLV of the given type, or undefined. */
export function findTlv(info: ProxyInfo, type: number): Buffer | undefined {
  for (const t of info.tlvs) if (t.type === type) return t.value;
  return undefined;
}

/* ------------------------------------------------------------------------ */
/* Incremental decoder (accumulates chunks until the header is complete)    */
/* ------------------------------------------------------------------------ */

export type DecoderResult =
  | { status: 'incomplete' }
  | { status: 'error'; reason: string }
  | { status: 'ok'; length: number; info: ProxyInfo; rest: Buffer };

/**
 * Feeds socket chunks to `parseProxyHeader()`. Once 'ok' is returned, `rest`
 * holds the application bytes that followed the header in the data received so
 * far. After 'ok' or 'error' the decoder must not be fed again.
 */
export class ProxyHeaderDecoder {
  private pending: Buffer | null = null;

  push(chunk: Buffer): DecoderResult {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const r = parseProxyHeader(buf);
    if (r.status === 'incomplete') {
      this.pending = buf === chunk ? Buffer.from(chunk) : buf; // own copy: callers may reuse chunks
      return r;
    }
    this.pending = null;
    if (r.status === 'error') return r;
    return { status: 'ok', length: r.length, info: r.info, rest: buf.subarray(r.length) };
  }

  /** Bytes buffered while waiting for the rest of the header. */
  get buffered(): number {
    return this.pending ? this.pending.length : 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Builders                                                                 */
/* ------------------------------------------------------------------------ */

export interface ProxyAddressInfo {
  family: 'TCP4' | 'TCP6' | 'UNIX' | 'UNKNOWN';
  srcAddr?: string;
  dstAddr?: string;
  srcPort?: number;
  dstPort?: number;
}

function checkPort(p: number | undefined, what: string): number {
  if (p === undefined || !Number.isInteger(p) || p < 0 || p > 0xffff) {
    throw new RangeError(`PROXY protocol: invalid ${what} port ${String(p)}`);
  }
  return p;
}

/** Encode an IPv4 address (or an IPv4-mapped IPv6 one) into out[o..o+4). */
function encodeV4(addr: string | undefined, out: Uint8Array, o: number, what: string): void {
  if (addr !== undefined) {
    if (parseIPv4(addr, 0, addr.length, out, o)) return;
    if (parseIPv6(addr, 0, addr.length, MAPPED, 0) && isV4Mapped(MAPPED, 0)) {
      for (let i = 0; i < 4; i++) out[o + i] = MAPPED[12 + i]!;
      return;
    }
  }
  throw new TypeError(`PROXY protocol: invalid IPv4 ${what} address ${String(addr)}`);
}

/** Encode an IPv6 address (a plain IPv4 one is mapped to ::ffff:a.b.c.d) into out[o..o+16). */
function encodeV6(addr: string | undefined, out: Uint8Array, o: number, what: string): void {
  if (addr !== undefined) {
    if (parseIPv6(addr, 0, addr.length, out, o)) return;
    if (parseIPv4(addr, 0, addr.length, out, o + 12)) {
      out.fill(0, o, o + 10);
      out[o + 10] = 0xff;
      out[o + 11] = 0xff;
      return;
    }
  }
  throw new TypeError(`PROXY protocol: invalid IPv6 ${what} address ${String(addr)}`);
}

function isV4Mapped(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) return false;
  return b[o + 10] === 0xff && b[o + 11] === 0xff;
}

/**
 * Build a v1 line. TCP4 accepts IPv4-mapped IPv6 text, TCP6 accepts plain IPv4
 * (mapped); IPv6 is printed in canonical form. Throws on invalid input.
 */
export function buildProxyV1(info: {
  family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  srcAddr?: string;
  dstAddr?: string;
  srcPort?: number;
  dstPort?: number;
}): Buffer {
  let line: string;
  if (info.family === 'UNKNOWN') {
    line = 'PROXY UNKNOWN\r\n';
  } else if (info.family === 'TCP4' || info.family === 'TCP6') {
    const sp = checkPort(info.srcPort, 'source');
    const dp = checkPort(info.dstPort, 'destination');
    let s: string;
    let d: string;
    if (info.family === 'TCP4') {
      encodeV4(info.srcAddr, SCRATCH, 0, 'source');
      encodeV4(info.dstAddr, SCRATCH, 4, 'destination');
      s = formatIPv4(SCRATCH, 0);
      d = formatIPv4(SCRATCH, 4);
    } else {
      encodeV6(info.srcAddr, SCRATCH, 0, 'source');
      encodeV6(info.dstAddr, SCRATCH, 16, 'destination');
      s = formatIPv6(SCRATCH, 0);
      d = formatIPv6(SCRATCH, 16);
    }
    line = `PROXY ${info.family} ${s} ${d} ${sp} ${dp}\r\n`;
  } else {
    throw new TypeError(`PROXY protocol v1: unsupported family ${String(info.family)}`);
  }
  return Buffer.from(line, 'latin1');
}

export interface ProxyV2BuildOptions {
  /** Append a CRC32C TLV (placed first) and fill it with the header checksum. */
  crc32c?: boolean;
  /** PP2_TYPE.UNIQUE_ID value; truncated to 128 bytes. Empty values are not sent. */
  uniqueId?: string | Buffer;
  /** PP2_TYPE.AUTHORITY value (e.g. the client's SNI). Empty values are not sent. */
  authority?: string;
  /** PP2_TYPE.ALPN value (negotiated protocol). Empty values are not sent. */
  alpn?: string | Buffer;
  /** PP2_TYPE.NETNS value. Empty values are not sent. */
  netns?: string;
  /**
   * Pad the header with a trailing NOOP TLV so that it is at least this many
   * bytes long (exactly, unless the gap is 1 or 2 bytes: a TLV needs 3).
   */
  padTo?: number;
  /**
   * Global `pp2-never-send-local`: a LOCAL command is emitted as PROXY with
   * the given family and addresses instead.
   */
  neverSendLocal?: boolean;
}

function toBuf(v: string | Buffer | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return b.length > 0 ? b : undefined;
}

function encodeUnixPath(path: string | undefined, out: Buffer, o: number, what: string): void {
  out.fill(0, o, o + UNIX_PATH_LEN);
  if (path === undefined || path === '') return;
  if (Buffer.byteLength(path, 'utf8') > UNIX_PATH_LEN) {
    throw new RangeError(`PROXY protocol: unix ${what} path too long`);
  }
  out.write(path, o, 'utf8');
}

/**
 * Build a v2 header. LOCAL headers carry no address (family AF_UNSPEC) unless
 * `opts.neverSendLocal` turns them into PROXY. Option TLVs come first (CRC32C,
 * ALPN, AUTHORITY, UNIQUE_ID, NETNS), then `tlvs` in order, then padding.
 * Throws on invalid addresses/ports or when the header would exceed 65535+16 bytes.
 */
export function buildProxyV2(
  info: {
    command: 'LOCAL' | 'PROXY';
    family: 'TCP4' | 'TCP6' | 'UNIX' | 'UNKNOWN';
    transport?: 'STREAM' | 'DGRAM';
    srcAddr?: string;
    dstAddr?: string;
    srcPort?: number;
    dstPort?: number;
  },
  tlvs?: readonly ProxyTlv[],
  opts?: ProxyV2BuildOptions,
): Buffer {
  let command = info.command;
  if (command === 'LOCAL' && opts?.neverSendLocal) command = 'PROXY';
  if (command !== 'LOCAL' && command !== 'PROXY') {
    throw new TypeError(`PROXY protocol v2: invalid command ${String(command)}`);
  }

  let famByte = 0x00;
  if (command === 'PROXY') {
    const tr = info.transport === 'DGRAM' ? 0x02 : 0x01;
    switch (info.family) {
      case 'TCP4':
        famByte = 0x10 | tr;
        break;
      case 'TCP6':
        famByte = 0x20 | tr;
        break;
      case 'UNIX':
        famByte = 0x30 | tr;
        break;
      case 'UNKNOWN':
        famByte = 0x00;
        break;
      default:
        throw new TypeError(`PROXY protocol v2: unsupported family ${String(info.family)}`);
    }
  }
  const addrLen = v2AddrLen(famByte);

  const alpn = toBuf(opts?.alpn);
  const authority = toBuf(opts?.authority);
  let uniqueId = toBuf(opts?.uniqueId);
  if (uniqueId && uniqueId.length > PP2_UNIQUE_ID_MAX) uniqueId = uniqueId.subarray(0, PP2_UNIQUE_ID_MAX);
  const netns = toBuf(opts?.netns);
  if (authority && authority.length > PP2_AUTHORITY_MAX) {
    throw new RangeError('PROXY protocol v2: authority too long');
  }

  let size = PP_V2_HEADER_LEN + addrLen;
  if (opts?.crc32c) size += 7;
  if (alpn) size += 3 + alpn.length;
  if (authority) size += 3 + authority.length;
  if (uniqueId) size += 3 + uniqueId.length;
  if (netns) size += 3 + netns.length;
  if (tlvs) {
    for (const t of tlvs) {
      if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xff) {
        throw new RangeError(`PROXY protocol v2: invalid TLV type ${String(t.type)}`);
      }
      if (t.type === PP2_TYPE.CRC32C) {
        throw new RangeError('PROXY protocol v2: use opts.crc32c instead of a raw CRC32C TLV');
      }
      if (t.value.length > 0xffff) throw new RangeError('PROXY protocol v2: TLV value too long');
      size += 3 + t.value.length;
    }
  }
  let padLen = -1; // value length of the NOOP TLV, -1 when none
  if (opts?.padTo !== undefined && opts.padTo > size) {
    padLen = Math.max(0, opts.padTo - size - 3);
    size += 3 + padLen;
  }
  if (size > PP_V2_MAX_LEN) throw new RangeError('PROXY protocol v2: header too long');

  const out = Buffer.allocUnsafe(size);
  PP_V2_SIGNATURE.copy(out, 0);
  out[12] = 0x20 | (command === 'PROXY' ? 1 : 0);
  out[13] = famByte;
  out.writeUInt16BE(size - PP_V2_HEADER_LEN, 14);

  let p = PP_V2_HEADER_LEN;
  switch (famByte >> 4) {
    case 1:
      encodeV4(info.srcAddr, out, p, 'source');
      encodeV4(info.dstAddr, out, p + 4, 'destination');
      out.writeUInt16BE(checkPort(info.srcPort, 'source'), p + 8);
      out.writeUInt16BE(checkPort(info.dstPort, 'destination'), p + 10);
      break;
    case 2:
      encodeV6(info.srcAddr, out, p, 'source');
      encodeV6(info.dstAddr, out, p + 16, 'destination');
      out.writeUInt16BE(checkPort(info.srcPort, 'source'), p + 32);
      out.writeUInt16BE(checkPort(info.dstPort, 'destination'), p + 34);
      break;
    case 3:
      encodeUnixPath(info.srcAddr, out, p, 'source');
      encodeUnixPath(info.dstAddr, out, p + UNIX_PATH_LEN, 'destination');
      break;
    default:
      break;
  }
  p += addrLen;

  const put = (type: number, value: Uint8Array): void => {
    out[p] = type;
    out.writeUInt16BE(value.length, p + 1);
    out.set(value, p + 3);
    p += 3 + value.length;
  };
  let crcOff = -1;
  if (opts?.crc32c) {
    crcOff = p + 3;
    put(PP2_TYPE.CRC32C, ZERO4);
  }
  if (alpn) put(PP2_TYPE.ALPN, alpn);
  if (authority) put(PP2_TYPE.AUTHORITY, authority);
  if (uniqueId) put(PP2_TYPE.UNIQUE_ID, uniqueId);
  if (netns) put(PP2_TYPE.NETNS, netns);
  if (tlvs) for (const t of tlvs) put(t.type, t.value);
  if (padLen >= 0) {
    out[p] = PP2_TYPE.NOOP;
    out.writeUInt16BE(padLen, p + 1);
    out.fill(0, p + 3, p + 3 + padLen);
    p += 3 + padLen;
  }
  if (crcOff >= 0) out.writeUInt32BE(crc32c(out), crcOff);
  return out;
}

/* ------------------------------------------------------------------------ */
/* PP2_TYPE_SSL value helpers (for the TLS layer)                           */
/* ------------------------------------------------------------------------ */

export interface Pp2SslInfo {
  /** PP2_CLIENT bits. */
  client: number;
  /** 0 when a client certificate was presented and verified. */
  verify: number;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
  /** Every sub-TLV in wire order, raw. */
  subTlvs: ProxyTlv[];
}

/** Build the value of a PP2_TYPE.SSL TLV. */
export function buildSslTlvValue(ssl: {
  client: number;
  verify: number;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
}): Buffer {
  const subs: [number, Buffer][] = [];
  const add = (type: number, v: string | undefined): void => {
    if (v !== undefined) subs.push([type, Buffer.from(v, 'utf8')]);
  };
  add(PP2_SUBTYPE_SSL.VERSION, ssl.version);
  add(PP2_SUBTYPE_SSL.CN, ssl.cn);
  add(PP2_SUBTYPE_SSL.CIPHER, ssl.cipher);
  add(PP2_SUBTYPE_SSL.SIG_ALG, ssl.sigAlg);
  add(PP2_SUBTYPE_SSL.KEY_ALG, ssl.keyAlg);
  let size = 5;
  for (const [, v] of subs) size += 3 + v.length;
  if (size > 0xffff) throw new RangeError('PROXY protocol v2: SSL TLV too long');
  const out = Buffer.allocUnsafe(size);
  out[0] = ssl.client & 0xff;
  out.writeUInt32BE(ssl.verify >>> 0, 1);
  let p = 5;
  for (const [t, v] of subs) {
    out[p] = t;
    out.writeUInt16BE(v.length, p + 1);
    v.copy(out, p + 3);
    p += 3 + v.length;
  }
  return out;
}

/** Decode the value of a PP2_TYPE.SSL TLV; null when malformed. */
export function decodeSslTlvValue(value: Buffer): Pp2SslInfo | null {
  if (value.length < 5) return null;
  const res: Pp2SslInfo = { client: value[0]!, verify: value.readUInt32BE(1), subTlvs: [] };
  let p = 5;
  while (p < value.length) {
    if (value.length - p < 3) return null;
    const t = value[p]!;
    const l = value.readUInt16BE(p + 1);
    if (p + 3 + l > value.length) return null;
    const v = value.subarray(p + 3, p + 3 + l);
    res.subTlvs.push({ type: t, value: v });
    const s = v.toString('utf8');
    if (t === PP2_SUBTYPE_SSL.VERSION) res.version = s;
    else if (t === PP2_SUBTYPE_SSL.CN) res.cn = s;
    else if (t === PP2_SUBTYPE_SSL.CIPHER) res.cipher = s;
    else if (t === PP2_SUBTYPE_SSL.SIG_ALG) res.sigAlg = s;
    else if (t === PP2_SUBTYPE_SSL.KEY_ALG) res.keyAlg = s;
    p += 3 + l;
  }
  return res;
}

/* ------------------------------------------------------------------------ */
/* Configuration helpers                                                    */
/* ------------------------------------------------------------------------ */

/** What `proxy-v2-options` asks to send. TLS-related entries are filled by the TLS layer. */
export interface ProxyV2Options {
  /** PP2_TYPE_SSL TLV (also implied by certCn, sslCipher, certSig, certKey). */
  ssl: boolean;
  /** SSL sub-TLV CN (client certificate common name). */
  certCn: boolean;
  /** SSL sub-TLV CIPHER. */
  sslCipher: boolean;
  /** SSL sub-TLV SIG_ALG (signature algorithm of the frontend certificate). */
  certSig: boolean;
  /** SSL sub-TLV KEY_ALG (key algorithm of the frontend certificate). */
  certKey: boolean;
  /** AUTHORITY TLV (client SNI). */
  authority: boolean;
  /** CRC32C TLV. */
  crc32c: boolean;
  /** UNIQUE_ID TLV (frontend unique-id-format). */
  uniqueId: boolean;
}

export function emptyProxyV2Options(): ProxyV2Options {
  return {
    ssl: false,
    certCn: false,
    sslCipher: false,
    certSig: false,
    certKey: false,
    authority: false,
    crc32c: false,
    uniqueId: false,
  };
}

/**
 * Parse the argument(s) of `proxy-v2-options`: comma-separated names, possibly
 * spread over several words. Unknown or empty names are errors.
 */
export function parseProxyV2Options(
  words: string[],
): { ok: true; options: ProxyV2Options } | { ok: false; error: string } {
  const options = emptyProxyV2Options();
  let seen = 0;
  for (const word of words) {
    for (const name of word.split(',')) {
      switch (name) {
        case 'ssl':
          options.ssl = true;
          break;
        case 'cert-cn':
          options.ssl = options.certCn = true;
          break;
        case 'ssl-cipher':
          options.ssl = options.sslCipher = true;
          break;
        case 'cert-sig':
          options.ssl = options.certSig = true;
          break;
        case 'cert-key':
          options.ssl = options.certKey = true;
          break;
        case 'authority':
          options.authority = true;
          break;
        case 'crc32c':
          options.crc32c = true;
          break;
        case 'unique-id':
          options.uniqueId = true;
          break;
        case '':
          return { ok: false, error: "'proxy-v2-options': empty option name" };
        default:
          return {
            ok: false,
            error:
              `'proxy-v2-options': unknown option '${name}' (expected ssl, cert-cn, ssl-cipher, ` +
              'cert-sig, cert-key, authority, crc32c or unique-id)',
          };
      }
      seen++;
    }
  }
  if (seen === 0) return { ok: false, error: "'proxy-v2-options' expects a comma-separated list of options" };
  return { ok: true, options };
}

/**
 * Parse the <id> of `set-proxy-v2-tlv-fmt(<id>)`: decimal or 0x-prefixed hex
 * in 0..255. Returns null when invalid.
 */
export function parseTlvTypeId(s: string): number | null {
  let v: number;
  if (/^0[xX][0-9a-fA-F]{1,2}$/.test(s)) v = parseInt(s.slice(2), 16);
  else if (/^[0-9]{1,3}$/.test(s)) v = parseInt(s, 10);
  else return null;
  return v <= 0xff ? v : null;
}
