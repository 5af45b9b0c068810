import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  readConfig,
  listConfigFiles,
  MAX_NESTED_CONDS,
  type CfgDiag,
  type CfgLine,
} from '../../src/config/reader.js';
import type { CondContext } from '../../src/config/cond.js';

let tmp = '';
let seq = 0;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'haproxy-ts-reader-'));
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function writeCfg(content: string, name?: string): string {
  const file = path.join(tmp, name ?? `cfg-${++seq}.cfg`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

function makeCtx(env?: Record<string, string | undefined>): CondContext {
  const c: CondContext = {
    version: '3.2.0',
    hasFeature: (n) => n === 'OPENSSL',
    isEnabled: () => false,
  };
  if (env) c.env = env;
  return c;
}

function run(
  files: string[],
  env: Record<string, string | undefined> = {},
): { lines: CfgLine[]; diags: CfgDiag[]; words: string[][] } {
  const diags: CfgDiag[] = [];
  const lines = [...readConfig(files, makeCtx(env), (d) => diags.push(d))];
  return { lines, diags, words: lines.map((l) => l.words) };
}

function alerts(diags: CfgDiag[]): CfgDiag[] {
  return diags.filter((d) => d.level === 'ALERT');
}

describe('reader: basic lines', () => {
  test('yields tokenized lines with file, physical line number and raw text', () => {
    const f = writeCfg('global\n\n    # comment\n    maxconn 100  # max\n\tlog "127.0.0.1:514" local0\n');
    const { lines, diags } = run([f]);
    assert.deepEqual(diags, []);
    assert.deepEqual(
      lines.map((l) => [l.file, l.line, l.words]),
      [
        [f, 1, ['global']],
        [f, 4, ['maxconn', '100']],
        [f, 5, ['log', '127.0.0.1:514', 'local0']],
      ],
    );
    assert.equal(lines[1]!.raw, '    maxconn 100  # max');
  });

  test('CRLF line endings are handled', () => {
    const f = writeCfg('global\r\n    maxconn 5\r\n.if 1\r\n    nbthread 2\r\n.endif\r\n');
    const { lines, diags } = run([f]);
    assert.deepEqual(diags, []);
    assert.deepEqual(lines.map((l) => l.words), [['global'], ['maxconn', '5'], ['nbthread', '2']]);
    assert.equal(lines[1]!.raw, '    maxconn 5');
  });

  test('a line whose first word is empty is ignored', () => {
    const f = writeCfg('global\n"" maxconn 3\n"$UNSET" x\nnbthread 1\n');
    const { words } = run([f]);
    assert.deepEqual(words, [['global'], ['nbthread', '1']]);
  });

  test('very long lines are read whole', () => {
    const big = 'v'.repeat(1 << 20);
    const f = writeCfg(`global\n  setenv X ${big}\n`);
    const { words } = run([f]);
    assert.equal(words[1]![2]!.length, 1 << 20);
  });

  test('environment variables are expanded from the context env', () => {
    const f = writeCfg('global\n  log "${SYSLOG-127.0.0.1}:514" "$FAC"\n');
    assert.deepEqual(run([f], { FAC: 'local3' }).words[1], ['log', '127.0.0.1:514', 'local3']);
  });

  test('pseudo-variables .FILE, .LINE and .SECTION', () => {
    const f = writeCfg('x "${.SECTION}"\nfrontend fe1\n  y "$.FILE:${.LINE}" "${.SECTION}"\nglobal\n  z "${.SECTION}"\n');
    const { words } = run([f]);
    assert.deepEqual(words, [
      ['x', ''],
      ['frontend', 'fe1'],
      ['y', `${f}:3`, 'fe1'],
      ['global'],
      ['z', 'global'],
    ]);
  });

  test('lines of several files are yielded in order, line numbers restart', () => {
    const a = writeCfg('global\n  maxconn 1\n');
    const b = writeCfg('\ndefaults\n');
    const { lines } = run([a, b]);
    assert.deepEqual(
      lines.map((l) => [l.file, l.line, l.words[0]]),
      [
        [a, 1, 'global'],
        [a, 2, 'maxconn'],
        [b, 2, 'defaults'],
      ],
    );
  });

  test('an unreadable file throws before anything is yielded', () => {
    const a = writeCfg('global\n');
    const gen = readConfig([a, path.join(tmp, 'does-not-exist.cfg')], makeCtx({}), () => {});
    assert.throws(() => gen.next(), /Could not open configuration file .*does-not-exist\.cfg : No such file or directory/);
  });
});

describe('reader: tokenizer errors', () => {
  test('a lexer error is an ALERT with file:line and the line is skipped', () => {
    const f = writeCfg('global\n    log "127.0.0.1 local0\n    maxconn 10\n');
    const { words, diags } = run([f]);
    assert.deepEqual(words, [['global'], ['maxconn', '10']]);
    assert.equal(diags.length, 1);
    const d = diags[0]!;
    assert.equal(d.level, 'ALERT');
    assert.equal(d.file, f);
    assert.equal(d.line, 2);
    assert.match(d.msg, /^unmatched quote at position 9:\n  log "127\.0\.0\.1 local0\n      \^$/);
  });

  test('bad hex escape and bad variable names are ALERTs', () => {
    const f = writeCfg('a \\xZZ\nb "$9"\nc "${X"\nd ok\n');
    const { words, diags } = run([f]);
    assert.deepEqual(words, [['d', 'ok']]);
    assert.deepEqual(
      diags.map((d) => [d.level, d.line]),
      [
        ['ALERT', 1],
        ['ALERT', 2],
        ['ALERT', 3],
      ],
    );
    assert.match(diags[0]!.msg, /hexadecimal/);
    assert.match(diags[1]!.msg, /forbidden first char/);
    assert.match(diags[2]!.msg, /unmatched brace/);
  });

  test('too many words is an ALERT', () => {
    const f = writeCfg(`k ${Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ')}\n`);
    const { words, diags } = run([f]);
    assert.deepEqual(words, []);
    assert.match(alerts(diags)[0]!.msg, /too many words/);
  });

  test('a missing LF on the last line is an ALERT, the line is still read', () => {
    const f = writeCfg('global\n  maxconn 7');
    const { words, diags } = run([f]);
    assert.deepEqual(words, [['global'], ['maxconn', '7']]);
    assert.deepEqual(diags, [
      {
        level: 'ALERT',
        file: f,
        line: 2,
        msg: 'Missing LF on last line, file might have been truncated at position 12.',
      },
    ]);
  });

  test('an empty file is fine', () => {
    const f = writeCfg('');
    assert.deepEqual(run([f]), { lines: [], diags: [], words: [] });
  });

  test('a NUL byte stops the file', () => {
    const f = writeCfg('global\n  maxconn 1\0junk\n  nbthread 2\n');
    const g = writeCfg('defaults\n');
    const { words, diags } = run([f, g]);
    assert.deepEqual(words, [['global'], ['maxconn', '1'], ['defaults']]);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.line, 2);
    assert.match(diags[0]!.msg, /Stray NUL character at position 12/);
  });
});

describe('reader: conditional blocks', () => {
  test('.if true / false with .else', () => {
    const f = writeCfg('.if 1\na\n.else\nb\n.endif\n.if 0\nc\n.else\nd\n.endif\n');
    const { words, diags } = run([f]);
    assert.deepEqual(diags, []);
    assert.deepEqual(words, [['a'], ['d']]);
  });

  test('conditions use the expanded words and may carry a comment', () => {
    const f = writeCfg(
      '.if streq("$WITH_SSL",yes)   # only with SSL\nssl\n.endif\n' +
        '.if defined(WITH_SSL) && !defined(SSL_ONLY)\nplain\n.endif\n' +
        '.if feature(OPENSSL) && version_atleast(2.4-dev19)\nmodern\n.endif\n',
    );
    assert.deepEqual(run([f], { WITH_SSL: 'yes' }).words, [['ssl'], ['plain'], ['modern']]);
    assert.deepEqual(run([f], { SSL_ONLY: '1' }).words, [['modern']]);
  });

  test('only the first true branch of an .elif chain is taken', () => {
    const f = writeCfg('.if 0\na\n.elif 1\nb\n.elif 1\nc\n.else\nd\n.endif\ne\n');
    assert.deepEqual(run([f]).words, [['b'], ['e']]);
  });

  test('the documented nested A/B/C/D example', () => {
    const f = writeCfg(
      [
        '.if "${A}"',
        '  .if "${B}"',
        '     .notice "A=1, B=1"',
        '  .elif "${C}"',
        '     .notice "A=1, B=0, C=1"',
        '  .elif "${D}"',
        '     .warning "A=1, B=0, C=0, D=1"',
        '  .else',
        '     .notice "A=1, B=0, C=0, D=0"',
        '  .endif',
        '.else',
        '     .notice "A=0"',
        '.endif',
        '',
      ].join('\n'),
    );
    const cases: Array<[Record<string, string>, string, string]> = [
      [{}, 'NOTICE', "'A=0'."],
      [{ A: '1', B: '1' }, 'NOTICE', "'A=1, B=1'."],
      [{ A: '1', B: '0', C: '1' }, 'NOTICE', "'A=1, B=0, C=1'."],
      [{ A: '1', C: '0', D: '1' }, 'WARNING', "'A=1, B=0, C=0, D=1'."],
      [{ A: '1' }, 'NOTICE', "'A=1, B=0, C=0, D=0'."],
    ];
    for (const [env, level, msg] of cases) {
      const { diags } = run([f], env);
      assert.deepEqual(
        diags.map((d) => [d.level, d.msg]),
        [[level, msg]],
        JSON.stringify(env),
      );
    }
  });

  test('nested blocks inside a false branch are ignored entirely', () => {
    const f = writeCfg('.if 0\n.if 1\na\n.elif 1\nb\n.else\nc\n.endif\nd\n.else\ne\n.endif\nf\n');
    assert.deepEqual(run([f]).words, [['e'], ['f']]);
  });

  test('nested blocks inside a taken branch are evaluated', () => {
    const f = writeCfg('.if 1\n.if 0\na\n.else\nb\n.endif\n.if 1\nc\n.endif\n.endif\n');
    assert.deepEqual(run([f]).words, [['b'], ['c']]);
  });

  test('lines of a skipped block are not tokenized', () => {
    const f = writeCfg('.if 0\n  log "unterminated\n  bad \\xZZ\n  .if this is not a valid condition\n  .endif\n.endif\nok\n');
    const { words, diags } = run([f]);
    assert.deepEqual(diags, []);
    assert.deepEqual(words, [['ok']]);
  });

  test('an .elif following a false .if is evaluated, later ones are not', () => {
    const f = writeCfg('.if 0\n.elif streq("$X",1)\na\n.elif garbage here\nb\n.endif\n');
    const r1 = run([f], { X: '1' });
    assert.deepEqual(r1.diags, []);
    assert.deepEqual(r1.words, [['a']]);
    const r2 = run([f], { X: '2' });
    assert.equal(alerts(r2.diags).length, 1);
    assert.match(r2.diags[0]!.msg, /in '\.elif' at position 1/);
  });

  test('reporting directives in skipped blocks are silent', () => {
    const f = writeCfg('.if 0\n.alert "no"\n.unknown stuff\n.endif\nok\n');
    const { words, diags } = run([f]);
    assert.deepEqual(diags, []);
    assert.deepEqual(words, [['ok']]);
  });

  test('a condition syntax error is an ALERT that stops reading', () => {
    const f = writeCfg('global\n.if streq(a)\nx\n.endif\ny\n');
    const g = writeCfg('other\n');
    const { words, diags } = run([f, g]);
    assert.deepEqual(words, [['global']]);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.level, 'ALERT');
    assert.equal(diags[0]!.line, 2);
    assert.match(diags[0]!.msg, /missing arguments .* in '\.if' at position 8:\n  \.if streq\(a\)\n {13}\^$/);
  });

  test('.elif after .else is an error', () => {
    const f = writeCfg('.if 0\n.else\n.elif 1\n.endif\nz\n');
    const { words, diags } = run([f]);
    assert.deepEqual(words, []);
    assert.deepEqual(
      diags.map((d) => [d.level, d.line, d.msg]),
      [['ALERT', 3, "'.elif' after '.else' is not permitted."]],
    );
  });

  test('.else after .else is an error', () => {
    const f = writeCfg('.if 1\n.else\n.else\n.endif\n');
    assert.deepEqual(run([f]).diags.map((d) => d.msg), ["'.else' after '.else' is not permitted."]);
  });

  test('.else after .else is an error even inside a skipped block', () => {
    const f = writeCfg('.if 0\n.if 1\n.else\n.else\n.endif\n.endif\n');
    assert.deepEqual(run([f]).diags.map((d) => d.msg), ["'.else' after '.else' is not permitted."]);
  });

  test('lone .elif, .else and .endif are errors', () => {
    for (const kw of ['.elif 1', '.else', '.endif']) {
      const f = writeCfg(`a\n${kw}\nb\n`);
      const { words, diags } = run([f]);
      assert.deepEqual(words, [['a']], kw);
      assert.equal(diags.length, 1, kw);
      assert.equal(diags[0]!.line, 2);
      assert.equal(diags[0]!.msg, `lone '${kw.split(' ')[0]}' with no matching '.if'.`);
    }
  });

  test('.else and .endif take no argument', () => {
    const f = writeCfg('.if 1\n.else foo\n.endif\n');
    const { diags } = run([f]);
    assert.equal(diags[0]!.msg, "Unexpected argument 'foo' for '.else'.");
    const g = writeCfg('.if 1\n.endif bar\n');
    const r = run([g]);
    assert.equal(r.diags[0]!.msg, "Unexpected argument 'bar' for '.endif'.");
  });

  test('an unterminated .if is an ALERT at end of file and stops the next files', () => {
    const f = writeCfg('.if 1\na\n\n');
    const g = writeCfg('b\n');
    const { words, diags } = run([f, g]);
    assert.deepEqual(words, [['a']]);
    assert.deepEqual(diags, [{ level: 'ALERT', file: f, line: 3, msg: "non-terminated '.if' block." }]);
  });

  test('.if blocks cannot span files', () => {
    const f = writeCfg('.if 0\n');
    const g = writeCfg('.endif\n');
    const { diags } = run([f, g]);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.file, f);
    assert.match(diags[0]!.msg, /non-terminated/);
  });

  test('nesting depth is limited', () => {
    const depth = MAX_NESTED_CONDS + 2;
    const f = writeCfg('.if 1\n'.repeat(depth) + '.endif\n'.repeat(depth));
    const { diags } = run([f]);
    assert.equal(diags.length, 1);
    assert.equal(diags[0]!.msg, `too many nested '.if', max is ${MAX_NESTED_CONDS}.`);
    const ok = writeCfg('.if 1\n'.repeat(100) + 'deep\n' + '.endif\n'.repeat(100));
    const r = run([ok]);
    assert.deepEqual(r.diags, []);
    assert.deepEqual(r.words, [['deep']]);
  });
});

describe('reader: reporting directives', () => {
  test('.diag, .notice, .warning and .alert produce diagnostics', () => {
    const f = writeCfg('.diag "d msg"\n.notice "n msg"\n.warning \'w msg\'\nkw\n.alert "fatal thing"\nafter\n');
    const g = writeCfg('other\n');
    const { words, diags } = run([f, g]);
    assert.deepEqual(
      diags.map((d) => [d.level, d.file, d.line, d.msg]),
      [
        ['DIAG', f, 1, "'d msg'."],
        ['NOTICE', f, 2, "'n msg'."],
        ['WARNING', f, 3, "'w msg'."],
        ['ALERT', f, 5, "'fatal thing'."],
      ],
    );
    // .alert stops everything
    assert.deepEqual(words, [['kw']]);
  });

  test('messages with several words must be quoted', () => {
    const f = writeCfg('.warning two words\nnext\n');
    const { words, diags } = run([f]);
    assert.deepEqual(words, [['next']]);
    assert.deepEqual(
      diags.map((d) => [d.level, d.msg]),
      [['ALERT', "Unexpected argument 'words' for '.warning'. Use quotes if the message should contain spaces."]],
    );
  });

  test('messages may use environment variables', () => {
    const f = writeCfg('.notice "running ${V}"\n');
    assert.equal(run([f], { V: '3.2' }).diags[0]!.msg, "'running 3.2'.");
  });

  test('an unknown directive is an ALERT that ends the file but not the next ones', () => {
    const f = writeCfg('a\n.include foo\nb\n');
    const g = writeCfg('c\n');
    const { words, diags } = run([f, g]);
    assert.deepEqual(words, [['a'], ['c']]);
    assert.deepEqual(
      diags.map((d) => [d.level, d.file, d.line, d.msg]),
      [['ALERT', f, 2, "unknown directive '.include'."]],
    );
  });
});

describe('reader: laziness', () => {
  test('each line is tokenized only when reached (setenv-like changes are seen)', () => {
    const name = 'HAPROXY_TS_READER_LAZY';
    const f = writeCfg(`global\n  setenv ${name} hello\n  x "\${${name}}"\n.if defined(${name})\n  y\n.endif\n`);
    delete process.env[name];
    try {
      const gen = readConfig([f], makeCtx(), () => {});
      const l1 = gen.next();
      const l2 = gen.next();
      assert.equal(l1.done, false);
      assert.deepEqual(l2.value?.words, ['setenv', name, 'hello']);
      // emulate the "setenv" keyword being applied by the consumer
      process.env[name] = 'hello';
      const l3 = gen.next();
      assert.deepEqual(l3.value?.words, ['x', 'hello']);
      const l4 = gen.next();
      assert.deepEqual(l4.value?.words, ['y']);
      assert.equal(gen.next().done, true);
    } finally {
      delete process.env[name];
    }
  });

  test('without the change, the same file expands to nothing', () => {
    const name = 'HAPROXY_TS_READER_LAZY2';
    delete process.env[name];
    const f = writeCfg(`x "\${${name}}"\n.if defined(${name})\ny\n.endif\n`);
    const lines = [...readConfig([f], makeCtx(), () => {})];
    assert.deepEqual(lines.map((l) => l.words), [['x', '']]);
  });

  test('diagnostics are reported as the lines are reached', () => {
    const f = writeCfg('a\n.notice "one"\nb\n.notice "two"\n');
    const seen: string[] = [];
    const gen = readConfig([f], makeCtx({}), (d) => seen.push(d.msg));
    gen.next();
    assert.deepEqual(seen, []);
    gen.next();
    assert.deepEqual(seen, ["'one'."]);
    gen.next();
    assert.deepEqual(seen, ["'one'.", "'two'."]);
  });
});

describe('reader: listConfigFiles', () => {
  test('a directory gives its non-hidden regular *.cfg files in byte order', () => {
    const dir = path.join(tmp, 'conf.d');
    fs.mkdirSync(dir);
    for (const n of ['b.cfg', 'a.cfg', '10-x.cfg', '9.cfg', 'Z.cfg', '_u.cfg', '.hidden.cfg', 'notes.txt', 'x.cfg.bak', 'a.cfg.cfg', 'cfg']) {
      fs.writeFileSync(path.join(dir, n), '');
    }
    fs.mkdirSync(path.join(dir, 'sub.cfg'));
    let withLink = true;
    try {
      fs.symlinkSync(path.join(dir, 'a.cfg'), path.join(dir, 'link.cfg'));
      fs.symlinkSync(path.join(dir, 'sub.cfg'), path.join(dir, 'dirlink.cfg'));
    } catch {
      withLink = false;
    }
    const expected = ['10-x.cfg', '9.cfg', 'Z.cfg', '_u.cfg', 'a.cfg', 'b.cfg'];
    if (withLink) expected.push('link.cfg');
    assert.deepEqual(
      listConfigFiles([dir]),
      expected.map((n) => `${dir}/${n}`),
    );
  });

  test('files and directories keep the command-line order', () => {
    const dir = path.join(tmp, 'conf2.d');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'm.cfg'), '');
    const f1 = writeCfg('', 'first.conf');
    const f2 = writeCfg('', 'last.txt');
    assert.deepEqual(listConfigFiles([f1, dir, f2]), [f1, `${dir}/m.cfg`, f2]);
  });

  test('an empty directory contributes nothing', () => {
    const dir = path.join(tmp, 'empty.d');
    fs.mkdirSync(dir);
    assert.deepEqual(listConfigFiles([dir]), []);
  });

  test('a missing path throws a clear error', () => {
    const missing = path.join(tmp, 'nope.cfg');
    assert.throws(
      () => listConfigFiles([missing]),
      (e: unknown) =>
        e instanceof Error &&
        e.message === `Cannot open configuration file/directory ${missing} : No such file or directory`,
    );
  });

  test('files from a directory are read in that order', () => {
    const dir = path.join(tmp, 'ordered.d');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, '20-b.cfg'), 'second\n');
    fs.writeFileSync(path.join(dir, '10-a.cfg'), 'first\n');
    assert.deepEqual(run(listConfigFiles([dir])).words, [['first'], ['second']]);
  });
});
