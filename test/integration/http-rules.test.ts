// The rules engine through the real binary in `mode http`: content switching (ACLs, maps,
// formatted backend names), header and URI rewriting in both directions, replies (deny, return,
// redirect, auth, tarpit), reject, variables, unique-id, body inspection, response rules,
// http-after-response, monitor fail, captures, use-server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePorts, startProxyWithConfig, closeAll, tempDir, openClient, type Proc } from '../helpers/harness.js';
import { startHttpBackend, rawHttp, header, type HttpBackend } from '../helpers/http.js';

const T = { timeout: 20_000 };

const DEFAULTS = `
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

async function withProxy(cfg: (fp: number) => string, fn: (fp: number, proxy: Proc) => Promise<void>, extra: Array<{ close?: () => Promise<void> } | undefined> = []): Promise<void> {
  const [fp] = await freePorts(1);
  let proxy: Proc | undefined;
  try {
    proxy = await startProxyWithConfig(cfg(fp!), [fp!]);
    await fn(fp!, proxy);
    assert.doesNotMatch(proxy.stderr(), /internal error/, 'a stream hit an internal error');
  } finally {
    await closeAll([proxy, ...extra]);
  }
}

async function get(fp: number, pathAndHeaders: string, body = ''): Promise<Awaited<ReturnType<typeof rawHttp>>['responses'][number]> {
  const [line, ...hdrs] = pathAndHeaders.split('\n');
  const method = line!.startsWith('/') ? 'GET' : line!.split(' ')[0];
  const target = line!.startsWith('/') ? line : line!.split(' ')[1];
  const extra = hdrs.map((h) => `${h}\r\n`).join('');
  const cl = body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : '';
  const r = await rawHttp(fp, `${method} ${target} HTTP/1.1\r\nHost: h\r\n${extra}${cl}Connection: close\r\n\r\n${body}`);
  r.sock.destroy();
  assert.equal(r.responses.length, 1, `one response expected, raw: ${r.raw.toString()}`);
  return r.responses[0]!;
}

describe('rules in mode http', () => {
  it('host and path routing with named ACLs, anonymous ACLs, a map and a formatted backend name', T, async () => {
    const [a, b, c, d] = await Promise.all(['A', 'B', 'C', 'D'].map((n) => startHttpBackend(n)));
    const dir = tempDir();
    const map = path.join(dir, 'hosts.map');
    fs.writeFileSync(map, '# host to backend\nmapped.example bc\nother.example   bd\n');
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  acl host_a hdr(host) -i a.example
  acl static path_beg /static /img
  acl static path_end .css .js
  use_backend ba if host_a !static
  use_backend bb if static || { hdr(host) -m beg b. }
  use_backend %[req.hdr(host),lower,map(${map})] if { req.hdr(host),lower,map(${map}) -m found }
  default_backend bd
backend ba
  server s 127.0.0.1:${a!.port}
backend bb
  server s 127.0.0.1:${b!.port}
backend bc
  server s 127.0.0.1:${c!.port}
backend bd
  server s 127.0.0.1:${d!.port}
`, async (fp) => {
      const cases: [string, string][] = [
        ['/x\nHost: A.example', 'A'],
        ['/static/x\nHost: a.example', 'B'],
        ['/app.js\nHost: a.example', 'B'],
        ['/x\nHost: b.other', 'B'],
        ['/x\nHost: MAPPED.example', 'C'],
        ['/x\nHost: other.example', 'D'],
        ['/x\nHost: nowhere', 'D'],
      ];
      for (const [req, want] of cases) {
        const lines = req.split('\n');
        const r = await rawHttp(fp, `GET ${lines[0]} HTTP/1.1\r\n${lines[1]}\r\nConnection: close\r\n\r\n`);
        r.sock.destroy();
        assert.equal(r.responses[0]?.body.toString().split(' ')[0], want, `${req.replace('\n', ' ')} → ${want}`);
      }
    }, [a, b, c, d]);
  });

  it('request and response header rewriting, URI rewriting, set-method and set-status', T, async () => {
    const be = await startHttpBackend('R', (req, res) => {
      res.setHeader('x-served-by', 'node');
      res.setHeader('set-cookie', ['a=1; path=/', 'b=2']);
      res.setHeader('cache-control', 'private, max-age=10');
      const text = `${req.method} ${req.url}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-request set-header X-Client %[src]
  acl is_put method PUT
  http-request set-header X-When-Put %[str(yes),when(acl,is_put)]
  http-request set-header X-When-Not %[str(yes),when(!acl,is_put)]
  http-request add-header X-Path "%[path] via %[method]"
  http-request del-header X-Remove-Me
  http-request del-header x-drop- -m beg
  http-request replace-header User-Agent ^curl/(.*) "not-curl \\1"
  http-request replace-value X-List ^b$ B
  http-request set-path /v2%[path] if { path_beg /api }
  http-request set-query q=1&%[query] if { path_beg /v2/api }
  http-request replace-path ^/old/(.*) /new/\\1
  http-request set-method PUT if { path /new/m }
  http-request set-uri /replaced?all if { path /seturi }
  http-response set-header X-Served-By haproxy-ts
  http-response replace-value Cache-Control ^private$ public
  http-response add-header X-Status %[status]
  http-response set-status 299 reason "Fine" if { path_beg /v2 }
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const r1 = await get(fp, '/api/x?z=9\nX-Remove-Me: 1\nX-Drop-One: 2\nUser-Agent: curl/8.0\nX-List: a, b, c');
      assert.equal(r1.status, 299);
      assert.equal(r1.body.toString(), 'GET /v2/api/x?q=1&z=9\n');
      const seen = be.requests.at(-1)!;
      assert.equal(seen.headers['x-client'], '127.0.0.1');
      assert.equal(seen.headers['x-when-put'], '', 'when(acl,...) gives nothing when the ACL fails');
      assert.equal(seen.headers['x-when-not'], 'yes');
      assert.equal(seen.headers['x-path'], '/api/x via GET', 'add-header sees the path before set-path');
      assert.equal(seen.headers['x-remove-me'], undefined);
      assert.equal(seen.headers['x-drop-one'], undefined);
      assert.equal(seen.headers['user-agent'], 'not-curl 8.0');
      assert.equal(seen.headers['x-list'], 'a,B, c', 'a replaced value loses its blanks, as in haproxy');
      assert.equal(header(r1, 'x-served-by'), 'haproxy-ts');
      assert.equal(header(r1, 'cache-control'), 'public, max-age=10');
      assert.equal(header(r1, 'x-status'), '200', 'x-status was added before set-status ran');
      const r2 = await get(fp, '/old/thing');
      assert.equal(r2.body.toString(), 'GET /new/thing\n');
      const r3 = await get(fp, '/old/m');
      assert.equal(r3.body.toString(), 'PUT /new/m\n');
      const r4 = await get(fp, '/seturi?x');
      assert.equal(r4.body.toString(), 'GET /replaced?all\n');
    }, [be]);
  });

  it('deny, return, redirect and http-after-response on generated replies; the connection stays usable', T, async () => {
    const be = await startHttpBackend('S');
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-request deny if { path /d1 }
  http-request deny deny_status 429 content-type text/plain string "slow down" hdr X-A b if { path /d2 }
  http-request return status 200 content-type text/plain lf-string "hello %[path]" hdr X-Y "%[method]" if { path_beg /ret }
  http-request return status 204 if { path /r204 }
  http-request redirect location /new code 301 if { path /r1 }
  http-request redirect prefix https://x.example drop-query if { path_beg /r2 }
  http-request redirect scheme https set-cookie FOO=bar if { path /r3 }
  http-after-response set-header X-After yes
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const r = await rawHttp(fp, [
        'GET /d1 HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /d2 HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /ret/x HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /r204 HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /r1 HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /r2/a?b=c HTTP/1.1\r\nHost: h\r\n\r\n',
        'GET /r3 HTTP/1.1\r\nHost: h:81\r\n\r\n',
        'GET /pass HTTP/1.1\r\nHost: h\r\n\r\n',
      ], { responses: 8, gapMs: 20 });
      r.sock.destroy();
      const [d1, d2, ret, r204, r1, r2, r3, pass] = r.responses;
      assert.equal(d1!.status, 403);
      assert.match(d1!.body.toString(), /403 Forbidden/);
      assert.equal(d2!.status, 429);
      assert.equal(d2!.body.toString(), 'slow down');
      assert.equal(header(d2!, 'x-a'), 'b');
      assert.equal(header(d2!, 'content-type'), 'text/plain');
      assert.equal(ret!.status, 200);
      assert.equal(ret!.body.toString(), 'hello /ret/x');
      assert.equal(header(ret!, 'x-y'), 'GET');
      assert.equal(r204!.status, 204);
      assert.equal(header(r204!, 'content-length'), undefined);
      assert.equal(r1!.status, 301);
      assert.equal(header(r1!, 'location'), '/new');
      assert.equal(header(r1!, 'cache-control'), undefined);
      assert.equal(r2!.status, 302);
      assert.equal(header(r2!, 'location'), 'https://x.example/r2/a');
      assert.equal(header(r2!, 'cache-control'), 'no-cache');
      assert.equal(header(r3!, 'location'), 'https://h:81/r3');
      assert.equal(header(r3!, 'set-cookie'), 'FOO=bar; path=/;');
      assert.equal(pass!.body.toString(), 'S GET /pass\n');
      for (const x of r.responses) assert.equal(header(x, 'x-after'), 'yes', 'http-after-response applies to every response');
      assert.equal(be.requests.length, 1, 'only /pass reached the server');
    }, [be]);
  });

  it('auth against a userlist, reject, tarpit delay', T, async () => {
    const be = await startHttpBackend('U');
    await withProxy((fp) => `${DEFAULTS}
userlist users
  group admins
  user alice insecure-password s3cret groups admins
  user bob password $5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5
listen web
  bind 127.0.0.1:${fp}
  timeout tarpit 300ms
  acl auth_ok http_auth(users)
  acl is_admin http_auth_group(users) admins
  http-request reject if { path /reject }
  http-request tarpit if { path /tarpit }
  http-request auth realm Private unless auth_ok
  http-request deny if { path /admin } !is_admin
  http-request set-header X-User %[http_auth_user]
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const noAuth = await get(fp, '/x');
      assert.equal(noAuth.status, 401);
      assert.equal(header(noAuth, 'www-authenticate'), 'Basic realm="Private"');
      const basic = (u: string, p: string) => `Authorization: Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
      const bad = await get(fp, `/x\n${basic('alice', 'wrong')}`);
      assert.equal(bad.status, 401);
      const ok = await get(fp, `/x\n${basic('alice', 's3cret')}`);
      assert.equal(ok.status, 200);
      assert.equal(be.requests.at(-1)!.headers['x-user'], 'alice');
      // bob's password is "Hello world!" hashed with SHA-256 crypt (openssl passwd -5 -salt saltstring)
      const bob = await get(fp, `/x\n${basic('bob', 'Hello world!')}`);
      assert.equal(bob.status, 200);
      const bobAdmin = await get(fp, `/admin\n${basic('bob', 'Hello world!')}`);
      assert.equal(bobAdmin.status, 403);
      const aliceAdmin = await get(fp, `/admin\n${basic('alice', 's3cret')}`);
      assert.equal(aliceAdmin.status, 200);
      const rej = await rawHttp(fp, 'GET /reject HTTP/1.1\r\nHost: h\r\n\r\n');
      assert.equal(rej.responses.length, 0);
      assert.equal(rej.closed, true);
      const t0 = Date.now();
      const tar = await get(fp, '/tarpit');
      const waited = Date.now() - t0;
      assert.equal(tar.status, 500);
      assert.ok(waited >= 250, `tarpit held the reply (${waited} ms)`);
    }, [be]);
  });

  it('variables, unique-id, captures, wait-for-body with req.body, http-response deny, monitor fail', T, async () => {
    const be = await startHttpBackend('V', (req, res) => {
      const text = `${req.method} ${req.url} ${req.headers['x-unique-id'] ?? ''} ${req.headers['x-var'] ?? ''}\n`;
      res.writeHead(req.url === '/secret' ? 200 : 200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), 'x-leak': req.url === '/secret' ? 'yes' : 'no' });
      res.end(text);
    });
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  monitor-uri /health
  monitor fail if { nbsrv(bk) lt 1 }
  unique-id-format %{+X}o\\ %ci:%cp_%[var(txn.n)]
  unique-id-header X-Unique-ID
  capture request header Host len 3
  capture response header X-Leak len 2
  declare capture request len 8
  http-request set-var(txn.n) int(42)
  http-request set-var(txn.tag) str(tagged) if { path_beg /tag }
  http-request set-header X-Var %[var(txn.tag)] if { var(txn.tag) -m found }
  http-request capture req.hdr(user-agent) len 4
  http-request set-header X-Captured %[capture.req.hdr(2)]
  http-request set-header X-Host-Cap %[capture.req.hdr(0)]
  http-request wait-for-body time 2s if { method POST }
  http-request deny deny_status 400 if { method POST } { req.body -m sub forbidden }
  default_backend bk
backend bk
  http-response deny if { res.hdr(x-leak) yes }
  http-response set-header X-Res-Cap %[capture.res.hdr(0)]
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const health = await get(fp, '/health');
      assert.equal(health.status, 200);
      const r1 = await get(fp, '/tag/x\nUser-Agent: abcdefgh');
      const [, , uid, tag] = r1.body.toString().trim().split(' ');
      assert.match(uid!, /^7F000001:[0-9A-F]{4}_42$/, 'unique-id-format renders (%{+X}o: hex addresses and ports) and is sent');
      assert.equal(tag, 'tagged');
      assert.equal(be.requests.at(-1)!.headers['x-captured'], 'abcd', 'capture truncated to its length');
      assert.equal(be.requests.at(-1)!.headers['x-host-cap'], 'h', 'capture request header: the Host (h) in slot 0');
      assert.equal(header(r1, 'x-res-cap'), 'no', 'capture response header in slot 0 of the response captures');
      const ok = await get(fp, 'POST /p', 'hello world');
      assert.equal(ok.status, 200);
      assert.equal(be.requests.at(-1)!.body.toString(), 'hello world', 'the waited-for body is forwarded intact');
      const den = await get(fp, 'POST /p', 'this is forbidden here');
      assert.equal(den.status, 400);
      const leak = await get(fp, '/secret');
      assert.equal(leak.status, 502, 'http-response deny answers 502');
      assert.doesNotMatch(leak.body.toString(), /secret/);
    }, [be]);
  });

  it('monitor fail answers 503 when no server is usable; use-server picks a named server', T, async () => {
    const [a, b] = await Promise.all([startHttpBackend('A'), startHttpBackend('B')]);
    await withProxy((fp) => `${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  monitor-uri /health
  monitor fail if { nbsrv(empty) lt 1 }
  default_backend bk
backend empty
  server down 127.0.0.1:1 disabled
backend bk
  use-server s2 if { path_beg /b }
  server s1 127.0.0.1:${a!.port}
  server s2 127.0.0.1:${b!.port}
`, async (fp) => {
      const h = await get(fp, '/health');
      assert.equal(h.status, 503);
      for (let i = 0; i < 4; i++) {
        const r = await get(fp, '/b/x');
        assert.equal(r.body.toString(), 'B GET /b/x\n');
      }
    }, [a, b]);
  });

  it('balance hash <expr>: the same key always reaches the same server, a missing key falls back to round robin', T, async () => {
    const bes = await Promise.all(['A', 'B', 'C'].map((n) => startHttpBackend(n)));
    await withProxy((fp) => `${DEFAULTS}
defaults named
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  balance hash req.hdr(x-user),lower
backend unused from named
  server s 127.0.0.1:1
listen web from named
  bind 127.0.0.1:${fp}
${bes.map((b, i) => `  server s${i} 127.0.0.1:${b.port}`).join('\n')}
`, async (fp) => {
      const seen = new Map<string, Set<string>>();
      for (let round = 0; round < 3; round++) {
        for (const u of ['alice', 'ALICE', 'bob', 'carol', 'dave', 'erin', 'frank']) {
          const r = await get(fp, `/x\nX-User: ${u}`);
          const who = r.body.toString().split(' ')[0]!;
          const k = u.toLowerCase();
          if (!seen.has(k)) seen.set(k, new Set());
          seen.get(k)!.add(who);
        }
      }
      for (const [u, s] of seen) assert.equal(s.size, 1, `${u} always goes to one server (got ${[...s].join(',')})`);
      const used = new Set([...seen.values()].map((s) => [...s][0]));
      assert.ok(used.size >= 2, 'different keys spread over servers');
      const rr = new Set<string>();
      for (let i = 0; i < 6; i++) rr.add((await get(fp, '/nokey')).body.toString().split(' ')[0]!);
      assert.equal(rr.size, 3, 'without the header, round robin uses every server');
    }, bes);
  });

  it('set-priority-class: a queued request of a better class is served first', T, async () => {
    const order: string[] = [];
    const be = await startHttpBackend('Q', (req, res) => {
      order.push(req.url);
      setTimeout(() => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); }, req.url === '/first' ? 400 : 20);
    });
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  timeout queue 5s
  http-request set-priority-class int(-10) if { path /urgent }
  http-request set-priority-class int(10) if { path /late }
  server s1 127.0.0.1:${be.port} maxconn 1
`, async (fp) => {
      const first = get(fp, '/first');
      await new Promise((r) => setTimeout(r, 100));
      const late = get(fp, '/late');
      await new Promise((r) => setTimeout(r, 50));
      const normal = get(fp, '/normal');
      await new Promise((r) => setTimeout(r, 50));
      const urgent = get(fp, '/urgent');
      const all = await Promise.all([first, late, normal, urgent]);
      assert.ok(all.every((r) => r.status === 200));
      assert.deepEqual(order, ['/first', '/urgent', '/normal', '/late']);
    }, [be]);
  });

  it('global set-var / set-var-fmt set process variables the rules read', T, async () => {
    const be = await startHttpBackend('G');
    await withProxy((fp) => `
global
  set-var proc.prio int(100)
  set-var proc.threshold int(200),sub(proc.prio)
  set-var-fmt proc.label "v-%[var(proc.threshold)]"
${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-request return status 200 content-type text/plain lf-string "%[var(proc.label)] %[var(proc.prio)]"
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const r = await get(fp, '/');
      assert.equal(r.body.toString(), 'v-100 100');
    }, [be]);
  });

  it('http-response pause and wait-for-body: the response waits, res.body is inspected, the body is forwarded intact', T, async () => {
    const big = 'x'.repeat(3000);
    const be = await startHttpBackend('W', (req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        setTimeout(() => res.end('secret part two'), 150);
        return;
      }
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 20 });
        res.write('0123456789');
        setTimeout(() => res.end('abcdefghij'), 150);
        return;
      }
      const text = req.url === '/big' ? big : 'fine body';
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': text.length });
      res.end(text);
    });
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-response pause 300ms if { path /paused }
  http-response wait-for-body time 2s
  http-response deny deny_status 500 if { res.body -m sub secret }
  http-response set-header X-Body-Len %[res.body_len]
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      const t0 = Date.now();
      const p = await get(fp, '/paused');
      assert.ok(Date.now() - t0 >= 250, 'the response was held by pause');
      assert.equal(p.body.toString(), 'fine body');
      const slow = await get(fp, '/slow');
      assert.equal(slow.body.toString(), '0123456789abcdefghij', 'body waited for, then forwarded whole');
      assert.equal(header(slow, 'x-body-len'), '20');
      const ch = await get(fp, '/chunked');
      assert.equal(ch.status, 500, 'denied on the body contents (deny_status 500)');
      const b = await get(fp, '/big');
      assert.equal(b.body.toString(), big);
      assert.equal(header(b, 'x-body-len'), '3000');
      // keep-alive still works after waits
      const r = await rawHttp(fp, ['GET /paused HTTP/1.1\r\nHost: h\r\n\r\n', 'GET /slow HTTP/1.1\r\nHost: h\r\n\r\n'], { responses: 2, gapMs: 400 });
      r.sock.destroy();
      assert.deepEqual(r.responses.map((x) => x.body.toString()), ['fine body', '0123456789abcdefghij']);
    }, [be]);
  });

  it('http-request and http-response silent-drop: nothing reaches the client, no FIN; later connections close normally', T, async () => {
    const be = await startHttpBackend('S', (req, res) => {
      if (req.url === '/rdrop') res.setHeader('x-drop', '1');
      res.end('ok');
    });
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-request silent-drop if { path /drop }
  http-response silent-drop if { res.hdr(x-drop) -m found }
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      for (const p of ['/drop', '/rdrop']) {
        const c = await openClient(fp);
        let err: string | undefined;
        c.sock.on('error', (e: NodeJS.ErrnoException) => { err = e.code; });
        c.sock.write(`GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`);
        await c.waitClosed(3000);
        assert.equal(c.received().length, 0, `${p}: nothing is sent back`);
        assert.equal(c.gotEnd(), false, `${p}: no FIN, the connection is reset`);
        assert.ok(err === undefined || err === 'ECONNRESET', String(err));
      }
      assert.deepEqual(be.requests.map((r) => r.url), ['/rdrop'], 'the request dropped by http-request never reached the server');
      // the frontend's own close behaviour is untouched: a normal close still ends with a FIN
      const c = await openClient(fp);
      c.sock.write('GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      await c.waitEnd(3000);
      c.sock.destroy();
      assert.match(c.text(), /^HTTP\/1\.1 200 /);
      assert.equal(c.gotEnd(), true, 'a FIN ends a normal connection');
    }, [be]);
  });

  it('strict-mode: a failed rewrite answers 500, unless strict-mode is off for the transaction', T, async () => {
    const be = await startHttpBackend('S');
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-request strict-mode off if { path /lenient }
  http-request set-method %[req.hdr(x-method)]
  server s1 127.0.0.1:${be.port}
`, async (fp) => {
      assert.equal((await get(fp, '/strict')).status, 500, 'an empty method is a failed rewrite');
      const ok = await get(fp, '/strict\nX-Method: PUT');
      assert.equal(ok.body.toString(), 'S PUT /strict\n');
      const lenient = await get(fp, '/lenient');
      assert.equal(lenient.body.toString(), 'S GET /lenient\n', 'strict-mode off: the rewrite is skipped');
      assert.equal((await get(fp, '/strict')).status, 500, 'strict mode is back on for the next transaction');
    }, [be]);
  });

  it('rough traffic through a rule-heavy configuration: no internal error, the process keeps answering', { timeout: 60_000 }, async () => {
    const be = await startHttpBackend('R');
    const dir = tempDir();
    const map = path.join(dir, 'm.map');
    fs.writeFileSync(map, 'a.example b1\n10.0.0.0/8 b2\n');
    await withProxy((fp) => `
global
  expose-experimental-directives
${DEFAULTS}
frontend fe
  bind 127.0.0.1:${fp}
  # garbage that looks like the start of a request is answered 408 instead of waiting 5 s
  timeout http-request 500ms
  option http-buffer-request
  acl bad req.hdr(user-agent) -m reg -i (sqlmap|nikto)
  acl big req.body_size gt 100
  http-request deny if bad
  http-request set-var(txn.h) req.hdr(host),field(1,:),lower
  http-request set-var(txn.q) url_param(q),url_dec
  http-request set-header X-B64 %[req.body,base64] if { req.body_len gt 0 }
  http-request set-header X-Q %[var(txn.q),json(utf8s)]
  http-request replace-path ^/(.*)//(.*) /\\1/\\2
  http-request normalize-uri path-strip-dotdot
  http-request set-header X-Map %[var(txn.h),map_str(${map},none)]
  http-request return status 413 if big
  http-response set-header X-Cookie %[res.cook(sid),hex]
  use_backend %[var(txn.h),map_str(${map},b0)]
backend b0
  server s 127.0.0.1:${be.port}
backend b1
  server s 127.0.0.1:${be.port}
backend b2
  server s 127.0.0.1:${be.port}
`, async (fp) => {
      const pick = <T,>(a: T[]): T => a[Math.floor(Math.random() * a.length)]!;
      const garbage = () => Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256)));
      for (let i = 0; i < 150; i++) {
        const host = pick(['a.example', 'A.EXAMPLE:81', '', 'x'.repeat(300), '%00', 'a.example:notaport', '[::1]:80']);
        const p = pick(['/', '//a//b', '/../../etc', '/?q=%zz', '/?q=%e9%00', '/x?q=' + '%41'.repeat(50), '/%']);
        const body = pick(['', 'x', 'y'.repeat(150), '\u00ff\u0000']);
        const ua = pick(['curl', 'sqlmap/1', 'Nikto', '\u00e9']);
        const raw = Math.random() < 0.15 ? garbage() : Buffer.from(`POST ${p} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
        const r = await rawHttp(fp, raw, { timeoutMs: 4000 });
        r.sock.destroy();
      }
      const ok = await get(fp, '/final\nHost: a.example');
      assert.equal(ok.status, 200);
      assert.equal(be.requests.at(-1)!.headers['x-map'], 'b1');
    }, [be]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('http-error with lf-string and a formatted hdr is rendered per request', T, async () => {
    await withProxy((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  http-error status 503 content-type text/plain lf-string "no server for %[path]" hdr X-Method "%[method]"
  server down 127.0.0.1:1 disabled
`, async (fp) => {
      const r = await get(fp, '/some/where');
      assert.equal(r.status, 503);
      assert.equal(r.body.toString(), 'no server for /some/where');
      assert.equal(header(r, 'x-method'), 'GET');
      assert.equal(header(r, 'content-length'), String('no server for /some/where'.length));
    });
  });
});
