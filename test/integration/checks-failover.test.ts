// Health checks under live traffic, through the real binary: active servers die while a client
// sends requests without pause, the backup takes over and the actives come back (slowstart ramps
// the returning one) without a single failed request, since retries and redispatch cover the
// requests that hit a server in the instant before its check failed; the same in TCP mode with
// tcp-check; agent-check weights seen in the traffic distribution (configuration.txt 5.2
// agent-check: "NN%", "drain", "ready").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { freePorts, startProxy, closeAll, waitFor, sleep, cliCommand, tempDir, writeConfig, tcpExchange, haproxyPath, BIN, checkTestDefaults, type Proc } from '../helpers/harness.js';
import { controllableServer, whoAnswers } from '../helpers/http.js';

const T = { timeout: 40_000 };

/** A TCP server answering "<name>\n" and closing; it can die (listener and connections) and come back on its port. */
async function tcpNamed(name: string): Promise<{ port: number; close(): Promise<void>; reopen(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  let srv: net.Server;
  const st = { port: 0, close: async () => {}, reopen: async () => {} };
  const open = async (): Promise<void> => {
    srv = net.createServer((s) => {
      socks.add(s);
      s.on('close', () => socks.delete(s));
      s.on('error', () => {});
      s.end(`${name}\n`);
    });
    await new Promise<void>((r, j) => { srv.once('error', j); srv.listen(st.port, '127.0.0.1', () => r()); });
    st.port = (srv.address() as net.AddressInfo).port;
  };
  await open();
  st.close = () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); });
  st.reopen = open;
  return st;
}

interface Sample { start: number; end: number; who: string }

/**
 * Sends requests one after the other until `script` is done (or `maxMs` passed): the script's
 * steps run between two requests (so that no request is in flight on a server being killed).
 */
async function drive(send: () => Promise<string>, script: Array<{ at: number; run: () => Promise<void> | void }>, maxMs: number): Promise<{ samples: Sample[]; marks: number[] }> {
  const samples: Sample[] = [];
  const marks: number[] = [];
  const t0 = Date.now();
  let next = 0;
  while (Date.now() - t0 < maxMs) {
    while (next < script.length && Date.now() - t0 >= script[next]!.at) { await script[next]!.run(); marks.push(Date.now()); next++; }
    if (next >= script.length) break;
    const start = Date.now();
    let who: string;
    try { who = await send(); } catch (e) { who = `error ${(e as Error).message}`; }
    samples.push({ start, end: Date.now(), who });
    await sleep(2);
  }
  return { samples, marks };
}

/** Records when each stderr line matching `re` arrived. */
function watchStderr(p: Proc, re: RegExp): number[] {
  const at: number[] = [];
  let buf = '';
  p.child.stderr!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { if (re.test(buf.slice(0, i))) at.push(Date.now()); buf = buf.slice(i + 1); }
  });
  return at;
}

/** Starts `bin` (haproxy-ts or haproxy 2.6, the oracle these scenarios were checked against) on a config. */
async function start(bin: string, cfgText: string, port: number): Promise<Proc> {
  const dir = tempDir();
  const p = await startProxy(bin, ['-db', '-f', writeConfig(dir, cfgText)], [port]);
  void p.exited.then(() => fs.rmSync(dir, { recursive: true, force: true }));
  return p;
}

async function httpFailover(bin: string): Promise<void> {
  const a1 = await controllableServer('A1');
  const a2 = await controllableServer('A2');
  const bk = await controllableServer('BK');
  const [fp] = await freePorts(1);
  let proxy: Proc | undefined;
  try {
    proxy = await start(bin, `${checkTestDefaults('http')}  retries 3
  option redispatch
backend b
  balance roundrobin
  option httpchk
  server a1 127.0.0.1:${a1.port} check inter 100 fall 1 rise 1 slowstart 1s
  server a2 127.0.0.1:${a2.port} check inter 100 fall 1 rise 1
  server bk 127.0.0.1:${bk.port} check inter 100 fall 1 rise 1 backup
frontend fe
  bind 127.0.0.1:${fp}
  default_backend b
`, fp!);
    const a1Up = watchStderr(proxy, /Server b\/a1 is UP/);
    const a2Up = watchStderr(proxy, /Server b\/a2 is UP/);
    const { samples, marks } = await drive(() => whoAnswers(fp!), [
      { at: 500, run: () => a1.close() },
      { at: 1100, run: () => a2.close() },
      { at: 2600, run: () => a2.reopen() },
      { at: 3300, run: () => a1.reopen() },
      { at: 4900, run: () => {} },
    ], 8000);
    const [killA1, killA2, backA2, backA1] = marks as [number, number, number, number];
    const failed = samples.filter((s) => s.who.split(' ')[0] !== '200');
    assert.deepEqual(failed, [], `every request answered 200 (${samples.length} sent)`);
    assert.ok(samples.length > 100, `enough traffic (${samples.length})`);
    const before = samples.filter((s) => s.end < killA1);
    assert.ok(before.some((s) => s.who === '200 A1') && before.some((s) => s.who === '200 A2'), 'both actives share the load at first');
    assert.ok(!before.some((s) => s.who === '200 BK'), 'no backup while actives are up');
    // the backup answers only while both actives are down: after a2 was killed and before a2's UP message
    assert.ok(a2Up.length >= 1, 'a2 came back');
    const bkSamples = samples.filter((s) => s.who === '200 BK');
    assert.ok(bkSamples.length >= 3, `the backup took over (${bkSamples.length} answers)`);
    for (const s of bkSamples) {
      assert.ok(s.start >= killA2 && s.end <= a2Up[0]! + 20, `backup answer at ${s.start - killA2} ms after a2's death, a2 UP at ${a2Up[0]! - killA2} ms`);
    }
    assert.ok(samples.some((s) => s.start > backA2 && s.who === '200 A2'), 'a2 serves again');
    // a1 is back with slowstart 1s: a small share first, then about half
    assert.ok(a1Up.length >= 1, 'a1 came back');
    const up = a1Up[0]!;
    assert.ok(up >= backA1);
    const first = samples.filter((s) => s.start >= up && s.end <= up + 300);
    const firstA1 = first.filter((s) => s.who === '200 A1').length;
    // (at least 8: a loaded CI host sends fewer requests than an idle one)
    assert.ok(first.length >= 8, `requests in a1's first 300 ms (${first.length})`);
    assert.ok(firstA1 < first.length / 2, `a1 ramps: ${firstA1} of ${first.length} requests in its first 300 ms`);
    const late = samples.filter((s) => s.start >= up + 1100);
    const lateA1 = late.filter((s) => s.who === '200 A1').length;
    assert.ok(late.length >= 10 && lateA1 >= late.length * 0.4 && lateA1 <= late.length * 0.6, `a1 at full weight: ${lateA1} of ${late.length}`);
    // once a2's check has marked it UP (its message), the backup gets nothing more; before that
    // the backup may still serve, for as long as the next check takes
    const lateBk = samples.filter((s) => s.start > a2Up[0]! + 20 && s.who === '200 BK');
    assert.ok(!lateBk.length, `no backup once a2 is UP: ${lateBk.map((s) => `${s.start - a2Up[0]!}ms after a2's UP message`).join(', ')}`);
    const err = proxy.stderr();
    assert.match(err, /Server b\/a1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 1 backup servers left\./);
    assert.match(err, /Server b\/a2 is DOWN, reason: Layer4 connection problem, .* 0 active and 1 backup servers left\. Running on backup\./);
    assert.match(err, /Server b\/a2 is UP, reason: Layer7 check passed, code: 200, .* 1 active and 1 backup servers online\./);
    assert.match(err, /Server b\/a1 is UP, reason: Layer7 check passed, code: 200, .* 2 active and 1 backup servers online\./);
  } finally {
    await closeAll([proxy, a1, a2, bk]);
  }
}

async function tcpFailover(bin: string): Promise<void> {
  const a1 = await tcpNamed('A1');
  const a2 = await tcpNamed('A2');
  const bk = await tcpNamed('BK');
  const [fp] = await freePorts(1);
  let proxy: Proc | undefined;
  try {
    proxy = await start(bin, `${checkTestDefaults('tcp')}  retries 3
  option redispatch
listen t
  bind 127.0.0.1:${fp}
  balance roundrobin
  option tcp-check
  tcp-check connect
  server a1 127.0.0.1:${a1.port} check inter 100 fall 1 rise 1
  server a2 127.0.0.1:${a2.port} check inter 100 fall 1 rise 1
  server bk 127.0.0.1:${bk.port} check inter 100 fall 1 rise 1 backup
`, fp!);
    const a1Up = watchStderr(proxy, /Server t\/a1 is UP/);
    const { samples, marks } = await drive(() => tcpExchange(fp!, 'x', { timeoutMs: 4000 }), [
      { at: 300, run: () => a1.close() },
      { at: 700, run: () => a2.close() },
      { at: 2200, run: () => a1.reopen() },
      { at: 2800, run: () => {} },
    ], 6000);
    const [, killA2] = marks as [number, number, number];
    const bad = samples.filter((s) => !/^(A1|A2|BK)\n$/.test(s.who));
    assert.deepEqual(bad, [], `every connection answered (${samples.length})`);
    assert.ok(a1Up.length >= 1, 'a1 came back');
    const bkS = samples.filter((s) => s.who === 'BK\n');
    assert.ok(bkS.length >= 3, `the backup took over (${bkS.length})`);
    for (const s of bkS) assert.ok(s.start >= killA2 && s.end <= a1Up[0]! + 20, 'backup only while both actives are down');
    assert.ok(samples.some((s) => s.start > a1Up[0]! && s.who === 'A1\n'), 'a1 serves again');
    assert.match(proxy.stderr(), /Server t\/a2 is DOWN, reason: Layer4 connection problem, .* 0 active and 1 backup servers left\. Running on backup\./);
  } finally {
    await closeAll([proxy, a1, a2, bk]);
  }
}

const NO_ORACLE = haproxyPath() ? false : 'haproxy not installed';

describe('failover under traffic', () => {
  // Two behaviours these need: a retry whose server went DOWN meanwhile is redispatched (to the
  // backup too), and roundrobin places a returning slowstart server ahead instead of restarting
  // its rotation at every weight step. Both scenarios pass on haproxy 2.6 too (the oracle tests).
  it('HTTP: actives die, the backup takes over, a slowstart server ramps back; no request fails', T, () => httpFailover(BIN));
  it('HTTP: the same scenario passes on haproxy 2.6', { ...T, skip: NO_ORACLE }, () => httpFailover(haproxyPath()!));
  it('TCP with tcp-check: the backup takes over and an active comes back; no connection fails', T, () => tcpFailover(BIN));
  it('TCP: the same scenario passes on haproxy 2.6', { ...T, skip: NO_ORACLE }, () => tcpFailover(haproxyPath()!));
});

/** An agent whose answer can be changed. */
async function agent(reply: string): Promise<{ port: number; reply: string; close(): Promise<void> }> {
  const st = { port: 0, reply, close: async () => {} };
  const srv = net.createServer((s) => { s.on('error', () => {}); s.end(st.reply); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  st.port = (srv.address() as net.AddressInfo).port;
  st.close = () => new Promise<void>((r) => srv.close(() => r()));
  return st;
}

async function agentWeights(bin: string): Promise<void> {
  const a = await controllableServer('A');
  const b = await controllableServer('B');
  const agA = await agent('50%\n');
  const agB = await agent('100%\n');
  const [fp] = await freePorts(1);
  const dir = tempDir();
  const sock = `${dir}/s.sock`;
  let proxy: Proc | undefined;
  const share = async (n: number): Promise<number> => {
    let na = 0;
    for (let i = 0; i < n; i++) {
      const w = await whoAnswers(fp!);
      assert.ok(w === '200 A' || w === '200 B', `answered: ${w}`);
      if (w === '200 A') na++;
    }
    return na / n;
  };
  try {
    proxy = await start(bin, `global
  stats socket ${sock} level admin
defaults
  mode http
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
listen web
  bind 127.0.0.1:${fp}
  balance roundrobin
  server a 127.0.0.1:${a.port} weight 100 agent-check agent-port ${agA.port} agent-inter 200
  server b 127.0.0.1:${b.port} weight 100 agent-check agent-port ${agB.port} agent-inter 200
`, fp!);
    await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
    await waitFor(async () => (await cliCommand(sock, 'get weight web/a')) === '50 (initial 100)\n\n', 3000, 'a at 50%');
    const s1 = await share(300);
    assert.ok(s1 >= 0.25 && s1 <= 0.42, `a's share at 50% weight: ${s1}`);

    agA.reply = '100%\n';
    await waitFor(async () => (await cliCommand(sock, 'get weight web/a')) === '100 (initial 100)\n\n', 3000, 'a at 100%');
    const s2 = await share(300);
    assert.ok(s2 >= 0.42 && s2 <= 0.58, `a's share at full weight: ${s2}`);

    agA.reply = 'drain\n';
    await waitFor(() => proxy!.stderr().includes('Server web/a enters drain state'), 3000, 'a drains');
    assert.equal(await share(40), 0, 'a drained gets no new request');

    agA.reply = 'ready\n';
    await waitFor(async () => (await cliCommand(sock, 'show servers state web')).split('\n').some((l) => / a 127\.0\.0\.1 2 0 /.test(l)), 3000, 'a ready again');
    const s3 = await share(100);
    assert.ok(s3 >= 0.4 && s3 <= 0.6, `a's share once ready: ${s3}`);
  } finally {
    await closeAll([proxy, a, b, agA, agB]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('agent-check weights in the traffic', () => {
  it('"50%" gives a 1:2 split, "100%" 1:1, "drain" none, "ready" back', T, () => agentWeights(BIN));
  it('the same on haproxy 2.6', { ...T, skip: NO_ORACLE }, () => agentWeights(haproxyPath()!));
});
