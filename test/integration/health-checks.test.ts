// Active health checks through the real binary: TCP, HTTP and tcp-check rules; rise/fall and
// init-state; traffic leaves a dead server within fall x inter and comes back after rise x inter;
// the state-change messages compared with Debian's haproxy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, startProxy, closeAll, waitFor, tempDir, writeConfig, sleep, haproxyPath, checkTestDefaults, type Proc } from '../helpers/harness.js';
import { rawHttp, controllableServer, whoAnswers } from '../helpers/http.js';

const T = { timeout: 30_000 };

const controllable = controllableServer;
const who = whoAnswers;

const DEFAULTS = checkTestDefaults();

describe('health checks', () => {
  it('TCP checks: a dead server is left within fall x inter, a recovered one comes back after rise x inter', T, async () => {
    const a = await controllable('A');
    const b = await controllable('B');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  balance roundrobin
  server a 127.0.0.1:${a.port} check inter 200 rise 2 fall 2
  server b 127.0.0.1:${b.port} check inter 200 rise 2 fall 2
`, [fp!]);
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add(await who(fp!));
      assert.deepEqual([...seen].sort(), ['200 A', '200 B']);
      const t0 = Date.now();
      await b.close();
      await waitFor(() => /Server web\/b is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\./.test(proxy!.stderr()), 5000, 'b DOWN message');
      const downAfter = Date.now() - t0;
      assert.ok(downAfter < 2 * 200 + 800, `down within fall x inter (+ margin): ${downAfter} ms`);
      for (let i = 0; i < 4; i++) assert.equal(await who(fp!), '200 A', 'traffic avoids the dead server');
      await b.reopen();
      await waitFor(() => /Server web\/b is UP, reason: Layer4 check passed, check duration: \d+ms\. 2 active and 0 backup servers online\./.test(proxy!.stderr()), 5000, 'b UP message');
      const back = new Set<string>();
      for (let i = 0; i < 4; i++) back.add(await who(fp!));
      assert.ok(back.has('200 B'), 'traffic comes back to the recovered server');
    } finally {
      await closeAll([proxy, a, b]);
    }
  });

  it('HTTP checks: wrong status marks DOWN (and the backend empty), the right one UP; backup takes over', T, async () => {
    const a = await controllable('A');
    const bk = await controllable('BK');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  option httpchk GET /health
  http-check expect status 200
  server a 127.0.0.1:${a.port} check inter 150 rise 1 fall 1
  server bk 127.0.0.1:${bk.port} check inter 150 rise 1 fall 1 backup
`, [fp!]);
      assert.equal(await who(fp!), '200 A');
      a.status = 503;
      await waitFor(() => proxy!.stderr().includes('Server web/a is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable"'), 5000, 'a DOWN');
      assert.equal(await who(fp!), '200 BK', 'the backup takes over');
      assert.match(proxy!.stderr(), /Server web\/a is DOWN, .*0 active and 1 backup servers left\. Running on backup\. 0 sessions active/, 'haproxy 2.6 says "Running on backup."');
      bk.status = 500;
      await waitFor(() => proxy!.stderr().includes(`proxy 'web' has no server available!`), 5000, 'no server alert');
      assert.match(proxy!.stderr(), /Backup Server web\/bk is DOWN, reason: Layer7 wrong status, code: 500/);
      assert.equal((await who(fp!)).split(' ')[0], '503');
      a.status = 200;
      await waitFor(() => /Server web\/a is UP, reason: Layer7 check passed, code: 200/.test(proxy!.stderr()), 5000, 'a UP');
      assert.equal(await who(fp!), '200 A');
    } finally {
      await closeAll([proxy, a, bk]);
    }
  });

  it('tcp-check send/expect and init-state down: a server is used only once its check passes', T, async () => {
    let ready = false;
    const banner = net.createServer((s) => {
      s.once('data', (d) => {
        if (d.toString() === 'PING\r\n') s.end(ready ? '+PONG\r\n' : '-ERR loading\r\n');
        else { s.end('hello from tcp\n'); }
      });
    });
    await new Promise<void>((r) => banner.listen(0, '127.0.0.1', () => r()));
    const port = (banner.address() as net.AddressInfo).port;
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen tcp
  mode tcp
  bind 127.0.0.1:${fp}
  option tcp-check
  tcp-check send PING\\r\\n
  tcp-check expect string +PONG
  server r 127.0.0.1:${port} check inter 150 rise 1 fall 1 init-state down
`, [fp!]);
      await sleep(400);
      // still down: the check answers -ERR
      const c1 = await new Promise<string>((res) => { const s = net.connect(fp!, '127.0.0.1', () => s.write('x')); let g = ''; s.on('data', (d) => { g += d; }); s.on('close', () => res(g)); s.on('error', () => res(g)); setTimeout(() => s.destroy(), 1500); });
      assert.equal(c1, '', 'no server: the connection gets nothing');
      ready = true;
      await waitFor(() => /Server tcp\/r is UP, reason: Layer7 check passed, check duration/.test(proxy!.stderr()), 5000, 'r UP');
      const c2 = await new Promise<string>((res) => { const s = net.connect(fp!, '127.0.0.1', () => s.write('x')); let g = ''; s.on('data', (d) => { g += d; }); s.on('close', () => res(g)); setTimeout(() => s.destroy(), 1500); });
      assert.equal(c2, 'hello from tcp\n');
    } finally {
      await closeAll([proxy]);
      await new Promise<void>((r) => banner.close(() => r()));
    }
  });

  it('the DOWN/UP messages match haproxy 2.6 for the same events', { ...T, skip: haproxyPath() ? false : 'haproxy not installed' }, async () => {
    const dead = (await freePorts(1))[0]!;
    const norm = (s: string): string[] => s.split('\n').filter((l) => /Server |no server available/.test(l))
      .map((l) => l.replace(/^\[(\w+)\]\s+\(\d+\) : /, '[$1] ').replace(/check duration: \d+ms/, 'check duration: Nms')).sort();
    const run = async (bin: string): Promise<string[]> => {
      const [fp] = await freePorts(1);
      const dir = tempDir();
      const cfg = writeConfig(dir, `${DEFAULTS}
backend bk
  option httpchk GET /health
  server s2 127.0.0.1:${dead} check inter 200 rise 2 fall 2
backend bt
  server t2 127.0.0.1:${dead} check inter 200 backup
frontend fe
  bind 127.0.0.1:${fp}
  default_backend bk
`);
      const p = await startProxy(bin, ['-db', '-f', cfg], [fp!]);
      try {
        await waitFor(() => norm(p.stderr()).length >= 3, 5000, 'messages');
        await sleep(300);
        return norm(p.stderr());
      } finally {
        await p.stop('SIGKILL', 2000);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const [ha, ts] = await Promise.all([run(haproxyPath()!), run(process.env.HAPROXY_TS_BIN ?? (await import('../helpers/harness.js')).BIN)]);
    assert.deepEqual(ts, ha);
  });

  it('observe layer7 with error-limit and on-error mark-down: a server answering 5xx is taken out, its check brings it back', T, async () => {
    let fail = true;
    const bad = http.createServer((req, res) => {
      if (req.url === '/health') { res.writeHead(200); res.end('ok'); return; }
      if (fail) { res.writeHead(500, { 'content-length': 3 }); res.end('bad'); return; }
      res.writeHead(200, { 'content-length': 3 }); res.end('BAD');
    });
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', () => r()));
    const badPort = (bad.address() as net.AddressInfo).port;
    const good = await controllable('G');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  balance roundrobin
  option httpchk GET /health
  server bad 127.0.0.1:${badPort} check inter 300 fastinter 200 rise 1 fall 1 observe layer7 error-limit 2 on-error mark-down
  server good 127.0.0.1:${good.port} check inter 300
`, [fp!]);
      const got: string[] = [];
      for (let i = 0; i < 6; i++) got.push(await who(fp!));
      await waitFor(() => proxy!.stderr().includes('Server web/bad is DOWN, reason: Health analyze, info: "Detected 2 consecutive errors, last one was: Wrong http response". 1 active and 0 backup servers left.'), 3000, 'marked down by observation');
      for (let i = 0; i < 4; i++) assert.equal(await who(fp!), '200 G', 'the observed-bad server is out');
      fail = false;
      // its health check passes: back after rise (1) x fastinter
      await waitFor(() => /Server web\/bad is UP, reason: Layer7 check passed/.test(proxy!.stderr()), 5000, 'back up');
      const back = new Set<string>();
      for (let i = 0; i < 4; i++) back.add(await who(fp!));
      assert.ok(back.has('200 BAD'));
      assert.ok(got.filter((x) => x.startsWith('500')).length >= 2, 'the 500s reached the client before the server was taken out');
    } finally {
      await closeAll([proxy, good]);
      await new Promise<void>((r) => bad.close(() => r()));
    }
  });

  it('track: a chain of tracking servers follows the checked one, with the messages haproxy 2.6 prints', { ...T, skip: haproxyPath() ? false : 'haproxy not installed' }, async () => {
    const dead = (await freePorts(1))[0]!;
    const norm = (s: string): string[] => s.split('\n').filter((l) => /Server |no server available/.test(l))
      .map((l) => l.replace(/^\[(\w+)\]\s+\(\d+\) : /, '[$1] ').replace(/check duration: \d+ms/, 'check duration: Nms'));
    const run = async (bin: string): Promise<string[]> => {
      const [fp] = await freePorts(1);
      const dir = tempDir();
      const cfg = writeConfig(dir, `${DEFAULTS}
backend b1
  server s1 127.0.0.1:${dead} check inter 200
backend b2
  server s2 127.0.0.1:${dead} track b1/s1
  server s3 127.0.0.1:${dead} track s2
frontend fe
  bind 127.0.0.1:${fp}
  default_backend b1
`);
      const p = await startProxy(bin, ['-db', '-f', cfg], [fp!]);
      try {
        await waitFor(() => norm(p.stderr()).length >= 5, 5000, 'messages');
        await sleep(200);
        return norm(p.stderr());
      } finally {
        await p.stop('SIGKILL', 2000);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const [ha, ts] = await Promise.all([run(haproxyPath()!), run((await import('../helpers/harness.js')).BIN)]);
    assert.deepEqual(ts, ha);
    assert.ok(ts.includes('[WARNING] Server b2/s3 is DOWN via b2/s2. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.'));
  });

  it('option external-check: the command decides, with HAProxy\'s arguments and environment', T, async () => {
    const dir = tempDir();
    const flag = `${dir}/fail`;
    const seen = `${dir}/seen`;
    const script = `${dir}/check.sh`;
    fs.writeFileSync(script, `#!/bin/sh\n/usr/bin/env | /usr/bin/sort > ${seen}\necho "ARGS $@" >> ${seen}\n[ -e ${flag} ] && exit 3\nexit 0\n`, { mode: 0o755 });
    const [fp, sp] = await freePorts(2);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`
global
  external-check
  insecure-fork-wanted
${DEFAULTS}
backend be
  option external-check
  external-check command ${script}
  server s1 127.0.0.1:${sp} check inter 150 rise 1 fall 1
frontend fe
  bind 127.0.0.1:${fp}
  default_backend be
`, [fp!]);
      // the shell creates the file before writing it: wait for its last line
      await waitFor(() => fs.existsSync(seen) && fs.readFileSync(seen, 'utf8').includes('ARGS '), 3000, 'the command ran');
      const env = fs.readFileSync(seen, 'utf8');
      assert.match(env, /^HAPROXY_PROXY_NAME=be$/m);
      assert.match(env, /^HAPROXY_SERVER_NAME=s1$/m);
      assert.match(env, new RegExp(`^HAPROXY_SERVER_PORT=${sp}$`, 'm'));
      assert.match(env, /^PATH=$/m, 'a clean environment: PATH is empty without external-check path');
      assert.match(env, new RegExp(`^ARGS NOT_USED NOT_USED 127\\.0\\.0\\.1 ${sp}$`, 'm'));
      fs.writeFileSync(flag, '');
      await waitFor(() => /Server be\/s1 is DOWN, reason: External check error, code: 3, check duration: \d+ms/.test(proxy!.stderr()), 3000, 'DOWN');
      fs.rmSync(flag);
      await waitFor(() => /Server be\/s1 is UP, reason: External check passed, code: 0, check duration: \d+ms/.test(proxy!.stderr()), 3000, 'UP');
    } finally {
      await closeAll([proxy]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
