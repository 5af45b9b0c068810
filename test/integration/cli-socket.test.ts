// The runtime API on the real binary: a UNIX stats socket (admin) and a TCP one (user level),
// show info / show servers state, state, weight and maxconn changes, ';' batches, prompt mode,
// permissions, unknown commands, and the socket file removal at stop.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import {
  BIN, freePorts, startTestServer, startProxy, tempDir, writeConfig, waitFor, canConnect, openClient, closeAll,
  type Proc, type TestServer, type Client,
} from '../helpers/harness.js';

const T = { timeout: 30_000 };

/** Sends `input` on a new connection and collects everything until the proxy closes it. */
function cli(target: string | number, input: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? net.connect({ port: target, host: '127.0.0.1' }) : net.connect({ path: target });
    let got = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`cli timeout for ${JSON.stringify(input)}; got ${JSON.stringify(got)}`)); }, timeoutMs);
    s.on('connect', () => s.write(input));
    s.on('data', (d) => { got += d; });
    s.on('error', (e) => { clearTimeout(t); reject(e); });
    s.on('close', () => { clearTimeout(t); resolve(got); });
  });
}

function infoField(info: string, name: string): string | undefined {
  const line = info.split('\n').find((l) => l.startsWith(`${name}: `));
  return line?.slice(name.length + 2);
}

describe('stats socket on the running binary', T, () => {
  let dir = '';
  let sock = '';
  let fePort = 0;
  let cliPort = 0;
  let echo: TestServer | undefined;
  let proc: Proc | undefined;
  const clients: Client[] = [];

  before(async () => {
    [fePort, cliPort] = await freePorts(2);
    echo = await startTestServer('echo', { mode: 'echo' });
    dir = tempDir('hts-cli-');
    sock = path.join(dir, 'admin.sock');
    const cfg = writeConfig(dir, `
global
  maxconn 200
  stats socket ${sock} level admin mode 600
  stats socket 127.0.0.1:${cliPort} level user
  stats timeout 5s
defaults
  mode tcp
  timeout client 10s
  timeout server 10s
  timeout connect 2s
frontend fe
  bind 127.0.0.1:${fePort}
  default_backend be
backend be
  server s1 127.0.0.1:${echo.port} weight 10
  server s2 127.0.0.1:${echo.port}
`);
    proc = await startProxy(BIN, ['-f', cfg], [fePort], { timeoutMs: 15_000 });
    await waitFor(() => fs.existsSync(sock), 5000, 'the UNIX stats socket');
    await waitFor(() => canConnect(cliPort), 5000, 'the TCP stats socket');
  });

  after(async () => {
    await closeAll([...clients, proc, echo]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('show info reports the process', async () => {
    // the start-up probes of the frontend port may still be finishing
    await waitFor(async () => infoField(await cli(sock, 'show info\n'), 'CurrConns') === '0', 5000, 'CurrConns at 0');
    const info = await cli(sock, 'show info\n');
    assert.ok(info.endsWith('\n\n'), 'answer ends with an empty line');
    assert.equal(infoField(info, 'Name'), 'HAProxy');
    assert.match(infoField(info, 'Version') ?? '', /^3\.2\./);
    assert.equal(infoField(info, 'Pid'), String(proc!.child.pid));
    assert.equal(infoField(info, 'Maxconn'), '200');
    assert.equal(infoField(info, 'Hard_maxconn'), '200');
    assert.equal(infoField(info, 'CurrConns'), '0');
    assert.equal(infoField(info, 'Listeners'), '3');
    const lines = info.trimEnd().split('\n');
    assert.equal(lines[0], 'Name: HAProxy');
    assert.equal(lines[lines.length - 1], 'BlockedTrafficWarnings: 0');
  });

  it('CurrConns follows proxied connections', async () => {
    const c = await openClient(fePort);
    clients.push(c);
    c.sock.write('ping');
    await c.waitText('ping');
    assert.equal(infoField(await cli(sock, 'show info\n'), 'CurrConns'), '1');
    c.sock.destroy();
    await waitFor(async () => infoField(await cli(sock, 'show info\n'), 'CurrConns') === '0', 5000, 'CurrConns back to 0');
  });

  it('show servers state dumps the servers', async () => {
    const out = await cli(sock, 'show servers state\n');
    const lines = out.split('\n');
    assert.equal(lines[0], '1');
    assert.equal(lines[1], '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port');
    assert.match(lines[2]!, new RegExp(`^2 be 1 s1 127\\.0\\.0\\.1 2 0 10 10 \\d+ 1 0 2 0 0 0 0 - ${echo!.port} - 0 0 - - 0$`));
    assert.match(lines[3]!, new RegExp(`^2 be 2 s2 127\\.0\\.0\\.1 2 0 1 1 \\d+ 1 0 2 0 0 0 0 - ${echo!.port} - 0 0 - - 0$`));
    assert.equal(lines[4], '');
    assert.equal(lines[5], '');
    assert.equal(lines.length, 6);
    assert.equal(await cli(sock, 'show servers state nope\n'), "Can't find backend.\n\n");
  });

  it('set server state maint shows in the admin state', async () => {
    assert.equal(await cli(sock, 'set server be/s1 state maint\n'), '\n');
    const line = (await cli(sock, 'show servers state be\n')).split('\n')[2]!.split(' ');
    assert.equal(line[3], 's1');
    assert.equal(line[5], '0', 'stopped');
    assert.equal(line[6], '1', 'forced maintenance flag');
    assert.equal(await cli(sock, 'set server be/s1 state ready\n'), '\n');
    const again = (await cli(sock, 'show servers state be\n')).split('\n')[2]!.split(' ');
    assert.equal(again[5], '2');
    assert.equal(again[6], '0');
    assert.equal(await cli(sock, 'set server be/nope state ready\n'), 'No such server.\n\n');
    assert.equal(await cli(sock, 'set server nope/s1 state ready\n'), 'No such backend.\n\n');
  });

  it('set weight / get weight', async () => {
    assert.equal(await cli(sock, 'set weight be/s2 20\n'), '\n');
    assert.equal(await cli(sock, 'get weight be/s2\n'), '20 (initial 1)\n\n');
    assert.equal(await cli(sock, 'set weight be/s1 50%\n'), '\n');
    assert.equal(await cli(sock, 'get weight be/s1\n'), '5 (initial 10)\n\n');
    assert.equal(await cli(sock, 'set weight be/s1 300\n'), 'Absolute weight can only be between 0 and 256 inclusive.\n\n');
    assert.equal(await cli(sock, 'set server be/s1 weight 100%\n'), '\n');
    assert.equal(await cli(sock, 'get weight #2/#1\n'), '10 (initial 10)\n\n');
  });

  it('set maxconn global changes the limit and wakes waiting connections', async () => {
    assert.equal(await cli(sock, 'set maxconn global 1000\n'), 'Value out of range.\n\n');
    assert.equal(await cli(sock, 'set maxconn global 1\n'), '\n');
    assert.equal(infoField(await cli(sock, 'show info\n'), 'Maxconn'), '1');
    const a = await openClient(fePort);
    clients.push(a);
    a.sock.write('first');
    await a.waitText('first');
    const b = await openClient(fePort);
    clients.push(b);
    b.sock.write('second');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.text(), '', 'the second connection waits for a slot');
    assert.equal(await cli(sock, 'set maxconn global 50\n'), '\n');
    await b.waitText('second', 5000);
    assert.equal(infoField(await cli(sock, 'show info\n'), 'Maxconn'), '50');
    assert.equal(await cli(sock, 'set maxconn global 0\n'), '\n');
    assert.equal(infoField(await cli(sock, 'show info\n'), 'Maxconn'), '200');
    a.sock.destroy();
    b.sock.destroy();
  });

  it('runs ;-separated commands in one line', async () => {
    const out = await cli(sock, 'get weight be/s2;echo a\\;b;show cli level\n');
    assert.equal(out, '20 (initial 1)\n\na;b\n\nadmin\n\n');
  });

  it('prompt mode keeps the connection until quit', async () => {
    const c = await openClient({ path: sock });
    clients.push(c);
    c.sock.write('prompt\n');
    await c.waitText('\n> ');
    c.sock.write('get weight be/s2\n');
    await c.waitText('20 (initial 1)\n\n> ');
    c.sock.write('show cli level\n');
    await c.waitText('admin\n\n> ');
    assert.ok(!c.isClosed());
    c.sock.write('quit\n');
    await c.waitEnd();
    assert.equal(c.text(), '\n> 20 (initial 1)\n\n> admin\n\n> ');
  });

  it('a level user socket may read but not change', async () => {
    assert.equal(await cli(cliPort, 'set server be/s1 state maint\n'), 'Permission denied\n\n');
    assert.equal(await cli(cliPort, 'set maxconn global 10\n'), 'Permission denied\n\n');
    assert.equal(await cli(cliPort, 'show cli level\n'), 'user\n\n');
    assert.equal(infoField(await cli(cliPort, 'show info\n'), 'Pid'), String(proc!.child.pid));
    const line = (await cli(sock, 'show servers state be\n')).split('\n')[2]!.split(' ');
    assert.equal(line[6], '0', 'the server was not touched');
  });

  it('answers unknown commands with the usage screen', async () => {
    const out = await cli(sock, 'foo bar\n');
    assert.ok(out.startsWith("Unknown command: 'foo', but maybe one of the following ones is a better match:\n"), out);
    assert.match(out, /\n {2}help \[<command>\] +: /);
    assert.match(out, /\n {2}quit +: .*\n\n$/);
    const help = await cli(cliPort, 'help\n');
    assert.ok(help.startsWith('The following commands are valid at this level:\n'));
    assert.match(help, /\n {2}show servers state \[<backend>\] +: /);
  });

  it('removes its UNIX socket file when stopped', async () => {
    await proc!.stop('SIGTERM', 5000);
    await waitFor(() => !fs.existsSync(sock), 3000, 'socket file removal');
  });
});
