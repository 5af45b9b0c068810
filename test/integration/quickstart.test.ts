// The README's quick start must work: examples/quickstart.mjs with examples/quickstart.cfg.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, freePorts, runCmd } from '../helpers/harness.js';

test('quick start serves through haproxy-ts and balances over the demo servers', { timeout: 30_000 }, async () => {
  const [port, d1, d2, d3] = await freePorts(4);
  const env = {
    ...process.env, QUICKSTART_ONESHOT: '1',
    QS_PORT: String(port), QS_DEMO1: String(d1), QS_DEMO2: String(d2), QS_DEMO3: String(d3),
  };
  const r = await runCmd(process.execPath, [path.join(ROOT, 'examples', 'quickstart.mjs')], { env, timeoutMs: 25_000 });
  assert.equal(r.code, 0, r.stderr);
  const hellos = r.stdout.split('\n').filter((l) => l.includes('hello from demo'));
  assert.equal(hellos.length, 4, r.stdout);
  const names = new Set(hellos.map((l) => /demo(\d)/.exec(l)![1]));
  assert.ok(names.size >= 2, `connections spread over several servers: ${[...names].join(',')}`);
  assert.match(r.stdout, new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
  // the example also serves Prometheus metrics and logs every request (httplog on stdout)
  const m = /Prometheus metrics at \/metrics: (\d+) samples/.exec(r.stdout);
  assert.ok(m && Number(m[1]) > 50, r.stdout);
  assert.match(r.stdout, / demo demo\/demo\d \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- .*"GET \/ HTTP\/1\.1"/);
});
