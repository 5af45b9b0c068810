// Agent checks and the check commands of the runtime API through the real binary: agent replies
// change the state and the weight, drain/maint/ready, agent-send reaches the agent, `set server
// health down` takes a server out; the CLI answers compared with haproxy 2.6.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, startProxy, closeAll, waitFor, tempDir, writeConfig, cliCommand, haproxyPath, BIN, checkTestDefaults, type Proc } from '../helpers/harness.js';
import { rawHttp, controllableServer, whoAnswers } from '../helpers/http.js';

const T = { timeout: 30_000 };

const web = controllableServer;

/** An agent answering `reply` and recording what it receives. */
async function agent(): Promise<{ port: number; reply: string; received: string; close(): Promise<void> }> {
  const st = { port: 0, reply: 'up\n', received: '', close: async () => {} };
  const srv = net.createServer((s) => {
    s.on('data', (d) => { st.received += d.toString(); });
    s.on('error', () => {});
    s.end(st.reply);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  st.port = (srv.address() as net.AddressInfo).port;
  st.close = () => new Promise<void>((r) => srv.close(() => r()));
  return st;
}

const who = whoAnswers;

async function spread(fp: number, n = 6): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await who(fp));
  return [...seen].sort();
}

const DEFAULTS = checkTestDefaults();

describe('agent checks', () => {
  it('agent replies change the state, the weight and the admin state', T, async () => {
    const a = await web('A');
    const b = await web('B');
    const ag = await agent();
    const [fp] = await freePorts(1);
    const dir = tempDir();
    const sock = `${dir}/s.sock`;
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`global
  stats socket ${sock} level admin
${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  balance roundrobin
  server a 127.0.0.1:${a.port} weight 10 check inter 150 agent-check agent-port ${ag.port} agent-inter 100 agent-send "hello\\n"
  server b 127.0.0.1:${b.port} weight 10
`, [fp!]);
      await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
      assert.deepEqual(await spread(fp!), ['200 A', '200 B']);
      await waitFor(() => ag.received.includes('hello\n'), 3000, 'agent-send reaches the agent');

      ag.reply = '50%\n';
      await waitFor(async () => (await cliCommand(sock, 'get weight web/a')) === '5 (initial 10)\n\n', 3000, 'weight 50%');

      ag.reply = 'down #maintenance window\n';
      await waitFor(() => proxy!.stderr().includes('Server web/a is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down (maintenance window)", check duration: '), 3000, 'agent DOWN');
      assert.deepEqual(await spread(fp!), ['200 B']);

      ag.reply = 'up 100%\n';
      await waitFor(() => /Server web\/a is UP, reason: Layer7 check passed, code: 0, info: "via agent : up", check duration: \d+ms\. 2 active and 0 backup servers online\./.test(proxy!.stderr()), 3000, 'agent UP');
      assert.equal(await cliCommand(sock, 'get weight web/a'), '10 (initial 10)\n\n');
      assert.deepEqual(await spread(fp!), ['200 A', '200 B']);

      ag.reply = 'drain\n';
      await waitFor(() => proxy!.stderr().includes('Server web/a enters drain state. 1 active and 0 backup servers online.'), 3000, 'drain');
      assert.deepEqual(await spread(fp!), ['200 B']);
      const line = (await cliCommand(sock, 'show servers state web')).split('\n')[2]!.split(' ');
      assert.equal(line[6], '8', 'srv_admin_state FDRAIN');
      assert.equal(line[14]!.startsWith('2'), true, 'srv_agent_state AGENT|ENABLED|CONFIGURED (+INPROGRESS)');
      assert.equal(line[24], String(ag.port), 'srv_agent_port');

      ag.reply = 'maint\n';
      await waitFor(() => proxy!.stderr().includes('Server web/a is going DOWN for maintenance. 1 active and 0 backup servers left.'), 3000, 'maint');
      ag.reply = 'ready\n';
      await waitFor(() => proxy!.stderr().includes('Server web/a is UP/READY (leaving forced maintenance).'), 3000, 'ready');
      assert.deepEqual(await spread(fp!), ['200 A', '200 B']);

      // the CLI forces the agent down; a disabled agent no longer runs
      assert.equal(await cliCommand(sock, 'disable agent web/a'), '\n');
      assert.equal(await cliCommand(sock, 'set server web/a agent down'), '\n');
      await waitFor(() => proxy!.stderr().includes('Server web/a is DOWN, changed from CLI. 1 active and 0 backup servers left.'), 3000, 'agent down from CLI');
      assert.deepEqual(await spread(fp!), ['200 B']);
      assert.equal(await cliCommand(sock, 'set server web/b agent down'), 'agent checks are not enabled on this server.\n\n');
    } finally {
      await closeAll([proxy, a, b, ag]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`set server health down` via the stats socket takes a server out; show servers state shows the checks', T, async () => {
    const a = await web('A');
    const b = await web('B');
    const [fp] = await freePorts(1);
    const dir = tempDir();
    const sock = `${dir}/s.sock`;
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`global
  stats socket ${sock} level admin
${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  server a 127.0.0.1:${a.port} check inter 5s
  server b 127.0.0.1:${b.port} check inter 5s
`, [fp!]);
      await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
      await waitFor(async () => (await cliCommand(sock, 'show servers state web')).split('\n')[2]?.split(' ')[10] === '6', 6000, 'first check done');
      const st = (await cliCommand(sock, 'show servers state web')).split('\n')[2]!.split(' ');
      // L4OK (6), passed (3), health rise+fall-1 = 4, CONFIGURED|ENABLED (6), no agent
      assert.deepEqual(st.slice(10, 15), ['6', '3', '4', '6', '0']);
      assert.equal(await cliCommand(sock, 'set server web/a health down'), '\n');
      await waitFor(() => proxy!.stderr().includes('Server web/a is DOWN, changed from CLI. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'), 3000, 'DOWN from CLI');
      assert.deepEqual(await spread(fp!), ['200 B']);
      const st2 = (await cliCommand(sock, 'show servers state web')).split('\n')[2]!.split(' ');
      assert.equal(st2[5], '0', 'srv_op_state STOPPED');
      assert.equal(st2[12], '0', 'srv_check_health 0');
      assert.equal(await cliCommand(sock, 'set server web/a health up'), '\n');
      await waitFor(() => proxy!.stderr().includes('Server web/a is UP, changed from CLI. 2 active and 0 backup servers online.'), 3000, 'UP from CLI');
      assert.deepEqual(await spread(fp!), ['200 A', '200 B']);
      assert.equal(await cliCommand(sock, 'set server web/a check-port 1234'), '\n');
      assert.equal((await cliCommand(sock, 'show servers state web')).split('\n')[2]!.split(' ')[21], '1234');
    } finally {
      await closeAll([proxy, a, b]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the answers of the check commands match haproxy 2.6', { ...T, skip: haproxyPath() ? false : 'haproxy not installed' }, async () => {
    const a = await web('A');
    const ag = await agent();
    const cmds = [
      'set server bk/s1 health foo', 'set server bk/s1 health', 'set server bk/s1 agent bar', 'set server bk/s2 agent down',
      'enable health bk/s2', 'enable agent bk/s2', 'disable health bk/s2', 'disable health bk', 'enable agent nope/s1', 'enable agent bk/nope',
      'set server bk/s1 check-port 99999', 'set server bk/s1 check-port abc', 'set server bk/s1 check-port', 'set server bk/s2 check-port 1234',
      'set server bk/s1 check-addr foo', 'set server bk/s1 check-addr', 'set server bk/s2 check-addr 1.2.3.4',
      'set server bk/s1 agent-port 70000', 'set server bk/s1 agent-port x', 'set server bk/s1 agent-port', 'set server bk/s2 agent-port 5',
      'set server bk/s1 agent-addr bad', 'set server bk/s1 agent-addr', 'set server bk/s2 agent-addr 127.0.0.1', 'set server bk/s2 agent-send x',
      'set server bk/s1 agent-send hello', 'set server bk/s1 agent-inter 1s',
    ];
    const run = async (bin: string): Promise<string[]> => {
      const [fp] = await freePorts(1);
      const dir = tempDir();
      const sock = `${dir}/s.sock`;
      const cfg = writeConfig(dir, `global
  stats socket ${sock} level admin
${DEFAULTS}
backend bk
  server s1 127.0.0.1:${a.port} check inter 5s agent-check agent-port ${ag.port} agent-inter 5s
  server s2 127.0.0.1:${a.port}
frontend fe
  bind 127.0.0.1:${fp}
  default_backend bk
`);
      const p = await startProxy(bin, ['-db', '-f', cfg], [fp!]);
      try {
        await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
        const out: string[] = [];
        for (const c of cmds) out.push(`${c} => ${JSON.stringify(await cliCommand(sock, c))}`);
        return out;
      } finally {
        await p.stop('SIGKILL', 2000);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    try {
      const ha = await run(haproxyPath()!);
      const ts = await run(process.env.HAPROXY_TS_BIN ?? BIN);
      assert.deepEqual(ts, ha);
    } finally {
      await closeAll([a, ag]);
    }
  });
});
