// Run-time DNS resolution through the real binary: a UDP DNS server written here answers A
// records that change over time; two HTTP servers on 127.0.0.2 and 127.0.0.3 (same port) tell
// which address the server uses. Messages compared with what HAProxy 2.6 prints for the same
// sequence (see the expectations below).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, waitFor, cliCommand, type Proc } from '../helpers/harness.js';
import { resolverTestConfig, sharedPortHttpServers, whoServed } from '../helpers/dns-env.js';

const T = { timeout: 30_000 };

/** A DNS server answering A queries from `records` (a name absent: NXDOMAIN). */
async function dnsServer(): Promise<{ port: number; records: Map<string, string[] | 'NX' | 'REFUSED'>; queries: number; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const st = { port: 0, records: new Map<string, string[] | 'NX' | 'REFUSED'>(), queries: 0, close: () => new Promise<void>((r) => sock.close(() => r())) };
  sock.on('message', (m, rinfo) => {
    st.queries++;
    let o = 12;
    const labels: string[] = [];
    while (m[o]) { labels.push(m.toString('latin1', o + 1, o + 1 + m[o]!)); o += m[o]! + 1; }
    o++;
    const qtype = m.readUInt16BE(o);
    const question = m.subarray(12, o + 4);
    const e = st.records.get(labels.join('.').toLowerCase());
    const rcode = e === undefined || e === 'NX' ? 3 : e === 'REFUSED' ? 5 : 0;
    const ips = Array.isArray(e) && qtype === 1 ? e : [];
    const h = Buffer.alloc(12);
    h.writeUInt16BE(m.readUInt16BE(0), 0);
    h.writeUInt16BE(0x8180 | rcode, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(ips.length, 6);
    const rrs = ips.map((ip) => {
      const b = Buffer.alloc(16);
      b.writeUInt16BE(0xc00c, 0); b.writeUInt16BE(1, 2); b.writeUInt16BE(1, 4); b.writeUInt32BE(1, 6); b.writeUInt16BE(4, 10);
      ip.split('.').forEach((x, i) => { b[12 + i] = Number(x); });
      return b;
    });
    sock.send(Buffer.concat([h, question, ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  st.port = sock.address().port;
  return st;
}

/** Two HTTP servers answering their own name, on 127.0.0.2 and 127.0.0.3 with the same port. */
const twoBackends = () => sharedPortHttpServers([['127.0.0.2', 'A'], ['127.0.0.3', 'B']]);

describe('run-time DNS resolution', () => {
  it('follows A record changes, goes to maintenance on NXDOMAIN beyond hold nx, comes back', T, async () => {
    const dns = await dnsServer();
    const be = await twoBackends();
    const [fp] = await freePorts(1);
    let proxy: (Proc & { dir: string }) | undefined;
    const sockDir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'hts-dns-'));
    const sock = path.join(sockDir, 'sock');
    try {
      dns.records.set('app.test', ['127.0.0.2']);
      proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `127.0.0.1:${dns.port}`, holdNx: '600ms', port: fp!, lines: `  server s app.test:${be.port} resolvers mydns init-addr none resolve-prefer ipv4` }), [fp!]);
      const p = proxy;
      await waitFor(async () => (await whoServed(fp!)) === 'A', 5000, 'traffic to 127.0.0.2');
      // messages as HAProxy 2.6 prints them for the same sequence
      assert.match(p.stderr(), /web\/s changed its IP from \(none\) to 127\.0\.0\.2 by mydns\/ns1\./);
      assert.match(p.stderr(), /Server web\/s \('app\.test'\) is UP\/READY \(resolves again\)\./);
      assert.match(p.stderr(), /Server web\/s administratively READY thanks to valid DNS answer\./);

      dns.records.set('app.test', ['127.0.0.3']);
      await waitFor(async () => (await whoServed(fp!)) === 'B', 5000, 'traffic to 127.0.0.3');
      assert.match(p.stderr(), /web\/s changed its IP from 127\.0\.0\.2 to 127\.0\.0\.3 by mydns\/ns1\./);

      // the current address stays while it is still listed
      dns.records.set('app.test', ['127.0.0.2', '127.0.0.3']);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await whoServed(fp!), 'B');

      dns.records.set('app.test', 'NX');
      await waitFor(() => /going DOWN for maintenance/.test(p.stderr()), 5000, 'maintenance');
      assert.match(p.stderr(), /Server web\/s is going DOWN for maintenance \(DNS NX status\)\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\./);
      assert.match(p.stderr(), /proxy 'web' has no server available!/); // a listen section: "proxy" (2.6)
      assert.equal(await whoServed(fp!), '503');
      const state = await cliCommand(sock, 'show servers state web');
      // stopped, in maintenance: HAProxy 2.6 shows "s - 0 32" (no address, RMAINT)
      assert.match(state, /\bs - 0 32 /, state);

      const sr = await cliCommand(sock, 'show resolvers mydns');
      assert.match(sr, /^Resolvers section mydns\n nameserver ns1:\n  sent: +\d+\n  snd_error: +0\n  valid: +\d+\n/);
      const nx = Number(/ nx: +(\d+)/.exec(sr)![1]);
      const update = Number(/ update: +(\d+)/.exec(sr)![1]);
      assert.ok(nx > 0, sr);
      assert.equal(update, 2, sr);
      assert.match(await cliCommand(sock, 'show resolvers nope'), /Can't find that resolvers section/);

      dns.records.set('app.test', ['127.0.0.2']);
      await waitFor(async () => (await whoServed(fp!)) === 'A', 5000, 'traffic back to 127.0.0.2');
      assert.equal(p.stderr().match(/changed its IP from \(none\) to 127\.0\.0\.2/g)?.length, 2);
    } finally {
      await proxy?.stop();
      await be.close();
      await dns.close();
      fs.rmSync(sockDir, { recursive: true, force: true });
    }
  });

  it('init-addr with an address starts there; a plain IP server is never resolved', T, async () => {
    const dns = await dnsServer();
    const be = await twoBackends();
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(resolverTestConfig({ nameserver: `127.0.0.1:${dns.port}`, holdNx: '60s', port: fp!, lines: `  server s nowhere.test:${be.port} resolvers mydns init-addr 127.0.0.3
  server t 127.0.0.2:${be.port} resolvers mydns disabled` }), [fp!]);
      // nowhere.test is NXDOMAIN, but within hold nx the start-up address stays in use
      assert.equal(await whoServed(fp!), 'B');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(await whoServed(fp!), 'B');
      assert.doesNotMatch(proxy.stderr(), /maintenance/);
      assert.ok(dns.queries > 0);
      assert.ok(net.isIP('127.0.0.3'));
    } finally {
      await proxy?.stop();
      await be.close();
      await dns.close();
    }
  });
});
