// Sample types and HAProxy's implicit cast matrix. Expected values come from HAProxy 2.6
// (`http-request return ... lf-string "%[hdr(x),<converter>]"` queried with curl, noted "2.6"),
// from HAProxy's sample cast matrix as published in its sources (rows below), or from hand
// computation in the comments.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  cast, canCast, strToInt, normInt, parseIpv4, formatIpv4, parseIpv6, formatIpv6, ipv4ToV6, ipv6ToV4,
  addrSample, sampleToString, smpInt, smpBool, smpStr, smpBin, smpIpv4, smpIpv6, INT64_MAX, INT64_MIN,
  type Sample, type SmpType,
} from '../../src/sample/types.js';

const v6 = (s: string) => parseIpv6(s)!;
const TYPES: SmpType[] = ['bool', 'sint', 'addr', 'ipv4', 'ipv6', 'str', 'bin', 'meth'];

describe('cast matrix (which casts exist)', () => {
  // from → the target types that may be cast to (any is always allowed; same type too)
  const matrix: Record<string, SmpType[]> = {
    bool: ['bool', 'sint', 'str', 'bin'],             // bool→bin: 2.6 prints req.proto_http,hex = 0000000000000001
    sint: ['bool', 'sint', 'addr', 'ipv4', 'ipv6', 'str', 'bin'],
    addr: ['addr', 'ipv4', 'ipv6', 'str', 'bin'],     // pseudo type: allowed at parse time only
    ipv4: ['sint', 'addr', 'ipv4', 'ipv6', 'str', 'bin'],
    ipv6: ['addr', 'ipv4', 'ipv6', 'str', 'bin'],
    str: ['bool', 'sint', 'addr', 'ipv4', 'ipv6', 'str', 'bin', 'meth'],
    bin: ['str', 'bin', 'meth'],
    meth: ['str', 'bin', 'meth'],
  };
  for (const from of TYPES) {
    test(`from ${from}`, () => {
      for (const to of TYPES) {
        assert.equal(canCast(from, to), matrix[from]!.includes(to), `${from} -> ${to}`);
      }
      assert.equal(canCast(from, 'any'), true);
      assert.equal(canCast('any', from), true);
    });
  }
});

describe('cast values', () => {
  test('identity and any return the sample itself', () => {
    const s = smpStr('x');
    assert.equal(cast(s, 'str'), s);
    assert.equal(cast(s, 'any'), s);
  });

  test('bool', () => {
    assert.deepEqual(cast(smpBool(true), 'sint')!.v, 1);
    assert.deepEqual(cast(smpBool(false), 'sint')!.v, 0);
    assert.equal(cast(smpBool(true), 'str')!.v, '1');
    assert.equal(cast(smpBool(false), 'str')!.v, '0');
    // 2.6: req.proto_http,hex → 0000000000000001 (8 bytes, big endian)
    assert.equal((cast(smpBool(true), 'bin')!.v as Buffer).toString('hex'), '0000000000000001');
    assert.equal((cast(smpBool(false), 'bin')!.v as Buffer).toString('hex'), '0000000000000000');
    for (const to of ['addr', 'ipv4', 'ipv6', 'meth'] as SmpType[]) assert.equal(cast(smpBool(true), to), undefined, to);
  });

  test('sint', () => {
    assert.equal(cast(smpInt(0), 'bool')!.v, false);
    assert.equal(cast(smpInt(-3), 'bool')!.v, true);
    assert.equal(cast(smpInt(INT64_MIN), 'bool')!.v, true);
    assert.equal(cast(smpInt(-42), 'str')!.v, '-42');
    assert.equal(cast(smpInt(INT64_MAX), 'str')!.v, '9223372036854775807');
    // 2.6: hdr_val(x),ipmask(32): 167772161 → 10.0.0.1, -1 → 255.255.255.255, 4294967298 → 0.0.0.2
    assert.equal(formatIpv4(cast(smpInt(167772161), 'ipv4')!.v), '10.0.0.1');
    assert.equal(formatIpv4(cast(smpInt(-1), 'ipv4')!.v), '255.255.255.255');
    assert.equal(formatIpv4(cast(smpInt(4294967298), 'addr')!.v), '0.0.0.2');
    assert.equal(cast(smpInt(1), 'addr')!.t, 'ipv4');
    // sint → ipv6: the IPv4 value mapped (::ffff:a.b.c.d)
    assert.equal(formatIpv6(cast(smpInt(167772161), 'ipv6')!.v), '::ffff:10.0.0.1');
    // 2.6: hdr_val(x),hex with -2 → FFFFFFFFFFFFFFFE
    assert.equal((cast(smpInt(-2), 'bin')!.v as Buffer).toString('hex'), 'fffffffffffffffe');
    assert.equal((cast(smpInt(INT64_MIN), 'bin')!.v as Buffer).toString('hex'), '8000000000000000');
    assert.equal(cast(smpInt(1), 'meth'), undefined);
  });

  test('ipv4', () => {
    const ip = smpIpv4(parseIpv4('10.0.0.1')!);
    assert.equal(cast(ip, 'sint')!.v, 167772161);              // 10*2^24 + 1
    assert.equal(cast(smpIpv4(0xffffffff), 'sint')!.v, 4294967295); // unsigned
    assert.equal(cast(ip, 'str')!.v, '10.0.0.1');
    assert.equal(formatIpv6(cast(ip, 'ipv6')!.v), '::ffff:10.0.0.1');
    // 2.6: hdr_ip(x),hex with 10.0.0.1 → 0A000001
    assert.equal((cast(ip, 'bin')!.v as Buffer).toString('hex'), '0a000001');
    assert.equal(cast(ip, 'addr'), ip);
    assert.equal(cast(ip, 'bool'), undefined);
    assert.equal(cast(ip, 'meth'), undefined);
  });

  test('ipv6', () => {
    const a = smpIpv6(v6('2001:db8::1'));
    assert.equal(cast(a, 'str')!.v, '2001:db8::1');
    // 2.6: hdr_ip(x),hex with ::1 → 000...01 (16 bytes)
    assert.equal((cast(smpIpv6(v6('::1')), 'bin')!.v as Buffer).toString('hex'), '00000000000000000000000000000001');
    // ipv6 → ipv4 only for IPv4-mapped addresses
    assert.equal(formatIpv4(cast(smpIpv6(v6('::ffff:10.1.2.3')), 'ipv4')!.v), '10.1.2.3');
    assert.equal(cast(smpIpv6(v6('::10.1.2.3')), 'ipv4'), undefined);
    assert.equal(cast(a, 'ipv4'), undefined);
    assert.equal(cast(a, 'sint'), undefined);
    assert.equal(cast(a, 'bool'), undefined);
    assert.equal(cast(a, 'addr'), a);
  });

  test('str', () => {
    assert.equal(cast(smpStr('12'), 'sint')!.v, 12);
    assert.equal(cast(smpStr('2'), 'bool')!.v, true);
    assert.equal(cast(smpStr('0'), 'bool')!.v, false);
    // 2.6: hdr(x),bool with "x" → 0 (no digits reads as zero, the cast succeeds)
    assert.equal(cast(smpStr('x'), 'bool')!.v, false);
    assert.equal(cast(smpStr(''), 'sint'), undefined);
    assert.equal(cast(smpStr(''), 'bool'), undefined);
    assert.deepEqual(cast(smpStr('10.0.0.1'), 'ipv4'), { t: 'ipv4', v: 167772161, mayChange: undefined });
    assert.equal(cast(smpStr('::1'), 'ipv4'), undefined);
    assert.equal(cast(smpStr('10.0.0.1'), 'addr')!.t, 'ipv4');
    assert.equal(cast(smpStr('::1'), 'addr')!.t, 'ipv6');
    assert.equal(cast(smpStr('nope'), 'addr'), undefined);            // 2.6: hdr(x),ipmask(16) with nope → empty
    assert.equal(cast(smpStr('10.0.0.1'), 'ipv6'), undefined);        // not IPv6 text
    assert.equal(formatIpv6(cast(smpStr('2001:DB8::1'), 'ipv6')!.v), '2001:db8::1');
    assert.equal((cast(smpStr('a\xffb'), 'bin')!.v as Buffer).toString('hex'), '61ff62'); // one byte per char
    assert.deepEqual(cast(smpStr('GET'), 'meth'), { t: 'meth', v: 'GET', mayChange: undefined });
    assert.deepEqual(cast(smpStr('FOO'), 'meth'), { t: 'meth', v: 'FOO', mayChange: undefined });
  });

  test('bin', () => {
    assert.equal(cast(smpBin(Buffer.from('abc')), 'str')!.v, 'abc');
    // the str cast stops at the first NUL byte
    assert.equal(cast(smpBin(Buffer.from([0x61, 0x00, 0x62])), 'str')!.v, 'a');
    assert.equal(cast(smpBin(Buffer.from([0x00])), 'str')!.v, '');
    assert.equal(cast(smpBin(Buffer.from('POST')), 'meth')!.v, 'POST');
    for (const to of ['bool', 'sint', 'addr', 'ipv4', 'ipv6'] as SmpType[]) assert.equal(cast(smpBin(Buffer.from('1')), to), undefined, to);
  });

  test('meth', () => {
    const m: Sample = { t: 'meth', v: 'GET' };
    assert.equal(cast(m, 'str')!.v, 'GET');
    // 2.6: method,hex → 474554
    assert.equal((cast(m, 'bin')!.v as Buffer).toString('hex'), '474554');
    for (const to of ['bool', 'sint', 'addr', 'ipv4', 'ipv6'] as SmpType[]) assert.equal(cast(m, to), undefined, to);
  });

  test('mayChange survives a cast', () => {
    const s: Sample = { t: 'str', v: '5', mayChange: true };
    for (const to of ['bool', 'sint', 'bin', 'meth'] as SmpType[]) assert.equal(cast(s, to)!.mayChange, true, to);
    assert.equal(cast({ t: 'sint', v: 5, mayChange: true }, 'str')!.mayChange, true);
    assert.equal(cast({ t: 'ipv4', v: 5, mayChange: true }, 'ipv6')!.mayChange, true);
  });

  test('sampleToString uses the str cast', () => {
    assert.equal(sampleToString(smpBool(true)), '1');
    assert.equal(sampleToString(smpIpv6(v6('::ffff:1.2.3.4'))), '::ffff:1.2.3.4');
    assert.equal(sampleToString({ t: 'addr', v: 0 }), undefined);
  });
});

describe('str → int parsing (HAProxy read_int64)', () => {
  // 2.6: %[hdr(x),add(1)] / add(0)
  test('signs and leading digits', () => {
    assert.equal(strToInt('abc'), 0);      // 2.6: add(1) → 1
    assert.equal(strToInt('+5'), 5);       // 2.6: add(1) → 6
    assert.equal(strToInt('-5x'), -5);     // 2.6: add(1) → -4
    assert.equal(strToInt('12.5'), 12);    // 2.6: add(0) → 12
    assert.equal(strToInt('-'), 0);
    assert.equal(strToInt('+'), 0);
    assert.equal(strToInt(' 12'), 0);      // no blank skipping
    assert.equal(strToInt('007'), 7);
    assert.equal(strToInt(''), undefined);
    assert.ok(Object.is(strToInt('-0'), -0) || strToInt('-0') === 0);
  });
  test('64-bit limits and saturation', () => {
    assert.equal(strToInt('9223372036854775807'), INT64_MAX);
    assert.equal(strToInt('-9223372036854775808'), INT64_MIN);           // 2.6: add(0) prints it back
    assert.equal(strToInt('99999999999999999999'), INT64_MAX);           // 2.6: 9223372036854775807
    assert.equal(strToInt('-99999999999999999999'), INT64_MIN);          // 2.6: -9223372036854775808
    assert.equal(strToInt('9223372036854775808'), INT64_MAX);
    assert.equal(strToInt('9007199254740991'), 9007199254740991);        // 2^53-1 stays a number
    assert.equal(strToInt('9007199254740993'), 9007199254740993n);       // 2^53+1 needs a bigint
    assert.equal(strToInt('123456789012345678'), 123456789012345678n);
  });
});

describe('normInt', () => {
  test('numbers stay numbers when safe, bigints when not', () => {
    assert.equal(normInt(5), 5);
    assert.equal(normInt(5n), 5);
    assert.equal(normInt(-(2n ** 53n) + 1n), -(2 ** 53) + 1);
    assert.equal(normInt(2n ** 53n), 2n ** 53n);
    assert.equal(normInt(2 ** 60), 2n ** 60n);
    assert.equal(normInt(3.7), 3);
    assert.equal(normInt(-3.7), -3);
  });
  test('wraps like a C int64', () => {
    assert.equal(normInt(INT64_MAX + 1n), INT64_MIN);
    assert.equal(normInt(2n ** 64n + 7n), 7);
    assert.equal(normInt(INT64_MIN - 1n), INT64_MAX);
  });
  test('smpInt normalises', () => {
    assert.deepEqual(smpInt(12n), { t: 'sint', v: 12 });
  });
});

describe('IPv4 text', () => {
  test('parse', () => {
    assert.equal(parseIpv4('0.0.0.0'), 0);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4('192.168.0.1'), 0xc0a80001);
    assert.equal(parseIpv4('1.2.3.04'), 0x01020304);   // 2.6 prints 1.2.3.4 for hdr_ip
    for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', '1..3.4', '.1.2.3', '1.2.3.', 'a.b.c.d', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.-4']) {
      assert.equal(parseIpv4(bad), undefined, bad);
    }
  });
  test('format', () => {
    assert.equal(formatIpv4(0), '0.0.0.0');
    assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    assert.equal(formatIpv4(0x7f000001), '127.0.0.1');
  });
});

describe('IPv6 text (RFC 5952 output as inet_ntop)', () => {
  // each: input → output, from 2.6 (%[hdr_ip(x),lower])
  const cases: [string, string][] = [
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],   // the first of two equal zero runs
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],               // the longest zero run
    ['1:0:2:0:3:0:4:5', '1:0:2:0:3:0:4:5'],          // single zero groups are not compressed
    ['1::0:2', '1::2'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::1', '::1'],
    ['::', '::'],
    ['::FFFF:10.0.0.1', '::ffff:10.0.0.1'],          // v4-mapped keeps the dotted tail
    ['0:0:0:0:0:0:a00:1', '::10.0.0.1'],             // v4-compatible too
    ['1::1.2.3.4', '1::102:304'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
  ];
  for (const [i, o] of cases) test(`${i} → ${o}`, () => assert.equal(formatIpv6(v6(i)), o));

  test('invalid text', () => {
    for (const bad of ['', ':', '1.2.3', '::1.2.3.256', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', ':::']) {
      assert.equal(parseIpv6(bad), undefined, bad);
    }
  });

  test('bytes', () => {
    assert.equal(v6('2001:db8::ff00:42:8329').toString('hex'), '20010db8000000000000ff0000428329');
    assert.equal(v6('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
    assert.equal(v6('1:2:3:4:5:6:1.2.3.4').toString('hex'), '00010002000300040005000601020304');
  });

  test('v4 ↔ v6 helpers', () => {
    assert.equal(ipv4ToV6(0x0a000001).toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(ipv6ToV4(v6('::ffff:10.0.0.1')), 0x0a000001);
    assert.equal(ipv6ToV4(v6('::10.0.0.1')), 0x0a000001);
    assert.equal(ipv6ToV4(v6('2001:db8::1')), undefined);
  });

  test('addrSample: socket addresses, v4-mapped ones as IPv4', () => {
    assert.deepEqual(addrSample('10.0.0.1'), { t: 'ipv4', v: 0x0a000001 });
    assert.deepEqual(addrSample('::ffff:10.0.0.1'), { t: 'ipv4', v: 0x0a000001 });
    assert.equal(addrSample('::1')!.t, 'ipv6');
    assert.equal(addrSample(undefined), undefined);
    assert.equal(addrSample('nope'), undefined);
  });
});
