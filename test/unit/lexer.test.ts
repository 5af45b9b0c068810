import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { tokenizeLine, excerptForError, MAX_LINE_ARGS } from '../../src/config/lexer.js';

const ENV = {
  A: 'x y',
  EMPTY: '',
  LIST: ' a  b\tc ',
  ONE: 'one',
  _U9: 'under',
  HASH: 'a#b',
};

function words(line: string, env: Record<string, string | undefined> = ENV): string[] {
  const r = tokenizeLine(line, env);
  assert.equal(r.error, undefined, `unexpected error for ${JSON.stringify(line)}: ${r.error}`);
  return r.words;
}

function error(line: string, env: Record<string, string | undefined> = ENV): { error: string; pos: number | undefined } {
  const r = tokenizeLine(line, env);
  assert.ok(r.error, `expected an error for ${JSON.stringify(line)}, got ${JSON.stringify(r.words)}`);
  return { error: r.error, pos: r.errorPos };
}

describe('lexer: word splitting and comments', () => {
  test('splits on runs of spaces and tabs, ignoring indentation', () => {
    assert.deepEqual(words('  \tbind   :80\t\tssl  '), ['bind', ':80', 'ssl']);
  });

  test('empty, blank and comment-only lines give no word', () => {
    assert.deepEqual(words(''), []);
    assert.deepEqual(words('   \t '), []);
    assert.deepEqual(words('# a comment'), []);
    assert.deepEqual(words('    # indented comment "with quote'), []);
  });

  test('an unprotected # starts a comment even inside a word', () => {
    assert.deepEqual(words('global#this is the global section'), ['global']);
    assert.deepEqual(words('mode http   # or tcp'), ['mode', 'http']);
  });

  test('quoted or escaped # is literal', () => {
    assert.deepEqual(words('"a#b" \'c#d\' e\\#f'), ['a#b', 'c#d', 'e#f']);
  });

  test('CR or LF ends the line', () => {
    assert.deepEqual(words('frontend fe\r'), ['frontend', 'fe']);
    assert.deepEqual(words('a b\nc d'), ['a', 'b']);
  });

  test('a NUL character ends the line', () => {
    assert.deepEqual(words('a b\0c d'), ['a', 'b']);
  });

  test('very long lines are fine', () => {
    const long = 'x'.repeat(200000);
    assert.deepEqual(words(`k ${long} "${long}"`), ['k', long, long]);
  });
});

describe('lexer: quoting', () => {
  test('double quotes protect spaces, tabs, # and single quotes', () => {
    assert.deepEqual(words('a "b c\td # \'e\'" f'), ['a', "b c\td # 'e'", 'f']);
  });

  test('single quotes are fully literal', () => {
    assert.deepEqual(words("'\\n \\x41 $A ${A} \"q\" \\\\'"), ['\\n \\x41 $A ${A} "q" \\\\']);
  });

  test('quotes concatenate with adjacent text', () => {
    assert.deepEqual(words('a"b c"d'), ['ab cd']);
    assert.deepEqual(words("x'y z'\"w v\"u"), ['xy zw vu']);
  });

  test('the documented equivalent log-format forms all give the same word', () => {
    const expected = ['log-format', '%{+Q}o %t %s %{-Q}r'];
    assert.deepEqual(words('log-format %{+Q}o\\ %t\\ %s\\ %{-Q}r'), expected);
    assert.deepEqual(words('log-format "%{+Q}o %t %s %{-Q}r"'), expected);
    assert.deepEqual(words("log-format '%{+Q}o %t %s %{-Q}r'"), expected);
    assert.deepEqual(words('log-format "%{+Q}o %t"\' %s %{-Q}r\''), expected);
    assert.deepEqual(words('log-format "%{+Q}o %t"\' %s\'\\ %{-Q}r'), expected);
  });

  test('an empty quoted string is a word', () => {
    assert.deepEqual(words('a "" b'), ['a', '', 'b']);
    assert.deepEqual(words("a ''"), ['a', '']);
    assert.deepEqual(words('""'), ['']);
  });

  test('single quote inside double quotes and vice versa', () => {
    assert.deepEqual(words('"it\'s" \'say "hi"\''), ["it's", 'say "hi"']);
  });

  test('second-level quotes survive when escaped or nested', () => {
    assert.deepEqual(words('http-request set-path %[path,regsub(\\"(foo|bar)\\",blah,g)]'), [
      'http-request',
      'set-path',
      '%[path,regsub("(foo|bar)",blah,g)]',
    ]);
    assert.deepEqual(words('x \'%[path,regsub("^/(here)(/|$)","my/\\1",g)]\''), [
      'x',
      '%[path,regsub("^/(here)(/|$)","my/\\1",g)]',
    ]);
  });

  test('unterminated double quote is an error pointing at the quote', () => {
    const e = error('bind "abc');
    assert.match(e.error, /unmatched quote at position 6/);
    assert.equal(e.pos, 5);
  });

  test('unterminated single quote is an error', () => {
    const e = error("a 'b c");
    assert.match(e.error, /unmatched quote at position 3/);
  });

  test('a quote left open by an end of line is an error', () => {
    assert.match(error('a "b\r"').error, /unmatched quote/);
  });

  test('a # inside an open quote does not hide the missing quote', () => {
    assert.match(error('a "b # c').error, /unmatched quote/);
  });
});

describe('lexer: backslash escapes', () => {
  test('escaped space, tab, backslash, quotes and hash outside quotes', () => {
    assert.deepEqual(words('a\\ b c\\\tt \\\\ \\\' \\" \\#'), ['a b', 'c\tt', '\\', "'", '"', '#']);
  });

  test('\\r \\n \\t give control characters', () => {
    assert.deepEqual(words('\\r\\n\\t'), ['\r\n\t']);
    assert.deepEqual(words('"\\r\\n\\t"'), ['\r\n\t']);
  });

  test('\\xHH gives the character with that code, in any case', () => {
    assert.deepEqual(words('\\x41\\x6a\\x2A \\x20'), ['Aj*', ' ']);
    assert.deepEqual(words('"\\x22\\x23"'), ['"#']);
  });

  test('invalid or truncated hex escape is an error', () => {
    const e = error('abc \\xZ1');
    assert.match(e.error, /invalid hexadecimal sequence at position 5/);
    assert.equal(e.pos, 4);
    assert.match(error('\\x4').error, /hexadecimal/);
    assert.match(error('"\\xg0"').error, /hexadecimal/);
  });

  test('escapes work inside double quotes', () => {
    assert.deepEqual(words('"a\\"b\\\\c\\\'d\\#e\\ f"'), ['a"b\\c\'d#e f']);
  });

  test('\\$ is an escape only inside double quotes', () => {
    assert.deepEqual(words('"\\$A"'), ['$A']);
    assert.deepEqual(words('^/foo\\$'), ['^/foo\\$']);
  });

  test('unknown escapes keep the backslash', () => {
    assert.deepEqual(words('^\\d+\\.\\w$'), ['^\\d+\\.\\w$']);
    assert.deepEqual(words('"\\1"'), ['\\1']);
  });

  test('a trailing backslash is kept', () => {
    assert.deepEqual(words('a b\\'), ['a', 'b\\']);
  });

  test('no escape is processed inside single quotes', () => {
    assert.deepEqual(words("'a\\tb\\x41'"), ['a\\tb\\x41']);
  });
});

describe('lexer: environment variables', () => {
  test('$NAME and ${NAME} are expanded inside double quotes', () => {
    assert.deepEqual(words('"$A" "${A}" "<$ONE>" "${ONE}x" "$_U9"'), ['x y', 'x y', '<one>', 'onex', 'under']);
  });

  test('variables are not expanded outside double quotes', () => {
    assert.deepEqual(words('$A ${A} \'$A\''), ['$A', '${A}', '$A']);
  });

  test('the variable name stops at the first non-alphanumeric character', () => {
    assert.deepEqual(words('"$ONE-two" "$ONE.x"'), ['one-two', 'one.x']);
  });

  test('an unset variable expands to an empty string', () => {
    assert.deepEqual(words('a "$NOPE" b'), ['a', '', 'b']);
    assert.deepEqual(words('a "x${NOPE}y"'), ['a', 'xy']);
  });

  test('an expanded value is not re-parsed', () => {
    assert.deepEqual(words('"$HASH" z'), ['a#b', 'z']);
    assert.deepEqual(words('"$A"'), ['x y']);
  });

  test('${NAME-default} uses the default only when unset', () => {
    assert.deepEqual(words('"${NOPE-127.0.0.1}:514"'), ['127.0.0.1:514']);
    assert.deepEqual(words('"${ONE-dflt}"'), ['one']);
    assert.deepEqual(words('"${EMPTY-dflt}"'), ['']);
    assert.deepEqual(words('"${NOPE-two words}"'), ['two words']);
    assert.deepEqual(words('"${NOPE-}x"'), ['x']);
  });

  test('${NAME[*]} splits the value into several words', () => {
    assert.deepEqual(words('server-template "${LIST[*]}" end'), ['server-template', 'a', 'b', 'c', 'end']);
    assert.deepEqual(words('"${A[*]}"'), ['x', 'y']);
  });

  test('${NAME[*]} concatenates its first and last items with surrounding text', () => {
    assert.deepEqual(words('"pre${A[*]}post"'), ['prex', 'ypost']);
  });

  test('an empty or unset ${NAME[*]} produces no word', () => {
    assert.deepEqual(words('a "${EMPTY[*]}" b'), ['a', 'b']);
    assert.deepEqual(words('a "${NOPE[*]}"'), ['a']);
  });

  test('${NAME[*]-default} splits the default', () => {
    assert.deepEqual(words('"${NOPE[*]-d1 d2}"'), ['d1', 'd2']);
  });

  test('[*] without braces is literal text', () => {
    assert.deepEqual(words('"$ONE[*]"'), ['one[*]']);
  });

  test('the process environment is used by default, read at call time', () => {
    const name = 'HAPROXY_TS_LEXER_TEST_VAR';
    delete process.env[name];
    assert.deepEqual(tokenizeLine(`"\${${name}}"`).words, ['']);
    process.env[name] = 'live';
    try {
      assert.deepEqual(tokenizeLine(`"\${${name}}"`).words, ['live']);
    } finally {
      delete process.env[name];
    }
  });

  test('pseudo-variables .FILE .LINE .SECTION', () => {
    const r = tokenizeLine('"$.FILE:${.LINE}" "${.SECTION}"', {}, { file: 'h.cfg', line: 12, section: 'fe1' });
    assert.deepEqual(r.words, ['h.cfg:12', 'fe1']);
    const none = tokenizeLine('"${.SECTION-none}"', {});
    assert.deepEqual(none.words, ['none']);
  });

  test('unknown pseudo-variable is an error', () => {
    assert.match(error('"${.FOO}"').error, /pseudo-variable '.FOO'/);
  });

  test('forbidden first character in a variable name', () => {
    const e = error('x "$1abc"');
    assert.match(e.error, /forbidden first char in environment variable name at position 5/);
    assert.equal(e.pos, 4);
    assert.match(error('"price: 5$"').error, /forbidden first char/);
    assert.match(error('"${}"').error, /forbidden first char/);
  });

  test('unmatched brace', () => {
    const e = error('"${ONE"');
    assert.match(e.error, /unmatched brace in environment variable name at position 3/);
    assert.match(error('"${NOPE-abc"').error, /unmatched brace/);
  });

  test('bad word expansion sequence', () => {
    assert.match(error('"${A[x]}"').error, /invalid word expansion sequence at position 5/);
    assert.match(error('"${A[*}"').error, /word expansion/);
  });
});

describe('lexer: limits and helpers', () => {
  test(`at most ${MAX_LINE_ARGS} words per line`, () => {
    const ok = Array.from({ length: MAX_LINE_ARGS }, (_, i) => `w${i}`).join(' ');
    assert.equal(words(ok).length, MAX_LINE_ARGS);
    const r = tokenizeLine(ok + ' extra', {});
    assert.match(r.error ?? '', /too many words, truncating after word 64/);
    assert.equal(r.errorPos, undefined);
  });

  test('warnings is always an array', () => {
    assert.deepEqual(tokenizeLine('a b', {}).warnings, []);
  });

  test('excerptForError keeps short lines and cuts long ones around the position', () => {
    assert.deepEqual(excerptForError('ab\tc', 3), { text: 'ab?c', pos: 3 });
    const long = 'a'.repeat(100) + 'X' + 'b'.repeat(100);
    const ex = excerptForError(long, 100, 80);
    assert.equal(ex.text.length, 80);
    assert.equal(ex.text[ex.pos], 'X');
    assert.ok(ex.text.startsWith('...') && ex.text.endsWith('...'));
  });
});
