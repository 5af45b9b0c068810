// server-template filled from SRV records (configuration.txt 5.3.1, server-template): target,
// port and weight from each record; addresses from the additional section, or from the target's
// own A resolution. Messages, flags and columns as HAProxy 2.6 printed them for the same
// configuration and the same answer sequence from this fake DNS server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { freePorts, startProxyWithConfig, waitFor, cliCommand, type Proc } from '../helpers/harness.js';
import { resolverTestConfig, serverStateFields, whoServed } from '../helpers/dns-env.js';
import { startFakeDns } from '../helpers/dns-server.js';

const T = { timeout: 40_000 };

/** "name addr admin uweight fqdn port srvrecord" per server of `show servers state`. */
const states = (sock: string) => serverStateFields(sock, 'web', [3, 4, 6, 7, 17, 18, 19]);

describe('server-template from SRV records', () => {
  it('fills slots from SRV records, releases vanished entries, follows target resolution', T, async () => {
    const dns = await startFakeDns();
    const [fp, p1, p2, p3] = await freePorts(4);
    const servers: http.Server[] = [];
    for (const [ip, port] of [['127.0.0.2', p1], ['127.0.0.3', p2], ['127.0.0.4', p3]] as const) {
      const s = http.createServer((_req, res) => { const b = `${ip}:${port}`; res.writeHead(200, { 'content-length': b.length, connection: 'close' }); res.end(b); });
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, ip, () => resolve()); });
      servers.push(s);
    }
    let proxy: (Proc & { dir: string }) | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-dnss-'));
    const sock = path.join(dir, 'sock');
    const SRV = '_http._tcp.app.test';
    try {
      dns.records.set('a.test', { a: ['127.0.0.2'] });
      dns.records.set('b.test', { a: ['127.0.0.3'] });
      dns.records.set('c.test', { a: ['127.0.0.4'] });
      dns.records.set(SRV, { srv: [{ weight: 512, port: p1!, target: 'a.test' }, { weight: 513, port: p2!, target: 'b.test' }], additional: true });
      proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `127.0.0.1:${dns.port}`, holdNx: '600ms', port: fp!, lines: `  server-template s 3 ${SRV} resolvers mydns init-addr none resolve-prefer ipv4` }), [fp!]);
      const p = proxy;
      await waitFor(() => /web\/s2 changed its IP/.test(p.stderr()), 5000, 'two slots filled');
      // addresses taken from the additional section: no "administratively READY" line (2.6)
      assert.match(p.stderr(), /web\/s1 changed its IP from \(none\) to 127\.0\.0\.2 by DNS additional record\.\n.*Server web\/s1 \('a\.test'\) is UP\/READY \(resolves again\)\.\n/);
      assert.match(p.stderr(), /web\/s2 changed its IP from \(none\) to 127\.0\.0\.3 by DNS additional record\.\n.*Server web\/s2 \('b\.test'\) is UP\/READY \(resolves again\)\.\n/);
      assert.doesNotMatch(p.stderr(), /administratively READY/);
      // weights: SRV weight / 256 rounded up (2.6: 512 -> 2, 65535 -> 256); 0x40 on slots holding a record
      assert.deepEqual(await states(sock), [
        `s1 127.0.0.2 64 2 a.test ${p1} ${SRV}`,
        `s2 127.0.0.3 64 3 b.test ${p2} ${SRV}`,
        `s3 - 32 1 - 0 ${SRV}`,
      ]);
      const seen = new Set<string>();
      for (let i = 0; i < 20 && seen.size < 2; i++) seen.add(await whoServed(fp!));
      assert.deepEqual([...seen].sort(), [`127.0.0.2:${p1}`, `127.0.0.3:${p2}`]);

      // b.test leaves, c.test arrives without additional records: it is resolved on its own
      dns.records.set(SRV, { srv: [{ weight: 10, port: p1!, target: 'a.test' }, { weight: 65535, port: p3!, target: 'c.test' }] });
      await waitFor(() => /web\/s3 changed its IP/.test(p.stderr()), 5000, 'c.test in s3');
      assert.match(p.stderr(), /Server web\/s2 is going DOWN for maintenance \(entry removed from SRV record\)\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\./);
      assert.match(p.stderr(), /web\/s3 changed its IP from \(none\) to 127\.0\.0\.4 by mydns\/ns1\.\n.*Server web\/s3 \('c\.test'\) is UP\/READY \(resolves again\)\.\n.*Server web\/s3 administratively READY thanks to valid DNS answer\./);
      assert.deepEqual(await states(sock), [
        `s1 127.0.0.2 64 1 a.test ${p1} ${SRV}`,
        `s2 - 96 3 - 0 ${SRV}`,
        `s3 127.0.0.4 64 256 c.test ${p3} ${SRV}`,
      ]);
      assert.ok(dns.log.includes('udp A c.test'), dns.log.join('\n'));
      seen.clear();
      for (let i = 0; i < 4; i++) seen.add(await whoServed(fp!));
      assert.ok(seen.has(`127.0.0.4:${p3}`) && !seen.has(`127.0.0.3:${p2}`), [...seen].join());

      // the SRV name disappears: every entry is removed
      dns.records.delete(SRV);
      await waitFor(() => /no server available/.test(p.stderr()), 5000, 'all removed');
      assert.match(p.stderr(), /Server web\/s1 is going DOWN for maintenance \(entry removed from SRV record\)\. [01] active/);
      assert.match(p.stderr(), /Server web\/s3 is going DOWN for maintenance \(entry removed from SRV record\)\. [01] active/);
      assert.match(p.stderr(), /\[ALERT\] .*proxy 'web' has no server available!/);
      assert.deepEqual((await states(sock)).map((l) => l.split(' ').slice(0, 3).join(' ')), ['s1 - 96', 's2 - 96', 's3 - 96']);
      assert.equal(await whoServed(fp!), '503');
    } finally {
      await proxy?.stop();
      for (const s of servers) { s.closeAllConnections(); await new Promise<void>((r) => s.close(() => r())); }
      await dns.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolve-opts ignore-weight keeps the configured weight', T, async () => {
    const dns = await startFakeDns();
    const [fp, p1] = await freePorts(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-dnss-'));
    const sock = path.join(dir, 'sock');
    let proxy: Proc | undefined;
    try {
      dns.records.set('a.test', { a: ['127.0.0.2'] });
      dns.records.set('_x._tcp.app.test', { srv: [{ weight: 5000, port: p1!, target: 'a.test' }], additional: true });
      proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `127.0.0.1:${dns.port}`, port: fp!, lines: `  server-template s 1 _x._tcp.app.test resolvers mydns init-addr none resolve-prefer ipv4 weight 7 resolve-opts ignore-weight` }), [fp!]);
      const p = proxy;
      await waitFor(() => /web\/s1 changed its IP/.test(p.stderr()), 5000, 'slot filled');
      assert.deepEqual(await states(sock), [`s1 127.0.0.2 64 7 a.test ${p1} _x._tcp.app.test`]);
    } finally {
      await proxy?.stop();
      await dns.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
