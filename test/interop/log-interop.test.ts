// Interop: traffic logs. The same configuration (option tcplog / option httplog / clf, logging to
// a UDP syslog receiver the test runs) is run by Debian's HAProxy and by haproxy-ts, the same
// client and server behaviour is played against each, and the log lines are compared after
// masking what legitimately differs: the pid, dates, client/server ports and timer values (a
// timer keeps whether it is -1, a number, or '+'-prefixed).
// Skipped when no haproxy binary is installed. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import {
  BIN, haproxyPath, freePorts, tempDir, writeConfig, startProxy, sleep, waitFor, startTestServer,
} from '../helpers/harness.js';
import { rawHttp, startRecordingBackend, type RecordingReply } from '../helpers/http.js';
import { udpSyslogReceiver } from '../helpers/syslog.js';

const HAPROXY = haproxyPath();
const SKIP = HAPROXY ? false : 'haproxy not installed';
interface Impl { name: string; bin: string }
const IMPLS: Impl[] = HAPROXY ? [{ name: 'haproxy', bin: HAPROXY }, { name: 'haproxy-ts', bin: BIN }] : [];

const maskTimer = (t: string): string => (t === '-1' ? '-1' : t.startsWith('+') ? '+N' : 'N');

/** Masks pid, dates, ports and timer values (counters, sizes and states are compared as they are). */
export function maskLine(l: string): string {
  return l
    .replace(/^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d [\w.-]+\[\d+\]: /, '<$1>DATE TAG[PID]: ')
    .replace(/\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]/g, '[DATE]')
    .replace(/\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]/g, '[DATE]')
    .replace(/(\d+\.\d+\.\d+\.\d+):\d+/g, '$1:PORT')
    // tcplog/httplog: the timers follow "frontend backend/server"
    .replace(/( \S+ \S+\/\S+ )(\+?-?\d+(?:\/\+?-?\d+){2,4}) /, (_m, a: string, g: string) => a + g.split('/').map(maskTimer).join('/') + ' ')
    // clf: client port and milliseconds, then the timers after the quoted server name
    .replace(/ "" "" \d+ \d+ "/, ' "" "" PORT MS "')
    .replace(/("[^"]*" "[^"]*" "[^"]*") (-?\d+) (-?\d+) (-?\d+) (-?\d+) (\+?-?\d+) /, (_m, a: string, ...t: string[]) => a + ' ' + t.slice(0, 5).map(maskTimer).join(' ') + ' ')
    .trimEnd();
}

interface Scenario {
  name: string;
  mode: 'tcp' | 'http';
  /** log lines expected */
  lines: number;
  /** proxy lines after bind (the backend server line uses SRV for the test server address) */
  cfg: string;
  server?: (r: { conn: number }) => RecordingReply;
  /** a TCP echo server instead of an HTTP one */
  echo?: boolean;
  /** a server that accepts and never answers */
  hold?: boolean;
  /** options after the bind address */
  bindOpts?: string;
  /** extra masking of what legitimately differs in this scenario */
  mask?: (line: string) => string;
  traffic(port: number): Promise<void>;
}

async function runScenario(impl: Impl, sc: Scenario): Promise<string[]> {
  const rx = await udpSyslogReceiver();
  const srv = sc.hold ? await startTestServer('s1', { mode: 'hold' }) : sc.echo ? await startTestServer('s1', { mode: 'echo' })
    : sc.server ? await startRecordingBackend((r) => sc.server!({ conn: r.conn })) : undefined;
  const [fePort, deadPort, readyPort] = await freePorts(3);
  const text = `global
  nbthread 1
  log 127.0.0.1:${rx.port} local0
  log-tag haproxy
defaults
  mode ${sc.mode}
  log global
  timeout connect 1s
  timeout client 2s
  timeout server 2s
listen px
  bind 127.0.0.1:${fePort}${sc.bindOpts ? ' ' + sc.bindOpts : ''}
${sc.cfg.replace(/SRV/g, `127.0.0.1:${srv?.port ?? deadPort}`).replace(/DEAD/g, `127.0.0.1:${deadPort}`)}
frontend ready
  bind 127.0.0.1:${readyPort}
  mode tcp
  no log
  tcp-request connection reject
`;
  const dir = tempDir('hts-log-');
  // readiness is probed on a frontend that does not log, so that the probe leaves no line
  // (declared last: both implementations bind in order, so px listens once ready does)
  const proc = await startProxy(impl.bin, ['-db', '-f', writeConfig(dir, text)], [readyPort!], { timeoutMs: 8000 });
  // a port taken meanwhile by another test's process makes the proxy exit: say so plainly
  await sleep(100);
  if (proc.child.exitCode !== null) throw new Error(`${impl.name} exited at start-up: ${proc.stderr()}`);
  try {
    await sc.traffic(fePort!);
    await waitFor(() => rx.lines.length >= sc.lines, 5000, `${impl.name}: ${sc.lines} log lines (got ${rx.lines.length}: ${rx.lines.join('')})`);
    await sleep(100);
    return rx.lines.map((l) => (sc.mask ? sc.mask(maskLine(l)) : maskLine(l)));
  } finally {
    await proc.stop('SIGTERM', 2000);
    await srv?.close();
    await rx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function tcpSession(port: number, send: string, opts: { wait?: number; half?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (): void => { s.destroy(); resolve(); };
    const t = setTimeout(done, 4000);
    s.on('error', () => { clearTimeout(t); done(); });
    s.on('close', () => { clearTimeout(t); resolve(); });
    s.on('data', () => {});
    s.on('connect', () => {
      if (send) s.write(send);
      setTimeout(() => { if (opts.half) s.end(); else done(); }, opts.wait ?? 100);
    });
  });
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello';

const SCENARIOS: Scenario[] = [
  {
    name: 'tcplog: normal session closed by the client', mode: 'tcp', lines: 1,
    cfg: '  option tcplog\n  server s1 SRV',
    echo: true,
    traffic: (p) => tcpSession(p, 'ping\n', { half: true, wait: 200 }),
  },
  {
    name: 'tcplog: server refuses the connection (SC)', mode: 'tcp', lines: 1,
    cfg: '  option tcplog\n  retries 1\n  server s1 DEAD',
    traffic: (p) => tcpSession(p, 'x', { wait: 1500 }),
  },
  {
    name: 'httplog: 200 from the server, two requests on one connection', mode: 'http', lines: 2,
    cfg: '  option httplog\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => { await rawHttp(p, 'GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b?q=1 HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 2 }); },
  },
  {
    name: 'httplog: denied request (PR--) and local return (LR--)', mode: 'http', lines: 2,
    cfg: '  option httplog\n  http-request deny if { path /deny }\n  http-request return status 200 content-type text/plain string ok if { path /ret }\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => {
      await rawHttp(p, 'GET /deny HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
      await rawHttp(p, 'GET /ret HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
    },
  },
  {
    name: 'httplog: no server (503, SC--)', mode: 'http', lines: 1,
    cfg: '  option httplog\n  retries 0\n  server s1 DEAD',
    traffic: async (p) => { await rawHttp(p, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 4000 }); },
  },
  {
    name: 'httplog: bad request (400, PR--, <BADREQ>)', mode: 'http', lines: 1,
    cfg: '  option httplog\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => { await rawHttp(p, 'GET / HTTP/1.1\r\nhost x\r\n\r\n', { responses: 1 }); },
  },
  {
    name: 'httplog: server closes without answering (502, SH--)', mode: 'http', lines: 1,
    cfg: '  option httplog\n  server s1 SRV',
    server: () => ({ data: '', close: true }),
    traffic: async (p) => { await rawHttp(p, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 4000 }); },
  },
  {
    name: 'httplog clf, captures', mode: 'http', lines: 1,
    cfg: '  option httplog clf\n  capture request header host len 20\n  capture response header content-length len 5\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => { await rawHttp(p, 'GET /c HTTP/1.1\r\nhost: example\r\n\r\n', { responses: 1 }); },
  },
  {
    name: 'logasap (tcp): logged once connected, total time and bytes with a +', mode: 'tcp', lines: 1,
    cfg: '  option tcplog\n  option logasap\n  server s1 SRV',
    echo: true,
    traffic: (p) => tcpSession(p, '', { half: true, wait: 300 }),
  },
  {
    name: 'logasap (http): logged once the response head is sent', mode: 'http', lines: 1,
    cfg: '  option httplog\n  option logasap\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => { await rawHttp(p, 'GET /asap HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 }); },
  },
  {
    name: 'redirect, auth and tarpit', mode: 'http', lines: 3,
    cfg: '  option httplog\n  timeout tarpit 200ms\n  http-request redirect location /x if { path /r }\n  http-request auth realm R if { path /a }\n  http-request tarpit if { path /t }\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => {
      await rawHttp(p, 'GET /r HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
      await rawHttp(p, 'GET /a HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
      await rawHttp(p, 'GET /t HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
    },
  },
  {
    name: 'http-request timeout (408 cR--), a server closing without answer (502 SH--)', mode: 'http', lines: 2,
    cfg: '  option httplog\n  timeout http-request 300ms\n  timeout server 300ms\n  server s1 SRV',
    server: () => null,
    traffic: async (p) => {
      await rawHttp(p, 'GET /slow HTTP/1.1\r\nhost', { responses: 1, timeoutMs: 3000 }).catch(() => undefined);
      await rawHttp(p, 'GET /noanswer HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
    },
  },
  {
    name: 'session errors: an invalid PROXY header', mode: 'http', lines: 2, bindOpts: 'accept-proxy',
    cfg: '  option httplog\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => {
      await tcpSession(p, 'GARBAGE GARBAGE GARBAGE\r\n\r\n', { wait: 200 });
      await tcpSession(p, 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', { wait: 200 });
    },
  },
  {
    name: 'a server that never answers: 504 sH--, also after the client left (no abortonclose)', mode: 'http', lines: 2,
    cfg: '  option httplog\n  timeout server 400ms\n  server s1 SRV',
    hold: true,
    traffic: async (p) => {
      await rawHttp(p, 'GET /slow HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1, timeoutMs: 3000 });
      await tcpSession(p, 'GET /gone HTTP/1.1\r\nhost: x\r\n\r\n', { wait: 150 });
    },
  },
  {
    name: 'tcplog: server timeouts in data (sD)', mode: 'tcp', lines: 2,
    cfg: '  option tcplog\n  timeout server 300ms\n  timeout client 5s\n  server s1 SRV',
    hold: true,
    traffic: async (p) => {
      await tcpSession(p, 'x', { wait: 1000 });
      // the first stream is logged just after its client sees the close: leave it the time
      await sleep(200);
      await tcpSession(p, 'y', { wait: 100 });
    },
  },
  {
    name: 'the Prometheus service: <PROMEX>, applet timers 0 (the size of the metrics aside)', mode: 'http', lines: 1,
    cfg: '  option httplog\n  http-request use-service prometheus-exporter if { path /metrics }\n  server s1 SRV',
    server: () => OK,
    mask: (l) => l.replace(/ 200 \d+ /, ' 200 SIZE '),
    traffic: async (p) => { await rawHttp(p, 'GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 }); },
  },
  {
    name: 'dontlognull: an empty connection is not logged, the next one is', mode: 'http', lines: 1,
    cfg: '  option httplog\n  option dontlognull\n  server s1 SRV',
    server: () => OK,
    traffic: async (p) => {
      await tcpSession(p, '', { wait: 50 });
      await rawHttp(p, 'GET /after-null HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
    },
  },
];

for (const sc of SCENARIOS) {
  test(`log interop: ${sc.name}`, { skip: SKIP, timeout: 30_000 }, async (t) => {
    const out: Record<string, string[]> = {};
    for (const impl of IMPLS) {
      // a free port picked here can be taken by a concurrently running test: one more try then
      out[impl.name] = await runScenario(impl, sc).catch((e: Error) => {
        if (!/exited at start-up/.test(e.message)) throw e;
        return runScenario(impl, sc);
      });
      // LOG_INTEROP_SHOW=1 prints what each implementation logged, as it goes
      if (process.env['LOG_INTEROP_SHOW']) process.stderr.write(`[${sc.name}] ${impl.name}:\n  ${out[impl.name]!.join('\n  ')}\n`);
    }
    t.diagnostic(`haproxy:    ${out['haproxy']!.join('\n            ')}`);
    t.diagnostic(`haproxy-ts: ${out['haproxy-ts']!.join('\n            ')}`);
    assert.deepEqual(out['haproxy-ts'], out['haproxy'], `haproxy-ts:\n${out['haproxy-ts']!.join('\n')}\nhaproxy:\n${out['haproxy']!.join('\n')}`);
  });
}
