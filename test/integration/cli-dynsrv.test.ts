// Dynamic servers on the running binary: `add server` then `enable server` makes a new server
// take connections, `del server` (in maintenance, without connections) removes it from the
// traffic and from `show servers state` / `show stat`. Answers are haproxy 2.6's (socat).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  freePorts, startProxyWithConfig, tempDir, startTestServer, tcpExchange, cliCommand, waitFor, closeAll, sleep,
  type Proc, type TestServer,
} from '../helpers/harness.js';
import net from 'node:net';
import fs from 'node:fs';

const T = { timeout: 40_000 };

describe('add server / del server over the stats socket', T, () => {
  let proxy: (Proc & { dir: string; cfg: string }) | undefined;
  let s1: TestServer;
  let s2: TestServer;
  let fe = 0;
  let sock = '';
  let dirSock = '';
  const cli = (c: string): Promise<string> => cliCommand(sock, c);

  before(async () => {
    s1 = await startTestServer('s1');
    s2 = await startTestServer('s2');
    [fe] = await freePorts(1);
    const cfgText = (dir: string): string => `
global
  stats socket ${path.join(dir, 'sock')} level admin
defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen li
  bind 127.0.0.1:${fe}
  balance roundrobin
  server s1 127.0.0.1:${s1.port}
backend bst
  balance static-rr
  server s1 127.0.0.1:${s1.port}
`;
    dirSock = tempDir('hts-dyn-');
    sock = path.join(dirSock, 'sock');
    proxy = await startProxyWithConfig(cfgText(dirSock), [fe]);
    await waitFor(async () => (await cli('show info').catch(() => '')).includes('Name:'), 5000, 'stats socket');
  });

  after(async () => {
    await closeAll([proxy, s1, s2]);
    if (dirSock) fs.rmSync(dirSock, { recursive: true, force: true });
  });

  async function names(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await tcpExchange(fe, 'x')).trim());
    return out;
  }

  it('an added server waits in maintenance, then takes connections once enabled', async () => {
    assert.equal(await cli(`add server li/s2 127.0.0.1:${s2.port}`), 'New server registered.\n\n');
    const st = await cli('show servers state li');
    // be_id be_name srv_id srv_name srv_addr op admin uweight iweight ...
    assert.match(st, new RegExp(`^\\d+ li 2 s2 127\\.0\\.0\\.1 0 1 1 1 \\d+ 1 0 0 0 0 0 0 - ${s2.port} - 0 0 - - 0$`, 'm'));
    assert.deepEqual(new Set(await names(4)), new Set(['s1']));
    assert.equal(s2.accepted, 0);
    assert.equal(await cli('enable server li/s2'), '\n');
    const seen = await names(4);
    assert.equal(seen.filter((x) => x === 's2').length, 2, seen.join(','));
    assert.equal(seen.filter((x) => x === 's1').length, 2, seen.join(','));
    assert.match(await cli('show stat'), /^li,s2,/m);
  });

  it('del server is refused while the server serves or is not in maintenance', async () => {
    assert.equal(await cli('del server li/s2'), 'Only servers in maintenance mode can be deleted.\n');
    // a connection held on s2
    assert.equal(await cli('disable server li/s1'), '\n');
    const c = net.connect({ port: fe, host: '127.0.0.1' });
    c.on('error', () => {});
    await new Promise<void>((r) => c.once('connect', () => r()));
    c.write('x');
    await new Promise<void>((r) => c.once('data', () => r()));
    assert.equal(await cli('disable server li/s2'), '\n');
    assert.equal(await cli('del server li/s2'), 'Server still has connections attached to it, cannot remove it.\n');
    c.destroy();
    await waitFor(async () => (await cli('del server li/s2')) === 'Server deleted.\n', 5000, 'deletion');
    assert.equal(await cli('enable server li/s1'), '\n');
  });

  it('a deleted server gets no more traffic and is gone from the dumps', async () => {
    const before = s2.accepted;
    assert.deepEqual(new Set(await names(4)), new Set(['s1']));
    assert.equal(s2.accepted, before);
    assert.doesNotMatch(await cli('show servers state li'), / s2 /);
    assert.doesNotMatch(await cli('show stat'), /^li,s2,/m);
    assert.equal(await cli('enable server li/s2'), 'No such server.\n\n');
    // its id is free again
    assert.equal(await cli(`add server li/s3 127.0.0.1:${s2.port} enabled`), 'New server registered.\n\n');
    assert.match(await cli('show servers state li'), /^\d+ li 2 s3 127\.0\.0\.1 2 0 1 1 /m);
    await sleep(10);
    const seen = await names(4);
    assert.equal(seen.filter((x) => x === 's2').length, 2, seen.join(','));
  });

  it('errors', async () => {
    assert.equal(await cli(`add server bst/s2 127.0.0.1:${s2.port}`), 'Backend must use a dynamic load balancing to support dynamic servers.\n');
    assert.equal(await cli(`add server nob/s2 127.0.0.1:${s2.port}`), 'No such backend.\n');
    assert.equal(await cli('add server li'), "Require 'backend/server'.\n");
    assert.equal(await cli(`add server li/s1 127.0.0.1:${s2.port}`), 'Already exists a server with the same name in backend.\n\n');
    assert.equal(await cli(`add server li/s9 127.0.0.1:${s2.port} cookie a`), "'cookie' option is not accepted for dynamic server\n\n");
    assert.equal(await cli(`add server li/s9 127.0.0.1:${s2.port} id 0`), "'id' : custom id has to be > 0.\n\n");
    assert.equal(await cli('del server li/nope'), 'No such server.\n');
    assert.equal(await cli('del server nob/x'), 'No such backend.\n');
  });
});
