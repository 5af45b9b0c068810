// Converters of src/sample/converters/basic.ts. Expected values come from HAProxy 2.6
// (`http-request return lf-string "%[...]"`), libxxhash (via python ctypes), python3
// (calendar.timegm, cryptography's AESGCM) or well-known test vectors, as noted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/sample/index.js';
import { parseSampleExpr } from '../../src/sample/expr.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { smpInt, smpStr, type Sample } from '../../src/sample/types.js';
import { strftime, gmTime } from '../../src/sample/converters/time.js';
import { fetchRegistry, registerFetch } from '../../src/sample/registry.js';
import { smpBin, smpBool, addrSample, sampleToString } from '../../src/sample/types.js';

// constant fetches used as inputs, when the internal fetches are not registered in this build
if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => smpStr(a[0] ?? '') });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => smpInt(a[0]) });
if (!fetchRegistry.has('bin')) registerFetch('bin', { fn: (a) => smpBin(Buffer.from(a[0] ?? '', 'hex')) });
if (!fetchRegistry.has('bool')) registerFetch('bool', { fn: (a) => smpBool(a[0] === '1' || a[0] === 'true') });
if (!fetchRegistry.has('src')) registerFetch('src', { fn: (_a, ctx) => addrSample(ctx.conn.src) });

const opts = { where: 'test:1' };
function ctxWithVars(): SmpCtx {
  const ctx = new SmpCtx(staticConn());
  ctx.vars.txn.set('n1', smpInt(7));
  ctx.vars.txn.set('z', smpInt(0));
  ctx.vars.txn.set('s', smpStr('abc'));
  ctx.vars.txn.set('b64', smpStr('Zm9vb2Zvb29mb29wZm9vbw=='));
  return ctx;
}
function ev(expr: string, ctx = ctxWithVars()): Sample | undefined { return parseSampleExpr(expr, opts).eval(ctx); }
/** the value as text, or undefined when the expression fails */
function s(expr: string, ctx?: SmpCtx): string | undefined {
  const r = ev(expr + ',concat()', ctx);
  return r === undefined ? undefined : (r.v as string);
}
function rejects(expr: string): void { assert.throws(() => parseSampleExpr(expr, opts), expr); }
function table(rows: [string, string | undefined][]): void { for (const [e, v] of rows) assert.equal(s(e), v, e); }

test('arithmetic, saturating on signed 64 bits (haproxy 2.6)', () => {
  table([
    ['int(10),add(5)', '15'],
    ['int(9223372036854775807),add(1)', '9223372036854775807'],
    ['int(-9223372036854775807),sub(5)', '-9223372036854775808'],
    ['int(-9223372036854775807),sub(-9223372036854775807)', '0'],
    ['int(5),sub(txn.n1)', '-2'],
    ['int(5),add(txn.nope)', undefined],
    ['int(4611686018427387904),mul(2)', '9223372036854775807'],
    ['int(-4611686018427387904),mul(3)', '-9223372036854775808'],
    ['int(-7),div(2)', '-3'],
    ['int(7),div(0)', '9223372036854775807'],
    ['int(-7),div(0)', '9223372036854775807'],
    ['int(3),div(txn.z)', '9223372036854775807'],
    ['int(-7),mod(2)', '-1'],
    ['int(7),mod(-2)', '1'],
    ['int(7),mod(0)', '0'],
    ['int(3),mod(txn.z)', '0'],
    ['int(3),mul(txn.z)', '0'],
    ['int(-9223372036854775808),neg', '9223372036854775807'],
    ['int(-9223372036854775808),div(-1)', '9223372036854775807'],
    ['int(-9223372036854775808),mul(-1)', '9223372036854775807'],
    ['int(-9223372036854775808),mod(-1)', '0'],
    ['int(-9223372036854775808),add(-1)', '-9223372036854775808'],
    ['int(9223372036854775807),sub(-9223372036854775808)', '9223372036854775807'],
    ['int(-1),sub(-9223372036854775808)', '9223372036854775807'],
    ['int(-9223372036854775808),cpl', '9223372036854775807'],
    ['int(5),neg', '-5'],
    ['int(5),cpl', '-6'],
    ['int(12),and(10)', '8'],
    ['int(12),or(3)', '15'],
    ['int(12),xor(10)', '6'],
    ['int(-1),and(9223372036854775807)', '9223372036854775807'],
    ['int(0),bool', '0'],
    ['int(-3),bool', '1'],
    ['int(3),odd', '1'],
    ['int(-3),odd', '1'],
    ['int(-4),even', '1'],
    ['int(0),not', '1'],
    ['int(1),htonl,hex', '00000001'],
    ['int(-1),htonl,hex', 'FFFFFFFF'],
    ['int(4294967297),htonl,hex', '00000001'],
  ]);
  rejects('int(1),add(foo)');
  rejects('int(1),add');
  rejects('int(1),div(bad.x)');
});

test('encodings (haproxy 2.6)', () => {
  table([
    ['str(abc),hex', '616263'],
    ['bin(01ff),hex', '01FF'],
    ['bin(01020304050607),be2hex()', '01020304050607'],
    ['bin(01020304050607),be2hex(:,2)', '0102:0304:0506:07'],
    ['bin(01020304050607),be2hex(--,2,1)', '0102--0304--0506'],
    ['bin(0102030405060708),be2hex(,3,1)', '010203040506'],
    ['bin(01020304050607),be2dec(:,2)', '258:772:1286:7'],
    ['bin(01020304050607),be2dec(-,2,1)', '258-772-1286'],
    ['bin(01020304050607),be2dec(,2,1)', '2587721286'],
    ['bin(7f000001),be2dec(.,1)', '127.0.0.1'],
    ['bin(ffffffffffffffff),be2dec(:,8)', '18446744073709551615'],
    ['str(),be2dec(:,2)', ''],
    ['str(abc),base64', 'YWJj'],
    ['str(),base64', ''],
    ['str(YWJj),b64dec', 'abc'],
    ['str(YWI=),b64dec', 'ab'],
    ['str(YWI),b64dec', undefined],
    ['str(YW=j),b64dec', undefined],
    ['str(a===),b64dec', undefined],
    ['str(),b64dec', ''],
    ['str(-_8),ub64dec,hex', 'FBFF'],
    ['str(YWI),ub64dec', 'ab'],
    ['str(YQ),ub64dec', 'a'],
    ['str(Y),ub64dec', undefined],
    ['bin(fbff),ub64enc', '-_8'],
    ['str(a),ub64enc', 'YQ'],
    ['str(ff),hex2i', '255'],
    ['str(FFFFFFFFFFFFFFFF),hex2i', '-1'],
    ['str(1ffffffffffffffff),hex2i', '-1'],
    // 3.2 documents zero for inputs that cannot be converted (2.6 failed instead)
    ['str(12g),hex2i', '0'],
    ['str(),hex2i', '0'],
    ["str(' !#$%&*+-./09:;<=>?@AZ[]^_`az{|}~'),url_enc(query)", '%20%21%23%24%25%26%2A%2B-.%2F09%3A%3B%3C%3D%3E%3F%40AZ%5B%5D%5E_%60az%7B%7C%7D~'],
    ['bin(c3a97f01),url_enc(query)', '%C3%A9%7F%01'],
    ['str(a%41+b?c+d%2f),url_dec', 'aA+b?c d/'],
    ['str(a%41+b?c+d%2f),url_dec(1)', 'aA b?c d/'],
    ['str(a%4),url_dec', undefined],
    ['str(a%zz),url_dec', undefined],
    ['str(a%00b),url_dec,hex', '610062'],
  ]);
  rejects('str(a),url_enc(path)');
  rejects('bin(00),be2dec(:,9)');
  rejects('bin(00),be2dec(:,0)');
});

test('json (haproxy 2.6)', () => {
  table([
    ['bin(6122625c632f64),json(ascii)', 'a\\"b\\\\c\\/d'],
    ['bin(0108090a0c0d1f7f80ff),json(ascii)', '\\u0001\\b\\t\\n\\f\\r\\u001f\\u007f\\u0080\\u00ff'],
    ['bin(c3a9e282acf09f9880),json(utf8)', undefined],
    ['bin(c3a9e282acf09f9880),json(utf8s)', '\\u00e9\\u20ac'],
    ['bin(61c3),json(utf8)', undefined],
    ['bin(61c362),json(utf8s)', 'ab'],
    ['bin(61c0af62),json(utf8)', undefined],
    ['bin(61c0af62),json(utf8p)', 'a\\/b'],
    ['bin(61c0af62),json(utf8ps)', 'a\\/b'],
    ['bin(61c0af62),json(utf8s)', 'ab'],
    ['bin(61eda08062),json(utf8s)', 'ab'],
    ['bin(6180ff62),json(utf8s)', 'ab'],
  ]);
  rejects('str(a),json(latin1)');
});

test('string manipulation (haproxy 2.6, docs)', () => {
  table([
    ['str(f1_f2_f3__f5),field(4,_)', ''],
    ['str(f1_f2_f3__f5),field(5,_)', 'f5'],
    ['str(f1_f2_f3__f5),field(6,_)', undefined],
    ['str(f1_f2_f3__f5),field(2,_,0)', 'f2_f3__f5'],
    ['str(f1_f2_f3__f5),field(2,_,2)', 'f2_f3'],
    ['str(f1_f2_f3__f5),field(-2,_,3)', 'f2_f3_'],
    ['str(f1_f2_f3__f5),field(-3,_,0)', 'f1_f2_f3'],
    ['str(f1_f2_f3__f5),field(-6,_)', undefined],
    ['str(f1_f2_f3__f5),field(-5,_,9)', 'f1'],
    ['str(),field(1,_)', ''],
    ['str(abc),field(1,_)', 'abc'],
    ['str(f1_f2_f3__f5),word(4,_)', 'f5'],
    ['str(f1_f2_f3__f5),word(5,_)', ''],
    ['str(f1_f2_f3__f5),word(2,_,0)', 'f2_f3__f5'],
    ['str(f1_f2_f3__f5),word(3,_,2)', 'f3__f5'],
    ['str(f1_f2_f3__f5),word(-2,_,3)', 'f1_f2_f3'],
    ['str(f1_f2_f3__f5),word(-3,_,0)', 'f1_f2'],
    ['str(/f1////f2/f3/f4),word(1,/)', 'f1'],
    ['str(a.b;c),word(2,.;)', 'b'],
    ['str(___),word(1,_)', ''],
    ['str(xxab),ltrim(x)', 'ab'],
    ['str(abxyxy),rtrim(xy)', 'ab'],
    ['str(xx),ltrim(x)', ''],
    ['str(AbC),lower', 'abc'],
    ['str(AbC),upper', 'ABC'],
    ['str(abc),length', '3'],
    ['str(),length', '0'],
    ['bool(1),iif(yes,no)', 'yes'],
    ['bool(0),iif(yes,no)', 'no'],
    ['int(5),iif(yes,no)', 'yes'],
    ['str(a),concat(<ip=,txn.s,>)', 'a<ip=abc>'],
    ['str(a),concat(,txn.nope,>)', 'a>'],
    ['str(a),concat()', 'a'],
    ['str(a),concat(-)', 'a-'],
    ['int(3),concat(-)', '3-'],
    ['str(a),strcmp(txn.s)', '-1'],
    ['str(abd),strcmp(txn.s)', '1'],
    ['str(ab),strcmp(txn.s)', '-1'],
    ['str(abcd),strcmp(txn.s)', '1'],
    ['str(abc),strcmp(txn.s)', '0'],
    ['str(abc),strcmp(txn.nope)', undefined],
    ['str(abc),secure_memcmp(txn.s)', '1'],
    ['str(ab),secure_memcmp(txn.s)', '0'],
    ['str(ab),secure_memcmp(txn.nope)', undefined],
    ["str(/////a///b/c/),regsub('/+','/','g')", '/a/b/c/'],
    ["str(/////a///b/c/),regsub('/+','/')", '/a///b/c/'],
    ["str(abc),regsub('x*','-','g')", '-a-b-c-'],
    ["str(abc),regsub('b*','-','g')", '-a--c-'],
    ['str(abc),regsub(b,&)', 'a&c'],
    ['str(abc),regsub(b,$1)', 'a$1c'],
    // back-references (docs): \2\1 swaps the groups
    ['str(FooBar123),regsub("(foo|bar)([0-9]+)?","\\\\2\\\\1",i)', 'FooBar123'.replace(/(foo|bar)([0-9]+)?/i, '$2$1')],
    ['str(FooBar123),regsub("(foo|bar)([0-9]+)?","<\\\\2\\\\1>",ig)', '<Foo><123Bar>'],
    ['str(abc),regsub(B,x)', 'abc'],
    ['str(abc),regsub(B,x,i)', 'axc'],
    ["str('fr-FR;q=0.8, en;q=0.9, es'),language(es;fr;en)", 'es'],
    ["str('fr-FR;q=0.8, en;q=0.9'),language(fr)", 'fr'],
    ["str('fr-FR;q=0.8, en;q=0.9'),language(fr-FR;en)", 'en'],
    ["str('fr-FR, en;q=0.9'),language(de,xx)", 'xx'],
    ["str('fr-FR, en;q=0.9'),language(de)", undefined],
    ["str('en;q=0.5, fr;q=0.5'),language(fr;en)", 'en'],
    ["str('*;q=0.5, fr;q=0.4'),language(fr;en)", 'fr'],
    ["str('EN'),language(en;fr)", undefined],
    ["str('en-US,en;q=0.9'),language(en-US;en)", 'en-US'],
    ["str('de-CH-1996'),language(de)", 'de'],
    // docs examples
    ['str(a=b&c=d&a=r),param(a)', 'b'],
    ['str(a&b=c),param(a)', ''],
    ['str(a=&b&c=a),param(b)', ''],
    ['str(a=1;b=2;c=4),param(b,;)', '2'],
    ['str(a=1),param(b)', undefined],
    ['str(Example.COM:8080),host_only', 'example.com'],
    ['str(127.0.0.1:80),host_only', '127.0.0.1'],
    ['str([::1]:80),host_only', '[::1]'],
    ['str([::1]),host_only', '[::1]'],
    ['str(hostname),host_only', 'hostname'],
    ['str(hostname:80),port_only', '80'],
    ['str([::1]:8443),port_only', '8443'],
    ['str([::1]),port_only', '0'],
    ['str(hostname),port_only', '0'],
    ["str('ab\r\ncd'),cut_crlf", 'ab'],
    ["str('ab\ncd'),cut_crlf", 'ab'],
  ]);
  rejects('str(a),regsub(a,b,gx)');
  rejects('str(a),strcmp(nope)');
  rejects('str(a),concat(a,bad)');
  rejects('str(a),field(0,_)');
  rejects('str(a),add_item(",")');
});

test('add_item (docs)', () => {
  const ctx = ctxWithVars();
  ctx.vars.txn.set('score', smpStr('12'));
  table([
    ['str(),add_item(",",txn.s)', 'abc'],
    ['str(x),add_item(",",txn.s)', 'x,abc'],
    ['str(x),add_item(",",txn.nope)', 'x'],
    ['str(x),add_item(",",txn.s,(site1))', 'x,abc(site1)'],
    ['str(x),add_item(",",,(site1))', 'x,(site1)'],
    ['str(),add_item(",",,(site1))', '(site1)'],
    ['str(x),add_item(",",txn.nope,)', 'x'],
  ]);
});

test('bytes (haproxy 2.6 and docs)', () => {
  const ctx = ctxWithVars();
  ctx.vars.txn.set('start', smpInt(1));
  ctx.vars.txn.set('len', smpInt(3));
  assert.equal(s('str(012345),bytes(txn.start,txn.len)', ctx), '123');
  table([
    ['str(012345),bytes(0)', '012345'],
    ['str(012345),bytes(1,3)', '123'],
    ['str(012345),bytes(6)', ''],
    ['str(012345),bytes(4,9)', '45'],
    ['str(012345),bytes(-1)', ''],
    ['str(012345),bytes(1,-1)', ''],
    ['str(012345),bytes(0,0)', ''],
    ['str(012345),bytes(txn.nope)', ''],
  ]);
});

test('hashes (haproxy 2.6, libxxhash)', () => {
  table([
    ['str(123456789),crc32c', '3808858755'],
    ['str(123456789),crc32c(1)', '1236241323'],
    ['str(123456789),crc32', '3421780262'],
    ['str(123456789),crc32(1)', '1130417534'],
    ['str(123456789),djb2(5)', '2717138294'],
    ['str(123456789),xxh32', '2474356071'],
    ['str(123456789),xxh32(1)', '4066480524'],
    ['str(123456789),xxh64', '-8306817102742376829'],
    ['str(123456789),xxh64(-1)', '5976823647211216061'],
    ['str(),xxh3', '3244421341483603138'],
    ['str(123456789),xxh3', '8276685427497336319'],
    ['str(123456789),xxh3(7)', '-3151000607107459123'],
  ]);
  // libxxhash XXH3_64bits_withSeed / XXH32 over bytes (i*31+7)&255 (as unsigned values)
  const ref: [number, number, bigint, number][] = [
    [200, 7, 3526160138350114285n, 1176184536],
    [241, 0, 809349449570470400n, 2350121632],
    [1025, 7, 16568633419251185692n, 827247660],
    [5000, 0, 6169931020318013678n, 51389229],
  ];
  for (const [len, seed, x3, x32] of ref) {
    const hex = Buffer.from(Array.from({ length: len }, (_, i) => (i * 31 + 7) & 255)).toString('hex');
    assert.equal(s(`bin(${hex}),xxh3(${seed})`), String(BigInt.asIntN(64, x3)), `xxh3 ${len}`);
    assert.equal(s(`bin(${hex}),xxh32(${seed})`), String(x32), `xxh32 ${len}`);
  }
});

test('dates (haproxy 2.6 utime/http_date; python calendar.timegm for date)', () => {
  table([
    ['int(784111777),http_date', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['int(784111777),http_date(3600)', 'Sun, 06 Nov 1994 09:49:37 GMT'],
    ['int(784111777123),http_date(0,ms)', 'Sun, 06 Nov 1994 08:49:37.123 GMT'],
    ['int(784111777123456),http_date(1000000,us)', 'Sun, 06 Nov 1994 08:49:38.123456 GMT'],
    ['int(784111777),utime(%Y-%m-%d %H:%M:%S %a %A %b %B %j %e %y %z %Z %s %T %D %F %p %I %u %w %% %C %g %G %h %k %l %P %r %R %U %V %W %x %X %c %Q)',
      '1994-11-06 08:49:37 Sun Sunday Nov November 310  6 94 +0000 GMT 784111777 08:49:37 11/06/94 1994-11-06 AM 08 7 0 % 19 94 1994 Nov  8  8 am 08:49:37 AM 08:49 45 44 44 11/06/94 08:49:37 Sun Nov  6 08:49:37 1994 %Q'],
    ['int(784111777),utime(%-d %_m %^a %10Y %05e)', '6 11 SUN 0000001994 00006'],
    ['int(784111777),utime(%H,60)', '08'],
    ['int(1),utime(%H,-7200)', '22'],
    ['int(784111777),utime(%n%t)', '\n\t'],
    // docs examples of the ms/us variants (%N)
    ['int(1690192382196),ms_utime("%Y/%m/%d/%H:%M:%S.%3N %z")', '2023/07/24/09:53:02.196 +0000'],
    ['int(1690192382196234),us_utime("%Y/%m/%d/%H:%M:%S.%6N %z")', '2023/07/24/09:53:02.196234 +0000'],
    ['int(1690192382196234),us_utime(%N)', '196234000'],
    ['int(1690192382196),ms_utime(%N,1)', '197000000'],
    ["str('Sun, 06 Nov 1994 08:49:37 GMT'),date", '784111777'],
    ["str('Sunday, 06-Nov-94 08:49:37 GMT'),date", '784111777'],
    ["str('Sun Nov  6 08:49:37 1994'),date", '784111777'],
    ["str('Thursday, 06-Nov-69 08:49:37 GMT'),date", '3150953377'],
    ["str('Sun, 06 Nov 1994 08:49:37 UTC'),date", undefined],
    ["str('Sun, 06 Nov 1994 25:49:37 GMT'),date", undefined],
    ['str(garbage),date', undefined],
  ]);
  rejects('int(1),http_date(0,ns)');
  rejects('int(1),utime');
  // utime is UTC whatever the process time zone; ltime follows the local zone
  const t = gmTime(0)!;
  assert.equal(strftime('%F %T', t), '1970-01-01 00:00:00');
  const lt = s('int(784111777),ltime(%s)');
  assert.equal(lt, '784111777');
});

test('ipmask (haproxy 2.6)', () => {
  const table = (rows: [string, string | undefined][]) => {
    for (const [e, v] of rows) { const r = ev(e); assert.equal(r === undefined ? undefined : sampleToString(r), v, e); }
  };
  table([
    ['str(1.2.3.4),ipmask(24)', '1.2.3.0'],
    ['str(1.2.3.4),ipmask(255.255.0.0)', '1.2.0.0'],
    ['str(2001:db8::1),ipmask(24,64)', '2001:db8::'],
    ['str(2001:db8:ffff:ffff::1),ipmask(24,20)', '2001:0:0:0::'.replace(/:0:0:0::/, '::')],
    ['str(2001:db8::1),ipmask(24)', undefined],
    ['str(::ffff:1.2.3.4),ipmask(16,64)', '1.2.0.0'],
    ['int(16909060),ipmask(24)', '1.2.3.0'],
  ]);
  rejects('src,ipmask(33)');
});

test('cryptography (RFC/NIST vectors, python cryptography)', () => {
  table([
    ['str(abc),sha1,hex', 'A9993E364706816ABA3E25717850C26C9CD0D89D'],
    ['str(abc),sha2,hex', 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'],
    ['str(abc),sha2(224),hex', '23097D223405D8228642A477BDA255B32AADBCE4BDA0B3F7E36C9DA7'],
    ['str(abc),digest(sha256),hex', 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD'],
    ['str(abc),digest(MD5),hex', '900150983CD24FB0D6963F7D28E17F72'],
    ["str('The quick brown fox jumps over the lazy dog'),hmac(sha256,a2V5),hex", 'F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8'],
  ]);
  rejects('str(abc),sha2(100)');
  rejects('str(abc),digest(nosuch)');
  rejects('str(abc),hmac(sha256,not*base64)');
  const ctx = ctxWithVars();
  ctx.vars.txn.set('key', smpStr('a2V5'));
  assert.equal(s("str('The quick brown fox jumps over the lazy dog'),hmac(sha256,txn.key),hex", ctx), 'F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8');
  assert.equal(s('str(x),hmac(sha256,txn.nope)', ctx), undefined);

  // AES-128-GCM, key "foofoofoofoopfoo" (Zm9vb2Zvb29mb29wZm9vbw==), nonce 00..0b, plaintext "hello world"
  ctx.vars.txn.set('nonce', smpStr('AAECAwQFBgcICQoL'));
  ctx.vars.txn.set('tag', smpStr('L3U/PXrn+JJQPPLz6amb0g=='));
  assert.equal(s('bin(23e10663143aade7f9c4da),aes_gcm_dec(128,txn.nonce,Zm9vb2Zvb29mb29wZm9vbw==,txn.tag)', ctx), 'hello world');
  assert.equal(s('bin(23e10663143aade7f9c4da),aes_gcm_dec(128,AAECAwQFBgcICQoL,txn.b64,L3U/PXrn+JJQPPLz6amb0g==)', ctx), 'hello world');
  ctx.vars.txn.set('badtag', smpStr('AAAAAAAAAAAAAAAAAAAAAA=='));
  assert.equal(s('bin(23e10663143aade7f9c4da),aes_gcm_dec(128,txn.nonce,Zm9vb2Zvb29mb29wZm9vbw==,txn.badtag)', ctx), undefined);
  assert.equal(s('bin(23e10663143aade7f9c4da),aes_gcm_dec(256,txn.nonce,Zm9vb2Zvb29mb29wZm9vbw==,txn.tag)', ctx), undefined);
  assert.equal(s('str(hello world),aes_gcm_enc(128,txn.nonce,Zm9vb2Zvb29mb29wZm9vbw==,txn.out),hex', ctx), '23E10663143AADE7F9C4DA');
  assert.equal(ctx.vars.txn.get('out')?.v, 'L3U/PXrn+JJQPPLz6amb0g==');
  rejects('str(a),aes_gcm_enc(100,txn.nonce,txn.key,txn.out)');
  rejects('str(a),aes_gcm_enc(128,txn.nonce,txn.key,notavar)');
  rejects('str(a),aes_gcm_dec(128,txn.nonce,abc,txn.tag)');
});

test('when', () => {
  const ctx = ctxWithVars();
  assert.equal(s('str(a),when(normal)', ctx), 'a');
  assert.equal(s('str(a),when(error)', ctx), undefined);
  assert.equal(s('str(a),when(!error)', ctx), 'a');
  assert.equal(s('str(a),when(stopping)', ctx), undefined);
  ctx.stream = { bytesIn: 0, bytesOut: 0, txnError: true, forwarded: true };
  assert.equal(s('str(a),when(error)', ctx), 'a');
  assert.equal(s('str(a),when(normal)', ctx), undefined);
  assert.equal(s('str(a),when(forwarded)', ctx), 'a');
  assert.equal(s('str(a),when(processed)', ctx), 'a');
  assert.equal(s('str(a),when(toapplet)', ctx), undefined);
  rejects('str(a),when(sometimes)');
  rejects('str(a),when(acl,slow)');
});
