// mode http through the real binary: keep-alive, pipelining, bodies (length and chunked, both
// ways), connection modes, forwardfor, server connection reuse, error statuses and timeouts,
// WebSocket-style upgrade, monitor-uri.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { freePorts, startProxyWithConfig, closeAll, sleep, cliCommand, type Proc } from '../helpers/harness.js';
import { startHttpBackend, startRawBackend, rawHttp, header, type HttpBackend } from '../helpers/http.js';

const T = { timeout: 20_000 };

const DEFAULTS = `
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

async function withSetup(cfg: (fp: number) => string, fn: (fp: number) => Promise<void>, extra: Array<{ close?: () => Promise<void> } | undefined> = []): Promise<void> {
  const [fp] = await freePorts(1);
  let proxy: Proc | undefined;
  try {
    proxy = await startProxyWithConfig(cfg(fp!), [fp!]);
    await fn(fp!);
    // whatever the test did, no stream may have ended on an exception
    assert.doesNotMatch(proxy.stderr(), /internal error/, 'a stream hit an internal error');
  } finally {
    await closeAll([proxy, ...extra]);
  }
}

const listen = (fp: number, servers: HttpBackend[] | { port: number }[], extra = ''): string => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
${extra}
${servers.map((s, i) => `  server s${i + 1} 127.0.0.1:${s.port}`).join('\n')}
`;

describe('mode http', () => {
  it('keep-alive: three requests on one client connection, answered in order, one server connection', T, async () => {
    const be = await startHttpBackend('A');
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r = await rawHttp(fp, [
        'GET /one HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /two HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /three HTTP/1.1\r\nHost: x\r\n\r\n',
      ], { responses: 3, gapMs: 30 });
      r.sock.destroy();
      assert.deepEqual(r.responses.map((x) => x.body.toString()), ['A GET /one\n', 'A GET /two\n', 'A GET /three\n']);
      assert.ok(r.responses.every((x) => x.status === 200));
      assert.equal(r.closed, false);
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 1, 1], 'the server connection is kept and reused');
    }, [be]);
  });

  it('pipelined requests in one packet are answered in order', T, async () => {
    const be = await startHttpBackend('P');
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r = await rawHttp(fp, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.deepEqual(r.responses.map((x) => x.body.toString()), ['P GET /a\n', 'P GET /b\n', 'P GET /c\n']);
      assert.equal(r.closed, true, 'Connection: close ends the client connection after the last response');
      assert.equal(header(r.responses[2]!, 'connection'), 'close');
    }, [be]);
  });

  it('request bodies: Content-Length and chunked arrive intact; chunked is re-framed', T, async () => {
    const be = await startHttpBackend('B', (req, res) => {
      const h = crypto.createHash('sha256').update(req.body).digest('hex');
      res.writeHead(200, { 'content-length': h.length });
      res.end(h);
    });
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const body = crypto.randomBytes(300_000);
      const sha = crypto.createHash('sha256').update(body).digest('hex');
      const r1 = await rawHttp(fp, [Buffer.from(`POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body], { responses: 1 });
      r1.sock.destroy();
      assert.equal(r1.responses[0]!.body.toString(), sha);
      const chunked = Buffer.concat([
        Buffer.from('POST /ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'),
        Buffer.from(`${(100_000).toString(16)};ext=1\r\n`), body.subarray(0, 100_000), Buffer.from('\r\n'),
        Buffer.from(`${(200_000).toString(16)}\r\n`), body.subarray(100_000), Buffer.from('\r\n0\r\n\r\n'),
      ]);
      const r2 = await rawHttp(fp, chunked, { responses: 1 });
      r2.sock.destroy();
      assert.equal(r2.responses[0]!.body.toString(), sha);
      assert.equal(be.requests[1]!.headers['transfer-encoding'], 'chunked');
    }, [be]);
  });

  it('response bodies: 2 MiB with Content-Length, chunked, and close-delimited', T, async () => {
    const big = crypto.randomBytes(2 << 20);
    const be = await startHttpBackend('R', (req, res) => {
      if (req.url === '/cl') { res.writeHead(200, { 'content-length': big.length }); res.end(big); return; }
      res.writeHead(200, {}); // node:http sends chunked for HTTP/1.1
      res.write(big.subarray(0, 1 << 20));
      setTimeout(() => res.end(big.subarray(1 << 20)), 20);
    });
    const raw = await startRawBackend(() => Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: x/y\r\n\r\n'), big]), { closeAfter: true });
    const [fp2] = await freePorts(1);
    await withSetup((fp) => listen(fp, [be]) + `
listen closed
  bind 127.0.0.1:${fp2}
  server r 127.0.0.1:${raw.port}
`, async (fp) => {
      const r1 = await rawHttp(fp, 'GET /cl HTTP/1.1\r\nHost: x\r\n\r\nGET /ch HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 2, timeoutMs: 10_000 });
      r1.sock.destroy();
      assert.ok(r1.responses[0]!.body.equals(big), 'Content-Length body intact');
      assert.equal(header(r1.responses[1]!, 'transfer-encoding'), 'chunked');
      assert.ok(r1.responses[1]!.body.equals(big), 'chunked body intact');
      const r2 = await rawHttp(fp2!, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 10_000 });
      assert.equal(r2.closed, true, 'a close-delimited response ends the client connection');
      assert.ok(r2.responses[0]!.body.equals(big), 'close-delimited body intact');
    }, [be, raw]);
  });

  it('HEAD, 204 and 304 responses carry no body and keep the connection usable', T, async () => {
    const be = await startHttpBackend('H', (req, res) => {
      if (req.url === '/204') { res.writeHead(204); res.end(); return; }
      if (req.url === '/304') { res.writeHead(304, { etag: '"x"' }); res.end(); return; }
      res.writeHead(200, { 'content-length': 5 });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r = await rawHttp(fp, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 4, head: [true] });
      r.sock.destroy();
      assert.deepEqual(r.responses.map((x) => x.status), [200, 204, 304, 200]);
      assert.equal(header(r.responses[0]!, 'content-length'), '5');
      assert.equal(r.responses[0]!.body.length, 0);
      assert.equal(r.responses[3]!.body.toString(), 'hello');
    }, [be]);
  });

  it('option forwardfor adds X-Forwarded-For; option originalto adds X-Original-To', T, async () => {
    const be = await startHttpBackend('F');
    await withSetup((fp) => listen(fp, [be], '  option forwardfor\n  option originalto'), async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: close\r\n\r\n');
      assert.equal(r.responses[0]!.status, 200);
      const seen = be.requests[0]!;
      const xff = seen.rawHeaders.filter(([n]) => n.toLowerCase() === 'x-forwarded-for').map(([, v]) => v);
      assert.deepEqual(xff, ['1.2.3.4', '127.0.0.1'], 'appended after the client-provided one');
      assert.equal(seen.headers['x-original-to'], '127.0.0.1');
    }, [be]);
  });

  it('option httpclose: the server sees Connection: close and each request gets a new server connection', T, async () => {
    const be = await startHttpBackend('C');
    await withSetup((fp) => listen(fp, [be], '  option httpclose'), async (fp) => {
      const r = await rawHttp(fp, 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(r.closed, true);
      assert.equal(header(r.responses[0]!, 'connection'), 'close');
      assert.equal(be.requests[0]!.headers.connection, 'close');
    }, [be]);
  });

  it('option http-server-close: client kept alive, one server connection per request', T, async () => {
    const be = await startHttpBackend('S');
    await withSetup((fp) => listen(fp, [be], '  option http-server-close'), async (fp) => {
      const r = await rawHttp(fp, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\n\r\n'], { responses: 2, gapMs: 50 });
      r.sock.destroy();
      assert.deepEqual(r.responses.map((x) => x.status), [200, 200]);
      assert.equal(be.requests[0]!.headers.connection, 'close');
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 2]);
    }, [be]);
  });

  it('HTTP/1.0 client: closed after the response unless it asked for keep-alive', T, async () => {
    const be = await startHttpBackend('Z');
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r1 = await rawHttp(fp, 'GET / HTTP/1.0\r\n\r\n');
      assert.equal(r1.closed, true);
      assert.equal(r1.responses[0]!.status, 200);
      const r2 = await rawHttp(fp, ['GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 'GET /b HTTP/1.0\r\n\r\n'], { gapMs: 50 });
      assert.deepEqual(r2.responses.map((x) => x.body.toString()), ['Z GET /a\n', 'Z GET /b\n']);
      assert.equal(header(r2.responses[0]!, 'connection')?.toLowerCase(), 'keep-alive');
    }, [be]);
  });

  it('a malformed request gets 400 and the connection is closed; nothing reaches the server', T, async () => {
    const be = await startHttpBackend('X');
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
      assert.equal(r.responses[0]!.status, 400);
      assert.equal(r.closed, true);
      assert.equal(be.requests.length, 0);
    }, [be]);
  });

  it('no usable server: 503; server refusing connections: 503 after retries', T, async () => {
    const [dead] = await freePorts(1);
    await withSetup((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  retries 1
  server s1 127.0.0.1:${dead} disabled
`, async (fp) => {
      // like HAProxy, a 503 does not close a keep-alive client connection
      const r = await rawHttp(fp, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(r.responses.map((x) => x.status), [503, 503]);
      assert.equal(r.closed, true);
    });
    await withSetup((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  retries 1
  timeout connect 200ms
  server s1 127.0.0.1:${dead}
`, async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.responses[0]!.status, 503);
    });
  });

  it('server closing without a response: 502; invalid response: 502', T, async () => {
    const silent = await startRawBackend(() => null);
    const junk = await startRawBackend(() => 'HTTP/1.1 abc Oops\r\n\r\n');
    const [fp2] = await freePorts(1);
    await withSetup((fp) => listen(fp, [silent]) + `
listen junk
  bind 127.0.0.1:${fp2}
  server j 127.0.0.1:${junk.port}
`, async (fp) => {
      // the client connection stays usable after a 502, as with HAProxy
      const r = await rawHttp(fp, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(r.responses.map((x) => x.status), [502, 502]);
      assert.equal(silent.received.length, 2, 'the second request reached the server too');
      const r2 = await rawHttp(fp2!, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r2.responses[0]!.status, 502);
    }, [silent, junk]);
  });

  it('timeout server: 504 when the server does not answer in time', T, async () => {
    const hold = await startRawBackend(() => Buffer.alloc(0));
    await withSetup((fp) => listen(fp, [hold], '  timeout server 300ms'), async (fp) => {
      const t0 = Date.now();
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 });
      const dt = Date.now() - t0;
      r.sock.destroy();
      assert.equal(r.responses[0]!.status, 504);
      assert.ok(dt >= 250 && dt < 2000, `504 after ${dt}ms, expected ~300ms`);
    }, [hold]);
  });

  it('timeout http-request: 408 for an incomplete request head; keep-alive idle connections close silently', T, async () => {
    const be = await startHttpBackend('T');
    await withSetup((fp) => listen(fp, [be], '  timeout http-request 300ms\n  timeout http-keep-alive 300ms'), async (fp) => {
      const t0 = Date.now();
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n');
      const dt = Date.now() - t0;
      assert.equal(r.responses[0]?.status, 408);
      assert.ok(dt >= 250 && dt < 2000, `408 after ${dt}ms`);
      const r2 = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(r2.responses.length, 1, 'after one response the idle connection is closed without another reply');
      assert.equal(r2.closed, true);
    }, [be]);
  });

  it('Connection: upgrade switches to a tunnel (WebSocket-style echo)', T, async () => {
    const socks = new Set<net.Socket>();
    const ws = net.createServer((s) => {
      socks.add(s);
      s.on('error', () => {});
      let head = '';
      const onData = (d: Buffer): void => {
        head += d.toString('latin1');
        const i = head.indexOf('\r\n\r\n');
        if (i < 0) return;
        s.removeListener('data', onData);
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        const rest = head.slice(i + 4);
        if (rest) s.write(`echo:${rest}`);
        s.on('data', (x: Buffer) => s.write(`echo:${x.toString('latin1')}`));
      };
      s.on('data', onData);
    });
    await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
    const port = (ws.address() as net.AddressInfo).port;
    await withSetup((fp) => listen(fp, [{ port }], '  timeout tunnel 2s'), async (fp) => {
      const r = await rawHttp(fp, 'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', { responses: 1 });
      assert.equal(r.responses[0]!.status, 101);
      const got: string[] = [];
      r.sock.on('data', (d) => got.push(d.toString()));
      r.sock.write('hello');
      for (let i = 0; i < 100 && !got.join('').includes('echo:hello'); i++) await sleep(20);
      assert.ok(got.join('').includes('echo:hello'), `tunnel echo, got ${JSON.stringify(got)}`);
      r.sock.destroy();
    }, [{ close: () => new Promise<void>((res) => { for (const s of socks) s.destroy(); ws.close(() => res()); }) }]);
  });

  it('monitor-uri is answered by the proxy and never forwarded', T, async () => {
    const be = await startHttpBackend('M');
    await withSetup((fp) => listen(fp, [be], '  monitor-uri /healthz'), async (fp) => {
      const r = await rawHttp(fp, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(r.responses[0]!.status, 200);
      assert.equal(be.requests.length, 0);
    }, [be]);
  });

  it('roundrobin balances each request, also within one client connection', T, async () => {
    const a = await startHttpBackend('a');
    const b = await startHttpBackend('b');
    await withSetup((fp) => listen(fp, [a, b], '  balance roundrobin'), async (fp) => {
      const reqs = Array.from({ length: 6 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
      const r = await rawHttp(fp, reqs, { responses: 6 });
      r.sock.destroy();
      const names = r.responses.map((x) => x.body.toString()[0]);
      assert.equal(names.filter((n) => n === 'a').length, 3);
      assert.equal(names.filter((n) => n === 'b').length, 3);
    }, [a, b]);
  });

  it('Expect: 100-continue: the interim response is relayed, then the final one', T, async () => {
    const raw = await startRawBackend((req) => {
      const t = req.toString('latin1');
      if (/expect: 100-continue/i.test(t) && !t.endsWith('hello')) return 'HTTP/1.1 100 Continue\r\n\r\n';
      return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    });
    await withSetup((fp) => listen(fp, [raw]), async (fp) => {
      const r = await rawHttp(fp, 'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n', { responses: 1 });
      assert.equal(r.responses[0]!.status, 100);
      r.sock.destroy();
    }, [raw]);
  });
});

describe('mode http: request-based balancing', () => {
  it('balance uri, url_param (with check_post), hdr() and rdp-cookie send the same key to the same server', T, async () => {
    const bes = await Promise.all(['a', 'b', 'c', 'd'].map((n) => startHttpBackend(n)));
    const [p1, p2, p3, p4] = await freePorts(4);
    const sv = bes.map((b, i) => `  server s${i + 1} 127.0.0.1:${b.port}`).join('\n');
    await withSetup((fp) => `${DEFAULTS}
listen byuri
  bind 127.0.0.1:${fp}
  balance uri
${sv}
listen byparam
  bind 127.0.0.1:${p1}
  balance url_param user check_post
${sv}
listen byhdr
  bind 127.0.0.1:${p2}
  balance hdr(X-Tenant)
${sv}
listen byuri2
  bind 127.0.0.1:${p3}
  balance uri
${sv}
listen byrdp
  bind 127.0.0.1:${p4}
  balance rdp-cookie
${sv}
`, async (fp) => {
      const who = async (port: number, req: string): Promise<string> => {
        const r = await rawHttp(port, req);
        return r.responses[0]!.body.toString()[0]!;
      };
      for (const [port, mk] of [
        [fp, (k: string) => `GET /${k} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
        [p1!, (k: string) => `GET /x?user=${k} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
        [p2!, (k: string) => `GET / HTTP/1.1\r\nHost: x\r\nX-Tenant: ${k}\r\nConnection: close\r\n\r\n`],
        [p4!, (k: string) => `GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; mstshash=${k}\r\nConnection: close\r\n\r\n`],
      ] as const) {
        const first: Record<string, string> = {};
        for (let round = 0; round < 3; round++) {
          for (const k of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
            const s = await who(port, mk(k));
            if (round === 0) first[k] = s;
            else assert.equal(s, first[k], `key ${k} on port ${port} moved from ${first[k]} to ${s}`);
          }
        }
        assert.ok(new Set(Object.values(first)).size > 1, `6 keys should not all land on one server (port ${port})`);
      }
      // check_post: the parameter found in a urlencoded body picks the same server as in the query
      const q = await who(p1!, 'GET /x?user=zoe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const body = 'a=1&user=zoe&b=2';
      const p = await who(p1!, `POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      assert.equal(p, q, 'check_post found the parameter in the body');
      // the same uri on two proxies with the same servers and algorithm: same server
      assert.equal(await who(p3!, 'GET /same HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), await who(fp, 'GET /same HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    }, bes);
  });
});

describe('mode http: retries', () => {
  it('retry-on 503 with option redispatch: a server answering 503 is left for another one', T, async () => {
    const bad = await startRawBackend(() => 'HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n');
    const good = await startHttpBackend('good');
    await withSetup((fp) => `${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  balance first
  retries 2
  retry-on 503
  option redispatch 1
  server bad 127.0.0.1:${bad.port}
  server good 127.0.0.1:${good.port}
`, async (fp) => {
      const r = await rawHttp(fp, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody');
      assert.equal(r.responses[0]!.status, 200);
      assert.equal(bad.received.length, 1, 'the first server got the request once');
      assert.equal(good.requests.length, 1);
      assert.equal(good.requests[0]!.body.toString(), 'body', 'the body was replayed');
    }, [bad, good]);
  });

  it('without retry-on for it, a 503 from the server is relayed as is', T, async () => {
    const bad = await startRawBackend(() => 'HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n');
    await withSetup((fp) => listen(fp, [bad], '  retries 2\n  option redispatch 1'), async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.responses[0]!.status, 503);
      assert.equal(r.responses[0]!.reason, 'Busy');
      assert.equal(bad.received.length, 1);
    }, [bad]);
  });

  it('retry-on empty-response: a server closing without answering is tried again', T, async () => {
    let calls = 0;
    const flaky = await startRawBackend(() => (++calls === 1 ? null : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    await withSetup((fp) => listen(fp, [flaky], '  retries 1\n  retry-on empty-response'), async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(r.responses[0]!.status, 200);
      assert.equal(calls, 2);
    }, [flaky]);
  });
});

describe('mode http: request options', () => {
  it('option http-pretend-keepalive: the server is not told about the close, the connection still closes after', T, async () => {
    const be = await startHttpBackend('K');
    await withSetup((fp) => listen(fp, [be], '  option http-server-close\n  option http-pretend-keepalive'), async (fp) => {
      const r = await rawHttp(fp, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\n\r\n'], { responses: 2, gapMs: 50 });
      r.sock.destroy();
      assert.equal(be.requests[0]!.headers.connection, undefined, 'no Connection: close sent to the server');
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 2], 'but each request still had its own server connection');
    }, [be]);
  });

  it('option http-buffer-request: the server connection waits for the whole body', T, async () => {
    const be = await startHttpBackend('W');
    await withSetup((fp) => listen(fp, [be], '  option http-buffer-request'), async (fp) => {
      const r = rawHttp(fp, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabc', 'def'], { gapMs: 400 });
      await sleep(200);
      assert.equal(be.connections, 0, 'no server connection before the body is complete');
      const res = await r;
      assert.equal(res.responses[0]!.status, 200);
      assert.equal(be.requests[0]!.body.toString(), 'abcdef');
    }, [be]);
  });

  it('option http-restrict-req-hdr-names delete / reject', T, async () => {
    const be = await startHttpBackend('N');
    const [p2] = await freePorts(1);
    await withSetup((fp) => listen(fp, [be], '  option http-restrict-req-hdr-names delete') + `
listen rej
  bind 127.0.0.1:${p2}
  option http-restrict-req-hdr-names reject
  server s 127.0.0.1:${be.port}
`, async (fp) => {
      const req = 'GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded-For: 6.6.6.6\r\nX-Ok: 1\r\nConnection: close\r\n\r\n';
      const r = await rawHttp(fp, req);
      assert.equal(r.responses[0]!.status, 200);
      assert.equal(be.requests[0]!.headers['x_forwarded-for'], undefined, 'deleted');
      assert.equal(be.requests[0]!.headers['x-ok'], '1');
      const r2 = await rawHttp(p2!, req);
      assert.equal(r2.responses[0]!.status, 403);
      assert.equal(be.requests.length, 1);
    }, [be]);
  });
});

describe('mode http: header name case', () => {
  it('names go out in lower case; h1-case-adjust with the bogus-client/server options restores chosen ones', T, async () => {
    const raw = await startRawBackend(() => 'HTTP/1.1 200 OK\r\nX-Reply-Thing: 1\r\nContent-Length: 0\r\n\r\n');
    const [p2] = await freePorts(1);
    await withSetup((fp) => `
global
  h1-case-adjust x-reply-thing X-Reply-Thing
  h1-case-adjust x-custom X-CUSTOM
${DEFAULTS}
listen plain
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${raw.port}
listen adjusted
  bind 127.0.0.1:${p2}
  option h1-case-adjust-bogus-client
  option h1-case-adjust-bogus-server
  server s 127.0.0.1:${raw.port}
`, async (fp) => {
      const req = 'GET / HTTP/1.1\r\nHost: x\r\nX-Custom: 1\r\nUser-Agent: t\r\nConnection: close\r\n\r\n';
      const r1 = await rawHttp(fp, req);
      assert.match(raw.received[0]!.toString('latin1'), /\r\nhost: x\r\nx-custom: 1\r\nuser-agent: t\r\n/);
      assert.match(r1.raw.toString('latin1'), /\r\nx-reply-thing: 1\r\n/);
      const r2 = await rawHttp(p2!, req);
      assert.match(raw.received[1]!.toString('latin1'), /\r\nhost: x\r\nX-CUSTOM: 1\r\nuser-agent: t\r\n/);
      assert.match(r2.raw.toString('latin1'), /\r\nX-Reply-Thing: 1\r\n/);
    }, [raw]);
  });
});

describe('mode http: server connection pool', () => {
  const three = (fp: number): Promise<void> => rawHttp(fp, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /3 HTTP/1.1\r\nHost: x\r\n\r\n'], { responses: 3, gapMs: 40 }).then((r) => { r.sock.destroy(); });

  it('max-reuse 1: a server connection carries at most two requests', T, async () => {
    const be = await startHttpBackend('R');
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${be.port} max-reuse 1\n`, async (fp) => {
      await three(fp);
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 1, 2]);
    }, [be]);
  });

  it('pool-max-conn 0: no idle connection is kept', T, async () => {
    const be = await startHttpBackend('P');
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${be.port} pool-max-conn 0\n`, async (fp) => {
      await three(fp);
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 2, 3]);
    }, [be]);
  });

  it('tune.pool-high-fd-ratio 0: with any descriptor in use, released connections are closed, not kept', T, async () => {
    const be = await startHttpBackend('L');
    await withSetup((fp) => `global\n  tune.pool-low-fd-ratio 0\n  tune.pool-high-fd-ratio 0\n${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${be.port}\n`, async (fp) => {
      await three(fp);
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 2, 3]);
    }, [be]);
  });

  it('tune.pool-low-fd-ratio 0: a server with no idle connection still keeps one', T, async () => {
    const be = await startHttpBackend('L');
    await withSetup((fp) => `global\n  tune.pool-low-fd-ratio 0\n${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${be.port}\n`, async (fp) => {
      await three(fp);
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 1, 1]);
    }, [be]);
  });

  it('http-reuse always shares idle connections between clients; pool-purge-delay closes them', T, async () => {
    const be = await startHttpBackend('A');
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  http-reuse always\n  server s 127.0.0.1:${be.port} pool-purge-delay 300ms\n`, async (fp) => {
      const one = async (): Promise<void> => { const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 }); r.sock.destroy(); };
      await one();
      await sleep(50);
      await one();
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 1], 'the second client reused the idle connection');
      // each purge closes half of what exceeds the estimated need, which itself decays towards
      // the most used since the previous purge: 1 idle connection, need 1 → 1 → 0, then closed
      await sleep(1500);
      await one();
      assert.equal(be.requests[2]!.conn, 2, 'the idle connection was purged');
    }, [be]);
  });

  it('a server connection that is not kept is closed with a reset once its response is complete', T, async () => {
    // a server that answers one request and records how each connection ended
    const endings: string[] = [];
    const srv = net.createServer({ allowHalfOpen: true }, (c) => {
      c.once('data', () => c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
      c.on('error', (e: NodeJS.ErrnoException) => endings.push(e.code ?? 'error'));
      c.on('end', () => { endings.push('FIN'); c.end(); });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  server s 127.0.0.1:${port} pool-max-conn 0\n`, async (fp) => {
        const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 });
        r.sock.destroy();
        for (let i = 0; i < 100 && endings.length === 0; i++) await sleep(20);
        assert.deepEqual(endings, ['ECONNRESET'], 'no TIME_WAIT left on the proxy side for a finished connection');
      });
    } finally { await new Promise((r) => srv.close(r)); }
  });

  it('a client leaving with Connection: close leaves its server connection idle for other clients', T, async () => {
    const be = await startHttpBackend('K');
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  http-reuse always\n  server s 127.0.0.1:${be.port}\n`, async (fp) => {
      const r1 = await rawHttp(fp, 'GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { responses: 1 });
      r1.sock.destroy();
      assert.equal(be.requests[0]!.headers['connection'], undefined, 'the client\'s close is not passed on');
      await sleep(100);
      const r2 = await rawHttp(fp, 'GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { responses: 1 });
      r2.sock.destroy();
      assert.deepEqual(be.requests.map((q) => q.conn), [1, 1], 'the second client was served on the first one\'s server connection');
    }, [be]);
  });

  it('http-reuse safe: a client\'s first request does not take another client\'s idle connection', T, async () => {
    const be = await startHttpBackend('S');
    await withSetup((fp) => listen(fp, [be]), async (fp) => {
      const r1 = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 });
      r1.sock.destroy();
      await sleep(50);
      const r2 = await rawHttp(fp, ['GET /a HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n'], { responses: 2, gapMs: 40 });
      r2.sock.destroy();
      assert.notEqual(be.requests[1]!.conn, 1, 'first request of the second client: a new connection');
    }, [be]);
  });
});

describe('mode http: show errors', () => {
  it('the last invalid request and response are kept with the error position', T, async () => {
    const junk = await startRawBackend(() => 'HTTP/1.1 200 OK\r\nBad/Name: x\r\nContent-Length: 2\r\n\r\nok');
    const [sp, p2] = await freePorts(2);
    await withSetup((fp) => `
global
  stats socket ipv4@127.0.0.1:${sp} level admin
${DEFAULTS}
listen front
  bind 127.0.0.1:${fp}
  server s 127.0.0.1:${junk.port}
listen junky
  bind 127.0.0.1:${p2}
  server j 127.0.0.1:${junk.port}
`, async (fp) => {
      const r = await rawHttp(fp, 'GET /x HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n');
      assert.equal(r.responses[0]!.status, 400);
      const r2 = await rawHttp(p2!, 'GET /y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.equal(r2.responses[0]!.status, 502);
      const out = await cliCommand(sp!, 'show errors');
      assert.match(out, /^Total events captured on \[\d\d\/\w{3}\/\d{4}:[\d:.]+\] : 2$/m);
      assert.match(out, /frontend front \(#\d+\): invalid request\n  backend <NONE> \(#-1\), server <NONE> \(#-1\), event #0, src 127\.0\.0\.1:\d+/);
      assert.match(out, /len 43, wraps at \d+, error at position 29/);
      assert.match(out, /  00026  Bad Header: 1\\r\\n\n/);
      assert.match(out, /backend junky \(#\d+\): invalid response\n  frontend junky \(#\d+\), server j \(#1\), event #1/);
      assert.match(out, /  00017  Bad\/Name: x\\r\\n\n/);
      const onlyResp = await cliCommand(sp!, 'show errors junky response');
      assert.ok(!onlyResp.includes('invalid request') && onlyResp.includes('invalid response'));
    }, [junk]);
  });
});

describe('mode http: streaming and failures', () => {
  const rss = (pid: number): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  };

  it('a 96 MiB upload and a 96 MiB download stream through without growing memory', { timeout: 60_000 }, async () => {
    const TOTAL = 96 << 20;
    const chunk = crypto.randomBytes(1 << 20);
    const socks = new Set<net.Socket>();
    // a raw server: counts an uploaded body, or streams a download, with back-pressure
    const srv = net.createServer((s) => {
      socks.add(s);
      s.on('error', () => {});
      let head = '';
      let got = 0;
      let inBody = false;
      s.on('data', (d: Buffer) => {
        if (!inBody) {
          head += d.toString('latin1');
          const i = head.indexOf('\r\n\r\n');
          if (i < 0) return;
          inBody = true;
          got = Buffer.byteLength(head, 'latin1') - i - 4;
          if (head.startsWith('GET')) {
            s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${TOTAL}\r\n\r\n`);
            let sent = 0;
            const pump = (): void => {
              while (sent < TOTAL) { sent += chunk.length; if (!s.write(chunk)) { s.once('drain', pump); return; } }
            };
            pump();
            return;
          }
        } else got += d.length;
        if (got >= TOTAL) s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(got).length}\r\n\r\n${got}`);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    const [fp] = await freePorts(1);
    let proxy: Proc | undefined;
    try {
      proxy = await startProxyWithConfig(listen(fp!, [{ port }]), [fp!]);
      const pid = proxy.child.pid!;
      const before = rss(pid);
      let peak = before;
      const watch = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 50);
      try {
        // upload
        const up = await new Promise<string>((resolve, reject) => {
          const c = net.connect(fp!, '127.0.0.1');
          let resp = '';
          c.on('data', (d) => { resp += d; if (/\r\n\r\n\d+$/.test(resp)) { c.destroy(); resolve(resp); } });
          c.on('error', reject);
          c.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${TOTAL}\r\n\r\n`);
          let sent = 0;
          const pump = (): void => {
            while (sent < TOTAL) { sent += chunk.length; if (!c.write(chunk)) { c.once('drain', pump); return; } }
          };
          pump();
        });
        assert.match(up, new RegExp(`\\r\\n\\r\\n${TOTAL}$`));
        // download, read slowly at first so that the proxy must hold back
        const down = await new Promise<number>((resolve, reject) => {
          const c = net.connect(fp!, '127.0.0.1');
          let n = 0;
          let headerSeen = false;
          c.on('data', (d: Buffer) => {
            if (!headerSeen) { const i = d.indexOf('\r\n\r\n'); if (i >= 0) { headerSeen = true; n += d.length - i - 4; } }
            else n += d.length;
            if (n < 16 << 20 && n % (4 << 20) < d.length) { c.pause(); setTimeout(() => c.resume(), 20); }
            if (n >= TOTAL) { c.destroy(); resolve(n); }
          });
          c.on('error', reject);
          c.write('GET /down HTTP/1.1\r\nHost: x\r\n\r\n');
        });
        assert.equal(down, TOTAL);
      } finally {
        clearInterval(watch);
      }
      const growth = peak - before;
      assert.ok(growth < 48 << 20, `proxy RSS grew by ${(growth / 1048576).toFixed(1)} MiB while 192 MiB went through`);
    } finally {
      await closeAll([proxy]);
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('a server killed mid-test: with retries and option redispatch every request is still answered', T, async () => {
    const a = await startHttpBackend('a');
    const b = await startHttpBackend('b');
    await withSetup((fp) => listen(fp, [a, b], '  retries 2\n  option redispatch\n  timeout connect 300ms'), async (fp) => {
      const ask = async (): Promise<string> => (await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).responses[0]!.body.toString()[0]!;
      const first = await Promise.all([ask(), ask(), ask(), ask()]);
      assert.ok(first.includes('a') && first.includes('b'));
      await a.close();
      const after: string[] = [];
      for (let i = 0; i < 8; i++) after.push(await ask());
      assert.deepEqual(after, Array(8).fill('b'), 'every request answered by the surviving server');
    }, [b]);
  });

  it('timeout client while the request body stalls: 408', T, async () => {
    const be = await startHttpBackend('T');
    await withSetup((fp) => listen(fp, [be], '  timeout client 300ms\n  option http-buffer-request'), async (fp) => {
      const t0 = Date.now();
      const r = await rawHttp(fp, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
      const dt = Date.now() - t0;
      assert.equal(r.responses[0]?.status, 408);
      assert.ok(dt >= 250 && dt < 2000, `after ${dt}ms`);
      assert.equal(be.requests.length, 0);
    }, [be]);
  });
});

describe('mode http: cookie persistence', () => {
  it('cookie insert indirect nocache: visitors stick across connections and move when their server goes down', T, async () => {
    // responses carry a validator (ETag), which makes them cacheable: nocache must then mark
    // the ones that set the cookie private
    const tagged = (name: string) => (_q: unknown, res: import('node:http').ServerResponse): void => {
      res.writeHead(200, { etag: '"v1"', 'content-length': 2 });
      res.end(`${name}\n`);
    };
    const a = await startHttpBackend('a', tagged('a'));
    const b = await startHttpBackend('b', tagged('b'));
    const [sp] = await freePorts(1);
    await withSetup((fp) => `
global
  stats socket ipv4@127.0.0.1:${sp} level admin
${DEFAULTS}
listen web
  bind 127.0.0.1:${fp}
  balance roundrobin
  cookie SRV insert indirect nocache
  option redispatch
  server s1 127.0.0.1:${a.port} cookie c1
  server s2 127.0.0.1:${b.port} cookie c2
`, async (fp) => {
      const get = async (cookie?: string): Promise<{ who: string; setCookie: string | undefined; cache: string | undefined }> => {
        const r = await rawHttp(fp, `GET / HTTP/1.1\r\nHost: x\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}Connection: close\r\n\r\n`);
        const res = r.responses[0]!;
        return { who: res.body.toString()[0]!, setCookie: header(res, 'set-cookie'), cache: header(res, 'cache-control') };
      };
      const first = await get();
      assert.match(first.setCookie ?? '', /^SRV=c[12]; path=\/$/);
      assert.equal(first.cache, 'private', 'nocache marks the cacheable response private');
      const value = /^SRV=(c[12])/.exec(first.setCookie!)![1]!;
      const home = value === 'c1' ? 'a' : 'b';
      assert.equal(first.who, home);
      // the same visitor on new connections: always the same server, no new cookie, and the
      // server never sees the persistence cookie (indirect)
      for (let i = 0; i < 4; i++) {
        const r = await get(`other=1; SRV=${value}`);
        assert.equal(r.who, home);
        assert.equal(r.setCookie, undefined);
      }
      const seen = (home === 'a' ? a : b).requests.slice(1);
      assert.ok(seen.every((q) => q.headers.cookie === 'other=1'), `cookie stripped: ${seen.map((q) => q.headers.cookie).join(' | ')}`);
      // its server goes into maintenance: the visitor moves and gets the other server's cookie
      await cliCommand(sp!, `set server web/${value === 'c1' ? 's1' : 's2'} state maint`);
      const moved = await get(`SRV=${value}`);
      assert.notEqual(moved.who, home);
      assert.equal(moved.setCookie, `SRV=${value === 'c1' ? 'c2' : 'c1'}; path=/`);
    }, [a, b]);
  });

  it('cookie prefix: the server\'s own cookie is prefixed, and unprefixed on the way back', T, async () => {
    const be = await startHttpBackend('p', (req, res) => {
      res.writeHead(200, { 'set-cookie': 'JSESSIONID=abc123; Path=/', 'content-length': 2 });
      res.end('ok');
    });
    await withSetup((fp) => listen(fp, [be], '  cookie JSESSIONID prefix').replace(`server s1 127.0.0.1:${be.port}`, `server s1 127.0.0.1:${be.port} cookie s1`), async (fp) => {
      const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(header(r.responses[0]!, 'set-cookie'), 'JSESSIONID=s1~abc123; Path=/');
      await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=s1~abc123\r\nConnection: close\r\n\r\n');
      assert.equal(be.requests[1]!.headers.cookie, 'JSESSIONID=abc123');
    }, [be]);
  });
});

describe('mode http: upgrade from a TCP frontend', () => {
  it('a TCP frontend with an HTTP default_backend processes the connection as HTTP', T, async () => {
    const be = await startHttpBackend('U');
    await withSetup((fp) => `${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  mode http
  option forwardfor
  server s 127.0.0.1:${be.port}
`, async (fp) => {
      const r = await rawHttp(fp, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 50 });
      assert.deepEqual(r.responses.map((x) => x.body.toString()), ['U GET /1\n', 'U GET /2\n']);
      assert.equal(be.requests[0]!.headers['x-forwarded-for'], '127.0.0.1', 'the backend\'s HTTP options apply');
    }, [be]);
  });
});

describe('mode http: queueing', () => {
  it('server maxconn 1: a second request waits in the queue and gets 503 when timeout queue strikes', T, async () => {
    const slow = await startHttpBackend('Q', (_req, res) => { setTimeout(() => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); }, 1200); });
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  timeout queue 300ms\n  server s 127.0.0.1:${slow.port} maxconn 1\n`, async (fp) => {
      const first = rawHttp(fp, 'GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await sleep(100);
      const t0 = Date.now();
      const second = await rawHttp(fp, 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const dt = Date.now() - t0;
      assert.equal(second.responses[0]!.status, 503);
      assert.ok(dt >= 250 && dt < 1100, `503 after ${dt}ms in the queue, expected ~300ms`);
      assert.equal((await first).responses[0]!.status, 200);
      assert.deepEqual(slow.requests.map((q) => q.url), ['/1'], 'the queued request never reached the server');
    }, [slow]);
  });

  it('server maxconn 1: queued requests are served in turn when the slot frees', T, async () => {
    const slow = await startHttpBackend('Q', (req, res) => { setTimeout(() => { res.writeHead(200, { 'content-length': req.url.length }); res.end(req.url); }, 150); });
    await withSetup((fp) => `${DEFAULTS}\nlisten web\n  bind 127.0.0.1:${fp}\n  timeout queue 5s\n  server s 127.0.0.1:${slow.port} maxconn 1\n`, async (fp) => {
      const all = await Promise.all([1, 2, 3, 4].map((i) => rawHttp(fp, `GET /${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)));
      assert.deepEqual(all.map((r) => r.responses[0]!.body.toString()).sort(), ['/1', '/2', '/3', '/4']);
      assert.equal(slow.requests.length, 4);
    }, [slow]);
  });
});

describe('mode http: hostile input', () => {
  it('300 mutated requests: every connection ends cleanly and the process keeps serving', { timeout: 40_000 }, async () => {
    const be = await startHttpBackend('F');
    await withSetup((fp) => listen(fp, [be], '  timeout http-request 1s\n  timeout client 2s\n  timeout server 2s'), async (fp) => {
      let x = 0x1234567;
      const rnd = (): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
      const seed = Buffer.from('POST /p?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nX-A: b\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'latin1');
      const one = async (): Promise<void> => {
        const b = Buffer.from(seed);
        for (let k = 0; k < 3; k++) b[rnd() % b.length] = [0, 10, 13, 32, 58, 0x7f, 0xff, 0x2c][rnd() % 8]!;
        const r = await rawHttp(fp, b, { halfClose: true, timeoutMs: 8000 });
        // either answered (by the server or by the proxy) or closed: never hanging
        assert.ok(r.closed, 'connection ends');
        for (const res of r.responses) assert.ok(res.status >= 200 && res.status <= 599);
      };
      for (let i = 0; i < 300; i += 20) await Promise.all(Array.from({ length: 20 }, one));
      const ok = await rawHttp(fp, 'GET /still-alive HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.equal(ok.responses[0]!.status, 200);
      assert.equal(ok.responses[0]!.body.toString(), 'F GET /still-alive\n');
    }, [be]);
  });
});
