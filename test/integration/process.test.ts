// Process-level behaviour: inherited listening sockets (fd@), chroot, ulimit-n, tune.bufsize.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  BIN, freePort, freePorts, runCmd, tempDir, writeConfig, startProxy, startTestServer, tcpExchange, canConnect, waitFor, sleep,
} from '../helpers/harness.js';
import { sockoptAvailable } from '../../src/net/sockopt.js';

const base = (extra = '') => `global
${extra}
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
`;

test('bind fd@N serves on a listening socket inherited from the parent', { timeout: 20_000 }, async () => {
  const srv = await startTestServer('A', { mode: 'name-close' });
  const dir = tempDir();
  const port = await freePort();
  const cfg = writeConfig(dir, `${base()}listen l
    bind "fd@\${LISTEN_FD}"
    server a 127.0.0.1:${srv.port}
`);
  // python opens the listening socket and execs haproxy-ts with it inherited as fd 3
  const py = `import socket,os,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',${port})); s.listen(16)
fd=s.fileno(); os.set_inheritable(fd, True)
os.environ['LISTEN_FD']=str(fd)
os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], '-f', sys.argv[3]])`;
  const child = spawn('python3', ['-c', py, process.execPath, BIN, cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  try {
    await waitFor(async () => (await tcpExchange(port, 'x', { timeoutMs: 1000 }).catch(() => '')) === 'A\n', 8000, `fd@ listener (${err})`);
    assert.equal(await tcpExchange(port, 'hello'), 'A\n');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('chroot and ulimit-n apply to the running process', { timeout: 20_000, skip: !sockoptAvailable || process.getuid?.() !== 0 ? 'needs the native addon and root' : false }, async () => {
  const srv = await startTestServer('J', { mode: 'name-close' });
  const dir = tempDir();
  const jail = path.join(dir, 'jail');
  fs.mkdirSync(jail);
  const port = await freePort();
  const cfg = writeConfig(dir, `${base(`    chroot ${jail}\n    ulimit-n 3000`)}listen l
    bind 127.0.0.1:${port}
    server a 127.0.0.1:${srv.port}
`);
  const p = await startProxy(BIN, ['-f', cfg], [port]);
  try {
    assert.equal(await tcpExchange(port, 'x'), 'J\n');
    const pid = p.child.pid!;
    assert.equal(fs.readlinkSync(`/proc/${pid}/root`), jail);
    const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    assert.match(limits, /Max open files\s+3000\s/);
    // still serving after the chroot
    assert.equal(await tcpExchange(port, 'y'), 'J\n');
  } finally {
    await p.stop();
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed bind reports the address and exits 1', { timeout: 20_000 }, async () => {
  const holder = await startTestServer('H');
  const dir = tempDir();
  const cfg = writeConfig(dir, `${base()}listen l
    bind 127.0.0.1:${holder.port}
    server a 127.0.0.1:1
`);
  try {
    const p = await import('../helpers/harness.js').then((h) => h.runCmd(BIN, ['-f', cfg], { timeoutMs: 10_000 }));
    assert.equal(p.code, 1);
    assert.match(p.stderr, /\[ALERT\].*Starting proxy l: cannot bind socket \(Address already in use\) for \[127\.0\.0\.1:\d+\]/);
  } finally {
    await holder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('slowstart ramps a server back after maintenance', { timeout: 20_000 }, async () => {
  const a = await startTestServer('A', { mode: 'name-close' });
  const b = await startTestServer('B', { mode: 'name-close' });
  const dir = tempDir();
  const port = await freePort();
  const sock = path.join(dir, 'stats.sock');
  const cfg = writeConfig(dir, `global
    stats socket ${sock} level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen l
    bind 127.0.0.1:${port}
    balance roundrobin
    server a 127.0.0.1:${a.port} weight 100 slowstart 2s
    server b 127.0.0.1:${b.port} weight 100
`);
  const p = await startProxy(BIN, ['-f', cfg], [port]);
  const { cliCommand } = await import('../helpers/harness.js');
  try {
    await waitFor(() => fs.existsSync(sock), 3000, 'stats socket');
    await cliCommand(sock, 'set server l/a state maint');
    await cliCommand(sock, 'set server l/a state ready');
    // right after coming back its effective weight is small: b takes nearly everything
    const first: string[] = [];
    for (let i = 0; i < 20; i++) first.push(await tcpExchange(port, 'x'));
    const aEarly = first.filter((x) => x === 'A\n').length;
    assert.ok(aEarly <= 6, `a served ${aEarly}/20 right after coming back`);
    const w = await cliCommand(sock, 'get weight l/a');
    assert.match(w, /^\d+ \(initial 100\)/);
    await sleep(2300);
    const later: string[] = [];
    for (let i = 0; i < 20; i++) later.push(await tcpExchange(port, 'x'));
    const aLate = later.filter((x) => x === 'A\n').length;
    assert.ok(aLate >= 8 && aLate <= 12, `a served ${aLate}/20 once the ramp ended`);
  } finally {
    await p.stop();
    await a.close();
    await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM with connections open exits promptly and frees the port', { timeout: 20_000 }, async () => {
  const srv = await startTestServer('S', { mode: 'hold' });
  const dir = tempDir();
  const port = await freePort();
  const cfg = writeConfig(dir, `${base()}listen l
    bind 127.0.0.1:${port}
    server a 127.0.0.1:${srv.port}
`);
  const p = await startProxy(BIN, ['-f', cfg], [port]);
  try {
    const before = srv.accepted;
    // a client that keeps its side open: it must see the proxy end the connection (EOF)
    const pending = new Promise<string>((resolve) => {
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const t = setTimeout(() => { c.destroy(); resolve('no EOF'); }, 8000);
      c.on('connect', () => c.write('x'));
      c.on('end', () => { clearTimeout(t); c.destroy(); resolve('EOF'); });
      c.on('error', (e) => { clearTimeout(t); resolve(`error ${e.message}`); });
    });
    await waitFor(() => srv.accepted > before && srv.firstBytes.some((b) => b.toString() === 'x'), 3000, 'server connection');
    const t0 = Date.now();
    const code = await p.stop('SIGTERM');
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(await pending, 'EOF');
    assert.equal(await canConnect(port), false);
  } finally {
    await p.stop('SIGKILL');
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('strict-limits: a file descriptor limit that cannot be raised fails the start-up; no strict-limits warns', { timeout: 20_000 }, async () => {
  const dir = tempDir('hts-limits-');
  const [fp] = await freePorts(1);
  // 600000 connections need 1.2M descriptors: more than the kernel allows (fs.nr_open), even for root
  const cfg = (extra: string): string => `global\n  maxconn 600000\n${extra}\ndefaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nlisten l\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:1\n`;
  try {
    const strict = await runCmd(BIN, ['-f', writeConfig(dir, cfg(''), 'strict.cfg')], { timeoutMs: 10_000 });
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /\[ALERT\].*Cannot raise FD limit to 12000\d\d/);
    const lax = await startProxy(BIN, ['-f', writeConfig(dir, cfg('  no strict-limits'), 'lax.cfg')], [fp!]);
    try {
      assert.match(lax.stderr(), /\[WARNING\].*Cannot raise FD limit/);
    } finally {
      await lax.stop('SIGTERM', 3000);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
