// Interop: the built-in error pages of Debian's HAProxy 2.6, read off the wire, must equal
// defaultErrorReply(code) byte for byte (and the 2.6 H1 mux's early 400 equals the raw page).
// Only haproxy runs here: the configuration uses `http-request deny`, which haproxy-ts lacks yet.
// Skipped when no haproxy binary is installed. Every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';
import { haproxyPath, freePorts, tempDir, writeConfig, startProxy } from '../helpers/harness.js';
import { defaultErrorReply, rawDefaultErrorMessage } from '../../src/http/errors.js';

const HAPROXY = haproxyPath();
const SKIP = HAPROXY ? false : 'haproxy not installed';

/** Sends `req`, collects what comes back until `until` bytes arrived, the peer closes, or a timeout. */
function exchange(port: number, req: string, until: number, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const s = net.connect(port, '127.0.0.1', () => s.write(req));
    const done = (): void => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks)); };
    const t = setTimeout(done, timeoutMs);
    s.on('data', (d: Buffer) => { chunks.push(d); got += d.length; if (got >= until) done(); });
    s.on('close', done);
    s.on('error', done);
  });
}

test('haproxy 2.6 default error pages equal defaultErrorReply()', { skip: SKIP, timeout: 30_000 }, async () => {
  const [port] = await freePorts(1);
  const denied = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504];
  const dir = tempDir('hts-errors-interop-');
  const cfg = writeConfig(dir, `global
  nbthread 1
defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:${port}
${denied.map((c) => `  http-request deny deny_status ${c} if { path /deny/${c} }`).join('\n')}
  default_backend nosrv
backend nosrv
`);
  const proc = await startProxy(HAPROXY!, ['-db', '-f', cfg], [port!], { timeoutMs: 8000 });
  try {
    // 503: a backend without servers
    const want503 = defaultErrorReply(503);
    assert.equal((await exchange(port!, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', want503.length)).toString('latin1'), want503.toString('latin1'));
    // every page through http-request deny deny_status
    for (const code of denied) {
      const want = defaultErrorReply(code);
      const got = await exchange(port!, `GET /deny/${code} HTTP/1.1\r\nhost: x\r\n\r\n`, want.length);
      assert.equal(got.toString('latin1'), want.toString('latin1'), `status ${code}`);
    }
    // 400: an unparsable request is answered by the H1 multiplexer with the raw page
    const raw400 = rawDefaultErrorMessage(400);
    const got400 = await exchange(port!, 'GET / HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n', raw400.length);
    assert.equal(got400.toString('latin1'), raw400.toString('latin1'));
  } finally {
    await proc.stop('SIGTERM', 2000);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
