// The live dashboard (haproxy-ts extension `stats dashboard-uri`) served by the real binary:
// the stats page's authentication, data.json showing request and error rates after real traffic,
// admin actions changing a server's state as seen on the stats socket, non-admin refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, tempDir, waitFor, cliCommand, type Proc } from '../helpers/harness.js';
import { startHttpBackend } from '../helpers/http.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const ADMIN = { authorization: `Basic ${b64('admin:pw')}` };
const VIEW = { authorization: `Basic ${b64('view:pw')}` };

interface Obj { key: string; status: string; admin?: string; req: (number | null)[]; err: (number | null)[]; rt?: (number | null)[] }
interface Data { admin: boolean; times: number[]; objects: Obj[] }

test('dashboard: auth, data.json after traffic, admin actions', { timeout: 40_000 }, async () => {
  const ok = await startHttpBackend('ok');
  const bad = await startHttpBackend('bad', (_r, res) => { res.writeHead(500, { 'content-length': '0' }); res.end(); });
  const [sp, fp] = await freePorts(2);
  const dir = tempDir();
  const sock = `${dir}/s.sock`;
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  stats socket ${sock} level admin
userlist ops
  group admins
  user admin insecure-password pw groups admins
  user view insecure-password pw
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
listen stats
  bind 127.0.0.1:${sp}
  stats uri /st
  stats dashboard-uri /dash
  stats realm Ops
  stats auth admin:pw
  stats auth view:pw
  stats admin if { http_auth_group(ops) admins }
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  balance roundrobin
  server s1 127.0.0.1:${ok.port}
  server s2 127.0.0.1:${bad.port}
`, [sp!, fp!]);
    await waitFor(() => fs.existsSync(sock), 5000, 'stats socket');
    const base = `http://127.0.0.1:${sp}`;
    const get = (path: string, headers: Record<string, string> = ADMIN): Promise<Response> => fetch(base + path, { headers, signal: AbortSignal.timeout(5000) });

    const noAuth = await get('/dash', {});
    assert.equal(noAuth.status, 401);
    assert.equal(noAuth.headers.get('www-authenticate'), 'Basic realm="Ops"');
    await noAuth.arrayBuffer();
    const wrong = await get('/dash/data.json', { authorization: `Basic ${b64('admin:nope')}` });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();

    const page = await get('/dash');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<script>/);
    // the stats page is still served next to it
    const st = await get('/st;csv');
    assert.equal(st.status, 200);
    assert.match(await st.text(), /^# pxname,svname,/);

    // traffic: s1 answers 200, s2 answers 500 (round robin)
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`http://127.0.0.1:${fp}/x${i}`, { signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      assert.equal(r.status, i % 2 === 0 ? 200 : 500);
    }
    const find = (d: Data, k: string): Obj => { const o = d.objects.find((x) => x.key === k); assert.ok(o, k); return o; };
    const sum = (a: (number | null)[]): number => a.reduce<number>((s, v) => s + (v ?? 0), 0);
    let d: Data | undefined;
    await waitFor(async () => {
      const r = await get('/dash/data.json');
      d = await r.json() as Data;
      return sum(find(d, 'f/f').req) > 0 && sum(find(d, 's/b/s2').err) > 0;
    }, 6000, 'rates in data.json');
    assert.equal(d!.admin, true);
    assert.ok(d!.times.length >= 2);
    assert.ok(sum(find(d!, 'b/b').req) > 0, 'backend request rate');
    assert.ok(sum(find(d!, 's/b/s1').req) > 0, 's1 request rate');
    assert.equal(sum(find(d!, 's/b/s1').err), 0, 's1 has no errors');
    assert.ok(find(d!, 's/b/s1').rt!.some((v) => v !== null), 's1 response time');
    // over the whole history, every request counted once per object: 20 on the frontend
    assert.ok(Math.abs(sum(find(d!, 'f/f').req) - 20) <= 1, `frontend req sum ${sum(find(d!, 'f/f').req)}`);

    // a viewer sees no admin level and cannot act
    const vd = await (await get('/dash/data.json', VIEW)).json() as Data;
    assert.equal(vd.admin, false);
    const act = (who: Record<string, string>, body: string): Promise<Response> => fetch(`${base}/dash/action`, {
      method: 'POST', body, signal: AbortSignal.timeout(5000),
      headers: { ...who, 'content-type': 'application/x-www-form-urlencoded', 'x-dashboard': '1' },
    });
    const denied = await act(VIEW, 'b=b&s=s1&action=drain');
    assert.equal(denied.status, 403);
    assert.deepEqual(await denied.json(), { status: 'DENY' });
    // `show servers state` columns: ... srv_op_state srv_admin_state (management.txt: 0x08 drain, 0x01 forced maintenance)
    const adminState = async (): Promise<string> => {
      const out = await cliCommand(sock, 'show servers state b');
      const line = out.split('\n').find((l) => / s1 /.test(l) && !l.startsWith('#'));
      assert.ok(line, out);
      return line.split(' ')[6]!;
    };
    assert.equal(await adminState(), '0');

    const drained = await act(ADMIN, 'b=b&s=s1&action=drain');
    assert.equal(drained.status, 200);
    assert.deepEqual(await drained.json(), { status: 'DONE' });
    assert.equal(await adminState(), '8');
    const d2 = await (await get('/dash/data.json')).json() as Data;
    assert.equal(find(d2, 's/b/s1').admin, 'drain');
    assert.match(find(d2, 's/b/s1').status, /^DRAIN/);

    const maint = await act(ADMIN, 'b=b&s=s1&action=maint');
    assert.equal(maint.status, 200);
    await maint.arrayBuffer();
    assert.equal(await adminState(), '1');
    const ready = await act(ADMIN, 'b=b&s=s1&action=ready');
    assert.equal(ready.status, 200);
    await ready.arrayBuffer();
    assert.equal(await adminState(), '0');

    // without the x-dashboard header (what a cross-site form would send): refused
    const csrf = await fetch(`${base}/dash/action`, {
      method: 'POST', body: 'b=b&s=s1&action=maint', signal: AbortSignal.timeout(5000),
      headers: { ...ADMIN, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(csrf.status, 403);
    await csrf.arrayBuffer();
    assert.equal(await adminState(), '0');
  } finally {
    await p?.stop();
    await ok.close();
    await bad.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
