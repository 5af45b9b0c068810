// show stat (CSV, typed, json), show info, show schema json and clear counters on the running
// binary: a frontend, a backend with a live checked server and a dead one, five HTTP requests.
// Expected values are those haproxy 2.6 gives for the same configuration and traffic.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { BIN, freePorts, startProxy, tempDir, writeConfig, waitFor, cliCommand, closeAll, type Proc } from '../helpers/harness.js';
import { parseStatsCsv as parseCsv, statsTestHead } from '../helpers/stats.js';

const T = { timeout: 30_000 };

export function get(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: 5000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

export function statsConfig(sock: string, fePort: number, livePort: number, deadPort: number): string {
  return `${statsTestHead(sock, fePort)}  server s1 127.0.0.1:${livePort} check inter 300
  server s2 127.0.0.1:${deadPort} check inter 300
`;
}

export async function startLive(port: number): Promise<http.Server> {
  const srv = http.createServer((q, r) => { r.writeHead(q.url === '/404' ? 404 : 200, { 'content-type': 'text/plain' }); r.end('hello\n'); });
  await new Promise<void>((res) => srv.listen(port, '127.0.0.1', res));
  return srv;
}

describe('statistics on the stats socket', T, () => {
  let dir = '';
  let sock = '';
  let fePort = 0;
  let live: http.Server | undefined;
  let proc: Proc | undefined;
  /** sessions of the start-up port probes, before the test traffic */
  let base = 0;
  const plus = (n: number): string => String(base + n);

  before(async () => {
    const [p1, p2, p3] = await freePorts(3);
    fePort = p1!;
    live = await startLive(p2!);
    dir = tempDir('hts-stats-');
    sock = path.join(dir, 'admin.sock');
    const cfg = writeConfig(dir, statsConfig(sock, fePort, p2!, p3!));
    proc = await startProxy(BIN, ['-f', cfg], [fePort], { timeoutMs: 15_000 });
    await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
    // s2 goes down at its first check, s1 passes
    await waitFor(async () => (await cliCommand(sock, 'show stat')).includes('L4CON'), 5000, 's2 down');
    base = Number(parseCsv(await cliCommand(sock, 'show stat')).rows.get('fe/FRONTEND')!.stot);
    for (let i = 0; i < 4; i++) assert.equal(await get(fePort, '/'), 200);
    assert.equal(await get(fePort, '/404'), 404);
  });

  after(async () => {
    await closeAll([proc]);
    if (live) await new Promise((r) => live!.close(r));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CSV: header and per-row values', async () => {
    const out = await cliCommand(sock, 'show stat');
    assert.ok(out.endsWith('\n\n'));
    const { header, rows } = parseCsv(out);
    assert.equal(header.length, 105);
    assert.deepEqual(header.slice(0, 8), ['pxname', 'svname', 'qcur', 'qmax', 'scur', 'smax', 'slim', 'stot']);
    assert.deepEqual(header.slice(-4), ['agg_server_check_status', 'agg_check_status', '-', '']);
    assert.deepEqual([...rows.keys()], ['fe/FRONTEND', 'be/s1', 'be/s2', 'be/BACKEND']);
    const fe = rows.get('fe/FRONTEND')!;
    assert.equal(fe.status, 'OPEN'); assert.equal(fe.stot, plus(5)); assert.equal(fe.slim, '100');
    assert.equal(fe.hrsp_2xx, '4'); assert.equal(fe.hrsp_4xx, '1'); assert.equal(fe.req_tot, '5');
    assert.equal(fe.qcur, ''); assert.equal(fe.type, '0'); assert.equal(fe.mode, 'http'); assert.equal(fe.conn_tot, plus(5));
    const s1 = rows.get('be/s1')!;
    assert.equal(s1.status, 'UP'); assert.equal(s1.stot, '5'); assert.equal(s1.lbtot, '5');
    assert.match(s1.check_status!, /^(\* )?L4OK$/); assert.equal(s1.check_desc, 'Layer4 check passed');
    assert.equal(s1.check_rise, '2'); assert.equal(s1.check_fall, '3'); assert.equal(s1.check_health, '4');
    assert.equal(s1.hrsp_2xx, '4'); assert.equal(s1.hrsp_4xx, '1'); assert.equal(s1.slim, ''); assert.equal(s1.type, '2');
    const s2 = rows.get('be/s2')!;
    assert.equal(s2.status, 'DOWN'); assert.equal(s2.stot, '0'); assert.equal(s2.last_chk, 'Connection refused');
    assert.equal(s2.check_health, '0'); assert.equal(s2.chkdown, '1'); assert.equal(s2.lastsess, '-1');
    const be = rows.get('be/BACKEND')!;
    assert.equal(be.status, 'UP'); assert.equal(be.stot, '5'); assert.equal(be.act, '1'); assert.equal(be.weight, '1');
    assert.equal(be.slim, '10'); assert.equal(be.algo, 'roundrobin'); assert.equal(be.hrsp_2xx, '4');
  });

  it('typed and json', async () => {
    const typed = await cliCommand(sock, 'show stat typed');
    assert.match(typed, /^F\.\d+\.0\.0\.pxname\.1:KNS:str:fe$/m);
    assert.match(typed, new RegExp(`^F\\.\\d+\\.0\\.7\\.stot\\.1:MCP:u64:${base + 5}$`, 'm'));
    assert.match(typed, /^S\.\d+\.2\.17\.status\.1:SGP:str:DOWN$/m);
    assert.match(typed, /^B\.\d+\.0\.33\.rate\.1:MGP:u32:\d+$/m);
    assert.ok(!/\.2\.0\.qcur/.test(typed.split('\n').filter((l) => l.startsWith('F.')).join('\n')), 'no empty field in typed output');
    const desc = await cliCommand(sock, 'show stat typed desc');
    assert.match(desc, /^F\.\d+\.0\.0\.pxname\.1:KNS:str:fe:"[^"]+"$/m);
    const json = JSON.parse(await cliCommand(sock, 'show stat json')) as { objType: string; field: { name: string }; value: { type: string; value: unknown } }[][];
    assert.deepEqual(json.map((o) => o[0]!.objType), ['Frontend', 'Server', 'Server', 'Backend']);
    const stot = json[0]!.find((x) => x.field.name === 'stot')!;
    assert.deepEqual(stot.value, { type: 'u64', value: base + 5 });
    const schema = JSON.parse(await cliCommand(sock, 'show schema json')) as { oneOf: { title: string }[] };
    assert.deepEqual(schema.oneOf.map((x) => x.title), ['Info', 'Stat', 'Error']);
  });

  it('selectors and filters', async () => {
    assert.deepEqual([...parseCsv(await cliCommand(sock, 'show stat be 4 2')).rows.keys()], ['be/s2']);
    assert.deepEqual([...parseCsv(await cliCommand(sock, 'show stat -1 3 -1')).rows.keys()], ['fe/FRONTEND', 'be/BACKEND']);
    assert.deepEqual([...parseCsv(await cliCommand(sock, 'show stat up')).rows.keys()], ['fe/FRONTEND', 'be/s1', 'be/BACKEND']);
    assert.equal(await cliCommand(sock, 'show stat nosuch 1 -1'), 'No such proxy.\n\n');
    assert.equal(await cliCommand(sock, 'show stat domain foo'), 'Invalid statistics domain.\n\n');
  });

  it('show info reports the connection counters', async () => {
    const info = await cliCommand(sock, 'show info');
    assert.match(info, /^Name: HAProxy$/m);
    assert.match(info, /^Maxconn: 100$/m);
    const typed = await cliCommand(sock, 'show info typed');
    assert.match(typed, /^0\.Name\.1:POS:str:HAProxy$/m);
  });

  it('clear counters keeps totals, clear counters all resets them', async () => {
    await cliCommand(sock, 'clear counters');
    let r = parseCsv(await cliCommand(sock, 'show stat')).rows;
    assert.equal(r.get('fe/FRONTEND')!.stot, plus(5));
    assert.equal(r.get('fe/FRONTEND')!.smax, '0');
    assert.match(await cliCommand(sock, 'operator; clear counters all'), /Permission denied\n\n$/);
    await cliCommand(sock, 'clear counters all');
    r = parseCsv(await cliCommand(sock, 'show stat')).rows;
    assert.equal(r.get('fe/FRONTEND')!.stot, '0');
    assert.equal(r.get('fe/FRONTEND')!.hrsp_2xx, '0');
    assert.equal(r.get('be/s1')!.lbtot, '0');
    assert.equal(r.get('be/s1')!.lastsess, '-1');
  });
});
