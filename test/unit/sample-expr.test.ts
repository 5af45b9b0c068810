// Sample expression syntax (configuration.txt 7.3 and 2.2 on quoting) and evaluation through
// converters. Expected values were checked against HAProxy 2.6 (`http-request set-var(txn.v)
// '<expr>'` then `lf-string "%[var(txn.v)]"`, queried with curl) where noted "2.6".
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/sample/index.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { HttpHeaders } from '../../src/http/htx.js';
import { parseSampleExpr, splitArgs, findClose, SampleExpr, ExprError } from '../../src/sample/expr.js';
import { converterRegistry, USE, USE_LABELS, type FetchDef } from '../../src/sample/registry.js';
import type { Sample } from '../../src/sample/types.js';

function reqCtx(h: [string, string][], method = 'GET', uri = '/p?a=1&b=2'): SmpCtx {
  const c = new SmpCtx(staticConn('10.0.0.1', 4000));
  c.req = { method, uri, version: 'HTTP/1.1', headers: new HttpHeaders(h.map(([name, value]) => ({ name, lname: name.toLowerCase(), value }))) };
  return c;
}
const px = (t: string) => parseSampleExpr(t, { where: 'test' });
function err(t: string, opts: Record<string, unknown> = {}): string {
  try {
    px.call(null, t);
    if (Object.keys(opts).length) parseSampleExpr(t, { where: 'test', ...opts });
  } catch (e) {
    assert.ok(e instanceof ExprError, String(e));
    return e.message;
  }
  assert.fail(`expected an error for ${t}`);
}
const val = (t: string, c: SmpCtx) => px(t).eval(c)?.v;

describe('argument splitting', () => {
  test('commas separate, quotes protect commas and parentheses', () => {
    assert.deepEqual(splitArgs('a,b'), ['a', 'b']);
    assert.deepEqual(splitArgs('"a,b",c'), ['a,b', 'c']);
    assert.deepEqual(splitArgs("'(,)'"), ['(,)']);
    assert.deepEqual(splitArgs(''), ['']);
    assert.deepEqual(splitArgs('a,,b'), ['a', '', 'b']);
    assert.deepEqual(splitArgs('x"y,z"w'), ['xy,zw']);          // 2.6: str(x"y,z"w) → xy,zw
  });
  test('backslash escapes only backslash, quotes and space', () => {
    // 2.6: str("x\ay") → x\ay, str("x\\y") → x\y, str(x\ay) → x\ay, str(x\\y) → x\y,
    // str("x\,y") → x\,y, str(x\"y) → x"y, str("x\1y") → x\1y, str(x\ y) → x y
    assert.deepEqual(splitArgs('"x\\ay"'), ['x\\ay']);
    assert.deepEqual(splitArgs('"x\\\\y"'), ['x\\y']);
    assert.deepEqual(splitArgs('x\\ay'), ['x\\ay']);
    assert.deepEqual(splitArgs('x\\\\y'), ['x\\y']);
    assert.deepEqual(splitArgs('"x\\,y"'), ['x\\,y']);
    assert.deepEqual(splitArgs('x\\"y'), ['x"y']);
    assert.deepEqual(splitArgs('"x\\"y"'), ['x"y']);
    assert.deepEqual(splitArgs('"x\\1y"'), ['x\\1y']);
    assert.deepEqual(splitArgs('x\\ y'), ['x y']);
    // no escapes at all inside single quotes
    assert.deepEqual(splitArgs("'x\\\\y'"), ['x\\\\y']);
  });
  test('unterminated quote', () => {
    assert.throws(() => splitArgs('"abc'), /unterminated quote/);
  });
  test('findClose honours quotes and nesting', () => {
    assert.equal(findClose('(a)', 0), 2);
    assert.equal(findClose('("a)b")x', 0), 6);
    assert.equal(findClose('((a))', 0), 4);
    assert.equal(findClose('(a', 0), -1);
  });
});

describe('parse: fetches and arguments', () => {
  test('without arguments, with empty parentheses, with optional ones', () => {
    const c = reqCtx([['X', 'a, b, c'], ['Host', 'h']]);
    assert.equal(px('method').fetchArgs.length, 0);
    assert.equal(px('method()').fetchArgs.length, 0);
    assert.deepEqual(px('hdr()').fetchArgs, px('hdr').fetchArgs);
    assert.equal(px('hdr(x)').fetchArgs[0], 'x');
    assert.deepEqual(px('hdr(x,2)').fetchArgs.slice(0, 2), ['x', 2]);
    assert.deepEqual(px('hdr(x,-1)').fetchArgs.slice(0, 2), ['x', -1]);
    // 2.6: hdr(x,2) with "a, b, c" → b ; hdr(x,-1) → c ; hdr(x,-3) → a ; hdr(x,5) → not found
    assert.equal(val('hdr(x,2)', c), 'b');
    assert.equal(val('hdr(x,-1)', c), 'c');
    assert.equal(val('hdr(x,-3)', c), 'a');
    assert.equal(val('hdr(x,5)', c), undefined);
    assert.equal(val('req.fhdr(x)', c), 'a, b, c');
    assert.equal(val('req.hdr_cnt(x)', c), 3);              // 2.6: 3
    assert.equal(val('method', c), 'GET');
  });

  test('quoted arguments with commas and parentheses', () => {
    const c = reqCtx([['X', 'a,b,c'], ['Y', 'abcb'], ['Z', '/x/y']]);
    assert.equal(val('req.fhdr(x),field(2,",")', c), 'b');            // 2.6: b
    assert.equal(val('req.fhdr(y),regsub("(b)","[)]",g)', c), 'a[)]c[)]'); // 2.6: a[)]c[)]
    assert.equal(val('req.fhdr(y),regsub("(b)","[\\1]")', c), 'a[b]cb');   // back-reference kept
    assert.equal(val('hdr(z),word(1,"/")', c), 'x');                  // 2.6: x
  });

  test('converter chains, the output type follows the last converter', () => {
    const c = reqCtx([['X', 'aBc']]);
    const e = px('req.fhdr(x),lower,length');
    assert.equal(e.out, 'sint');
    assert.equal(e.convs.length, 2);
    assert.equal(e.eval(c)!.v, 3);
    assert.equal(px('req.fhdr(x)').out, 'str');
    assert.equal(px('req.hdrs').out, 'bin');
    assert.equal(px('method').out, 'meth');
    assert.equal(px('req.hdr_ip(x)').out, 'addr');
    // 2.6: ',,' and a trailing ',' are accepted
    assert.equal(val('req.fhdr(x),lower,,upper', c), 'ABC');
    assert.equal(val('req.fhdr(x),lower,', c), 'abc');
  });

  test('implicit casts between steps at run time', () => {
    const c = reqCtx([['N', '41'], ['S', 'abc'], ['I', '10.0.0.1']]);
    assert.equal(val('hdr(n),add(1)', c), 42);        // str → sint
    assert.equal(val('hdr(s),add(1)', c), 1);         // 2.6: "abc" reads as 0
    assert.equal(val('req.proto_http,add(3)', c), 4); // bool → sint (2.6: 4)
    // 2.6: req.proto_http,hex → 0000000000000001 ; method,hex → 474554
    assert.equal(val('req.proto_http,hex', c), '0000000000000001');
    assert.equal(val('method,hex', c), '474554');
    assert.equal(val('hdr_ip(i),hex', c), '0A000001');  // 2.6: 0A000001
    assert.equal(val('hdr_val(n),hex', c), '0000000000000029');
    // a cast failing at run time: the sample is not found
    assert.equal(px('hdr(s),ipmask(16)').eval(c), undefined);    // 2.6: empty
    assert.equal(val('hdr(i),ipmask(16)', c), 167772160);        // 10.0.0.0 (ipv4 as a number)
  });

  test('errors', () => {
    assert.match(err('hdrr(host)'), /^unknown fetch method 'hdrr'; did you mean 'hdr' maybe \?$/);
    assert.match(err('nosuchthingatall'), /^unknown fetch method 'nosuchthingatall'/);
    assert.match(err(''), /unknown fetch method/);
    assert.match(err('hdr(x),lowr'), /^unknown converter 'lowr'; did you mean 'lower' maybe \?$/);
    assert.match(err('hdr(x),"lower"'), /^unknown converter/);
    assert.match(err('hdr(a,1,2)'), /invalid args in fetch method 'hdr' : end of arguments expected at position 3, but got '2'/);
    assert.match(err('method(x)'), /end of arguments expected at position 1, but got 'x'/);
    assert.match(err('hdr(x),lower(1)'), /invalid args in converter 'lower' : end of arguments expected at position 1/);
    assert.match(err('hdr(x),field(1)'), /missing args for converter 'field' : expected type 'string' at position 2/);
    assert.match(err('hdr(x),field'), /missing args for converter 'field' : expected type 'integer' at position 1/);
    assert.match(err('hdr(x,abc)'), /failed to parse 'abc' as type 'integer' at position 2/);
    assert.match(err('hdr(x,1.5)'), /failed to parse '1.5' as type 'integer'/);
    assert.match(err('hdr(x,)'), /failed to parse '' as type 'integer'/);
    assert.match(err('hdr(x'), /missing '\)' after fetch method 'hdr'/);
    assert.match(err('hdr(x),field(1,"'), /unterminated quote|missing '\)'/);
    assert.match(err('hdr(x)lower'), /missing comma after fetch keyword 'hdr'/);
    // converter inputs that cannot be cast (2.6: "converter 'add' cannot be applied")
    assert.match(err('method,add(1)'), /^converter 'add' cannot be applied$/);
    assert.match(err('req.hdrs,add(1)'), /^converter 'add' cannot be applied$/);
    assert.match(err('req.hdrs,ipmask(8)'), /cannot be applied/);
    assert.match(err('req.proto_http,lower,ipmask(8),not'), /converter 'not' cannot be applied/); // addr → sint
    assert.match(err('hdr(x),ipmask(33)'), /failed to parse '33' as type 'IPv4 mask'/);
  });

  test('a fetch used where its data is not available (use option)', () => {
    const hrq = { use: USE.FE_HRQ_HDR, useLabel: USE_LABELS[USE.FE_HRQ_HDR] };
    assert.match(err('res.hdr(x)', hrq), /fetch method 'res\.hdr' extracts information from 'response contents, response headers', none of which is available here \('frontend http-request header rule'\)/);
    assert.match(err('hdr(x)', { use: USE.FE_CON_ACC }), /fetch method 'hdr' extracts information from .*request headers.*none of which is available here/);
    // allowed places parse fine
    parseSampleExpr('hdr(x)', { where: 't', ...hrq });
    parseSampleExpr('res.hdr(x)', { where: 't', use: USE.FE_HRS_HDR });
  });
});

describe('evaluation', () => {
  test('missing data: fetch not found, converters not called', () => {
    const c = reqCtx([]);
    assert.equal(px('hdr(x),lower,length').eval(c), undefined);
    const noReq = new SmpCtx(staticConn());
    assert.equal(px('method').eval(noReq), undefined);
  });

  test('evalAll: every occurrence through the converters', () => {
    const c = reqCtx([['X', 'Aa, Bb'], ['x', 'Cc']]);
    assert.deepEqual(px('hdr(x),lower').evalAll(c)!.map((s) => s.v), ['aa', 'bb', 'cc']);
    assert.deepEqual(px('req.fhdr(x)').evalAll(c)!.map((s) => s.v), ['Aa, Bb', 'Cc']);
    assert.deepEqual(px('method').evalAll(c)!.map((s) => s.v), ['GET']);
    assert.equal(px('hdr(y)').evalAll(reqCtx([])) === undefined || px('hdr(y)').evalAll(reqCtx([]))!.length === 0, true);
  });

  // A fetch that may still change (contents being inspected), built by hand: no such fetch is
  // registered yet among the ones this file may use.
  function changing(v: string, mayChange: boolean, all?: string[]): FetchDef {
    return {
      name: 'test_changing', args: [], argText: '', out: 'str', use: new Array(22).fill(true),
      fn: (): Sample => ({ t: 'str', v, mayChange }),
      all: all ? () => all.map((x) => ({ t: 'str', v: x, mayChange })) : undefined,
    };
  }
  const step = (name: string, args: any[] = []) => ({ def: converterRegistry.get(name)!, args });

  test('mayChange propagates through converters (eval and evalAll)', () => {
    const c = reqCtx([]);
    const e = new SampleExpr('t', changing('AbC', true), [], [step('lower'), step('length')]);
    const s = e.eval(c)!;
    assert.equal(s.v, 3);
    assert.equal(s.t, 'sint');
    assert.equal(s.mayChange, true);
    const f = new SampleExpr('t', changing('x', false), [], [step('upper')]);
    assert.equal(f.eval(c)!.mayChange ?? false, false);
    const g = new SampleExpr('t', changing('x', true, ['a', 'B']), [], [step('upper')]);
    const all = g.evalAll(c)!;
    assert.deepEqual(all.map((x) => [x.v, x.mayChange]), [['A', true], ['B', true]]);
    // without converters the sample is returned as is
    assert.equal(new SampleExpr('t', changing('x', true), [], []).eval(c)!.mayChange, true);
    // a converter failing: not found even when it may change
    const h = new SampleExpr('t', changing('nope', true), [], [step('ipmask', [8, 128])]);
    assert.equal(h.eval(c), undefined);
  });

  test('a converter declared with the same output type as its input keeps the type', () => {
    const c = reqCtx([]);
    const same = { name: 'test_same', args: [], argText: '', in: 'any' as const, out: 'any' as const, sameAsInput: true, fn: (x: Sample) => x };
    const e = new SampleExpr('t', changing('5', false), [], [{ def: same, args: [] }, step('length')]);
    assert.equal(e.out, 'sint');
    const f = new SampleExpr('t', changing('5', false), [], [{ def: same, args: [] }]);
    assert.equal(f.out, 'str');
    assert.equal(f.eval(c)!.v, '5');
  });
});
