#!/usr/bin/env node
// Reference point for bench/run-http.mjs: a plain Node.js HTTP reverse proxy, the way one is
// usually written: node:http server in front, undici's Pool (keep-alive connections) behind.
// No configuration beyond ports, no header rewriting except the hop-by-hop headers.
// undici is a devDependency for this file only (haproxy-ts itself does not use it).
//
//   node bench/node-http-proxy.mjs <listen-port> <upstream-port> [connections]
import http from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

const [port, upstreamPort, connections = '256'] = process.argv.slice(2);
if (!port || !upstreamPort) {
  console.error('usage: node bench/node-http-proxy.mjs <listen-port> <upstream-port> [connections]');
  process.exit(2);
}

const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, {
  connections: Number(connections),
  keepAliveTimeout: 10_000,
  pipelining: 1,
});

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardHeaders(raw) {
  const out = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(k)) continue;
    out[k] = out[k] === undefined ? raw[i + 1] : `${out[k]}, ${raw[i + 1]}`;
  }
  return out;
}

const server = http.createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.request({
    method: req.method,
    path: req.url,
    headers: { ...forwardHeaders(req.rawHeaders), host: req.headers.host ?? `127.0.0.1:${upstreamPort}` },
    body: hasBody ? req : undefined,
  }).then(({ statusCode, headers, body }) => {
    for (const k of Object.keys(headers)) if (HOP_BY_HOP.has(k)) delete headers[k];
    res.writeHead(statusCode, headers);
    pipeline(body, res, () => {});
  }, () => {
    if (!res.headersSent) { res.writeHead(502, { 'content-type': 'text/plain' }); res.end('502 Bad Gateway\n'); } else res.destroy();
  });
});
server.keepAliveTimeout = 10_000;
server.headersTimeout = 30_000;
server.requestTimeout = 0;
server.maxHeadersCount = 100;
server.listen(Number(port), '127.0.0.1');

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { server.close(); pool.destroy().finally(() => process.exit(0)); server.closeAllConnections?.(); });
}
