// Rough traffic through the binary, in TCP and HTTP mode: clients resetting at every stage
// (before sending, mid-head, mid-body, after half-closing), garbage, pipelined requests, and a
// server that resets, truncates, stays silent or disappears and comes back. The proxy must keep
// running, log no internal error, keep its memory bounded, and serve a clean request afterwards.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, sleep, type Proc } from '../helpers/harness.js';

/** A server whose every answer is drawn from fine, reset, truncated, silent. */
function roughServer(port: number): Promise<{ kill(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const s = net.createServer({ allowHalfOpen: true }, (c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => { /* resets are part of the test */ });
    c.on('data', () => {
      const r = Math.random();
      if (r < 0.05) { c.resetAndDestroy(); return; }
      if (r < 0.1) { c.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'); c.destroy(); return; }
      if (r < 0.12) return; // never answers: the server timeout ends it
      c.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    });
    c.on('end', () => c.end());
  });
  // kill(): the server dies, resetting every connection it has
  const kill = (): Promise<void> => new Promise((r) => { s.close(() => r()); for (const c of conns) c.resetAndDestroy(); });
  return new Promise((resolve, reject) => { s.once('error', reject); s.listen(port, '127.0.0.1', () => resolve({ kill })); });
}

/** One client doing one of the rough things; resolves when its connection is gone. */
function roughClient(port: number): Promise<void> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => c.destroy(), 2500);
    c.on('error', () => { /* the proxy may reset us */ });
    c.on('close', () => { clearTimeout(t); resolve(); });
    c.on('data', () => { /* read what comes */ });
    const r = Math.random();
    c.on('connect', () => {
      if (r < 0.1) c.resetAndDestroy();
      else if (r < 0.2) { c.write('GET / HTTP/1.1\r\nHo'); c.resetAndDestroy(); }
      else if (r < 0.3) c.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      else if (r < 0.35) { c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc'); setTimeout(() => c.resetAndDestroy(), 30); }
      else if (r < 0.4) c.write('\x00\x01garbage\r\n\r\n');
      else c.write('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let got = '';
    const t = setTimeout(() => c.destroy(), 3000);
    c.on('data', (d) => { got += d; });
    c.on('error', () => { /* reported through the result */ });
    c.on('close', () => { clearTimeout(t); resolve(got.split('\r\n')[0] ?? ''); });
  });
}

describe('rough traffic', { timeout: 60_000 }, () => {
  for (const mode of ['tcp', 'http'] as const) {
    it(`mode ${mode}: resets, garbage and a dying server leave the proxy serving`, async () => {
      const [fp, sp] = await freePorts(2);
      let server = await roughServer(sp!);
      // the proxy starts inside the try: should it fail to start, the rough server is still
      // closed (a listening server left open would keep this file's process alive)
      let p: Proc | undefined;
      try {
        p = await startProxyWithConfig(`defaults\n  mode ${mode}\n  timeout client 2s\n  timeout server 1s\n  timeout connect 1s\n  retries 1\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${sp}\n`, [fp!]);
        const pid = p.child.pid!;
        const before = rssMiB(pid);
        for (let round = 0; round < 6; round++) {
          await Promise.all(Array.from({ length: 60 }, () => roughClient(fp!)));
          if (round % 2 === 1) {
            // the server goes away (its connections reset) and comes back
            await server.kill();
            await sleep(100);
            server = await roughServer(sp!);
          }
        }
        assert.equal(p.child.exitCode, null, `the proxy exited: ${p.stderr()}`);
        assert.doesNotMatch(p.stderr(), /internal error|ALERT|Uncaught|TypeError|RangeError/i);
        assert.ok(rssMiB(pid) - before < 64, `memory grew from ${before.toFixed(1)} to ${rssMiB(pid).toFixed(1)} MiB`);
        // a plain request after all that (the server may still draw a reset: try a few times)
        let status = '';
        for (let i = 0; i < 10 && status !== 'HTTP/1.1 200 OK'; i++) status = await get(fp!);
        assert.equal(status, 'HTTP/1.1 200 OK');
      } finally {
        await p?.stop();
        await server.kill();
      }
    });
  }
});
