// server-template filled from A records, over UDP and TCP nameservers (configuration.txt 5.3,
// server-template). The fake DNS server of test/helpers/dns-server.ts changes its answers; HTTP
// servers on 127.0.0.2..4 (one port) tell which address a connection reached. Messages, flags and
// addresses are those HAProxy 2.6 printed for the same configuration and answer sequence.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { freePorts, startProxyWithConfig, waitFor, cliCommand, sleep, type Proc } from '../helpers/harness.js';
import { resolverTestConfig, serverStateFields, sharedPortHttpServers, whoServed } from '../helpers/dns-env.js';
import { startFakeDns } from '../helpers/dns-server.js';

const T = { timeout: 40_000 };

const backends = (ips: string[]) => sharedPortHttpServers(ips.map((ip) => [ip, ip] as const));

/** "name addr admin" for each server of `show servers state`. */
const states = (sock: string) => serverStateFields(sock, 'web', [3, 4, 6]);

for (const proto of ['udp', 'tcp'] as const) {
  describe(`server-template from A records (${proto} nameserver)`, () => {
    it('one address per slot, empty slots in RMAINT, lost addresses and NXDOMAIN put slots in maintenance', T, async () => {
      const dns = await startFakeDns();
      const be = await backends(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
      const [fp] = await freePorts(1);
      let proxy: (Proc & { dir: string }) | undefined;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-dnst-'));
      const sock = path.join(dir, 'sock');
      try {
        dns.records.set('app.test', { a: ['127.0.0.2', '127.0.0.3'] });
        proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `${proto === 'tcp' ? 'tcp@' : ''}127.0.0.1:${dns.port}`, holdNx: '600ms', port: fp!, lines: `  balance roundrobin
  server-template s 3 app.test:${be.port} resolvers mydns init-addr none resolve-prefer ipv4` }), [fp!]);
        const p = proxy;
        await waitFor(() => /web\/s2 changed its IP/.test(p.stderr()), 5000, 'two slots filled');
        // HAProxy 2.6: the first server's change is credited to the nameserver, later ones to the cache
        assert.match(p.stderr(), /web\/s1 changed its IP from \(none\) to 127\.0\.0\.2 by mydns\/ns1\.\n.*Server web\/s1 \('app\.test'\) is UP\/READY \(resolves again\)\.\n.*Server web\/s1 administratively READY thanks to valid DNS answer\./);
        assert.match(p.stderr(), /web\/s2 changed its IP from \(none\) to 127\.0\.0\.3 by DNS cache\.\n.*Server web\/s2 \('app\.test'\) is UP\/READY \(resolves again\)\.\n.*Server web\/s2 administratively READY thanks to valid DNS answer\./);
        // the slot without an address: stopped, RMAINT (0x20), no address
        assert.deepEqual(await states(sock), ['s1 127.0.0.2 0', 's2 127.0.0.3 0', 's3 - 32']);
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) seen.add(await whoServed(fp!));
        assert.deepEqual([...seen].sort(), ['127.0.0.2', '127.0.0.3']);

        // an address vanishes: its slot has no address left to take
        dns.records.set('app.test', { a: ['127.0.0.3'] });
        await waitFor(() => /Server web\/s1 is going DOWN/.test(p.stderr()), 5000, 's1 down');
        assert.match(p.stderr(), /Server web\/s1 is going DOWN for maintenance \(No IP for server \)\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\./);
        assert.deepEqual(await states(sock), ['s1 - 32', 's2 127.0.0.3 0', 's3 - 32']);
        for (let i = 0; i < 3; i++) assert.equal(await whoServed(fp!), '127.0.0.3');

        // three addresses: every slot is filled, each with a different one
        dns.records.set('app.test', { a: ['127.0.0.4', '127.0.0.2', '127.0.0.3'] });
        await waitFor(async () => (await states(sock)).every((l) => l.endsWith(' 0')), 5000, 'all slots up');
        const st = await states(sock);
        assert.equal(st[1], 's2 127.0.0.3 0');
        assert.deepEqual(st.map((l) => l.split(' ')[1]).sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
        seen.clear();
        for (let i = 0; i < 9; i++) seen.add(await whoServed(fp!));
        assert.deepEqual([...seen].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);

        // NXDOMAIN beyond hold nx: every slot goes down
        dns.records.set('app.test', 'NX');
        await waitFor(() => /no server available/.test(p.stderr()), 5000, 'all down');
        assert.match(p.stderr(), /Server web\/s1 is going DOWN for maintenance \(DNS NX status\)\. 2 active and 0 backup servers left\./);
        assert.match(p.stderr(), /Server web\/s2 is going DOWN for maintenance \(DNS NX status\)\. 1 active and 0 backup servers left\./);
        assert.match(p.stderr(), /Server web\/s3 is going DOWN for maintenance \(DNS NX status\)\. 0 active and 0 backup servers left\./);
        assert.match(p.stderr(), /\[ALERT\] .*proxy 'web' has no server available!/);
        assert.deepEqual(await states(sock), ['s1 - 32', 's2 - 32', 's3 - 32']);
        assert.equal(await whoServed(fp!), '503');

        const sr = await cliCommand(sock, 'show resolvers mydns');
        const n = (k: string): number => Number(new RegExp(` ${k}: +(\\d+)`).exec(sr)![1]);
        assert.ok(n('valid') >= 3 && n('nx') > 0 && n('sent') >= n('valid') + n('nx'), sr);
        assert.equal(n('update'), 2, sr); // s1 changed twice (the first server of the group)
        assert.equal(n('snd_error') + n('timeout') + n('invalid'), 0, sr);
        // the transport used
        assert.ok(dns.log.length > 0 && dns.log.every((l) => l.startsWith(`${proto} `)), dns.log.join('\n'));
        if (proto === 'tcp') assert.equal(dns.tcpConnections, 1);
      } finally {
        await proxy?.stop();
        await be.close();
        await dns.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('TCP nameserver failures', () => {
  it('a refused connection: queries counted as sent (as HAProxy 2.6), no valid answer, no crash', T, async () => {
    const [fp, dead] = await freePorts(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-dnst-'));
    const sock = path.join(dir, 'sock');
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `tcp4@127.0.0.1:${dead}`, port: fp!, lines: `  server s app.test:80 resolvers mydns init-addr none` }), [fp!]);
      await sleep(800);
      const sr = await cliCommand(sock, 'show resolvers');
      const n = (k: string): number => Number(new RegExp(` ${k}: +(\\d+)`).exec(sr)![1]);
      assert.ok(n('sent') > 0, sr);
      assert.equal(n('snd_error'), 0, sr);
      assert.equal(n('valid'), 0, sr);
      assert.equal(await whoServed(fp!), '503');
    } finally {
      await proxy?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('truncated answers', () => {
  it('a UDP answer with TC set is an error counted as truncated, then AAAA is tried (empty: any_err), no fallback to TCP', T, async () => {
    const dns = await startFakeDns();
    const [fp] = await freePorts(1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-dnst-'));
    const sock = path.join(dir, 'sock');
    let proxy: Proc | undefined;
    try {
      dns.records.set('app.test', { a: ['127.0.0.2', '127.0.0.3'] });
      dns.udpMaxRecords = 1;
      proxy = await startProxyWithConfig(resolverTestConfig({ sock, nameserver: `127.0.0.1:${dns.port}`, port: fp!, lines: `  server-template s 2 app.test:80 resolvers mydns init-addr none resolve-prefer ipv4` }), [fp!]);
      await sleep(700);
      const sr = await cliCommand(sock, 'show resolvers');
      const n = (k: string): number => Number(new RegExp(` ${k}: +(\\d+)`).exec(sr)![1]);
      assert.ok(n('truncated') > 0, sr);
      // HAProxy 2.6 for the same sequence: sent 16, truncated 8 (A), any_err 8 (empty AAAA answers)
      assert.ok(n('any_err') > 0, sr);
      const pending = n('sent') - n('truncated') - n('any_err');
      assert.ok(pending === 0 || pending === 1, sr); // every answer was one or the other (one may be in flight)
      assert.equal(n('valid'), 0, sr);
      assert.deepEqual(await states(sock), ['s1 - 32', 's2 - 32']);
      assert.ok(dns.log.every((l) => l.startsWith('udp ')), dns.log.join('\n'));
      assert.doesNotMatch(proxy.stderr(), /changed its IP/);
    } finally {
      await proxy?.stop();
      await dns.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
