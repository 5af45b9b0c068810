// The check rule keywords (configuration.txt 4.2: option httpchk, http-check connect|send|expect|
// comment|set-var|unset-var|send-state|disable-on-404, option tcp-check, tcp-check connect|send|
// send-lf|send-binary|send-binary-lf|expect|comment|set-var, the protocol check options): what a
// line builds, and the alerts for malformed lines. Every expected alert text below is what
// haproxy 2.6 (`haproxy -c -f cfg`) printed for the same line, unless a comment says otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../helpers/config.js';
import type { ProxyConfig } from '../../src/config/model.js';
import type { CheckStep, CheckRules } from '../../src/checks/config.js';

function parse(lines: string, opts: { kind?: string } = {}): { px: ProxyConfig | undefined; alerts: string[]; warnings: string[] } {
  const r = parseConfigText(`defaults
  mode tcp
  timeout connect 1s
  timeout client 1s
  timeout server 1s
${opts.kind ?? 'backend'} b
${lines.split('\n').map((l) => `  ${l}`).join('\n')}
  server s 127.0.0.1:1 check
`);
  return {
    px: r.config.proxies.find((p) => p.name === 'b'),
    alerts: r.diags.filter((d) => d.level === 'ALERT').map((d) => d.msg),
    warnings: r.diags.filter((d) => d.level === 'WARNING').map((d) => d.msg),
  };
}

/** The rules of a valid configuration (fails on any alert). */
function rules(lines: string): CheckRules {
  const { px, alerts } = parse(lines);
  assert.deepEqual(alerts, [], lines);
  assert.ok(px?.checkRules, 'rules built');
  return px.checkRules;
}

function steps(lines: string): CheckStep[] { return rules(lines).steps; }

type Expect = Extract<CheckStep, { kind: 'expect' }>;
const exp = (s: CheckStep | undefined): Expect => { assert.equal(s?.kind, 'expect'); return s as Expect; };

/** The one alert a malformed line gives. */
function alertOf(line: string): string {
  const { alerts } = parse(line);
  assert.equal(alerts.length, 1, `${line}: ${JSON.stringify(alerts)}`);
  return alerts[0]!;
}

test('option httpchk: no argument, <uri>, <method> <uri>, <method> <uri> <version> with legacy headers', () => {
  let r = rules('option httpchk');
  assert.equal(r.type, 'http');
  assert.deepEqual({ ...r.httpDefaults }, { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [] });
  r = rules('option httpchk /health');
  assert.equal(r.httpDefaults!.method, 'OPTIONS');
  assert.equal(r.httpDefaults!.uri, '/health');
  r = rules('option httpchk HEAD /ping');
  assert.equal(r.httpDefaults!.method, 'HEAD');
  assert.equal(r.httpDefaults!.uri, '/ping');
  assert.equal(r.httpDefaults!.version, 'HTTP/1.0');
  r = rules('option httpchk GET /x HTTP/1.1\\r\\nHost:\\ www.example.com');
  assert.equal(r.httpDefaults!.version, 'HTTP/1.1');
  assert.deepEqual(r.httpDefaults!.headers.map(([n, v]) => [n, v.render({} as never)]), [['Host', 'www.example.com']]);
  assert.equal(alertOf('option httpchk GET /x HTTP/1.1 extra'), `'option httpchk' cannot handle unexpected argument 'extra'.`);
});

test('http-check send: meth, uri, uri-lf, ver, hdr, body, body-lf, comment', () => {
  const s = steps(`option httpchk
http-check send meth POST uri /api ver HTTP/1.1 hdr Host example.org hdr Content-Length 99 body "{}" comment "api probe"`);
  assert.equal(s.length, 1);
  const st = s[0] as Extract<CheckStep, { kind: 'http-send' }>;
  assert.equal(st.kind, 'http-send');
  assert.equal(st.method, 'POST');
  assert.equal(st.uri, '/api');
  assert.equal(st.version, 'HTTP/1.1');
  assert.equal(st.body, '{}');
  assert.equal(st.comment, 'api probe');
  // content-length is computed from the body, never taken from the rule
  assert.deepEqual(st.headers.map(([n]) => n), ['Host']);
  const lf = steps(`option httpchk
http-check send uri-lf /s/%[srv_name] body-lf "id=%[srv_id]"`)[0] as Extract<CheckStep, { kind: 'http-send' }>;
  assert.ok(lf.uriLf && !lf.uriLf.isConst, 'uri-lf is a log-format');
  assert.ok(lf.bodyLf && lf.body === undefined, 'body-lf is a log-format');
});

test('http-check expect: status lists, rstatus, string, rstring, string-lf, negation, hdr and fhdr', () => {
  const s = steps(`option httpchk
http-check expect status 200,301-302
http-check expect ! rstatus ^5
http-check expect string OK
http-check expect !rstring err.*
http-check expect string-lf %[srv_name]
http-check expect hdr name -m beg x-st value -m sub ready full
http-check expect fhdr name-lf %[srv_name] value -m reg ^a,b$`);
  assert.deepEqual(exp(s[0]).statuses, [[200, 200], [301, 302]]);
  assert.equal(exp(s[1]).type, 'rstatus');
  assert.equal(exp(s[1]).neg, true);
  assert.ok(exp(s[1]).re!.test('503'));
  assert.deepEqual([exp(s[2]).type, exp(s[2]).pattern, exp(s[2]).neg], ['string', 'OK', false]);
  assert.deepEqual([exp(s[3]).type, exp(s[3]).neg], ['rstring', true]);
  assert.ok(exp(s[3]).re!.test('errors'));
  assert.ok(exp(s[4]).lf, 'string-lf compiled');
  const h = exp(s[5]).hdr!;
  assert.deepEqual([h.name.meth, h.name.text, h.value!.meth, h.value!.text, h.full], ['beg', 'x-st', 'sub', 'ready', true]);
  const f = exp(s[6]);
  assert.equal(f.type, 'fhdr');
  assert.ok(f.hdr!.name.lf, 'name-lf compiled');
  assert.ok(f.hdr!.value!.re!.test('a,b'));
  assert.equal(rules('option httpchk\nhttp-check expect status 200').httpExpect, true);
});

test('http-check connect, set-var, set-var-fmt, unset-var, comment, send-state, disable-on-404', () => {
  const r = rules(`option httpchk
http-check comment "first rule"
http-check connect port 8080 addr 127.0.0.2 send-proxy linger
http-check set-var(check.port) int(1234)
http-check set-var-fmt(check.name,ifnotempty) "name=%H"
http-check unset-var(check.port)
http-check connect default comment "own comment"
http-check send-state
http-check disable-on-404`);
  assert.equal(r.sendState, true);
  assert.equal(r.disableOn404, true);
  const [c0, c1, v1, v2, u, c2] = r.steps;
  assert.deepEqual(c0, { kind: 'comment', text: 'first rule' });
  assert.equal(c1!.kind, 'connect');
  const conn = c1 as Extract<CheckStep, { kind: 'connect' }>;
  assert.deepEqual([conn.port, conn.addr, conn.sendProxy, conn.linger, conn.comment], [8080, '127.0.0.2', true, true, 'first rule']);
  assert.equal(v1!.kind, 'set-var');
  assert.ok((v1 as Extract<CheckStep, { kind: 'set-var' }>).expr);
  const fmt = v2 as Extract<CheckStep, { kind: 'set-var' }>;
  assert.ok(fmt.lf);
  assert.deepEqual(fmt.conds, ['ifnotempty']);
  assert.equal(u!.kind, 'unset-var');
  const dflt = c2 as Extract<CheckStep, { kind: 'connect' }>;
  assert.deepEqual([dflt.default, dflt.comment], [true, 'own comment']);
  // a port given as a sample expression
  const pe = steps('option httpchk\nhttp-check connect port var(check.port)')[0] as Extract<CheckStep, { kind: 'connect' }>;
  assert.ok(pe.portExpr && pe.port === undefined);
});

test('tcp-check connect, send (escapes), send-lf, send-binary, send-binary-lf, comment', () => {
  const s = steps(`option tcp-check
tcp-check connect port 6379 comment "to redis"
tcp-check send PING\\r\\n
tcp-check send "A\\x42C" comment "hex escape"
tcp-check send-lf "%[srv_name]\\r\\n"
tcp-check send-binary 0a0B1f comment bin
tcp-check send-binary-lf "%[str(00ff)]"
tcp-check comment "next is expect"
tcp-check expect string +PONG`);
  const send = (i: number): Extract<CheckStep, { kind: 'send' }> => { assert.equal(s[i]!.kind, 'send'); return s[i] as Extract<CheckStep, { kind: 'send' }>; };
  assert.equal((s[0] as Extract<CheckStep, { kind: 'connect' }>).port, 6379);
  assert.equal(send(1).data.toString('latin1'), 'PING\r\n');
  assert.equal(send(2).data.toString('latin1'), 'ABC');
  assert.equal(send(2).comment, 'hex escape');
  assert.ok(send(3).lf && !send(3).binary);
  assert.deepEqual([...send(4).data], [0x0a, 0x0b, 0x1f]);
  assert.equal(send(4).comment, 'bin');
  assert.ok(send(5).lf && send(5).binary);
  assert.equal(s[6]!.kind, 'comment');
  assert.equal(exp(s[7]).comment, 'next is expect');
});

test('tcp-check expect: every option and every match type', () => {
  const s = steps(`option tcp-check
tcp-check expect min-recv 4 comment "c1" ok-status L6OK error-status L7RSP tout-status L7TOUT on-success "ok %[srv_name]" on-error "ko" status-code int(42) string hello
tcp-check expect ! string bad
tcp-check expect !rstring ^-ERR
tcp-check expect binary 2b4f4b
tcp-check expect rbinary ^2B
tcp-check expect string-lf %[srv_name]
tcp-check expect binary-lf %[str(0a)]
tcp-check expect min-recv -1 string x`);
  const e0 = exp(s[0]);
  assert.deepEqual([e0.type, e0.pattern, e0.neg, e0.comment], ['string', 'hello', false, 'c1']);
  assert.deepEqual([e0.opts!.minRecv, e0.opts!.okStatus, e0.opts!.errorStatus, e0.opts!.toutStatus], [4, 'L6OK', 'L7RSP', 'L7TOUT']);
  assert.ok(e0.opts!.onSuccess && e0.opts!.onError && e0.opts!.statusCode);
  assert.deepEqual([exp(s[1]).type, exp(s[1]).neg], ['string', true]);
  assert.deepEqual([exp(s[2]).type, exp(s[2]).neg], ['rstring', true]);
  assert.deepEqual([...exp(s[3]).bin!], [0x2b, 0x4f, 0x4b]);
  assert.equal(exp(s[4]).type, 'rbinary');
  assert.ok(exp(s[4]).re!.test('2b'), 'rbinary matches the hex text without regard to case');
  assert.ok(exp(s[5]).lf && exp(s[6]).lf);
  assert.equal(exp(s[7]).opts!.minRecv, -1);
});

test('protocol check options set the rule type', () => {
  for (const line of ['option redis-check', 'option ssl-hello-chk', 'option smtpchk', 'option smtpchk EHLO me', 'option ldap-check',
    'option pgsql-check user pg', 'option mysql-check', 'option mysql-check user u post-41', 'option spop-check']) {
    const r = rules(line);
    assert.equal(r.type, 'tcp-check', line);
    assert.ok(r.steps.length > 0, `${line}: steps`);
  }
  assert.equal(rules('option tcp-check').type, 'tcp-check');
  assert.equal(alertOf('option spop-check x'), `'option spop-check' cannot handle unexpected argument 'x'.`);
  assert.equal(alertOf('option ldap-check x'), `'option ldap-check' cannot handle unexpected argument 'x'.`);
  assert.equal(alertOf('option mysql-check foo'), `'option mysql-check' only supports optional values: 'user' (got 'foo').`);
  assert.equal(alertOf('option mysql-check user'), `'option mysql-check user' expects <username> as argument.`);
  assert.equal(alertOf('option pgsql-check'), `'option pgsql-check' expects 'user <username>' as argument.`);
  assert.equal(alertOf('option pgsql-check foo bar'), `'option pgsql-check' only supports optional values: 'user'.`);
});

test('TLS, alternative muxes and socks4 on connect rules are refused as not supported yet', () => {
  // haproxy 2.6 accepts these (TLS is built in); haproxy-ts refuses them at start-up
  for (const [line, opt] of [['tcp-check connect ssl', 'ssl'], ['tcp-check connect sni x', 'sni'], ['tcp-check connect alpn h2', 'alpn'],
    ['tcp-check connect proto h2', 'proto'], ['http-check connect ssl', 'ssl'], ['http-check connect port 443 sni x', 'sni']]) {
    assert.equal(alertOf(line!), `'${line!.split(' ')[0]} connect' : option '${opt}' is not supported yet by haproxy-ts (TLS and alternative muxes are not implemented).`, line);
  }
  assert.match(alertOf('tcp-check connect via-socks4'), /'tcp-check connect' : option 'via-socks4' is not supported yet by haproxy-ts/);
});

test('malformed rules: the alerts haproxy 2.6 gives', () => {
  const cases: [string, string][] = [
    ['tcp-check foo', `'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'`],
    ['tcp-check send', `'tcp-check send' : 'string' expects a send as argument.`],
    ['tcp-check send-lf', `'tcp-check send-lf' : 'string' expects a send-lf as argument.`],
    ['tcp-check send-binary', `'tcp-check send-binary' : 'binary string' expects a send-binary as argument.`],
    ['tcp-check send-binary-lf', `'tcp-check send-binary-lf' : 'string' expects a send-binary-lf as argument.`],
    ['tcp-check send-binary 0g', `'tcp-check send-binary' : '0g' invalid binary string (an hex digit is expected (found 'g')).`],
    ['tcp-check send-binary abc', `'tcp-check send-binary' : 'abc' invalid binary string (an even number of hex digit is expected).`],
    ['tcp-check send a b', `'tcp-check send' : expects 'comment' but got 'b' as argument..`],
    ['tcp-check send-lf a b', `'tcp-check send-lf' : expects 'comment' but got 'b' as argument..`],
    ['tcp-check send-binary a b', `'tcp-check send-binary' : expects 'comment' but got 'b' as argument..`],
    ['tcp-check comment', `'tcp-check comment' : expects a string as argument.`],
    ['tcp-check expect', `'tcp-check expect' : expects at least a matching pattern as arguments.`],
    ['tcp-check expect foo bar', `'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'foo' as argument..`],
    ['tcp-check expect string a b', `'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'b' as argument..`],
    ['tcp-check expect status 200', `'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'status' as argument..`],
    ['tcp-check expect string', `'tcp-check expect' : 'string' expects a <pattern> as argument.`],
    ['tcp-check expect string-lf', `'tcp-check expect' : 'string-lf' expects a <pattern> as argument.`],
    ['tcp-check expect min-recv', `'tcp-check expect' : 'min-recv' expects a integer as argument.`],
    ['tcp-check expect min-recv 5', `'tcp-check expect' : pattern not found.`],
    ['tcp-check expect ok-status', `'tcp-check expect' : 'ok-status' expects a string as argument.`],
    ['tcp-check expect ok-status FOO string a', `'tcp-check expect' : 'ok-status' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got 'FOO')..`],
    ['tcp-check expect error-status FOO string a', `'tcp-check expect' : 'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got 'FOO')..`],
    ['tcp-check expect tout-status FOO string a', `'tcp-check expect' : 'tout-status' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got 'FOO')..`],
    ['tcp-check expect on-success', `'tcp-check expect' : 'on-success' expects a string as argument.`],
    ['tcp-check expect status-code', `'tcp-check expect' : 'status-code' expects an expression as argument.`],
    ['tcp-check expect comment', `'tcp-check expect' : 'comment' expects a string as argument.`],
    ['tcp-check expect binary 0g', `'tcp-check expect' : invalid binary string (an hex digit is expected (found 'g')).`],
    ['tcp-check expect binary abc', `'tcp-check expect' : invalid binary string (an even number of hex digit is expected).`],
    ['tcp-check connect port', `'tcp-check connect' : 'port' expects a port number or a sample expression as argument..`],
    ['tcp-check connect port 70000', `'tcp-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 70000..`],
    ['tcp-check connect foo', `'tcp-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got 'foo' as argument..`],
    ['tcp-check connect addr', `'tcp-check connect' : 'addr' expects <ipv4|ipv6> as argument..`],
    ['tcp-check connect addr foo', `'tcp-check connect' : 'addr' : invalid address: 'foo' in 'foo'`],
    ['http-check foo', `'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'foo'`],
    ['http-check expect', `'http-check expect' : expects at least a matching pattern as arguments.`],
    ['http-check expect !', `'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '' as argument..`],
    ['http-check expect binary 00', `'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'binary' as argument..`],
    ['http-check expect status', `'http-check expect' : 'status' expects a <pattern> as argument.`],
    ['http-check expect status abc', `'http-check expect' : invalid character 'a' in the list of status codes.`],
    ['http-check expect hdr foo', `'http-check expect' : 'hdr' expects at the name keyword as first argument followed by a pattern.`],
    ['http-check expect hdr name', `'http-check expect' : 'hdr' expects at the name keyword as first argument followed by a pattern.`],
    ['http-check expect hdr name -m foo x', `'http-check expect' : 'hdr' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got 'foo').`],
    ['http-check send meth', `'http-check send' : 'meth' expects a string as argument..`],
    ['http-check send uri', `'http-check send' : 'uri' expects a string as argument..`],
    ['http-check send uri-lf', `'http-check send' : 'uri-lf' expects a string as argument..`],
    ['http-check send ver', `'http-check send' : 'ver' expects a string as argument..`],
    ['http-check send body', `'http-check send' : 'body' expects a string as argument..`],
    ['http-check send comment', `'http-check send' : 'comment' expects a string as argument..`],
    ['http-check send foo bar', `'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got 'foo' as argument..`],
    ['http-check send hdr x', `'http-check send' : 'hdr' expects <name> and <value> as arguments.`],
    ['http-check comment', `'http-check comment' : expects a string as argument.`],
    ['http-check send-state x', `'http-check' cannot handle unexpected argument 'x'.`],
    ['http-check disable-on-404 x', `'http-check' cannot handle unexpected argument 'x'.`],
  ];
  for (const [line, want] of cases) assert.equal(alertOf(line), want, line);
  // the regex engines differ: only the start of the text is haproxy's
  assert.match(alertOf('tcp-check expect rstring ('), /^'tcp-check expect' : regex '\(' is invalid \(/);
  assert.match(alertOf('http-check expect rstatus ('), /^'http-check expect' : regex '\(' is invalid \(/);
});

test('stricter than haproxy 2.6 (which accepts these lines and ignores part of them)', () => {
  // 2.6 reads "x" as 0, and ignores a comment's second word; haproxy-ts refuses rather than guess
  assert.match(alertOf('tcp-check expect min-recv x string a'), /'min-recv' expects a integer as argument/);
  assert.match(alertOf('tcp-check comment a b'), /unexpected argument 'b'/);
  assert.match(alertOf('http-check comment a b'), /unexpected argument 'b'/);
  // configuration.txt: only the proc, sess and check scopes for check variables
  assert.match(alertOf('tcp-check set-var(txn.foo) int(1)'), /only the 'proc', 'sess' and 'check' scopes/);
  assert.match(alertOf('tcp-check set-var(foo) int(1)'), /invalid variable name 'foo'/);
});

test('rules without the option that enables them: the warning haproxy 2.6 gives', () => {
  const b = parse('http-check send meth GET\ntcp-check send b');
  assert.deepEqual(b.alerts, []);
  assert.deepEqual(b.warnings, [
    `backend 'b' uses http-check rules without 'option httpchk', so the rules are ignored.`,
    `backend 'b' uses tcp-check rules without 'option tcp-check', so the rules are ignored.`,
  ]);
  assert.deepEqual(parse('tcp-check send a', { kind: 'listen' }).warnings.filter((w) => w.includes('check')), [`proxy 'b' uses tcp-check rules without 'option tcp-check', so the rules are ignored.`]);
  assert.deepEqual(parse('option tcp-check\ntcp-check send a').warnings, []);
  assert.deepEqual(parse('option httpchk\nhttp-check send meth GET').warnings, []);
});
