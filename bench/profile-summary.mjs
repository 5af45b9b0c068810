#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `BENCH_PROFILE=1 node bench/run.mjs`):
// self time per function and per source file, and inclusive time of the project's functions.
//
//   node bench/profile-summary.mjs [file.cpuprofile] [topN]
// Without a file, the newest profile in bench/results/prof/ is used.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let file = process.argv[2];
const TOP = Number(process.argv[3] || 30);
if (!file) {
  const dir = path.join(ROOT, 'bench', 'results', 'prof');
  const all = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)) : [];
  all.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  file = all[0];
  if (!file) { console.error('no .cpuprofile found; run BENCH_PROFILE=1 node bench/run.mjs first'); process.exit(1); }
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);

// self time per node from samples × time deltas (microseconds)
const self = new Map();
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
}

const shortUrl = (u) => {
  if (!u) return '';
  const s = u.replace(/^file:\/\//, '');
  const i = s.indexOf('/dist/');
  return i >= 0 ? s.slice(i + 1) : s.replace(/^.*node_modules\//, 'node_modules/');
};
const label = (cf) => `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

const fnSelf = new Map();
const fileSelf = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  const k = label(cf);
  fnSelf.set(k, (fnSelf.get(k) ?? 0) + t);
  const f = cf.url ? shortUrl(cf.url) : `(${cf.functionName || 'native'})`;
  fileSelf.set(f, (fileSelf.get(f) ?? 0) + t);
}

// inclusive time of project functions (dist/src/...), counted once per sample stack
const incl = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  const seen = new Set();
  for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id).callFrame;
    if (!cf.url.includes('/dist/src/')) continue;
    const k = label(cf);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt);
  }
}

const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
const top = (m, n) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`profile ${path.relative(process.cwd(), file)}: ${(total / 1e6).toFixed(1)} s sampled, ${prof.samples.length} samples\n`);
console.log(`top ${TOP} functions by self time:`);
for (const [k, t] of top(fnSelf, TOP)) console.log(`  ${pct(t)}  ${k}`);
console.log(`\nself time by file:`);
for (const [k, t] of top(fileSelf, 20)) console.log(`  ${pct(t)}  ${k}`);
console.log(`\nproject functions by inclusive time:`);
for (const [k, t] of top(incl, 20)) console.log(`  ${pct(t)}  ${k}`);
