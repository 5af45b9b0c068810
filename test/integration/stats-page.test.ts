// The stats page served by the real binary: authentication, the HTML page, ;csv, the admin form
// (POST) changing a server's state, and the log line of a stats request (<STATS>, LR--).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePorts, startProxyWithConfig, waitFor, type Proc } from '../helpers/harness.js';
import { rawHttp, header, startRecordingBackend } from '../helpers/http.js';
import { udpSyslogReceiver } from '../helpers/syslog.js';

test('stats page: auth, HTML, CSV, admin POST, log line', { timeout: 30_000 }, async () => {
  const rx = await udpSyslogReceiver();
  const lines = rx.lines;
  const be = await startRecordingBackend(() => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  const [sp, fp] = await freePorts(2);
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  log 127.0.0.1:${rx.port} local0
defaults
  mode http
  timeout connect 1s
  timeout client 3s
  timeout server 3s
listen stats
  bind 127.0.0.1:${sp}
  log global
  option httplog
  option dontlognull
  stats enable
  stats uri /st
  stats realm Ops
  stats auth admin:pw
  stats admin if TRUE
frontend f
  bind 127.0.0.1:${fp}
  default_backend b
backend b
  server s1 127.0.0.1:${be.port}
`, [sp!, fp!]);
    const auth = 'Basic ' + Buffer.from('admin:pw').toString('base64');
    const noAuth = await rawHttp(sp!, 'GET /st HTTP/1.1\r\nhost: x\r\n\r\n', { responses: 1 });
    assert.equal(noAuth.responses[0]!.status, 401);
    assert.equal(header(noAuth.responses[0]!, 'www-authenticate'), 'Basic realm="Ops"');

    const page = await rawHttp(sp!, `GET /st HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\n\r\n`, { responses: 1 });
    const r = page.responses[0]!;
    assert.equal(r.status, 200);
    assert.match(header(r, 'content-type') ?? '', /text\/html/);
    const html = r.body.toString('latin1');
    assert.match(html, /<h1>/);
    assert.match(html, /name="b" value="b"|>b<\/a>/, 'backend b has its table');
    assert.match(html, />s1</);

    const csv = await rawHttp(sp!, `GET /st;csv HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\n\r\n`, { responses: 1 });
    const text = csv.responses[0]!.body.toString('latin1');
    assert.ok(text.startsWith('# pxname,svname,qcur,qmax,scur,smax,slim,stot,'), text.slice(0, 80));
    assert.match(text, /^b,s1,.*,(UP|no check),/m);

    const body = 's=s1&action=maint&b=b';
    const post = await rawHttp(sp!, `POST /st HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n${body}`, { responses: 1 });
    assert.equal(post.responses[0]!.status, 303);
    assert.match(header(post.responses[0]!, 'location') ?? '', /^\/st;st=DONE$/);
    const after = await rawHttp(sp!, `GET /st;csv HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\n\r\n`, { responses: 1 });
    assert.match(after.responses[0]!.body.toString('latin1'), /^b,s1,.*,MAINT,/m);

    await waitFor(() => lines.some((l) => l.includes('"POST /st HTTP/1.1"')), 3000, 'stats request logged');
    const logged = lines.find((l) => l.includes('"GET /st HTTP/1.1"') && l.includes(' 200 '))!;
    // an applet: HAProxy reports 0 for its queue, connect and response times
    assert.match(logged, / stats stats\/<STATS> \d+\/0\/0\/0\/\d+ 200 \d+ - - LR-- /);
  } finally {
    await p?.stop();
    await be.close();
    rx.close();
  }
});
