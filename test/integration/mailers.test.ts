// Email alerts through the real binary: a server dies while haproxy-ts runs with email alerts,
// every mailer of the section receives HAProxy's mail (dialogue and text as HAProxy 2.6 sends
// them); the level filters the UP mail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePorts, startProxyWithConfig, startTestServer, closeAll, waitFor, sleep, type Proc } from '../helpers/harness.js';

const T = { timeout: 30_000 };

interface Smtp { port: number; mails: string[][]; close(): Promise<void> }

/** An SMTP listener recording each connection's lines. */
async function smtpListener(): Promise<Smtp> {
  const mails: string[][] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => undefined);
    const lines: string[] = [];
    mails.push(lines);
    let buf = '';
    let data = false;
    s.write('220 test ESMTP\r\n');
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(line);
        if (data) { if (line === '.') { data = false; s.write('250 ok queued\r\n'); } continue; }
        if (/^DATA/.test(line)) { data = true; s.write('354 go\r\n'); } else if (/^QUIT/.test(line)) { s.write('221 bye\r\n'); s.end(); } else s.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, mails, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

const complete = (m: string[]): boolean => m[m.length - 1] === 'QUIT';

describe('email alerts', () => {
  it('a server that dies: each mailer receives the DOWN mail; UP is mailed only at level notice', T, async () => {
    const m1 = await smtpListener();
    const m2 = await smtpListener();
    const s1 = await startTestServer('s1');
    const s2 = await startTestServer('s2');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`
mailers mm
  timeout mail 3s
  mailer one 127.0.0.1:${m1.port}
  mailer two 127.0.0.1:${m2.port}
defaults
  mode tcp
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  email-alert mailers mm
  email-alert from haproxy@example.org
  email-alert to ops@example.org
  email-alert myhostname tester
backend b
  server s 127.0.0.1:${s1.port} check inter 200 fall 1 rise 1
backend c
  email-alert level notice
  server t 127.0.0.1:${s2.port} check inter 200 fall 1 rise 1
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
`, [fp!]);
      await sleep(500);
      assert.equal(m1.mails.length, 0, 'no mail while servers are up');
      await s1.close();
      await waitFor(() => m1.mails.some(complete) && m2.mails.some(complete), 5000, 'DOWN mail on both mailers');
      for (const mm of [m1, m2]) {
        const lines = mm.mails.find(complete)!;
        const body = 'Server b/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: <d>ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue';
        const norm = lines.map((l) => l.replace(/check duration: \d+ms/, 'check duration: <d>ms'));
        assert.deepEqual(norm.slice(0, 6), ['HELO tester', 'MAIL FROM:<haproxy@example.org>', 'RCPT TO:<ops@example.org>', 'DATA', 'From: haproxy@example.org', 'To: ops@example.org']);
        assert.match(norm[6]!, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\S+\)$/);
        assert.deepEqual(norm.slice(7), [`Subject: [HAProxy Alert] ${body}`, '', body, '', '.', 'QUIT']);
      }
      // backend c, level notice: DOWN and UP both mailed
      await s2.close();
      await waitFor(() => m1.mails.filter(complete).length >= 2, 5000, 'DOWN mail for c/t');
      const s2b = await startTestServer('s2', { port: s2.port });
      try {
        await waitFor(() => m1.mails.filter(complete).length >= 3, 5000, 'UP mail for c/t');
        const up = m1.mails.filter(complete)[2]!;
        assert.match(up[7]!, /^Subject: \[HAProxy Alert\] Server c\/t is UP, reason: Layer4 check passed, check duration: \d+ms\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue$/);
        // backend b (level alert): its server's return is not mailed
        const s1b = await startTestServer('s1', { port: s1.port });
        await sleep(800);
        assert.equal(m1.mails.filter(complete).length, 3);
        await s1b.close();
      } finally { await s2b.close(); }
      assert.ok(proxy.child.exitCode === null, 'the proxy still runs');
    } finally {
      await closeAll([proxy, m1, m2, s1, s2]);
    }
  });

  it('an unreachable mailer does not disturb the proxy', T, async () => {
    const s1 = await startTestServer('s1');
    const [fp, dead] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`
mailers mm
  timeout mail 1s
  mailer one 127.0.0.1:${dead}
defaults
  mode tcp
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
listen l
  bind 127.0.0.1:${fp}
  email-alert mailers mm
  email-alert from a@b
  email-alert to c@d
  server s 127.0.0.1:${s1.port} check inter 200 fall 1 rise 1
`, [fp!]);
      await s1.close();
      await waitFor(() => /Server l\/s is DOWN/.test(proxy!.stderr()), 5000, 'DOWN message');
      await sleep(1500);
      assert.equal(proxy.child.exitCode, null);
      assert.doesNotMatch(proxy.stderr(), /ALERT.*internal error/);
    } finally {
      await closeAll([proxy, s1]);
    }
  });
});
