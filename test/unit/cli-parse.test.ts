// Runtime API text handling: command cutting, word splitting and escapes, payload markers,
// levels, keyword lookup and the usage screen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  findCommandEnd, splitCommands, splitWords, detectPayload, levelAllows, isCliLevel, buildUsage,
  findKeyword, formatUsageLine, atoi, strtol, addFingerprint, fingerprintDistance, type UsageEntry,
} from '../../src/ops/cli-parse.js';

describe('command cutting', () => {
  it('ends commands at unescaped ; and LF', () => {
    assert.equal(findCommandEnd('show info'), -1);
    assert.equal(findCommandEnd('show info\n'), 9);
    assert.equal(findCommandEnd('a;b'), 1);
    assert.equal(findCommandEnd('a\\;b;c'), 4);
    assert.equal(findCommandEnd('a\\\\;b'), 3, 'an escaped backslash does not protect the ;');
    assert.equal(findCommandEnd('a\\\nb\n'), 4, 'an escaped LF does not end the command');
    assert.equal(findCommandEnd('abc;', 2), 3);
  });

  it('splits a whole input and strips CR', () => {
    assert.deepEqual(splitCommands('show info;show stat\nquit\r\nshow'), [
      { text: 'show info', delim: ';' },
      { text: 'show stat', delim: '\n' },
      { text: 'quit', delim: '\n' },
      { text: 'show', delim: '' },
    ]);
    assert.deepEqual(splitCommands('set var x a\\;b;echo\n'), [
      { text: 'set var x a\\;b', delim: ';' },
      { text: 'echo', delim: '\n' },
    ]);
    assert.deepEqual(splitCommands(''), []);
  });
});

describe('word splitting', () => {
  it('splits on spaces and tabs, ignoring repeats', () => {
    assert.deepEqual(splitWords('  show \t servers   state  '), ['show', 'servers', 'state']);
    assert.deepEqual(splitWords(''), []);
    assert.deepEqual(splitWords('   '), []);
  });

  it('unescapes backslashes', () => {
    assert.deepEqual(splitWords('echo a\\ b'), ['echo', 'a b']);
    assert.deepEqual(splitWords('echo a\\;b'), ['echo', 'a;b']);
    assert.deepEqual(splitWords('echo a\\\\b'), ['echo', 'a\\b']);
    assert.deepEqual(splitWords('echo a\\'), ['echo', 'a'], 'a lone trailing backslash disappears');
    assert.deepEqual(splitWords('echo \\x'), ['echo', 'x']);
  });

  it('keeps at most 64 words', () => {
    const many = Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ');
    assert.equal(splitWords(many).length, 64);
  });
});

describe('payload marker', () => {
  it('detects << and a custom pattern of up to 7 characters', () => {
    assert.deepEqual(detectPayload('add map #0 <<'), { command: 'add map #0 ', pattern: '' });
    assert.deepEqual(detectPayload('set ssl cert x <<%EOF%'), { command: 'set ssl cert x ', pattern: '%EOF%' });
    assert.equal(detectPayload('set ssl cert x <<12345678'), undefined);
    assert.equal(detectPayload('show info'), undefined);
    assert.equal(detectPayload('echo a<<'), undefined, 'must not be glued to a word');
    assert.deepEqual(detectPayload('<<'), { command: '', pattern: '' });
  });
});

describe('levels', () => {
  it('orders user < operator < admin', () => {
    assert.ok(levelAllows('admin', 'admin'));
    assert.ok(levelAllows('admin', 'user'));
    assert.ok(levelAllows('operator', 'operator'));
    assert.ok(!levelAllows('operator', 'admin'));
    assert.ok(!levelAllows('user', 'operator'));
    assert.ok(levelAllows('user', 'user'));
    assert.ok(isCliLevel('operator'));
    assert.ok(!isCliLevel('root'));
    assert.ok(!isCliLevel(undefined));
  });
});

const KWS: UsageEntry[] = [
  { words: ['show', 'info'], usage: 'show info [desc|json|typed|float]*', help: 'report information' },
  { words: ['show', 'servers', 'state'], usage: 'show servers state [<backend>]', help: 'dump server state' },
  { words: ['show', 'version'], usage: 'show version', help: 'show the version' },
  { words: ['set', 'weight'], usage: 'set weight <bk>/<srv>', help: 'change a weight' },
  { words: ['get', 'weight'], usage: 'get weight <bk>/<srv>', help: 'report a weight' },
  { words: ['help'], usage: '', help: '' },
];

describe('keyword lookup', () => {
  it('matches the leading words, longest first', () => {
    const kws = [{ words: ['show'] }, { words: ['show', 'servers', 'state'] }, { words: ['show', 'info'] }];
    assert.deepEqual(findKeyword(kws, ['show', 'servers', 'state', 'be'])?.words, ['show', 'servers', 'state']);
    assert.deepEqual(findKeyword(kws, ['show', 'servers'])?.words, ['show']);
    assert.equal(findKeyword(kws, ['get', 'weight']), undefined);
    assert.equal(findKeyword([{ words: ['show', 'info'] }], ['show']), undefined);
  });
});

describe('usage screen', () => {
  it('formats usage lines in two columns', () => {
    assert.equal(formatUsageLine(KWS[2]!), `  ${'show version'.padEnd(40)}: show the version`);
    assert.equal(formatUsageLine({ words: ['x'], usage: 'set severity-output [none|number|string]', help: 'h' }), '  set severity-output [none|number|string]: h');
  });

  it('help lists every visible command, sorted, then help/prompt/quit', () => {
    const out = buildUsage(KWS, [], true);
    const lines = out.split('\n');
    assert.equal(lines[0], 'The following commands are valid at this level:');
    assert.ok(lines[1]!.startsWith('  get weight'));
    assert.ok(lines[2]!.startsWith('  set weight'));
    assert.ok(lines[3]!.startsWith('  show info'));
    assert.ok(lines[4]!.startsWith('  show servers state'));
    assert.ok(lines[5]!.startsWith('  show version'));
    assert.ok(lines[6]!.startsWith('  help [<command>]'));
    assert.ok(lines[7]!.startsWith('  prompt'));
    assert.ok(lines[8]!.startsWith('  quit'));
    assert.equal(lines[9], '');
    assert.equal(lines.length, 10);
  });

  it('help <words> narrows to the matching commands', () => {
    const out = buildUsage(KWS, ['show'], true);
    assert.match(out, /show info/);
    assert.match(out, /show version/);
    assert.doesNotMatch(out, /weight/);
  });

  it('an unknown command names its first word and proposes close matches', () => {
    const out = buildUsage(KWS, ['shwo', 'version'], false);
    assert.ok(out.startsWith("Unknown command: 'shwo', but maybe one of the following ones is a better match:\n"));
    assert.match(out, /show version/);
    assert.match(out, /  quit/);
    const out2 = buildUsage(KWS, ['show', 'infos'], false);
    assert.match(out2, /show info \[/);
    assert.doesNotMatch(out2, /set weight/);
  });

  it('an unknown sub-command under a known prefix lists that prefix', () => {
    const out = buildUsage(KWS, ['show'], false);
    assert.ok(out.startsWith("Unknown command: 'show', but maybe"));
    assert.match(out, /show info/);
    assert.match(out, /show servers state/);
    assert.doesNotMatch(out, /get weight/);
  });

  it('fingerprints compare letter transitions', () => {
    const a = new Uint16Array(1024);
    const b = new Uint16Array(1024);
    addFingerprint(a, 'info');
    addFingerprint(b, 'info');
    assert.equal(fingerprintDistance(a, b), 0);
    const c = new Uint16Array(1024);
    addFingerprint(c, 'version');
    assert.ok(fingerprintDistance(a, c) > 0);
  });
});

describe('C-like number parsing', () => {
  it('atoi reads a leading integer or gives 0', () => {
    assert.equal(atoi('42'), 42);
    assert.equal(atoi(' -7x'), -7);
    assert.equal(atoi('abc'), 0);
    assert.equal(atoi(undefined), 0);
    assert.equal(atoi('+5'), 5);
  });
  it('strtol tells what follows the number', () => {
    assert.deepEqual(strtol('50%'), { value: 50, rest: '%' });
    assert.deepEqual(strtol('abc'), { value: 0, rest: 'abc' });
    assert.deepEqual(strtol('007'), { value: 7, rest: '' });
  });
});
