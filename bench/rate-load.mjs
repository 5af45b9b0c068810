#!/usr/bin/env node
// Fixed-rate load generator (wrk has no rate option): sends `rate` GET requests per second over
// `conns` keep-alive connections for `duration` seconds and prints one JSON line with the
// latency percentiles (ms) of the responses.
//
//   node bench/rate-load.mjs --port 8080 [--path /small] [--rate 5000] [--conns 50] [--duration 10]
//
// Open loop: request i is due at t0 + i/rate. It goes out on a free connection at the next
// 1 ms tick; if all connections are busy it waits for one. `latency` is measured from the moment
// the request is written (process.hrtime); `latencyFromDue` from the moment it was due, so it
// also counts the wait for a free connection (no coordinated omission when the proxy stalls).
import { HttpConn, parseArgs, percentile } from './http-client.mjs';

const o = parseArgs(process.argv.slice(2), { port: '', path: '/small', rate: '5000', conns: '50', duration: '10' });
const port = Number(o.port);
const rate = Number(o.rate);
const durationNs = BigInt(Math.round(Number(o.duration) * 1e9));
if (!port || !(rate > 0)) { console.error('usage: rate-load.mjs --port N [--path /small] [--rate 5000] [--conns 50] [--duration 10]'); process.exit(2); }

const lat = [];       // µs from write to end of response
const latDue = [];    // µs from due time to end of response
let errors = 0;
const free = [];
const queue = [];     // due times (bigint ns) of requests waiting for a connection
const dueOf = new Map();
let t0 = 0n;
let sent = 0;
let finished = false;

function onResponse(conn, err) {
  const now = process.hrtime.bigint();
  if (err) errors++;
  else {
    lat.push(Number(now - conn.sentAt) / 1000);
    latDue.push(Number(now - dueOf.get(conn)) / 1000);
  }
  if (conn.closed) return;
  if (queue.length) dispatch(conn, queue.shift());
  else free.push(conn);
}

function dispatch(conn, due) {
  dueOf.set(conn, due);
  conn.send();
}

const conns = Array.from({ length: Number(o.conns) }, () => new HttpConn(port, o.path, onResponse));
await Promise.all(conns.map((c) => c.connected));
free.push(...conns);

t0 = process.hrtime.bigint();
const periodNs = 1e9 / rate;
await new Promise((resolve) => {
  const tick = () => {
    const now = process.hrtime.bigint();
    const elapsed = now - t0;
    if (elapsed >= durationNs) { resolve(); return; }
    const due = Math.floor(Number(elapsed) / periodNs) + 1;
    for (; sent < due; sent++) {
      const dueAt = t0 + BigInt(Math.round(sent * periodNs));
      const c = free.pop();
      if (c) dispatch(c, dueAt);
      else queue.push(dueAt);
    }
    setTimeout(tick, 1);
  };
  tick();
});
// let the outstanding requests finish (at most 5 s)
const deadline = Date.now() + 5000;
while ((queue.length || conns.some((c) => c.busy)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
finished = true;
const outstanding = queue.length + conns.filter((c) => c.busy).length;
for (const c of conns) c.close();

const ms = (us) => (us === undefined ? undefined : Math.round(us) / 1000);
const stats = (arr) => {
  arr.sort((a, b) => a - b);
  return { p50: ms(percentile(arr, 50)), p90: ms(percentile(arr, 90)), p99: ms(percentile(arr, 99)), p999: ms(percentile(arr, 99.9)), max: ms(arr[arr.length - 1]) };
};
const wallS = Number(durationNs) / 1e9;
console.log(JSON.stringify({
  finished, targetRate: rate, conns: conns.length, durationSec: wallS, requests: lat.length, errors, outstanding,
  achievedRate: Math.round(lat.length / wallS), latencyMs: stats(lat), latencyFromDueMs: stats(latDue),
}));
