// Email alerts: the mailers section and email-alert keywords (messages from HAProxy 2.6 -c), the
// SMTP dialogue and mail text (captured from HAProxy 2.6 against a test SMTP listener), levels.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parseConfigText } from '../helpers/config.js';
import {
  smtpDialogue, sendMail, mailDate, changeLevel, alertText, parseMailerAddress, LOG_ALERT, LOG_NOTICE,
} from '../../src/checks/mailers.js';

const alerts = (r: ReturnType<typeof parseConfigText>) => r.diags.filter((d) => d.level === 'ALERT').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);
const warnings = (r: ReturnType<typeof parseConfigText>) => r.diags.filter((d) => d.level === 'WARNING').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);

test('mailers section: mailers, timeout mail (default 10s), errors as HAProxy 2.6 reports them', () => {
  const ok = parseConfigText(`mailers m\n  timeout mail 20s\n  mailer a 127.0.0.1:25\n  mailer b [::1]:587\n`);
  assert.deepEqual(alerts(ok), []);
  const sec = ok.config.mailers!.get('m')!;
  assert.equal(sec.timeout, 20000);
  assert.deepEqual(sec.mailers.map((m) => [m.name, m.host, m.port]), [['a', '127.0.0.1', 25], ['b', '::1', 587]]);
  assert.equal(parseConfigText(`mailers n\n  mailer a 127.0.0.1:25\n`).config.mailers!.get('n')!.timeout, 10000);
  const bad = parseConfigText(`mailers m\n  mailer b\n  timeout mail\n  timeout foo 3\n  foo bar\nmailers m\nmailers\n`);
  assert.deepEqual(alerts(bad), [
    `2:'mailer' expects <name> and <addr>[:<port>] as arguments.`,
    `3:'timeout mail' expects <time> as argument.`,
    `4:'timeout' expects 'mail' and <time> as arguments got 'foo'.`,
    `5:unknown keyword 'foo' in 'mailers' section`,
    alerts(bad)[4]!,
    `7:missing name for mailers section.`,
  ]);
  assert.match(alerts(bad)[4]!, /^6:Parsing \[.*:6\]: mailers section 'm' has the same name as another mailers section declared at .*:1\.$/);
  assert.ok(alerts(parseConfigText(`mailers m\n  mailer a nohost:25\n`)).length === 1);
});

test('email-alert keywords: parse errors, incomplete settings ignored with a warning, unknown section', () => {
  const r = parseConfigText(`mailers m
  mailer a 127.0.0.1:25
backend b1
  email-alert level foo
  email-alert bar
  email-alert
  email-alert from
  server s 127.0.0.1:1
`);
  assert.deepEqual(alerts(r), [
    `4:unknown log level 'level' after 'foo'`,
    `5:email-alert: unknown argument 'bar'.`,
    `6:missing argument after 'email-alert'.`,
    `7:missing argument after 'email-alert'.`,
  ]);
  const r2 = parseConfigText(`mailers m
  mailer a 127.0.0.1:25
defaults
  email-alert from a@b
  email-alert to c@d
backend b1
  email-alert mailers nope
  server s 127.0.0.1:1
backend b2
  email-alert mailers m
  email-alert level notice
  email-alert myhostname me
  server s 127.0.0.1:1
listen l3
  bind 127.0.0.1:1
  email-alert mailers m
  email-alert from x
  email-alert to y
  email-alert level info
backend b4
  server s 127.0.0.1:1
`);
  assert.deepEqual(alerts(r2).map((a) => a.replace(/^[-\d]+:/, '')), [`Proxy 'b1': unable to find mailers 'nope'.`]);
  const b2 = r2.config.proxies.find((p) => p.name === 'b2')!.options.emailAlert!;
  assert.equal(b2.from, 'a@b');
  assert.equal(b2.to, 'c@d');
  assert.equal(b2.level, LOG_NOTICE);
  assert.equal(b2.myhostname, 'me');
  assert.equal(b2.section?.name, 'm');
  const l3 = r2.config.proxies.find((p) => p.name === 'l3')!.options.emailAlert!;
  assert.equal(l3.from, 'x');
  assert.equal(l3.level, 6);
  // b4 inherits from and to only: ignored with HAProxy's warning
  assert.deepEqual(warnings(r2).filter((w) => w.includes('email-alert')).map((w) => w.replace(/^[-\d]+:/, '')), [
    `'email-alert' will be ignored for backend 'b4' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).`,
  ]);
  assert.equal(r2.config.proxies.find((p) => p.name === 'b4')!.options.emailAlert, undefined);
});

test('mailer addresses', () => {
  assert.deepEqual(parseMailerAddress('192.168.0.1:587'), { host: '192.168.0.1', port: 587 });
  assert.deepEqual(parseMailerAddress('ipv4@10.0.0.1:25'), { host: '10.0.0.1', port: 25 });
  assert.deepEqual(parseMailerAddress('::1:25'), { host: '::1', port: 25 });
  assert.equal(parseMailerAddress('10.0.0.1'), undefined);
  assert.equal(parseMailerAddress('10.0.0.1:0'), undefined);
  assert.equal(parseMailerAddress('10.0.0.1:70000'), undefined);
  assert.equal(parseMailerAddress(''), undefined);
});

// The exact lines HAProxy 2.6 sent (captured with a node listener, see the file comment)
const MSG = 'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue';
const DATE = 'Tue, 01 Dec 2026 02:17:21 +0000 (UTC)';

test('SMTP dialogue and mail text, as HAProxy 2.6 sends them', () => {
  const d = smtpDialogue({ myhostname: 'vm', from: 'a@x.org', to: 'b@y.org', message: MSG, date: DATE });
  assert.deepEqual(d.map((x) => x.expect), [220, 250, 250, 250, 354, 250, 221]);
  assert.deepEqual(d.map((x) => x.send), [
    undefined, 'HELO vm\r\n', 'MAIL FROM:<a@x.org>\r\n', 'RCPT TO:<b@y.org>\r\n', 'DATA\r\n',
    `From: a@x.org\r\nTo: b@y.org\r\nDate: ${DATE}\r\nSubject: [HAProxy Alert] ${MSG}\r\n\r\n${MSG}\r\n\r\n.\r\n`,
    'QUIT\r\n',
  ]);
  assert.equal(alertText(`${MSG}.`), MSG);
  assert.equal(alertText(''), '');
});

test('Date header format', () => {
  assert.match(mailDate(new Date(Date.UTC(2026, 11, 1, 2, 17, 7))), /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\S+\)$/);
  if (process.env.TZ === 'UTC' || new Date().getTimezoneOffset() === 0) {
    assert.equal(mailDate(new Date(Date.UTC(2026, 11, 1, 2, 17, 7))), 'Tue, 01 Dec 2026 02:17:07 +0000 (UTC)');
  }
});

test('levels: DOWN is alert, UP and the DOWN of a soft-stopping server are notice', () => {
  assert.equal(changeLevel({ up: false }), LOG_ALERT);
  assert.equal(changeLevel({ up: true }), LOG_NOTICE);
  assert.equal(changeLevel({ up: false, wasStopping: true }), LOG_NOTICE);
});

/** A tiny SMTP server: replies from `replies` (by command word), records lines. */
async function smtp(opts: { reject?: string; banner?: string; silent?: boolean } = {}): Promise<{ port: number; lines: string[]; close(): Promise<void> }> {
  const lines: string[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => undefined);
    if (opts.silent) return;
    let buf = '';
    let data = false;
    s.write(opts.banner ?? '220-first\r\n220 ready\r\n');
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(line);
        if (data) { if (line === '.') { data = false; s.write('250 queued\r\n'); } continue; }
        const w = line.split(/[ :]/)[0]!;
        if (opts.reject === w) { s.write('550 no\r\n'); continue; }
        if (w === 'DATA') { data = true; s.write('354 go\r\n'); } else if (w === 'QUIT') { s.write('221 bye\r\n'); s.end(); } else s.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, lines, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

test('sendMail: a complete dialogue (multi-line banner accepted)', async () => {
  const s = await smtp();
  try {
    const ok = await sendMail('127.0.0.1', s.port, 2000, { myhostname: 'h', from: 'f@x', to: 't@y', message: 'hello', date: DATE });
    assert.equal(ok, true);
    assert.deepEqual(s.lines, ['HELO h', 'MAIL FROM:<f@x>', 'RCPT TO:<t@y>', 'DATA', 'From: f@x', 'To: t@y', `Date: ${DATE}`, 'Subject: [HAProxy Alert] hello', '', 'hello', '', '.', 'QUIT']);
  } finally { await s.close(); }
});

test('sendMail: failures end the mail quietly (rejected recipient, bad banner, refused, timeout)', async () => {
  const r = await smtp({ reject: 'RCPT' });
  const b = await smtp({ banner: '554 go away\r\n' });
  const q = await smtp({ silent: true });
  try {
    assert.equal(await sendMail('127.0.0.1', r.port, 2000, { myhostname: 'h', from: 'f', to: 't', message: 'm' }), false);
    assert.deepEqual(r.lines, ['HELO h', 'MAIL FROM:<f>', 'RCPT TO:<t>']);
    assert.equal(await sendMail('127.0.0.1', b.port, 2000, { myhostname: 'h', from: 'f', to: 't', message: 'm' }), false);
    assert.deepEqual(b.lines, []);
    const t0 = Date.now();
    assert.equal(await sendMail('127.0.0.1', q.port, 200, { myhostname: 'h', from: 'f', to: 't', message: 'm' }), false);
    assert.ok(Date.now() - t0 < 1500);
  } finally { await r.close(); await b.close(); await q.close(); }
  const free = net.createServer();
  await new Promise<void>((res) => free.listen(0, '127.0.0.1', () => res()));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise<void>((res) => free.close(() => res()));
  assert.equal(await sendMail('127.0.0.1', port, 2000, { myhostname: 'h', from: 'f', to: 't', message: 'm' }), false);
});
