import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  evalCondition,
  evalConditionText,
  compareVersions,
  parseVersion,
  CondError,
  type CondContext,
} from '../../src/config/cond.js';

function makeCtx(over: Partial<CondContext> = {}): CondContext {
  return {
    version: '3.2.0',
    hasFeature: (n) => n === 'OPENSSL' || n === 'LUA',
    isEnabled: (o) => o === 'POLL' || o === 'EPOLL',
    env: { FOO: '1', EMPTY: '', WITH_SSL: 'yes' },
    ...over,
  };
}

const ctx = makeCtx();

function ev(expr: string, c: CondContext = ctx): boolean {
  return evalCondition([expr], c);
}

function evErr(expr: string, c: CondContext = ctx): CondError {
  try {
    const r = evalCondition([expr], c);
    assert.fail(`expected an error for ${JSON.stringify(expr)}, got ${r}`);
  } catch (e) {
    assert.ok(e instanceof CondError, `expected CondError, got ${String(e)}`);
    return e;
  }
}

describe('cond: constant terms', () => {
  test('empty condition is false', () => {
    assert.equal(evalCondition([], ctx), false);
    assert.equal(evalCondition([''], ctx), false);
  });

  test('zero is false, non-zero integers are true', () => {
    assert.equal(ev('0'), false);
    assert.equal(ev('1'), true);
    assert.equal(ev('42'), true);
    assert.equal(ev('-1'), true);
    assert.equal(ev('+0'), false);
    assert.equal(ev('0x10'), true);
    assert.equal(ev('0x0'), false);
    assert.equal(ev('007'), true);
    assert.equal(ev('000'), false);
  });

  test('any other word is an error', () => {
    assert.match(evErr('yes').message, /unparsable conditional expression 'yes'/);
    assert.match(evErr('true').message, /unparsable/);
  });

  test('garbage after a valid expression is an error', () => {
    const e = evErr('1abc');
    assert.match(e.message, /unexpected character 'a' at the end of conditional expression '1abc'/);
    assert.equal(e.pos, 1);
    assert.match(evErr('08').message, /unexpected character '8'/);
    assert.match(evErr('1 2').message, /unexpected character '2'/);
  });

  test('whitespace-only condition is an error', () => {
    assert.ok(evErr(' ') instanceof CondError);
  });

  test('CondError carries the message, position and expression', () => {
    const e = evErr('1 && foo');
    assert.equal(e.name, 'CondError');
    assert.equal(e.expr, '1 && foo');
    assert.equal(e.pos, 5);
    assert.ok(e instanceof Error);
  });
});

describe('cond: predicates', () => {
  test('defined()', () => {
    assert.equal(ev('defined(FOO)'), true);
    assert.equal(ev('defined(EMPTY)'), true, 'defined regardless of contents');
    assert.equal(ev('defined(NOPE)'), false);
    assert.equal(ev('defined( FOO )'), false, 'spaces are part of the name');
  });

  test('defined() reads process.env when the context has no env', () => {
    const name = 'HAPROXY_TS_COND_TEST';
    const c = makeCtx({ env: undefined });
    delete process.env[name];
    assert.equal(ev(`defined(${name})`, c), false);
    process.env[name] = '';
    try {
      assert.equal(ev(`defined(${name})`, c), true);
    } finally {
      delete process.env[name];
    }
  });

  test('feature()', () => {
    assert.equal(ev('feature(OPENSSL)'), true);
    assert.equal(ev('feature(QUIC)'), false);
    assert.equal(ev('!feature(QUIC)'), true);
  });

  test('streq() and strneq()', () => {
    assert.equal(ev('streq(a,a)'), true);
    assert.equal(ev('streq(a,b)'), false);
    assert.equal(ev('streq(0, 1)'), false);
    assert.equal(ev('streq(1, 1)'), false, 'the space before the second arg is kept');
    assert.equal(ev('streq(,)'), true);
    assert.equal(ev('strneq(a,b)'), true);
    assert.equal(ev('strneq(a,a)'), false);
  });

  test('strstr()', () => {
    assert.equal(ev('strstr(haproxy,prox)'), true);
    assert.equal(ev('strstr(haproxy,xorp)'), false);
    assert.equal(ev('strstr(abc,)'), true, 'empty needle is always found');
  });

  test('version_atleast() and version_before()', () => {
    assert.equal(ev('version_atleast(3.2)'), true);
    assert.equal(ev('version_atleast(3.2.0)'), true);
    assert.equal(ev('version_atleast(3.1.9)'), true);
    assert.equal(ev('version_atleast(2.4-dev19)'), true);
    assert.equal(ev('version_atleast(3.2.1)'), false);
    assert.equal(ev('version_atleast(3.3-dev1)'), false);
    assert.equal(ev('version_before(3.2)'), false);
    assert.equal(ev('version_before(3.2.1)'), true);
    assert.equal(ev('version_before(3.3)'), true);
    assert.equal(ev('version_before(3.1)'), false);
  });

  test('version predicates against a development version', () => {
    const dev = makeCtx({ version: '3.2-dev7' });
    assert.equal(ev('version_atleast(3.2)', dev), false);
    assert.equal(ev('version_atleast(3.2-dev7)', dev), true);
    assert.equal(ev('version_atleast(3.2-dev8)', dev), false);
    assert.equal(ev('version_before(3.2-rc1)', dev), true);
  });

  test('an unparsable version argument makes version_atleast true and version_before false', () => {
    assert.equal(ev('version_atleast(x.y)'), true);
    assert.equal(ev('version_before(x.y)'), false);
  });

  test('enabled()', () => {
    assert.equal(ev('enabled(POLL)'), true);
    assert.equal(ev('enabled(SPLICE)'), false);
  });

  test('quoted predicate arguments', () => {
    assert.equal(ev(`streq("a,b",'a,b')`), true);
    assert.equal(ev(`streq("a)b",a)`), false);
    assert.equal(ev(`streq("a)b",'a)b')`), true);
    assert.equal(ev(`streq("x y",x\\ y)`), true);
    assert.equal(ev(`streq('a\\b',"a\\\\b")`), true);
    assert.equal(ev(`strstr("it's",\\')`), true);
  });

  test('predicate argument errors', () => {
    assert.match(evErr('streq(a)').message, /missing arguments \(got 1\/2\).*predicate 'streq'/);
    assert.match(evErr('streq').message, /missing arguments/);
    assert.match(evErr('streq(a,b,c)').message, /expected '\)' before ',c\)'/);
    assert.match(evErr('defined(FOO').message, /expected '\)'/);
    assert.match(evErr('defined("abc)').message, /expected '\)'/);
    assert.match(evErr('streq("a,b)').message, /missing arguments \(got 1\/2\)/);
  });

  test('a predicate without parenthesis gets one empty argument', () => {
    assert.equal(ev('defined'), false);
    assert.equal(ev('defined()'), false);
    assert.equal(ev('!defined'), true);
  });

  test('unknown predicates are errors', () => {
    assert.match(evErr('foo(1)').message, /unparsable conditional expression 'foo\(1\)'/);
    assert.match(evErr('openssl_version_atleast(1.1.1)').message, /unparsable/);
  });
});

describe('cond: operators', () => {
  test('negation, repeated and spaced', () => {
    assert.equal(ev('!0'), true);
    assert.equal(ev('!1'), false);
    assert.equal(ev('!!1'), true);
    assert.equal(ev('! ! 0'), false);
    assert.equal(ev('!(0 || 0)'), true);
  });

  test('&& and ||', () => {
    assert.equal(ev('1 && 1'), true);
    assert.equal(ev('1 && 0'), false);
    assert.equal(ev('0 || 1'), true);
    assert.equal(ev('0 || 0'), false);
    assert.equal(ev('1&&1&&0'), false);
    assert.equal(ev('0||0||1'), true);
  });

  test('&& binds tighter than ||', () => {
    assert.equal(ev('1 || 1 && 0'), true);
    assert.equal(ev('0 && 1 || 1'), true);
    assert.equal(ev('0 || 1 && 0'), false);
    assert.equal(ev('1 && 0 || 0 && 1'), false);
  });

  test('parentheses override precedence and may nest', () => {
    assert.equal(ev('(1 || 1) && 0'), false);
    assert.equal(ev('0 && (1 || 1)'), false);
    assert.equal(ev('((1))'), true);
    assert.equal(ev('( ( 0 ) || ( 1 && ( 1 ) ) )'), true);
    assert.equal(ev('feature(OPENSSL) && (streq(yes,yes) || streq(no,yes))'), true);
  });

  test('syntax errors', () => {
    assert.match(evErr('(1').message, /expected '\)'/);
    assert.match(evErr('1 &&').message, /unparsable/);
    assert.match(evErr('1 ||').message, /unparsable/);
    assert.match(evErr('&& 1').message, /unparsable/);
    assert.match(evErr('()').message, /unparsable/);
    assert.match(evErr('!').message, /unparsable/);
    assert.match(evErr('1)').message, /unexpected character '\)'/);
    assert.match(evErr('1 & 1').message, /unexpected character '&'/);
  });

  test('syntax errors are reported even where short-circuit would skip evaluation', () => {
    assert.ok(evErr('1 || foo') instanceof CondError);
    assert.ok(evErr('0 && streq(a)') instanceof CondError);
  });

  test('deep nesting is bounded', () => {
    const deep = '('.repeat(2000) + '1' + ')'.repeat(2000);
    assert.ok(evErr(deep) instanceof CondError);
    const ok = '('.repeat(100) + '1' + ')'.repeat(100);
    assert.equal(ev(ok), true);
  });

  test('long && chains are fine', () => {
    assert.equal(ev(Array(5000).fill('1').join(' && ')), true);
    assert.equal(ev(Array(5000).fill('0').join(' || ')), false);
  });
});

describe('cond: words joining', () => {
  test('words are joined with single spaces before parsing', () => {
    assert.equal(evalCondition(['defined(FOO)', '&&', 'streq(yes,yes)'], ctx), true);
    assert.equal(evalCondition(['streq(0,', '0)'], ctx), false, 'joined as "streq(0, 0)"');
    assert.equal(evalCondition(['streq(a', 'b,a', 'b)'], ctx), true);
  });

  test('evalConditionText tokenizes the text first (as -cc does)', () => {
    assert.equal(evalConditionText('streq("$WITH_SSL",yes)', ctx), true);
    assert.equal(evalConditionText('streq("${NOPE-x}",x) && defined(FOO)', ctx), true);
    assert.equal(evalConditionText("'1' && \"0\"", ctx), false);
    assert.equal(evalConditionText('', ctx), false);
    assert.throws(() => evalConditionText('streq("a,b)', ctx), CondError);
    assert.throws(() => evalConditionText('yes', ctx), /unparsable/);
  });
});

describe('cond: version comparison', () => {
  test('parseVersion splits the components', () => {
    assert.deepEqual(parseVersion('3.2'), [3, 2, 0, 0, 3, 0, 0]);
    assert.deepEqual(parseVersion('1.2.10.1'), [1, 2, 10, 1, 3, 0, 0]);
    assert.deepEqual(parseVersion('1.2.1-pre2'), [1, 2, 1, 0, 2, 2, 0]);
    assert.deepEqual(parseVersion('1.3.16-rc1'), [1, 3, 16, 0, 2, 1, 0]);
    assert.deepEqual(parseVersion('1.5-dev18-43'), [1, 5, 0, 0, 1, 18, 43]);
    assert.deepEqual(parseVersion('2.4-dev18-f6818d-20'), [2, 4, 0, 0, 1, 18, 20]);
    assert.deepEqual(parseVersion('3.2.0-1ubuntu'), [3, 2, 0, 0, 3, 0, 0]);
    assert.equal(parseVersion(''), null);
    assert.equal(parseVersion('x.y'), null);
    assert.equal(parseVersion('1.2.3.4.5'), null);
    assert.equal(parseVersion('3.2-dev1x'), null);
    assert.equal(parseVersion('3.2-foo-'), null);
  });

  test('missing components count as zero', () => {
    assert.equal(compareVersions('3.2', '3.2.0'), 0);
    assert.equal(compareVersions('3', '3.0.0.0'), 0);
  });

  test('components compare numerically, one by one', () => {
    assert.ok(compareVersions('3.10', '3.9') > 0);
    assert.ok(compareVersions('3.2.1', '3.2.10') < 0);
    assert.ok(compareVersions('2.9.9', '3.0') < 0);
    assert.ok(compareVersions('3.2.0.1', '3.2') > 0);
  });

  test('dev < rc/pre < release', () => {
    assert.ok(compareVersions('3.2-dev4', '3.2') < 0);
    assert.ok(compareVersions('3.2-rc1', '3.2') < 0);
    assert.ok(compareVersions('3.2-dev9', '3.2-rc1') < 0);
    assert.equal(compareVersions('3.2-pre1', '3.2-rc1'), 0);
    assert.ok(compareVersions('3.2-dev10', '3.2-dev9') > 0);
    assert.ok(compareVersions('3.2-dev', '3.1.9') > 0);
  });

  test('build number is compared last', () => {
    assert.ok(compareVersions('3.2.0-20', '3.2.0-3') > 0);
    assert.equal(compareVersions('3.2.0-abc', '3.2.0'), 0);
  });

  test('invalid versions throw', () => {
    assert.throws(() => compareVersions('abc', '3.2'), RangeError);
    assert.throws(() => compareVersions('3.2', ''), RangeError);
  });
});
