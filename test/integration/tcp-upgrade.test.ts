// TCP to HTTP upgrades on the real binary over loopback (configuration.txt section 4, "switch-mode"
// in 4.4): a TCP frontend whose content switching picks an HTTP backend (implicit upgrade), and
// `tcp-request content switch-mode http` (explicit upgrade). The client bytes read before the
// upgrade are the beginning of the HTTP input; variables, addresses and counters go on with the
// connection; a TCP backend still relays raw bytes. Counters are checked on an in-process
// runtime. Every wait is bounded.
import { describe, it } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import { freePorts, startProxyWithConfig, startTestServer, closeAll, tcpExchange, waitFor, sleep, type Proc } from '../helpers/harness.js';
import { startHttpBackend, rawHttp, type HttpBackend } from '../helpers/http.js';
import { parseConfigText } from '../helpers/config.js';
import { Runtime } from '../../src/proxy/runtime.js';

const T = { timeout: 20_000 };

const DEFAULTS = `
defaults
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

async function withProxy(cfg: string, port: number, fn: () => Promise<void>, extra: Array<{ close?: () => Promise<void> } | undefined> = []): Promise<void> {
  let proxy: Proc | undefined;
  try {
    proxy = await startProxyWithConfig(cfg, [port]);
    await fn();
    assert.doesNotMatch(proxy.stderr(), /internal error/, 'a stream hit an internal error');
  } finally {
    await closeAll([proxy, ...extra]);
  }
}

const bodies = (r: { responses: { body: Buffer }[] }): string[] => r.responses.map((x) => x.body.toString());

/**
 * Implicit upgrade: the payload rule picks the HTTP backend. Later requests on the connection are
 * HTTP already (their raw bytes are no longer visible to req.payload), hence the METH_GET rule.
 */
const implicitCfg = (fp: number, web: HttpBackend, rawPort: number): string => `${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 3s
  tcp-request content set-var(sess.k) str(kept)
  tcp-request content set-var(txn.t) str(txnvar)
  tcp-request content accept if { req.payload(0,4) -m str "GET " } || { req.payload(0,5) -m str "POST " }
  tcp-request content accept if { req.len ge 6 }
  http-request set-header x-fe fe-rule
  use_backend web if { req.payload(0,4) -m str "GET " } || { req.payload(0,5) -m str "POST " }
  use_backend web if METH_GET
  default_backend raw
backend web
  mode http
  http-request set-header x-be "be sess=%[var(sess.k)] txn=%[var(txn.t)] src=%[src]"
  server s 127.0.0.1:${web.port}
backend raw
  mode tcp
  server s 127.0.0.1:${rawPort}
`;

describe('tcp to http upgrade: an HTTP backend chosen by content switching', () => {
  it('the HTTP backend\'s rules apply, the frontend\'s http-request rules do not; keep-alive goes on', T, async () => {
    const web = await startHttpBackend('W');
    const raw = await startTestServer('R', { mode: 'echo' });
    const [fp] = await freePorts(1);
    await withProxy(implicitCfg(fp!, web, raw.port), fp!, async () => {
      const r = await rawHttp(fp!, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(bodies(r), ['W GET /1\n', 'W GET /2\n']);
      assert.equal(web.requests.length, 2);
      const [q1, q2] = web.requests;
      // sess and txn variables set by the tcp-request content rules are there for the first request
      assert.equal(q1!.headers['x-be'], 'be sess=kept txn=txnvar src=127.0.0.1');
      // only the backend's HTTP processing applies to the request that caused the upgrade
      assert.equal(q1!.headers['x-fe'], undefined);
      // the second request is a new transaction on the same connection: the sess variable stays
      assert.match(String(q2!.headers['x-be']), /^be sess=kept /);
      assert.equal(q1!.conn, q2!.conn, 'one server connection (keep-alive)');
    }, [web, raw]);
  });

  it('a request split across two writes: the bytes read before the upgrade are not lost', T, async () => {
    const web = await startHttpBackend('W');
    const raw = await startTestServer('R', { mode: 'echo' });
    const [fp] = await freePorts(1);
    await withProxy(implicitCfg(fp!, web, raw.port), fp!, async () => {
      // the switching decision waits for 4 bytes: "GE" alone decides nothing
      const a = await rawHttp(fp!, ['GE', 'T /split HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 150 });
      assert.deepEqual(bodies(a), ['W GET /split\n']);
      // the head complete, the body split: part of it read with the head before the upgrade
      const b = await rawHttp(fp!, ['POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc', 'defghij'], { gapMs: 150 });
      assert.deepEqual(bodies(b), ['W POST /p\n']);
      assert.equal(web.requests[1]!.body.toString(), 'abcdefghij');
      // the head itself cut after the switching decision: the rest reaches the HTTP stream
      const c = await rawHttp(fp!, ['GET /cut HTTP/1.1\r\nHo', 'st: x\r\nConnection: close\r\n\r\n'], { gapMs: 150 });
      assert.deepEqual(bodies(c), ['W GET /cut\n']);
      assert.equal(web.requests[2]!.headers.host, 'x');
    }, [web, raw]);
  });

  it('a TCP backend chosen by the same rules still relays raw bytes both ways', T, async () => {
    const web = await startHttpBackend('W');
    const raw = await startTestServer('R', { mode: 'echo' });
    const [fp] = await freePorts(1);
    await withProxy(implicitCfg(fp!, web, raw.port), fp!, async () => {
      const got = await tcpExchange(fp!, 'HELLO raw bytes\r\n\x00\xff', { halfClose: true });
      assert.equal(got, 'HELLO raw bytes\r\n\x00\xff');
      assert.equal(web.requests.length, 0);
    }, [web, raw]);
  });

  it('default_backend in mode http (no rules): the connection is HTTP, the backend options apply', T, async () => {
    const web = await startHttpBackend('D');
    const [fp] = await freePorts(1);
    await withProxy(`${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  mode http
  option forwardfor
  server s 127.0.0.1:${web.port}
`, fp!, async () => {
      const r = await rawHttp(fp!, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 50 });
      assert.deepEqual(bodies(r), ['D GET /1\n', 'D GET /2\n']);
      assert.equal(web.requests[0]!.headers['x-forwarded-for'], '127.0.0.1');
    }, [web]);
  });
});

describe('tcp to http upgrade: PROXY protocol', () => {
  it('the addresses of the PROXY header go on with the connection; bytes after it start the request', T, async () => {
    const web = await startHttpBackend('P');
    const [fp] = await freePorts(1);
    await withProxy(`${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp} accept-proxy
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.len ge 4 }
  use_backend web if { req.payload(0,4) -m str "GET " }
backend web
  mode http
  option forwardfor
  http-request set-header x-addr "%[src]:%[src_port] %[dst]:%[dst_port]"
  server s 127.0.0.1:${web.port}
`, fp!, async () => {
      const r = await rawHttp(fp!, ['PROXY TCP4 192.0.2.7 198.51.100.9 4321 8080\r\nGE', 'T /pp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(bodies(r), ['P GET /pp\n']);
      assert.equal(web.requests[0]!.headers['x-forwarded-for'], '192.0.2.7');
      assert.equal(web.requests[0]!.headers['x-addr'], '192.0.2.7:4321 198.51.100.9:8080');
    }, [web]);
  });
});

describe('tcp to http upgrade: tcp-request content switch-mode http', () => {
  const cfg = (fp: number, web: HttpBackend, extra = ''): string => `${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 3s
  tcp-request content set-var(txn.t) str(tv)
  tcp-request content set-var(sess.s) str(sv)
  tcp-request content set-src ipv4(10.1.2.3)
  tcp-request content switch-mode http proto h1 if HTTP
  tcp-request content reject
${extra}
  http-request set-header x-fe "fe t=%[var(txn.t)] s=%[var(sess.s)] src=%[src]"
  http-request return status 403 if { path /forbidden }
  default_backend web
backend web
  mode http
  http-request set-header x-be be
  server s 127.0.0.1:${web.port}
`;

  it('the frontend\'s http-request rules apply after the upgrade, with what the TCP rules set', T, async () => {
    const web = await startHttpBackend('S');
    const [fp] = await freePorts(1);
    await withProxy(cfg(fp!, web), fp!, async () => {
      const r = await rawHttp(fp!, ['GET /a HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /forbidden HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(r.responses.map((x) => x.status), [200, 403, 200]);
      assert.deepEqual(web.requests.map((q) => q.url), ['/a', '/b']);
      const [q1, q2] = web.requests;
      assert.equal(q1!.headers['x-fe'], 'fe t=tv s=sv src=10.1.2.3');
      assert.equal(q1!.headers['x-be'], 'be');
      // later requests run the frontend's tcp-request content rules again (switch-mode stops
      // them before the reject), then its http-request rules
      assert.equal(q2!.headers['x-fe'], 'fe t=tv s=sv src=10.1.2.3');
      assert.equal(q1!.conn, q2!.conn);
    }, [web]);
  });

  it('rules after switch-mode are not evaluated; non-HTTP contents reach the reject', T, async () => {
    const web = await startHttpBackend('S');
    const [fp] = await freePorts(1);
    await withProxy(cfg(fp!, web), fp!, async () => {
      const r = await rawHttp(fp!, 'NOT HTTP AT ALL\r\n\r\n');
      assert.equal(r.closed, true);
      assert.equal(r.raw.length, 0);
      assert.equal(web.requests.length, 0);
    }, [web]);
  });

  it('bytes read before the upgrade start the HTTP input (head and body split over writes)', T, async () => {
    const web = await startHttpBackend('S');
    const [fp] = await freePorts(1);
    // upgrade as soon as anything arrived: the rest of the head comes after it
    const c = cfg(fp!, web).replace('switch-mode http proto h1 if HTTP', 'switch-mode http if { req.len gt 0 }');
    await withProxy(c, fp!, async () => {
      const r = await rawHttp(fp!, ['POST /sp', 'lit HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nab', 'cdef'], { gapMs: 150 });
      assert.deepEqual(bodies(r), ['S POST /split\n']);
      assert.equal(web.requests[0]!.body.toString(), 'abcdef');
      assert.equal(web.requests[0]!.headers['x-fe'], 'fe t=tv s=sv src=10.1.2.3');
    }, [web]);
  });

  it('an upgraded connection routed to a TCP backend is closed without a reply', T, async () => {
    const web = await startHttpBackend('S');
    const raw = await startTestServer('R', { mode: 'echo' });
    const [fp] = await freePorts(1);
    const c = cfg(fp!, web, `  use_backend raw if { path /raw }`) + `backend raw\n  mode tcp\n  server s 127.0.0.1:${raw.port}\n`;
    await withProxy(c, fp!, async () => {
      const r = await rawHttp(fp!, 'GET /raw HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal(r.closed, true);
      assert.equal(r.raw.length, 0);
      assert.equal(raw.accepted, 0);
    }, [web, raw]);
  });
});

describe('tcp to http upgrade: configuration', () => {
  const parse = (rule: string, section = 'frontend f\n  mode tcp\n  bind 127.0.0.1:1') =>
    parseConfigText(`${DEFAULTS}\n${section}\n  tcp-request content ${rule}\n`);
  const alerts = (r: ReturnType<typeof parseConfigText>): string => JSON.stringify(r.diags);

  it('switch-mode http [proto h1] is accepted; proto h2, other modes and protocols are refused', () => {
    assert.equal(parse('switch-mode http').fatal, false, alerts(parse('switch-mode http')));
    assert.equal(parse('switch-mode http proto h1 if HTTP').fatal, false);
    const h2 = parse('switch-mode http proto h2');
    assert.equal(h2.fatal, true);
    assert.match(alerts(h2), /not supported yet/);
    assert.match(alerts(parse('switch-mode tcp')), /expects a valid mode \(got 'tcp'\)/);
    assert.match(alerts(parse('switch-mode')), /expects a mode as argument/);
    assert.match(alerts(parse('switch-mode http proto')), /'proto' expects a protocol as argument/);
    assert.match(alerts(parse('switch-mode http proto foo')), /valid MUX protocol.*'foo'/);
    assert.equal(parse('switch-mode http foo').fatal, true);
    assert.match(alerts(parse('switch-mode http', 'backend b\n  mode tcp')), /no frontend capability/);
  });

  it('switch-mode is a tcp-request content action only', () => {
    const r = parseConfigText(`${DEFAULTS}\nfrontend f\n  mode tcp\n  bind 127.0.0.1:1\n  tcp-request connection switch-mode http\n`);
    assert.equal(r.fatal, true);
    const h = parseConfigText(`${DEFAULTS}\nfrontend f\n  mode http\n  bind 127.0.0.1:1\n  http-request switch-mode http\n`);
    assert.equal(h.fatal, true);
  });
});

describe('tcp to http upgrade: counters (in-process runtime)', () => {
  it('the session is counted once; the backend enters and leaves once; nothing is left over', T, async () => {
    const web = await startHttpBackend('C');
    const [fp, fp2] = await freePorts(2);
    const r = parseConfigText(`${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:${fp}
  tcp-request inspect-delay 2s
  tcp-request content accept if { req.len ge 4 }
  use_backend web if { req.payload(0,4) -m str "GET " }
  use_backend web if METH_GET
frontend g
  mode tcp
  bind 127.0.0.1:${fp2}
  tcp-request inspect-delay 2s
  tcp-request content switch-mode http if HTTP
  default_backend web
backend web
  mode http
  server s 127.0.0.1:${web.port}
`);
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    const rt = new Runtime(r.config, { maxconnOverride: 100 });
    rt.onExit = () => {};
    await rt.bindAll();
    try {
      for (const port of [fp!, fp2!]) {
        const res = await rawHttp(port, ['GET /1 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 50 });
        assert.deepEqual(bodies(res), ['C GET /1\n', 'C GET /2\n']);
      }
      await waitFor(() => rt.streams.size === 0 && rt.curConns === 0, 3000, 'sessions ended');
      const fe = rt.findProxy('f')!, g = rt.findProxy('g')!, be = rt.findProxy('web')!;
      assert.equal(rt.cumConns, 2);
      assert.equal(fe.feCounters.cumConns, 1);
      assert.equal(g.feCounters.cumConns, 1);
      assert.equal(fe.feCounters.cur, 0);
      assert.equal(g.feCounters.cur, 0);
      assert.equal(fe.feCounters.reqTotal, 2);
      assert.equal(be.counters.cur, 0);
      for (const l of rt.listeners) { assert.equal(l.cur, 0); assert.equal(l.counters.cumConns, 1); }
      // both requests of each connection went through the backend
      assert.equal(web.requests.length, 4);
    } finally {
      rt.hardStop();
      await sleep(50);
      await web.close();
    }
  });
});


describe('tcp to http upgrade: sockets read through a re-created net.Socket (adoptAccepted)', () => {
  it('the handover redirects the reads of a socket accepted without the onread hook', T, async () => {
    const web = await startHttpBackend('A');
    const r = parseConfigText(`${DEFAULTS}
frontend f
  mode tcp
  bind 127.0.0.1:1
  tcp-request inspect-delay 2s
  tcp-request content switch-mode http if { req.len gt 0 }
  default_backend web
backend web
  mode http
  server s 127.0.0.1:${web.port}
`);
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    const rt = new Runtime(r.config, { maxconnOverride: 100 });
    rt.onExit = () => {};
    // a plain server: its sockets have no read hook, so the stream re-creates them with onread
    const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => rt.accept(rt.listeners[0]!, sock));
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const res = await rawHttp(port, ['GET /ad', 'opt HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { gapMs: 100 });
      assert.deepEqual(bodies(res), ['A GET /adopt\n', 'A GET /2\n']);
      await waitFor(() => rt.streams.size === 0 && rt.curConns === 0, 3000, 'session ended');
      assert.equal(rt.cumConns, 1);
    } finally {
      rt.hardStop();
      // (not awaited: the handle moved to the re-created socket, the server never counts it closed)
      srv.close();
      srv.unref();
      await web.close();
    }
  });
});
