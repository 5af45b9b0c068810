// Process control: SIGUSR1 soft stop, SIGTERM hard stop, SIGTTOU/SIGTTIN pause/resume, -p pidfile,
// -D daemon mode, -sf/-st handover to a new process.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, freePorts, tempDir, writeConfig, startProxy, startTestServer, openClient, tcpExchange, runCmd,
  canConnect, waitFor, sleep, pidAlive, closeAll, type Proc, type Client,
} from '../helpers/harness.js';

/** Temp dirs made by this file, removed at the end. */
const dirs: string[] = [];
function trackedDir(prefix?: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const T = { timeout: 20_000 };

const cfgText = (fp: number, sport: number, extra = ''): string => `
global
  maxconn 100
${extra}
defaults
  mode tcp
  timeout connect 1s
  timeout client 10s
  timeout server 10s
listen l
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${sport}
`;

/** Waits for a process to have exited (polling kill -0); bounded. */
async function waitPidGone(pid: number, ms: number): Promise<void> {
  await waitFor(() => !pidAlive(pid), ms, `pid ${pid} to exit`);
}

/** Tries to bind `port` on loopback; resolves true when it worked (the server is closed again). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('signals and process management', () => {
  it('SIGUSR1: stops listening, lets the established session finish, then exits 0', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, echo.port))], [fp!]);
      c = await openClient(fp!);
      c.sock.write('before;');
      await c.waitText('before;');
      proxy.child.kill('SIGUSR1');
      await waitFor(async () => !(await canConnect(fp!)), 3000, 'listener to stop accepting');
      // the established session still works
      c.sock.write('after;');
      await c.waitText('after;');
      assert.equal(proxy.child.exitCode, null, 'still running while a session is active');
      await sleep(200);
      assert.equal(proxy.child.exitCode, null, 'still running while a session is active');
      c.sock.end();
      const t0 = Date.now();
      const code = await Promise.race([proxy.exited, sleep(5000).then(() => 'timeout')]);
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });

  it('SIGUSR1 with no active session exits 0 promptly', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let proxy: Proc | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, echo.port))], [fp!]);
      await sleep(100); // let the readiness probe's session end
      proxy.child.kill('SIGUSR1');
      const code = await Promise.race([proxy.exited, sleep(3000).then(() => 'timeout')]);
      assert.equal(code, 0);
    } finally {
      await closeAll([proxy, echo]);
    }
  });

  it('SIGTERM exits promptly even with an active session, which gets closed', T, async () => {
    const echo = await startTestServer('e', { mode: 'echo' });
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let proxy: Proc | undefined;
    let c: Client | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, echo.port))], [fp!]);
      c = await openClient(fp!);
      c.sock.write('x');
      await c.waitText('x');
      const t0 = Date.now();
      proxy.child.kill('SIGTERM');
      const code = await Promise.race([proxy.exited, sleep(3000).then(() => 'timeout')]);
      assert.notEqual(code, 'timeout', 'exited within 3s');
      assert.ok(code === 0 || code === 'SIGTERM', `exit status ${code}`);
      assert.ok(Date.now() - t0 < 3000);
      await c.waitEnd(2000);
      assert.equal(await canConnect(fp!), false);
    } finally {
      await closeAll([c, proxy, echo]);
    }
  });

  it('SIGTTOU releases the port (another process can bind it), SIGTTIN listens again', T, async () => {
    const s = await startTestServer('back');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let proxy: Proc | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, s.port))], [fp!]);
      assert.equal(await tcpExchange(fp!, 'x'), 'back\n');
      proxy.child.kill('SIGTTOU');
      await waitFor(() => canBind(fp!), 3000, 'port to be released');
      await sleep(300);
      assert.equal(proxy.child.exitCode, null, 'SIGTTOU does not stop the process (even with no listener left)');
      proxy.child.kill('SIGTTIN');
      await waitFor(() => canConnect(fp!), 3000, 'listening again');
      assert.equal(await tcpExchange(fp!, 'x'), 'back\n');
    } finally {
      await closeAll([proxy, s]);
    }
  });

  it('-p <pidfile> writes the pid of the running process', T, async () => {
    const s = await startTestServer('back');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    const pidfile = path.join(dir, 'haproxy.pid');
    let proxy: Proc | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, s.port)), '-p', pidfile], [fp!]);
      await waitFor(() => fs.existsSync(pidfile) && fs.readFileSync(pidfile, 'utf8').trim() !== '', 3000, 'pidfile');
      assert.equal(fs.readFileSync(pidfile, 'utf8'), `${proxy.child.pid}\n`);
    } finally {
      await closeAll([proxy, s]);
    }
  });

  it('global pidfile is honoured too', T, async () => {
    const s = await startTestServer('back');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    const pidfile = path.join(dir, 'global.pid');
    let proxy: Proc | undefined;
    try {
      proxy = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, s.port, `  pidfile ${pidfile}`))], [fp!]);
      await waitFor(() => fs.existsSync(pidfile) && fs.readFileSync(pidfile, 'utf8').trim() !== '', 3000, 'pidfile');
      assert.equal(Number(fs.readFileSync(pidfile, 'utf8').trim()), proxy.child.pid);
    } finally {
      await closeAll([proxy, s]);
    }
  });

  it('-D -p <pidfile> daemonizes: the command returns 0 and the pid in the file serves traffic', T, async () => {
    const s = await startTestServer('daemon-back');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    const pidfile = path.join(dir, 'd.pid');
    let pid = 0;
    try {
      const r = await runCmd(BIN, ['-D', '-p', pidfile, '-f', writeConfig(dir, cfgText(fp!, s.port))], { timeoutMs: 10_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.existsSync(pidfile), 'pidfile written');
      pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
      assert.ok(Number.isInteger(pid) && pid > 1, `pid '${pid}'`);
      assert.ok(pidAlive(pid), 'daemon alive');
      await waitFor(() => canConnect(fp!), 3000, 'daemon listening');
      assert.equal(await tcpExchange(fp!, 'x'), 'daemon-back\n');
      process.kill(pid, 'SIGUSR1');
      await waitPidGone(pid, 5000);
      pid = 0;
    } finally {
      if (pid && pidAlive(pid)) {
        try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
        try { await waitPidGone(pid, 2000); } catch { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }
      await closeAll([s]);
    }
  });

  it('-D with a bad bind (port in use) fails with a non-zero status and no daemon left', T, async () => {
    const s = await startTestServer('x');
    const blocker = await startTestServer('blocker');
    const dir = trackedDir();
    const pidfile = path.join(dir, 'd.pid');
    try {
      const r = await runCmd(BIN, ['-D', '-p', pidfile, '-f', writeConfig(dir, cfgText(blocker.port, s.port))], { timeoutMs: 10_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /\[ALERT\].*cannot bind socket/);
      assert.equal(fs.existsSync(pidfile), false, 'no pidfile on failure');
    } finally {
      await closeAll([s, blocker]);
    }
  });

  it('-sf <oldpid>: the new process takes the port over, the old one finishes its session then exits', T, async () => {
    const oldBack = await startTestServer('old', { mode: 'echo' });
    const newBack = await startTestServer('new');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let oldP: Proc | undefined;
    let newP: Proc | undefined;
    let c: Client | undefined;
    try {
      oldP = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, oldBack.port), 'old.cfg')], [fp!]);
      c = await openClient(fp!);
      c.sock.write('ping;');
      await c.waitText('ping;');
      newP = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, newBack.port), 'new.cfg'), '-sf', String(oldP.child.pid)], []);
      // new connections reach the new process' backend
      await waitFor(async () => {
        try { return (await tcpExchange(fp!, 'x', { timeoutMs: 1000 })) === 'new\n'; } catch { return false; }
      }, 5000, 'new process to serve');
      assert.equal(newP.child.exitCode, null);
      // the old one still carries its session
      assert.equal(oldP.child.exitCode, null, 'old process waits for its session');
      c.sock.write('still;');
      await c.waitText('still;');
      c.sock.end();
      const code = await Promise.race([oldP.exited, sleep(5000).then(() => 'timeout')]);
      assert.equal(code, 0, 'old process exits once its session is over');
      assert.equal(await tcpExchange(fp!, 'x'), 'new\n');
    } finally {
      await closeAll([c, oldP, newP, oldBack, newBack]);
    }
  });

  it('-st <oldpid>: the old process is terminated right away', T, async () => {
    const oldBack = await startTestServer('old', { mode: 'echo' });
    const newBack = await startTestServer('new');
    const [fp] = await freePorts(1);
    const dir = trackedDir();
    let oldP: Proc | undefined;
    let newP: Proc | undefined;
    let c: Client | undefined;
    try {
      oldP = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, oldBack.port), 'old.cfg')], [fp!]);
      c = await openClient(fp!);
      c.sock.write('ping;');
      await c.waitText('ping;');
      newP = await startProxy(BIN, ['-f', writeConfig(dir, cfgText(fp!, newBack.port), 'new.cfg'), '-st', String(oldP.child.pid)], []);
      const code = await Promise.race([oldP.exited, sleep(5000).then(() => 'timeout')]);
      assert.notEqual(code, 'timeout', 'old process terminated');
      await c.waitEnd(2000);
      await waitFor(async () => {
        try { return (await tcpExchange(fp!, 'x', { timeoutMs: 1000 })) === 'new\n'; } catch { return false; }
      }, 5000, 'new process to serve');
    } finally {
      await closeAll([c, oldP, newP, oldBack, newBack]);
    }
  });
});
