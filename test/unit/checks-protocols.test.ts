// Protocol health checks (option redis-check, ssl-hello-chk, smtpchk, ldap-check, pgsql-check,
// mysql-check). The bytes sent and the status/code/info expected below were captured from
// HAProxy 2.6 (/usr/sbin/haproxy) checking a recording node TCP server with the same answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { newProxyConfig, type ProxyConfig } from '../../src/config/model.js';
import { optionKeywords, type ParseCtx } from '../../src/registry/registry.js';
import { runCheck, type CheckResult } from '../../src/checks/engine.js';
import '../../src/checks/config.js';
import '../../src/checks/protocols.js';

function configure(line: string): { px: ProxyConfig; alerts: string[] } {
  const alerts: string[] = [];
  const ctx: ParseCtx = { where: { file: 't', line: 1 }, alert: (m: string) => alerts.push(m), warn: () => {} } as unknown as ParseCtx;
  const px = newProxyConfig('backend', 'b', { file: 't', line: 1 } as never);
  const w = line.split(' ');
  const kw = optionKeywords.get(w[1]!);
  assert.ok(kw, `option ${w[1]} registered`);
  kw.set(px, true, w.slice(2), ctx);
  return { px, alerts };
}

/**
 * Runs the check of `line` against a server following `plan`: hex chunks to write, '@' to wait
 * for data from the checker, 'END' to close. Returns the result and every byte received.
 */
async function check(line: string, plan: string[], timeout = 400): Promise<CheckResult & { got: string }> {
  const { px, alerts } = configure(line);
  assert.deepEqual(alerts, []);
  let got = Buffer.alloc(0);
  const srv = net.createServer((s) => {
    s.on('data', (d) => { got = Buffer.concat([got, d]); });
    s.on('error', () => {});
    let i = 0;
    const go = (): void => {
      while (i < plan.length) {
        const p = plan[i++]!;
        if (p === '@') { s.once('data', () => setTimeout(go, 5)); return; }
        if (p === 'END') { s.end(); return; }
        s.write(Buffer.from(p, 'hex'));
      }
    };
    go();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const r = await runCheck(px.checkRules!, { host: '127.0.0.1', port, sendProxy: false, timeout });
    await new Promise((r2) => setTimeout(r2, 20));
    return { ...r, got: got.toString('hex') };
  } finally {
    srv.close();
  }
}

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const pick = (r: CheckResult): { status: string; code?: number; info?: string } => {
  const o: { status: string; code?: number; info?: string } = { status: r.status };
  if (r.code !== undefined) o.code = r.code;
  if (r.info !== undefined) o.info = r.info;
  return o;
};

/* ---- redis ---- */
// 2.6 sent: *1\r\n$4\r\nPING\r\n
const REDIS_26 = '2a310d0a24340d0a50494e470d0a';

test('redis-check: PING, +PONG is up with "Redis server is ok"', async () => {
  const r = await check('option redis-check', ['@', hex('+PONG\r\n')]);
  assert.equal(r.got, REDIS_26);
  assert.deepEqual(pick(r), { status: 'L7OK', code: 0, info: 'Redis server is ok' });
});
test('redis-check: an error reply is L7STS with the reply line', async () => {
  const r = await check('option redis-check', ['@', hex('-ERR foo\r\n'), 'END']);
  assert.deepEqual(pick(r), { status: 'L7STS', code: 0, info: '-ERR foo' });
});
test('redis-check: an error reply on an open connection waits until the timeout', async () => {
  const r = await check('option redis-check', ['@', hex('-ERR foo\r\n')], 150);
  assert.deepEqual(pick(r), { status: 'L7TOUT' });
});
test('redis-check: closing without answering is an empty response at step 2', async () => {
  const r = await check('option redis-check', ['END']);
  assert.deepEqual(pick(r), { status: 'L7STS', code: 0, info: 'TCPCHK got an empty response at step 2' });
});
test('redis-check takes no argument', () => {
  assert.deepEqual(configure('option redis-check x').alerts, [`'option redis-check' cannot handle unexpected argument 'x'.`]);
});

/* ---- ssl-hello-chk ---- */
// 2.6 sent (the 4 bytes after "0300" at offset 11 are the current time, 6b0e2e4e here)
const SSL_26 = '16030000790100007503006b0e2e4e484150524f585953534c43484b0a484150524f585953534c43484b0a00004e000100020003000400050006000700080009000a000b000c000d000e000f0010001100120013001400150016001700180019001a001b002f0030003100320033003400350036003700380039003a0100';

test('ssl-hello-chk: the SSLv3 hello of 2.6 (time field aside), a handshake record is L6OK', async () => {
  const before = Math.floor(Date.now() / 1000);
  const r = await check('option ssl-hello-chk', ['@', '1603010000']);
  const t = parseInt(r.got.slice(22, 30), 16);
  assert.ok(t >= before && t <= before + 2, 'gmt_unix_time is now');
  assert.equal(r.got.slice(0, 22) + r.got.slice(30), SSL_26.slice(0, 22) + SSL_26.slice(30));
  assert.deepEqual(pick(r), { status: 'L6OK' });
});
test('ssl-hello-chk: an alert record (0x15) passes too', async () => {
  assert.deepEqual(pick(await check('option ssl-hello-chk', ['@', '1503010002'])), { status: 'L6OK' });
});
test('ssl-hello-chk: anything else is L6RSP without info; too short and open is L6TOUT', async () => {
  assert.deepEqual(pick(await check('option ssl-hello-chk', ['@', '4845', 'END'])), { status: 'L6RSP' });
  assert.deepEqual(pick(await check('option ssl-hello-chk', ['@', '1503'], 150)), { status: 'L6TOUT' });
  assert.deepEqual(pick(await check('option ssl-hello-chk', ['END'])), { status: 'L6RSP', info: 'TCPCHK got an empty response at step 2' });
});

/* ---- smtpchk ---- */
// 2.6 sent: HELO localhost\r\n, then QUIT\r\n
const SMTP_26 = '48454c4f206c6f63616c686f73740d0a515549540d0a';

test('smtpchk: banner, HELO localhost, QUIT; the QUIT answer gives code and info', async () => {
  const r = await check('option smtpchk', [hex('220 hi\r\n'), '@', hex('250-first\r\n250 second\r\n'), '@', hex('221 bye\r\n')]);
  assert.equal(r.got, SMTP_26);
  assert.deepEqual(pick(r), { status: 'L7OK', code: 221, info: 'bye' });
});
test('smtpchk EHLO <domain>', async () => {
  const r = await check('option smtpchk EHLO example.org', [hex('220 hi\r\n'), '@', hex('250 ok\r\n'), '@', hex('221 bye\r\n')]);
  assert.equal(r.got, hex('EHLO example.org\r\nQUIT\r\n'));
  assert.equal(r.status, 'L7OK');
});
test('smtpchk: a lone or unknown hello word keeps HELO localhost', async () => {
  const r = await check('option smtpchk HELO', [hex('220 hi\r\n'), 'END']);
  assert.equal(r.got, hex('HELO localhost\r\n'));
  assert.deepEqual(pick(r), { status: 'L7STS', code: 0, info: 'TCPCHK got an empty response at step 5' });
  assert.equal((await check('option smtpchk FOO bar', [hex('220 hi\r\n'), 'END'])).got, hex('HELO localhost\r\n'));
});
test('smtpchk failures as 2.6 reports them', async () => {
  assert.deepEqual(pick(await check('option smtpchk', [hex('554 banner\r\n'), 'END'])), { status: 'L7STS', code: 554, info: 'banner' });
  assert.deepEqual(pick(await check('option smtpchk', [hex('220 hi\r\n'), '@', hex('250-first\r\n550 x\r\n'), 'END'])), { status: 'L7STS', code: 250, info: 'first' });
  assert.deepEqual(pick(await check('option smtpchk', [hex('220 hi\r\n'), '@', hex('250 ok\r\n'), '@', hex('421 bye\r\n'), 'END'])), { status: 'L7STS', code: 421, info: 'bye' });
  assert.deepEqual(pick(await check('option smtpchk', [hex('220-hi\r\n220 ho\r\n'), 'END'])), { status: 'L7RSP', info: '220-hi' });
  assert.deepEqual(pick(await check('option smtpchk', [hex('xy\r\n'), 'END'])), { status: 'L7RSP', info: 'xy' });
  assert.deepEqual(pick(await check('option smtpchk', [hex('220'), 'END'])), { status: 'L7RSP', info: '220' });
  assert.deepEqual(pick(await check('option smtpchk', ['END'])), { status: 'L7RSP', info: 'TCPCHK got an empty response at step 2' });
});
test('smtpchk takes at most two arguments', () => {
  assert.deepEqual(configure('option smtpchk EHLO a b').alerts, [`'option smtpchk' cannot handle unexpected argument 'b'.`]);
});

/* ---- ldap-check ---- */
// 2.6 sent an anonymous simple bind: 300c020101600702010304008000
const LDAP_26 = '300c020101600702010304008000';

test('ldap-check: bind success is L7OK code 0', async () => {
  const r = await check('option ldap-check', ['@', '300c02010161070a010004000400']);
  assert.equal(r.got, LDAP_26);
  assert.deepEqual(pick(r), { status: 'L7OK', code: 0 });
});
test('ldap-check: a result code is L7STS with the RFC pointer; non-LDAP is L7RSP', async () => {
  assert.deepEqual(pick(await check('option ldap-check', ['@', '300c02010161070a013104000400'])), { status: 'L7STS', code: 49, info: 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9' });
  assert.deepEqual(pick(await check('option ldap-check', ['@', '400c02010161070a013104000400'])), { status: 'L7RSP', info: 'Not LDAPv3 protocol' });
  // right first byte but not a bind response (message id 2)
  assert.deepEqual(pick(await check('option ldap-check', ['@', '300c02010261070a010004000400'])), { status: 'L7RSP', info: 'Not LDAPv3 protocol' });
  assert.deepEqual(pick(await check('option ldap-check', ['END'])), { status: 'L7RSP', info: 'TCPCHK got an empty response at step 2' });
});

/* ---- pgsql-check ---- */
// 2.6 sent for user bob: 00000012 00030000 "user\0" "bob\0" 00
const PGSQL_26 = '00000012000300007573657200626f620000';

test('pgsql-check: StartupMessage; an authentication request is ok', async () => {
  const r = await check('option pgsql-check user bob', ['@', '520000000800000000']);
  assert.equal(r.got, PGSQL_26);
  assert.deepEqual(pick(r), { status: 'L7OK', code: 0, info: 'PostgreSQL server is ok' });
  assert.equal((await check('option pgsql-check user bob', ['@', '520000000c00000005'])).status, 'L7OK');
});
test('pgsql-check: ErrorResponse is L7RSP with its first field; other answers L7STS', async () => {
  assert.deepEqual(pick(await check('option pgsql-check user bob', ['@', '450000001053464154414c00433238303030004d6e6f20737563682075736572000000', 'END'])), { status: 'L7RSP', info: 'FATAL' });
  assert.deepEqual(pick(await check('option pgsql-check user bob', ['@', '520000000800000001'])), { status: 'L7STS', code: 0, info: 'PostgreSQL unknown error' });
  assert.deepEqual(pick(await check('option pgsql-check user bob', ['END'])), { status: 'L7RSP', info: 'TCPCHK got an empty response at step 3' });
});
test('pgsql-check arguments', () => {
  assert.deepEqual(configure('option pgsql-check').alerts, [`'option pgsql-check' expects 'user <username>' as argument.`]);
  assert.deepEqual(configure('option pgsql-check usr bob').alerts, [`'option pgsql-check' only supports optional values: 'user'.`]);
});

/* ---- mysql-check ---- */
// a handshake (protocol 10, "5.7.99-test"), an OK packet and an error 1045, as given to 2.6
const HS = '1c0000000a352e372e39392d746573740001000000616263646566676800fff7';
const OK = '0700000200000002000000';
const ERR = '1f000002ff15042332383030304163636573732064656e69656420666f722075736572';
// what 2.6 sent for user hap, post-41 and pre-41
const MYSQL41_26 = '25000001008200000080000121000000000000000000000000000000000000000000000068617000000100000001';
const MYSQL40_26 = '0a000001008000000168617000000100000001';

test('mysql-check without user: sends nothing, a handshake is ok', async () => {
  const r = await check('option mysql-check', [HS]);
  assert.equal(r.got, '');
  assert.deepEqual(pick(r), { status: 'L7OK', code: 0 });
});
test('mysql-check user: auth + quit packets (post-41 by default), handshake then OK', async () => {
  const r = await check('option mysql-check user hap', [HS, '@', OK]);
  assert.equal(r.got, MYSQL41_26);
  assert.deepEqual(pick(r), { status: 'L7OK', code: 0 });
  assert.equal((await check('option mysql-check user hap post-41', [HS, '@', OK])).got, MYSQL41_26);
  assert.equal((await check('option mysql-check user hap pre-41', [HS, '@', OK])).got, MYSQL40_26);
});
test('mysql-check: error packets are L7STS with the MySQL code and text', async () => {
  assert.deepEqual(pick(await check('option mysql-check user hap pre-41', [HS, '@', ERR, 'END'])), { status: 'L7STS', code: 1045, info: '#28000Access denied for user' });
  assert.deepEqual(pick(await check('option mysql-check', [ERR, 'END'])), { status: 'L7STS', code: 1045, info: '#28000Access denied for user' });
  assert.deepEqual(pick(await check('option mysql-check', ['END'])), { status: 'L7RSP', info: 'TCPCHK got an empty response at step 2' });
  // truncated packet, then closed
  assert.deepEqual(pick(await check('option mysql-check', ['1c0000000a35', 'END'])), { status: 'L7RSP' });
});
test('mysql-check arguments', () => {
  assert.deepEqual(configure('option mysql-check usr x').alerts, [`'option mysql-check' only supports optional values: 'user' (got 'usr').`]);
  assert.deepEqual(configure('option mysql-check user').alerts, [`'option mysql-check user' expects <username> as argument.`]);
  assert.deepEqual(configure('option mysql-check user x post-42').alerts, [`keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42').`]);
});
