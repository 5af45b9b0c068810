#!/usr/bin/env node
// Memory with many idle keep-alive client connections: opens `conns` connections to the proxy
// (`batch` at a time), sends one GET on each and reads the response, keeps them all open for
// `hold` seconds, then reads the proxy's RSS (VmRSS of /proc/<pid>/status) and prints one JSON
// line. Stops on its own: everything is closed after `limit` seconds at the latest.
//
//   node bench/idle-conns.mjs --port 8080 --pid 1234 [--conns 10000] [--batch 200] [--path /small] [--hold 2] [--limit 120]
//
// Needs an open-files limit above `conns` (ulimit -n) for itself, and twice that for the proxy.
import fs from 'node:fs';
import { HttpConn, parseArgs } from './http-client.mjs';

const o = parseArgs(process.argv.slice(2), { port: '', pid: '', conns: '10000', batch: '200', path: '/small', hold: '2', limit: '120' });
const port = Number(o.port);
const n = Number(o.conns);
if (!port || !o.pid) { console.error('usage: idle-conns.mjs --port N --pid PID [--conns 10000] [--batch 200] [--path /small] [--hold 2] [--limit 120]'); process.exit(2); }

const rssKiB = () => {
  try { return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${o.pid}/status`, 'utf8'))[1]); } catch { return undefined; }
};
const conns = [];
const limit = setTimeout(() => {
  console.log(JSON.stringify({ error: `not done after ${o.limit} s`, opened: conns.length }));
  for (const c of conns) c.close();
  process.exit(1);
}, Number(o.limit) * 1000);

const rssBeforeKiB = rssKiB();
const t0 = Date.now();
let failed = 0;
/** opens one connection, sends one request, resolves when the response is complete */
const one = () => new Promise((resolve) => {
  let c;
  try {
    c = new HttpConn(port, o.path, (_conn, err) => { if (err) failed++; resolve(); });
  } catch { failed++; resolve(); return; }
  conns.push(c);
  c.connected.then(() => c.send(), () => { failed++; resolve(); });
});
for (let i = 0; i < n; i += Number(o.batch)) {
  await Promise.all(Array.from({ length: Math.min(Number(o.batch), n - i) }, one));
}
const openMs = Date.now() - t0;
await new Promise((r) => setTimeout(r, Number(o.hold) * 1000));
const rss = rssKiB();
const stillOpen = conns.filter((c) => !c.closed).length;
clearTimeout(limit);
for (const c of conns) c.close();
console.log(JSON.stringify({ conns: n, failed, stillOpen, openMs, rssBeforeKiB, rssKiB: rss, rssMiB: rss && Math.round(rss / 102.4) / 10 }));
