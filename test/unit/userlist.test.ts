// userlist sections. Messages and behaviours are those HAProxy 2.6 printed/did for the same
// configurations (haproxy -c -f, and requests with curl for which list gets the lines after a
// duplicated header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../helpers/config.js';
import { findUserlist, checkAuthGroupPatterns, resolveUserlistRef } from '../../src/proxy/userlist.js';

const msgs = (r: ReturnType<typeof parseConfigText>, level: string): string[] =>
  r.diags.filter((d) => d.level === level).map((d) => d.msg);

test('the documentation example: both lists are equivalent', () => {
  const r = parseConfigText(`
userlist L1
  group G1 users tiger,scott
  group G2 users xdb,scott
  user tiger password $1$saltsalt$9xy1btjgzLYfb7hivXtC//
  user scott insecure-password elgato
  user xdb insecure-password hello

userlist L2
  group G1
  group G2
  user tiger password $1$saltsalt$9xy1btjgzLYfb7hivXtC// groups G1
  user scott insecure-password elgato groups G1,G2
  user xdb insecure-password hello groups G2
`);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  for (const name of ['L1', 'L2']) {
    const ul = findUserlist(r.config, name)!;
    assert.ok(ul, name);
    assert.ok(ul.check('tiger', 'secret'));
    assert.ok(!ul.check('tiger', 'Secret'));
    assert.ok(ul.check('scott', 'elgato'));
    assert.ok(!ul.check('scott', 'elgatO'));
    assert.ok(!ul.check('scott', ''));
    assert.ok(!ul.check('nobody', 'elgato'));
    assert.ok(!ul.check('Scott', 'elgato'));
    assert.deepEqual(ul.groupsOf('tiger'), ['G1']);
    assert.deepEqual(ul.groupsOf('scott'), ['G1', 'G2']);
    assert.deepEqual(ul.groupsOf('xdb'), ['G2']);
    assert.deepEqual(ul.groupsOf('nobody'), []);
    assert.ok(ul.hasGroup('scott', 'G2'));
    assert.ok(ul.hasGroup('tiger', 'G9', 'G1'));
    assert.ok(!ul.hasGroup('tiger', 'G2'));
    assert.ok(!ul.hasGroup('nobody', 'G1'));
  }
  assert.equal(findUserlist(r.config, 'L3'), undefined);
});

test('empty password, no password, options without values', () => {
  const r = parseConfigText(`
userlist L
  group G4 users
  user scott insecure-password ""
  user nopw
  user cc groups
`);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  const ul = findUserlist(r.config, 'L')!;
  assert.ok(ul.check('scott', ''));
  assert.ok(!ul.check('scott', 'x'));
  // HAProxy 2.6 crashes on a user without password; here it never authenticates
  assert.ok(!ul.check('nopw', ''));
  assert.deepEqual(ul.groupsOf('cc'), []);
});

test('UTF-8 names and passwords are compared as bytes', () => {
  const r = parseConfigText('userlist L\n  user tigér insecure-password pé\n  user h password $1$abc$VLqgW9A6OVusH6CzRCb5M.\n');
  assert.equal(r.fatal, false);
  const ul = findUserlist(r.config, 'L')!;
  // credentials as decoded from an Authorization header: one char per byte
  assert.ok(ul.check('tig\xc3\xa9r', 'p\xc3\xa9'));
  assert.ok(!ul.check('tigér', 'pé'));
  // $1$abc$VLq... is crypt("é" in UTF-8)
  assert.ok(ul.check('h', '\xc3\xa9'));
});

test('duplicates are ignored with a warning; lines after a duplicated header go to the newest list', () => {
  const r = parseConfigText(`
userlist L1
  group G1 users tiger
  group G1
  user tiger insecure-password x
  user tiger insecure-password y
userlist B
  user bb insecure-password x
userlist L1
  user zz insecure-password y
`);
  assert.equal(r.fatal, false);
  assert.deepEqual(msgs(r, 'WARNING'), [
    "parsing [h.cfg:4]: ignoring duplicated group 'G1' in userlist 'L1'.".replace('h.cfg', r.diags[0]!.where!.file),
    "parsing [h.cfg:6]: ignoring duplicated user 'tiger' in userlist 'L1'.".replace('h.cfg', r.diags[0]!.where!.file),
    "parsing [h.cfg:9]: ignoring duplicated userlist 'L1'.".replace('h.cfg', r.diags[0]!.where!.file),
  ]);
  const l1 = findUserlist(r.config, 'L1')!;
  assert.ok(l1.check('tiger', 'x'));
  assert.ok(!l1.check('tiger', 'y'));
  assert.deepEqual(l1.groupsOf('tiger'), ['G1']);
  assert.ok(!l1.check('zz', 'y'));
  assert.ok(findUserlist(r.config, 'B')!.check('zz', 'y'));
});

test('syntax errors', () => {
  const r = parseConfigText(`
userlist L1
  user cc foo bar
  user
  group
  group G3 foo
  frob x
userlist
`);
  assert.equal(r.fatal, true);
  const f = r.diags[0]!.where!.file;
  assert.deepEqual(msgs(r, 'ALERT'), [
    `parsing [${f}:3]: 'user' only supports 'password', 'insecure-password' and 'groups' options.`,
    `parsing [${f}:4]: 'user' expects <name> as arguments.`,
    `parsing [${f}:5]: 'group' expects <name> as arguments.`,
    `parsing [${f}:6]: 'group' only supports 'users' option.`,
    `parsing [${f}:7]: unknown keyword 'frob' in 'users' section`,
    `parsing [${f}:8]: 'userlist' expects <name> as arguments.`,
  ]);
  assert.equal(r.diags[0]!.where!.line, 3);
});

test('hashes haproxy-ts cannot compute are refused at parse time', () => {
  const r = parseConfigText('userlist L\n  user a password $y$j9T$abc$def\n  user b password $2b$03$abcdefghijklmnopqrstuu\n');
  assert.equal(r.fatal, true);
  const a = msgs(r, 'ALERT');
  assert.equal(a.length, 2);
  assert.match(a[0]!, /^parsing \[.*:2\]: the encrypted password used for user 'a' is not supported by haproxy-ts \(hash type '\$y\$'\)/);
  assert.match(a[1]!, /^parsing \[.*:3\]: the encrypted password used for user 'b' is not supported/);
});

test('unknown group or user in memberships', () => {
  let r = parseConfigText('userlist L1\n  group G1\n  user tiger insecure-password x groups G1,G3\n');
  assert.equal(r.fatal, true);
  assert.deepEqual(msgs(r, 'ALERT'), ["userlist 'L1': no such group 'G3' specified in user 'tiger'"]);
  r = parseConfigText('userlist L2\n  group G1 users tiger,nobody2\n  user tiger insecure-password x\n');
  assert.equal(r.fatal, true);
  assert.deepEqual(msgs(r, 'ALERT'), ["userlist 'L2': no such user 'nobody2' specified in group 'G1'"]);
  // a user named twice in a group, and also through its own groups option: fine
  r = parseConfigText('userlist L\n  group G2 users tiger,tiger\n  user tiger insecure-password x groups G2\n');
  assert.equal(r.fatal, false);
  assert.deepEqual(findUserlist(r.config, 'L')!.groupsOf('tiger'), ['G2']);
});

test('ACL group patterns and userlist references', () => {
  const r = parseConfigText('userlist L1\n  group G1\n  user u insecure-password x groups G1\n');
  const ul = findUserlist(r.config, 'L1')!;
  assert.equal(checkAuthGroupPatterns(ul, ['G1']), undefined);
  assert.equal(checkAuthGroupPatterns(ul, []), 'no groups specified.');
  assert.equal(checkAuthGroupPatterns(ul, ['G1', 'G9']), "invalid group 'G9'.");
  const ref: { name: string; ref?: unknown } = { name: 'L1' };
  assert.equal(resolveUserlistRef(ref, r.config, 'http_auth', 'f.cfg:7'), undefined);
  assert.equal(ref.ref, ul);
  assert.equal(resolveUserlistRef({ name: 'L9' }, r.config, 'http_auth', 'f.cfg:7', 'ACL keyword', 'f'),
    "parsing [f.cfg:7]: unable to find userlist 'L9' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'f'.");
});
