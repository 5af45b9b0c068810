// Micro-benchmark of the HTTP/1 request head parser (dist/src/http/h1.js; run `npm run build` first).
// Parses a typical ~400-byte browser request N times and prints ns/op.
//   node bench/h1-parse.mjs [iterations]
import { parseRequestHead } from '../dist/src/http/h1.js';

const raw = Buffer.from(
  'GET /assets/css/main.min.css?v=20240611 HTTP/1.1\r\n' +
  'Host: www.example.com\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
  'Accept: text/css,*/*;q=0.1\r\n' +
  'Accept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
  'Referer: https://www.example.com/\r\n' +
  'Connection: keep-alive\r\n' +
  'Cookie: session=8f3a9c1e2b7d4f60; theme=dark\r\n' +
  'Sec-Fetch-Dest: style\r\n' +
  'Sec-Fetch-Mode: no-cors\r\n' +
  'Sec-Fetch-Site: same-origin\r\n' +
  '\r\n', 'latin1');

const opts = { maxHeadBytes: 16384 - 1024, maxHeaders: 101 };
const n = Number(process.argv[2] ?? 1e6);
let check = 0;
for (let i = 0; i < 2e5; i++) { const r = parseRequestHead(raw, opts); if (r.state === 'ok') check += r.headLength; } // warm-up
const t0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) { const r = parseRequestHead(raw, opts); if (r.state === 'ok') check += r.headLength; }
const ns = Number(process.hrtime.bigint() - t0) / n;
if (check === 0) throw new Error('parse failed');
console.log(`h1 parseRequestHead: ${raw.length} bytes, ${n} iterations, ${ns.toFixed(1)} ns/op (${(raw.length / ns * 1e3).toFixed(0)} MB/s)`);
