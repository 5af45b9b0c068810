// Protocol health checks through the real binary: for each option, a fake server answering
// right keeps the server UP; switched to a wrong answer, the server goes DOWN with the message
// HAProxy 2.6 printed for the same answer; switched back, it comes UP again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePorts, startProxyWithConfig, closeAll, waitFor, sleep, type Proc } from '../helpers/harness.js';

const T = { timeout: 30_000 };
const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/** A server replaying a plan ('@' = wait for data, 'END' = close, else hex) chosen per connection. */
async function fake(): Promise<{ port: number; plan: string[]; close(): Promise<void> }> {
  const st = { port: 0, plan: [] as string[], close: async () => {} };
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    const plan = st.plan;
    let i = 0;
    const go = (): void => {
      while (i < plan.length) {
        const p = plan[i++]!;
        if (p === '@') { s.once('data', () => setTimeout(go, 2)); return; }
        if (p === 'END') { s.end(); return; }
        s.write(Buffer.from(p, 'hex'));
      }
    };
    go();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  st.port = (srv.address() as net.AddressInfo).port;
  st.close = () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); });
  return st;
}

interface Case { option: string; good: string[]; bad: string[]; down: RegExp; up: RegExp }

const CASES: Case[] = [
  {
    option: 'option redis-check', good: ['@', hex('+PONG\r\n')], bad: ['@', hex('-ERR foo\r\n'), 'END'],
    down: /Server b\/s is DOWN, reason: Layer7 wrong status, code: 0, info: "-ERR foo", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 0, info: "Redis server is ok", check duration: \d+ms/,
  },
  {
    option: 'option ssl-hello-chk', good: ['@', '1603010000'], bad: ['@', '4845', 'END'],
    down: /Server b\/s is DOWN, reason: Layer6 invalid response, check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer6 check passed, check duration: \d+ms/,
  },
  {
    option: 'option smtpchk EHLO example.org', good: [hex('220 hi\r\n'), '@', hex('250 ok\r\n'), '@', hex('221 bye\r\n')], bad: [hex('554 banner\r\n'), 'END'],
    down: /Server b\/s is DOWN, reason: Layer7 wrong status, code: 554, info: "banner", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 221, info: "bye", check duration: \d+ms/,
  },
  {
    option: 'option ldap-check', good: ['@', '300c02010161070a010004000400'], bad: ['@', '300c02010161070a013104000400'],
    down: /Server b\/s is DOWN, reason: Layer7 wrong status, code: 49, info: "See RFC: http:\/\/tools\.ietf\.org\/html\/rfc4511#section-4\.1\.9", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 0, check duration: \d+ms/,
  },
  {
    option: 'option pgsql-check user bob', good: ['@', '520000000800000000'], bad: ['@', '450000001053464154414c00433238303030004d6e6f20737563682075736572000000', 'END'],
    down: /Server b\/s is DOWN, reason: Layer7 invalid response, info: "FATAL", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 0, info: "PostgreSQL server is ok", check duration: \d+ms/,
  },
  {
    option: 'option mysql-check user hap',
    good: ['1c0000000a352e372e39392d746573740001000000616263646566676800fff7', '@', '0700000200000002000000'],
    bad: ['1c0000000a352e372e39392d746573740001000000616263646566676800fff7', '@', '1f000002ff15042332383030304163636573732064656e69656420666f722075736572', 'END'],
    down: /Server b\/s is DOWN, reason: Layer7 wrong status, code: 1045, info: "#28000Access denied for user", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 0, check duration: \d+ms/,
  },
  {
    // AGENT-HELLO answers built from SPOE.txt; haproxy 2.6 accepted the first and printed these messages
    option: 'option spop-check',
    good: ['@', '00000036650000000100000776657273696f6e0803322e300e6d61782d6672616d652d73697a6503fcf0060c6361706162696c69746965730800'],
    bad: ['@', '00000036650000000100000776657273696f6e0803312e300e6d61782d6672616d652d73697a6503fcf0060c6361706162696c69746965730800'],
    down: /Server b\/s is DOWN, reason: Layer7 invalid response, info: "unsupported version", check duration: \d+ms/,
    up: /Server b\/s is UP, reason: Layer7 check passed, code: 0, check duration: \d+ms/,
  },
];

describe('protocol health checks', () => {
  for (const c of CASES) {
    it(`${c.option}: stays UP on right answers, DOWN on a wrong one, UP again`, T, async () => {
      const srv = await fake();
      srv.plan = c.good;
      const [fp] = await freePorts(1);
      let proxy: Proc | undefined;
      try {
        proxy = await startProxyWithConfig(`
defaults
  mode tcp
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
  timeout check 500ms
listen b
  bind 127.0.0.1:${fp}
  ${c.option}
  server s 127.0.0.1:${srv.port} check inter 100 rise 1 fall 1
`, [fp!]);
        await sleep(600);
        assert.doesNotMatch(proxy.stderr(), /is DOWN/, 'right answers keep the server up');
        srv.plan = c.bad;
        await waitFor(() => c.down.test(proxy!.stderr()), 5000, `DOWN message for ${c.option}`);
        srv.plan = c.good;
        await waitFor(() => c.up.test(proxy!.stderr()), 5000, `UP message for ${c.option}`);
      } finally {
        await closeAll([proxy, srv]);
      }
    });
  }
});
