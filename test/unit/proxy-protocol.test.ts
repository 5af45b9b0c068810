import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';

import {
  PP2_AUTHORITY_MAX,
  PP2_CLIENT,
  PP2_SUBTYPE_SSL,
  PP2_TYPE,
  PP_V1_MAX_LEN,
  PP_V2_MAX_LEN,
  PP_V2_SIGNATURE,
  PROXY_ERROR,
  ProxyHeaderDecoder,
  buildProxyV1,
  buildProxyV2,
  buildSslTlvValue,
  crc32c,
  decodeSslTlvValue,
  findTlv,
  parseProxyHeader,
  parseProxyV2Options,
  parseTlvTypeId,
  type ParseResult,
  type ProxyInfo,
} from '../../src/net/proxy-protocol.js';

/* ---------------------------------------------------------------- helpers */

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function ok(r: ParseResult): { length: number; info: ProxyInfo } {
  if (r.status !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}

function isError(r: ParseResult, reason?: string): void {
  assert.equal(r.status, 'error', `expected error, got ${JSON.stringify(r)}`);
  if (reason !== undefined && r.status === 'error') assert.equal(r.reason, reason);
}

function v1(s: string): ParseResult {
  return parseProxyHeader(Buffer.from(s, 'latin1'));
}

/** Hand-made v2 header: signature, ver/cmd, fam, then body (length computed unless given). */
function v2raw(verCmd: number, fam: number, body: number[] | Buffer, len?: number): Buffer {
  const b = Buffer.from(body);
  const l = len ?? b.length;
  return Buffer.concat([Buffer.from(SIG), Buffer.from([verCmd, fam, l >> 8, l & 0xff]), b]);
}

/** Bit-at-a-time CRC32C, independent from the table-driven implementation. */
function slowCrc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Every strict prefix must be 'incomplete', the whole buffer must parse. */
function feedByteByByte(full: Buffer): { length: number; info: ProxyInfo } {
  for (let i = 0; i < full.length; i++) {
    const r = parseProxyHeader(full.subarray(0, i));
    assert.equal(r.status, 'incomplete', `prefix of ${i} bytes: ${JSON.stringify(r)}`);
  }
  return ok(parseProxyHeader(full));
}

function canonical6(a: string): string {
  return new SocketAddress({ address: a, family: 'ipv6' }).address;
}

/* ------------------------------------------------------------------ CRC32C */

describe('crc32c', () => {
  test('known vectors (check value and iSCSI test patterns)', () => {
    assert.equal(crc32c(Buffer.from('123456789', 'ascii')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.equal(crc32c(inc), 0x46dd794e);
    assert.equal(crc32c(inc.slice().reverse()), 0x113fdb5c);
  });

  test('chaining with init equals one pass, and matches a bitwise implementation', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice or more.');
    const whole = crc32c(data);
    assert.equal(crc32c(data.subarray(17), crc32c(data.subarray(0, 17))), whole);
    assert.equal(whole, slowCrc32c(data));
    for (let n = 0; n < 300; n += 37) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 0xff;
      assert.equal(crc32c(b), slowCrc32c(b));
    }
    assert.ok(crc32c(Buffer.from([0x80])) >= 0, 'result is unsigned');
  });
});

/* ---------------------------------------------------------------------- v1 */

describe('PROXY v1 builder', () => {
  test('byte-exact TCP4 line', () => {
    const b = buildProxyV1({ family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 111, dstPort: 222 });
    assert.deepEqual(b, Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\n', 'latin1'));
  });

  test('TCP6 is printed canonically, IPv4 is mapped under TCP6 and unmapped under TCP4', () => {
    const b = buildProxyV1({
      family: 'TCP6',
      srcAddr: '2001:0DB8:0000:0000:0000:0000:0000:0001',
      dstAddr: '10.0.0.1',
      srcPort: 0,
      dstPort: 65535,
    });
    assert.equal(b.toString('latin1'), 'PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n');
    const c = buildProxyV1({ family: 'TCP4', srcAddr: '::ffff:192.0.2.1', dstAddr: '192.0.2.2', srcPort: 1, dstPort: 2 });
    assert.equal(c.toString('latin1'), 'PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n');
  });

  test('UNKNOWN is the short form', () => {
    assert.equal(buildProxyV1({ family: 'UNKNOWN', srcAddr: '1.2.3.4' }).toString('latin1'), 'PROXY UNKNOWN\r\n');
  });

  test('invalid input throws', () => {
    const base = { family: 'TCP4' as const, srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 };
    assert.throws(() => buildProxyV1({ ...base, srcAddr: '1.2.3.256' }), TypeError);
    assert.throws(() => buildProxyV1({ ...base, dstAddr: '2001:db8::1' }), TypeError);
    assert.throws(() => buildProxyV1({ ...base, srcPort: 70000 }), RangeError);
    assert.throws(() => buildProxyV1({ ...base, dstPort: -1 }), RangeError);
    assert.throws(() => buildProxyV1({ ...base, dstPort: 1.5 }), RangeError);
    assert.throws(() => buildProxyV1({ family: 'TCP6', srcAddr: 'fe80::1%eth0', dstAddr: '::1', srcPort: 1, dstPort: 2 }), TypeError);
    assert.throws(() => buildProxyV1({ family: 'TCP4', srcPort: 1, dstPort: 2 }), TypeError);
  });
});

describe('PROXY v1 parser', () => {
  test('TCP4 round trip with trailing application data', () => {
    const hdr = buildProxyV1({ family: 'TCP4', srcAddr: '192.168.0.1', dstAddr: '192.168.0.11', srcPort: 56324, dstPort: 443 });
    const data = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = ok(parseProxyHeader(Buffer.concat([hdr, data])));
    assert.equal(r.length, hdr.length);
    assert.deepEqual(r.info, {
      version: 1,
      command: 'PROXY',
      family: 'TCP4',
      transport: 'STREAM',
      srcAddr: '192.168.0.1',
      dstAddr: '192.168.0.11',
      srcPort: 56324,
      dstPort: 443,
      tlvs: [],
    });
  });

  test('TCP6 round trip and canonical addresses', () => {
    const r = ok(v1('PROXY TCP6 2001:DB8:0:0:1:0:0:1 ::FFFF:1.2.3.4 65535 0\r\n'));
    assert.equal(r.info.family, 'TCP6');
    assert.equal(r.info.srcAddr, '2001:db8::1:0:0:1');
    assert.equal(r.info.dstAddr, '::ffff:1.2.3.4');
    assert.equal(r.info.srcPort, 65535);
    assert.equal(r.info.dstPort, 0);
    const again = ok(parseProxyHeader(buildProxyV1({ family: 'TCP6', ...pick(r.info) })));
    assert.deepEqual(again.info, r.info);
  });

  test('parsed IPv6 text matches the form Node reports for sockets', () => {
    const samples = [
      '::',
      '::1',
      '1::',
      'ffff::',
      '0:0:1::',
      '1:0:0:1:0:0:0:1',
      '1:0:1:0:1:0:1:0',
      '2001:db8:0:0:1:0:0:1',
      '0:0:0:0:0:ffff:102:304',
      '::102:304',
      '::ffff:0:0',
      'fe80::abcd:ef01:2345:6789',
      '1:2:3:4:5:6:7:8',
      '0:1:0:0:0:1:0:0',
      '64:ff9b::192.0.2.33',
    ];
    for (const s of samples) {
      const r = ok(v1(`PROXY TCP6 ${s} ${s} 1 2\r\n`));
      assert.equal(r.info.srcAddr, canonical6(s), s);
      const b = ok(parseProxyHeader(buildProxyV2({ command: 'PROXY', family: 'TCP6', srcAddr: s, dstAddr: s, srcPort: 1, dstPort: 2 })));
      assert.equal(b.info.dstAddr, canonical6(s), s);
    }
  });

  test('UNKNOWN short form, long form and ignored junk', () => {
    const a = ok(v1('PROXY UNKNOWN\r\nDATA'));
    assert.equal(a.length, 15);
    assert.deepEqual(a.info, { version: 1, command: 'PROXY', family: 'UNKNOWN', tlvs: [] });
    const b = ok(v1('PROXY UNKNOWN ffff:ffff::1 whatever \x01\x02 !\r\n'));
    assert.equal(b.info.family, 'UNKNOWN');
    assert.equal(b.info.srcAddr, undefined);
    assert.equal(b.length, 'PROXY UNKNOWN ffff:ffff::1 whatever \x01\x02 !\r\n'.length);
    assert.deepEqual(ok(parseProxyHeader(buildProxyV1({ family: 'UNKNOWN' }))).info.family, 'UNKNOWN');
  });

  test('length limit is exactly 107 bytes including CRLF', () => {
    const line107 = 'PROXY UNKNOWN ' + 'x'.repeat(PP_V1_MAX_LEN - 16) + '\r\n';
    assert.equal(line107.length, 107);
    assert.equal(ok(v1(line107)).length, 107);
    const line108 = 'PROXY UNKNOWN ' + 'x'.repeat(PP_V1_MAX_LEN - 15) + '\r\n';
    isError(v1(line108), PROXY_ERROR.V1_TOO_LONG);
    // 106 bytes without CRLF may still become valid; 107 cannot.
    assert.equal(v1(line108.slice(0, 106)).status, 'incomplete');
    isError(v1(line108.slice(0, 107)), PROXY_ERROR.V1_TOO_LONG);
    isError(v1('PROXY UNKNOWN ' + 'a'.repeat(500)), PROXY_ERROR.V1_TOO_LONG);
    // CR as the 107th byte would put the LF beyond the limit.
    isError(v1('PROXY UNKNOWN ' + 'x'.repeat(92) + '\r\n'), PROXY_ERROR.V1_TOO_LONG);
  });

  test('longest legal TCP6 line (104 bytes) parses', () => {
    const a = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    const line = `PROXY TCP6 ${a} ${a} 65535 65535\r\n`;
    assert.equal(line.length, 104);
    const r = ok(v1(line));
    assert.equal(r.length, 104);
    assert.equal(r.info.srcAddr, a);
  });

  test('byte-by-byte feeding: each strict prefix is incomplete', () => {
    const lines = [
      'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n',
      'PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 2\r\n',
      'PROXY UNKNOWN\r\n',
      'PROXY UNKNOWN 1 2 3\r\n',
    ];
    for (const l of lines) {
      const r = feedByteByByte(Buffer.from(l, 'latin1'));
      assert.equal(r.length, l.length, l);
    }
    assert.equal(v1('PROXY TC').status, 'incomplete');
    assert.equal(v1('P').status, 'incomplete');
  });

  test('non-PROXY traffic is rejected immediately', () => {
    isError(v1('GET / HTTP/1.1\r\n'), PROXY_ERROR.NOT_PROXY);
    isError(v1('G'), PROXY_ERROR.NOT_PROXY);
    isError(v1('POST / HTTP/1.1\r\n'), PROXY_ERROR.NOT_PROXY);
    isError(v1('PROXZ'), PROXY_ERROR.NOT_PROXY);
    isError(v1('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), PROXY_ERROR.NOT_PROXY);
    isError(v1('PROXY\tTCP4'), PROXY_ERROR.NOT_PROXY);
    isError(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01])), PROXY_ERROR.NOT_PROXY);
  });

  test('garbage after "PROXY " and bad protocol tokens', () => {
    isError(v1('PROXY FOO 1.2.3.4'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY TCP4\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY UNKNOWNX\r\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY \r\n'), PROXY_ERROR.V1_PROTO);
    assert.equal(v1('PROXY TCP').status, 'incomplete');
    assert.equal(v1('PROXY UNKNO').status, 'incomplete');
  });

  test('bad addresses', () => {
    const bad4 = ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1..2.3', '.1.2.3', '1.2.3.', 'a.b.c.d', '::1', '1.2.3.4/8', '-1.2.3.4'];
    for (const a of bad4) {
      isError(v1(`PROXY TCP4 ${a} 5.6.7.8 1 2\r\n`), PROXY_ERROR.V1_SRC_ADDR);
      isError(v1(`PROXY TCP4 5.6.7.8 ${a} 1 2\r\n`), PROXY_ERROR.V1_DST_ADDR);
    }
    const bad6 = ['1.2.3.4', ':::', '1:::2', '1::2::3', ':1', '1:', '12345::', 'g::1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::8', '::1.2.3', '::01.2.3.4', '1:2:3:4:5:6:7:1.2.3.4'];
    for (const a of bad6) {
      isError(v1(`PROXY TCP6 ${a} ::1 1 2\r\n`), PROXY_ERROR.V1_SRC_ADDR);
      isError(v1(`PROXY TCP6 ::1 ${a} 1 2\r\n`), PROXY_ERROR.V1_DST_ADDR);
    }
    // errors are detected before the CRLF arrives
    isError(v1('PROXY TCP4 300'), PROXY_ERROR.V1_SRC_ADDR);
    isError(v1('PROXY TCP4 00'), PROXY_ERROR.V1_SRC_ADDR);
    isError(v1('PROXY TCP6 x'), PROXY_ERROR.V1_SRC_ADDR);
    // double space between fields
    isError(v1('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), PROXY_ERROR.V1_DST_ADDR);
  });

  test('bad ports', () => {
    const bad = ['70000', '65536', '+80', '-1', '080', '00', '1a', '', ' 1', '0x10', '999999'];
    for (const p of bad) {
      isError(v1(`PROXY TCP4 1.2.3.4 5.6.7.8 ${p} 2\r\n`), PROXY_ERROR.V1_SRC_PORT);
      isError(v1(`PROXY TCP4 1.2.3.4 5.6.7.8 2 ${p}\r\n`), PROXY_ERROR.V1_DST_PORT);
    }
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 70000'), PROXY_ERROR.V1_SRC_PORT);
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'), PROXY_ERROR.V1_DST_PORT);
    assert.equal(ok(v1('PROXY TCP4 0.0.0.0 0.0.0.0 0 65535\r\n')).info.dstPort, 65535);
  });

  test('missing or malformed CRLF', () => {
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 111 222\n'), PROXY_ERROR.V1_CRLF);
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 111\r\n'), PROXY_ERROR.V1_SRC_PORT);
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 111 222\rX'), PROXY_ERROR.V1_CRLF);
    isError(v1('PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r\r\n'), PROXY_ERROR.V1_CRLF);
    isError(v1('PROXY UNKNOWN\n'), PROXY_ERROR.V1_PROTO);
    isError(v1('PROXY UNKNOWN foo\nbar\r\n'), PROXY_ERROR.V1_CRLF);
    isError(v1('PROXY UNKNOWN foo\rbar\r\n'), PROXY_ERROR.V1_CRLF);
    assert.equal(v1('PROXY TCP4 1.2.3.4 5.6.7.8 111 222\r').status, 'incomplete');
  });
});

function pick(i: ProxyInfo): { srcAddr?: string; dstAddr?: string; srcPort?: number; dstPort?: number } {
  return { srcAddr: i.srcAddr, dstAddr: i.dstAddr, srcPort: i.srcPort, dstPort: i.dstPort };
}

/* ---------------------------------------------------------------------- v2 */

describe('PROXY v2 builder', () => {
  test('byte-exact TCP4 header from the spec layout', () => {
    const b = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 111, dstPort: 222 });
    const expected = Buffer.from([
      ...SIG,
      0x21, // version 2, command PROXY
      0x11, // AF_INET, STREAM
      0x00, 0x0c, // 12 address bytes follow
      1, 2, 3, 4, // source address
      5, 6, 7, 8, // destination address
      0x00, 111, // source port
      0x00, 222, // destination port
    ]);
    assert.deepEqual(b, expected);
    assert.deepEqual(b.subarray(0, 12), PP_V2_SIGNATURE);
  });

  test('byte-exact TCP6 header with a TLV and a CRC32C', () => {
    const b = buildProxyV2(
      { command: 'PROXY', family: 'TCP6', srcAddr: '2001:db8::1', dstAddr: '::1', srcPort: 0x1234, dstPort: 443 },
      [{ type: 0xe1, value: Buffer.from('ab') }],
      { crc32c: true },
    );
    const addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, ...new Array(15).fill(0), 1, 0x12, 0x34, 0x01, 0xbb];
    const tlvs = [0x03, 0x00, 0x04, 0, 0, 0, 0, 0xe1, 0x00, 0x02, 0x61, 0x62];
    const len = addr.length + tlvs.length; // 36 + 12
    const expected = Buffer.from([...SIG, 0x21, 0x21, 0x00, len, ...addr, ...tlvs]);
    expected.writeUInt32BE(slowCrc32c(expected), 16 + 36 + 3); // checksum over the header with a zero field
    assert.deepEqual(b, expected);
  });

  test('LOCAL carries no address and uses AF_UNSPEC', () => {
    const b = buildProxyV2({ command: 'LOCAL', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 });
    assert.deepEqual(b, Buffer.from([...SIG, 0x20, 0x00, 0x00, 0x00]));
  });

  test('pp2-never-send-local turns LOCAL into PROXY with the given addresses', () => {
    const b = buildProxyV2(
      { command: 'LOCAL', family: 'TCP4', srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', srcPort: 40000, dstPort: 80 },
      undefined,
      { neverSendLocal: true },
    );
    assert.equal(b[12], 0x21);
    assert.equal(b[13], 0x11);
    const r = ok(parseProxyHeader(b));
    assert.equal(r.info.command, 'PROXY');
    assert.equal(r.info.srcAddr, '10.0.0.1');
    const u = buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }, undefined, { neverSendLocal: true });
    assert.deepEqual(u, Buffer.from([...SIG, 0x21, 0x00, 0x00, 0x00]));
  });

  test('padTo appends a NOOP TLV', () => {
    const b = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 }, [], { padTo: 64 });
    assert.equal(b.length, 64);
    const r = ok(parseProxyHeader(b));
    assert.equal(r.info.tlvs.length, 1);
    assert.equal(r.info.tlvs[0]!.type, PP2_TYPE.NOOP);
    assert.equal(r.info.tlvs[0]!.value.length, 64 - 28 - 3);
    // a gap smaller than a TLV overshoots by at most 2 bytes
    assert.equal(buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }, [], { padTo: 17 }).length, 19);
    // never shrinks
    assert.equal(buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }, [], { padTo: 4 }).length, 16);
  });

  test('invalid input throws', () => {
    const base = { command: 'PROXY' as const, family: 'TCP4' as const, srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 };
    assert.throws(() => buildProxyV2({ ...base, srcAddr: '1.2.3' }), TypeError);
    assert.throws(() => buildProxyV2({ ...base, dstPort: 65536 }), RangeError);
    assert.throws(() => buildProxyV2(base, [{ type: 256, value: Buffer.alloc(1) }]), RangeError);
    assert.throws(() => buildProxyV2(base, [{ type: PP2_TYPE.CRC32C, value: Buffer.alloc(4) }]), RangeError);
    assert.throws(() => buildProxyV2(base, [{ type: 0xe0, value: Buffer.alloc(0x10000) }]), RangeError);
    assert.throws(() => buildProxyV2(base, [{ type: 0xe0, value: Buffer.alloc(0xfff0) }, { type: 0xe1, value: Buffer.alloc(0x20) }]), RangeError);
    assert.throws(() => buildProxyV2({ command: 'PROXY', family: 'UNIX', srcAddr: '/' + 'a'.repeat(108), dstAddr: '/b' }), RangeError);
    assert.throws(() => buildProxyV2(base, [], { authority: 'h'.repeat(PP2_AUTHORITY_MAX + 1) }), RangeError);
  });

  test('largest possible header is accepted by both sides', () => {
    const value = Buffer.alloc(0xffff - 12 - 3, 0x5a);
    const b = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 }, [{ type: 0xe5, value }]);
    assert.equal(b.length, PP_V2_MAX_LEN);
    const r = ok(parseProxyHeader(b));
    assert.equal(r.length, PP_V2_MAX_LEN);
    assert.deepEqual(r.info.tlvs[0]!.value, value);
  });
});

describe('PROXY v2 parser', () => {
  test('TCP4 / TCP6 / UDP round trips', () => {
    const cases = [
      { family: 'TCP4' as const, transport: 'STREAM' as const, srcAddr: '192.0.2.10', dstAddr: '198.51.100.20', srcPort: 65535, dstPort: 0 },
      { family: 'TCP4' as const, transport: 'DGRAM' as const, srcAddr: '0.0.0.0', dstAddr: '255.255.255.255', srcPort: 53, dstPort: 5353 },
      { family: 'TCP6' as const, transport: 'STREAM' as const, srcAddr: '2001:db8::a', dstAddr: '::ffff:1.2.3.4', srcPort: 1234, dstPort: 443 },
      { family: 'TCP6' as const, transport: 'DGRAM' as const, srcAddr: 'fe80::1', dstAddr: '::', srcPort: 1, dstPort: 2 },
    ];
    for (const c of cases) {
      const b = buildProxyV2({ command: 'PROXY', ...c });
      const r = ok(parseProxyHeader(Buffer.concat([b, Buffer.from('payload')])));
      assert.equal(r.length, b.length);
      assert.deepEqual(r.info, { version: 2, command: 'PROXY', ...c, tlvs: [] });
    }
  });

  test('UNIX round trip (path and abstract namespace)', () => {
    const b = buildProxyV2({ command: 'PROXY', family: 'UNIX', transport: 'DGRAM', srcAddr: '/run/client.sock', dstAddr: '\0haproxy-abns' });
    assert.equal(b.length, 16 + 216);
    assert.equal(b[13], 0x32);
    const r = ok(parseProxyHeader(b));
    assert.deepEqual(r.info, {
      version: 2,
      command: 'PROXY',
      family: 'UNIX',
      transport: 'DGRAM',
      srcAddr: '/run/client.sock',
      dstAddr: '\0haproxy-abns',
      tlvs: [],
    });
  });

  test('PROXY with AF_UNSPEC maps to UNKNOWN without addresses', () => {
    const b = buildProxyV2({ command: 'PROXY', family: 'UNKNOWN' }, [{ type: PP2_TYPE.NOOP, value: Buffer.alloc(2) }]);
    const r = ok(parseProxyHeader(b));
    assert.deepEqual(r.info, { version: 2, command: 'PROXY', family: 'UNKNOWN', tlvs: [{ type: PP2_TYPE.NOOP, value: Buffer.alloc(2) }] });
  });

  test('LOCAL round trip, and LOCAL ignores addresses but honours the length', () => {
    const r = ok(parseProxyHeader(buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' })));
    assert.deepEqual(r.info, { version: 2, command: 'LOCAL', family: 'UNKNOWN', tlvs: [] });
    assert.equal(r.length, 16);
    // A LOCAL header with an IPv4 block and a TLV: addresses dropped, TLV kept, whole length skipped.
    const raw = v2raw(0x20, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2, 0xe0, 0, 1, 0x7a]);
    const l = ok(parseProxyHeader(Buffer.concat([raw, Buffer.from('DATA')])));
    assert.equal(l.length, 16 + 16);
    assert.equal(l.info.command, 'LOCAL');
    assert.equal(l.info.srcAddr, undefined);
    assert.deepEqual(l.info.tlvs, [{ type: 0xe0, value: Buffer.from([0x7a]) }]);
  });

  test('TLVs round trip in order, options first, values copied', () => {
    const ssl = buildSslTlvValue({ client: PP2_CLIENT.SSL | PP2_CLIENT.CERT_CONN, verify: 0, version: 'TLSv1.3', cn: 'client.example', cipher: 'TLS_AES_128_GCM_SHA256' });
    const user = [
      { type: PP2_TYPE.SSL, value: ssl },
      { type: 0xe0, value: Buffer.from('custom') },
      { type: 0xe1, value: Buffer.alloc(0) },
    ];
    const b = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.1.1.1', dstAddr: '2.2.2.2', srcPort: 3, dstPort: 4 }, user, {
      alpn: 'h2',
      authority: 'www.example.com',
      uniqueId: 'req-42',
      netns: 'blue',
    });
    const input = Buffer.from(b);
    const r = ok(parseProxyHeader(input));
    assert.deepEqual(
      r.info.tlvs.map((t) => t.type),
      [PP2_TYPE.ALPN, PP2_TYPE.AUTHORITY, PP2_TYPE.UNIQUE_ID, PP2_TYPE.NETNS, PP2_TYPE.SSL, 0xe0, 0xe1],
    );
    assert.equal(findTlv(r.info, PP2_TYPE.AUTHORITY)!.toString(), 'www.example.com');
    assert.equal(findTlv(r.info, PP2_TYPE.ALPN)!.toString(), 'h2');
    assert.equal(findTlv(r.info, PP2_TYPE.UNIQUE_ID)!.toString(), 'req-42');
    assert.equal(findTlv(r.info, PP2_TYPE.NETNS)!.toString(), 'blue');
    assert.deepEqual(findTlv(r.info, PP2_TYPE.SSL), ssl);
    assert.equal(findTlv(r.info, 0xe1)!.length, 0);
    assert.equal(findTlv(r.info, PP2_TYPE.CRC32C), undefined);
    // values do not alias the input buffer
    input.fill(0);
    assert.equal(findTlv(r.info, 0xe0)!.toString(), 'custom');
  });

  test('unique-id is truncated to 128 bytes on send', () => {
    const b = buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }, [], { uniqueId: 'u'.repeat(200) });
    const r = ok(parseProxyHeader(b));
    assert.equal(findTlv(r.info, PP2_TYPE.UNIQUE_ID)!.length, 128);
  });

  test('CRC32C: verified when valid, rejected when corrupted', () => {
    const b = buildProxyV2(
      { command: 'PROXY', family: 'TCP4', srcAddr: '10.1.2.3', dstAddr: '10.4.5.6', srcPort: 1000, dstPort: 2000 },
      [{ type: 0xe0, value: Buffer.from('x') }],
      { crc32c: true, authority: 'a.example' },
    );
    const r = ok(parseProxyHeader(b));
    const crcTlv = r.info.tlvs[0]!;
    assert.equal(crcTlv.type, PP2_TYPE.CRC32C);
    const zeroed = Buffer.from(b);
    zeroed.fill(0, 16 + 12 + 3, 16 + 12 + 7);
    assert.equal(crcTlv.value.readUInt32BE(0), slowCrc32c(zeroed));

    // flip a bit in the checksum itself
    const c1 = Buffer.from(b);
    c1[16 + 12 + 3] ^= 0x01;
    isError(parseProxyHeader(c1), PROXY_ERROR.V2_CRC_MISMATCH);
    // change an address byte
    const c2 = Buffer.from(b);
    c2[16] ^= 0x80;
    isError(parseProxyHeader(c2), PROXY_ERROR.V2_CRC_MISMATCH);
    // change the last TLV byte
    const c3 = Buffer.from(b);
    c3[c3.length - 1] ^= 0xff;
    isError(parseProxyHeader(c3), PROXY_ERROR.V2_CRC_MISMATCH);
    // application data after the header is not covered
    assert.equal(parseProxyHeader(Buffer.concat([b, Buffer.from('zzz')])).status, 'ok');
  });

  test('CRC32C TLV anywhere in the chain, hand computed', () => {
    const body = Buffer.from([0xe0, 0, 1, 0x41, 0x03, 0, 4, 0, 0, 0, 0, 0x04, 0, 0]);
    const h = v2raw(0x20, 0x00, body);
    h.writeUInt32BE(slowCrc32c(h), 16 + 4 + 3);
    const r = ok(parseProxyHeader(h));
    assert.deepEqual(r.info.tlvs.map((t) => t.type), [0xe0, PP2_TYPE.CRC32C, PP2_TYPE.NOOP]);
    h[16 + 4 + 3 + 2] ^= 0x10;
    isError(parseProxyHeader(h), PROXY_ERROR.V2_CRC_MISMATCH);
  });

  test('bad CRC32C TLV shapes', () => {
    isError(parseProxyHeader(v2raw(0x20, 0x00, [0x03, 0, 3, 0, 0, 0])), PROXY_ERROR.V2_CRC_LEN);
    isError(parseProxyHeader(v2raw(0x20, 0x00, [0x03, 0, 4, 0, 0, 0, 0, 0x03, 0, 4, 0, 0, 0, 0])), PROXY_ERROR.V2_CRC_DUP);
  });

  test('byte-by-byte feeding of v2 headers', () => {
    const headers = [
      buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 }, [{ type: 0xe0, value: Buffer.from('abc') }], { crc32c: true }),
      buildProxyV2({ command: 'PROXY', family: 'TCP6', srcAddr: '::1', dstAddr: '::2', srcPort: 1, dstPort: 2 }),
      buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' }),
      buildProxyV2({ command: 'PROXY', family: 'UNIX', srcAddr: '/a', dstAddr: '/b' }, [], { authority: 'x' }),
    ];
    for (const h of headers) assert.equal(feedByteByByte(h).length, h.length);
  });

  test('bad signature', () => {
    const good = buildProxyV2({ command: 'LOCAL', family: 'UNKNOWN' });
    for (let i = 0; i < 12; i++) {
      const b = Buffer.from(good);
      b[i] ^= 0x40;
      isError(parseProxyHeader(b), PROXY_ERROR.NOT_PROXY);
      // detected on the partial signature already
      isError(parseProxyHeader(b.subarray(0, i + 1)));
    }
    isError(parseProxyHeader(Buffer.from('\r\n\r\nGET')), PROXY_ERROR.NOT_PROXY);
    assert.equal(parseProxyHeader(Buffer.from(SIG.slice(0, 7))).status, 'incomplete');
  });

  test('version and command checks', () => {
    isError(parseProxyHeader(v2raw(0x11, 0x00, [])), PROXY_ERROR.V2_VERSION);
    isError(parseProxyHeader(v2raw(0x31, 0x00, [])), PROXY_ERROR.V2_VERSION);
    isError(parseProxyHeader(Buffer.from([...SIG, 0x10])), PROXY_ERROR.V2_VERSION);
    isError(parseProxyHeader(v2raw(0x22, 0x00, [])), PROXY_ERROR.V2_COMMAND);
    isError(parseProxyHeader(Buffer.from([...SIG, 0x2f])), PROXY_ERROR.V2_COMMAND);
  });

  test('wrong family/transport byte', () => {
    for (const fam of [0x01, 0x02, 0x10, 0x13, 0x20, 0x23, 0x30, 0x41, 0x44, 0xff]) {
      isError(parseProxyHeader(v2raw(0x21, fam, new Array(216).fill(0))), PROXY_ERROR.V2_FAMILY);
      isError(parseProxyHeader(Buffer.from([...SIG, 0x21, fam])), PROXY_ERROR.V2_FAMILY);
    }
  });

  test('length must cover the address block', () => {
    isError(parseProxyHeader(v2raw(0x21, 0x11, [1, 2, 3, 4], 4)), PROXY_ERROR.V2_ADDR_LEN);
    isError(parseProxyHeader(v2raw(0x21, 0x21, new Array(12).fill(0), 12)), PROXY_ERROR.V2_ADDR_LEN);
    isError(parseProxyHeader(v2raw(0x21, 0x31, new Array(36).fill(0), 36)), PROXY_ERROR.V2_ADDR_LEN);
    isError(parseProxyHeader(v2raw(0x20, 0x11, [1, 2, 3], 3)), PROXY_ERROR.V2_ADDR_LEN);
    // ...except for an empty LOCAL header, whose family is ignored anyway
    assert.equal(ok(parseProxyHeader(v2raw(0x20, 0x11, [], 0))).info.command, 'LOCAL');
    // reported as soon as the 16-byte fixed part is in
    isError(parseProxyHeader(Buffer.from([...SIG, 0x21, 0x11, 0x00, 0x0b])), PROXY_ERROR.V2_ADDR_LEN);
  });

  test('huge ("negative") length waits for data, never beyond the maximum', () => {
    const h = Buffer.from([...SIG, 0x21, 0x11, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2]);
    assert.equal(parseProxyHeader(h).status, 'incomplete');
    const full = Buffer.concat([h, Buffer.from([0xe0, 0xff, 0xff - 15]), Buffer.alloc(0xffff - 15)]);
    assert.equal(full.length, PP_V2_MAX_LEN);
    assert.equal(parseProxyHeader(full.subarray(0, full.length - 1)).status, 'incomplete');
    assert.equal(ok(parseProxyHeader(full)).length, PP_V2_MAX_LEN);
  });

  test('TLV overflow and truncated TLVs', () => {
    // TLV claims more than the remaining length
    isError(parseProxyHeader(v2raw(0x21, 0x11, [...new Array(12).fill(1), 0xe0, 0, 5, 1, 2])), PROXY_ERROR.V2_TLV_OVERFLOW);
    isError(parseProxyHeader(v2raw(0x21, 0x00, [0xe0, 0xff, 0xff, 1])), PROXY_ERROR.V2_TLV_OVERFLOW);
    // detected before the remaining bytes arrive
    isError(parseProxyHeader(v2raw(0x21, 0x00, [0xe0, 0x00, 0x09, 1], 8)), PROXY_ERROR.V2_TLV_OVERFLOW);
    // 1 or 2 bytes left: not even a TLV header
    isError(parseProxyHeader(v2raw(0x21, 0x00, [0xe0])), PROXY_ERROR.V2_TLV_TRUNCATED);
    isError(parseProxyHeader(v2raw(0x21, 0x11, [...new Array(12).fill(1), 0xe0, 0])), PROXY_ERROR.V2_TLV_TRUNCATED);
    isError(parseProxyHeader(v2raw(0x21, 0x00, [0xe0, 0, 1, 9, 0x04, 0])), PROXY_ERROR.V2_TLV_TRUNCATED);
    // second TLV overflowing after a good one
    isError(parseProxyHeader(v2raw(0x21, 0x00, [0xe0, 0, 1, 9, 0xe1, 0, 2, 9])), PROXY_ERROR.V2_TLV_OVERFLOW);
  });

  test('oversized UNIQUE_ID / AUTHORITY TLVs are rejected', () => {
    const uid = Buffer.concat([Buffer.from([PP2_TYPE.UNIQUE_ID, 0, 129]), Buffer.alloc(129, 0x41)]);
    isError(parseProxyHeader(v2raw(0x21, 0x00, uid)), PROXY_ERROR.V2_UNIQUE_ID_LEN);
    const okUid = Buffer.concat([Buffer.from([PP2_TYPE.UNIQUE_ID, 0, 128]), Buffer.alloc(128, 0x41)]);
    assert.equal(parseProxyHeader(v2raw(0x21, 0x00, okUid)).status, 'ok');
    const auth = Buffer.concat([Buffer.from([PP2_TYPE.AUTHORITY, 1, 0]), Buffer.alloc(256, 0x61)]);
    isError(parseProxyHeader(v2raw(0x21, 0x00, auth)), PROXY_ERROR.V2_AUTHORITY_LEN);
  });

  test('header then data: length marks the end of the header', () => {
    const h = buildProxyV2({ command: 'PROXY', family: 'TCP4', srcAddr: '1.2.3.4', dstAddr: '5.6.7.8', srcPort: 1, dstPort: 2 }, [{ type: 0xe0, value: Buffer.from('t') }]);
    const data = Buffer.from('\x16\x03\x01 TLS hello follows');
    const all = Buffer.concat([h, data]);
    const r = ok(parseProxyHeader(all));
    assert.equal(r.length, h.length);
    assert.deepEqual(all.subarray(r.length), data);
    const l = Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nPROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n');
    const r1 = ok(parseProxyHeader(l));
    assert.equal(l.subarray(r1.length).toString(), 'PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n');
    assert.equal(r1.info.srcAddr, '1.2.3.4');
  });
});

/* ------------------------------------------------------------ misc helpers */

describe('ProxyHeaderDecoder', () => {
  test('accumulates chunks and returns the remaining data', () => {
    const h = buildProxyV2({ command: 'PROXY', family: 'TCP6', srcAddr: '2001:db8::5', dstAddr: '2001:db8::6', srcPort: 7, dstPort: 8 }, [], { crc32c: true });
    const all = Buffer.concat([h, Buffer.from('hello')]);
    const d = new ProxyHeaderDecoder();
    const chunk = Buffer.alloc(10);
    let res;
    let off = 0;
    do {
      const n = Math.min(10, all.length - off);
      all.copy(chunk, 0, off, off + n);
      res = d.push(chunk.subarray(0, n)); // the chunk buffer is reused on purpose
      off += n;
      if (res.status === 'incomplete') assert.equal(d.buffered, off);
    } while (res.status === 'incomplete');
    assert.equal(res.status, 'ok');
    if (res.status === 'ok') {
      assert.equal(res.info.srcAddr, '2001:db8::5');
      assert.equal(res.rest.toString(), 'hello'.slice(0, off - h.length));
    }
  });

  test('reports errors', () => {
    const d = new ProxyHeaderDecoder();
    assert.equal(d.push(Buffer.from('PRO')).status, 'incomplete');
    const r = d.push(Buffer.from('XY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n'));
    assert.deepEqual(r, { status: 'error', reason: PROXY_ERROR.V1_SRC_PORT });
  });
});

describe('SSL TLV helpers', () => {
  test('build / decode round trip', () => {
    const v = buildSslTlvValue({ client: 0x07, verify: 1, version: 'TLSv1.2', cn: 'cn', cipher: 'AES', sigAlg: 'SHA256', keyAlg: 'RSA2048' });
    assert.equal(v[0], 0x07);
    assert.equal(v.readUInt32BE(1), 1);
    assert.equal(v[5], PP2_SUBTYPE_SSL.VERSION);
    const d = decodeSslTlvValue(v)!;
    assert.equal(d.version, 'TLSv1.2');
    assert.equal(d.cn, 'cn');
    assert.equal(d.cipher, 'AES');
    assert.equal(d.sigAlg, 'SHA256');
    assert.equal(d.keyAlg, 'RSA2048');
    assert.equal(d.subTlvs.length, 5);
    assert.equal(decodeSslTlvValue(Buffer.from([1, 0, 0])), null);
    assert.equal(decodeSslTlvValue(Buffer.from([1, 0, 0, 0, 0, 0x21, 0, 9, 0x41])), null);
  });
});

describe('configuration helpers', () => {
  test('proxy-v2-options', () => {
    const r = parseProxyV2Options(['cert-cn,crc32c,unique-id']);
    assert.ok(r.ok);
    if (r.ok) {
      assert.deepEqual(r.options, {
        ssl: true,
        certCn: true,
        sslCipher: false,
        certSig: false,
        certKey: false,
        authority: false,
        crc32c: true,
        uniqueId: true,
      });
    }
    const all = parseProxyV2Options(['ssl,cert-cn,ssl-cipher,cert-sig', 'cert-key,authority,crc32c,unique-id']);
    assert.ok(all.ok && Object.values(all.options).every((x) => x === true));
    const one = parseProxyV2Options(['authority']);
    assert.ok(one.ok && one.options.authority && !one.options.ssl);
    const bad = parseProxyV2Options(['ssl,bogus']);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error, /bogus/);
    assert.equal(parseProxyV2Options(['ssl,,crc32c']).ok, false);
    assert.equal(parseProxyV2Options([]).ok, false);
    assert.equal(parseProxyV2Options(['SSL']).ok, false);
  });

  test('set-proxy-v2-tlv-fmt type ids', () => {
    assert.equal(parseTlvTypeId('0x20'), 0x20);
    assert.equal(parseTlvTypeId('0xE0'), 0xe0);
    assert.equal(parseTlvTypeId('224'), 224);
    assert.equal(parseTlvTypeId('256'), null);
    assert.equal(parseTlvTypeId('0x100'), null);
    assert.equal(parseTlvTypeId('-1'), null);
    assert.equal(parseTlvTypeId('abc'), null);
  });
});
