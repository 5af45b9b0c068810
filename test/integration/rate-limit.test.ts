// Rate limits with the real binary: a frontend's `rate-limit sessions`, the global
// `maxconnrate`, and `set rate-limit connections global` on the stats socket. Connections over
// the limit wait (they are not refused) and are served once the rate allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePorts, startProxyWithConfig, cliCommand, tempDir, type Proc } from '../helpers/harness.js';
import { rawHttp } from '../helpers/http.js';

async function burst(port: number, n: number): Promise<number> {
  const t0 = Date.now();
  const all = await Promise.all(Array.from({ length: n }, () => rawHttp(port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', { responses: 1, timeoutMs: 10_000 })));
  for (const r of all) assert.equal(r.responses[0]!.status, 200);
  return Date.now() - t0;
}

test('rate-limit sessions, maxconnrate and set rate-limit', { timeout: 60_000 }, async () => {
  const [limited, global, free] = await freePorts(3);
  const sock = path.join(tempDir('hts-rate-'), 's.sock');
  let p: Proc | undefined;
  try {
    p = await startProxyWithConfig(`global
  stats socket ${sock} level admin
  maxconnrate 1000
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend limited
  bind 127.0.0.1:${limited}
  rate-limit sessions 5
  http-request return status 200
frontend free
  bind 127.0.0.1:${free}
  http-request return status 200
frontend global
  bind 127.0.0.1:${global}
  http-request return status 200
`, [limited!, free!, global!]);
    // 15 connections at 5 per second: the last ones wait about two seconds
    const slow = await burst(limited!, 15);
    assert.ok(slow >= 1500, `15 sessions at 5/s took ${slow} ms`);
    const fast = await burst(free!, 15);
    assert.ok(fast < 1200, `no limit: ${fast} ms`);
    // the frontend's limit shows as rate_lim in show stat (column 35)
    const csv = await cliCommand(sock, 'show stat');
    const row = csv.split('\n').find((l) => l.startsWith('limited,FRONTEND,'))!;
    assert.equal(row.split(',')[34], '5');
    assert.match(await cliCommand(sock, 'show info'), /^ConnRateLimit: 1000$/m);
    // the global limit, lowered at run time, slows every frontend; 0 lifts it
    assert.equal(await cliCommand(sock, 'set rate-limit connections global 4'), '\n');
    assert.match(await cliCommand(sock, 'show info'), /^ConnRateLimit: 4$/m);
    await new Promise((r) => setTimeout(r, 1100)); // the previous bursts leave the window
    const g = await burst(global!, 12);
    assert.ok(g >= 1500, `12 connections at 4/s took ${g} ms`);
    assert.equal(await cliCommand(sock, 'set rate-limit connections global 0'), '\n');
    const g2 = await burst(global!, 12);
    assert.ok(g2 < 1200, `limit lifted: ${g2} ms`);
    assert.match(await cliCommand(sock, 'set rate-limit ssl-sessions global 5'), /not supported yet/);
  } finally {
    await p?.stop();
  }
});
