import test from 'node:test';
import assert from 'node:assert/strict';
import '../../src/config/global-keywords.js';
import '../../src/proxy/keywords.js';
import '../../src/http/keywords.js';
import '../../src/proxy/server-keywords.js';
import '../../src/proxy/cookie.js';
import '../../src/net/bind-keywords.js';
import { parseConfigText } from '../helpers/config.js';

const parse = parseConfigText;

const alerts = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'ALERT').map((d) => `${d.where?.line}:${d.msg}`);
const warnings = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'WARNING').map((d) => d.msg);

test('defaults are inherited, named defaults with from', () => {
  const r = parse(`defaults base
  mode tcp
  timeout client 7s
  timeout connect 2s
  timeout server 9s
  retries 5
  option redispatch 2
  default-server weight 7 maxconn 3
defaults other
  timeout client 1s
  timeout connect 1s
  timeout server 1s
backend b from base
  server s1 127.0.0.1:1
backend c
  server s1 127.0.0.1:1 weight 2
`);
  assert.deepEqual(alerts(r), []);
  const b = r.config.proxies.find((p) => p.name === 'b')!;
  assert.equal(b.timeouts.client, 7000);
  assert.equal(b.timeouts.server, 9000);
  assert.equal(b.retries, 5);
  assert.equal(b.options.redispatch, true);
  assert.equal(b.options.redispatchInterval, 2);
  assert.equal(b.servers[0]!.weight, 7);
  assert.equal(b.servers[0]!.maxconn, 3);
  const c = r.config.proxies.find((p) => p.name === 'c')!;
  // the last defaults section seen applies when no "from" is given
  assert.equal(c.timeouts.server, 1000);
  assert.equal(c.retries, 3);
  assert.equal(c.servers[0]!.weight, 2);
});

test('unknown keywords get did-you-mean suggestions with their line', () => {
  const r = parse(`global
  maxconnn 10
defaults
  mode tcp
backend b
  balanc roundrobin
`);
  const a = alerts(r);
  assert.equal(a.length, 2);
  assert.match(a[0]!, /^2:unknown keyword 'maxconnn' in 'global' section; did you mean 'maxconn' maybe \?/);
  assert.match(a[1]!, /^6:unknown keyword 'balanc' in 'backend' section; did you mean 'balance' maybe \?/);
});

test('keywords of features not built yet are rejected, not ignored', () => {
  const r = parse(`defaults
  mode http
frontend f
  bind :8080
  http-request cache-use c
  option splice-auto
  compression algo gzip
backend b
  server s 127.0.0.1:80 check-ssl
peers p
  peer x 127.0.0.1:1024
`);
  const a = alerts(r);
  assert.ok(!a.some((m) => /^2:/.test(m)), `mode http is supported: ${a.join('\n')}`);
  assert.ok(a.some((m) => /^5:'http-request cache-use' is not supported yet/.test(m)));
  assert.ok(a.some((m) => /^6:'option splice-auto' is not supported yet/.test(m)));
  assert.ok(a.some((m) => /^7:'compression' is not supported yet/.test(m)), a.join('\n'));
  assert.ok(a.some((m) => /^9:.*'check-ssl' option is not supported yet/.test(m)));
  assert.ok(a.some((m) => /^10:'peers' section is not supported yet/.test(m)));
  assert.equal(r.fatal, true);
});

test('post-parse checks: default_backend, duplicates, missing timeouts, L7 hash in TCP', () => {
  const r = parse(`defaults
  mode tcp
frontend f
  bind 127.0.0.1:1
  default_backend nope
backend b
  balance uri
  server a 127.0.0.1:1
`);
  assert.ok(alerts(r).some((m) => /unable to find required default_backend: 'nope'/.test(m)));
  const w = warnings(r);
  assert.ok(w.some((m) => /Layer 7 hash not possible for backend 'b'/.test(m)));
  assert.ok(w.some((m) => /missing timeouts for frontend 'f'/.test(m)));
  assert.equal(r.config.proxies.find((p) => p.name === 'b')!.balance!.algo, 'roundrobin');

  const d = parse(`backend b
  server a 127.0.0.1:1
  server a 127.0.0.1:2
backend b
`);
  const a = alerts(d);
  assert.ok(a.some((m) => /another server named 'a' was already defined at line 2/.test(m)));
  assert.ok(a.some((m) => /backend 'b' has the same name as backend 'b'/.test(m)));
});

test('capability checks warn and ignore, like HAProxy', () => {
  const r = parse(`frontend f
  bind 127.0.0.1:1
  balance roundrobin
  timeout client 1s
`);
  assert.deepEqual(alerts(r), []);
  assert.ok(warnings(r).some((m) => m === `'balance' ignored because frontend 'f' has no backend capability.`));
  assert.equal(r.config.proxies[0]!.balance, undefined);
});

test('bind address lists, ranges and options', () => {
  const r = parse(`frontend f
  bind 127.0.0.1:8000-8002,[::1]:9000 name web maxconn 5 accept-proxy
  bind unix@/tmp/x.sock mode 600
  timeout client 1s
`);
  assert.deepEqual(alerts(r), []);
  const binds = r.config.proxies[0]!.binds;
  assert.equal(binds.length, 5);
  assert.deepEqual(binds.map((b) => b.address.port), [8000, 8001, 8002, 9000, 0]);
  assert.ok(binds.slice(0, 4).every((b) => b.acceptProxy && b.maxconn === 5 && b.name === 'web'));
  assert.equal(binds[3]!.address.family, 'ipv6');
  assert.equal(binds[4]!.address.family, 'unix');
  assert.equal(binds[4]!.mode, 0o600);
  const bad = parse(`frontend f\n  bind 1.2.3.4\n  bind :80 bogus\n`);
  const a = alerts(bad);
  assert.match(a[0]!, /^2:'bind' : missing port specification in '1.2.3.4'/);
  assert.match(a[1]!, /^3:'bind :80' unknown keyword 'bogus'/);
});

test('servers: ids, templates, port offsets, weights bounds', () => {
  const r = parse(`backend b
  server a 127.0.0.1:+10 id 5
  server b 127.0.0.1
  server-template t 3 127.0.0.1:80 weight 4
`);
  assert.deepEqual(alerts(r), []);
  const s = r.config.proxies[0]!.servers;
  assert.deepEqual(s.map((x) => x.name), ['a', 'b', 't1', 't2', 't3']);
  assert.deepEqual(s.map((x) => x.id), [5, 1, 2, 3, 4]);
  assert.equal(s[0]!.address.portOffset, '+');
  assert.equal(s[1]!.address.hasPort, false);
  assert.ok(s.slice(2).every((x) => x.weight === 4));
  const bad = parse(`backend b\n  server a 127.0.0.1:1 weight 257\n`);
  assert.match(alerts(bad)[0]!, /weight' expects an integer argument between 0 and 256/);
});

test('.if blocks and environment expansion feed the parser', () => {
  process.env.HTS_TEST_PORT = '4567';
  const r = parse(`.if version_atleast(3.0)
frontend f
  bind 127.0.0.1:"\${HTS_TEST_PORT}"
  timeout client 1s
.else
  bogus keyword
.endif
`);
  assert.deepEqual(alerts(r), []);
  assert.equal(r.config.proxies[0]!.binds[0]!.address.port, 4567);
});
