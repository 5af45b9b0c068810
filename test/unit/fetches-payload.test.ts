// Sample fetches on buffer contents (src/sample/fetches/payload.ts). ClientHello fixtures were
// captured from `openssl s_client` (OpenSSL 3.0); expected values come from HAProxy 2.6 run on the
// same client hellos ("2.6:") or from an independent Python parse of the bytes ("py:"), or are
// computed by hand in comments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/sample/fetches/internal.js';
import '../../src/sample/fetches/payload.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { parseSampleExpr, ExprError } from '../../src/sample/expr.js';
import type { Sample } from '../../src/sample/types.js';

function expr(text: string) { return parseSampleExpr(text, { where: 'test:1' }); }
function bad(text: string, re?: RegExp): void {
  assert.throws(() => expr(text), (e: unknown) => e instanceof ExprError && (!re || re.test((e as Error).message)));
}
function ctx(req?: Buffer | string, final = true, res?: Buffer | string): SmpCtx {
  const c = new SmpCtx(staticConn());
  c.reqPayload = typeof req === 'string' ? Buffer.from(req, 'latin1') : req;
  c.resPayload = typeof res === 'string' ? Buffer.from(res, 'latin1') : res;
  c.final = final;
  return c;
}
function ev(text: string, c: SmpCtx): Sample | undefined { return expr(text).eval(c); }
function hex(s: Sample | undefined): string | undefined { return s ? (s.v as Buffer).toString('hex') : undefined; }

// TLS 1.3 capable hello, SNI www.example.com, ALPN h2,http/1.1, empty session ticket extension
const HELLO1 = Buffer.from(
  '160301014e0100014a0303819b673d243845fc532fd548e85919031259a1f52eab4fc913f23438c2071b372023048277f0615f7ee6b268cb7cebaaff' +
  'f44673da5e2d11a63e7b3193c7c46608003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039' +
  'c009c0130033009d009c003d003c0035002f00ff010000c300000014001200000f7777772e6578616d706c652e636f6d000b000403000102000a0016' +
  '0014001d0017001e0019001801000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a00280403' +
  '05030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300' +
  '260024001d00206c1a5e3e95d24593249a67d3d561d38794175bbb756ebdfea993bd096439054b', 'hex');
// TLS 1.2 only hello, SNI a.b, no ALPN, no session ticket, no key share
const HELLO2 = Buffer.from(
  '16030100bf010000bb03034993d327b392ea29a01ab042179e67489ad462a2179074a35e5bda3b6b23a473000038c02cc030009fcca9cca8ccaac02b' +
  'c02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff0100005a000000080006000003612e62000b' +
  '000403000102000a000c000a001d0017001e001900180016000000170000000d002a0028040305030603080708080809080a080b0804080508060401' +
  '05010601030303010302040205020602', 'hex');

describe('req.len / res.len', () => {
  it('counts buffered bytes; may change until final', () => {
    assert.deepEqual(ev('req.len', ctx('abcd')), { t: 'sint', v: 4, mayChange: false });
    assert.deepEqual(ev('req_len', ctx('', false)), { t: 'sint', v: 0, mayChange: true });
    assert.equal(ev('res.len', ctx('abc', true, 'xy'))!.v, 2);
    assert.equal(ev('req.len', ctx()), undefined);
    // 2.6: len=339 for the first hello
    assert.equal(ev('req.len', ctx(HELLO1))!.v, 339);
  });
});

describe('req.payload / res.payload / payload', () => {
  it('extracts a block (2.6: req.payload(0,3),hex = 160301)', () => {
    assert.equal(hex(ev('req.payload(0,3)', ctx(HELLO1))), '160301');
    assert.equal(hex(ev('req.payload(2,2)', ctx('abcdef'))), '6364');
    assert.equal(hex(ev('res.payload(1,1)', ctx('abc', true, 'xyz'))), '79');
  });
  it('length 0 takes the rest, which may grow', () => {
    const s = ev('req.payload(2,0)', ctx('abcdef', false))!;
    assert.equal(hex(s), '63646566');
    assert.equal(s.mayChange, true);
    assert.equal(ev('req.payload(6,0)', ctx('abcdef'))!.v.length, 0);
  });
  it('waits when the block is not all there', () => {
    const c = ctx('abc', false);
    assert.equal(ev('req.payload(2,4)', c), undefined);
    assert.equal(c.wantMore, true);
    const f = ctx('abc', true);
    assert.equal(ev('req.payload(2,4)', f), undefined);
    assert.equal(f.wantMore, false);
  });
  it('never matches beyond the buffer size', () => {
    const c = ctx('abc', false);
    assert.equal(ev('req.payload(0,20000)', c), undefined);
    assert.equal(c.wantMore, false);
  });
  it('payload follows the direction being evaluated', () => {
    const c = ctx('abc', true, 'xyz');
    assert.equal(hex(ev('payload(0,1)', c)), '61');
    c.dir = 'res';
    assert.equal(hex(ev('payload(0,1)', c)), '78');
  });
  it('requires both arguments', () => {
    bad('req.payload(1)');
    bad('req.payload');
    bad('req.payload(a,1)');
  });
});

describe('payload_lv', () => {
  // length 3 stored on 2 bytes at offset 1, data right after: 'xyz'
  const buf = Buffer.concat([Buffer.from([0x09, 0x00, 0x03]), Buffer.from('xyzREST')]);
  it('block after the length, or at an absolute / relative offset', () => {
    assert.equal(ev('req.payload_lv(1,2)', ctx(buf))!.v.toString(), 'xyz');
    assert.equal(ev('req.payload_lv(1,2,4)', ctx(buf))!.v.toString(), 'yzR');
    assert.equal(ev('req.payload_lv(1,2,+1)', ctx(buf))!.v.toString(), 'yzR');
    assert.equal(ev('req.payload_lv(1,2,-1)', ctx(buf))!.v.toString(), '\x03xy');
    assert.equal(ev('payload_lv(1,2)', ctx(buf))!.v.toString(), 'xyz');
    assert.equal(ev('res.payload_lv(1,2)', ctx('', true, buf))!.v.toString(), 'xyz');
  });
  it('TLS record length (2.6: req.payload_lv(3,2) of hello1 is the 334-byte record)', () => {
    const s = ev('req.payload_lv(3,2)', ctx(HELLO1))!;
    assert.equal(s.v.length, 0x14e);
    assert.equal(hex(s), HELLO1.subarray(5).toString('hex'));
  });
  it('waits for the length and for the block', () => {
    const c1 = ctx(buf.subarray(0, 2), false);
    assert.equal(ev('req.payload_lv(1,2)', c1), undefined);
    assert.equal(c1.wantMore, true);
    const c2 = ctx(buf.subarray(0, 5), false);
    assert.equal(ev('req.payload_lv(1,2)', c2), undefined);
    assert.equal(c2.wantMore, true);
  });
  it('a zero or oversized length never matches', () => {
    const z = ctx(Buffer.from([0, 0, 0, 1]), false);
    assert.equal(ev('req.payload_lv(0,2)', z), undefined);
    assert.equal(z.wantMore, false);
    const big = ctx(Buffer.from([0xff, 0xff, 0, 1]), false);
    assert.equal(ev('req.payload_lv(0,2)', big), undefined);
    assert.equal(big.wantMore, false);
  });
  it('rejects bad arguments at parse time', () => {
    bad('req.payload_lv(-1,2)', /offset1 must be positive/);
    bad('req.payload_lv(0,0)', /length must be > 0/);
    bad('req.payload_lv(0,2,abc)', /offset2 is not a number/);
    bad('req.payload_lv(0,2,-5)', /offset2 too negative/);
    bad('req.payload_lv(0)');
  });
});

describe('TLS hello', () => {
  it('SNI (2.6: www.example.com and a.b)', () => {
    assert.deepEqual(ev('req.ssl_sni', ctx(HELLO1)), { t: 'str', v: 'www.example.com' });
    assert.equal(ev('req_ssl_sni', ctx(HELLO2))!.v, 'a.b');
  });
  it('version (2.6: 196611 for both, the hello version 3.3, not the record 3.1)', () => {
    assert.equal(ev('req.ssl_ver', ctx(HELLO1))!.v, 196611);
    assert.equal(ev('req_ssl_ver', ctx(HELLO2))!.v, 196611);
  });
  it('SSLv2 client hello version', () => {
    // 2-byte header 0x801c (length 28 = 9 + 3 ciphers + 0 session id + 16 challenge),
    // type 1, version 3.1, cipher length 3, session id length 0, challenge length 16
    const v2 = Buffer.concat([Buffer.from([0x80, 0x1c, 0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x04]), Buffer.alloc(16, 7)]);
    assert.equal(ev('req.ssl_ver', ctx(v2))!.v, 0x30001);
    const c = ctx(v2.subarray(0, 20), false);
    assert.equal(ev('req.ssl_ver', c), undefined);
    assert.equal(c.wantMore, true);
  });
  it('hello type (2.6: 1 for client hellos), response side', () => {
    assert.equal(ev('req.ssl_hello_type', ctx(HELLO1))!.v, 1);
    assert.equal(ev('req_ssl_hello_type', ctx(HELLO2))!.v, 1);
    // record: handshake, version 3.3, length 6; handshake: ServerHello (2), length 2
    const sh = Buffer.from('16030300060200000203 03'.replace(/ /g, ''), 'hex');
    assert.equal(ev('res.ssl_hello_type', ctx('', true, sh))!.v, 2);
    assert.equal(ev('rep_ssl_hello_type', ctx('', true, sh))!.v, 2);
    assert.equal(ev('req.ssl_hello_type', ctx('GET / HTTP/1.0\r\n\r\n')), undefined);
  });
  it('ALPN: first protocol, every protocol for ACLs (2.6: alpn=h2)', () => {
    assert.equal(ev('req.ssl_alpn', ctx(HELLO1))!.v, 'h2');
    assert.deepEqual(expr('req.ssl_alpn').evalAll(ctx(HELLO1))!.map((s) => s.v), ['h2', 'http/1.1']);
    assert.equal(ev('req.ssl_alpn', ctx(HELLO2)), undefined);
  });
  it('session ticket and EC extensions (2.6: st=1 / st=0, ec=1 for both)', () => {
    assert.equal(ev('req.ssl_st_ext', ctx(HELLO1))!.v, 1);
    assert.equal(ev('req.ssl_st_ext', ctx(HELLO2))!.v, 0);
    assert.deepEqual(ev('req.ssl_ec_ext', ctx(HELLO1)), { t: 'bool', v: true });
    assert.deepEqual(ev('req.ssl_ec_ext', ctx(HELLO2)), { t: 'bool', v: true });
  });
  it('cipher list, sigalgs, supported groups, key share groups (py:)', () => {
    assert.equal(hex(ev('req.ssl_cipherlist', ctx(HELLO1))),
      '130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff');
    assert.equal(hex(ev('req.ssl_cipherlist', ctx(HELLO2))),
      'c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff');
    const sig = '040305030603080708080809080a080b080408050806040105010601030303010302040205020602';
    assert.equal(hex(ev('req.ssl_sigalgs', ctx(HELLO1))), sig);
    assert.equal(hex(ev('req.ssl_sigalgs', ctx(HELLO2))), sig);
    assert.equal(hex(ev('req.ssl_supported_groups', ctx(HELLO1))), '001d0017001e0019001801000101010201030104');
    assert.equal(hex(ev('req.ssl_supported_groups', ctx(HELLO2))), '001d0017001e00190018');
    assert.equal(hex(ev('req.ssl_keyshare_groups', ctx(HELLO1))), '001d');
    assert.equal(ev('req.ssl_keyshare_groups', ctx(HELLO2)), undefined);
  });
  it('waits for a complete hello, gives up on non-TLS data', () => {
    for (const n of [0, 1, 4, 5, 8, 100, HELLO1.length - 1]) {
      const c = ctx(HELLO1.subarray(0, n), false);
      assert.equal(ev('req.ssl_sni', c), undefined, `len ${n}`);
      assert.equal(c.wantMore, true, `len ${n}`);
      const h = ctx(HELLO1.subarray(0, n), false);
      assert.equal(ev('req.ssl_hello_type', h), undefined);
      assert.equal(h.wantMore, true);
      const f = ctx(HELLO1.subarray(0, n), true);
      assert.equal(ev('req.ssl_sni', f), undefined);
      assert.equal(f.wantMore, false);
    }
    const g = ctx('GET / HTTP/1.1\r\n', false);
    assert.equal(ev('req.ssl_sni', g), undefined);
    assert.equal(g.wantMore, false);
    assert.equal(ev('req.ssl_ver', g), undefined);
    assert.equal(g.wantMore, false);
  });
  it('a hello split over two handshake records', () => {
    const body = HELLO1.subarray(5);
    const split = Buffer.concat([
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x64]), body.subarray(0, 100),
      Buffer.from([0x16, 0x03, 0x01, (body.length - 100) >> 8, (body.length - 100) & 255]), body.subarray(100),
    ]);
    assert.equal(ev('req.ssl_sni', ctx(split))!.v, 'www.example.com');
    assert.equal(hex(ev('req.ssl_keyshare_groups', ctx(split))), '001d');
    const c = ctx(split.subarray(0, 110), false);
    assert.equal(ev('req.ssl_sni', c), undefined);
    assert.equal(c.wantMore, true);
  });
  it('a hello that announces a TLS version below 1.0 is not one', () => {
    const b = Buffer.from(HELLO2);
    b[9] = 3; b[10] = 0;   // client_version 3.0
    assert.equal(ev('req.ssl_sni', ctx(b)), undefined);
  });
});

describe('RDP cookie', () => {
  // TPKT (4) + X.224 CR header (7), then the cookie line (2.6: rdp=jdoe rdpc=1 rdpm=jdoe)
  const rdp = '\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Cookie: mstshash=jdoe\r\n\x01\x00';
  it('any cookie or a named one, case-insensitively', () => {
    assert.deepEqual(ev('req.rdp_cookie', ctx(rdp)), { t: 'str', v: 'jdoe' });
    assert.equal(ev('rdp_cookie(mstshash)', ctx(rdp))!.v, 'jdoe');
    assert.equal(ev('req.rdp_cookie(MSTSHASH)', ctx(rdp))!.v, 'jdoe');
    assert.equal(ev('req.rdp_cookie(msts)', ctx(rdp)), undefined);
    assert.equal(ev('req.rdp_cookie_cnt', ctx(rdp))!.v, 1);
    assert.equal(ev('rdp_cookie_cnt(mstshash)', ctx(rdp))!.v, 1);
    assert.equal(ev('req.rdp_cookie_cnt(other)', ctx(rdp))!.v, 0);
  });
  it('waits for the end of line; too short never counts (2.6: rdpc=- on 12 bytes)', () => {
    const c = ctx(rdp.slice(0, 25), false);
    assert.equal(ev('req.rdp_cookie', c), undefined);
    assert.equal(c.wantMore, true);
    const f = ctx(rdp.slice(0, 12), true);
    assert.equal(ev('req.rdp_cookie_cnt', f), undefined);
    assert.equal(ev('req.rdp_cookie_cnt', ctx('\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00Hello: x=y\r\n'))!.v, 0);
  });
});

describe('distcc', () => {
  // 2.6: distcc_param(DIST)=1, distcc_body(ARGV,2)=-c
  const d = 'DIST00000001ARGC00000002ARGV00000003gccARGV00000002-c';
  it('parameters and bodies by occurrence', () => {
    assert.equal(ev('distcc_param(DIST)', ctx(d))!.v, 1);
    assert.equal(ev('distcc_param(ARGC)', ctx(d))!.v, 2);
    assert.equal(ev('distcc_param(ARGV,2)', ctx(d))!.v, 2);
    assert.equal(ev('distcc_body(ARGV)', ctx(d))!.v.toString(), 'gcc');
    assert.equal(ev('distcc_body(ARGV,1)', ctx(d))!.v.toString(), 'gcc');
    assert.equal(ev('distcc_body(ARGV,2)', ctx(d))!.v.toString(), '-c');
  });
  it('waits for tokens not yet received; bad hex never matches', () => {
    const c = ctx(d, false);
    assert.equal(ev('distcc_param(DOTI)', c), undefined);
    assert.equal(c.wantMore, true);
    const b = ctx('DIST0000000xARGC00000002', false);
    assert.equal(ev('distcc_param(ARGC)', b), undefined);
    assert.equal(b.wantMore, false);
    const part = ctx('DOTI0000000aabc', false);
    assert.equal(ev('distcc_body(DOTI)', part), undefined);
    assert.equal(part.wantMore, true);
  });
  it('token names are 4 characters', () => {
    bad('distcc_param(DIS)', /exactly 4 characters/);
    bad('distcc_body(ARGVX)', /exactly 4 characters/);
    bad('distcc_param');
  });
});
