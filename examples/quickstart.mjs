#!/usr/bin/env node
// Quick start: launches three demo web servers on loopback, runs haproxy-ts with
// examples/quickstart.cfg in front of them, shows a few balanced requests, and keeps
// serving until Ctrl-C. QUICKSTART_ONESHOT=1 exits after the demo (used by the tests).
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.QS_PORT ?? 8080);
const demoPorts = [9001, 9002, 9003].map((p, i) => Number(process.env[`QS_DEMO${i + 1}`] ?? p));
const sock = process.env.QS_STATS_SOCKET ?? path.join(os.tmpdir(), `haproxy-ts-quickstart-${process.pid}.sock`);

const servers = demoPorts.map((p, i) => http.createServer((req, res) => {
  const body = `hello from demo${i + 1} (127.0.0.1:${p}), you are ${req.headers['x-forwarded-for'] ?? 'unknown'}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(p, '127.0.0.1'));

const env = { ...process.env, QS_PORT: String(port), QS_STATS_SOCKET: sock };
demoPorts.forEach((p, i) => { env[`QS_DEMO${i + 1}`] = String(p); });
const proxy = spawn(process.execPath, [path.join(root, 'bin', 'haproxy-ts'), '-f', path.join(root, 'examples', 'quickstart.cfg')], { env, stdio: ['ignore', 'inherit', 'inherit'] });

const ask = (p = '/') => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
    let got = '';
    res.on('data', (d) => { got += d; });
    res.on('end', () => resolve(got.trim()));
  }).on('error', reject);
});

async function demo() {
  for (let i = 0; i < 100; i++) {
    try { await ask(); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  console.log(`haproxy-ts is listening on 127.0.0.1:${port} (stats socket: ${sock})`);
  console.log('Four requests through the proxy (roundrobin, demo1 has weight 2; option forwardfor):');
  for (let i = 0; i < 4; i++) console.log(`  ${await ask()}`);
  const metrics = (await ask('/metrics')).split('\n').filter((l) => l.startsWith('haproxy_')).length;
  console.log(`Prometheus metrics at /metrics: ${metrics} samples`);
  console.log(`Try: curl http://127.0.0.1:${port}/   curl http://127.0.0.1:${port}/healthz   echo "show servers state" | socat stdio ${sock}`);
  console.log(`     http://127.0.0.1:${port}/stats (stats page)   http://127.0.0.1:${port}/dashboard (live dashboard)`);
}

function shutdown(code) {
  proxy.kill('SIGTERM');
  for (const s of servers) s.close();
  setTimeout(() => process.exit(code), 200);
}

proxy.on('exit', (code) => { if (code) { console.error(`haproxy-ts exited with ${code}`); process.exit(code); } });
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
demo().then(() => {
  if (process.env.QUICKSTART_ONESHOT === '1') shutdown(0);
  else console.log('Serving; press Ctrl-C to stop.');
}, (e) => { console.error(e); shutdown(1); });
