// tcp-check / http-check rules through the real binary: a server on loopback answers per
// connection from a list of plans; the DOWN/UP messages expected are the ones HAProxy 2.6 printed
// (`-db`) for the same configuration and the same server behaviour.
import { describe, it } from 'node:test';
import net from 'node:net';
import { freePorts, startProxyWithConfig, closeAll, waitFor, type Proc } from '../helpers/harness.js';

const T = { timeout: 30_000 };

/** plans: '@' waits for data, 'END' closes, 'RST' resets, 'hex:..' bytes, else text; the last plan repeats. */
async function planServer(plans: string[][]): Promise<{ port: number; got: string[]; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const got: string[] = [];
  let conn = 0;
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    const plan = plans[Math.min(conn++, plans.length - 1)]!;
    s.on('data', (d) => { if (got.length < 50) got.push(d.toString('latin1')); });
    let i = 0;
    const go = (): void => {
      while (i < plan.length) {
        const p = plan[i++]!;
        if (p === '@') { s.once('data', () => setTimeout(go, 5)); return; }
        if (p === 'END') { s.end(); return; }
        if (p === 'RST') { s.resetAndDestroy(); return; }
        s.write(p.startsWith('hex:') ? Buffer.from(p.slice(4), 'hex') : Buffer.from(p, 'latin1'));
      }
    };
    go();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, got, close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
}

interface Case { name: string; mode?: string; backend: string[]; plans: string[][]; tcheck?: string; srv?: string; expect: (RegExp | string)[]; got?: RegExp }

const R200 = 'HTTP/1.1 200 OK\r\nX-Foo: bar, baz\r\nContent-Length: 5\r\n\r\nhello';
const DOWN = (reason: string): string => `Server b/s is DOWN, reason: ${reason}, check duration: `;

const CASES: Case[] = [
  { name: 'a comment rule names the failing expect', backend: ['option tcp-check', 'tcp-check comment my\\ comment', 'tcp-check expect string FOO'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content 'FOO' at step 2 comment: my comment"`)] },
  { name: 'expect comment option', backend: ['option tcp-check', 'tcp-check expect comment cmt2 string FOO'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content 'FOO' at step 1 comment: cmt2"`)] },
  { name: 'a set-var between the comment and the expect takes the comment', backend: ['option tcp-check', 'tcp-check comment c7', 'tcp-check set-var(check.x) str(abc)', 'tcp-check expect string FOO'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content 'FOO' at step 3"`)] },
  { name: 'rstring / rbinary / binary messages', backend: ['option tcp-check', 'tcp-check expect rbinary ^464f'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content (binary regex) at step 1"`)] },
  { name: 'connect port refused with a comment', backend: ['option tcp-check', 'tcp-check comment c8', 'tcp-check connect port 1'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer4 connection problem, info: "Connection refused at step 2 of tcp-check (connect port 1) comment: 'c8'"`)] },
  { name: 'timeout with a comment', backend: ['option tcp-check', 'tcp-check comment c9', 'tcp-check expect string FOO'], plans: [['BAR']], tcheck: '200ms',
    expect: [DOWN(`Layer7 timeout, info: " at step 2 of tcp-check (expect string 'FOO') comment: 'c9'"`)] },
  { name: 'initial connection refused', backend: ['option tcp-check', 'tcp-check expect string FOO'], plans: [['BAR', 'END']], srv: 'port 1',
    expect: [DOWN(`Layer4 connection problem, info: "Connection refused at initial connection step of tcp-check"`)] },
  { name: 'on-error, status-code, error-status with a check variable', backend: ['option tcp-check', 'tcp-check set-var(check.x) str(abc)', 'tcp-check expect status-code int(42) error-status L7STS on-error "err-%[var(check.x)]" string FOO'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 wrong status, code: 42, info: "err-abc"`)] },
  { name: 'on-success and status-code on the last rule', backend: ['option tcp-check', 'tcp-check set-var(check.x) str(abc)', 'tcp-check expect status-code int(42) on-success "ok-%[var(check.x)]" string BAR'], plans: [['FOO', 'END'], ['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content 'BAR' at step 2"`), 'Server b/s is UP, reason: Layer7 check passed, code: 42, info: "ok-abc", check duration: '] },
  { name: 'send-lf and send-binary-lf', backend: ['option tcp-check', 'tcp-check set-var(check.x) str(abc)', 'tcp-check set-var(check.h) str(4243)', 'tcp-check send-lf "hi-%[var(check.x)]-%[var(check.y)]\\r\\n"', 'tcp-check send-binary-lf "41%[var(check.h)]0a"', 'tcp-check expect string BAR'], plans: [['@', 'BAR', 'END']],
    expect: [], got: /^hi-abc-\r\nABC\n/ },
  { name: 'string-lf message', backend: ['option tcp-check', 'tcp-check set-var(check.x) str(FOO)', 'tcp-check expect string-lf "%[var(check.x)]"'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content (log-format string) at step 2"`)] },
  { name: 'binary-lf message', backend: ['option tcp-check', 'tcp-check set-var(check.x) str(464f)', 'tcp-check expect binary-lf "%[var(check.x)]"'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK did not match content (log-format binary) at step 2"`)] },
  { name: 'negated string', backend: ['option tcp-check', 'tcp-check expect ! string BAR'], plans: [['BAR', 'END']],
    expect: [DOWN(`Layer7 invalid response, info: "TCPCHK matched unwanted content 'BAR' at step 1"`)] },
  { name: 'a reset while reading', backend: ['option tcp-check', 'tcp-check send foo comment sc', 'tcp-check expect string X'], plans: [['@', 'RST']],
    expect: [DOWN(`Socket error, info: "Connection reset by peer at step 2 of tcp-check (expect string 'X')"`)] },
  // http-check
  { name: 'http: send with uri-lf, lf header, body-lf and send-state', mode: 'http',
    backend: ['option httpchk', 'http-check send-state', 'http-check set-var(check.u) str(/abc)', 'http-check connect default', 'http-check send meth POST uri-lf "%[var(check.u)]?q=1" ver HTTP/1.1 hdr Host h.example hdr X-V "v-%[var(check.u)]" body-lf "b=%[var(check.u)]"'],
    plans: [['@', R200, 'END']], expect: [],
    got: /^POST \/abc\?q=1 HTTP\/1\.1\r\nhost: h\.example\r\nx-v: v-\/abc\r\nx-haproxy-server-state: UP; address=127\.0\.0\.1; port=\d+; name=b\/s; node=[^;]+; weight=1\/1; scur=0\/0; qcur=0\r\ncontent-length: 6\r\nconnection: close\r\n\r\nb=\/abc$/ },
  { name: 'http: missing header is a wrong status with the reason', mode: 'http', backend: ['option httpchk', 'http-check comment hc12', 'http-check expect hdr name x-nope'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer7 wrong status, code: 200, info: "OK comment: hc12"')] },
  { name: 'http: fhdr full value', mode: 'http', backend: ['option httpchk', 'http-check expect fhdr name x-foo value "bar, baz"'],
    plans: [['@', 'HTTP/1.1 200 OK\r\nX-Foo: nope\r\nContent-Length: 0\r\n\r\n', 'END'], ['@', R200, 'END']],
    expect: [DOWN('Layer7 wrong status, code: 200, info: "OK"'), 'Server b/s is UP, reason: Layer7 check passed, code: 200, check duration: '] },
  { name: 'http: hdr with regex name and end value', mode: 'http', backend: ['option httpchk', 'http-check expect hdr name -m reg ^x-f value -m end az'],
    plans: [['@', 'HTTP/1.1 200 OK\r\nX-Foo: nope\r\nContent-Length: 0\r\n\r\n', 'END'], ['@', R200, 'END']],
    expect: [DOWN('Layer7 wrong status, code: 200, info: "OK"'), 'Server b/s is UP, reason: Layer7 check passed, code: 200, check duration: '] },
  { name: 'http: string-lf', mode: 'http', backend: ['option httpchk', 'http-check set-var(check.x) str(nothere)', 'http-check expect string-lf "%[var(check.x)]"'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer7 invalid response, info: "HTTP content check did not match"')] },
  { name: 'http: comment after a body regex', mode: 'http', backend: ['option httpchk', 'http-check comment hc6', 'http-check expect rstring ^zz'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer7 invalid response, info: "HTTP content check did not match comment: hc6"')] },
  { name: 'http: on-error, comment and status-code', mode: 'http', backend: ['option httpchk', 'http-check set-var(check.x) str(abc)', 'http-check expect status-code int(42) on-error "e-%[var(check.x)]" comment cc status 201'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer7 wrong status, code: 42, info: "e-abc comment: cc"')] },
  { name: 'http: on-success with a response header', mode: 'http', backend: ['option httpchk', 'http-check expect on-success "s-%[res.hdr(x-foo)]" status-code int(7) status 200'],
    plans: [['@', 'HTTP/1.1 500 E\r\nContent-Length: 0\r\n\r\n', 'END'], ['@', R200, 'END']],
    expect: [DOWN('Layer7 wrong status, code: 7, info: "E"'), 'Server b/s is UP, reason: Layer7 check passed, code: 7, info: "s-baz", check duration: '] },
  { name: 'http: negated string', mode: 'http', backend: ['option httpchk', 'http-check expect ! string hello'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer7 invalid response, info: "HTTP check matched unwanted content"')] },
  { name: 'http: connect refused shows no comment', mode: 'http', backend: ['option httpchk', 'http-check comment hc8', 'http-check connect port 1'], plans: [['@', R200, 'END']],
    expect: [DOWN('Layer4 connection problem, info: "Connection refused"')] },
  { name: 'http: send-state while down, and a configured connection header', mode: 'http', backend: ['option httpchk', 'http-check send-state', 'http-check send hdr connection keep-alive'],
    plans: [['@', 'HTTP/1.1 500 E\r\nContent-Length: 0\r\n\r\n', 'END'], ['@', R200, 'END']], srv: 'weight 7',
    expect: [DOWN('Layer7 wrong status, code: 500, info: "E"'), 'Server b/s is UP'],
    got: /OPTIONS \/ HTTP\/1\.0\r\nx-haproxy-server-state: DOWN; address=127\.0\.0\.1; port=\d+; name=b\/s; node=[^;]+; weight=7\/0; scur=0\/0; qcur=0\r\nconnection: keep-alive\r\n\r\n/ },
];

describe('tcp-check / http-check rules', () => {
  for (const c of CASES) {
    it(c.name, T, async () => {
      const srv = await planServer(c.plans);
      const [fp] = await freePorts(1);
      let proxy: Proc | undefined;
      try {
        proxy = await startProxyWithConfig(`
defaults
  mode ${c.mode ?? 'tcp'}
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  ${c.tcheck ? `timeout check ${c.tcheck}` : ''}
backend b
${c.backend.map((l) => `  ${l}`).join('\n')}
  server s 127.0.0.1:${srv.port} check inter 200 fall 1 rise 1 ${c.srv ?? ''}
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
`, [fp!]);
        for (const e of c.expect) {
          await waitFor(() => (typeof e === 'string' ? proxy!.stderr().includes(e) : e.test(proxy!.stderr())), 5000, `message ${String(e)}; got: ${proxy!.stderr().slice(-600)}`);
        }
        if (c.got) await waitFor(() => srv.got.some((g) => c.got!.test(g)), 5000, `request ${String(c.got)}: ${JSON.stringify(srv.got.slice(0, 3))}`);
      } finally {
        await closeAll([proxy, srv]);
      }
    });
  }
});
