// The command line without traffic: -c check mode and its diagnostics, -f <dir>, -cc, -v, -dK,
// -q, -dW, environment expansion.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN, freePorts, tempDir, writeConfig, runCmd, startProxy, tcpExchange, startTestServer, closeAll, type Proc,
} from '../helpers/harness.js';

/** Temp dirs made by this file, removed at the end. */
const dirs: string[] = [];
function trackedDir(prefix?: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const T = { timeout: 15_000 };

const HEAD = `global
  maxconn 100

defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

const VALID = `${HEAD}
frontend fe
  bind 127.0.0.1:18080
  default_backend be

backend be
  balance roundrobin
  server s1 127.0.0.1:18081 weight 10
  server s2 127.0.0.1:18082 weight 20
`;

/** 1-based line number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `'${needle}' not in config`);
  return i + 1;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs `-c` on `text`; returns the result and the config path. */
async function check(text: string, extraArgs: string[] = [], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; file: string }> {
  const dir = trackedDir('hts-check-');
  const file = writeConfig(dir, text);
  const r = await runCmd(BIN, [...extraArgs, '-c', '-f', file], { timeoutMs: 10_000, env });
  return { ...r, file };
}

/** Asserts `-c` fails with an ALERT pointing at [file:line] and matching `msg`. */
async function expectAlert(text: string, needle: string, msg: RegExp): Promise<void> {
  const r = await check(text);
  assert.equal(r.code, 1, `exit status 1 expected\n${r.stderr}`);
  assert.equal(r.stdout.includes('Configuration file is valid'), false);
  const line = lineOf(text, needle);
  const alerts = r.stderr.split('\n').filter((l) => l.startsWith('[ALERT]'));
  const hit = alerts.find((l) => l.includes(`[${r.file}:${line}]`) && msg.test(l));
  assert.ok(hit, `no ALERT with [${r.file}:${line}] matching ${msg}; stderr:\n${r.stderr}`);
}

describe('check mode and command line', { concurrency: 4 }, () => {
  it('-c on a valid configuration prints "Configuration file is valid" and exits 0', T, async () => {
    const r = await check(VALID);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Configuration file is valid\n');
    assert.equal(r.stderr.includes('[ALERT]'), false, r.stderr);
  });

  it('-q -c on a valid configuration prints nothing', T, async () => {
    const r = await check(VALID, ['-q']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  });

  it('unknown keyword: ALERT with [file:line] and a "did you mean" suggestion', T, async () => {
    const text = `${HEAD}
backend be
  balanse roundrobin
  server s1 127.0.0.1:18081
`;
    await expectAlert(text, 'balanse', /unknown keyword 'balanse'.*did you mean 'balance'/);
  });

  it('unknown keyword in the global section', T, async () => {
    const text = `global
  maxconnn 100
${VALID.slice('global\n  maxconn 100\n'.length)}`;
    await expectAlert(text, 'maxconnn', /unknown keyword 'maxconnn' in 'global' section.*did you mean 'maxconn'/);
  });

  it('bad server weight', T, async () => {
    const text = `${HEAD}
backend be
  server s1 127.0.0.1:18081 weight 300
`;
    await expectAlert(text, 'weight 300', /weight/);
  });

  it('non-numeric server weight', T, async () => {
    const text = `${HEAD}
backend be
  server s1 127.0.0.1:18081 weight heavy
`;
    await expectAlert(text, 'weight heavy', /weight/);
  });

  it('bind without port', T, async () => {
    const text = `${HEAD}
frontend fe
  bind 127.0.0.1
  default_backend be
backend be
  server s1 127.0.0.1:18081
`;
    await expectAlert(text, 'bind 127.0.0.1', /'bind'.*missing port/);
  });

  it('duplicate backend name', T, async () => {
    const text = `${HEAD}
backend be
  server s1 127.0.0.1:18081

backend be
  server s2 127.0.0.1:18082
`;
    const second = text.split('\n').map((l, i) => (l === 'backend be' ? i + 1 : 0)).filter(Boolean)[1]!;
    const r = await check(text);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`\\[ALERT\\].*\\[${esc(r.file)}:${second}\\].*backend 'be' has the same name as backend 'be'`));
  });

  it('unknown default_backend', T, async () => {
    const text = `${HEAD}
frontend fe
  bind 127.0.0.1:18080
  default_backend nowhere
`;
    const r = await check(text);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\[ALERT\].*unable to find required default_backend: 'nowhere'/);
    const line = lineOf(text, 'frontend fe');
    assert.ok(r.stderr.includes(`[${r.file}:${line}]`) || r.stderr.includes(`[${r.file}:${lineOf(text, 'default_backend nowhere')}]`), r.stderr);
  });

  it('.if with an unknown predicate', T, async () => {
    const text = `${HEAD}
.if bogus_predicate(1)
frontend fe
  bind 127.0.0.1:18080
.endif
`;
    await expectAlert(text, '.if bogus', /unparsable conditional expression/);
  });

  it('.if/.else selects sections (a false branch is not parsed)', T, async () => {
    const text = `${HEAD}
.if version_atleast(99.0)
this is not a keyword at all
.else
backend be
  server s1 127.0.0.1:18081
.endif
`;
    const r = await check(text);
    assert.equal(r.code, 0, r.stderr);
  });

  it('mode log is reported as not supported yet', T, async () => {
    const text = `${HEAD}
listen web
  mode log
  bind 127.0.0.1:18080
  server s1 127.0.0.1:18081
`;
    await expectAlert(text, 'mode log', /'mode log'.*not supported yet/);
  });

  it('an action not built yet is reported as not supported yet, with file and line', T, async () => {
    const text = `${HEAD}
listen web
  bind 127.0.0.1:18080
  http-request cache-use c
  server s1 127.0.0.1:18081
`;
    await expectAlert(text, 'http-request cache-use', /\[.*:\d+\].*'http-request cache-use' is not supported yet/);
  });

  it('an unknown fetch in an ACL is an error naming file and line', T, async () => {
    const text = `${HEAD}
listen web
  bind 127.0.0.1:18080
  acl a nosuchfetch foo
  server s1 127.0.0.1:18081
`;
    await expectAlert(text, 'nosuchfetch', /\[.*:\d+\].*unknown fetch method 'nosuchfetch'/);
  });

  it('warnings do not fail -c, but -dW makes them fatal', T, async () => {
    const text = `global
  maxconn 100
listen notimeouts
  bind 127.0.0.1:18080
  server s1 127.0.0.1:18081
`;
    const r = await check(text);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[WARNING\].*missing timeouts/);
    assert.equal(r.stdout, 'Configuration file is valid\n');
    const r2 = await check(text, ['-dW']);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /\[ALERT\]/);
  });

  it('-f <dir> loads *.cfg files in lexical order, ignoring other and hidden files', T, async () => {
    const dir = trackedDir('hts-cfgdir-');
    // "10-…" sorts before "9-…" lexically: the named defaults must be known when the listen uses it
    writeConfig(dir, `defaults base
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
backend be_first
  server s1 127.0.0.1:18081
`, '10-defaults.cfg');
    writeConfig(dir, `listen l from base
  bind 127.0.0.1:18080
  server s1 127.0.0.1:18082
frontend fe from base
  bind 127.0.0.1:18083
  default_backend be_first
`, '9-proxies.cfg');
    writeConfig(dir, 'garbage that would not parse\n', 'README.txt');
    writeConfig(dir, 'garbage that would not parse\n', '.hidden.cfg');
    writeConfig(dir, 'garbage that would not parse\n', 'x.cfg.bak');
    const r = await runCmd(BIN, ['-c', '-f', dir], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Configuration file is valid\n');
    assert.equal(r.stderr.includes('[WARNING]'), false, r.stderr);
    // and when the order is reversed the reference breaks, proving the order matters
    fs.renameSync(path.join(dir, '9-proxies.cfg'), path.join(dir, '0-proxies.cfg'));
    fs.renameSync(path.join(dir, '10-defaults.cfg'), path.join(dir, '1-defaults.cfg'));
    const r2 = await runCmd(BIN, ['-c', '-f', dir], { timeoutMs: 10_000 });
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /\[ALERT\].*0-proxies\.cfg:1\].*defaults section 'base' not found/);
  });

  it('several -f options are loaded in order', T, async () => {
    const dir = trackedDir('hts-multi-');
    const a = writeConfig(dir, `${HEAD}\nbackend be\n  server s1 127.0.0.1:18081\n`, 'a.conf');
    const b = writeConfig(dir, `frontend fe\n  bind 127.0.0.1:18080\n  default_backend be\n`, 'b.conf');
    const r = await runCmd(BIN, ['-c', '-f', a, '-f', b], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
  });

  it('a missing configuration file is an error', T, async () => {
    const r = await runCmd(BIN, ['-c', '-f', '/nonexistent/hts/haproxy.cfg'], { timeoutMs: 10_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[ALERT\].*\/nonexistent\/hts\/haproxy\.cfg/);
  });

  it('-cc evaluates conditions: 0 true, 1 false, 2 malformed', T, async () => {
    const cases: [string, number][] = [
      ['version_atleast(3.0)', 0],
      ['version_before(3.0)', 1],
      ['version_before(4.0)', 0],
      ['feature(OPENSSL)', 1],
      ['!feature(OPENSSL)', 0],
      ['version_atleast(3.0', 2],
      ['no_such_predicate(1)', 2],
    ];
    const results = await Promise.all(cases.map(([expr]) => runCmd(BIN, ['-cc', expr], { timeoutMs: 10_000 })));
    cases.forEach(([expr, want], i) => assert.equal(results[i]!.code, want, `-cc '${expr}': ${results[i]!.stderr}`));
    assert.match(results[5]!.stderr, /\[ALERT\]/);
  });

  it('-v prints the version', T, async () => {
    const r = await runCmd(BIN, ['-v'], { timeoutMs: 10_000 });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^HAProxy version 3\.2/);
  });

  it('-dKcfg lists configuration keywords, including "bind <addr> accept-proxy"', T, async () => {
    const r = await runCmd(BIN, ['-dKcfg'], { timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s*bind <addr> accept-proxy\s*$/m);
    assert.match(r.stdout, /^\s*timeout client\b/m);
  });

  it('${VAR} from the environment is expanded in a bind line (check and run)', T, async () => {
    const back = await startTestServer('env-back');
    const [fp] = await freePorts(1);
    const dir = trackedDir('hts-env-');
    const text = `${HEAD}
listen l
  bind "\${HTS_TEST_ADDR}:\${HTS_TEST_PORT}"
  server s1 127.0.0.1:${back.port}
`;
    const file = writeConfig(dir, text);
    const env = { ...process.env, HTS_TEST_ADDR: '127.0.0.1', HTS_TEST_PORT: String(fp) };
    let proxy: Proc | undefined;
    try {
      const r = await runCmd(BIN, ['-c', '-f', file], { timeoutMs: 10_000, env });
      assert.equal(r.code, 0, r.stderr);
      proxy = await startProxy(BIN, ['-f', file], [fp!], { env });
      assert.equal(await tcpExchange(fp!, 'x'), 'env-back\n');
    } finally {
      await closeAll([proxy, back]);
    }
  });
});
