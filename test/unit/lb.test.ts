import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer, type BalanceConfig, type HashTypeConfig, type BalancerOptions } from '../../src/lb/config.js';
import type { Balancer, LbRequest, LbServer } from '../../src/lb/types.js';
import { avalanche, djb2, sdbm } from '../../src/util/hash.js';

class Srv implements LbServer {
  cur = 0;
  lb: unknown = undefined;
  up = true;
  hashKey: number;
  constructor(
    readonly name: string,
    readonly puid: number,
    public eweight = 1,
    readonly backup = false,
    public maxconn = 0,
  ) {
    this.hashKey = puid;
  }
  usable(): boolean { return this.up; }
  isFull(): boolean { return this.maxconn > 0 && this.cur >= this.maxconn; }
}

const OPTS: BalancerOptions = { allbackups: false, hashBalanceFactor: 0 };
const MAP: HashTypeConfig = { method: 'map-based', fn: 'sdbm', avalanche: false };
const CONS: HashTypeConfig = { method: 'consistent', fn: 'sdbm', avalanche: true };

function farm(weights: number[], opts: { backups?: number[]; maxconn?: number } = {}): Srv[] {
  const list = weights.map((w, i) => new Srv(`s${i + 1}`, i + 1, w, false, opts.maxconn ?? 0));
  (opts.backups ?? []).forEach((w, i) => list.push(new Srv(`b${i + 1}`, weights.length + i + 1, w, true, opts.maxconn ?? 0)));
  return list;
}

function tally(b: Balancer, n: number, req: (i: number) => LbRequest = () => ({}), avoid: LbServer | null = null): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const s = b.pick(req(i), avoid);
    const k = s ? s.name : 'null';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

function seq(b: Balancer, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(b.pick({})?.name ?? 'null');
  return out;
}

/** small deterministic PRNG (mulberry32) */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (s: string): Uint8Array => Buffer.from(s);
const keyReq = (i: number): LbRequest => ({ key: key(`key-${i}`) });

function mapping(b: Balancer, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(b.pick(keyReq(i))!.name);
  return out;
}

// ---------------------------------------------------------------- roundrobin

test('roundrobin: distribution follows weights exactly over full cycles', () => {
  const b = createBalancer({ algo: 'roundrobin' }, undefined, farm([3, 2, 1]), OPTS);
  assert.equal(b.name, 'roundrobin');
  assert.deepEqual(tally(b, 600), { s1: 300, s2: 200, s3: 100 });
});

test('roundrobin: HAProxy fwrr order, weights respected in every window', () => {
  const maxRun = (s: string[], name: string): number => {
    let best = 0;
    let run = 0;
    for (const x of s) { run = x === name ? run + 1 : 0; best = Math.max(best, run); }
    return best;
  };
  // 3:1 -> HAProxy's fwrr visits s1,s1,s1,s2 (test/interop compares 3/2/1 with haproxy itself)
  const b = createBalancer({ algo: 'roundrobin' }, undefined, farm([3, 1]), OPTS);
  const s = seq(b, 40);
  assert.deepEqual(s.slice(0, 8), ['s1', 's1', 's1', 's2', 's1', 's1', 's1', 's2']);
  const b3 = createBalancer({ algo: 'roundrobin' }, undefined, farm([3, 2, 1]), OPTS);
  assert.deepEqual(seq(b3, 12), ['s1', 's2', 's1', 's3', 's1', 's2', 's1', 's2', 's1', 's3', 's1', 's2']);
  for (let i = 0; i + 4 <= s.length; i++) {
    assert.equal(s.slice(i, i + 4).filter((x) => x === 's2').length, 1, `window at ${i}: ${s.join(',')}`);
  }
  assert.ok(maxRun(s, 's1') <= 3);
  // 3:2 -> never more than two in a row
  const b32 = createBalancer({ algo: 'roundrobin' }, undefined, farm([3, 2]), OPTS);
  const s32 = seq(b32, 50);
  assert.ok(maxRun(s32, 's1') <= 2 && maxRun(s32, 's2') <= 1, s32.join(','));
  // 5:1:1 -> every window of 7 has the exact proportions, light servers never adjacent
  const b511 = createBalancer({ algo: 'roundrobin' }, undefined, farm([5, 1, 1]), OPTS);
  const s511 = seq(b511, 70);
  for (let i = 0; i + 7 <= s511.length; i++) {
    assert.equal(s511.slice(i, i + 7).filter((x) => x === 's1').length, 5, s511.join(','));
  }
  for (let i = 0; i + 1 < s511.length; i++) assert.ok(!(s511[i] !== 's1' && s511[i + 1] !== 's1'), s511.join(','));
  const eq = createBalancer({ algo: 'roundrobin' }, undefined, farm([1, 1, 1]), OPTS);
  assert.deepEqual(seq(eq, 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
});

test('roundrobin: weight changes take effect on rebuild', () => {
  const servers = farm([1, 1]);
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  servers[0]!.eweight = 3;
  assert.deepEqual(tally(b, 100), { s1: 50, s2: 50 }); // not yet
  b.rebuild();
  assert.deepEqual(tally(b, 400), { s1: 300, s2: 100 });
  servers[0]!.eweight = 0.5; // slow-start fraction
  b.rebuild();
  assert.deepEqual(tally(b, 300), { s1: 100, s2: 200 });
});

test('roundrobin: down servers leave after rebuild and come back', () => {
  const servers = farm([1, 1, 1]);
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  servers[1]!.up = false;
  b.rebuild();
  assert.deepEqual(tally(b, 100), { s1: 50, s3: 50 });
  servers[1]!.up = true;
  b.rebuild();
  assert.deepEqual(tally(b, 300), { s1: 100, s2: 100, s3: 100 });
});

test('roundrobin: a server that went down without rebuild is never returned', () => {
  const servers = farm([1, 1]);
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  servers[0]!.up = false; // no rebuild() call
  assert.deepEqual(tally(b, 10), { s2: 10 });
});

test('roundrobin: skips full servers, null when all are full', () => {
  const servers = farm([1, 1, 1], { maxconn: 1 });
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  servers[0]!.cur = 1;
  assert.deepEqual(tally(b, 10), { s2: 5, s3: 5 });
  servers[1]!.cur = 1;
  servers[2]!.cur = 1;
  assert.equal(b.pick({}), null);
  servers[2]!.cur = 0;
  assert.equal(b.pick({})?.name, 's3');
});

test('roundrobin: avoid is honoured when another server is possible', () => {
  const servers = farm([1, 1]);
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  assert.deepEqual(tally(b, 10, () => ({}), servers[0]!), { s2: 10 });
  const single = farm([1]);
  const b1 = createBalancer({ algo: 'roundrobin' }, undefined, single, OPTS);
  assert.equal(b1.pick({}, single[0]!)?.name, 's1');
});

test('weight 0 servers never take load-balanced traffic', () => {
  for (const algo of ['roundrobin', 'static-rr', 'leastconn', 'first', 'source'] as const) {
    const servers = farm([0, 1]);
    const b = createBalancer({ algo }, undefined, servers, OPTS);
    const t = tally(b, 50, (i) => ({ src: `10.0.0.${i}` }));
    assert.deepEqual(t, { s2: 50 }, algo);
  }
  // all actives at weight 0: backups take over
  const servers = farm([0, 0], { backups: [1] });
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  assert.deepEqual(tally(b, 5), { b1: 5 });
});

// ---------------------------------------------------------------- static-rr

test('static-rr: weighted rotation, skips full, avoid, up/down', () => {
  const servers = farm([3, 1], { maxconn: 10 });
  const b = createBalancer({ algo: 'static-rr' }, undefined, servers, OPTS);
  assert.equal(b.name, 'static-rr');
  assert.deepEqual(tally(b, 400), { s1: 300, s2: 100 });
  servers[0]!.cur = 10;
  assert.deepEqual(tally(b, 20), { s2: 20 });
  servers[1]!.cur = 10;
  assert.equal(b.pick({}), null);
  servers[0]!.cur = 0;
  servers[1]!.cur = 0;
  assert.deepEqual(tally(b, 20, () => ({}), servers[0]!), { s2: 20 });
  servers[0]!.up = false;
  b.rebuild();
  assert.deepEqual(tally(b, 8), { s2: 8 });
  servers[0]!.up = true;
  b.rebuild();
  assert.deepEqual(tally(b, 400), { s1: 300, s2: 100 });
});

test('static-rr: equal weights give a plain rotation', () => {
  const b = createBalancer({ algo: 'static-rr' }, undefined, farm([2, 2, 2]), OPTS);
  assert.deepEqual(seq(b, 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
});

// ---------------------------------------------------------------- leastconn

test('leastconn: picks the least loaded server', () => {
  const servers = farm([1, 1, 1]);
  const b = createBalancer({ algo: 'leastconn' }, undefined, servers, OPTS);
  servers[0]!.cur = 5;
  servers[1]!.cur = 2;
  servers[2]!.cur = 3;
  assert.equal(b.pick({})?.name, 's2');
  servers[1]!.cur = 9;
  assert.equal(b.pick({})?.name, 's3');
  servers[0]!.cur = 0;
  assert.equal(b.pick({})?.name, 's1');
});

test('leastconn: round robin between servers of equal load', () => {
  const servers = farm([1, 1, 1]);
  const b = createBalancer({ algo: 'leastconn' }, undefined, servers, OPTS);
  const out: string[] = [];
  for (let i = 0; i < 9; i++) {
    const s = b.pick({})!;
    out.push(s.name);
    s.cur++;
    b.onTaken(s);
    s.cur--;
    b.onReleased(s);
  }
  assert.deepEqual(out, ['s1', 's2', 's3', 's1', 's2', 's3', 's1', 's2', 's3']);
});

test('leastconn: long connections spread by weight, releases are followed', () => {
  const servers = farm([2, 1]);
  const b = createBalancer({ algo: 'leastconn' }, undefined, servers, OPTS);
  for (let i = 0; i < 300; i++) {
    const s = b.pick({})!;
    s.cur++;
    b.onTaken(s);
  }
  assert.ok(Math.abs(servers[0]!.cur - 200) <= 2, `s1=${servers[0]!.cur}`);
  assert.ok(Math.abs(servers[1]!.cur - 100) <= 2, `s2=${servers[1]!.cur}`);
  // s2 drops all its connections: it becomes the preferred one
  servers[1]!.cur = 0;
  b.onReleased(servers[1]!);
  assert.equal(b.pick({})?.name, 's2');
});

test('leastconn: skips full servers, null when all full, avoid', () => {
  const servers = farm([1, 1], { maxconn: 2 });
  const b = createBalancer({ algo: 'leastconn' }, undefined, servers, OPTS);
  servers[0]!.cur = 0;
  servers[1]!.cur = 1;
  assert.equal(b.pick({}, servers[0]!)?.name, 's2');
  servers[0]!.cur = 2;
  assert.equal(b.pick({})?.name, 's2');
  servers[1]!.cur = 2;
  assert.equal(b.pick({}), null);
});

// ---------------------------------------------------------------- first

test('first: fills servers in id order', () => {
  const servers = farm([1, 1, 1], { maxconn: 2 });
  const b = createBalancer({ algo: 'first' }, undefined, servers, OPTS);
  const out: string[] = [];
  for (let i = 0; i < 7; i++) {
    const s = b.pick({});
    out.push(s?.name ?? 'null');
    if (s) { s.cur++; b.onTaken(s); }
  }
  assert.deepEqual(out, ['s1', 's1', 's2', 's2', 's3', 's3', 'null']);
  servers[0]!.cur--;
  b.onReleased(servers[0]!);
  assert.equal(b.pick({})?.name, 's1');
});

test('first: lowest id wins regardless of list order and weight; no maxconn = never full', () => {
  const a = new Srv('a', 3, 10);
  const c = new Srv('c', 1, 1);
  const d = new Srv('d', 2, 50);
  const b = createBalancer({ algo: 'first' }, undefined, [a, c, d], OPTS);
  for (let i = 0; i < 20; i++) {
    const s = b.pick({})!;
    assert.equal(s.name, 'c');
    s.cur++;
  }
  assert.equal(b.pick({}, c)?.name, 'd');
  c.up = false;
  b.rebuild();
  assert.equal(b.pick({})?.name, 'd');
});

// ---------------------------------------------------------------- backups

test('backup: only the first usable backup unless allbackups', () => {
  const servers = farm([1, 1], { backups: [1, 3] });
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, OPTS);
  assert.deepEqual(tally(b, 10), { s1: 5, s2: 5 });
  servers[0]!.up = false;
  servers[1]!.up = false;
  b.rebuild();
  assert.deepEqual(tally(b, 10), { b1: 10 });
  servers[2]!.up = false; // first backup down: the next one takes over
  b.rebuild();
  assert.deepEqual(tally(b, 10), { b2: 10 });
  servers[2]!.up = true;
  b.rebuild();
  assert.deepEqual(tally(b, 10), { b1: 10 });
  servers[0]!.up = true; // an active server is back: backups unused
  b.rebuild();
  assert.deepEqual(tally(b, 10), { s1: 10 });
});

test('backup: allbackups shares the load among all backups by weight', () => {
  const servers = farm([1], { backups: [1, 3] });
  const b = createBalancer({ algo: 'roundrobin' }, undefined, servers, { ...OPTS, allbackups: true });
  servers[0]!.up = false;
  b.rebuild();
  assert.deepEqual(tally(b, 400), { b1: 100, b2: 300 });
  const lc = createBalancer({ algo: 'static-rr' }, undefined, servers, { ...OPTS, allbackups: true });
  assert.deepEqual(tally(lc, 400), { b1: 100, b2: 300 });
});

test('backup: hash algorithms also switch to the first backup', () => {
  const servers = farm([1, 1], { backups: [1, 1] });
  for (const ht of [MAP, CONS]) {
    const b = createBalancer({ algo: 'source' }, ht, servers, OPTS);
    servers[0]!.up = servers[1]!.up = false;
    b.rebuild();
    assert.deepEqual(tally(b, 50, (i) => ({ src: `192.168.1.${i}` })), { b1: 50 });
    servers[0]!.up = servers[1]!.up = true;
  }
});

test('no usable server at all: null', () => {
  const servers = farm([1, 1]);
  for (const cfg of [{ algo: 'roundrobin' }, { algo: 'leastconn' }, { algo: 'source' }, { algo: 'random', draws: 2 }] as BalanceConfig[]) {
    const b = createBalancer(cfg, CONS, servers, OPTS);
    servers.forEach((s) => { s.up = false; });
    b.rebuild();
    assert.equal(b.pick({ src: '1.2.3.4', key: key('x') }), null, cfg.algo);
    servers.forEach((s) => { s.up = true; });
  }
});

// ---------------------------------------------------------------- map-based hashing

test('map-based: server = table[hash % total weight]', () => {
  const h = (s: string): number => sdbm(key(s));
  assert.equal(h('a'), 97);
  const b = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([1, 1]), OPTS);
  assert.equal(b.pick({ key: key('a') })?.name, 's2'); // 97 % 2 = 1
  assert.equal(b.pick({ key: key('abc') })?.name, 's1'); // even
  // weights 2,1: the table is [s1, s1, s2]
  const w = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([2, 1]), OPTS);
  assert.equal(w.pick({ key: key('a') })?.name, 's1'); // 97 % 3 = 1
  assert.equal(w.pick({ key: key('abc') })?.name, 's2'); // 807794786 % 3 = 2
  assert.equal(h('abc') % 3, 2);
  // weights are reduced by their gcd: 20,10 behaves like 2,1
  const w2 = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([20, 10]), OPTS);
  assert.equal(w2.pick({ key: key('abc') })?.name, 's2');
  // the configured function and avalanche are used
  const dj = createBalancer({ algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false },
    { method: 'map-based', fn: 'djb2', avalanche: true }, farm([1, 1, 1]), OPTS);
  for (const k of ['/x', '/y', '/zzz', '/index.html']) {
    const expected = `s${(avalanche(djb2(key(k))) % 3) + 1}`;
    assert.equal(dj.pick({ key: key(k) })?.name, expected, k);
  }
});

test('map-based: deterministic and spread by weight', () => {
  const b1 = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([1, 2, 3]), OPTS);
  const b2 = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([1, 2, 3]), OPTS);
  const m1 = mapping(b1, 3000);
  assert.deepEqual(mapping(b1, 3000), m1);
  assert.deepEqual(mapping(b2, 3000), m1);
  const t = tally(b1, 30000, keyReq);
  assert.ok(Math.abs(t.s1! / 30000 - 1 / 6) < 0.03, JSON.stringify(t));
  assert.ok(Math.abs(t.s2! / 30000 - 2 / 6) < 0.03, JSON.stringify(t));
  assert.ok(Math.abs(t.s3! / 30000 - 3 / 6) < 0.03, JSON.stringify(t));
});

test('map-based: a server change remaps most keys', () => {
  const servers = farm([1, 1, 1, 1, 1]);
  const b = createBalancer({ algo: 'hash', expr: 'x' }, MAP, servers, OPTS);
  const before = mapping(b, 2000);
  servers[4]!.up = false;
  b.rebuild();
  const after = mapping(b, 2000);
  const moved = before.filter((s, i) => s !== after[i]).length;
  assert.ok(moved > 2000 * 0.5, `moved=${moved}`);
});

test('hash: a full server is still returned (the caller queues on it)', () => {
  for (const ht of [MAP, CONS]) {
    const servers = farm([1, 1], { maxconn: 1 });
    const b = createBalancer({ algo: 'hash', expr: 'x' }, ht, servers, OPTS);
    const target = b.pick({ key: key('user-1') })!;
    target.cur = 1;
    assert.equal(b.pick({ key: key('user-1') }), target);
  }
});

test('hash: missing key falls back to round robin (skipping full servers)', () => {
  for (const ht of [MAP, CONS]) {
    const servers = farm([1, 1], { maxconn: 1 });
    const cfgs: BalanceConfig[] = [
      { algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false },
      { algo: 'url_param', param: 'id', checkPost: false },
      { algo: 'hdr', header: 'host', useDomainOnly: false },
      { algo: 'rdp-cookie', cookie: 'mstshash' },
      { algo: 'hash', expr: 'x' },
      { algo: 'source' },
    ];
    for (const cfg of cfgs) {
      const b = createBalancer(cfg, ht, servers, OPTS);
      const t = tally(b, 200, () => ({ key: null }));
      assert.ok((t.s1 ?? 0) > 20 && (t.s2 ?? 0) > 20, `${cfg.algo} ${ht.method} ${JSON.stringify(t)}`);
      servers[0]!.cur = 1;
      assert.deepEqual(tally(b, 10, () => ({})), { s2: 10 });
      servers[1]!.cur = 1;
      assert.equal(b.pick({}), null);
      servers[0]!.cur = servers[1]!.cur = 0;
    }
  }
});

test('hash: with a single server, hdr/rdp-cookie/hash do not need the key', () => {
  const servers = farm([1], { maxconn: 1 });
  servers[0]!.cur = 1; // full
  const h = createBalancer({ algo: 'hdr', header: 'host', useDomainOnly: false }, MAP, servers, OPTS);
  assert.equal(h.pick({})?.name, 's1');
  const u = createBalancer({ algo: 'url_param', param: 'id', checkPost: false }, MAP, servers, OPTS);
  assert.equal(u.pick({}), null); // round robin fallback sees it full
});

// ---------------------------------------------------------------- source

test('source: xor of the address words, map-based', () => {
  const b = createBalancer({ algo: 'source' }, MAP, farm([1, 1]), OPTS);
  assert.equal(b.name, 'source');
  assert.equal(b.pick({ src: '10.0.0.1' })?.name, 's2'); // 0x0a000001 is odd
  assert.equal(b.pick({ src: '10.0.0.2' })?.name, 's1');
  assert.equal(b.pick({ src: '::ffff:10.0.0.1' })?.name, 's2');
  assert.equal(b.pick({ src: '2001:db8::1' })?.name, 's2'); // 0x20010db8 ^ 1 is odd
  const fold = (0x20010db8 ^ 0x00030000) >>> 0;
  assert.equal(b.pick({ src: '2001:db8::3:0' })?.name, fold % 2 ? 's2' : 's1');
  // raw bytes may be given instead of the text
  assert.equal(b.pick({ key: new Uint8Array([10, 0, 0, 2]) })?.name, 's1');
  // avalanche modifier
  const a = createBalancer({ algo: 'source' }, { method: 'map-based', fn: 'sdbm', avalanche: true }, farm([1, 1, 1]), OPTS);
  for (const ip of ['10.0.0.1', '10.0.0.2', '172.16.5.4', '8.8.8.8']) {
    const n = ip.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
    assert.equal(a.pick({ src: ip })?.name, `s${(avalanche(n) % 3) + 1}`, ip);
  }
});

test('source: non-IP client falls back to round robin', () => {
  const b = createBalancer({ algo: 'source' }, MAP, farm([1, 1]), OPTS);
  assert.deepEqual(tally(b, 10, () => ({ src: 'unix@/tmp/sock' })), { s1: 5, s2: 5 });
});

// ---------------------------------------------------------------- consistent hashing

test('consistent: removing one server among 10 only moves its keys', () => {
  const servers = farm(new Array(10).fill(1));
  const b = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, OPTS);
  const N = 10000;
  const before = mapping(b, N);
  servers[4]!.up = false;
  b.rebuild();
  const after = mapping(b, N);
  let moved = 0;
  for (let i = 0; i < N; i++) {
    if (before[i] !== after[i]) {
      moved++;
      assert.equal(before[i], 's5', `key-${i} moved from ${before[i]} to ${after[i]}`);
    }
  }
  assert.ok(moved > N * 0.04 && moved < N * 0.18, `moved=${moved}`);
  assert.ok(!after.includes('s5'));
  // the orphaned keys are spread over several survivors
  const dest = new Set(after.filter((_s, i) => before[i] === 's5'));
  assert.ok(dest.size >= 5, `spread over ${dest.size}`);
  // coming back restores the original mapping exactly
  servers[4]!.up = true;
  b.rebuild();
  assert.deepEqual(mapping(b, N), before);
});

test('consistent: adding an 11th server only moves keys to it', () => {
  const servers = farm(new Array(10).fill(1));
  const b = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, OPTS);
  const N = 10000;
  const before = mapping(b, N);
  servers.push(new Srv('s11', 11));
  b.rebuild();
  const after = mapping(b, N);
  let moved = 0;
  for (let i = 0; i < N; i++) {
    if (before[i] !== after[i]) {
      moved++;
      assert.equal(after[i], 's11');
    }
  }
  assert.ok(moved > N * 0.04 && moved < N * 0.16, `moved=${moved}`);
});

test('consistent: placement depends on server ids, not on list order', () => {
  const a = [new Srv('x', 1), new Srv('y', 2), new Srv('z', 3)];
  const b = [new Srv('z', 3), new Srv('x', 1), new Srv('y', 2)];
  const ba = createBalancer({ algo: 'hash', expr: 'x' }, CONS, a, OPTS);
  const bb = createBalancer({ algo: 'hash', expr: 'x' }, CONS, b, OPTS);
  assert.deepEqual(mapping(ba, 2000), mapping(bb, 2000));
  // a different hash-key changes the placement
  const c = [new Srv('x', 1), new Srv('y', 2), new Srv('z', 3)];
  c[0]!.hashKey = 1000;
  const bc = createBalancer({ algo: 'hash', expr: 'x' }, CONS, c, OPTS);
  assert.notDeepEqual(mapping(bc, 2000), mapping(ba, 2000));
});

test('consistent: weights are respected approximately', () => {
  const b = createBalancer({ algo: 'hash', expr: 'x' }, CONS, farm([1, 3]), OPTS);
  const t = tally(b, 20000, keyReq);
  const share = t.s2! / 20000;
  assert.ok(share > 0.6 && share < 0.9, JSON.stringify(t));
  // weight change applies on rebuild (dynamic)
  const servers = farm([1, 1]);
  const d = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, OPTS);
  const t1 = tally(d, 20000, keyReq);
  servers[1]!.eweight = 4;
  d.rebuild();
  const t2 = tally(d, 20000, keyReq);
  assert.ok(t2.s2! > t1.s2! * 1.3, `${JSON.stringify(t1)} -> ${JSON.stringify(t2)}`);
});

test('consistent: avoid moves to another server', () => {
  const b = createBalancer({ algo: 'hash', expr: 'x' }, CONS, farm([1, 1, 1, 1]), OPTS);
  for (let i = 0; i < 50; i++) {
    const first = b.pick(keyReq(i))!;
    const other = b.pick(keyReq(i), first)!;
    assert.notEqual(other, first);
    assert.equal(b.pick(keyReq(i), first), other); // still deterministic
  }
  // map-based ignores avoid, as HAProxy does
  const m = createBalancer({ algo: 'hash', expr: 'x' }, MAP, farm([1, 1, 1, 1]), OPTS);
  const s = m.pick(keyReq(1))!;
  assert.equal(m.pick(keyReq(1), s), s);
});

test('consistent: hash-balance-factor skips overloaded servers', () => {
  const servers = farm([1, 1, 1, 1]);
  const plain = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, OPTS);
  const bounded = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, { ...OPTS, hashBalanceFactor: 150 });
  const target = plain.pick(keyReq(7))!;
  assert.equal(bounded.pick(keyReq(7)), target); // nobody loaded: same choice
  servers.forEach((s) => { s.cur = 3; }); // 12 served: about 5 slots each with factor 150
  assert.equal(bounded.pick(keyReq(7)), target);
  (target as Srv).cur = 8; // 17 served: about 6.75 slots each, target is over
  assert.equal(plain.pick(keyReq(7)), target);
  const alt = bounded.pick(keyReq(7))!;
  assert.notEqual(alt, target);
  assert.equal(bounded.pick(keyReq(7)), alt);
  (target as Srv).cur = 3;
  assert.equal(bounded.pick(keyReq(7)), target);
  // with the factor, loads stay bounded even when all keys are equal
  servers.forEach((s) => { s.cur = 0; });
  for (let i = 0; i < 100; i++) {
    const s = bounded.pick({ key: key('hot') })!;
    s.cur++;
  }
  const max = Math.max(...servers.map((s) => s.cur));
  assert.ok(max <= Math.ceil((100 * 1.5) / 4) + 1, `max=${max}`);
});

test('consistent: missing key uses a round robin walk over the ring', () => {
  const b = createBalancer({ algo: 'hdr', header: 'x', useDomainOnly: false }, CONS, farm([1, 1, 1]), OPTS);
  const t = tally(b, 3000, () => ({}));
  for (const s of ['s1', 's2', 's3']) assert.ok((t[s] ?? 0) > 600, JSON.stringify(t));
});

// ---------------------------------------------------------------- random

test('random: follows weights', () => {
  const b = createBalancer({ algo: 'random', draws: 1 }, undefined, farm([1, 3]), { ...OPTS, random: rng(1) });
  assert.equal(b.name, 'random');
  const t = tally(b, 20000);
  const share = t.s2! / 20000;
  assert.ok(share > 0.6 && share < 0.9, JSON.stringify(t));
});

test('random: more draws avoid the loaded server', () => {
  const count = (draws: number): number => {
    const servers = farm([1, 1, 1, 1]);
    servers[0]!.cur = 50;
    const b = createBalancer({ algo: 'random', draws }, undefined, servers, { ...OPTS, random: rng(7) });
    return tally(b, 4000).s1 ?? 0;
  };
  const d1 = count(1);
  const d2 = count(2);
  const d5 = count(5);
  assert.ok(d1 > 500, `d1=${d1}`);
  assert.ok(d2 < d1 / 2, `d1=${d1} d2=${d2}`);
  assert.ok(d5 < d2, `d2=${d2} d5=${d5}`);
});

test('random: a full choice yields null, avoid is honoured', () => {
  const servers = farm([1, 1], { maxconn: 1 });
  const b = createBalancer({ algo: 'random', draws: 2 }, undefined, servers, { ...OPTS, random: rng(3) });
  servers[0]!.cur = 1;
  servers[1]!.cur = 1;
  assert.equal(b.pick({}), null);
  servers[0]!.cur = 0;
  servers[1]!.cur = 0;
  assert.deepEqual(tally(b, 50, () => ({}), servers[0]!), { s2: 50 });
});

// ---------------------------------------------------------------- sticky (log mode)

test('sticky: stays on the first server until it goes away', () => {
  const servers = farm([1, 1, 1]);
  const b = createBalancer({ algo: 'sticky' }, undefined, servers, OPTS);
  assert.deepEqual(tally(b, 5), { s1: 5 });
  servers[0]!.up = false;
  b.rebuild();
  assert.deepEqual(tally(b, 5), { s2: 5 });
  servers[0]!.up = true;
  b.rebuild();
  assert.deepEqual(tally(b, 5), { s2: 5 }); // s1 came back at the end of the list
});

test('consistent: incremental ring updates equal a fresh build', () => {
  const servers = farm([1, 2, 3, 1, 1, 4, 1, 2]);
  const b = createBalancer({ algo: 'hash', expr: 'x' }, CONS, servers, OPTS);
  const fresh = (): string[] => {
    const copy = servers.map((s) => {
      const c = new Srv(s.name, s.puid, s.eweight, s.backup, s.maxconn);
      c.up = s.up;
      c.hashKey = s.hashKey;
      return c;
    });
    return mapping(createBalancer({ algo: 'hash', expr: 'x' }, CONS, copy, OPTS), 3000);
  };
  const steps: Array<() => void> = [
    () => { servers[2]!.up = false; },
    () => { servers[5]!.eweight = 0.25; },
    () => { servers[0]!.hashKey = 77; },
    () => { servers.push(new Srv('s9', 9, 2)); },
    () => { servers[2]!.up = true; servers[5]!.eweight = 6; },
    () => { servers.splice(1, 1); },
  ];
  for (const step of steps) {
    step();
    b.rebuild();
    assert.deepEqual(mapping(b, 3000), fresh());
  }
});
