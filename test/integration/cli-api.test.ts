// The runtime API commands of cli-sessions, cli-proxies and cli-misc on the running binary,
// over real stats sockets at the three levels. Expected texts are HAProxy 2.6's answers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, freePorts, startTestServer, startProxy, tempDir, writeConfig, waitFor, canConnect, openClient, closeAll, cliCommand,
  type Proc, type TestServer, type Client,
} from '../helpers/harness.js';

const T = { timeout: 60_000 };

describe('runtime API: sessions, frontends, diagnostics', T, () => {
  let dir = '';
  const sock = { admin: '', operator: '', user: '' };
  let fePort = 0;
  let fwPort = 0;
  let echo: TestServer | undefined;
  let proc: Proc | undefined;
  const clients: Client[] = [];
  const cli = (lvl: keyof typeof sock, cmd: string, ms = 5000): Promise<string> => cliCommand(sock[lvl], cmd, ms);

  before(async () => {
    [fePort, fwPort] = await freePorts(2);
    echo = await startTestServer('echo', { mode: 'echo' });
    dir = tempDir('hts-cliapi-');
    for (const l of ['admin', 'operator', 'user'] as const) sock[l] = path.join(dir, `${l}.sock`);
    const cfg = writeConfig(dir, `
global
  stats socket ${sock.admin} level admin
  stats socket ${sock.operator} level operator
  stats socket ${sock.user} level user
defaults
  mode tcp
  timeout client 10s
  timeout server 10s
  timeout connect 2s
frontend fe
  bind 127.0.0.1:${fePort}
  default_backend be
frontend fw
  bind 127.0.0.1:${fwPort}
  option httplog
  default_backend be
backend be
  server s1 127.0.0.1:${echo.port}
  server s2 127.0.0.1:${echo.port}
`);
    proc = await startProxy(BIN, ['-f', cfg], [fePort, fwPort], { timeoutMs: 15_000 });
    await waitFor(() => fs.existsSync(sock.user), 5000, 'the stats sockets');
  });

  after(async () => {
    await closeAll([...clients, proc, echo]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('levels: operator and admin commands are refused below their level', async () => {
    for (const cmd of ['show sess', 'show startup-logs', 'show cache', 'shutdown session 0x1', 'shutdown sessions server be/s1',
      'disable frontend fe', 'enable frontend fe', 'shutdown frontend fe', 'set rate-limit connections global 1', 'expert-mode', 'experimental-mode']) {
      assert.equal(await cli('user', cmd), 'Permission denied\n\n', `user: ${cmd}`);
    }
    for (const cmd of ['shutdown session 0x1', 'disable frontend fe', 'set rate-limit connections global 1', 'expert-mode']) {
      assert.equal(await cli('operator', cmd), 'Permission denied\n\n', `operator: ${cmd}`);
    }
    assert.equal(await cli('operator', 'show cache'), 'Permission denied\n\n');
    assert.equal(await cli('admin', 'show cache'), '\n');
    for (const cmd of ['show backend', 'show servers conn', 'show activity', 'show pools', 'show tasks', 'show threads']) {
      assert.notEqual(await cli('user', cmd), 'Permission denied\n\n', `user: ${cmd}`);
    }
  });

  it('show backend and show servers conn', async () => {
    assert.equal(await cli('user', 'show backend'), '# name\nbe\n\n');
    const hdr = '# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]\n';
    const be = await cli('user', 'show servers conn be');
    assert.equal(be, `${hdr}be/s1 3/1 127.0.0.1 ${echo!.port} - 5000 0 0 0 0 0 -1 0 0\nbe/s2 3/2 127.0.0.1 ${echo!.port} - 5000 0 0 0 0 0 -1 0 0\n\n`);
    assert.equal(await cli('user', 'show servers conn #3'), be);
    assert.equal(await cli('user', 'show servers conn nope'), "Can't find backend.\n\n");
  });

  it('show sess lists a live stream; show sess <id>; shutdown session ends it', async () => {
    const c = await openClient(fePort);
    clients.push(c);
    c.sock.write('hello');
    await waitFor(async () => (await cli('operator', 'show sess')).includes(' fe=fe be=be srv=s'), 5000, 'the stream in show sess');
    const all = await cli('operator', 'show sess');
    const line = all.split('\n').find((l) => l.includes(' fe=fe '))!;
    assert.match(line, new RegExp(`^0x[0-9a-f]+: proto=tcpv4 src=127\\.0\\.0\\.1:${c.sock.localPort} fe=fe be=be srv=s[12] ts=00 epoch=(0|0x[0-9a-f]+) age=\\d+s calls=0 rate=0 cpu=0 lat=0 rq\\[f=0h,i=0,an=00h,rx=,wx=,ax=\\] rp\\[f=0h,i=0,an=00h,rx=,wx=,ax=\\] scf=\\[8,0h,fd=-?\\d+\\] scb=\\[8,0h,fd=-?\\d+\\] exp= rc=0 c_exp=$`));
    const id = line.split(':')[0]!;
    const detail = await cli('operator', `show sess ${id}`);
    assert.ok(detail.startsWith(`${id}: [`), detail);
    assert.match(detail, new RegExp(`\\n  frontend=fe \\(id=1 mode=tcp\\), listener=\\? \\(id=1\\) addr=127\\.0\\.0\\.1:${fePort}\\n`));
    assert.match(detail, /\n {2}backend=be \(id=3 mode=tcp\) addr=127\.0\.0\.1:\d+\n {2}server=s[12] \(id=[12]\) addr=127\.0\.0\.1:\d+\n/);
    assert.ok(detail.endsWith('\n\n\n'), 'a blank line after each stream, then the end of the answer');
    assert.equal(await cli('operator', 'show sess older 1h'), '\n');
    assert.equal(await cli('operator', 'show sess susp'), '\n');
    assert.match(await cli('operator', 'show sess backend be'), / fe=fe be=be /);
    assert.equal(await cli('operator', 'show sess frontend fw'), '\n');
    assert.equal(await cli('operator', 'show sess 0x7fffffff'), 'Session not found.\n\n');
    assert.match(await cli('operator', 'show sess help'), /^Usage: show sess /);
    assert.equal(await cli('admin', 'shutdown session'), "Session pointer expected (use 'show sess').\n\n");
    assert.equal(await cli('admin', 'shutdown session zz'), "Session pointer expected (use 'show sess').\n\n");
    assert.equal(await cli('admin', 'shutdown session 0x7fffffff'), "No such session (use 'show sess').\n\n");
    assert.equal(await cli('admin', `shutdown session ${id}`), '\n');
    await c.waitEnd();
    await waitFor(async () => !(await cli('operator', 'show sess')).includes(' fe=fe '), 5000, 'the stream gone');
  });

  it('shutdown sessions server kills the streams of that server only', async () => {
    assert.equal(await cli('admin', 'shutdown sessions server'), "Require 'backend/server'.\n\n");
    assert.equal(await cli('admin', 'shutdown sessions server be'), "Require 'backend/server'.\n\n");
    assert.equal(await cli('admin', 'shutdown sessions server be/zz'), 'No such server.\n\n');
    const a = await openClient(fePort);
    const b = await openClient(fePort);
    clients.push(a, b);
    a.sock.write('x');
    b.sock.write('y');
    await waitFor(async () => (await cli('operator', 'show sess')).split('\n').filter((l) => / srv=s[12] /.test(l) && / scb=\[8,/.test(l)).length === 2, 5000, 'two connected streams');
    const lines = (await cli('operator', 'show sess')).split('\n').filter((l) => / fe=fe /.test(l));
    const srvOf = (port: number): string => / srv=(s[12]) /.exec(lines.find((l) => l.includes(`:${port} `))!)![1]!;
    const sa = srvOf(a.sock.localPort!);
    const sb = srvOf(b.sock.localPort!);
    assert.notEqual(sa, sb, 'round robin spread them');
    assert.equal(await cli('admin', `shutdown sessions server be/${sa}`), '\n');
    await a.waitEnd();
    assert.ok(!b.gotEnd() && !b.isClosed(), 'the other stream lives');
    b.sock.destroy();
  });

  it('disable / enable / shutdown frontend', async () => {
    assert.equal(await cli('admin', 'disable frontend'), 'A frontend name is expected.\n\n');
    assert.equal(await cli('admin', 'disable frontend nope'), 'No such frontend.\n\n');
    assert.equal(await cli('admin', 'disable frontend be'), 'No such frontend.\n\n');
    assert.equal(await cli('admin', 'enable frontend fw'), 'All sockets are already enabled.\n\n');
    assert.equal(await cli('admin', 'disable frontend fw'), '\n');
    assert.equal(await canConnect(fwPort), false, 'port released');
    assert.equal(await cli('admin', 'disable frontend fw'), 'All sockets are already disabled.\n\n');
    assert.equal(await cli('admin', 'enable frontend #2'), '\n');
    assert.equal(await canConnect(fwPort), true, 'listening again');
    assert.equal(await cli('admin', 'shutdown frontend fw'), '\n');
    assert.equal(await canConnect(fwPort), false, 'port released for good');
    assert.equal(await cli('admin', 'shutdown frontend fw'), 'Frontend was already shut down.\n\n');
    assert.equal(await cli('admin', 'enable frontend fw'), 'Frontend was previously shut down, cannot enable.\n\n');
    assert.equal(await cli('admin', 'disable frontend fw'), 'Frontend was previously shut down, cannot disable.\n\n');
    assert.equal(await canConnect(fePort), true, 'the other frontend is untouched');
    await waitFor(() => proc!.stderr().includes('Proxy fw stopped (cumulated conns: FE: '), 3000, 'the stop warning');
    assert.match(proc!.stderr(), /Paused frontend fw\.\n[^]*Resumed frontend fw\.\n/);
  });

  it('set rate-limit: usage, missing value, a built limit, and the refusal of absent settings', async () => {
    const usage = await cli('admin', 'set rate-limit');
    assert.ok(usage.startsWith("'set rate-limit' only supports :\n   - 'connections global' to set"));
    assert.equal(await cli('admin', 'set rate-limit connections local 10'), usage);
    assert.equal(await cli('admin', 'set rate-limit connections global'), 'Expects an integer value.\n\n');
    // sessions/connections are built (rate-limit.test.ts checks their effect); back to no limit
    assert.equal(await cli('admin', 'set rate-limit sessions global 5'), '\n');
    assert.equal(await cli('admin', 'set rate-limit sessions global 0'), '\n');
    assert.match(await cli('admin', 'set rate-limit http-compression global 5'), /not supported yet by haproxy-ts/);
  });

  it('expert and experimental modes, debug dev, level drop', async () => {
    assert.equal(await cli('admin', 'expert-mode'), 'expert-mode is OFF\n\n');
    assert.equal(await cli('admin', 'debug dev close 1'), 'This command is restricted to expert mode only.\n\n');
    assert.equal(await cli('admin', 'expert-mode on; expert-mode; expert-mode foo; expert-mode'),
      '\nexpert-mode is ON\n\n\nexpert-mode is OFF\n\n');
    assert.equal(await cli('admin', 'experimental-mode on; experimental-mode; experimental-mode off; experimental-mode'),
      '\nexperimental-mode is ON\n\n\nexperimental-mode is OFF\n\n');
    assert.match(await cli('admin', 'expert-mode on; debug dev close 1'), /^\n'debug dev' is not supported yet by haproxy-ts\.\n\n$/);
    // lowering the level drops the modes; operator cannot ask any more
    assert.equal(await cli('admin', 'expert-mode on; operator; expert-mode'), '\n\nPermission denied\n\n');
  });

  it('show activity, show pools, show tasks, show threads, show startup-logs', async () => {
    const act = await cli('user', 'show activity');
    assert.match(act, /^thread_id: 1 \(1\.\.1\)\ndate_now: \d+\.\d{6}\naccepted: \d+\n\n$/);
    const pools = await cli('user', 'show pools');
    assert.ok(pools.startsWith('Dumping pools usage. Use SIGQUIT to flush them.\n  - Pool '));
    assert.match(pools, /\n {2}- Pool old_space \(1 bytes\) : \d+ allocated \(\d+ bytes\), \d+ used \(~0 by thread caches\), needed_avg 0, 0 failures, 1 users, @0x0 \[SHARED\]\n/);
    assert.match(pools, /\nTotal: \d+ pools, \d+ bytes allocated, \d+ used \(~0 by thread caches\)\.\n\n$/);
    assert.match(await cli('user', 'show pools match old byusage'), /^Dumping pools usage\. Use SIGQUIT to flush them\.\n {2}- Pool old_space [^\n]*\nTotal: 1 pools, /);
    assert.equal(await cli('user', 'show tasks'), 'Running tasks: 0 (1 threads)\n  function                     places     %    lat_tot   lat_avg\n\n');
    assert.match(await cli('user', 'show threads'), /^\* Thread 1 : id=0x0 act=1 glob=0 wq=0 rq=0 tl=0 tlsz=0 rqsz=0\n {6}1\/1 {4}stuck=0 /);
    const logs = await cli('operator', 'show startup-logs');
    assert.match(logs, /^\[WARNING\] {2}\(\d+\) : config : parsing \[[^\]]*haproxy\.cfg:16\] : 'option httplog' not usable with frontend 'fw' \(needs 'mode http'\)\. Falling back to 'option tcplog'\.\n/);
    assert.ok(!logs.includes('Paused frontend'), 'messages after start-up are not start-up logs');
  });

  it('wait: a delay, the usage, srv-removable', async () => {
    const t0 = Date.now();
    assert.equal(await cli('user', 'wait 300'), '\n');
    assert.ok(Date.now() - t0 >= 290, 'waited');
    assert.match(await cli('user', 'wait -h'), /^Usage: wait /);
    assert.match(await cli('user', 'wait 1x'), /^Invalid duration/);
    assert.equal(await cli('user', 'wait 10 srv-removable be/zz'), 'No such server.\n\n');
    assert.match(await cli('user', 'wait 10 srv-removable be/s2'), /not in maintenance/);
    const c = await openClient(fePort);
    clients.push(c);
    c.sock.write('x');
    await waitFor(async () => (await cli('operator', 'show sess')).includes(' scb=[8,'), 5000, 'a connected stream');
    const srv = / srv=(s[12]) /.exec((await cli('operator', 'show sess')).split('\n').find((l) => l.includes(`:${c.sock.localPort} `))!)![1]!;
    assert.equal(await cli('admin', `disable server be/${srv}`), '\n');
    assert.match(await cli('user', `wait 200 srv-removable be/${srv}`), /^Timed out/);
    setTimeout(() => c.sock.destroy(), 200);
    assert.equal(await cli('user', `wait 3s srv-removable be/${srv}`), '\n');
    assert.equal(await cli('admin', `enable server be/${srv}`), '\n');
  });

  it('features that cannot exist here answer as HAProxy does without such objects', async () => {
    assert.equal(await cli('user', 'show table'), '\n');
    assert.equal(await cli('user', 'show table foo'), 'No such table\n\n');
    assert.equal(await cli('user', 'show peers'), '\n');
    assert.equal(await cli('user', 'show peers foo'), 'No such peers\n\n');
    assert.match(await cli('admin', 'mcli-debug-mode on'), /^Unknown command: 'mcli-debug-mode'/);
  });

  it('help lists the new commands', async () => {
    const help = await cli('user', 'help');
    for (const u of ['show sess [', 'shutdown session [id]', 'shutdown sessions server <bk>/<srv>', 'show servers conn [<backend>]',
      'show backend', 'disable frontend <frontend>', 'enable frontend <frontend>', 'shutdown frontend <frontend>',
      'set rate-limit <setting> <value>', 'show activity', 'show pools', 'show tasks', 'show threads', 'show startup-logs', 'wait {-h|']) {
      assert.ok(help.includes(`\n  ${u}`), `help lists ${u}`);
    }
    assert.ok(!help.includes('expert-mode') && !help.includes('debug dev'), 'expert commands are not listed');
  });
});
