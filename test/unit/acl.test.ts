// ACLs (configuration.txt 7.1, 7.2, 7.4) and pattern matching (src/acl/pattern.ts). Expected
// results marked "2.6" were checked against HAProxy 2.6: a frontend with `acl aN <line>` and
// `http-request set-var(txn.rN) str(yes) if aN`, the request carrying the tested header, the
// results printed by `http-request return ... lf-string`; error texts come from `haproxy -c`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/sample/index.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { HttpHeaders } from '../../src/http/htx.js';
import { fetchRegistry, converterRegistry, type FetchDef } from '../../src/sample/registry.js';
import { SampleExpr } from '../../src/sample/expr.js';
import { smpStr, smpInt, smpIpv4, smpBin, parseIpv4, parseIpv6, smpIpv6 } from '../../src/sample/types.js';
import { parseAclTest, parseCond, predefinedAcl, Acl, AclTest, AclResult, Cond, PREDEFINED_ACL_NAMES, type CondParseCtx } from '../../src/acl/acl.js';
import { PatternIndex, PatternRef, patternRefs, parseIpPattern, parseIntPattern, defaultMethod, MATCH_ONLY } from '../../src/acl/pattern.js';
import { parsePatternText } from '../../src/acl/files.js';

const PASS = AclResult.PASS, FAIL = AclResult.FAIL, MISS = AclResult.MISS;

function reqCtx(h: [string, string][], opts: { method?: string; uri?: string; version?: string } = {}): SmpCtx {
  const c = new SmpCtx(staticConn('10.0.0.1', 4000));
  c.req = { method: opts.method ?? 'GET', uri: opts.uri ?? '/', version: opts.version ?? 'HTTP/1.1', headers: new HttpHeaders(h.map(([name, value]) => ({ name, lname: name.toLowerCase(), value }))) };
  return c;
}
const cx = (name = 't') => ({ where: 'test:1', file: 'test', line: 1, aclName: name });
const words = (line: string) => line.split(' ').filter((w) => w !== '');
const mk = (line: string) => parseAclTest(words(line), cx());
/** Runs `acl a <line>` against a request whose header x is `value` (absent when undefined). */
function run(line: string, value: string | undefined, extra: [string, string][] = []): AclResult {
  return mk(line).exec(reqCtx(value === undefined ? extra : [['x', value], ...extra]));
}
const yes = (line: string, value: string | undefined) => assert.equal(run(line, value), PASS, `${line} / ${value}`);
const no = (line: string, value: string | undefined) => assert.equal(run(line, value), FAIL, `${line} / ${value}`);
function parseErr(line: string): string {
  try { mk(line); } catch (e) { return (e as Error).message; }
  assert.fail(`no error for ${line}`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'acl-test-'));
function file(name: string, text: string): string { const p = path.join(tmp, name); fs.writeFileSync(p, text, 'latin1'); return p; }

describe('default match method and -m', () => {
  test('by output type (7.1 table)', () => {
    assert.equal(defaultMethod('bool'), 'bool');
    assert.equal(defaultMethod('sint'), 'int');
    assert.equal(defaultMethod('ipv4'), 'ip');
    assert.equal(defaultMethod('ipv6'), 'ip');
    assert.equal(defaultMethod('addr'), 'ip');
    assert.equal(defaultMethod('str'), 'str');
    assert.equal(defaultMethod('meth'), 'str');
    assert.equal(defaultMethod('bin'), undefined);
    assert.equal(mk('hdr(x) a').method, 'str');
    assert.equal(mk('hdr_val(x) 1').method, 'int');
    assert.equal(mk('hdr_ip(x) 1.2.3.4').method, 'ip');
    assert.equal(mk('req.proto_http').method, 'bool');
    assert.equal(mk('method GET').method, 'str');
  });
  test('binary samples need -m (2.6 wording)', () => {
    assert.equal(parseErr('req.hdrs foo'), "matching method must be specified first (using '-m') when using a sample fetch of this type ('req.hdrs')");
    assert.equal(mk('req.hdrs -m sub foo').method, 'sub');
    const c = reqCtx([['Foo', 'bar']]);
    assert.equal(mk('req.hdrs -m sub bar').exec(c), PASS);
    assert.equal(mk('req.hdrs -m sub baz').exec(c), FAIL);
  });
  test('-m errors (2.6 wording)', () => {
    assert.equal(parseErr('hdr(x) -m foo a'), "unknown matching method 'foo' when parsing ACL expression");
    assert.equal(parseErr(`hdr(x) -f ${file('m.lst', 'a\n')} -m str a`), "'-m' must only be specified before patterns and files in parsing ACL expression");
    assert.match(parseErr('hdr(x) -m'), /'-m' expects a match method/);
  });
});

describe('match methods', () => {
  test('found', () => {
    yes('hdr(x) -m found', 'v');
    yes('hdr(x) -m found', '');          // present but empty
    no('hdr(x) -m found', undefined);
    yes('req.hdrs -m found', undefined);
    // patterns are ignored (with a warning)
    const warns: string[] = [];
    const t = parseAclTest(words('hdr(x) -m found zzz'), { ...cx('w'), warn: (m) => warns.push(m) });
    assert.equal(t.exec(reqCtx([['x', 'v']])), PASS);
    assert.equal(warns.length, 1);
  });

  test('bool (7.1.1)', () => {
    const c = reqCtx([]);
    assert.equal(mk('req.proto_http').exec(c), PASS);
    assert.equal(mk('req.proto_http').exec(new SmpCtx(staticConn())), FAIL);
    // -m bool on integers: 0 is false (2.6: hdr_val(x) -m bool with 2 → match)
    yes('hdr_val(x) -m bool', '2');
    no('hdr_val(x) -m bool', '0');
    yes('hdr_val(x) -m bool', '-1');
    // on strings (2.6: "abc" → no match, "2" → match, "0" → no)
    no('hdr(x) -m bool', 'abc');
    yes('hdr(x) -m bool', '2');
    no('hdr(x) -m bool', '0');
  });

  test('int (7.1.2): values, ranges, operators', () => {
    yes('hdr_val(x) 5', '5');
    no('hdr_val(x) 5', '6');
    yes('hdr_val(x) 1024:65535', '8080');
    yes('hdr_val(x) 1024:', '70000');
    yes('hdr_val(x) :1023', '80');
    yes('hdr_val(x) 0:1023', '0');
    no('hdr_val(x) 0:1023', '1024');
    yes('hdr_val(x) 1 2 3', '3');          // any of the values
    // operators (2.6): eq, ge, gt, le, lt
    yes('hdr_val(x) eq 3', '3');
    no('hdr_val(x) eq 3', '4');
    yes('hdr_val(x) ge 3', '3');
    no('hdr_val(x) ge 3', '2');
    yes('hdr_val(x) gt 3', '4');
    no('hdr_val(x) gt 3', '3');
    yes('hdr_val(x) le 3', '3');
    no('hdr_val(x) le 3', '4');
    yes('hdr_val(x) lt 3', '2');
    no('hdr_val(x) lt 3', '3');
    yes('hdr_val(x) lt 0', '-1');          // the doc's negative content-length example
    // an operator applies to the values after it, and may appear among them (2.6)
    yes('hdr_val(x) lt 5 gt 10', '3');
    no('hdr_val(x) lt 5 gt 10', '7');
    yes('hdr_val(x) lt 5 gt 10', '12');
    yes('hdr_val(x) 5 gt 10', '5');
    no('hdr_val(x) 5 gt 10', '6');
    // a range given with an operator is kept as a range (2.6)
    yes('hdr_val(x) gt 3:5', '4');
    no('hdr_val(x) gt 3:5', '9');
    // -m int on booleans (false is 0, true is 1) and on strings
    assert.equal(mk('req.proto_http -m int 1').exec(reqCtx([])), PASS);
    assert.equal(mk('req.proto_http -m int 0').exec(reqCtx([])), FAIL);
    yes('hdr(x) -m int 1', '1');
    yes('hdr(x) -m int 0', 'abc');         // 2.6: a string without digits reads as 0
    // bad patterns (2.6 wording)
    assert.match(parseErr('hdr_val(x) abc'), /'abc' is not a number/);
    assert.match(parseErr('hdr_val(x) 5:3'), /'5:3' is not a valid/);
    assert.match(parseErr('hdr_val(x) gt abc'), /'abc' is not a number/);
  });

  test('int patterns (parser)', () => {
    assert.deepEqual(parseIntPattern('7', undefined), { lo: 7, hi: 7 });
    assert.deepEqual(parseIntPattern('3:', undefined), { lo: 3, hi: Infinity });
    assert.deepEqual(parseIntPattern(':3', undefined), { lo: -Infinity, hi: 3 });
    assert.deepEqual(parseIntPattern('3', 'gt'), { lo: 4, hi: Infinity });
    assert.deepEqual(parseIntPattern('3', 'lt'), { lo: -Infinity, hi: 2 });
    assert.throws(() => parseIntPattern(':', undefined));
  });

  test('len', () => {
    yes('hdr(x) -m len 3', 'abc');
    no('hdr(x) -m len 2:4', 'abcde');       // 2.6
    yes('hdr(x) -m len gt 4', 'abcde');
    yes('hdr_len(x) 3', 'abc');
    yes('hdr_val(x) -m len 2', '12');        // 2.6: integer → string "12"
    yes('hdr_ip(x) -m len 8', '10.0.0.1');   // 2.6
    yes('req.hdrs -m len gt 0', undefined);
  });

  test('str, sub, beg, end with -i', () => {
    yes('hdr(x) abc', 'abc');
    no('hdr(x) abc', 'ABC');
    yes('hdr(x) -i abc', 'ABC');
    yes('hdr(x) -i ABC', 'abc');
    yes('hdr(x) -m sub -i BC', 'abcd');      // 2.6
    no('hdr(x) -m sub BC', 'abcd');
    yes('hdr(x) -m beg ab', 'abc');          // 2.6
    no('hdr(x) -m beg bc', 'abc');
    yes('hdr(x) -m end bc', 'abc');          // 2.6
    no('hdr(x) -m end ab', 'abc');
    yes('hdr(x) -m beg abc', 'abc');
    no('hdr(x) -m beg abcd', 'abc');
    yes('hdr(x) -m end -i BC', 'abc');
    yes('hdr(x) -m beg -i AB', 'abc');
    // "-i" after the first pattern is a pattern (2.6)
    no('hdr(x) -m dom B -i', 'a.b.c');
    yes('hdr(x) -m dom -i B', 'a.b.c');
    yes('hdr(x) -m str x -i', '-i');
    yes('hdr(x) -m str -- -i', '-i');        // "--" ends the flags
    yes('hdr(x) -- --', '--');
    // method samples match as strings
    assert.equal(mk('method GET').exec(reqCtx([])), PASS);
    assert.equal(mk('method -m beg G').exec(reqCtx([])), PASS);
    assert.equal(mk('method get').exec(reqCtx([])), FAIL);
    assert.equal(mk('method -i get').exec(reqCtx([])), PASS);
  });

  test('every value of a multi-value header is tried', () => {
    yes('hdr(x) a', 'b, a');                 // 2.6
    no('hdr(x) b,a', 'b,a');                 // 2.6: values are split at commas
    yes('req.hdr(x) a', 'b, a');             // 2.6
    no('req.fhdr(x) a', 'b, a');             // 2.6: full value
    assert.equal(run('hdr(x) c', 'a', [['x', 'c']]), PASS);
  });

  test('reg (7.1.4)', () => {
    yes('hdr(x) -m reg -i ^A.C$', 'abc');    // 2.6
    no('hdr(x) -m reg ^A.C$', 'abc');        // 2.6
    yes('hdr(x) -m reg b', 'abc');
    yes('hdr_reg(x) ^a', 'abc');
    assert.match(parseErr('hdr(x) -m reg ('), /regex '\(' is invalid/);
  });

  test('bin (7.1.5)', () => {
    yes('hdr(x) -m bin 616263', 'abc');      // 2.6
    no('hdr(x) -m bin 616263', 'ABC');       // 2.6
    no('hdr(x) -i -m bin 616263', 'ABC');    // 2.6: -i does not apply
    yes('hdr(x) -m bin 48656C6C6F', 'Hello'); // upper-case hex digits
    assert.throws(() => mk('hdr(x) -m bin 6'));   // 2.6: an even number of hex digits is expected
    assert.throws(() => mk('hdr(x) -m bin zz'));  // 2.6: an hex digit is expected
  });

  test('dir (7.1.3): the documented examples', () => {
    const s = '/images/png/logo/32x32.png';
    for (const p of ['/images', '/images/png', 'images/png', '/png/logo', 'logo/32x32.png', '32x32.png']) yes(`hdr(x) -m dir ${p}`, s);
    no('hdr(x) -m dir 32x32', s);
    // The documentation says "png" does not match; HAProxy 2.6 matches it (it is delimited by
    // slashes in "/images/png/logo"), and so do we.
    yes('hdr(x) -m dir png', s);
    // '?' is a delimiter too (2.6)
    yes('hdr(x) -m dir b', '/a/b?x');
    yes('hdr(x) -m dir x', '/a/b?x');
    yes('hdr(x) -m dir b/', '/a/b/c');       // trailing delimiters of the pattern are ignored (2.6)
    yes('hdr_dir(x) b', '/a/b/c');
    no('hdr(x) -m dir a', '/ab/c');
    yes('hdr(x) -m dir -i IMAGES', s);
  });

  test('dom (7.1.3): the documented examples', () => {
    const s = 'http://www1.dc-eu.example.com:80/blah';
    for (const p of ['http', 'www1', '.www1', 'dc-eu', 'example', 'com', '80', 'dc-eu.example', 'blah', ':www1:']) yes(`hdr(x) -m dom ${p}`, s);
    no('hdr(x) -m dom eu', s);
    no('hdr(x) -m dom dc', s);
    // The documentation lists "dc-eu.example:80" as matching, but the string holds
    // "dc-eu.example.com:80"; HAProxy 2.6 does not match it, and neither do we.
    no('hdr(x) -m dom dc-eu.example:80', s);
    yes('hdr(x) -m dom com', 'a.com:80');    // 2.6
    yes('hdr(x) -m dom b', 'a.b?x');         // 2.6
    yes('hdr_dom(x) b', 'a.b.c');            // 2.6
    no('hdr(x) -m dom b', 'abc');
  });

  test('ip (7.1.6): plain, masks, abbreviated forms', () => {
    yes('hdr_ip(x) 10.0.0.1', '10.0.0.1');
    no('hdr_ip(x) 10.0.0.1', '10.0.0.2');
    yes('hdr_ip(x) 10.0.0.0/8', '10.200.1.1');
    yes('hdr_ip(x) 10.0.0.0/255.0.0.0', '10.9.9.9');   // 2.6
    // abbreviated table of 7.1.6 (2.6)
    yes('hdr_ip(x) 10.12', '10.0.0.12');
    yes('hdr_ip(x) 192.168.1', '192.168.0.1');
    yes('hdr_ip(x) 127.1', '127.0.0.1');
    yes('hdr_ip(x) 192.168.1/22', '192.168.3.200');
    no('hdr_ip(x) 192.168.1/22', '192.168.4.1');
    yes('hdr_ip(x) 127.1/8', '127.9.9.9');
    yes('hdr_ip(x) 10.12/8', '10.200.0.1');
    // parser view of the same table
    const v4 = (t: string) => { const p = parseIpPattern(t); assert.equal(p.k, 'ip4'); return p as { net: number; len: number }; };
    assert.deepEqual(v4('192.168.1'), { k: 'ip4', net: parseIpv4('192.168.0.1'), len: 32 });
    assert.deepEqual(v4('10.12'), { k: 'ip4', net: parseIpv4('10.0.0.12'), len: 32 });
    assert.deepEqual(v4('127.1'), { k: 'ip4', net: parseIpv4('127.0.0.1'), len: 32 });
    assert.deepEqual(v4('192.168.0.1/22'), { k: 'ip4', net: parseIpv4('192.168.0.0'), len: 22 });
    assert.deepEqual(v4('192.168.1/22'), { k: 'ip4', net: parseIpv4('192.168.0.0'), len: 22 });
    assert.deepEqual(v4('10.0.0.12/8'), { k: 'ip4', net: parseIpv4('10.0.0.0'), len: 8 });
    assert.deepEqual(v4('10.12/8'), { k: 'ip4', net: parseIpv4('10.0.0.0'), len: 8 });
    assert.deepEqual(v4('127.1/8'), { k: 'ip4', net: parseIpv4('127.0.0.0'), len: 8 });
    // IPv6 patterns, bit counts only
    yes('hdr_ip(x) 2001:db8::/32', '2001:db8:1::5');    // 2.6
    no('hdr_ip(x) 2001:db8::/32', '2001:db9::1');
    yes('hdr_ip(x) ::1', '::1');
    // invalid patterns (2.6 wording)
    assert.match(parseErr('hdr_ip(x) 1.2.3.256'), /'1\.2\.3\.256' is not a valid IPv4 or IPv6 address/);
    assert.match(parseErr('hdr_ip(x) 10.0.0.0/33'), /is not a valid IPv4 or IPv6 address/);
    assert.match(parseErr('hdr_ip(x) ::1/129'), /is not a valid IPv4 or IPv6 address/);
    assert.match(parseErr('hdr_ip(x) ::1/ffff::'), /is not a valid IPv4 or IPv6 address/);
  });

  test('ip (7.1.6): IPv4 / IPv6 cross matching', () => {
    // tested IPv6, pattern IPv4: ::ffff:IPV4, ::IPV4 and 2002:IPV4:: match (2.6)
    yes('hdr_ip(x) 10.0.0.0/8', '::ffff:10.1.2.3');
    yes('hdr_ip(x) 10.0.0.0/8', '::10.1.2.3');
    yes('hdr_ip(x) 10.0.0.0/8', '2002:a01:203::1');
    no('hdr_ip(x) 10.0.0.0/8', 'fe80::1');
    no('hdr_ip(x) 10.0.0.0/8', '2002:b01:203::1');
    // tested IPv4, pattern IPv6: compared as ::ffff:IPV4 (2.6)
    yes('hdr_ip(x) ::ffff:10.0.0.0/104', '10.1.2.3');
    no('hdr_ip(x) ::ffff:10.0.0.0/104', '11.1.2.3');
    no('hdr_ip(x) ::10.0.0.0/104', '10.1.2.3');
    // string and integer samples with -m ip (2.6)
    yes('hdr(x) -m ip 10.0.0.0/8', '10.1.1.1');
    no('hdr(x) -m ip 10.0.0.0/8', 'nope');
    yes('hdr_val(x) -m ip 10.0.0.1', '167772161');
    // IP samples with other methods (2.6)
    yes('hdr_ip(x) -m str 10.0.0.1', '10.0.0.1');
    yes('hdr_ip(x) -m int 167772161', '10.0.0.1');
    yes('hdr_val(x) -m str 5', '5');
    yes('hdr_val(x) -m beg 1', '12');
  });
});

describe('flags', () => {
  test('unknown flags and patterns starting with "-" (2.6 wording)', () => {
    assert.equal(parseErr('hdr(x) -x a'), "'-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.");
    assert.equal(parseErr('hdr_val(x) -5'), "'-5' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'.");
    yes('hdr_val(x) -- -5', '-5');
    yes('hdr(x) -n -- -abc', '-abc');
  });

  test('-f: pattern files, comments, blank lines, leading blanks, "#" after a blank', () => {
    const f = file('pats.lst', '# comment\n\n   spaced\n #hash\n\tTabbed\ntrail   \r\nlast');
    const l = `hdr(x) -f ${f}`;
    yes(l, 'spaced');        // 2.6
    yes(l, '#hash');         // 2.6
    no(l, '# comment');      // 2.6
    yes(l, 'Tabbed');        // 2.6
    no(l, 'trail');          // 2.6: trailing blanks are part of the pattern
    yes(l, 'last');
    assert.deepEqual(parsePatternText('# c\n\n  a\n #b\nc  \r\n \r\n', false).map((e) => [e.key, e.line]), [['a', 3], ['#b', 4], ['c  ', 5]]);
    assert.match(parseErr(`hdr(x) -f ${path.join(tmp, 'missing.lst')}`), /failed to open pattern file/);
    assert.match(parseErr('hdr(x) -f'), /'-f' expects a file name/);
  });

  test('-i applies to what follows it, not to files before it (7.1 example)', () => {
    const exact = file('exact-ua.lst', 'Mozilla\n');
    const generic = file('generic-ua.lst', 'curl\n');
    const l = `hdr(x) -f ${exact} -i -f ${generic} test`;
    no(l, 'mozilla');        // 2.6
    yes(l, 'Mozilla');       // 2.6
    yes(l, 'CURL');          // 2.6
    yes(l, 'TEST');          // 2.6
  });

  test('several -f and inline values together; a file named twice is read once', () => {
    const a = file('a.lst', 'one\n');
    const b = file('b.lst', 'two\n');
    const l = `hdr(x) -f ${a} -f ${b} three`;
    for (const v of ['one', 'two', 'three']) yes(l, v);
    no(l, 'four');
    const t1 = mk(`hdr(x) -f ${a}`), t2 = mk(`hdr(y) -f ${a}`);
    assert.equal(t1.indexes[0]!.refs[0], t2.indexes[0]!.refs[0]);
    assert.equal(t1.indexes[0]!.refs[0]!.current().length, 1);
  });

  test('-M loads a map file: the keys are the patterns', () => {
    const m = file('m.map', 'k1 v1\n# c\n  k2   value two\n');
    const l = `hdr(x) -M -f ${m}`;
    yes(l, 'k1');
    yes(l, 'k2');
    no(l, 'v1');
    const ref = mk(l).indexes[0]!.refs[0]!;
    assert.deepEqual(ref.current().map((e) => [e.key, e.value]), [['k1', 'v1'], ['k2', 'value two']]);
  });

  test('-u sets the unique id of the inline list; an id is used once', () => {
    const t = mk('hdr(x) -u 987001 a b');
    const ref = patternRefs.byUid(987001)!;
    assert.ok(ref);
    assert.equal(t.indexes[0]!.refs[0], ref);
    assert.deepEqual(ref.current().map((e) => e.key), ['a', 'b']);
    assert.match(parseErr('hdr(x) -u 987001 c'), /unique id 987001 is already used/);
    assert.match(parseErr('hdr(x) -u abc c'), /'-u' expects a unique numeric id/);
  });
});

describe('ACL keywords (fetch + method)', () => {
  test('hdr_* aliases use their method alone', () => {
    yes('hdr_beg(x) ab', 'abc');             // 2.6
    yes('hdr_sub(x) b', 'abc');
    yes('hdr_end(x) c', 'abc');
    yes('hdr_len(x) 3', 'abc');
    yes('hdr_cnt(x) 2', 'a,b');
    assert.equal(mk('hdr_beg(host) www.').method, 'beg');
    const c = reqCtx([['Host', 'www.example.com']]);
    // the four equivalent forms of 7.1
    for (const l of ['hdr_beg(host) www.', 'hdr_beg(host) -m beg www.', 'hdr_dom(host) -m beg www.', 'hdr(host) -m beg www.']) {
      assert.equal(mk(l).exec(c), PASS, l);
    }
    assert.equal(mk('hdr_beg(host) -i WWW.').exec(c), PASS);
  });

  test('after a converter the alias method is ignored: the output type decides', () => {
    no('hdr_beg(x),lower ab', 'abc');        // 2.6: exact string match
    yes('hdr_beg(x),lower abc', 'ABC');      // 2.6
    yes('hdr_beg(x) -m end bc', 'abc');      // 2.6: -m overrides the alias
    assert.equal(mk('hdr_beg(x),lower a').method, 'str');
    assert.equal(mk('hdr_beg(x),length 3').method, 'int');
    assert.equal(mk('hdr_dom(x),lower -m dom b').method, 'dom');
    yes('hdr_beg(x),length 3', 'abc');
  });

  test('path/url aliases', () => {
    const c = reqCtx([], { uri: '/static/img/a.png?x=1' });
    assert.equal(mk('path_beg /static').exec(c), PASS);
    assert.equal(mk('path_end .png').exec(c), PASS);
    assert.equal(mk('path_dir img').exec(c), PASS);
    assert.equal(mk('path_reg ^/s.*png$').exec(c), PASS);
    assert.equal(mk('url_sub x=1').exec(c), PASS);
    assert.equal(mk('path_beg /img').exec(c), FAIL);
  });
});

describe('named ACLs and conditions (7.2)', () => {
  function env(lines: [string, string][]): CondParseCtx {
    const acls = new Map<string, Acl>();
    for (const [name, line] of lines) {
      let a = acls.get(name);
      if (!a) { a = new Acl(name); acls.set(name, a); }
      a.tests.push(parseAclTest(words(line), cx(name)));
    }
    return { ...cx(), acls };
  }
  const cond = (e: CondParseCtx, text: string) => parseCond(words(text), e);

  test('lines of a named ACL are OR-ed (7.2 url_static example)', () => {
    const e = env([
      ['url_static', 'path_beg /static /images /img /css'],
      ['url_static', 'path_end .gif .png .jpg .css .js'],
      ['host_www', 'hdr_beg(host) -i www'],
      ['host_static', 'hdr_beg(host) -i img. video. download. ftp.'],
    ]);
    const st = cond(e, 'if host_static or host_www url_static');
    const www = cond(e, 'if host_www');
    const r = (host: string, uri: string) => reqCtx([['Host', host]], { uri });
    assert.equal(st.exec(r('img.example.com', '/x')), PASS);
    assert.equal(st.exec(r('WWW.example.com', '/a/b.js')), PASS);
    assert.equal(st.exec(r('www.example.com', '/static/a')), PASS);
    assert.equal(st.exec(r('www.example.com', '/index.html')), FAIL);
    assert.equal(www.exec(r('www.example.com', '/index.html')), PASS);
    assert.equal(st.exec(r('other.example.com', '/static/a')), FAIL);
  });

  test('implicit AND, or / ||, !, unless', () => {
    const e = env([['a', 'hdr(a) 1'], ['b', 'hdr(b) 1']]);
    const r = (a: boolean, b: boolean) => reqCtx([...(a ? [['a', '1']] : []), ...(b ? [['b', '1']] : [])] as [string, string][]);
    const table: [string, (a: boolean, b: boolean) => boolean][] = [
      ['if a b', (a, b) => a && b],
      ['if a or b', (a, b) => a || b],
      ['if a || b', (a, b) => a || b],
      ['if !a', (a) => !a],
      ['if ! a', (a) => !a],
      ['if a !b', (a, b) => a && !b],
      ['if !a or !b', (a, b) => !a || !b],
      ['unless a', (a) => !a],
      ['unless a b', (a, b) => !(a && b)],
      ['unless a or b', (a, b) => !(a || b)],
    ];
    for (const [text, f] of table) {
      const c = cond(e, text);
      for (const a of [false, true]) for (const b of [false, true]) {
        assert.equal(c.exec(r(a, b)), f(a, b) ? PASS : FAIL, `${text} a=${a} b=${b}`);
      }
    }
  });

  test('anonymous ACLs { }', () => {
    const e = env([]);
    const c = cond(e, 'if METH_POST { req.hdr_cnt(Content-length) eq 0 }');
    assert.equal(c.exec(reqCtx([], { method: 'POST' })), PASS);
    assert.equal(c.exec(reqCtx([['Content-Length', '3']], { method: 'POST' })), FAIL);
    assert.equal(c.exec(reqCtx([], { method: 'GET' })), FAIL);
    const d = cond(e, 'if { hdr(a) 1 } || !{ hdr(b) 1 }');
    assert.equal(d.exec(reqCtx([['b', '1']])), FAIL);
    assert.equal(d.exec(reqCtx([])), PASS);
    assert.equal(d.exec(reqCtx([['a', '1'], ['b', '1']])), PASS);
  });

  test('condition errors', () => {
    const e = env([['a', 'hdr(a) 1']]);
    assert.throws(() => cond(e, 'if zz'), /no such ACL : 'zz'/);
    assert.throws(() => cond(e, 'if'), /missing condition/);
    assert.throws(() => cond(e, 'when a'), /conditions must start with either 'if' or 'unless'/);
    assert.throws(() => cond(e, 'if a or'), /missing ACL after 'or'/);
    assert.throws(() => cond(e, 'if or a'), /missing ACL before 'or'/);
    assert.throws(() => cond(e, 'if { hdr(a) 1'), /missing closing '}'/);
    assert.throws(() => cond(e, 'if { }'), /empty anonymous ACL/);
    assert.throws(() => cond(e, 'if { req.hdrs x }'), /matching method must be specified/);
  });

  test('"will never match" warning for fetches not available at that place', () => {
    const warns: string[] = [];
    const e = { ...env([['resp', 'res.hdr(x) 1']]), use: 3, useLabel: 'http-request', warn: (m: string) => warns.push(m) };
    cond(e, 'if resp');
    assert.deepEqual(warns, ["acl 'resp' will never match because it only involves keywords that are incompatible with 'http-request'"]);
  });
});

describe('predefined ACLs (7.4)', () => {
  const e: CondParseCtx = { ...cx(), acls: new Map() };
  const pre = (name: string, c: SmpCtx) => parseCond(['if', name], e).exec(c);

  test('HTTP, HTTP_1.0 ... HTTP_3.0', () => {
    const c11 = reqCtx([], { version: 'HTTP/1.1' });
    const c10 = reqCtx([], { version: 'HTTP/1.0' });
    assert.equal(pre('HTTP', c11), PASS);
    assert.equal(pre('HTTP', new SmpCtx(staticConn())), FAIL);
    assert.equal(pre('HTTP_1.1', c11), PASS);
    assert.equal(pre('HTTP_1.1', c10), FAIL);
    assert.equal(pre('HTTP_1.0', c10), PASS);
    assert.equal(pre('HTTP_2.0', c11), FAIL);
    assert.equal(pre('HTTP_2.0', reqCtx([], { version: 'HTTP/2.0' })), PASS);
    assert.equal(pre('HTTP_3.0', c11), FAIL);
  });

  test('HTTP_CONTENT, HTTP_URL_ABS, HTTP_URL_SLASH, HTTP_URL_STAR', () => {
    assert.equal(pre('HTTP_CONTENT', reqCtx([['Content-Length', '5']])), PASS);
    assert.equal(pre('HTTP_CONTENT', reqCtx([['Content-Length', '0']])), FAIL);
    assert.equal(pre('HTTP_CONTENT', reqCtx([])), FAIL);
    assert.equal(pre('HTTP_URL_ABS', reqCtx([], { uri: 'http://a/b' })), PASS);
    assert.equal(pre('HTTP_URL_ABS', reqCtx([], { uri: '/b' })), FAIL);
    assert.equal(pre('HTTP_URL_SLASH', reqCtx([], { uri: '/b' })), PASS);
    assert.equal(pre('HTTP_URL_SLASH', reqCtx([], { uri: '*' })), FAIL);
    assert.equal(pre('HTTP_URL_STAR', reqCtx([], { uri: '*', method: 'OPTIONS' })), PASS);
    assert.equal(pre('HTTP_URL_STAR', reqCtx([], { uri: '/' })), FAIL);
  });

  test('METH_*', () => {
    const meths = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'TRACE'];
    for (const acl of meths) {
      for (const m of meths) {
        const expect = m === acl || (acl === 'GET' && m === 'HEAD');
        assert.equal(pre(`METH_${acl}`, reqCtx([], { method: m })), expect ? PASS : FAIL, `METH_${acl} ${m}`);
      }
    }
    assert.equal(pre('METH_GET', reqCtx([], { method: 'get' })), FAIL);
  });

  test('the 7.2 example: deny rules built from predefined ACLs', () => {
    const e2: CondParseCtx = { ...cx(), acls: new Map([['missing_cl', (() => { const a = new Acl('missing_cl'); a.tests.push(mk('req.hdr_cnt(Content-length) eq 0')); return a; })()]]) };
    const c1 = parseCond(words('if HTTP_URL_STAR !METH_OPTIONS || METH_POST missing_cl'), e2);
    assert.equal(c1.exec(reqCtx([], { uri: '*', method: 'GET' })), PASS);
    assert.equal(c1.exec(reqCtx([], { uri: '*', method: 'OPTIONS' })), FAIL);
    assert.equal(c1.exec(reqCtx([], { method: 'POST' })), PASS);
    assert.equal(c1.exec(reqCtx([['Content-Length', '1']], { method: 'POST' })), FAIL);
    const c2 = parseCond(words('unless METH_GET or METH_POST or METH_OPTIONS'), e2);
    assert.equal(c2.exec(reqCtx([], { method: 'PUT' })), PASS);
    assert.equal(c2.exec(reqCtx([], { method: 'HEAD' })), FAIL);
  });

  test('each name is known; those whose fetch is missing are refused clearly', () => {
    const all = ['FALSE', 'HTTP', 'HTTP_1.0', 'HTTP_1.1', 'HTTP_2.0', 'HTTP_3.0', 'HTTP_CONTENT', 'HTTP_URL_ABS', 'HTTP_URL_SLASH',
      'HTTP_URL_STAR', 'LOCALHOST', 'METH_CONNECT', 'METH_DELETE', 'METH_GET', 'METH_HEAD', 'METH_OPTIONS', 'METH_POST',
      'METH_PUT', 'METH_TRACE', 'RDP_COOKIE', 'REQ_CONTENT', 'TRUE', 'WAIT_END'];
    assert.deepEqual([...PREDEFINED_ACL_NAMES].sort(), all.sort());
    const fetchOf: Record<string, string> = { TRUE: 'always_true', FALSE: 'always_false', LOCALHOST: 'src', RDP_COOKIE: 'req.rdp_cookie_cnt', REQ_CONTENT: 'req.len', WAIT_END: 'wait_end' };
    for (const [name, f] of Object.entries(fetchOf)) {
      if (fetchRegistry.has(f)) {
        assert.ok(predefinedAcl(name), name);
      } else {
        assert.equal(predefinedAcl(name), undefined);
        assert.throws(() => parseCond(['if', name], e), new RegExp(`predefined ACL '${name}' is not supported yet`));
      }
    }
    if (fetchRegistry.has('always_true')) assert.equal(pre('TRUE', reqCtx([])), PASS);
    if (fetchRegistry.has('always_false')) assert.equal(pre('FALSE', reqCtx([])), FAIL);
    if (fetchRegistry.has('src')) {
      assert.equal(pre('LOCALHOST', new SmpCtx(staticConn('127.0.0.5'))), PASS);
      assert.equal(pre('LOCALHOST', new SmpCtx(staticConn('::1'))), PASS);
      assert.equal(pre('LOCALHOST', new SmpCtx(staticConn('10.0.0.1'))), FAIL);
    }
    // a named ACL shadows a predefined one
    const own = new Acl('HTTP');
    own.tests.push(mk('hdr(x) 1'));
    assert.equal(parseCond(['if', 'HTTP'], { ...cx(), acls: new Map([['HTTP', own]]) }).exec(reqCtx([])), FAIL);
  });
});

describe('tri-state evaluation (contents that may still change)', () => {
  function changing(v: string | undefined, mayChange: boolean): FetchDef {
    return {
      name: 'test_changing', args: [], argText: '', out: 'str', use: new Array(22).fill(true),
      fn: (_a, ctx) => { if (v === undefined) { if (mayChange) ctx.wantMore = true; return undefined; } return { t: 'str', v, mayChange }; },
    };
  }
  function aclOf(v: string | undefined, mayChange: boolean, pat: string, conv?: string): Acl {
    const idx = new PatternIndex('str', false);
    const ref = new PatternRef(`tri-${Math.random()}`, -1, false, 'inline');
    ref.add(pat, undefined);
    idx.attach(ref);
    const convs = conv ? [{ def: converterRegistry.get(conv)!, args: [] }] : [];
    const a = new Acl('tri');
    a.tests.push(new AclTest(new SampleExpr('t', changing(v, mayChange), [], convs), 'str', [idx], 'w'));
    return a;
  }
  const c = () => reqCtx([]);

  test('a test answers MISS when the sample may change and does not match yet', () => {
    assert.equal(aclOf('ab', true, 'abc').exec(c()), MISS);
    assert.equal(aclOf('abc', true, 'abc').exec(c()), PASS);
    assert.equal(aclOf('ab', false, 'abc').exec(c()), FAIL);
    assert.equal(aclOf(undefined, true, 'abc').exec(c()), MISS);   // not there yet
    assert.equal(aclOf(undefined, false, 'abc').exec(c()), FAIL);
    // through a converter too
    assert.equal(aclOf('AB', true, 'abc', 'lower').exec(c()), MISS);
    assert.equal(aclOf('ABC', true, 'abc', 'lower').exec(c()), PASS);
  });

  test('MISS in conditions: AND, OR, negation, unless', () => {
    const miss = aclOf('x', true, 'y'), pass = aclOf('y', false, 'y'), fail = aclOf('x', false, 'y');
    const C = (unless: boolean, groups: [Acl, boolean][][]) => new Cond(unless, groups.map((g) => g.map(([acl, neg]) => ({ acl, neg }))), 'w').exec(c());
    assert.equal(C(false, [[[miss, false], [pass, false]]]), MISS);
    assert.equal(C(false, [[[miss, false], [fail, false]]]), FAIL);   // FAIL wins in an AND
    assert.equal(C(false, [[[fail, false], [miss, false]]]), FAIL);
    assert.equal(C(false, [[[miss, false]], [[pass, false]]]), PASS); // PASS wins in an OR
    assert.equal(C(false, [[[miss, false]], [[fail, false]]]), MISS);
    assert.equal(C(false, [[[miss, true]]]), MISS);                    // !MISS is MISS
    assert.equal(C(true, [[[miss, false]]]), MISS);                    // unless MISS is MISS
    assert.equal(C(true, [[[fail, false]]]), PASS);
    assert.equal(C(false, [[[fail, true]]]), PASS);
    // a named ACL: one line passing wins over another missing
    const both = new Acl('b');
    both.tests.push(...miss.tests, ...pass.tests);
    assert.equal(both.exec(c()), PASS);
    const mf = new Acl('mf');
    mf.tests.push(...miss.tests, ...fail.tests);
    assert.equal(mf.exec(c()), MISS);
  });
});

describe('PatternRef / PatternIndex', () => {
  let uid = 990000;
  const newRef = (isMap = false) => new PatternRef(`ref-${uid}`, uid++, isMap, 'inline');

  test('runtime changes are seen at once by an attached index', () => {
    const ref = newRef();
    const idx = new PatternIndex('str', false);
    idx.attach(ref);
    assert.equal(idx.match(smpStr('a')), undefined);
    const e = ref.add('a', undefined);
    assert.equal(idx.match(smpStr('a')), e);
    ref.add('a', undefined);
    assert.equal(idx.size, 2);
    assert.equal(ref.removeKey('a'), 2);
    assert.equal(idx.match(smpStr('a')), undefined);
    assert.equal(ref.removeKey('a'), 0);
    const b = ref.add('b', undefined);
    assert.equal(ref.removeSeq(b.seq), true);
    assert.equal(idx.match(smpStr('b')), undefined);
    ref.add('c', undefined);
    ref.clear();
    assert.equal(idx.match(smpStr('c')), undefined);
    assert.equal(idx.size, 0);
  });

  test('two indexes with their own method and case flag over one ref', () => {
    const ref = newRef();
    const exact = new PatternIndex('str', false), icase = new PatternIndex('str', true), beg = new PatternIndex('beg', false);
    for (const i of [exact, icase, beg]) i.attach(ref);
    ref.add('Abc', undefined);
    assert.ok(exact.match(smpStr('Abc')));
    assert.equal(exact.match(smpStr('abc')), undefined);
    assert.ok(icase.match(smpStr('ABC')));
    assert.ok(beg.match(smpStr('Abcdef')));
  });

  test('setValue on maps, values seen through the matching entry', () => {
    const ref = newRef(true);
    const idx = new PatternIndex('str', false);
    idx.attach(ref);
    ref.add('k', 'v1');
    assert.equal(idx.match(smpStr('k'))!.value, 'v1');
    assert.equal(ref.setValue('k', 'v2'), 1);
    assert.equal(idx.match(smpStr('k'))!.value, 'v2');
    assert.equal(ref.setValue('nope', 'x'), 0);
  });

  test('prepare / commit: a new generation replaces the old one at commit', () => {
    const ref = newRef(true);
    const idx = new PatternIndex('str', false);
    idx.attach(ref);
    ref.add('old', 'o');
    const gen = ref.prepare();
    ref.add('new', 'n', gen);
    assert.ok(idx.match(smpStr('old')));
    assert.equal(idx.match(smpStr('new')), undefined);    // not visible before commit
    assert.equal(ref.commit(gen), true);
    assert.equal(idx.match(smpStr('old')), undefined);
    assert.equal(idx.match(smpStr('new'))!.value, 'n');
    assert.equal(ref.commit(gen), false);                  // already current
    const g2 = ref.prepare();
    ref.add('x', 'x', g2);
    ref.clear(g2);
    assert.equal(ref.commit(g2), true);
    assert.equal(idx.size, 0);
    assert.equal(ref.commit(g2 + 5), false);               // never prepared
  });

  test('longest prefix wins for ip and beg, whatever the order', () => {
    const ref = newRef(true);
    const ip = new PatternIndex('ip', false);
    ip.attach(ref);
    ref.add('10.0.0.0/8', 'short');
    ref.add('10.1.0.0/16', 'long');
    ref.add('0.0.0.0/0', 'any');
    ref.add('2001:db8::/32', 'v6short');
    ref.add('2001:db8:1::/48', 'v6long');
    const ipv = (s: string) => ip.match(smpIpv4(parseIpv4(s)!))?.value;
    assert.equal(ipv('10.1.2.3'), 'long');
    assert.equal(ipv('10.2.0.1'), 'short');
    assert.equal(ipv('11.0.0.1'), 'any');
    assert.equal(ip.match(smpIpv6(parseIpv6('2001:db8:1::9')!))!.value, 'v6long');
    assert.equal(ip.match(smpIpv6(parseIpv6('2001:db8:2::9')!))!.value, 'v6short');
    assert.equal(ip.match(smpStr('10.1.9.9'))!.value, 'long');   // a string sample is cast
    assert.equal(ip.match(smpInt(167837961))!.value, 'long');   // 10.1.2.9 as an integer
    ref.removeKey('10.1.0.0/16');
    assert.equal(ipv('10.1.2.3'), 'short');

    const bref = newRef(true);
    const beg = new PatternIndex('beg', false);
    beg.attach(bref);
    bref.add('/api/v1', 'v1');
    bref.add('/', 'root');
    bref.add('/api', 'api');
    assert.equal(beg.match(smpStr('/api/v1/users'))!.value, 'v1');
    assert.equal(beg.match(smpStr('/api/v2'))!.value, 'api');
    assert.equal(beg.match(smpStr('/x'))!.value, 'root');
    assert.equal(beg.match(smpStr(''))?.value, undefined);
  });

  test('first match in declaration order for list methods and duplicates', () => {
    const ref = newRef(true);
    const sub = new PatternIndex('sub', false), end = new PatternIndex('end', false), reg = new PatternIndex('reg', false), str = new PatternIndex('str', false);
    for (const i of [sub, end, reg, str]) i.attach(ref);
    ref.add('b', 'first');
    ref.add('ab', 'second');
    ref.add('b', 'third');
    assert.equal(sub.match(smpStr('xab'))!.value, 'first');
    assert.equal(end.match(smpStr('xab'))!.value, 'first');
    assert.equal(reg.match(smpStr('xab'))!.value, 'first');
    assert.equal(str.match(smpStr('b'))!.value, 'first');   // duplicate keys: the first one
    const ints = newRef(true);
    const idx = new PatternIndex('int', false);
    idx.attach(ints);
    ints.add('1:10', 'wide');
    ints.add('5', 'five');
    assert.equal(idx.match(smpInt(5))!.value, 'wide');
  });

  test('found and bool need no entries; bin compares bytes', () => {
    assert.equal(new PatternIndex('found', false).match(smpStr('')), MATCH_ONLY);
    assert.equal(new PatternIndex('bool', false).match(smpInt(0)), undefined);
    assert.equal(new PatternIndex('bool', false).match(smpInt(7)), MATCH_ONLY);
    const ref = newRef();
    const bin = new PatternIndex('bin', false);
    bin.attach(ref);
    ref.add('00ff', undefined);
    assert.ok(bin.match(smpBin(Buffer.from([0, 255]))));
    assert.equal(bin.match(smpBin(Buffer.from([0, 254]))), undefined);
  });

  test('bad entries added at run time are reported, not indexed', () => {
    const ref = newRef();
    const idx = new PatternIndex('ip', false);
    idx.attach(ref);
    ref.add('not-an-ip', undefined);
    assert.equal(idx.size, 0);
    assert.equal(idx.errors.length, 1);
  });
});
