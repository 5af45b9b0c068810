// Interop: log-forward sections. HAProxy 2.6 and haproxy-ts run the same log-forward section
// (UDP dgram-bind and TCP bind, targets in every format, a length limit, level filters) and
// receive the same syslog messages (RFC5424, RFC3164 with and without tag/pid/host, bare
// priority, raw text, malformed headers). The lines each sends to the UDP receivers must be
// identical once the dates taken from the local clock (messages without a timestamp) are
// masked. 2.6 has no "option host" and behaves as "option host keep", which haproxy-ts gets.
// Skipped when no haproxy binary is installed. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import {
  BIN, haproxyPath, freePorts, tempDir, writeConfig, startProxy, sleep, waitFor,
} from '../helpers/harness.js';

const HAPROXY = haproxyPath();
const SKIP = HAPROXY ? false : 'haproxy not installed';

const MESSAGES = [
  '<13>Oct 11 22:14:15 myhost app[123]: hello 3164',
  '<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 [exampleSDID@32473 iut="3"] hello 5424',
  '<13>hello no header',
  'just text',
  '<30>Oct  1 02:04:05 app: no pid no host',
  '<30>1 - - - - - - minimal',
  '<30>1 2003-10-11T22:14:15.003Z - - - - - ts only',
  '<30>1 2003-10-11T22:14:15.003Z host app - - - hostapp',
  '<30>1 2003-10-11T22:14:15.003+02:00 host app 1 ID [a b="c"][d e="f"] two sd',
  '<30>1 - host app 1 ID - nots',
  '<31>Oct 11 22:14:15 host app: notag pid',
  '<31>Oct 11 22:14:15 host app[1]:nospace',
  '<31>Oct 11 22:14:15 app[12]: nohost',
  '<31>Oct 11 22:14:15 host app[12] noColon',
  '<31>Oct 11 22:14:15 nohostnotag',
  '<31>Oct 11 22:14:15  two spaces',
  '<31>Octo 11 22:14:15 host app: baddate',
  '<200>x high facility',
  '<31>trailing newline\n',
  '<0>zero a very long message that goes beyond eighty characters for sure, yes indeed it does go beyond',
];

const FORMATS = ['', 'format rfc3164', 'format rfc5424', 'format raw', 'format short', 'format priority', 'format iso', 'format timed', 'len 80 format rfc5424', 'len 80 format rfc3164'];
const LEVELS = ['local0', 'local0', 'local0', 'local3 notice', 'local0', 'local0 debug err', 'local0', 'local0', 'local0 debug err', 'local0'];

async function receivers(n: number): Promise<{ socks: dgram.Socket[]; lines: string[][]; ports: number[] }> {
  const socks: dgram.Socket[] = [], lines: string[][] = [], ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    const l: string[] = [];
    s.on('message', (m) => l.push(m.toString('latin1')));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s); lines.push(l); ports.push(s.address().port);
  }
  return { socks, lines, ports };
}

/** Dates from the local clock differ between runs: masked. */
function mask(l: string): string {
  return l
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d/g, 'NOW-ISO')
    .replace(/^(<\d+>)((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d) /, (m0, pri: string, d: string) => (d === 'Oct 11 22:14:15' || d === 'Oct  1 02:04:05' ? m0 : `${pri}NOW-3164 `));
}

async function run(bin: string, isTs: boolean): Promise<string[][]> {
  const rx = await receivers(FORMATS.length);
  const [udp, tcp] = await freePorts(2);
  const dir = tempDir('lfwd-');
  const cfg = writeConfig(dir, `log-forward lf
  dgram-bind 127.0.0.1:${udp}
  bind 127.0.0.1:${tcp}
${isTs ? '  option host keep\n' : ''}${FORMATS.map((f, i) => `  log 127.0.0.1:${rx.ports[i]} ${f} ${LEVELS[i]}`).join('\n')}
`);
  const p = await startProxy(bin, ['-f', cfg, '-db'], [tcp!]);
  const out = dgram.createSocket('udp4');
  try {
    for (const m of MESSAGES) {
      await new Promise<void>((r) => out.send(Buffer.from(m, 'latin1'), udp!, '127.0.0.1', () => r()));
      await sleep(5);
    }
    // TCP: two messages with octet counting, then two with non-transparent framing
    const c = net.createConnection({ host: '127.0.0.1', port: tcp! });
    await new Promise<void>((r, j) => { c.once('connect', () => r()); c.once('error', j); });
    const a = '<14>Oct 11 22:14:15 h t[1]: octet one', b = '<14>1 2003-10-11T22:14:15Z h t 2 - - octet two';
    c.write(`${a.length} ${a}${b.length} ${b}`);
    await sleep(50);
    c.write('<15>Oct 11 22:14:15 h t: ntf one\n<15>1 - h t - - - ntf two\n');
    await sleep(50);
    c.end();
    const expected = (MESSAGES.length + 4);
    await waitFor(() => rx.lines[0]!.length >= expected, 5000, 'forwarded lines').catch(() => {});
    await sleep(200);
    return rx.lines.map((l) => l.map(mask));
  } finally {
    out.close();
    await p.stop();
    for (const s of rx.socks) s.close();
  }
}

test('log-forward: the same messages are forwarded byte for byte as by HAProxy 2.6', { skip: SKIP, timeout: 30_000 }, async () => {
  const ref = await run(HAPROXY!, false);
  const ours = await run(BIN, true);
  assert.ok(ref[0]!.length >= MESSAGES.length + 4, `haproxy forwarded ${ref[0]!.length} lines`);
  for (let i = 0; i < FORMATS.length; i++) {
    assert.deepEqual(ours[i], ref[i], `target ${i} (${FORMATS[i] || 'no format'} ${LEVELS[i]})\nhaproxy:\n${ref[i]!.join('')}\nhaproxy-ts:\n${ours[i]!.join('')}`);
  }
});
