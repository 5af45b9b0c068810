// Server state file: keywords (messages from HAProxy 2.6 -c), file/line parsing, the rules that
// apply a saved line (observed with HAProxy 2.6 and a hand-made state file).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';
import { splitStateFile, parseStateLine, stateFilePath, applyServerStateFile, type Messages } from '../../src/checks/state-file.js';

const alerts = (r: ReturnType<typeof parseConfigText>) => r.diags.filter((d) => d.level === 'ALERT').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);
const warnings = (r: ReturnType<typeof parseConfigText>) => r.diags.filter((d) => d.level === 'WARNING').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);

test('keywords: messages as HAProxy 2.6 prints them', () => {
  const r = parseConfigText(`global
  server-state-file
  server-state-base
  server-state-file a b
  server-state-file x
defaults
  load-server-state-from-file
  load-server-state-from-file foo
  server-state-file-name x
backend b
  load-server-state-from-file local x
  server-state-file-name
  server-state-file-name a b
  server s 127.0.0.1:1
frontend f
  load-server-state-from-file local
  server-state-file-name x
  bind 127.0.0.1:1
`);
  assert.deepEqual(alerts(r), [
    `2:'server-state-file' expect one argument: a file path.`,
    `3:'server-state-base' expects one argument: a directory path.`,
    `5:'server-state-file' already specified. Continuing.`,
    `7:'load-server-state-from-file' expects 'global', 'local' or 'none'. Got ''`,
    `8:'load-server-state-from-file' expects 'global', 'local' or 'none'. Got 'foo'`,
    `13:'server-state-file-name' cannot handle unexpected argument 'b'.`,
  ]);
  assert.deepEqual(warnings(r).filter((w) => /capability/.test(w)), [
    `16:'load-server-state-from-file' ignored because frontend 'f' has no backend capability.`,
    `17:'server-state-file-name' ignored because frontend 'f' has no backend capability.`,
  ]);
  assert.equal(r.config.global.serverStateFile, 'a');
  const b = r.config.proxies.find((p) => p.name === 'b')!;
  assert.equal(b.options.loadServerState, 'local');
  assert.equal(b.options.serverStateFileName, undefined); // "server-state-file-name" alone: the backend's name
});

test('state file path, version line, data lines', () => {
  assert.equal(stateFilePath('/abs', '/base'), '/abs');
  assert.equal(stateFilePath('rel', '/base'), '/base/rel');
  assert.equal(stateFilePath('rel', '/base/'), '/base/rel');
  assert.equal(stateFilePath('rel', undefined), 'rel');
  assert.deepEqual(splitStateFile(''), { version: -1, lines: [] });
  assert.equal(splitStateFile('2\n').version, 0);
  assert.equal(splitStateFile('1 \n').version, 0);
  assert.equal(splitStateFile('x\n').version, 0);
  assert.deepEqual(splitStateFile('1\n# h\na'), { version: 1, lines: ['# h\n', 'a'] });
  const f: string[] = [];
  assert.equal(parseStateLine('# comment\n', f), 0);
  assert.equal(parseStateLine('   \n', f), 0);
  assert.equal(parseStateLine('1 b 1 s\n', f), -1); // too few fields
  const twenty = '1 b 1 s 127.0.0.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 -';
  assert.equal(parseStateLine(`${twenty}\n`, f), 1);
  assert.equal(f.length, 20);
  assert.equal(parseStateLine(twenty, f), -1); // no end of line: truncated
  assert.equal(parseStateLine(`\t${twenty} 0 0 - - 0\n`, f), 1);
  assert.equal(f.length, 25);
});

const HDR = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n';
const line = (be: string, id: number, name: string, op: number, admin: number | string, uw: number, iw: number, beId = 2, port = 42526) =>
  `${beId} ${be} ${id} ${name} 127.0.0.1 ${op} ${admin} ${uw} ${iw} 100 1 0 0 6 0 0 0 - ${port} - 0 0 - - 0\n`;

function run(cfg: string, files: Record<string, string>): { rt: Runtime; msgs: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-state-'));
  for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
  const r = parseConfigText(cfg.replaceAll('@DIR@', dir));
  assert.deepEqual(alerts(r), []);
  const rt = new Runtime(r.config);
  const msgs: string[] = [];
  const m: Messages = { warn: (x) => msgs.push(`W:${x}`), notice: (x) => msgs.push(`N:${x}`), alert: (x) => msgs.push(`A:${x}`) };
  applyServerStateFile(rt, m);
  for (const p of rt.proxies) for (const s of p.servers) s.healthCheck?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rt, msgs };
}

const CFG = `global
  server-state-file @DIR@/state
defaults
  mode tcp
  load-server-state-from-file global
backend b
  server s1 127.0.0.1:42526 check inter 1000 weight 10
  server s2 127.0.0.1:42526 weight 20
  server s3 127.0.0.1:42526 check inter 1000 weight 30
  server s4 127.0.0.1:42526 weight 40
  server s5 127.0.0.1:42526 weight 50
  server s6 127.0.0.1:42526 weight 60 disabled
backend c
  load-server-state-from-file local
  server-state-file-name @DIR@/cstate
  server x 127.0.0.1:42526 weight 5
backend d
  load-server-state-from-file none
  server y 127.0.0.1:42526 weight 5
`;

test('applying a saved state: the cases observed with HAProxy 2.6', () => {
  const { rt, msgs } = run(CFG, {
    state: HDR + line('b', 1, 's1', 0, 0, 10, 10) + line('b', 2, 's2', 0, 0, 7, 20) + line('b', 3, 's3', 2, 1, 3, 30) +
      line('b', 4, 's4', 2, 8, 4, 99) + line('b', 5, 's5', 2, 9, 4, 50) + line('b', 6, 's6', 2, 0, 60, 60) +
      line('b', 7, 'zz', 2, 0, 4, 50) + line('d', 1, 'y', 2, 1, 5, 5, 4),
    cstate: '1\n# x\n' + line('c', 1, 'x', 2, 1, 5, 5, 9) + line('c', 2, 'y', 2, 1, 5, 5, 9),
  });
  const srv = (be: string, n: string) => rt.findProxy(be)!.servers.find((s) => s.name === n)!;
  // expected: HAProxy 2.6's "show stat" after loading the same file: s1 DOWN 1/2 weight 10,
  // s2 DOWN weight 7, s3 MAINT, s4 DRAIN 40, s5 no check 50 (line refused), s6 MAINT, c/x MAINT
  assert.equal(srv('b', 's1').up, false);
  assert.equal(srv('b', 's1').healthCheck!.health, 0);
  assert.equal(srv('b', 's2').up, false);
  assert.equal(srv('b', 's2').uweight, 7);
  assert.equal(srv('b', 's3').admin, 'maint');
  assert.equal(srv('b', 's3').uweight, 3); // 2.6's "show servers state" then reports uweight 3
  assert.equal(srv('b', 's4').admin, 'drain');
  assert.equal(srv('b', 's4').uweight, 40);
  assert.equal(srv('b', 's5').admin, 'ready');
  assert.equal(srv('b', 's5').up, true);
  assert.equal(srv('b', 's6').admin, 'maint');
  assert.equal(srv('c', 'x').admin, 'maint');
  assert.equal(srv('d', 'y').admin, 'ready');
  assert.ok(Math.abs((Date.now() - srv('b', 's3').lastChange) / 1000 - 100) < 2);
  assert.deepEqual(msgs, [
    `W:Server b/s1 is DOWN, changed from server-state after a reload. 4 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
    `W:Server b/s2 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`,
    `W:Server b/s4 remains in forced drain mode.`,
    `W:server-state application failed for server 'b/s5', invalid srv_admin_state value '9'`,
    `W:Proxy 'c': backend ID mismatch: from server state file: '9', from running config '${rt.findProxy('c')!.id}'`,
    `W:Proxy 'c': backend ID mismatch: from server state file: '9', from running config '${rt.findProxy('c')!.id}'`,
    `W:Proxy 'c': can't find server 'y' in backend 'c'`,
  ]);
});

test('saved port is applied; a 20-field line is enough; a backup server going down', () => {
  const { rt, msgs } = run(`global
  server-state-file state
  server-state-base @DIR@
backend b
  load-server-state-from-file global
  server s1 127.0.0.1:42526 weight 10
  server s2 127.0.0.1:42526 weight 10 backup
`, { state: HDR + line('b', 1, 's1', 2, 0, 10, 10, 2, 42999) + '2 b 2 s2 127.0.0.1 0 0 10 10 100 1 0 0 0 0 0 0 - 42526 -\n' });
  assert.equal(rt.findProxy('b')!.servers[0]!.port, 42999);
  assert.equal(rt.findProxy('b')!.servers[1]!.up, false);
  assert.deepEqual(msgs, [`W:Backup Server b/s2 is DOWN, changed from server-state after a reload. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`]);
});

test('unusable files: missing, empty, wrong version, corrupted line (nothing applied)', () => {
  const cfg = (f: string) => `global\n  server-state-file @DIR@/${f}\nbackend b\n  load-server-state-from-file global\n  server s1 127.0.0.1:1\n`;
  assert.match(run(cfg('none'), {}).msgs[0]!, /^N:config: Can't open global server state file '.*\/none': No such file or directory$/);
  assert.match(run(cfg('e'), { e: '' }).msgs[0]!, /^N:config: Empty global server state file '.*\/e'\.$/);
  assert.match(run(cfg('v'), { v: '2\n' }).msgs[0]!, /^W:config: Can't get version of the global server state file '.*\/v'\.$/);
  const c = run(cfg('c'), { c: '1\n# h\n2 b 1 s1 127.0.0.1 0 1 10 10 100 1 0 0 6 0 0 0 - 42999\n' });
  // HAProxy 2.6 says "at line 2" for the third line of the file (it counts from the header)
  assert.match(c.msgs[0]!, /^W:config: corrupted global server state file '.*\/c' at line 2\.$/);
  assert.equal(c.rt.findProxy('b')!.servers[0]!.admin, 'ready');
  // a last line without its end of line is corrupted too
  const t = run(cfg('t'), { t: HDR + line('b', 1, 's1', 2, 1, 1, 1).trimEnd() });
  assert.match(t.msgs[0]!, /corrupted global server state file .* at line 2\./);
  assert.equal(t.rt.findProxy('b')!.servers[0]!.admin, 'ready');
});

test('configuration wins: weight changed in the configuration, server enabled/disabled in the configuration, drain from a zero weight', () => {
  const { rt } = run(`global
  server-state-file @DIR@/s
defaults
  load-server-state-from-file global
backend b
  server w 127.0.0.1:1 weight 15
  server e 127.0.0.1:1
  server d 127.0.0.1:1 disabled
  server z 127.0.0.1:1 weight 5
  server k 127.0.0.1:1 weight 0
`, { s: HDR + line('b', 1, 'w', 2, 0, 3, 10) + line('b', 2, 'e', 0, 5, 1, 1) + line('b', 3, 'd', 2, 0, 1, 1) +
    line('b', 4, 'z', 2, 8, 0, 0) + line('b', 5, 'k', 2, 8, 0, 0) });
  const s = (n: string) => rt.findProxy('b')!.servers.find((x) => x.name === n)!;
  assert.equal(s('w').uweight, 15); // iweight 10 in the file, 15 now: the configuration's weight
  assert.equal(s('e').admin, 'ready'); // was disabled in the old configuration, not anymore
  assert.equal(s('d').admin, 'maint'); // disabled now
  assert.equal(s('z').admin, 'ready'); // drain came from the old zero weight: dropped
  assert.equal(s('k').admin, 'drain'); // still zero: kept
});
