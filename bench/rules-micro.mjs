#!/usr/bin/env node
// In-process cost of the rules of bench/rules.mjs, without the network: how many microseconds the
// content-switching decision of each configuration adds to a request. Complements the wrk runs,
// whose rates on this shared host move by ±30 % between rounds.
//
//   npm run build && node bench/rules-micro.mjs
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import '../dist/src/actions/index.js';
import '../dist/src/http/errors.js';
import { parseConfigFiles } from '../dist/src/config/parser.js';
import { condContext } from '../dist/src/cli/main.js';
import { switchPlan, segmentMatch } from '../dist/src/actions/switch-table.js';
const PASS = 1; // AclResult.PASS (a const enum: not in the compiled module)
import { SmpCtx, staticConn } from '../dist/src/sample/context.js';
import { HttpHeaders } from '../dist/src/http/htx.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-rules-micro-'));
const mapFile = path.join(dir, 'hosts.map');
fs.writeFileSync(mapFile, Array.from({ length: 100_000 }, (_, i) => `host${i}.example b${i % 1000}`).join('\n') + '\n');
const backends = Array.from({ length: 1000 }, (_, i) => `backend b${i}\n  server s 127.0.0.1:1`).join('\n');
const head = 'defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n';
const cfgs = {
  acl1000: `${head}frontend f\n  bind 127.0.0.1:1\n${Array.from({ length: 1000 }, (_, i) => `  acl h${i} hdr(host) -i host${i}.example`).join('\n')}\n${Array.from({ length: 1000 }, (_, i) => `  use_backend b${i} if h${i}`).join('\n')}\n  default_backend b0\n${backends}\n`,
  map100k: `${head}frontend f\n  bind 127.0.0.1:1\n  use_backend %[req.hdr(host),lower,map(${mapFile},b0)]\n  default_backend b0\n${backends}\n`,
};

function parse(text) {
  const f = path.join(dir, 'h.cfg');
  fs.writeFileSync(f, text);
  const r = parseConfigFiles([f], condContext());
  if (r.fatal) throw new Error(JSON.stringify(r.diags));
  return r.config.proxies.find((p) => p.name === 'f');
}

function ctxFor(host) {
  const c = new SmpCtx(staticConn());
  const h = new HttpHeaders();
  h.add('Host', host);
  c.req = { method: 'GET', uri: '/small', version: 'HTTP/1.1', headers: h };
  return c;
}

function time(label, fn, n = 200_000) {
  for (let i = 0; i < 20_000; i++) fn();
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < n; i++) x ^= fn();
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${label.padEnd(48)} ${us.toFixed(3)} µs per request${x === -1 ? '' : ''}`);
  return us;
}

const acl = parse(cfgs.acl1000).switching.useBackend;
const plan = switchPlan(acl);
const seg = plan.at.get(0);
const mid = ctxFor('host500.example'), none = ctxFor('nomatch.example');
time('acl1000, rule 501 (one lookup)', () => segmentMatch(seg, mid));
time('acl1000, no rule (one lookup)', () => segmentMatch(seg, none));
time('acl1000, rule 501, rule by rule (no table)', () => acl.findIndex((r) => r.cond.exec(mid) === PASS), 2_000);
const map = parse(cfgs.map100k).switching.useBackend[0].target.lf;
const m = ctxFor('host50500.example');
time('map100k: %[req.hdr(host),lower,map(...)]', () => map.render(m).length);
fs.rmSync(dir, { recursive: true, force: true });
