// Load-balancing algorithms behind the Balancer interface.
//
// Common rules (all algorithms):
//  - a server takes part in load balancing when usable() and its effective
//    weight is > 0;
//  - the active servers are used; when none is available, the backup servers
//    are used: only the first one in declaration order, or all of them with
//    `option allbackups`;
//  - the set of servers and their weights is snapshotted by rebuild(); pick()
//    calls rebuild() by itself if it ever lands on a server that is no longer
//    usable.
//
// Weights are handled internally in 1/16 units (eweight * 16, like HAProxy's
// scaled effective weights), which keeps slow-start fractions meaningful.

import type { Balancer, LbRequest, LbServer } from './types.js';
import type { BalanceConfig, BalancerOptions, HashTypeConfig } from './config.js';
import { avalanche, hashFunction } from '../util/hash.js';
import { sourceKey } from './keys.js';

/** Internal weight units per unit of user weight. */
export const WEIGHT_SCALE = 16;
/** Distance between the first ring node keys of two consecutive server ids. */
const NODE_KEY_RANGE = 256 * WEIGHT_SCALE;

/** Internal (scaled, integer) weight of a server; 0 = not load-balanced. */
export function lbWeight(s: LbServer): number {
  const w = s.eweight;
  if (!(w > 0)) return 0;
  if (s.lbScaled !== undefined) return s.lbScaled;
  return Math.max(1, Math.round(w * WEIGHT_SCALE));
}

/** Servers currently sharing the load, with their weights. */
interface Group {
  list: LbServer[];
  /** scaled weight of list[i] */
  w: number[];
  /** sum of w */
  total: number;
  /** sum of the weights before list[i] */
  cum: number[];
}

const EMPTY_GROUP: Group = { list: [], w: [], total: 0, cum: [] };

function selectGroup(servers: readonly LbServer[], allbackups: boolean): Group {
  const act: LbServer[] = [];
  const bck: LbServer[] = [];
  for (const s of servers) {
    if (!s.usable() || lbWeight(s) === 0) continue;
    (s.backup ? bck : act).push(s);
  }
  let list: LbServer[];
  if (act.length > 0) list = act;
  else if (bck.length === 0) return EMPTY_GROUP;
  else list = allbackups ? bck : [bck[0]!];
  const w = list.map(lbWeight);
  const cum: number[] = [];
  let total = 0;
  for (const x of w) { cum.push(total); total += x; }
  return { list, w, total, cum };
}

/** Per-server private state, stored in LbServer.lb and owned by one balancer. */
class SrvState {
  /** leastconn tie-breaker: order of the last repositioning */
  seq = 0;
  /** scaled weight as of the last rebuild */
  w = 0;
  /** member of the current group as of the last rebuild */
  member = false;
  constructor(readonly owner: object) {}
}

abstract class BaseBalancer implements Balancer {
  protected g: Group = EMPTY_GROUP;
  protected seqCounter = 0;

  constructor(
    readonly name: string,
    /** kept by reference: the core may add/remove servers then call rebuild() */
    protected readonly servers: LbServer[],
    protected readonly opts: BalancerOptions,
  ) {}

  protected st(s: LbServer): SrvState {
    let x = s.lb as SrvState | undefined;
    if (!(x instanceof SrvState) || x.owner !== this) {
      x = new SrvState(this);
      s.lb = x;
    }
    return x;
  }

  rebuild(): void {
    const g = selectGroup(this.servers, this.opts.allbackups);
    const prev = new Set(this.g.list);
    for (const s of prev) this.st(s).member = false;
    const joined: LbServer[] = [];
    const reweighted: LbServer[] = [];
    for (let i = 0; i < g.list.length; i++) {
      const s = g.list[i]!;
      const st = this.st(s);
      if (!prev.has(s)) joined.push(s);
      else if (st.w !== g.w[i]) reweighted.push(s);
      st.member = true;
      st.w = g.w[i]!;
    }
    this.g = g;
    this.afterRebuild(joined, reweighted);
  }

  /** Called after the group was recomputed, with its new members and those whose weight changed. */
  protected abstract afterRebuild(joined: LbServer[], reweighted: LbServer[]): void;
  protected abstract select(req: LbRequest, avoid: LbServer | null): LbServer | null;

  pick(req: LbRequest, avoid?: LbServer | null): LbServer | null {
    if (this.g.list.length === 0) return null;
    let s = this.select(req, avoid ?? null);
    if (s !== null && !s.usable()) {
      // the core changed a state without telling us: resync once
      this.rebuild();
      s = this.g.list.length > 0 ? this.select(req, avoid ?? null) : null;
    }
    return s;
  }

  onTaken(_s: LbServer): void {}
  onReleased(_s: LbServer): void {}
}

// ---------------------------------------------------------------------------
// roundrobin: HAProxy's "fast weighted round robin" (fwrr), so that servers are visited in the
// same order as HAProxy visits them. Each server has a next position (npos) advancing by
// total_weight / weight per pick (the remainder carried in rweight); servers wait in three
// queues: `curr` (ordered by position), `init` and `next` (ordered by weight, for servers that
// have not entered the current window or wait for the next one). The queues are ordered by key,
// then by insertion order, as HAProxy's ebtrees keep duplicates. Servers joining the group, leaving
// it or changing weight (slowstart, agent, CLI) are updated in place, as HAProxy does: a joining
// server is placed ahead in proportion to its weight, so that a server coming back ramps up
// instead of taking its full share at once. A new group (active servers replaced by backups, or
// the reverse) is built from scratch, as at start-up.

/** 256 * 16: the highest effective weight (user weight 256 at scale 16). */
const EWGHT_MAX = 256 * WEIGHT_SCALE;
const UWGHT_RANGE = 256;

class FwrrQueue {
  private items: LbServer[] = [];
  private seq = 0;
  constructor(private readonly fs: (s: LbServer) => FwrrState) {}
  insert(s: LbServer, key: number): void {
    const st = this.fs(s);
    st.key = key;
    st.seq = this.seq++;
    st.queue = this;
    this.items.push(s);
  }
  remove(s: LbServer): void {
    const i = this.items.indexOf(s);
    if (i >= 0) this.items.splice(i, 1);
    this.fs(s).queue = undefined;
  }
  first(): LbServer | undefined {
    let best: LbServer | undefined;
    let bk = 0, bs = 0;
    for (const s of this.items) {
      const st = this.fs(s);
      if (!best || st.key < bk || (st.key === bk && st.seq < bs)) { best = s; bk = st.key; bs = st.seq; }
    }
    return best;
  }
}

interface FwrrState { ew: number; npos: number; lpos: number; rweight: number; key: number; seq: number; queue: FwrrQueue | undefined }

class RoundRobin extends BaseBalancer {
  private states = new Map<LbServer, FwrrState>();
  private readonly fs = (s: LbServer): FwrrState => this.states.get(s)!;
  private curr = new FwrrQueue(this.fs);
  private init = new FwrrQueue(this.fs);
  private next = new FwrrQueue(this.fs);
  private currWeight = 0;
  private nextWeight = 0;
  private currPos = 0;

  protected afterRebuild(joined: LbServer[], reweighted: LbServer[]): void {
    const { list, w } = this.g;
    const inGroup = new Map<LbServer, number>();
    for (let i = 0; i < list.length; i++) inGroup.set(list[i]!, w[i]!);
    let kept = false;
    for (const s of this.states.keys()) if (inGroup.has(s)) { kept = true; break; }
    if (!kept) { this.fullRebuild(); return; }
    // servers gone from the group
    for (const [s, st] of [...this.states]) {
      if (inGroup.has(s)) continue;
      this.nextWeight -= st.ew;
      this.dequeue(s);
      this.states.delete(s);
    }
    // weight changes: the next position moves by the new step, never later than it was
    for (const s of reweighted) {
      const st = this.states.get(s);
      if (!st) continue;
      const nw = inGroup.get(s)!;
      this.nextWeight += nw - st.ew;
      if (st.queue === this.init) {
        this.dequeue(s);
        st.ew = nw;
        this.init.insert(s, EWGHT_MAX - nw);
        continue;
      }
      this.dequeue(s);
      if (nw > 0) {
        const prevNext = st.npos;
        const step = Math.floor(this.nextWeight / nw);
        st.npos = st.lpos + step;
        st.rweight = 0;
        if (st.npos > prevNext) st.npos = prevNext;
        if (st.npos < this.currPos + 2) st.npos = this.currPos + step;
      } else {
        st.npos = this.currPos + this.currWeight;
      }
      st.ew = nw;
      this.queue(s);
    }
    // servers joining: placed ahead in proportion to the total weight over their own
    for (const s of joined) {
      const nw = inGroup.get(s)!;
      this.nextWeight += nw;
      const st: FwrrState = { ew: nw, npos: 0, lpos: 0, rweight: 0, key: 0, seq: 0, queue: undefined };
      this.states.set(s, st);
      if (nw <= 0) { this.next.insert(s, EWGHT_MAX); continue; }
      st.npos = this.currPos + Math.floor((this.nextWeight + this.currWeight - this.currPos) / nw);
      this.queue(s);
    }
  }

  private fullRebuild(): void {
    this.states = new Map();
    this.curr = new FwrrQueue(this.fs);
    this.init = new FwrrQueue(this.fs);
    this.next = new FwrrQueue(this.fs);
    const { list, w } = this.g;
    let total = 0;
    for (let i = 0; i < list.length; i++) {
      this.states.set(list[i]!, { ew: w[i]!, npos: 0, lpos: 0, rweight: 0, key: 0, seq: 0, queue: undefined });
      total += w[i]!;
    }
    this.currWeight = this.nextWeight = this.currPos = total;
    for (const s of list) this.init.insert(s, EWGHT_MAX - this.fs(s).ew);
  }

  private dequeue(s: LbServer): void { this.fs(s).queue?.remove(s); }

  /** The server at the current position, or one entering the window from `init`. */
  private fromGroup(): LbServer | undefined {
    const s1 = this.curr.first();
    if (s1) {
      const st = this.fs(s1);
      if (st.ew && st.npos <= this.currPos) return s1;
    }
    const s2 = this.init.first();
    if (s2 && this.fs(s2).ew) {
      this.dequeue(s2);
      this.fs(s2).npos = this.currPos;
      return s2;
    }
    return s1;
  }

  private switchQueues(): void {
    const sw = this.init;
    this.init = this.next;
    this.next = sw;
    this.currWeight = this.nextWeight;
    this.currPos = this.currWeight;
  }

  private updatePosition(s: LbServer): void {
    const st = this.fs(s);
    if (!st.npos) st.npos = this.currPos;
    st.lpos = st.npos;
    st.npos += Math.floor(this.nextWeight / st.ew);
    st.rweight += this.nextWeight % st.ew;
    if (st.rweight >= st.ew) { st.rweight -= st.ew; st.npos++; }
  }

  private queue(s: LbServer): void {
    const st = this.fs(s);
    if (st.ew <= 0 || st.npos >= 2 * this.currWeight || st.npos >= this.currWeight + this.nextWeight) {
      st.npos -= this.currWeight;
      this.next.insert(s, EWGHT_MAX - st.ew);
    } else {
      this.curr.insert(s, UWGHT_RANGE * st.npos + Math.floor((EWGHT_MAX + st.rweight - st.ew) / WEIGHT_SCALE));
    }
  }

  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null {
    if (!this.currWeight) this.currPos = this.currWeight = this.nextWeight;
    let switched = false;
    let avoided: LbServer | undefined;
    const full: LbServer[] = [];
    let chosen: LbServer | undefined;
    for (;;) {
      let srv: LbServer | undefined;
      for (;;) {
        srv = this.fromGroup();
        if (srv) break;
        if (switched) break;
        switched = true;
        this.switchQueues();
      }
      if (!srv) { chosen = avoided; break; }
      this.updatePosition(srv);
      this.dequeue(srv);
      this.currPos++;
      if (!srv.isFull()) {
        if (srv !== avoid || avoided) { chosen = srv; break; }
        avoided = srv;
      }
      // saturated or avoided: put back afterwards
      full.push(srv);
    }
    if (chosen) this.queue(chosen);
    for (const s of full) {
      if (s === chosen) continue;
      if (switched) this.init.insert(s, EWGHT_MAX - this.fs(s).ew);
      else this.queue(s);
    }
    return chosen ?? null;
  }
}

// ---------------------------------------------------------------------------
// Map: a table with one slot per weight unit, filled so that servers are
// spread evenly (each server appears in proportion to its weight, the first
// declared server first on ties). Used by static-rr and map-based hashing.

function gcd(a: number, b: number): number {
  while (b) { const t = a % b; a = b; b = t; }
  return a;
}

class MapTable {
  table: LbServer[] = [];
  private rrIdx = 0;

  build(g: Group, all: readonly LbServer[]): void {
    const n = g.list.length;
    if (n === 0) { this.table = []; return; }
    // reduce the table by the greatest common divisor of all configured weights
    let d = 0;
    for (const s of all) { const w = lbWeight(s); if (w > 0) d = d === 0 ? w : gcd(d, w); }
    for (const w of g.w) d = gcd(d, w);
    if (d <= 0) d = 1;
    const ew = g.w.map((w) => Math.max(1, Math.floor(w / d)));
    const tot = ew.reduce((a, b) => a + b, 0);
    const table = new Array<LbServer>(tot);
    if (tot === 1) {
      table[0] = g.list[0]!;
    } else {
      const score = new Array<number>(n).fill(0);
      for (let o = 0; o < tot; o++) {
        let best = -1;
        let max = 0;
        for (let i = 0; i < n; i++) {
          const sc = score[i]! + ew[i]!;
          score[i] = sc;
          const v = Math.floor((sc + tot) / tot);
          if (best < 0 || v > max) { max = v; best = i; }
        }
        table[o] = g.list[best]!;
        score[best] = score[best]! - tot;
      }
    }
    this.table = table;
  }

  /** Hash lookup: the full or avoided state of the server is not considered. */
  byHash(h: number): LbServer | null {
    const t = this.table;
    return t.length ? t[h % t.length]! : null;
  }

  /** Weighted round robin over the table, skipping full servers and `avoid` if possible. */
  next(avoid: LbServer | null): LbServer | null {
    const t = this.table;
    const tot = t.length;
    if (tot === 0) return null;
    if (this.rrIdx < 0 || this.rrIdx >= tot) this.rrIdx = 0;
    const start = this.rrIdx;
    let idx = start;
    let avoided: LbServer | null = null;
    let avoidedIdx = 0;
    do {
      const s = t[idx++]!;
      if (!s.isFull()) {
        if (s !== avoid) { this.rrIdx = idx; return s; }
        avoided = s;
        avoidedIdx = idx;
      }
      if (idx === tot) idx = 0;
    } while (idx !== start);
    if (avoided) this.rrIdx = avoidedIdx;
    return avoided;
  }
}

class StaticRR extends BaseBalancer {
  private readonly map = new MapTable();
  protected afterRebuild(): void { this.map.build(this.g, this.servers); }
  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null { return this.map.next(avoid); }
}

// ---------------------------------------------------------------------------
// Consistent hashing ring: each server owns (weight * 16) points whose
// positions derive only from its hashKey, so adding/removing a server only
// moves the keys closest to its own points. A hash goes to the closest point,
// whichever side it is on.

const OWNER_BITS = 2 ** 21;

/** Packs (key, owner) so that numeric order is key order, then owner order. */
function sortPacked(packed: Float64Array, keys: Uint32Array, owners: Int32Array): void {
  packed.sort();
  for (let x = 0; x < packed.length; x++) {
    const p = packed[x]!;
    const o = p % OWNER_BITS;
    owners[x] = o;
    keys[x] = (p - o) / OWNER_BITS;
  }
}

class ChashRing {
  /** ring points, sorted by (key, owner) */
  private keys = new Uint32Array(0);
  /** owner of each point: index in `reg` */
  private owners = new Int32Array(0);
  /** every server ever placed on this ring; indexes are stable */
  private readonly reg: LbServer[] = [];
  private readonly regIdx = new Map<LbServer, number>();
  /** per registry index: points currently on the ring and the hashKey they derive from */
  private placed: number[] = [];
  private placedBase: number[] = [];
  /** per registry index: weight / cumulated weight / group membership for the current group */
  private gw: number[] = [];
  private gcum: number[] = [];
  private g: Group = EMPTY_GROUP;
  private last = -1;
  private readonly nodeCache = new WeakMap<LbServer, { base: number; keys: Uint32Array }>();

  constructor(private readonly all: readonly LbServer[], private readonly factor: number) {}

  private nodeKeys(s: LbServer, n: number): Uint32Array {
    let c = this.nodeCache.get(s);
    if (!c || c.base !== s.hashKey || c.keys.length < n) {
      const keys = new Uint32Array(Math.max(n, c && c.base === s.hashKey ? c.keys.length : 0));
      const base = s.hashKey * NODE_KEY_RANGE;
      for (let j = 0; j < keys.length; j++) keys[j] = avalanche((base + j) >>> 0);
      c = { base: s.hashKey, keys };
      this.nodeCache.set(s, c);
    }
    return c.keys;
  }

  private indexOf(s: LbServer): number {
    let i = this.regIdx.get(s);
    if (i === undefined) {
      i = this.reg.length;
      this.reg.push(s);
      this.regIdx.set(s, i);
      this.placed.push(0);
      this.placedBase.push(s.hashKey);
      this.gw.push(0);
      this.gcum.push(0);
    }
    return i;
  }

  /**
   * Places the group's servers on the ring: each one owns as many points as
   * its scaled weight. Only the servers whose point count (or hashKey)
   * changed are re-placed, the rest of the ring is kept and merged.
   */
  build(g: Group): void {
    this.g = g;
    const want = new Map<number, number>();
    for (let i = 0; i < this.gw.length; i++) { this.gw[i] = 0; this.gcum[i] = 0; }
    for (let i = 0; i < g.list.length; i++) {
      const s = g.list[i]!;
      const r = this.indexOf(s);
      want.set(r, g.w[i]!);
      this.gw[r] = g.w[i]!;
      this.gcum[r] = g.cum[i]!;
    }
    const changed: number[] = [];
    const isChanged = new Uint8Array(this.reg.length);
    for (let r = 0; r < this.reg.length; r++) {
      const n = want.get(r) ?? 0;
      if (this.placed[r] !== n || (n > 0 && this.placedBase[r] !== this.reg[r]!.hashKey)) {
        changed.push(r);
        isChanged[r] = 1;
      }
    }
    if (changed.length === 0) return;

    // points of unchanged servers, already sorted
    const oldKeys = this.keys;
    const oldOwners = this.owners;
    let kept = 0;
    for (let x = 0; x < oldKeys.length; x++) if (!isChanged[oldOwners[x]!]) kept++;
    // points of changed servers, sorted
    let addCount = 0;
    for (const r of changed) addCount += want.get(r) ?? 0;
    const packed = new Float64Array(addCount);
    let k = 0;
    for (const r of changed) {
      const n = want.get(r) ?? 0;
      const s = this.reg[r]!;
      if (n > 0) {
        const nk = this.nodeKeys(s, n);
        for (let j = 0; j < n; j++) packed[k++] = nk[j]! * OWNER_BITS + r;
      }
      this.placed[r] = n;
      this.placedBase[r] = s.hashKey;
    }
    const addKeys = new Uint32Array(addCount);
    const addOwners = new Int32Array(addCount);
    sortPacked(packed, addKeys, addOwners);

    // merge both sorted sequences
    const total = kept + addCount;
    const keys = new Uint32Array(total);
    const owners = new Int32Array(total);
    let a = 0;
    let b = 0;
    let o = 0;
    while (o < total) {
      while (a < oldKeys.length && isChanged[oldOwners[a]!]) a++;
      let takeOld: boolean;
      if (a >= oldKeys.length) takeOld = false;
      else if (b >= addCount) takeOld = true;
      else takeOld = oldKeys[a]! < addKeys[b]! || (oldKeys[a] === addKeys[b] && oldOwners[a]! < addOwners[b]!);
      if (takeOld) { keys[o] = oldKeys[a]!; owners[o] = oldOwners[a]!; a++; }
      else { keys[o] = addKeys[b]!; owners[o] = addOwners[b]!; b++; }
      o++;
    }
    this.keys = keys;
    this.owners = owners;
    if (this.last >= total) this.last = -1;
  }

  /** Bounded-load check (hash-balance-factor) for the server of registry index `r`. */
  private eligible(r: number, served: number): boolean {
    const total = this.g.total;
    const totSlots = Math.floor(((served + 1) * this.factor + 99) / 100);
    const perWeight = Math.floor(totSlots / total);
    const rem = totSlots % total;
    const w = this.gw[r]!;
    const cum = this.gcum[r]!;
    let slots = w * perWeight + Math.floor(((cum + w) * rem) / total) - Math.floor((cum * rem) / total);
    if (slots === 0) slots = 1;
    return this.reg[r]!.cur < slots;
  }

  /** Server for hash `h`; skips `avoid` and, with a balance factor, overloaded servers. */
  byHash(h: number, avoid: LbServer | null): LbServer | null {
    const { list } = this.g;
    const keys = this.keys;
    const n = keys.length;
    if (n === 0) return null;
    if (list.length === 1) return list[0]!;
    // first point >= h
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const next = lo === n ? 0 : lo;
    const prev = next === 0 ? n - 1 : next - 1;
    const dp = (h - keys[prev]!) >>> 0;
    const dn = (keys[next]! - h) >>> 0;
    let idx = dp <= dn ? prev : next;
    if (avoid === null && !this.factor) return this.reg[this.owners[idx]!]!;

    let served = 0;
    if (this.factor) for (const s of this.all) served += s.cur;
    const verdict = new Int8Array(this.reg.length); // 0 unknown, 1 ok, 2 rejected
    const first = idx;
    for (let steps = 0; steps < n; steps++) {
      const r = this.owners[idx]!;
      let v = verdict[r]!;
      if (v === 0) {
        v = this.reg[r] !== avoid && (!this.factor || this.eligible(r, served)) ? 1 : 2;
        verdict[r] = v;
      }
      if (v === 1) return this.reg[r]!;
      if (++idx === n) idx = 0;
    }
    return this.reg[this.owners[first]!]!;
  }

  /** Round robin along the ring (fallback when the hashing input is missing). */
  next(avoid: LbServer | null): LbServer | null {
    const n = this.keys.length;
    if (n === 0) return null;
    let node = this.last;
    let avoided: LbServer | null = null;
    let avoidedNode = -1;
    for (let steps = 0; steps < n; steps++) {
      node = node + 1 >= n ? 0 : node + 1;
      this.last = node;
      const s = this.reg[this.owners[node]!]!;
      if (!s.isFull()) {
        if (s !== avoid) return s;
        if (!avoided) { avoided = s; avoidedNode = node; }
      }
    }
    if (avoided) this.last = avoidedNode;
    return avoided;
  }
}

// ---------------------------------------------------------------------------
// Hash-based algorithms: source, uri, url_param, hdr, rdp-cookie, hash, log-hash.

/** Hash of a client address: xor of its big-endian 32-bit words (the hash function is not used). */
function foldAddress(b: Uint8Array): number {
  let h = 0;
  for (let l = 0; l + 4 <= b.length; l += 4) {
    h ^= (b[l]! << 24) | (b[l + 1]! << 16) | (b[l + 2]! << 8) | b[l + 3]!;
  }
  return h >>> 0;
}

class HashBalancer extends BaseBalancer {
  private readonly lookup: MapTable | ChashRing;
  private readonly fn: (k: Uint8Array) => number;
  /** with a single server the key is not even looked for (hdr, rdp-cookie, hash) */
  private readonly singleShortcut: boolean;

  constructor(
    name: string,
    servers: LbServer[],
    opts: BalancerOptions,
    private readonly cfg: BalanceConfig,
    private readonly ht: HashTypeConfig,
  ) {
    super(name, servers, opts);
    this.fn = hashFunction(ht.fn);
    const consistent = ht.method === 'consistent' && cfg.algo !== 'log-hash';
    this.lookup = consistent ? new ChashRing(servers, opts.hashBalanceFactor) : new MapTable();
    this.singleShortcut = cfg.algo === 'hdr' || cfg.algo === 'rdp-cookie' || cfg.algo === 'hash';
  }

  protected afterRebuild(): void {
    if (this.lookup instanceof MapTable) this.lookup.build(this.g, this.servers);
    else this.lookup.build(this.g);
  }

  /** The hash a key is looked up with (function then optional avalanche). */
  hashOf(key: Uint8Array): number {
    const h = this.fn(key);
    return this.ht.avalanche ? avalanche(h) : h;
  }

  protected select(req: LbRequest, avoid: LbServer | null): LbServer | null {
    const single = this.g.list.length === 1;
    let h: number | null = null;
    if (this.cfg.algo === 'source') {
      const b = req.src !== undefined && req.src !== null ? sourceKey(req.src) : req.key ?? null;
      if (b && (b.length === 4 || b.length === 16)) {
        h = single ? 0 : foldAddress(b);
        if (!single && this.ht.avalanche) h = avalanche(h);
      }
    } else if (req.key !== undefined && req.key !== null) {
      h = single ? 0 : this.hashOf(req.key);
    } else if (single && this.singleShortcut) {
      h = 0;
    }
    let s: LbServer | null = null;
    if (h !== null) s = this.lookup instanceof MapTable ? this.lookup.byHash(h) : this.lookup.byHash(h, avoid);
    if (!s) s = this.lookup.next(avoid);
    return s;
  }
}

// ---------------------------------------------------------------------------
// random(draws): a random 32-bit number is looked up on the consistent ring
// (so weights and hash-balance-factor apply); with several draws the one with
// the lowest load (cur/weight) wins. A full winner yields null (backend queue).

class RandomBalancer extends BaseBalancer {
  private readonly ring: ChashRing;
  private readonly rnd: () => number;

  constructor(name: string, servers: LbServer[], opts: BalancerOptions, private readonly draws: number) {
    super(name, servers, opts);
    this.ring = new ChashRing(servers, opts.hashBalanceFactor);
    this.rnd = opts.random ?? Math.random;
  }

  protected afterRebuild(): void { this.ring.build(this.g); }

  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null {
    let cur: LbServer | null = null;
    for (let d = 0; d < Math.max(1, this.draws); d++) {
      const prev: LbServer | null = cur;
      const h = Math.floor(this.rnd() * 4294967296) >>> 0;
      cur = this.ring.byHash(h, avoid);
      if (!cur) break;
      if (prev && prev !== cur && cur.cur * this.st(prev).w > prev.cur * this.st(cur).w) cur = prev;
    }
    if (cur && cur.isFull()) return null;
    return cur;
  }
}

// ---------------------------------------------------------------------------
// leastconn: lowest load first, the load being 0 for an idle server and
// (cur + 1) / weight otherwise (the load it would have after taking this
// connection). Servers with equal load are used in turn: a server goes behind
// its equals each time its load changes. Full servers are skipped.

class LeastConn extends BaseBalancer {
  protected afterRebuild(joined: LbServer[], reweighted: LbServer[]): void {
    for (const s of joined) this.st(s).seq = ++this.seqCounter;
    for (const s of reweighted) this.st(s).seq = ++this.seqCounter;
  }

  private reposition(s: LbServer): void {
    const st = this.st(s);
    if (st.member) st.seq = ++this.seqCounter;
  }

  override onTaken(s: LbServer): void { this.reposition(s); }
  override onReleased(s: LbServer): void { this.reposition(s); }

  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null {
    const { list, w } = this.g;
    let best: LbServer | null = null;
    let bestKey = Infinity;
    let bestSeq = Infinity;
    let avoided: LbServer | null = null;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      if (s.isFull()) continue;
      if (s === avoid) { avoided = s; continue; }
      const key = s.cur > 0 ? Math.floor(((s.cur + 1) * NODE_KEY_RANGE) / w[i]!) : 0;
      const seq = this.st(s).seq;
      if (key < bestKey || (key === bestKey && seq < bestSeq)) {
        best = s;
        bestKey = key;
        bestSeq = seq;
      }
    }
    return best ?? avoided;
  }
}

// ---------------------------------------------------------------------------
// first: the server with the lowest id that still has a free slot.

class First extends BaseBalancer {
  private order: LbServer[] = [];

  protected afterRebuild(): void {
    this.order = [...this.g.list].sort((a, b) => a.puid - b.puid);
  }

  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null {
    let avoided: LbServer | null = null;
    for (const s of this.order) {
      if (s.isFull()) continue;
      if (s === avoid) { avoided = s; continue; }
      return s;
    }
    return avoided;
  }
}

// ---------------------------------------------------------------------------
// sticky (LOG mode): the first available server keeps everything until it
// goes away; a server coming back is appended at the end of the list.

class Sticky extends BaseBalancer {
  private order: LbServer[] = [];

  protected afterRebuild(): void {
    const now = new Set(this.g.list);
    this.order = this.order.filter((s) => now.has(s));
    for (const s of this.g.list) if (!this.order.includes(s)) this.order.push(s);
  }

  protected select(_req: LbRequest, avoid: LbServer | null): LbServer | null {
    const first = this.order[0] ?? null;
    if (first === avoid && this.order.length > 1) return this.order[1]!;
    return first;
  }
}

// ---------------------------------------------------------------------------

/**
 * Builds the balancer of a backend. `servers` is kept by reference (the core
 * may later add or remove servers, then call rebuild()). `hashType` only
 * matters for the hash-based algorithms; `balance random` always uses the
 * consistent ring. Missing cfg/hashType mean the documented defaults.
 */
export function createBalancer(
  cfg: BalanceConfig | undefined,
  hashType: HashTypeConfig | undefined,
  servers: LbServer[],
  opts: BalancerOptions = { allbackups: false, hashBalanceFactor: 0 },
): Balancer {
  const c: BalanceConfig = cfg ?? { algo: 'roundrobin' };
  const ht: HashTypeConfig = hashType ?? { method: 'map-based', fn: 'sdbm', avalanche: false };
  let b: BaseBalancer;
  switch (c.algo) {
    case 'roundrobin': b = new RoundRobin(c.algo, servers, opts); break;
    case 'static-rr': b = new StaticRR(c.algo, servers, opts); break;
    case 'leastconn': b = new LeastConn(c.algo, servers, opts); break;
    case 'first': b = new First(c.algo, servers, opts); break;
    case 'random': b = new RandomBalancer(c.algo, servers, opts, c.draws); break;
    case 'sticky': b = new Sticky(c.algo, servers, opts); break;
    default: b = new HashBalancer(c.algo, servers, opts, c, ht); break;
  }
  b.rebuild();
  return b;
}

/**
 * The 32-bit hash a hash-based balancer looks `key` up with (useful for
 * diagnostics and tests); for `source`, `key` is the 4/16 address bytes.
 */
export function lbHash(cfg: BalanceConfig, hashType: HashTypeConfig, key: Uint8Array): number {
  if (cfg.algo === 'source') {
    const h = foldAddress(key);
    return hashType.avalanche ? avalanche(h) : h;
  }
  const h = hashFunction(hashType.fn)(key);
  return hashType.avalanche ? avalanche(h) : h;
}
