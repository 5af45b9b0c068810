// http_auth* fetches. Expected values are what HAProxy 2.6 returned for the same Authorization
// headers (an lf-string of every fetch in `http-request return`, queried with curl); base64
// strings computed with coreutils' base64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../helpers/config.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { parseSampleExpr, ExprError } from '../../src/sample/expr.js';
import { HttpHeaders, type HttpRequestHead } from '../../src/http/htx.js';
import type { Runtime } from '../../src/proxy/runtime.js';
import '../../src/sample/fetches/auth.js';
import '../../src/proxy/userlist.js';

const parsed = parseConfigText(`
userlist L1
  group G1 users tiger
  group G2
  user tiger insecure-password elgato
  user scott insecure-password "" groups G1,G2
  user md5 password $1$saltsalt$9xy1btjgzLYfb7hivXtC//
userlist B
  user bb insecure-password x
`);
assert.equal(parsed.fatal, false);
const rt = { config: parsed.config } as unknown as Runtime;

function ctx(...headers: [string, string][]): SmpCtx {
  const c = new SmpCtx(staticConn());
  c.rt = rt;
  const req: HttpRequestHead = { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: new HttpHeaders() };
  for (const [n, v] of headers) req.headers.add(n, v);
  c.req = req;
  return c;
}
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const cx = { where: 't:1' };
const ev = (expr: string, c: SmpCtx): unknown => parseSampleExpr(expr, cx).eval(c)?.v;
const all = (expr: string, c: SmpCtx): unknown => parseSampleExpr(expr, cx).evalAll(c)?.map((s) => s.v);

/** The values HAProxy 2.6 printed: type, user, pass, bearer, http_auth(L1), http_auth(B), group. */
function row(c: SmpCtx): unknown[] {
  return ['http_auth_type', 'http_auth_user', 'http_auth_pass', 'http_auth_bearer', 'http_auth(L1)', 'http_auth(B)', 'http_auth_group(L1)']
    .map((e) => ev(e, c));
}
const U = undefined;

test('Basic credentials checked against userlists', () => {
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('tiger:elgato')}`])), ['Basic', 'tiger', 'elgato', U, true, false, 'tiger']);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('tiger:bad')}`])), ['Basic', 'tiger', 'bad', U, false, false, U]);
  assert.deepEqual(row(ctx(['Authorization', `basic ${b64('scott:')}`])), ['Basic', 'scott', '', U, true, false, 'scott']);
  assert.deepEqual(row(ctx(['Authorization', `BASIC ${b64('md5:secret')}`])), ['Basic', 'md5', 'secret', U, true, false, 'md5']);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('bb:x')}`])), ['Basic', 'bb', 'x', U, false, true, U]);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('a:b:c')}`])), ['Basic', 'a', 'b:c', U, false, false, U]);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64(':b')}`])), ['Basic', '', 'b', U, false, false, U]);
});

test('Authorization header parsing quirks', () => {
  const none = [U, U, U, U, U, U, U];
  const ok = ['Basic', 'tiger', 'elgato', U, true, false, 'tiger'];
  const cred = b64('tiger:elgato');
  assert.deepEqual(row(ctx()), none);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('nocolon')}`])), none);
  assert.deepEqual(row(ctx(['Authorization', `Basic  ${cred}`])), ok); // several spaces
  assert.deepEqual(row(ctx(['Authorization', `Bas ${cred}`])), ok); // a prefix of the scheme
  assert.deepEqual(row(ctx(['Authorization', `Basicx ${cred}`])), none);
  assert.deepEqual(row(ctx(['Authorization', `Basic\t${cred}`])), none);
  assert.deepEqual(row(ctx(['Authorization', 'Basic'])), none);
  assert.deepEqual(row(ctx(['Authorization', 'Digest username=x'])), none);
  assert.deepEqual(row(ctx(['Authorization', `Basic ${cred}, Bearer x`])), ok); // first value only
  assert.deepEqual(row(ctx(['Authorization', 'Bearer first'], ['Authorization', `Basic ${cred}`])),
    ['Bearer', U, U, 'first', U, U, U]); // first field only
  // strict base64
  assert.deepEqual(row(ctx(['Authorization', `${'Basic dGlnZXI6ZWxnYXRv'}!`])), none);
  assert.deepEqual(row(ctx(['Authorization', 'Basic dGlnZXI6ZWxnYXR'])), none);
  // decoded text stops at a NUL byte
  assert.deepEqual(row(ctx(['Authorization', 'Basic dGlnZXI6ZWxnYXRvAHp6'])), ok);
  assert.deepEqual(row(ctx(['Authorization', 'Basic dGkAZ2VyOmVsZ2F0bw=='])), none);
  // 8-bit bytes are kept one char per byte
  assert.deepEqual(row(ctx(['Authorization', `Basic ${b64('tig\xe9r:p\xe9')}`])).slice(0, 3), ['Basic', 'tig\xe9r', 'p\xe9']);
});

test('http_auth_bearer', () => {
  assert.deepEqual(row(ctx(['Authorization', 'Bearer tok123'])), ['Bearer', U, U, 'tok123', U, U, U]);
  assert.equal(ev('http_auth_bearer', ctx(['Authorization', 'bearer  tok 123'])), 'tok 123');
  assert.equal(ev('http_auth_bearer', ctx(['Authorization', 'Bearer'])), undefined);
  // another header
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['Authorization', `basic ${b64('scott:')}`], ['X-Tok', 'Bearer abc'])), 'abc');
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['X-Tok', 'bearer q'])), 'q');
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['X-Tok', 'Bearer t1'], ['X-Tok', 'Bearer t2'])), 't1');
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['X-Tok', 'Bearer t1, Bearer t2'])), 't1');
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['Authorization', 'Bearer a'])), undefined);
  assert.equal(ev('http_auth_bearer(X-Tok)', ctx(['X-Tok', `Basic ${b64('a:b')}`])), undefined);
  assert.equal(ev('http_auth_bearer(authorization)', ctx(['Authorization', 'Bearer a'])), 'a');
});

test('http_auth_group for ACLs: every group of the valid user', () => {
  assert.deepEqual(all('http_auth_group(L1)', ctx(['Authorization', `Basic ${b64('tiger:elgato')}`])), ['G1']);
  assert.deepEqual(all('http_auth_group(L1)', ctx(['Authorization', `Basic ${b64('scott:')}`])), ['G1', 'G2']);
  assert.deepEqual(all('http_auth_group(L1)', ctx(['Authorization', `Basic ${b64('md5:secret')}`])), []);
  assert.equal(all('http_auth_group(L1)', ctx(['Authorization', `Basic ${b64('scott:x')}`])), undefined);
  assert.equal(all('http_auth_group(L1)', ctx()), undefined);
});

test('missing data: no request, no runtime, unknown userlist', () => {
  const c = new SmpCtx(staticConn());
  for (const e of ['http_auth_type', 'http_auth_user', 'http_auth_pass', 'http_auth_bearer', 'http_auth_bearer(x)', 'http_auth(L1)', 'http_auth_group(L1)']) {
    assert.equal(parseSampleExpr(e, cx).eval(c), undefined, e);
  }
  const c2 = ctx(['Authorization', `Basic ${b64('tiger:elgato')}`]);
  c2.rt = undefined;
  assert.equal(ev('http_auth(L1)', c2), undefined);
  assert.equal(ev('http_auth(L9)', ctx(['Authorization', `Basic ${b64('tiger:elgato')}`])), undefined);
  // the header is parsed again when it changes on the same request
  const c3 = ctx(['Authorization', `Basic ${b64('tiger:elgato')}`]);
  assert.equal(ev('http_auth_user', c3), 'tiger');
  c3.req!.headers.set('Authorization', `Basic ${b64('scott:')}`);
  assert.equal(ev('http_auth_user', c3), 'scott');
});

test('bad arguments are rejected at parse time', () => {
  assert.throws(() => parseSampleExpr('http_auth', cx), ExprError);
  assert.throws(() => parseSampleExpr('http_auth_group', cx), ExprError);
  assert.throws(() => parseSampleExpr('http_auth(L1,L2)', cx), ExprError);
  assert.throws(() => parseSampleExpr('http_auth_user(x)', cx), ExprError);
  assert.throws(() => parseSampleExpr('http_auth_bearer(a,b)', cx), ExprError);
  assert.equal(parseSampleExpr('http_auth(L1)', cx).out, 'bool');
  assert.equal(parseSampleExpr('http_auth_group(L1)', cx).out, 'str');
});
