// Server state across a restart: states set on the runtime API of a running haproxy-ts are saved
// with `echo "show servers state" | socat`, and a new process built on the same configuration
// with `server-state-file` restores them. The second start is done in this process (parse,
// Runtime, applyServerStateFile) until the command line calls applyServerStateFile itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePorts, startProxyWithConfig, startTestServer, closeAll, waitFor, tempDir, runCmd, cliCommand, type Proc } from '../helpers/harness.js';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';
import { applyServerStateFile } from '../../src/checks/state-file.js';
import { renderServersState } from '../../src/checks/cli-checks.js';

const T = { timeout: 30_000 };

// the first process runs without the state keywords: the command line does not load
// src/checks/state-file.ts yet (see the file comment)
function config(sock: string, state: string | undefined, fp: number, sp: number): string {
  return `global
  stats socket ${sock} level admin
${state ? `  server-state-file ${state}` : ''}
defaults
  mode tcp
  timeout connect 500ms
  timeout client 5s
  timeout server 5s
${state ? '  load-server-state-from-file global' : ''}
backend b
  server s1 127.0.0.1:${sp} weight 10
  server s2 127.0.0.1:${sp} weight 20
  server s3 127.0.0.1:${sp} weight 30
  server s4 127.0.0.1:${sp} weight 40
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
`;
}

describe('server state file', () => {
  it('states saved with show servers state are restored at the next start', T, async () => {
    const dir = tempDir();
    const sock = path.join(dir, 'sock');
    const state = path.join(dir, 'state');
    const srv = await startTestServer('s');
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(config(sock, undefined, fp!, srv.port), [fp!]);
      // the stats socket is bound after the frontends
      await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
      for (const c of ['disable server b/s1', 'set server b/s2 state drain', 'set weight b/s3 7']) {
        assert.equal((await cliCommand(sock, c)).trim(), '');
      }
      const haveSocat = (await runCmd('sh', ['-c', 'command -v socat'])).code === 0;
      let dump: string;
      if (haveSocat) {
        const r = await runCmd('sh', ['-c', `echo "show servers state" | socat - UNIX-CONNECT:${sock} > ${state}`]);
        assert.equal(r.code, 0, r.stderr);
        dump = fs.readFileSync(state, 'latin1');
      } else {
        dump = await cliCommand(sock, 'show servers state');
        fs.writeFileSync(state, dump);
      }
      assert.match(dump, /^1\n# be_id /);
      await proxy.stop();
      proxy = undefined;

      // second start on the same configuration
      const r = parseConfigText(config(path.join(dir, 'sock2'), state, fp!, srv.port));
      assert.equal(r.fatal, false);
      const rt = new Runtime(r.config);
      const msgs: string[] = [];
      applyServerStateFile(rt, { warn: (m) => msgs.push(m), notice: (m) => msgs.push(m), alert: (m) => msgs.push(m) });
      const be = rt.findProxy('b')!;
      const s = (n: string) => be.servers.find((x) => x.name === n)!;
      assert.equal(s('s1').admin, 'maint');
      assert.equal(s('s2').admin, 'drain');
      assert.equal(s('s3').uweight, 7);
      assert.equal(s('s3').admin, 'ready');
      assert.equal(s('s4').admin, 'ready');
      assert.equal(s('s4').uweight, 40);
      // as HAProxy 2.6 prints them for the same lines (a server saved in maintenance is saved
      // DOWN, and the DOWN comes before the maintenance)
      assert.deepEqual(msgs, [
        'Server b/s1 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        'Server b/s2 remains in forced drain mode.',
      ]);
      // the new process's dump shows the same states (op state, admin state, weights)
      const cols = (text: string) => text.split('\n').slice(2).filter(Boolean).map((l) => l.split(' ').slice(1, 9).filter((_, i) => i !== 1 && i !== 3).join(' '));
      assert.deepEqual(cols(renderServersState([be])), cols(dump));
      for (const p of rt.proxies) p.dispose();
    } finally {
      await closeAll([proxy, srv]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
