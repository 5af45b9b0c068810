// Runtime API commands on maps and ACLs, driven through a CliSession without sockets. The
// expected texts are haproxy 2.6's answers on the same setup (stats socket + socat), with entry
// pointers replaced by our identifiers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/sample/index.js';
import { MAP_COMMANDS } from '../../src/ops/cli-maps.js';
import { CliSession } from '../../src/ops/cli-session.js';
import type { Runtime } from '../../src/proxy/runtime.js';
import { parseSampleExpr } from '../../src/sample/expr.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { fetchRegistry, registerFetch } from '../../src/sample/registry.js';
import { PatternIndex, patternRefs, type PatternRef } from '../../src/acl/pattern.js';
import { addRefExpr, noteRefUse, entryPtr, ptrToSeq } from '../../src/acl/ref-users.js';

if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => ({ t: 'str', v: a[0] }) });

let dir = '';
let cwd = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-cli-maps-'));
  cwd = process.cwd();
  process.chdir(dir);
});
after(() => { process.chdir(cwd); fs.rmSync(dir, { recursive: true, force: true }); });

function talk(input: string): string {
  let out = '';
  const s = new CliSession({ startedAt: Date.now() } as unknown as Runtime, { write: (t) => { out += t; }, end: () => {} },
    { level: 'user', timeoutMs: 1000, keywords: MAP_COMMANDS });
  s.feed(input);
  s.endInput();
  return out;
}
/** One command's answer, without the session's trailing empty line. */
function cmd(line: string): string {
  const o = talk(`${line}\n`);
  assert.ok(o.endsWith('\n'), o);
  return o.slice(0, -1);
}
const ptrs = (r: PatternRef) => r.current().map((e) => entryPtr(e));

/** An ACL as the ACL parser will create it: an anonymous list plus its match index. */
function fakeAcl(desc: string, method: 'beg' | 'ip' | 'sub', icase: boolean, pats: string[]): PatternRef {
  const r = patternRefs.anonymous(desc);
  for (const p of pats) r.add(p, undefined);
  const idx = new PatternIndex(method, icase);
  idx.attach(r);
  addRefExpr(r, { kind: 'acl', matchName: method, index: idx });
  return r;
}

let acl0: PatternRef, acl1: PatternRef, m1: PatternRef, v: PatternRef;
const ctx = new SmpCtx(staticConn());

describe('runtime API: maps and ACLs', () => {
  before(() => {
    fs.writeFileSync('m1.map', '# comment\nfoo   bar baz  \nabc 1\n10.0.0.0/8 ten\n  k2\tv2\n');
    fs.writeFileSync('acl1.lst', 'a\nb\n');
    fs.writeFileSync('v.map', '1.2.3.4 5\n10.0.0.0/8 3\n');
    acl0 = fakeAcl("acl 'path_beg' file 'h.cfg' line 10", 'beg', false, ['/x', '/y']);
    // a pattern file used by an ACL
    acl1 = patternRefs.get(path.join(dir, 'acl1.lst'), false, 'file');
    for (const p of ['a', 'b']) acl1.add(p, undefined);
    acl1.loaded = true;
    noteRefUse(acl1, 'acl', 'h.cfg', 11);
    const i1 = new PatternIndex('str', false); i1.attach(acl1);
    addRefExpr(acl1, { kind: 'acl', matchName: 'str', index: i1 });
    fakeAcl("acl 'req.hdr' file 'h.cfg' line 13", 'sub', true, ['foo']);
    parseSampleExpr('str(x),map(m1.map,def)', { where: 'h.cfg:14' });
    parseSampleExpr('str(x),map_beg_int(v.map,7)', { where: 'h.cfg:14' });
    parseSampleExpr('str(1.2.3.4),map_ip(v.map)', { where: 'h.cfg:14' });
    m1 = patternRefs.byFile('m1.map')!;
    v = patternRefs.byFile('v.map')!;
  });

  it('show map / show acl list the lists', () => {
    assert.equal(cmd('show map'), [
      '# id (file) description',
      `${m1.id} (m1.map) pattern loaded from file 'm1.map' used by map at file 'h.cfg' line 14. curr_ver=0 next_ver=0 entry_cnt=4`,
      `${v.id} (v.map) pattern loaded from file 'v.map' used by map at file 'h.cfg' line 14, by map at file 'h.cfg' line 14. curr_ver=0 next_ver=0 entry_cnt=2`,
      '',
    ].join('\n'));
    const acl = cmd('show acl').split('\n');
    assert.equal(acl[0], '# id (file) description');
    assert.ok(acl.includes(`${acl0.id} () acl 'path_beg' file 'h.cfg' line 10. curr_ver=0 next_ver=0 entry_cnt=2`), acl.join('\n'));
    assert.ok(acl.includes(`${acl1.id} (${acl1.name}) pattern loaded from file '${acl1.name}' used by acl at file 'h.cfg' line 11. curr_ver=0 next_ver=0 entry_cnt=2`));
    assert.ok(!acl.some((l) => l.includes('m1.map')));
  });

  it('show map <map> dumps pointer, key, value; by name or #id; typed lookups', () => {
    const p = ptrs(m1);
    assert.match(p[0]!, /^0x[0-9a-f]{12}$/);
    assert.equal(new Set(p).size, 4);
    assert.equal(cmd('show map m1.map'), `${p[0]} foo bar baz\n${p[1]} abc 1\n${p[2]} 10.0.0.0/8 ten\n${p[3]} k2 v2\n`);
    assert.equal(cmd(`show map #${m1.id}`), cmd('show map m1.map'));
    assert.equal(cmd(`show map #${acl0.id}`), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('show map nope'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('show acl m1.map'), 'Unknown ACL identifier. Please use #<id> or <file>.\n');
    const a = ptrs(acl0);
    assert.equal(cmd(`show acl #${acl0.id}`), `${a[0]} /x\n${a[1]} /y\n`);
    assert.equal(cmd('show map @1'), 'Unknown map identifier. Please use #<id> or <file>.\n');
  });

  it('get map / get acl', () => {
    assert.equal(cmd('get map m1.map foo'), 'type=str, case=sensitive, found=yes, idx=tree, key="foo", value="bar baz", type="str"\n');
    assert.equal(cmd('get map m1.map fooz'), 'type=str, case=sensitive, found=no\n');
    assert.equal(cmd('get map v.map 10.1.2.3'), 'type=beg, case=sensitive, found=no\ntype=ip, case=sensitive, found=yes, idx=tree, key="10.0.0.0/8", value="3", type="str"\n');
    assert.equal(cmd('get map v.map 1.2.3.4'), 'type=beg, case=sensitive, found=yes, idx=tree, key="1.2.3.4", value="5", type="sint"\ntype=ip, case=sensitive, found=yes, idx=tree, key="1.2.3.4", value="5", type="str"\n');
    assert.equal(cmd(`get acl #${acl0.id} /xyz`), 'type=beg, case=sensitive, match=yes, idx=tree, pattern="/x"\n');
    assert.equal(cmd(`get acl #${acl0.id} /q`), 'type=beg, case=sensitive, match=no\n');
    assert.equal(cmd(`get acl #${acl0.id + 2} AfooB`), 'type=sub, case=insensitive, match=yes, idx=list, pattern="foo"\n');
    assert.equal(cmd('get acl m1.map foo'), 'type=str, case=sensitive, match=yes, idx=tree, pattern="foo"\n');
    assert.equal(cmd(`get map #${acl0.id} /x`), 'type=beg, case=sensitive, found=yes, idx=tree, key="/x", value=none\n');
    assert.equal(cmd('get map'), 'Missing map identifier and/or key.\n');
    assert.equal(cmd('get map m1.map'), 'Missing map identifier and/or key.\n');
    assert.equal(cmd('get acl #0'), 'Missing ACL identifier and/or key.\n');
    assert.equal(cmd('get map nope x'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('get acl nope x'), 'Unknown ACL identifier. Please use #<id> or <file>.\n');
  });

  it('add map / add acl, with validation against every user', () => {
    const conv = parseSampleExpr('str(newk),map(m1.map,def)', { where: 'h.cfg:20' });
    assert.equal(conv.eval(ctx)!.v, 'def');
    assert.equal(cmd('add map m1.map newk newv with spaces'), '');
    assert.equal(conv.eval(ctx)!.v, 'newv', 'converters see the new entry at once');
    assert.equal(cmd('show map m1.map').split('\n')[4], `${ptrs(m1)[4]} newk newv`);
    const usage = "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n";
    assert.equal(cmd('add map m1.map onlykey'), usage);
    assert.equal(cmd('add map'), usage);
    assert.equal(cmd('add map nope a b'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`add acl #${acl0.id} /z`), '');
    assert.equal(cmd(`get acl #${acl0.id} /zz`), 'type=beg, case=sensitive, match=yes, idx=tree, pattern="/z"\n');
    assert.equal(cmd('add acl m1.map x'), "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.\n");
    assert.equal(cmd(`add acl #${acl0.id}`), "'add acl' expects two parameters: ACL identifier and pattern.\n");
    assert.equal(cmd('add acl nope x'), 'Unknown ACL identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('add map v.map 5.5.5.5 notint'), "unable to parse 'notint'.\n");
    assert.equal(cmd('add map v.map notanip 1'), "'notanip' is not a valid IPv4 or IPv6 address.\n");
    assert.equal(v.entries.length, 2, 'nothing added on error');
    assert.equal(cmd('add map v.map 5.5.5.5 12'), '');
    assert.equal(cmd(`add map #${acl0.id} k v`), '', 'add map on an ACL list stores a value too');
    assert.equal(cmd(`show acl #${acl0.id}`).split('\n')[3], `${ptrs(acl0)[3]} k v`);
  });

  it('add map with a payload', () => {
    const before = m1.current().length;
    assert.equal(talk('add map m1.map <<\nk5 v5\nk6   v6 with  spaces  \n\n'), '\n');
    const cur = m1.current();
    assert.equal(cur.length, before + 2);
    assert.deepEqual([cur.at(-2)!.key, cur.at(-2)!.value, cur.at(-1)!.key, cur.at(-1)!.value], ['k5', 'v5', 'k6', 'v6 with  spaces  ']);
    assert.equal(talk('add map m1.map <<\nonly\n\n'), "Missing value for key 'only'.\n\n");
    assert.equal(talk('add map v.map <<\n9.9.9.9 1\n8.8.8.8 bad\n7.7.7.7 3\n\n'), "unable to parse 'bad'.\n\n");
    assert.deepEqual(v.current().map((e) => e.key).slice(-2), ['5.5.5.5', '9.9.9.9'], 'lines before the bad one are kept');
  });

  it('del map / del acl', () => {
    const conv = parseSampleExpr('str(foo),map(m1.map,def)', { where: 'h.cfg:21' });
    assert.equal(conv.eval(ctx)!.v, 'bar baz');
    assert.equal(cmd('del map m1.map foo'), '');
    assert.equal(conv.eval(ctx)!.v, 'def');
    assert.equal(cmd('del map m1.map foo'), 'Key not found.\n');
    const p = entryPtr(m1.current().find((e) => e.key === '10.0.0.0/8')!);
    assert.equal(cmd(`del map m1.map #${p}`), '');
    assert.equal(cmd(`del map m1.map #${p}`), 'Key not found.\n');
    assert.equal(cmd('del map m1.map #0xzz'), 'Malformed identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('del map m1.map #zz'), 'Key not found.\n');
    assert.equal(cmd('del map m1.map'), 'This command expects two parameters: map identifier and key.\n');
    assert.equal(cmd('del map nope k'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`del map #${acl0.id} /x`), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`del acl #${acl0.id} /y`), '');
    assert.equal(cmd(`del acl #${acl0.id} /nope`), 'Key not found.\n');
    assert.equal(cmd('del acl m1.map abc'), 'Unknown map identifier. Please use #<id> or <file>.\n', 'haproxy names maps here too');
    assert.equal(cmd(`del acl #${acl0.id}`), 'This command expects two parameters: ACL identifier and key.\n');
  });

  it('set map on string and integer users', () => {
    const s = parseSampleExpr('str(1.2.3.4),map_beg_int(v.map,7)', { where: 'h.cfg:23' });
    assert.equal(s.eval(ctx)!.v, 5);
    assert.equal(cmd('set map v.map 1.2.3.4 77'), '');
    assert.equal(s.eval(ctx)!.v, 77, 'the cached parsed value follows');
    assert.equal(cmd('set map v.map 1.2.3.4 x'), "unable to parse 'x'.\n");
    const p = entryPtr(v.current()[0]!);
    assert.equal(cmd(`set map v.map #${p} y`), "unable to parse 'y'.\n");
    assert.equal(cmd(`set map v.map #${p} 78`), '');
    assert.equal(s.eval(ctx)!.v, 78);
    assert.equal(cmd('set map v.map nokey 1'), 'entry not found.\n');
    assert.equal(cmd('set map v.map #0x1234 1'), 'key or pattern not found.\n');
    assert.equal(cmd('set map v.map 1.2.3.4'), "'set map' expects three parameters: map identifier, key and value.\n");
    assert.equal(cmd('set map nope a b'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`set map #${acl0.id} /z val`), '');
  });

  it('prepare / add @ver / show @ver / commit / clear', () => {
    fs.writeFileSync('g.map', 'foo bar\nabc 1\n');
    const conv = parseSampleExpr('str(nk),map(g.map,def)', { where: 'h.cfg:30' });
    const g = patternRefs.byFile('g.map')!;
    assert.equal(cmd('prepare map g.map'), 'New version created: 1\n');
    assert.equal(cmd('prepare map g.map'), 'New version created: 2\n');
    assert.match(cmd('show map'), /\(g\.map\) .* curr_ver=0 next_ver=2 entry_cnt=2\n/);
    assert.equal(cmd('add map @1 g.map nk nv'), '');
    assert.equal(cmd('add map @2 g.map nk2 nv2'), '');
    assert.equal(cmd('add map @5 g.map x y'), "Version number in the future, please use 'prepare map' before.\n");
    assert.equal(conv.eval(ctx)!.v, 'def', 'a prepared entry does not match yet');
    const e1 = g.entries.find((e) => e.key === 'nk')!;
    assert.equal(cmd('show map @1 g.map'), `${entryPtr(e1)} nk nv\n`);
    assert.equal(cmd('show map @9 g.map'), '');
    assert.match(cmd('show map'), /\(g\.map\) .* curr_ver=0 next_ver=2 entry_cnt=4\n/);
    assert.equal(cmd('commit map @1 g.map'), '');
    assert.equal(conv.eval(ctx)!.v, 'nv');
    assert.match(cmd('show map'), /\(g\.map\) .* curr_ver=1 next_ver=2 entry_cnt=2\n/);
    assert.equal(cmd('show map g.map'), `${entryPtr(e1)} nk nv\n`);
    assert.equal(cmd('commit map @1 g.map'), 'Version number out of range.\n');
    assert.equal(cmd('commit map @5 g.map'), 'Version number out of range.\n');
    assert.equal(cmd('commit map @x g.map'), 'Version number out of range.\n');
    assert.equal(cmd('commit map g.map'), 'Missing version number.\n');
    assert.equal(cmd('commit map'), 'Missing version number.\n');
    assert.equal(cmd('commit map @1'), 'Missing map identifier.\n');
    assert.equal(cmd('commit map @1 nope'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('prepare map'), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('add map @abc g.map past v'), '', '@abc is version 0');
    assert.equal(cmd('show map @0 g.map').split(' ').slice(1).join(' '), 'past v\n');
    assert.equal(cmd('clear map @2 g.map'), '');
    assert.equal(cmd('show map @2 g.map'), '');
    assert.equal(cmd('clear map g.map'), '');
    assert.equal(cmd('show map g.map'), '');
    assert.equal(conv.eval(ctx)!.v, 'def');
    assert.equal(cmd('clear map'), 'Missing map identifier.\n');
    assert.equal(cmd('clear map @1'), 'Missing map identifier.\n');
    assert.equal(cmd(`clear map #${acl0.id}`), 'Unknown map identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd('clear acl'), 'Missing ACL identifier.\n');
    assert.equal(cmd('clear acl g.map'), 'Unknown ACL identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`prepare acl #${acl0.id}`), 'New version created: 1\n');
    assert.equal(cmd('prepare acl g.map'), 'Unknown ACL identifier. Please use #<id> or <file>.\n');
    assert.equal(cmd(`add acl @9 #${acl0.id} x`), "Version number in the future, please use 'prepare acl' before.\n");
    assert.equal(cmd(`add acl @1 #${acl0.id} /new`), '');
    assert.equal(cmd(`commit acl @1 #${acl0.id}`), '');
    assert.equal(cmd(`show acl #${acl0.id}`).split(' ').slice(1).join(' '), '/new\n');
    assert.equal(cmd(`get acl #${acl0.id} /newer`), 'type=beg, case=sensitive, match=yes, idx=tree, pattern="/new"\n');
    assert.equal(cmd(`commit acl #${acl0.id}`), 'Missing version number.\n');
    assert.equal(cmd('commit acl @1'), 'Missing ACL identifier.\n');
  });

  it('entry identifiers round-trip', () => {
    const e = m1.current()[0]!;
    assert.equal(ptrToSeq(entryPtr(e).slice(0)), e.seq);
    assert.equal(ptrToSeq('0x10'), undefined);
    assert.equal(ptrToSeq('0xg'), 'malformed');
  });
});
