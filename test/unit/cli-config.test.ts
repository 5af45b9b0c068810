// `stats socket`, `stats timeout`, `stats maxconn` in the global section.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/config/global-keywords.js';
import '../../src/ops/cli.js';
import { parseConfigFiles } from '../../src/config/parser.js';
import { condContext } from '../../src/cli/main.js';
import { Runtime } from '../../src/proxy/runtime.js';
import type { CliSocketConfig } from '../../src/ops/cli-state.js';
import { serverStateLine } from '../../src/checks/cli-checks.js';

let dir = '';
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-cli-config-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function parse(globalLines: string, rest = '') {
  const f = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(f, `global\n${globalLines}\ndefaults\n  mode tcp\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nlisten l\n  bind 127.0.0.1:1\n  server s 127.0.0.1:2\n${rest}`);
  return parseConfigFiles([f], condContext());
}
const alerts = (r: ReturnType<typeof parse>): string[] => r.diags.filter((d) => d.level === 'ALERT').map((d) => d.msg);

describe('stats socket', () => {
  it('defaults to level operator and accepts the documented options', () => {
    const r = parse(`  stats socket /tmp/a.sock
  stats socket /tmp/b.sock mode 600 level admin name cli maxconn 3 backlog 7 severity-output number uid 0 gid 0
  stats socket ipv4@127.0.0.1:9999 level user
  stats socket [::1]:9998 v6only
  stats socket abns@hts-cli
  stats socket unix@/tmp/c.sock`);
    assert.deepEqual(alerts(r), []);
    const s = r.config.global.statsSockets as CliSocketConfig[];
    assert.equal(s.length, 6);
    assert.equal(s[0]!.level, 'operator');
    assert.equal(s[0]!.address.family, 'unix');
    assert.equal(s[0]!.address.host, '/tmp/a.sock');
    assert.equal(s[1]!.level, 'admin');
    assert.equal(s[1]!.mode, 0o600);
    assert.equal(s[1]!.name, 'cli');
    assert.equal(s[1]!.maxconn, 3);
    assert.equal(s[1]!.backlog, 7);
    assert.equal(s[1]!.uid, 0);
    assert.equal(s[1]!.gid, 0);
    assert.equal(s[1]!.severityOutput, 'number');
    assert.equal(s[2]!.address.family, 'ipv4');
    assert.equal(s[2]!.address.port, 9999);
    assert.equal(s[2]!.level, 'user');
    assert.equal(s[3]!.address.family, 'ipv6');
    assert.equal(s[3]!.v6only, true);
    assert.equal(s[4]!.address.family, 'abns');
    assert.equal(s[5]!.address.family, 'unix');
    assert.equal(s[5]!.where.line, 7);
  });

  it('reports errors', () => {
    const cases: [string, RegExp][] = [
      ['stats socket', /expects an address or a path to a UNIX socket/],
      ['stats socket /tmp/x level', /'level' : missing level/],
      ['stats socket /tmp/x level root', /'level' only supports 'user', 'operator', and 'admin' \(got 'root'\)/],
      ['stats socket /tmp/x severity-output loud', /'severity-output' only supports 'none', 'number', and 'string'/],
      ['stats socket /tmp/x expose-fd all', /'expose-fd' only supports 'listeners' \(got 'all'\)/],
      ['stats socket /tmp/x expose-fd listeners', /'expose-fd listeners' is not supported yet/],
      ['stats socket /tmp/x mode 999', /'mode'/],
      ['stats socket /tmp/x name', /'name' expects an argument/],
      ['stats socket /tmp/x bogus', /unknown keyword 'bogus'/],
      ['stats socket /tmp/x accept-proxy', /'accept-proxy' option is not supported yet on stats sockets/],
      ['stats socket /tmp/x ssl', /'ssl' option is not supported yet on stats sockets/],
      ['stats socket 127.0.0.1', /missing port/],
      ['stats socket 127.0.0.1:10-12', /port ranges/],
      ['stats socket 127.0.0.1:10 mode 600', /only applies to UNIX sockets/],
      ['stats timeout', /'stats timeout' expects a time value/],
      ['stats timeout 10x', /unexpected character/],
      ['stats timeout 0', /'stats timeout' expects a positive value/],
      ['stats maxconn 0', /'stats maxconn' expects a positive value/],
      ['stats maxconn x', /'stats maxconn' expects a positive value/],
    ];
    for (const [line, re] of cases) {
      const a = alerts(parse(`  ${line}`));
      assert.equal(a.length, 1, `${line}: ${JSON.stringify(a)}`);
      assert.match(a[0]!, re, line);
    }
  });
});

describe('stats timeout and maxconn', () => {
  it('sets the values, with time units', () => {
    const r = parse('  stats timeout 2m\n  stats maxconn 4');
    assert.deepEqual(alerts(r), []);
    assert.equal(r.config.global.statsTimeout, 120_000);
    assert.equal(r.config.global.statsMaxconn, 4);
    const d = parse('');
    assert.equal(d.config.global.statsTimeout, 10_000);
    assert.equal(d.config.global.statsMaxconn, 10);
  });
});

describe('forced ids', () => {
  it('tells forced ids from automatic ones', () => {
    const r = parse('', 'backend b\n  id 77\n  server x 127.0.0.1:1 id 5\n  server y 127.0.0.1:2\n');
    assert.deepEqual(alerts(r), []);
    const rt = new Runtime(r.config, { maxconnOverride: 10 });
    const b = rt.findProxy('b')!;
    const f = (name: string): string[] => serverStateLine(b, b.findServer(name)!).split(' ');
    assert.deepEqual([f('x')[15], f('x')[16]], ['1', '1']);
    assert.deepEqual([f('y')[15], f('y')[16]], ['1', '0']);
    const l = rt.findProxy('l')!;
    assert.equal(serverStateLine(l, l.servers[0]!).split(' ')[15], '0');
  });
});
