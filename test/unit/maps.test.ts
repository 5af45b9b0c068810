// Map converters: file loading, every match method and output, defaults, map_regm captures,
// configuration errors, runtime changes seen at once, and the lookup time on big maps.
// Expected values were taken from haproxy 2.6 (same files, lf-string output through curl) unless
// a comment says otherwise; _key outputs (3.2 only) follow the 3.2 documentation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/sample/index.js';
import { parseSampleExpr } from '../../src/sample/expr.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { patternRefs } from '../../src/acl/pattern.js';
import { refExprs } from '../../src/acl/ref-users.js';
import { formatIpv4, formatIpv6, type Sample } from '../../src/sample/types.js';
import { regmTemplate, parseMapInt, parseMapIp } from '../../src/sample/converters/maps.js';
import { fetchRegistry, registerFetch } from '../../src/sample/registry.js';

// constant fetches to feed the converters (registered here only when the branch lacks them)
if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => ({ t: 'str', v: a[0] }) });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => ({ t: 'sint', v: a[0] }) });
if (!fetchRegistry.has('ipv4')) registerFetch('ipv4', { fn: (a) => ({ t: 'ipv4', v: a[0] }) });

let dir = '';
let n = 0;
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-maps-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Writes a map file with a unique name; returns its path. */
function mapFile(text: string): string {
  const f = path.join(dir, `m${n++}.map`);
  fs.writeFileSync(f, text);
  return f;
}

const ctx = new SmpCtx(staticConn());

function ev(expr: string): Sample | undefined {
  return parseSampleExpr(expr, { where: 'test.cfg:1' }).eval(ctx);
}
/** The output as text ('<none>' when the conversion fails). */
function out(expr: string): string {
  const s = ev(expr);
  if (s === undefined) return '<none>';
  if (s.t === 'ipv4') return `ipv4:${formatIpv4(s.v)}`;
  if (s.t === 'ipv6') return `ipv6:${formatIpv6(s.v)}`;
  return `${s.t}:${String(s.v)}`;
}
function parseErr(expr: string): string {
  try { parseSampleExpr(expr, { where: 'test.cfg:7' }); } catch (e) { return (e as Error).message; }
  return '<ok>';
}

const S_MAP = 'abc  str-abc\nwww.example.com dom-val\n/img  dir-val\n.png end-val\n';

describe('string match methods', () => {
  let f = '';
  before(() => { f = mapFile(S_MAP); });
  const cases: [string, Record<string, string>][] = [
    ['abc', { map: 'str-abc', map_beg: 'str-abc', map_sub: 'str-abc', map_dir: 'str-abc', map_dom: 'str-abc', map_end: 'str-abc' }],
    ['abcd', { map: 'D', map_beg: 'str-abc', map_sub: 'str-abc', map_dir: 'D', map_dom: 'D', map_end: 'D' }],
    ['a.www.example.com/x', { map: 'D', map_beg: 'D', map_sub: 'dom-val', map_dir: 'D', map_dom: 'dom-val', map_end: 'D' }],
    ['/img/x.png', { map: 'D', map_beg: 'dir-val', map_sub: 'dir-val', map_dir: 'dir-val', map_dom: 'dir-val', map_end: 'end-val' }],
    ['x/img/', { map: 'D', map_beg: 'D', map_sub: 'dir-val', map_dir: 'dir-val', map_dom: 'dir-val', map_end: 'D' }],
  ];
  // map_end values come from haproxy 2.6 with map_end alone on the file: 2.6 mixes up map_end
  // with map_sub when both use the same file (its `get map` lists no "end" use then).
  for (const [input, exp] of cases) {
    it(`"${input}"`, () => {
      for (const [conv, v] of Object.entries(exp)) assert.equal(out(`str(${input}),${conv}(${f},D)`), `str:${v}`, conv);
    });
  }
  it('map is map_str; no default: the conversion fails', () => {
    assert.equal(out(`str(abc),map_str(${f})`), 'str:str-abc');
    assert.equal(out(`str(zzz),map(${f})`), '<none>');
    assert.equal(out(`str(ABC),map(${f},D)`), 'str:D', 'case-sensitive');
  });
  it('_key outputs return the key (3.2 doc)', () => {
    assert.equal(out(`str(abcd),map_beg_key(${f})`), 'str:abc');
    assert.equal(out(`str(/img/x.png),map_end_key(${f})`), 'str:.png');
    assert.equal(out(`str(zz),map_str_key(${f})`), '<none>');
    assert.match(parseErr(`str(a),map_str_key(${f},x)`), /end of arguments expected/);
  });
});

describe('file format', () => {
  it('comments, blanks, value with inner spaces and trailing blanks removed', () => {
    const f = mapFile('# comment\nfoo   bar baz  \n  k2\tv2\n\n#x y\nempty\n');
    assert.equal(out(`str(foo),map(${f})`), 'str:bar baz');
    assert.equal(out(`str(k2),map(${f})`), 'str:v2');
    assert.equal(out(`str(#x),map(${f},D)`), 'str:D');
    assert.equal(out(`str(empty),map(${f},D)`), 'str:');
  });
  it('first of duplicate keys wins', () => {
    const f = mapFile('k one\nk two\n');
    assert.equal(out(`str(k),map(${f})`), 'str:one');
  });
  it('missing file: configuration error; opt@ tolerates it; file@ is stripped', () => {
    assert.equal(parseErr('str(a),map(/nonexistent/x.map)'), "invalid args in converter 'map' : failed to open pattern file </nonexistent/x.map>");
    assert.equal(out('str(a),map(opt@/nonexistent/y.map,D)'), 'str:D');
    const f = mapFile('a 1\n');
    assert.equal(out(`str(a),map(file@${f})`), 'str:1');
    assert.equal(patternRefs.byFile(f)!.usedBy.length, 1, 'file@ names the same list as the bare name');
    assert.equal(out(`str(a),map(${f})`), 'str:1');
    assert.equal(patternRefs.byFile(f)!.usedBy.length, 2);
  });
  it('virt@ names an empty list filled at run time', () => {
    assert.equal(out('str(a),map(virt@vm1,D)'), 'str:D');
    patternRefs.byFile('virt@vm1')!.add('a', 'A');
    assert.equal(out('str(a),map(virt@vm1,D)'), 'str:A');
  });
  it('a file used as one-column list cannot be a map', () => {
    const f = mapFile('a 1\n');
    patternRefs.get(f, false, 'file');
    assert.equal(parseErr(`str(a),map(${f})`), `invalid args in converter 'map' : The file "${f}" is already used as one column file and cannot be used by as two column file.`);
  });
  it('description lists every user', () => {
    const f = mapFile('a 1\n');
    parseSampleExpr(`str(a),map(${f})`, { where: 'h.cfg:14' });
    parseSampleExpr(`str(a),map_str_int(${f})`, { where: 'h.cfg:15' });
    assert.equal(patternRefs.byFile(f)!.displayName, `pattern loaded from file '${f}' used by map at file 'h.cfg' line 14, by map at file 'h.cfg' line 15`);
    // one use per match method and output type
    assert.deepEqual(refExprs(patternRefs.byFile(f)!).map((x) => `${x.matchName}/${x.outType}`), ['str/str', 'str/sint']);
  });
});

describe('integer outputs', () => {
  it('values: sign, empty, clamping; default', () => {
    const f = mapFile('a 1\nb -5\nc +7\ne 99999999999999999999\nf  \ng -99999999999999999999\nh 12 \n');
    assert.equal(out(`str(a),map_str_int(${f},-1)`), 'sint:1');
    assert.equal(out(`str(b),map_str_int(${f},-1)`), 'sint:-5');
    assert.equal(out(`str(c),map_str_int(${f},-1)`), 'sint:7');
    assert.equal(out(`str(e),map_str_int(${f},-1)`), 'sint:9223372036854775807');
    assert.equal(out(`str(f),map_str_int(${f},-1)`), 'sint:0');
    assert.equal(out(`str(g),map_str_int(${f},-1)`), 'sint:-9223372036854775808');
    assert.equal(out(`str(h),map_str_int(${f},-1)`), 'sint:12');
    assert.equal(out(`str(zz),map_str_int(${f},-1)`), 'sint:-1');
    assert.equal(out(`str(zz),map_str_int(${f})`), '<none>');
  });
  it('a bad value is a configuration error naming the line', () => {
    const f = mapFile('a 1\nb 2\nd 0x10\n');
    assert.equal(parseErr(`str(a),map_str_int(${f})`), `invalid args in converter 'map_str_int' : unable to parse '0x10' at line 3 of file '${f}'`);
    assert.equal(out(`str(d),map_str(${f})`), 'str:0x10', 'the same file is fine for string output');
    for (const v of ['1.5', '1e3', '12abc']) assert.equal(parseMapInt(v), undefined, v);
    assert.match(parseErr(`str(a),map_str_int(${f},abc)`), /failed to parse 'abc' as type 'integer'/);
  });
  it('map_int: ranges, list order', () => {
    const f = mapFile('1:10 small\n11 eleven\n20: big\n');
    assert.equal(out(`int(5),map_int(${f},no)`), 'str:small');
    assert.equal(out(`int(11),map_int(${f},no)`), 'str:eleven');
    assert.equal(out(`int(12),map_int(${f},no)`), 'str:no');
    assert.equal(out(`int(25),map_int(${f},no)`), 'str:big');
    assert.equal(out(`str(11),map_int(${f},no)`), 'str:eleven', 'string input cast to integer');
    const g = mapFile('1 100\n5 500\n');
    assert.equal(out(`int(5),map_int_int(${g},3)`), 'sint:500');
    assert.equal(out(`int(7),map_int_int(${g},3)`), 'sint:3');
  });
  it('a bad key is a configuration error naming the line', () => {
    const f = mapFile('1 x\na 1\n');
    assert.equal(parseErr(`int(1),map_int(${f})`), `invalid args in converter 'map_int' : 'a' is not a number at line 2 of file '${f}'`);
  });
});

describe('address outputs and map_ip', () => {
  it('values parsed as IPv4 (leading quad) or IPv6', () => {
    const f = mapFile('a 1.2.3.4\nb ::1\nc 10.0.0.1\nd 10.1.2.3/8\ne ::ffff:1.2.3.4\n');
    assert.equal(out(`str(a),map_str_ip(${f},9.9.9.9)`), 'ipv4:1.2.3.4');
    assert.equal(out(`str(b),map_str_ip(${f},9.9.9.9)`), 'ipv6:::1');
    assert.equal(out(`str(d),map_str_ip(${f},9.9.9.9)`), 'ipv4:10.1.2.3');
    assert.equal(out(`str(e),map_str_ip(${f},9.9.9.9)`), 'ipv6:::ffff:1.2.3.4');
    assert.equal(out(`str(z),map_str_ip(${f},9.9.9.9)`), 'ipv4:9.9.9.9');
    assert.equal(out(`str(z),map_str_ip(${f},2001:db8::2)`), 'ipv6:2001:db8::2');
    for (const v of ['10.1', '1.2.3', 'foo.bar', '1.2.3.256', '::1/64', '+']) assert.equal(parseMapIp(v), undefined, v);
    for (const v of ['1.2.3.4x', '001.2.3.4', '1.2.3.4/255.0.0.0']) assert.notEqual(parseMapIp(v), undefined, v);
  });
  it('bad values and defaults are configuration errors', () => {
    const f = mapFile('a 1.2.3.4\nd 10.1\n');
    assert.equal(parseErr(`str(a),map_str_ip(${f})`), `invalid args in converter 'map_str_ip' : unable to parse '10.1' at line 2 of file '${f}'`);
    const g = mapFile('a 1.2.3.4\n');
    assert.equal(parseErr(`str(a),map_str_ip(${g},notip)`), "invalid args in converter 'map_str_ip' : map: cannot parse default ip <notip>.");
  });
  it('longest prefix wins; IPv4-mapped IPv6 input; IPv6 networks', () => {
    const f = mapFile('10.0.0.0/8 net10\n10.1.0.0/16 net10-1\n::1 loop6\n192.168.0.1 host\n');
    assert.equal(out(`str(10.1.2.3),map_ip(${f},nonet)`), 'str:net10-1');
    assert.equal(out(`str(10.2.3.4),map_ip(${f},nonet)`), 'str:net10');
    assert.equal(out(`str(::1),map_ip(${f},nonet)`), 'str:loop6');
    assert.equal(out(`str(::ffff:10.1.1.1),map_ip(${f},nonet)`), 'str:net10-1');
    assert.equal(out(`str(192.168.0.1),map_ip(${f},nonet)`), 'str:host');
    assert.equal(out(`str(1.2.3.4),map_ip(${f},nonet)`), 'str:nonet');
    assert.equal(out(`str(abc),map_ip(${f},nonet)`), '<none>', 'input not an address: the cast fails before the map');
    assert.equal(out(`ipv4(10.9.9.9),map_ip_key(${f})`), 'str:10.0.0.0/8');
    const g = mapFile('10.0.0.0/8 1\n');
    assert.equal(out(`ipv4(10.9.9.9),map_ip_int(${g},0)`), 'sint:1');
    const h = mapFile('10.0.0.0/8 2001:db8::1\n');
    assert.equal(out(`ipv4(10.9.9.9),map_ip_ip(${h})`), 'ipv6:2001:db8::1');
  });
});

describe('regular expressions', () => {
  it('map_reg returns the value as is; map_regm substitutes groups', () => {
    const f = mapFile('^a(b)?(c)$ [\\1][\\2][\\3]\n^x(.*)y$ <\\0|\\1|\\\\1>\n^p(.)(.)(.)(.)(.)(.)(.)(.)(.)(.) \\10-\\9\n');
    assert.equal(out(`str(abc),map_reg(${f},D)`), 'str:[\\1][\\2][\\3]');
    assert.equal(out(`str(abc),map_regm(${f},D)`), 'str:[b][c][]');
    assert.equal(out(`str(ac),map_regm(${f},D)`), 'str:[][c][]', 'unmatched group is empty');
    assert.equal(out(`str(xzzy),map_regm(${f},D)`), 'str:<xzzy|zz|\\1>');
    assert.equal(out(`str(p1234567890),map_regm(${f},D)`), 'str:10-9', 'one digit per reference');
    assert.equal(out(`str(q),map_regm(${f},D)`), 'str:D');
    assert.equal(out(`str(x12y),map_reg_key(${f})`), 'str:^x(.*)y$');
    assert.deepEqual(regmTemplate('a\\1b\\\\c\\'), ['a', 1, 'b\\c\\']);
  });
  it('an invalid regex is a configuration error', () => {
    const f = mapFile('ok 1\n(bad 2\n');
    assert.match(parseErr(`str(a),map_reg(${f})`), new RegExp(`^invalid args in converter 'map_reg' : regex '\\(bad' is invalid: .* at line 2 of file '${f.replace(/[.]/g, '\\.')}'$`));
  });
});

describe('runtime changes', () => {
  it('every converter on the ref sees add/remove/set/commit at once; parsed values follow set', () => {
    const f = mapFile('a 1\n');
    const e1 = parseSampleExpr(`str(b),map(${f},D)`, { where: 'x:1' });
    const e2 = parseSampleExpr(`str(b),map_beg_int(${f},-1)`, { where: 'x:2' });
    const ref = patternRefs.byFile(f)!;
    assert.equal(e1.eval(ctx)!.v, 'D');
    ref.add('b', '42');
    assert.equal(e1.eval(ctx)!.v, '42');
    assert.equal(e2.eval(ctx)!.v, 42);
    ref.setValue('b', '43');
    assert.equal(e1.eval(ctx)!.v, '43');
    assert.equal(e2.eval(ctx)!.v, 43);
    const g = ref.prepare();
    ref.add('b', '7', g);
    assert.equal(e2.eval(ctx)!.v, 43);
    ref.commit(g);
    assert.equal(e2.eval(ctx)!.v, 7);
    ref.removeKey('b');
    assert.equal(e1.eval(ctx)!.v, 'D');
  });
});

describe('lookup time on big maps', () => {
  it('100,000-entry str map and 1,000,000-network ip map: microseconds per lookup', (t) => {
    // str map
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(`key-${i} value-${i}`);
    const fs1 = mapFile(lines.join('\n'));
    const strConv = parseSampleExpr(`str(x),map(${fs1})`, { where: 'p:1' }).convs[0]!;
    // ip map: 1,000,000 /24 networks 10.0.0.0/24 .. and a few shorter prefixes
    const ipl: string[] = [];
    for (let i = 0; i < 1_000_000; i++) ipl.push(`${(i >>> 16) + 1}.${(i >>> 8) & 255}.${i & 255}.0/24 n${i}`);
    ipl.push('200.0.0.0/8 wide');
    const fi = mapFile(ipl.join('\n'));
    const ipConv = parseSampleExpr(`ipv4(1.2.3.4),map_ip(${fi})`, { where: 'p:2' }).convs[0]!;

    const N = 200_000;
    const inputs = Array.from({ length: 1000 }, (_, i) => ({ t: 'str' as const, v: `key-${(i * 97) % 100_000}` }));
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) { const r = strConv.def.fn(inputs[i % 1000]!, strConv.args, ctx); if (!r) throw new Error('miss'); }
    const strUs = Number(process.hrtime.bigint() - t0) / 1000 / N;
    const ips = Array.from({ length: 1000 }, (_, i) => ({ t: 'ipv4' as const, v: (((((i * 7919) % 1_000_000) >>> 16) + 1) * 16777216 + ((((i * 7919) % 1_000_000) >>> 8) & 255) * 65536 + (((i * 7919) % 1_000_000) & 255) * 256 + 5) }));
    t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) { const r = ipConv.def.fn(ips[i % 1000]!, ipConv.args, ctx); if (!r) throw new Error('ip miss'); }
    const ipUs = Number(process.hrtime.bigint() - t0) / 1000 / N;
    t.diagnostic(`str ${strUs.toFixed(3)} µs, ip ${ipUs.toFixed(3)} µs per lookup`);
    assert.ok(strUs < 20, `str lookup ${strUs.toFixed(2)} µs`);
    assert.ok(ipUs < 20, `ip lookup ${ipUs.toFixed(2)} µs`);
    // spot checks (hand computed: entry i = 1+(i>>16) . (i>>8)&255 . i&255 .0/24)
    assert.equal(ipConv.def.fn({ t: 'ipv4', v: (1 * 16777216 + 2 * 65536 + 3 * 256 + 9) }, ipConv.args, ctx)!.v, `n${2 * 256 + 3}`);
    assert.equal(ipConv.def.fn({ t: 'ipv4', v: (200 * 16777216 + 9) }, ipConv.args, ctx)!.v, 'wide');
    assert.equal(strConv.def.fn({ t: 'str', v: 'key-99999' }, strConv.args, ctx)!.v, 'value-99999');
  });
});
