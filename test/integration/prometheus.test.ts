// `http-request use-service prometheus-exporter` on the running binary: headers and chunked
// framing, keep-alive, HEAD, scope/no-maint filtering, the 400 for a bad scope, counter values
// after known traffic, and the configuration errors. Expected answers are HAProxy 2.6's for the
// same configuration and requests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { BIN, freePorts, startProxy, tempDir, writeConfig, runCmd, httpTestHead, type Proc } from '../helpers/harness.js';
import { httpFetch } from '../helpers/http.js';

const T = { timeout: 30_000 };

const request = (port: number, path: string, method = 'GET', agent: http.Agent | false = false) => httpFetch(port, path, { method, agent });

/** Raw exchange: sends `req`, reads until the peer closes or `ms` elapse. */
function raw(port: number, req: string, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(req));
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(got); };
    const t = setTimeout(done, ms);
    s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    s.on('close', done);
    s.on('error', done);
  });
}

const families = (body: string): string[] => body.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);

describe('prometheus-exporter service', T, () => {
  let proc: Proc | undefined;
  let srv: http.Server | undefined;
  let fe = 0;
  before(async () => {
    const [p, s] = await freePorts(2);
    fe = p!;
    srv = http.createServer((_q, r) => { r.writeHead(200, { 'content-type': 'text/plain' }); r.end('hello\n'); });
    await new Promise<void>((res) => srv!.listen(s, '127.0.0.1', res));
    const dir = tempDir('hts-prom-');
    const cfg = writeConfig(dir, `
${httpTestHead()}frontend fe
  bind 127.0.0.1:${fe}
  http-request use-service prometheus-exporter if { path /metrics }
  default_backend be
backend be
  server s1 127.0.0.1:${s}
  server s2 127.0.0.1:${s} disabled
`);
    proc = await startProxy(BIN, ['-db', '-f', cfg], [fe], { timeoutMs: 10_000 });
  });
  after(async () => {
    await proc?.stop();
    await new Promise<void>((res) => (srv ? srv.close(() => res()) : res()));
  });

  it('answers with the exposition format, chunked, and counts the traffic', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(fe, '/x')).status, 200);
    const r = await request(fe, '/metrics?scope=frontend&scope=server');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    // haproxy 2.6 counts the exporter's own request too
    assert.match(r.body, /^haproxy_frontend_http_requests_total\{proxy="fe"\} 4$/m);
    assert.match(r.body, /^haproxy_server_sessions_total\{proxy="be",server="s1"\} 3$/m);
    assert.match(r.body, /^haproxy_server_http_responses_total\{proxy="be",server="s1",code="2xx"\} 3$/m);
    assert.match(r.body, /^haproxy_server_status\{proxy="be",server="s2",state="MAINT"\} 1$/m);
    assert.match(r.body, /^haproxy_server_status\{proxy="be",server="s1",state="UP"\} 1$/m);
    assert.match(r.body, /^# HELP haproxy_frontend_current_sessions Number of current sessions on the frontend, backend or server$/m);
    assert.ok(families(r.body).every((n) => n.startsWith('haproxy_frontend_') || n.startsWith('haproxy_server_')));
    assert.ok(!r.body.includes('haproxy_process_'));
  });

  it('filters scopes and servers in maintenance', async () => {
    const g = await request(fe, '/metrics?scope=global');
    assert.ok(families(g.body).length === 60 && families(g.body).every((n) => n.startsWith('haproxy_process_')));
    assert.match(g.body, /^haproxy_process_build_info\{version="[^"]+"\} 1$/m);
    assert.match(g.body, /^haproxy_process_nbproc 1$/m);
    const none = await request(fe, '/metrics?scope=');
    assert.equal(none.status, 200);
    assert.equal(none.body, '');
    const st = await request(fe, '/metrics?scope=sticktable');
    assert.equal(st.body, '');
    const nm = await request(fe, '/metrics?scope=server&no-maint');
    assert.ok(nm.body.includes('server="s1"'));
    assert.ok(!nm.body.includes('server="s2"'));
    const all = await request(fe, '/metrics');
    const prefixes = [...new Set(families(all.body).map((n) => n.split('_')[1]))];
    assert.deepEqual(prefixes, ['process', 'frontend', 'backend', 'server']);
  });

  it('rejects an unknown scope with 400 and closes', async () => {
    const r = await raw(fe, 'GET /metrics?scope=foo HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.equal(r, 'HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n'
      + '<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n');
  });

  it('HEAD gets the headers only; the connection is kept alive', async () => {
    const r = await raw(fe, 'HEAD /metrics HTTP/1.1\r\nhost: x\r\n\r\nGET /metrics?scope= HTTP/1.1\r\nhost: x\r\n\r\n', 1000);
    const head = 'HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ntransfer-encoding: chunked\r\n\r\n';
    assert.equal(r, `${head}${head}0\r\n\r\n`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await request(fe, '/metrics?scope=frontend', 'GET', agent);
      const b = await request(fe, '/metrics?scope=frontend', 'GET', agent);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.match(b.body, /^haproxy_frontend_current_sessions\{proxy="fe"\} 1$/m);
    } finally {
      agent.destroy();
    }
  });
});

describe('use-service configuration errors', T, () => {
  const check = async (rule: string): Promise<{ code: number | null; stderr: string }> => {
    const dir = tempDir('hts-prom-cfg-');
    const [port] = await freePorts(1);
    const cfg = writeConfig(dir, `defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:${port}\n  ${rule}\n`);
    const r = await runCmd(BIN, ['-c', '-f', cfg], { timeoutMs: 15_000 });
    return { code: r.code, stderr: r.stderr };
  };
  it('accepts the exporter in http-request rules', async () => {
    const r = await check('http-request use-service prometheus-exporter if { path /metrics }');
    assert.equal(r.code, 0, r.stderr);
  });
  it('rejects unknown services, a missing name, tcp-request content and extra words', async () => {
    let r = await check('http-request use-service foo');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[ALERT\].*haproxy\.cfg:8.*'foo' unknown service name\./);
    r = await check('http-request use-service');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /'use-service' expects a service name\./);
    r = await check('tcp-request content use-service prometheus-exporter');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Prometheus exporter service only available on 'http-request' rulesets/);
    r = await check('http-request use-service prometheus-exporter extra');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /expects either 'if' or 'unless' followed by a condition but found 'extra'/);
  });
});
