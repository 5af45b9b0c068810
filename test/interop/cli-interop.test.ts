// Interop with Debian's haproxy 2.6 (skipped when it is not installed): the same configuration in
// both, the same runtime API commands, the same answers for the commands whose output is
// deterministic; for the dumps (show sess, show activity, show pools, show threads) the layout
// is compared with the values masked. Every wait is bounded; every process is stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  haproxyPath, BIN, freePorts, tempDir, writeConfig, startProxy, waitFor, cliCommand, startTestServer, openClient, closeAll,
  type Proc, type TestServer, type Client,
} from '../helpers/harness.js';

const HAPROXY = haproxyPath();
const SKIP = HAPROXY ? false : 'haproxy not installed';

function config(dir: string, fePort: number, fwPort: number, srvPort: number): string {
  return `
global
  nbthread 1
  stats socket ${path.join(dir, 'admin.sock')} level admin
  stats socket ${path.join(dir, 'oper.sock')} level operator
  stats socket ${path.join(dir, 'user.sock')} level user
defaults
  mode tcp
  timeout client 10s
  timeout server 10s
  timeout connect 2s
frontend fe
  id 1
  bind 127.0.0.1:${fePort}
  default_backend be
frontend fw
  id 2
  bind 127.0.0.1:${fwPort}
  option httplog
  default_backend be
backend be
  id 10
  server s1 127.0.0.1:${srvPort}
  server s2 127.0.0.1:${srvPort}
`;
}

interface Side { name: string; dir: string; proc: Proc; fePort: number; fwPort: number }

/** Commands answered identically (after start-up, in this order, on the admin socket unless prefixed). */
const SAME: string[] = [
  'show backend',
  'show servers conn nope',
  'disable frontend', 'disable frontend nope', 'disable frontend be',
  'enable frontend fw', 'disable frontend fw', 'disable frontend fw', 'enable frontend fw',
  'shutdown frontend', 'shutdown frontend nope',
  'set rate-limit', 'set rate-limit connections', 'set rate-limit connections local 10', 'set rate-limit foo global 5',
  'set rate-limit connections global',
  'shutdown session', 'shutdown session zz', 'shutdown session 0x7fffffff',
  'shutdown sessions server', 'shutdown sessions server be', 'shutdown sessions server be/zz',
  'show sess 0x7fffffff',
  'expert-mode', 'expert-mode on; expert-mode; expert-mode foo; expert-mode',
  'experimental-mode', 'experimental-mode on; experimental-mode; experimental-mode off; experimental-mode',
  'expert-mode on; operator; expert-mode',
  'debug dev close 1',
  'show tasks',
  'show table', 'show table foo', 'show peers', 'show peers foo', 'show cache',
  'user:show sess', 'user:show startup-logs', 'user:show cache', 'user:shutdown session 0x1', 'user:shutdown sessions server be/s1',
  'user:disable frontend fe', 'user:enable frontend fe', 'user:shutdown frontend fe', 'user:set rate-limit connections global 1',
  'user:expert-mode', 'user:experimental-mode', 'user:show backend',
  'oper:shutdown session 0x1', 'oper:disable frontend fe', 'oper:expert-mode', 'oper:show cache',
  'shutdown frontend fw', 'shutdown frontend fw', 'enable frontend fw', 'disable frontend fw',
];

/** show servers conn with the connection-use estimates masked (2.6 counts TCP connections there, haproxy-ts only pooled HTTP ones). */
function maskServersConn(t: string): string {
  return t.split('\n').map((l) => {
    if (l.startsWith('#') || l === '') return l;
    const f = l.split(' ');
    f[7] = 'U'; f[8] = 'U';
    return f.join(' ');
  }).join('\n');
}

/** The field names of a `show sess` line, in order. */
function sessKeys(line: string): string[] {
  return [...line.matchAll(/([a-z_]+)=/g)].map((m) => m[1]!);
}

test('runtime API answers: haproxy-ts vs haproxy 2.6', { skip: SKIP, timeout: 90_000 }, async () => {
  let srv: TestServer | undefined;
  const sides: Side[] = [];
  const clients: Client[] = [];
  try {
    srv = await startTestServer('echo', { mode: 'echo' });
    for (const [name, bin] of [['haproxy', HAPROXY!], ['haproxy-ts', BIN]] as const) {
      const [fePort, fwPort] = await freePorts(2);
      const dir = tempDir(`hts-cliinterop-${name}-`);
      const cfg = writeConfig(dir, config(dir, fePort!, fwPort!, srv.port));
      const proc = await startProxy(bin, ['-f', cfg, '-db'], [fePort!, fwPort!], { timeoutMs: 15_000 });
      sides.push({ name, dir, proc, fePort: fePort!, fwPort: fwPort! });
      await waitFor(() => fs.existsSync(path.join(dir, 'user.sock')), 5000, `${name} stats sockets`);
    }
    const ask = (s: Side, cmd: string): Promise<string> => {
      const m = /^(user|oper):(.*)$/.exec(cmd);
      return cliCommand(path.join(s.dir, `${m ? m[1] : 'admin'}.sock`), m ? m[2]! : cmd, 5000);
    };
    const [ref, ts] = sides as [Side, Side];

    for (const cmd of SAME) {
      const a = await ask(ref, cmd);
      const b = await ask(ts, cmd);
      assert.equal(b, a, `answer to '${cmd}'`);
    }
    assert.equal(maskServersConn(await ask(ts, 'show servers conn')), maskServersConn(await ask(ref, 'show servers conn')));
    assert.equal(maskServersConn(await ask(ts, 'show servers conn be')), maskServersConn(await ask(ref, 'show servers conn #10')));

    // start-up messages: the configuration warning both print, pid masked
    const warn = (t: string): string[] => t.split('\n').filter((l) => l.includes('config : parsing')).map((l) => l.replace(/\(\d+\)/, '(PID)').replace(/\[[^\]]*haproxy\.cfg:/, '[CFG:'));
    const wRef = warn(await ask(ref, 'oper:show startup-logs'));
    assert.ok(wRef.length >= 1, 'haproxy 2.6 reports the warning at start-up');
    assert.deepEqual(warn(await ask(ts, 'oper:show startup-logs')), wRef);

    // one stream each: the one-line show sess layout and its stable values
    for (const s of sides) {
      const c = await openClient(s.fePort);
      clients.push(c);
      c.sock.write('hello');
      await c.waitText('hello');
    }
    const lineOf = async (s: Side, c: Client): Promise<string> => {
      const all = await ask(s, 'oper:show sess');
      return all.split('\n').find((l) => l.includes(`src=127.0.0.1:${c.sock.localPort} `)) ?? '';
    };
    const lRef = await lineOf(ref, clients[0]!);
    const lTs = await lineOf(ts, clients[1]!);
    assert.deepEqual(sessKeys(lTs), sessKeys(lRef), `show sess fields\n2.6: ${lRef}\nts:  ${lTs}`);
    const stable = (l: string): string => / (proto=\S+) src=127\.0\.0\.1:\d+ (fe=\S+ be=\S+ srv=\S+ ts=\S+) /.exec(l)?.slice(1).join(' ') ?? l;
    assert.equal(stable(lTs), stable(lRef));
    assert.match(lTs, /^0x[0-9a-f]+: /);
    // show sess <id> for a stream that exists: both start with "<id>: [date] id=<n> proto=tcpv4 source=<addr>"
    for (const [s, l] of [[ref, lRef], [ts, lTs]] as const) {
      const id = l.split(':')[0]!;
      const d = await ask(s, `oper:show sess ${id}`);
      assert.match(d, new RegExp(`^${id}: \\[\\d\\d/\\w{3}/\\d{4}:\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\] id=\\d+ proto=tcpv4 source=127\\.0\\.0\\.1:\\d+\\n`), `${s.name}: ${d}`);
      assert.match(d, /\n {2}frontend=fe \(id=1 mode=tcp\), listener=\? \(id=1\) addr=127\.0\.0\.1:\d+\n {2}backend=be \(id=10 mode=tcp\) addr=127\.0\.0\.1:\d+\n {2}server=s[12] \(id=[12]\) addr=127\.0\.0\.1:\d+\n/, `${s.name}: ${d}`);
    }
    // shutdown sessions server: the same effect on both
    for (const [i, s] of sides.entries()) {
      const l = i === 0 ? lRef : lTs;
      const name = / srv=(s[12]) /.exec(l)![1]!;
      assert.equal(await ask(s, `shutdown sessions server be/${name}`), '\n');
      await clients[i]!.waitEnd(5000);
    }

    // dumps: same layout, values masked
    const act = (t: string): string[] => t.split('\n').slice(0, 2).map((l) => l.replace(/\d+\.\d+$/, 'T'));
    assert.deepEqual(act(await ask(ts, 'show activity')), act(await ask(ref, 'show activity')));
    assert.match(await ask(ref, 'show activity'), /\naccepted: \d+\n/);
    const pools = (t: string): string[] => {
      const lines = t.split('\n');
      return [lines[0]!, lines[1]!.replace(/Pool \S+ \(\d+ bytes\) : \d+ allocated \(\d+ bytes\), \d+ used \(~\d+ by thread caches\), needed_avg \d+, \d+ failures, \d+ users, @0x[0-9a-f]+( \[SHARED\])?$/, 'POOL'),
        lines.find((l) => l.startsWith('Total: '))!.replace(/\d+/g, 'N')];
    };
    assert.deepEqual(pools(await ask(ts, 'show pools')), pools(await ask(ref, 'show pools')));
    const thr = (t: string): string[] => t.split('\n').slice(0, 3).map((l) => l.replace(/=0x[0-9a-f]+/g, '=P').replace(/=\d+/g, '=N'));
    assert.deepEqual(thr(await ask(ts, 'show threads')), thr(await ask(ref, 'show threads')));
  } finally {
    await closeAll([...clients, ...sides.map((s) => s.proc), srv]);
    for (const s of sides) fs.rmSync(s.dir, { recursive: true, force: true });
  }
});
