// Runtime API output formats: show info (plain, typed, json), show servers state, weights.
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
import { renderServersState, serverStateLine } from '../../src/checks/cli-checks.js';
import {
  formatUptime, formatPromptUptime, parseWeightChange, parseServerMaxconn, collectInfo, renderInfo,
  serverAdminState, serverOpState, INFO_FIELDS, SERVERS_STATE_COLUMNS,
  formatFloat, processVersion,
} from '../../src/ops/cli-format.js';
import { HAPROXY_VERSION } from '../../src/cli/version.js';

let dir = '';
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-cli-format-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

function runtime(text: string): Runtime {
  const f = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(f, text);
  const r = parseConfigFiles([f], condContext());
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  return new Runtime(r.config, { maxconnOverride: 500 });
}

const CFG = `
global
  node testnode
defaults
  mode tcp
  timeout client 1s
  timeout server 1s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:1
  default_backend be
backend be
  id 40
  server s1 127.0.0.1:8001 weight 10
  server s2 127.0.0.1:8002 disabled
  server s3 10.0.0.3:8003 id 9
  server u unix@/tmp/x.sock
backend st
  balance static-rr
  server a [::1]:9000 weight 4
`;

describe('time formats', () => {
  it('formats uptimes', () => {
    assert.equal(formatUptime(0), '0d 0h00m00s');
    assert.equal(formatUptime(3 * 86400 + 4 * 3600 + 5 * 60 + 6), '3d 4h05m06s');
    assert.equal(formatPromptUptime(86400 + 3600 + 61), '1:01:01:01');
    assert.equal(formatPromptUptime(5), '0:00:00:05');
  });
  it('formats floats like %f without trailing zeros', () => {
    assert.equal(formatFloat(1.5), '1.5');
    assert.equal(formatFloat(2), '2');
    assert.equal(formatFloat(166.054812345), '166.054812');
  });
});

describe('weights and maxconn', () => {
  it('parses absolute and relative weights like HAProxy', () => {
    assert.equal(parseWeightChange('20', 10, true), 20);
    assert.equal(parseWeightChange('50%', 10, true), 5);
    assert.equal(parseWeightChange('3000%', 10, true), 256);
    assert.equal(parseWeightChange('5%', 10, true), 0);
    assert.equal(parseWeightChange('+3', 10, true), 3);
    assert.equal(parseWeightChange('0', 10, true), 0);
    assert.equal(parseWeightChange('256', 10, true), 256);
    assert.equal(parseWeightChange('257', 10, true), 'Absolute weight can only be between 0 and 256 inclusive.');
    assert.equal(parseWeightChange('-1', 10, true), 'Absolute weight can only be between 0 and 256 inclusive.');
    assert.equal(parseWeightChange('-5%', 10, true), 'Relative weight must be positive.');
    assert.equal(parseWeightChange('abc', 10, true), 'Empty weight string empty or preceded by garbage');
    assert.equal(parseWeightChange('10x', 10, true), 'Trailing garbage in weight string');
    assert.equal(parseWeightChange('1.5', 10, true), 'Trailing garbage in weight string');
  });
  it('static algorithms only take 0 or the initial weight', () => {
    assert.equal(parseWeightChange('5', 4, false), "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.");
    assert.equal(parseWeightChange('0', 4, false), 0);
    assert.equal(parseWeightChange('100%', 4, false), 4);
    assert.equal(parseWeightChange('4', 4, false), 4);
  });
  it('parses server maxconn values', () => {
    assert.equal(parseServerMaxconn('12'), 12);
    assert.equal(parseServerMaxconn('abc'), 'maxconn string empty or preceded by garbage');
    assert.equal(parseServerMaxconn('5x'), 'Trailing garbage in maxconn string');
  });
});

describe('show info', () => {
  it('lists the fields in HAProxy order with true values', () => {
    const rt = runtime(CFG);
    const vals = collectInfo(rt);
    const names = vals.map((v) => v.field.name);
    assert.deepEqual(names.slice(0, 20), [
      'Name', 'Version', 'Release_date', 'Nbthread', 'Nbproc', 'Process_num', 'Pid', 'Uptime', 'Uptime_sec',
      'Memmax_MB', 'PoolAlloc_MB', 'PoolUsed_MB', 'PoolFailed', 'Ulimit-n', 'Maxsock', 'Maxconn', 'Hard_maxconn',
      'CurrConns', 'CumConns', 'CumReq',
    ]);
    assert.deepEqual(names.slice(-8), ['Tainted', 'TotalWarnings', 'MaxconnReached', 'BootTime_ms', 'Niced_tasks', 'CurrStreams', 'CumStreams', 'BlockedTrafficWarnings']);
    for (const n of ['Stopping', 'Jobs', 'Unstoppable Jobs', 'Listeners', 'ActivePeers', 'ConnectedPeers', 'DroppedLogs',
      'BusyPolling', 'FailedResolutions', 'TotalBytesOut', 'TotalSplicedBytesOut', 'BytesOutRate', 'DebugCommandsIssued',
      'CumRecvLogs', 'Build info', 'Memmax_bytes', 'PoolAlloc_bytes', 'PoolUsed_bytes', 'Start_time_sec', 'node']) {
      assert.ok(names.includes(n), n);
    }
    assert.ok(!names.includes('description'), 'description only when configured');
    assert.ok(!names.includes('MaxSslConns'), 'no SSL fields without OpenSSL');
    const text = renderInfo(vals, 'plain', false);
    assert.match(text, /^Name: HAProxy\nVersion: /);
    assert.match(text, new RegExp(`\\nPid: ${process.pid}\\n`));
    assert.match(text, /\nMaxconn: 500\n/);
    assert.match(text, /\nHard_maxconn: 500\n/);
    assert.match(text, /\nCurrConns: 0\n/);
    assert.match(text, /\nnode: testnode\n/);
    assert.match(text, /\nUptime: 0d 0h00m0\ds\n/);
    assert.ok(processVersion().startsWith(HAPROXY_VERSION));
    // positions are increasing and unique
    const pos = INFO_FIELDS.map((f) => f.pos);
    assert.deepEqual(pos, [...pos].sort((a, b) => a - b));
    assert.equal(new Set(pos).size, pos.length);
  });

  it('has typed, json and description variants', () => {
    const rt = runtime(CFG);
    const vals = collectInfo(rt);
    const typed = renderInfo(vals, 'typed', false).split('\n');
    assert.equal(typed[0], '0.Name.1:POS:str:HAProxy');
    assert.match(typed[6]!, new RegExp(`^6\\.Pid\\.1:SGP:u32:${process.pid}$`));
    assert.ok(typed.some((l) => /^61\.TotalBytesOut\.1:MGP:u64:\d+$/.test(l)));
    const desc = renderInfo(vals, 'plain', true).split('\n');
    assert.match(desc[0]!, /^Name: HAProxy:".+"$/);
    const json = JSON.parse(renderInfo(vals, 'json', false)) as { field: { pos: number; name: string }; processNum: number; tags: Record<string, string>; value: { type: string; value: unknown } }[];
    assert.deepEqual(json[0], { field: { pos: 0, name: 'Name' }, processNum: 1, tags: { origin: 'Product', nature: 'Output', scope: 'Service' }, value: { type: 'str', value: 'HAProxy' } });
    const pid = json.find((j) => j.field.name === 'Pid')!;
    assert.deepEqual(pid.tags, { origin: 'Status', nature: 'Gauge', scope: 'Process' });
    assert.equal(pid.value.value, process.pid);
    const fl = collectInfo(rt, true).find((v) => v.field.name === 'Start_time_sec')!;
    assert.equal(typeof fl.value, 'number');
  });

  it('shows the description when configured', () => {
    const rt = runtime(`global\n  description my box\n${CFG}`);
    assert.match(renderInfo(collectInfo(rt), 'plain', false), /\nnode: .*\ndescription: my box\nStopping: 0\n/);
  });
});

describe('show servers state', () => {
  it('prints the version line, the header and one line per server', () => {
    const rt = runtime(CFG);
    const now = Date.now();
    const out = renderServersState(rt.proxies.filter((p) => p.isBackend), now).split('\n');
    assert.equal(out[0], '1');
    assert.equal(out[1], `# ${SERVERS_STATE_COLUMNS.join(' ')}`);
    assert.equal(SERVERS_STATE_COLUMNS.length, 25);
    assert.equal(out[2], '40 be 1 s1 127.0.0.1 2 0 10 10 0 1 0 2 0 0 1 0 - 8001 - 0 0 - - 0');
    assert.equal(out[3], '40 be 2 s2 127.0.0.1 0 5 1 1 0 1 0 0 8 0 1 0 - 8002 - 0 0 - - 0');
    assert.equal(out[4], '40 be 9 s3 10.0.0.3 2 0 1 1 0 1 0 2 0 0 1 1 - 8003 - 0 0 - - 0');
    assert.equal(out[5], '40 be 3 u - 2 0 1 1 0 1 0 2 0 0 1 0 - 0 - 0 0 - - 0');
    const st = rt.findProxy('st')!;
    assert.equal(out[6], `${st.id} st 1 a ::1 2 0 4 4 0 1 0 2 0 0 0 0 - 9000 - 0 0 - - 0`);
    assert.equal(out[7], '');
  });

  it('encodes administrative changes', () => {
    const rt = runtime(CFG);
    const be = rt.findProxy('be', 'backend')!;
    const s1 = be.findServer('s1')!;
    s1.setAdmin('drain');
    assert.equal(serverAdminState(s1), 0x08);
    assert.equal(serverOpState(s1), 2);
    s1.setAdmin('maint');
    assert.equal(serverAdminState(s1), 0x01);
    assert.equal(serverOpState(s1), 0);
    const s2 = be.findServer('s2')!;
    s2.setAdmin('ready');
    assert.equal(serverAdminState(s2), 0x04, 'the configuration flag stays');
    assert.equal(serverOpState(s2), 2);
    const line = serverStateLine(be, s1, s1.lastChange + 3500).split(' ');
    assert.equal(line[5], '0');
    assert.equal(line[6], '1');
    assert.equal(line[9], '3', 'seconds since the last change');
  });
});
