import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/sample/converters/protocols.js';
import { fetchRegistry, registerFetch } from '../../src/sample/registry.js';
import { parseSampleExpr, ExprError } from '../../src/sample/expr.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { smpBin, smpStr, smpInt, smpIpv4, smpIpv6, formatIpv4, formatIpv6, type Sample } from '../../src/sample/types.js';
import { ORACLE, PEMS, TOKENS } from './converters-protocols.data.js';

// The fetches these tests feed the converters with, when no other module registered them yet.
if (!fetchRegistry.has('bin')) registerFetch('bin', { fn: (a) => smpBin(Buffer.from(a[0] as string, 'hex')) });
if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => smpStr((a[0] as string | undefined) ?? '') });
if (!fetchRegistry.has('ipv4')) registerFetch('ipv4', { fn: (a) => smpIpv4(a[0] as number) });
if (!fetchRegistry.has('ipv6')) registerFetch('ipv6', { fn: (a) => smpIpv6(a[0] as Buffer) });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => smpInt(a[0] as number) });

const dir = mkdtempSync(join(tmpdir(), 'conv-proto-'));
for (const [name, pem] of Object.entries(PEMS)) writeFileSync(join(dir, name), pem);

function run(text: string, ctx = new SmpCtx(staticConn())): Sample | undefined {
  return parseSampleExpr(text, { where: 'test' }).eval(ctx);
}

/** Renders a result as haproxy's lf-string does ('' when there is no sample). */
function render(s: Sample | undefined, hex: boolean): string {
  if (!s) return '';
  switch (s.t) {
    case 'bool': return s.v ? '1' : '0';
    case 'sint': return String(s.v);
    case 'bin': return hex ? (s.v as Buffer).toString('hex').toUpperCase() : (s.v as Buffer).toString('latin1');
    case 'ipv4': return formatIpv4(s.v);
    case 'ipv6': return formatIpv6(s.v);
    default: {
      const v = s.v as string;
      return hex ? Buffer.from(v, 'latin1').toString('hex').toUpperCase() : v.replace(/[\x00-\x1f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    }
  }
}

test('outputs match haproxy 2.6 (json_query, jwt_*, mqtt_*, fix_*, protobuf, ungrpc)', () => {
  let n = 0;
  for (const [expr0, want] of ORACLE) {
    let expr = expr0.replaceAll('@DIR@', dir);
    const hex = expr.endsWith(',hex');
    if (hex) expr = expr.slice(0, -4);
    const got = render(run(expr), hex);
    assert.equal(got, want ?? '', expr0);
    n++;
  }
  assert.ok(n > 200);
});

test('json_query: details', () => {
  // a key containing a dot, escaped in the path (the converter receives `$.my\.key`)
  const doc = Buffer.from('{"my.key":"myvalue","n":{"a b":[true,false,null]}}').toString('hex');
  assert.equal(run(`bin(${doc}),json_query('$.my\\.key')`)?.v, 'myvalue');
  assert.deepEqual(run(`bin(${doc}),json_query('$.n.a b[0]')`), { t: 'bool', v: true });
  assert.deepEqual(run(`bin(${doc}),json_query('$.n.a b[1]')`), { t: 'bool', v: false });
  assert.equal(run(`bin(${doc}),json_query('$.n.a b[2]')`), undefined); // null
  assert.equal(run(`bin(${doc}),json_query('$.n')`), undefined); // object
  assert.equal(run(`bin(${doc}),json_query('$.n.a b')`)?.v, '[true,false,null]');
  assert.equal(run(`bin(),json_query('$.a')`), undefined); // empty input
  assert.equal(run(`bin(${Buffer.from('{"a":').toString('hex')}),json_query('$.a')`), undefined);
  assert.equal(run(`bin(${Buffer.from('{"a":1}').toString('hex')}),json_query('a')`), undefined); // no leading $
  // the "int" output type gives an integer sample
  assert.deepEqual(run(`bin(${Buffer.from('{"i":-42}').toString('hex')}),json_query('$.i',int)`), { t: 'sint', v: -42 });
});

test('jwt_verify: algorithms, keys and error codes', () => {
  const hx = (s: string) => Buffer.from(s).toString('hex');
  // PS tokens (python3 cryptography, PSS with digest-length salt), verified with the public key
  for (const a of ['PS256', 'PS384', 'PS512']) assert.equal(run(`bin(${hx(TOKENS[a]!)}),jwt_verify(${a},${dir}/rsa.pub)`)?.v, 1, a);
  // a certificate file works as well as a public key
  assert.equal(run(`bin(${hx(TOKENS.RS256!)}),jwt_verify(RS256,${dir}/rsa.crt)`)?.v, 1);
  // the token's signature checked with another algorithm of the family fails
  assert.equal(run(`bin(${hx(TOKENS.RS256!)}),jwt_verify(RS384,${dir}/rsa.pub)`)?.v, 0);
  assert.equal(run(`bin(${hx(TOKENS.PS256!)}),jwt_verify(RS256,${dir}/rsa.pub)`)?.v, 0);
  // ES with an RSA key
  assert.equal(run(`bin(${hx(TOKENS.ES256!)}),jwt_verify(ES256,${dir}/rsa.pub)`)?.v, 0);
  // algorithm and key from variables; an algorithm unknown at run time is -1
  const ctx = new SmpCtx(staticConn());
  ctx.vars.txn.set('alg', smpStr('HS256'));
  ctx.vars.txn.set('key', smpStr('secret'));
  assert.equal(run(`bin(${hx(TOKENS.HS256!)}),jwt_verify(txn.alg,txn.key)`, ctx)?.v, 1);
  ctx.vars.txn.set('alg', smpStr('XX999'));
  assert.equal(run(`bin(${hx(TOKENS.HS256!)}),jwt_verify(txn.alg,txn.key)`, ctx)?.v, -1);
  ctx.vars.txn.delete('alg');
  assert.equal(run(`bin(${hx(TOKENS.HS256!)}),jwt_verify(txn.alg,txn.key)`, ctx), undefined);
  // empty token
  assert.equal(run(`bin(),jwt_verify(HS256,secret)`)?.v, -3);
});

test('mqtt: more data wanted while the packet is incomplete', () => {
  const ctx = new SmpCtx(staticConn());
  ctx.final = false;
  // CONNECT announcing 20 bytes with 4 present
  assert.equal(run('bin(1014000451),mqtt_is_valid', ctx), undefined);
  assert.equal(ctx.wantMore, true);
  const ctx2 = new SmpCtx(staticConn());
  assert.equal(run('bin(10),mqtt_field_value(connect,flags)', ctx2), undefined);
  assert.equal(ctx2.wantMore, false); // final: no waiting
  assert.equal(run('bin(),mqtt_is_valid'), undefined);
});

test('fix: more data wanted while the message is incomplete', () => {
  const ctx = new SmpCtx(staticConn());
  ctx.final = false;
  assert.equal(run(`bin(${Buffer.from('8=FIX.4.4\x019=5\x0135=A\x01').toString('hex')}),fix_is_valid`, ctx), undefined);
  assert.equal(ctx.wantMore, true);
  assert.equal(run('bin(),fix_tag_value(35)'), undefined);
});

test('rfc7239_is_valid / rfc7239_field', () => {
  // the header text as a double-quoted argument: commas and parentheses need quotes
  const quoted = (h: string) => `"${h.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const v = (h: string) => run(`str(${quoted(h)}),rfc7239_is_valid`)?.v;
  const f = (h: string, name: string) => run(`str(${quoted(h)}),rfc7239_field(${name})`)?.v;
  // documentation examples
  assert.equal(v('for=127.0.0.1;proto=http'), true);
  assert.equal(v('proto=custom'), false);
  assert.equal(f('proto=https;host="haproxy.org:80"', 'host'), 'haproxy.org:80');
  assert.equal(f('proto=https;host="haproxy.org:80";for="127.0.0.1:9999"', 'for'), '127.0.0.1:9999');
  assert.equal(f('proto=https;host="haproxy.org:80";for="127.0.0.1:9999"', 'proto'), 'https');
  assert.equal(f('for=1.2.3.4;by=_hidden', 'by'), '_hidden');
  assert.equal(f('for=1.2.3.4', 'host'), undefined);
  assert.equal(f('for=1.2.3.4', 'unknown'), undefined);
  // RFC 7239 section 4/6 forms
  assert.equal(v('for="[2001:db8:cafe::17]:4711"'), true);
  assert.equal(v('for=[2001:db8:cafe::17]'), false); // IPv6 must be quoted
  assert.equal(v('for=192.0.2.43:80'), false); // a port must be quoted
  assert.equal(v('for=unknown;by="_obf:_port"'), true);
  assert.equal(v('for=_'), false);
  assert.equal(v('for="1.2.3.4:0"'), false); // port 0
  assert.equal(v('for="1.2.3.4:65536"'), false);
  assert.equal(v('for=1.2.3.4;for=5.6.7.8'), false); // repeated parameter
  assert.equal(v('For=1.2.3.4'), false); // names are lower case only here
  assert.equal(v('for=1.2.3.4, for=5.6.7.8'), false); // a single element only
  assert.equal(v('for=01.2.3.4'), false);
  assert.equal(v('for="1.2.3.4'), false); // unterminated quote
  assert.equal(v('proto="http"'), false); // quoted proto is refused
  assert.equal(v(''), false);
  assert.equal(v('host=my-host'), false);
});

test('rfc7239_n2nn / rfc7239_n2np', () => {
  const quoted = (h: string) => `"${h.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const nn = (n: string) => run(`str(${quoted(n)}),rfc7239_n2nn`);
  const np = (n: string) => run(`str(${quoted(n)}),rfc7239_n2np`);
  // documentation examples
  assert.deepEqual(nn('127.0.0.1:9999'), { t: 'ipv4', v: 0x7f000001 });
  assert.deepEqual(nn('[ab:cd:ff:ff:ff:ff:ff:ff]:9998'), { t: 'ipv6', v: Buffer.from('00ab00cd00ff00ff00ff00ff00ff00ff', 'hex') });
  assert.deepEqual(nn('_name:_port'), { t: 'str', v: '_name' });
  assert.deepEqual(np('127.0.0.1:9999'), { t: 'sint', v: 9999 });
  assert.deepEqual(np('[ab:cd:ff:ff:ff:ff:ff:ff]:9998'), { t: 'sint', v: 9998 });
  assert.deepEqual(np('_name:_port'), { t: 'str', v: '_port' });
  assert.deepEqual(nn('unknown'), { t: 'str', v: 'unknown' });
  assert.equal(np('unknown'), undefined); // no port
  assert.equal(nn('[::1'), undefined);
  assert.equal(nn(''), undefined);
  assert.equal(np('1.2.3.4:'), undefined);
});

test('rfc7239_nn / rfc7239_np', () => {
  // documentation examples
  assert.equal(run('ipv6(ab:cd:ff:ff:ff:ff:ff:ff),rfc7239_nn')?.v, '[ab:cd:ff:ff:ff:ff:ff:ff]');
  assert.equal(run('ipv6(::1),rfc7239_nn')?.v, '[::1]');
  assert.equal(run('ipv4(192.0.2.43),rfc7239_nn')?.v, '192.0.2.43');
  assert.equal(run('str(test),rfc7239_nn')?.v, '_test');
  assert.equal(run('str(),rfc7239_nn')?.v, 'unknown');
  assert.equal(run('int(12),rfc7239_np')?.v, '12');
  assert.equal(run('str(test),rfc7239_np')?.v, '_test');
  assert.equal(run('str(8888),rfc7239_np')?.v, '_8888');
  assert.equal(run('str(),rfc7239_np'), undefined);
  assert.equal(run('str(a b),rfc7239_nn'), undefined); // outside the charset
  assert.equal(run('int(-1),rfc7239_np')?.v, '4294967295'); // printed as an unsigned 32-bit value
  assert.equal(run('int(7),rfc7239_nn')?.v, '_7');
});

test('arguments are checked when the expression is parsed', () => {
  const bad = [
    "str(x),json_query('')", "str(x),json_query('$.a',str)", 'str(x),json_query',
    'bin(00),jwt_header_query($.a,float)', 'bin(00),jwt_verify(HS257,x)', 'bin(00),jwt_verify(HS256)',
    'bin(00),protobuf(1,string)', 'bin(00),protobuf(1,int33)', 'bin(00),protobuf(a.b)', 'bin(00),ungrpc(1.,int32)',
    'bin(00),mqtt_field_value(publish,topic_name)', 'bin(00),mqtt_field_value(foo,flags)', 'bin(00),mqtt_field_value(connect,reason_code)',
    'bin(00),mqtt_field_value(connect,18)', 'bin(00),mqtt_field_value(16,flags)', 'bin(00),mqtt_field_value(connect)',
    'bin(00),fix_tag_value(0)', 'bin(00),fix_tag_value(foo)', 'bin(00),fix_tag_value(-3)', 'bin(00),fix_tag_value',
    'str(x),rfc7239_field', 'str(x),rfc7239_is_valid(1)',
  ];
  for (const e of bad) assert.throws(() => parseSampleExpr(e, { where: 'test' }), ExprError, e);
  // accepted by haproxy 2.6 as well
  for (const e of ['bin(00),mqtt_field_value(publish,35)', 'bin(00),jwt_verify(txn.a,txn.b)', 'bin(00),mqtt_field_value(CONNACK,Flags)', 'bin(00),fix_tag_value(targetcompid)']) {
    parseSampleExpr(e, { where: 'test' });
  }
});
