// The data plane without raw handles: HAPROXY_TS_RAW_SOCKETS=0 makes haproxy-ts use net.Socket
// (src/net/raw-socket.ts). The TCP, HTTP, PROXY-protocol and rough-traffic suites run again in that
// mode, in a child test run, and must pass there too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITES = ['tcp-forwarding.test.js', 'http-mode.test.js', 'proxy-protocol.test.js', 'chaos.test.js'].map((f) => path.join(here, f));

test('TCP, HTTP, PROXY-protocol and rough-traffic suites pass on net.Socket (HAPROXY_TS_RAW_SOCKETS=0)', { timeout: 300_000 }, async () => {
  // NODE_TEST_CONTEXT (set for files run by `node --test`) would make the child report to us
  // through the runner's own channel instead of printing its results
  const env: NodeJS.ProcessEnv = { ...process.env, HAPROXY_TS_RAW_SOCKETS: '0' };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...SUITES], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 280_000);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  const num = (k: string): number => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  const failed = out.split('\n').filter((l) => /^\s*not ok /.test(l) && !/# (TODO|SKIP)/.test(l));
  assert.equal(code, 0, `child run failed:\n${failed.join('\n')}\n${out.slice(-3000)}`);
  assert.ok(num('pass') >= 60, `expected the suites' tests to run, got ${num('pass')} passing`);
  assert.equal(num('fail'), 0);
});
