// Maps and ACL pattern lists changed through the stats socket take effect at once for the rules
// of the running process: add/set/del map, add/del acl, prepare/commit versions, and the
// add-acl/set-map actions seen by `show acl`/`show map`.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePorts, startProxyWithConfig, closeAll, tempDir, cliCommand, httpTestHead, type Proc } from '../helpers/harness.js';
import { startHttpBackend, rawHttp } from '../helpers/http.js';

const T = { timeout: 20_000 };

async function who(fp: number, host: string, p = '/'): Promise<string> {
  const r = await rawHttp(fp, `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  r.sock.destroy();
  const res = r.responses[0];
  if (!res) return 'none';
  return res.status === 200 ? res.body.toString().split(' ')[0]! : String(res.status);
}

describe('maps and ACLs through the runtime API', () => {
  it('add/set/del map and add/del acl change routing at once; prepare/commit swap a version', T, async () => {
    const [a, b] = await Promise.all([startHttpBackend('A'), startHttpBackend('B')]);
    const dir = tempDir();
    const map = path.join(dir, 'hosts.map');
    const blocked = path.join(dir, 'blocked.acl');
    fs.writeFileSync(map, 'one.example ba\n');
    fs.writeFileSync(blocked, '# blocked paths\n/admin\n');
    const sock = path.join(dir, 'stats.sock');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(`
${httpTestHead(sock)}frontend fe
  bind 127.0.0.1:${fp}
  acl blocked path -f ${blocked}
  http-request deny if blocked
  http-request set-map(${map}) %[req.hdr(x-learn)] bb if { req.hdr(x-learn) -m found }
  use_backend %[req.hdr(host),lower,map(${map},bb)]
backend ba
  server s 127.0.0.1:${a!.port}
backend bb
  server s 127.0.0.1:${b!.port}
`, [fp!]);
      const cli = (c: string) => cliCommand(sock, c);
      assert.equal(await who(fp!, 'one.example'), 'A');
      assert.equal(await who(fp!, 'two.example'), 'B');
      assert.equal(await cli(`add map ${map} two.example ba`), '\n');
      assert.equal(await who(fp!, 'two.example'), 'A', 'add map is seen by the next request');
      assert.equal(await cli(`set map ${map} two.example bb`), '\n');
      assert.equal(await who(fp!, 'two.example'), 'B');
      assert.equal(await cli(`del map ${map} one.example`), '\n');
      assert.equal(await who(fp!, 'one.example'), 'B', 'a deleted key falls back to the default');
      const shown = await cli(`show map ${map}`);
      assert.match(shown, /^0x[0-9a-f]+ two\.example bb$/m);
      assert.doesNotMatch(shown, /one\.example/);
      // ACL list
      assert.equal(await who(fp!, 'x', '/admin'), '403');
      assert.equal(await who(fp!, 'x', '/ops'), 'B');
      assert.equal(await cli(`add acl ${blocked} /ops`), '\n');
      assert.equal(await who(fp!, 'x', '/ops'), '403');
      assert.equal(await cli(`del acl ${blocked} /admin`), '\n');
      assert.equal(await who(fp!, 'x', '/admin'), 'B');
      // versions: prepare a new content, nothing changes until commit
      const prep = await cli(`prepare map ${map}`);
      const ver = /New version created: (\d+)/.exec(prep)?.[1];
      assert.ok(ver, `prepare map answered: ${prep}`);
      assert.equal(await cli(`add map @${ver} ${map} three.example ba`), '\n');
      assert.equal(await who(fp!, 'three.example'), 'B', 'not visible before commit');
      assert.equal(await who(fp!, 'two.example'), 'B');
      assert.equal(await cli(`commit map @${ver} ${map}`), '\n');
      assert.equal(await who(fp!, 'three.example'), 'A', 'visible after commit');
      assert.doesNotMatch(await cli(`show map ${map}`), /two\.example/, 'the old version is gone');
      // the set-map action writes to the same list
      await who(fp!, 'x\r\nX-Learn: learned.example');
      assert.match(await cli(`show map ${map}`), /learned\.example bb/);
      const list = await cli('show acl');
      assert.match(list, new RegExp(`pattern loaded from file '${blocked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    } finally {
      await closeAll([proxy, a, b]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
