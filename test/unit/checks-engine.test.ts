// The check rule engine (src/checks/engine.ts) against small loopback servers: Layer 4 results,
// tcp-check send/expect in every form (string, rstring, binary, rbinary, negated), HTTP checks
// (default 2xx/3xx rule, status lists, rstatus, body strings, disable-on-404), timeouts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { runCheck } from '../../src/checks/engine.js';
import type { CheckRules, CheckStep, ExpectOptions } from '../../src/checks/config.js';
import { constLf } from '../../src/checks/config.js';

const T = { timeout: 10_000 };

async function server(onConn: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void>; got: Buffer[] }> {
  const got: Buffer[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => { socks.add(s); s.on('data', (d) => got.push(d)); s.on('close', () => socks.delete(s)); onConn(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, got, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const tcp = (steps: CheckStep[]): CheckRules => ({ type: 'tcp-check', steps, disableOn404: false, httpExpect: false });
const expect = (type: 'string' | 'rstring' | 'binary' | 'rbinary', pattern: string, neg = false): CheckStep => ({
  kind: 'expect', type, neg, pattern,
  re: type === 'rstring' ? new RegExp(pattern) : type === 'rbinary' ? new RegExp(pattern, 'i') : undefined,
  bin: type === 'binary' ? Buffer.from(pattern, 'hex') : undefined,
});

describe('check engine', () => {
  it('Layer 4: connected = L4OK, refused = L4CON with the errno text', T, async () => {
    const s = await server((c) => c.end());
    const ok = await runCheck({ type: 'tcp', steps: [], disableOn404: false, httpExpect: false }, { host: '127.0.0.1', port: s.port, sendProxy: false, timeout: 1000 });
    assert.equal(ok.status, 'L4OK');
    await s.close();
    const ko = await runCheck({ type: 'tcp', steps: [], disableOn404: false, httpExpect: false }, { host: '127.0.0.1', port: await freePort(), sendProxy: false, timeout: 1000 });
    assert.equal(ko.status, 'L4CON');
    assert.equal(ko.info, 'Connection refused');
  });

  it('tcp-check: send then expect string / rstring / binary / rbinary, and negated expects', T, async () => {
    const s = await server((c) => c.once('data', () => c.end('+PONG\r\n')));
    const t = { host: '127.0.0.1', port: s.port, sendProxy: false, timeout: 1000 };
    const send: CheckStep = { kind: 'send', data: Buffer.from('PING\r\n') };
    assert.equal((await runCheck(tcp([send, expect('string', '+PONG')]), t)).status, 'L7OK');
    assert.equal((await runCheck(tcp([send, expect('rstring', '^\\+PO')]), t)).status, 'L7OK');
    assert.equal((await runCheck(tcp([send, expect('binary', '2b504f4e47')]), t)).status, 'L7OK');
    assert.equal((await runCheck(tcp([send, expect('rbinary', '504F4E')]), t)).status, 'L7OK');
    const miss = await runCheck(tcp([send, expect('string', 'master')]), t);
    assert.equal(miss.status, 'L7RSP');
    assert.equal(miss.info, "TCPCHK did not match content 'master' at step 2");
    assert.equal((await runCheck(tcp([send, expect('string', '-ERR', true)]), t)).status, 'L7OK');
    assert.equal((await runCheck(tcp([send, expect('string', 'PONG', true)]), t)).status, 'L7RSP');
    assert.equal(Buffer.concat(s.got).toString().includes('PING\r\n'), true, 'the send step reached the server');
    await s.close();
  });

  it('a silent server: L7TOUT after the timeout', T, async () => {
    const s = await server(() => {});
    const r = await runCheck(tcp([expect('string', 'x')]), { host: '127.0.0.1', port: s.port, sendProxy: false, timeout: 200 });
    assert.equal(r.status, 'L7TOUT');
    assert.ok(r.duration >= 190);
    await s.close();
  });

  it('HTTP: the request sent, default 2xx/3xx rule, status lists, rstatus, body strings, disable-on-404', T, async () => {
    let status = 200;
    let body = 'all good';
    const s = await server((c) => c.once('data', () => c.end(`HTTP/1.1 ${status} X\r\ncontent-length: ${body.length}\r\n\r\n${body}`)));
    const t = { host: '127.0.0.1', port: s.port, sendProxy: false, timeout: 1000 };
    const send: CheckStep = { kind: 'http-send', method: 'GET', uri: '/health', version: 'HTTP/1.1', headers: [['Host', constLf('svc')]], body: '' };
    const http = (steps: CheckStep[], extra: Partial<CheckRules> = {}): CheckRules => ({ type: 'http', steps, disableOn404: false, httpExpect: steps.some((x) => x.kind === 'expect'), ...extra });
    const r1 = await runCheck(http([send]), t);
    assert.deepEqual([r1.status, r1.code], ['L7OK', 200]);
    // the bytes haproxy 2.6 sends for `option httpchk GET /health HTTP/1.1` with a Host header
    assert.match(Buffer.concat(s.got).toString(), /^GET \/health HTTP\/1\.1\r\nhost: svc\r\nconnection: close\r\n\r\n/);
    s.got.length = 0;
    const bare: CheckStep = { kind: 'http-send', method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [], body: '' };
    await runCheck(http([bare]), t);
    assert.equal(Buffer.concat(s.got).toString(), 'OPTIONS / HTTP/1.0\r\n\r\n', 'a bare option httpchk, as haproxy 2.6 sends it');
    status = 302;
    assert.equal((await runCheck(http([send]), t)).status, 'L7OK', '3xx passes by default');
    status = 503;
    const r2 = await runCheck(http([send]), t);
    assert.deepEqual([r2.status, r2.code, r2.info], ['L7STS', 503, 'X']);
    const list: CheckStep = { kind: 'expect', type: 'status', neg: false, pattern: '200,500-503', statuses: [[200, 200], [500, 503]] };
    assert.equal((await runCheck(http([send, list]), t)).status, 'L7OK');
    const rs: CheckStep = { kind: 'expect', type: 'rstatus', neg: true, pattern: '^5', re: /^5/ };
    assert.equal((await runCheck(http([send, rs]), t)).status, 'L7STS', 'negated rstatus fails on 503');
    status = 200;
    const str: CheckStep = { kind: 'expect', type: 'string', neg: false, pattern: 'good' };
    assert.equal((await runCheck(http([send, str]), t)).status, 'L7OK');
    body = 'bad';
    assert.equal((await runCheck(http([send, str]), t)).status, 'L7RSP');
    const strictStatus: CheckStep = { kind: 'expect', type: 'status', neg: false, pattern: '200', statuses: [[200, 200]], opts: { errorStatus: 'L7RSP', comment: 'wanted 200', okStatus: 'L7OKC' } };
    body = 'all good';
    assert.equal((await runCheck(http([send, strictStatus]), t)).status, 'L7OKC', 'ok-status on the last rule');
    status = 404;
    const e = await runCheck(http([send, strictStatus]), t);
    // haproxy 2.6: the reason phrase, then the comment
    assert.deepEqual([e.status, e.info], ['L7RSP', 'X comment: wanted 200'], 'error-status and comment');
    assert.equal((await runCheck(http([send], { disableOn404: true }), t)).status, 'L7OKC');
    await s.close();
  });

  it('expect options: min-recv, comment, ok-status, error-status, tout-status', T, async () => {
    const s = await server((c) => c.once('data', () => { c.write('+PO'); setTimeout(() => c.end('NG\r\n'), 100); }));
    const t = { host: '127.0.0.1', port: s.port, sendProxy: false, timeout: 1000 };
    const send: CheckStep = { kind: 'send', data: Buffer.from('PING\r\n') };
    const ex = (type: 'string' | 'rstring', pattern: string, opts: ExpectOptions): CheckStep => ({ ...(expect(type, pattern) as Extract<CheckStep, { kind: 'expect' }>), opts });
    // min-recv 6: the partial "+PO" is not judged, the whole "+PONG\r\n" is
    assert.equal((await runCheck(tcp([send, ex('rstring', '^\\+PONG', { minRecv: 6 })]), t)).status, 'L7OK');
    // ok-status on the last rule
    assert.equal((await runCheck(tcp([send, ex('string', 'PONG', { okStatus: 'L6OK' })]), t)).status, 'L6OK');
    // error-status and comment on a failure
    const f = await runCheck(tcp([send, ex('string', 'master', { errorStatus: 'L7STS', comment: 'not the master' })]), t);
    // haproxy 2.6: the default message, then the comment
    assert.deepEqual([f.status, f.code, f.info], ['L7STS', 0, "TCPCHK did not match content 'master' at step 2 comment: not the master"]);
    await s.close();
    const silent = await server(() => {});
    const to = await runCheck(tcp([ex('string', 'x', { toutStatus: 'L6TOUT' })]), { host: '127.0.0.1', port: silent.port, sendProxy: false, timeout: 150 });
    assert.equal(to.status, 'L6TOUT');
    await silent.close();
  });
});
