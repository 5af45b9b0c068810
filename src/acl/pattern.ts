// Pattern matching (configuration.txt 7.1): the match methods, how patterns of each method are
// parsed, and the indexes that make lookups fast. A `PatternRef` is a list of patterns (and, for
// maps, values) shared by every ACL and map converter that names the same file or `-u` id, so
// the runtime API changes what all of them see at once. Each user builds a `PatternIndex` over the
// ref with its own match method and case flag; indexes follow the ref's changes incrementally.
import { cast, parseIpv4, parseIpv6, ipv4ToV6, ipv6ToV4, intNum, type Sample, type SmpType } from '../sample/types.js';

export type MatchMethod = 'found' | 'bool' | 'int' | 'ip' | 'bin' | 'len' | 'str' | 'sub' | 'reg' | 'beg' | 'end' | 'dir' | 'dom';
export const MATCH_METHODS: readonly MatchMethod[] = ['found', 'bool', 'int', 'ip', 'bin', 'len', 'str', 'sub', 'reg', 'beg', 'end', 'dir', 'dom'];

/** The default match method for a sample type (7.1), undefined when `-m` is required. */
export function defaultMethod(t: SmpType): MatchMethod | undefined {
  switch (t) {
    case 'bool': return 'bool';
    case 'sint': return 'int';
    case 'ipv4': case 'ipv6': case 'addr': return 'ip';
    case 'str': case 'meth': return 'str';
    default: return undefined;
  }
}

/** One entry of a pattern list: the pattern text, and for maps its value. */
export interface PatEntry {
  key: string;
  value: string | undefined;
  /** generation the entry belongs to (prepare/commit) */
  gen: number;
  /** unique, for `del acl/map #<ref>` and `show acl/map` pointers */
  seq: number;
  /** the entry's value parsed for map output types, cached by the map converters */
  parsed?: unknown;
}

/** A parsed pattern (per match method). */
type Parsed =
  | { k: 'int'; lo: number; hi: number }
  | { k: 'ip4'; net: number; len: number }
  | { k: 'ip6'; net: Buffer; len: number }
  | { k: 'str'; s: string }
  | { k: 'bin'; b: Buffer }
  | { k: 'reg'; re: RegExp };

export class PatternError extends Error {}

function parseIntBound(t: string): number {
  if (/^[+-]?[0-9]+$/.test(t)) return Number(t);
  const m = /^([0-9]+)\.([0-9]+)$/.exec(t);
  if (m) return Number(m[1]) * 65536 + Number(m[2]);
  throw new PatternError(`'${t}' is not a number`);
}

/** Parses an integer pattern: `N`, `lo:hi`, `lo:`, `:hi`, or with an operator (`gt N` ...). */
export function parseIntPattern(text: string, op: string | undefined): { lo: number; hi: number } {
  if (op && op !== 'eq') {
    const v = parseIntBound(text);
    switch (op) {
      case 'ge': return { lo: v, hi: Infinity };
      case 'gt': return { lo: v + 1, hi: Infinity };
      case 'le': return { lo: -Infinity, hi: v };
      case 'lt': return { lo: -Infinity, hi: v - 1 };
    }
  }
  const c = text.indexOf(':');
  if (c < 0) { const v = parseIntBound(text); return { lo: v, hi: v }; }
  const a = text.slice(0, c), b = text.slice(c + 1);
  if (a === '' && b === '') throw new PatternError(`'${text}' is not a number nor a range`);
  const lo = a === '' ? -Infinity : parseIntBound(a);
  const hi = b === '' ? Infinity : parseIntBound(b);
  if (lo > hi) throw new PatternError(`'${text}' is not a valid range`);
  return { lo, hi };
}

/** IPv4 in the abbreviated forms HAProxy accepts ("10.12" = 10.0.0.12), with an optional mask. */
export function parseIpPattern(text: string): { k: 'ip4'; net: number; len: number } | { k: 'ip6'; net: Buffer; len: number } {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const mask = slash >= 0 ? text.slice(slash + 1) : undefined;
  let v4 = parseIpv4(addr);
  if (v4 === undefined && /^[0-9]+(\.[0-9]+){0,2}$/.test(addr)) {
    // abbreviated: the last number is the last octet, zeros omitted in between
    const parts = addr.split('.').map(Number);
    if (parts.every((p) => p <= 255)) {
      const last = parts.pop()!;
      const full = [...parts, ...new Array(3 - parts.length).fill(0), last];
      v4 = ((full[0]! << 24) | (full[1]! << 16) | (full[2]! << 8) | full[3]!) >>> 0;
    }
  }
  if (v4 !== undefined) {
    let len = 32;
    if (mask !== undefined) {
      if (/^[0-9]+$/.test(mask) && Number(mask) <= 32) len = Number(mask);
      else {
        const m = parseIpv4(mask);
        if (m === undefined) throw new PatternError(`'${text}' is not a valid IPv4 or IPv6 address`);
        len = 0;
        while (len < 32 && ((m >>> (31 - len)) & 1)) len++;
        if (len < 32 && ((m << len) >>> 0) !== 0) throw new PatternError(`'${text}' is not a valid IPv4 or IPv6 address`);
      }
    }
    return { k: 'ip4', net: maskV4(v4, len), len };
  }
  const v6 = parseIpv6(addr);
  if (v6) {
    let len = 128;
    if (mask !== undefined) {
      if (!/^[0-9]+$/.test(mask) || Number(mask) > 128) throw new PatternError(`'${text}' is not a valid IPv4 or IPv6 address`);
      len = Number(mask);
    }
    return { k: 'ip6', net: maskV6(v6, len), len };
  }
  throw new PatternError(`'${text}' is not a valid IPv4 or IPv6 address`);
}

export function maskV4(v: number, len: number): number {
  return len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0;
}

export function maskV6(b: Buffer, len: number): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    out[i] = out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function parseHex(text: string): Buffer {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new PatternError(`'${text}' is not a valid hex string`);
  return Buffer.from(text, 'hex');
}

/** Parses one pattern for a method (integer operators were turned into ranges by the ACL parser). */
export function parsePattern(method: MatchMethod, text: string, icase: boolean): Parsed {
  switch (method) {
    case 'int': case 'len': { const r = parseIntPattern(text, undefined); return { k: 'int', ...r }; }
    case 'ip': return parseIpPattern(text);
    case 'bin': return { k: 'bin', b: parseHex(text) };
    case 'reg':
      try { return { k: 'reg', re: new RegExp(text, icase ? 'si' : 's') }; } catch (e) {
        throw new PatternError(`regex '${text}' is invalid: ${(e as Error).message}`);
      }
    case 'dom': {
      // leading and trailing delimiters of the pattern are ignored
      const s = text.replace(/^[./:?]+/, '').replace(/[./:?]+$/, '');
      return { k: 'str', s: icase ? s.toLowerCase() : s };
    }
    case 'dir': {
      const s = text.replace(/^[/?]+/, '').replace(/[/?]+$/, '');
      return { k: 'str', s: icase ? s.toLowerCase() : s };
    }
    case 'found': case 'bool':
      return { k: 'str', s: text };
    default:
      return { k: 'str', s: icase ? text.toLowerCase() : text };
  }
}

/* ---------------------------------------------------------------------------------------- */
/* References: shared lists of entries                                                      */
/* ---------------------------------------------------------------------------------------- */

let nextSeq = 1;

/** Counts changes to the current entries of any ref: tables built from patterns rebuild when it moves. */
export const patternGeneration = { n: 0 };

/** Something that follows a PatternRef's changes. */
interface RefListener {
  added(e: PatEntry): void;
  removed(e: PatEntry): void;
  rebuilt(): void;
}

export class PatternRef {
  /** file name, or `-u` id text, or an anonymous name like "acl 'x' file 'f' line N" */
  readonly name: string;
  /** the unique id shown by `show acl`/`show map` */
  readonly id: number;
  readonly isMap: boolean;
  /** used by ACLs (`show acl` lists it) and/or by map converters (`show map` lists it) */
  usedAsAcl = false;
  usedAsMap = false;
  /** a file was read into it already */
  loaded = false;
  /** the description after the id in `show acl`/`show map` */
  displayName: string;
  entries: PatEntry[] = [];
  curGen = 0;
  nextGen = 0;
  /** the ref is a file (`-f`), an anonymous list, or a `-u` id */
  readonly kind: 'file' | 'inline';
  /** where it was first used (for `show map`'s description) */
  usedBy: string[] = [];
  private listeners = new Set<RefListener>();

  constructor(name: string, id: number, isMap: boolean, kind: 'file' | 'inline') {
    this.name = name;
    this.id = id;
    this.isMap = isMap;
    this.kind = kind;
    this.displayName = name;
    if (isMap) this.usedAsMap = true; else this.usedAsAcl = true;
  }

  listen(l: RefListener): void { this.listeners.add(l); }

  /** Entries of the current generation, in order. */
  current(): PatEntry[] { return this.entries.filter((e) => e.gen === this.curGen); }

  /** Adds an entry to a generation (the current one by default); indexes see current ones only. */
  add(key: string, value: string | undefined, gen = this.curGen): PatEntry {
    const e: PatEntry = { key, value, gen, seq: nextSeq++ };
    this.entries.push(e);
    if (gen === this.curGen) { patternGeneration.n++; for (const l of this.listeners) l.added(e); }
    return e;
  }

  /** Removes the entries of the current generation with that key; returns how many. */
  removeKey(key: string): number {
    const gone = this.entries.filter((e) => e.gen === this.curGen && e.key === key);
    if (gone.length === 0) return 0;
    const set = new Set(gone);
    this.entries = this.entries.filter((e) => !set.has(e));
    patternGeneration.n++;
    for (const e of gone) for (const l of this.listeners) l.removed(e);
    return gone.length;
  }

  /** Removes one entry by its sequence number. */
  removeSeq(seq: number): boolean {
    const i = this.entries.findIndex((e) => e.seq === seq);
    if (i < 0) return false;
    const [e] = this.entries.splice(i, 1);
    if (e!.gen === this.curGen) { patternGeneration.n++; for (const l of this.listeners) l.removed(e!); }
    return true;
  }

  /** Sets the value of every current entry with that key; returns how many. */
  setValue(key: string, value: string): number {
    let n = 0;
    for (const e of this.entries) if (e.gen === this.curGen && e.key === key) { e.value = value; e.parsed = undefined; n++; }
    return n;
  }

  /** Clears a generation (the current one by default). */
  clear(gen = this.curGen): void {
    this.entries = this.entries.filter((e) => e.gen !== gen);
    if (gen === this.curGen) { patternGeneration.n++; for (const l of this.listeners) l.rebuilt(); }
  }

  /** `prepare`: a new generation number, above every existing one. */
  prepare(): number {
    this.nextGen = Math.max(this.nextGen, this.curGen) + 1;
    return this.nextGen;
  }

  /** `commit`: makes a prepared generation current; older ones are dropped. */
  commit(gen: number): boolean {
    if (gen <= this.curGen || gen > this.nextGen) return false;
    this.curGen = gen;
    this.entries = this.entries.filter((e) => e.gen >= gen);
    patternGeneration.n++;
    for (const l of this.listeners) l.rebuilt();
    return true;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Indexes                                                                                  */
/* ---------------------------------------------------------------------------------------- */

interface Item { p: Parsed; e: PatEntry }

/** Keeps the first-added entry per key first: arrays of items ordered by entry sequence. */
function pushOrdered(arr: Item[], it: Item): void {
  let i = arr.length;
  while (i > 0 && arr[i - 1]!.e.seq > it.e.seq) i--;
  arr.splice(i, 0, it);
}

/**
 * One ACL's or map converter's view of a PatternRef, with a match method and case flag.
 * Exact strings: hash table; prefixes: hash table per length present (longest wins); IPs: hash
 * table per prefix length (longest prefix wins); other methods: an ordered list.
 */
export class PatternIndex {
  readonly method: MatchMethod;
  readonly icase: boolean;
  readonly refs: PatternRef[] = [];
  private exact = new Map<string, Item[]>();
  private prefixLens: number[] = [];
  private v4 = new Map<number, Map<number, Item[]>>(); // len → masked net → items
  private v4Lens: number[] = [];
  private v6 = new Map<number, Map<string, Item[]>>();
  private v6Lens: number[] = [];
  private list: Item[] = [];
  /** problems found in entries (bad patterns); reported by the owner */
  errors: string[] = [];

  constructor(method: MatchMethod, icase: boolean) {
    this.method = method;
    this.icase = icase;
  }

  /** Adds a ref to this index and follows its changes. */
  attach(ref: PatternRef): void {
    this.refs.push(ref);
    for (const e of ref.current()) this.added(e);
    ref.listen({
      added: (e) => this.added(e),
      removed: (e) => this.removed(e),
      rebuilt: () => this.rebuild(),
    });
  }

  private rebuild(): void {
    this.exact.clear(); this.v4.clear(); this.v6.clear(); this.list = [];
    this.prefixLens = []; this.v4Lens = []; this.v6Lens = [];
    for (const r of this.refs) for (const e of r.current()) this.added(e);
  }

  /** Parses an entry for this index (throws PatternError). */
  parse(key: string): Parsed { return parsePattern(this.method, key, this.icase); }

  private added(e: PatEntry): void {
    let p: Parsed;
    try { p = this.parse(e.key); } catch (err) { this.errors.push((err as Error).message); return; }
    const it: Item = { p, e };
    switch (this.method) {
      case 'str': case 'beg': {
        const s = (p as { s: string }).s;
        let arr = this.exact.get(s);
        if (!arr) { arr = []; this.exact.set(s, arr); if (this.method === 'beg' && !this.prefixLens.includes(s.length)) { this.prefixLens.push(s.length); this.prefixLens.sort((a, b) => b - a); } }
        pushOrdered(arr, it);
        return;
      }
      case 'ip':
        if (p.k === 'ip4') {
          let m = this.v4.get(p.len);
          if (!m) { m = new Map(); this.v4.set(p.len, m); this.v4Lens.push(p.len); this.v4Lens.sort((a, b) => b - a); }
          let arr = m.get(p.net);
          if (!arr) { arr = []; m.set(p.net, arr); }
          pushOrdered(arr, it);
        } else if (p.k === 'ip6') {
          let m = this.v6.get(p.len);
          if (!m) { m = new Map(); this.v6.set(p.len, m); this.v6Lens.push(p.len); this.v6Lens.sort((a, b) => b - a); }
          const k = p.net.toString('hex');
          let arr = m.get(k);
          if (!arr) { arr = []; m.set(k, arr); }
          pushOrdered(arr, it);
        }
        return;
      default:
        pushOrdered(this.list, it);
    }
  }

  private removed(e: PatEntry): void {
    const drop = (arr: Item[] | undefined): boolean => {
      if (!arr) return false;
      const i = arr.findIndex((x) => x.e === e);
      if (i >= 0) arr.splice(i, 1);
      return arr.length === 0;
    };
    switch (this.method) {
      case 'str': case 'beg': {
        let s: string;
        try { s = (this.parse(e.key) as { s: string }).s; } catch { return; }
        if (drop(this.exact.get(s))) this.exact.delete(s);
        return;
      }
      case 'ip': {
        let p: Parsed;
        try { p = this.parse(e.key); } catch { return; }
        if (p.k === 'ip4') { const m = this.v4.get(p.len); if (m && drop(m.get(p.net))) m.delete(p.net); }
        else if (p.k === 'ip6') { const m = this.v6.get(p.len); const k = p.net.toString('hex'); if (m && drop(m.get(k))) m.delete(k); }
        return;
      }
      default: {
        const i = this.list.findIndex((x) => x.e === e);
        if (i >= 0) this.list.splice(i, 1);
      }
    }
  }

  /** Number of patterns (for the "empty list" cases). */
  get size(): number {
    let n = this.list.length;
    for (const a of this.exact.values()) n += a.length;
    for (const m of this.v4.values()) for (const a of m.values()) n += a.length;
    for (const m of this.v6.values()) for (const a of m.values()) n += a.length;
    return n;
  }

  /**
   * Matches a sample; returns the matching entry (the first in list order, or the longest
   * prefix for trees), or undefined. `found` and `bool` need no entries and return MATCH_ONLY.
   */
  match(s: Sample): PatEntry | undefined {
    switch (this.method) {
      case 'found': return MATCH_ONLY;
      case 'bool': {
        const c = s.t === 'bool' ? s : cast(s, 'bool');
        return c && c.v ? MATCH_ONLY : undefined;
      }
      case 'int': {
        const c = cast(s, 'sint');
        if (!c) return undefined;
        return this.matchInt(intNum(c.v));
      }
      case 'len': {
        const c = s.t === 'bin' ? s : cast(s, 'str');
        if (!c) return undefined;
        return this.matchInt((c.v as { length: number }).length);
      }
      case 'ip': return this.matchIp(s);
      case 'bin': {
        const c = cast(s, 'bin');
        if (!c) return undefined;
        const b = c.v as Buffer;
        for (const it of this.list) if ((it.p as { b: Buffer }).b.equals(b)) return it.e;
        return undefined;
      }
      default: break;
    }
    const c = s.t === 'str' ? s : cast(s, 'str');
    if (!c) return undefined;
    let v = c.v as string;
    if (this.method === 'reg') {
      for (const it of this.list) if ((it.p as { re: RegExp }).re.test(v)) return it.e;
      return undefined;
    }
    if (this.icase) v = v.toLowerCase();
    switch (this.method) {
      case 'str': return this.exact.get(v)?.[0]?.e;
      case 'beg': {
        for (const len of this.prefixLens) {
          if (len > v.length) continue;
          const arr = this.exact.get(len === v.length ? v : v.slice(0, len));
          if (arr) return arr[0]!.e;
        }
        return undefined;
      }
      case 'end':
        for (const it of this.list) if (v.endsWith((it.p as { s: string }).s)) return it.e;
        return undefined;
      case 'sub':
        for (const it of this.list) if (v.includes((it.p as { s: string }).s)) return it.e;
        return undefined;
      case 'dir':
        for (const it of this.list) if (delimitedMatch(v, (it.p as { s: string }).s, isDirDelim)) return it.e;
        return undefined;
      case 'dom':
        for (const it of this.list) if (delimitedMatch(v, (it.p as { s: string }).s, isDomDelim)) return it.e;
        return undefined;
    }
    return undefined;
  }

  private matchInt(n: number): PatEntry | undefined {
    for (const it of this.list) {
      const p = it.p as { lo: number; hi: number };
      if (n >= p.lo && n <= p.hi) return it.e;
    }
    return undefined;
  }

  private matchIp(s: Sample): PatEntry | undefined {
    const c = s.t === 'ipv4' || s.t === 'ipv6' ? s : cast(s, 'addr');
    if (!c) return undefined;
    let v4: number | undefined;
    let v6: Buffer | undefined;
    if (c.t === 'ipv4') { v4 = c.v as number; v6 = this.v6Lens.length ? ipv4ToV6(v4) : undefined; } else {
      v6 = c.v as Buffer;
      if (this.v4Lens.length) {
        v4 = ipv6ToV4(v6);
        // 2002:IPV4::/48 (6to4) also matches IPv4 patterns
        if (v4 === undefined && v6[0] === 0x20 && v6[1] === 0x02) v4 = v6.readUInt32BE(2);
      }
    }
    if (v4 !== undefined) {
      for (const len of this.v4Lens) {
        const arr = this.v4.get(len)!.get(maskV4(v4, len));
        if (arr) return arr[0]!.e;
      }
    }
    if (v6 !== undefined) {
      for (const len of this.v6Lens) {
        const arr = this.v6.get(len)!.get(maskV6(v6, len).toString('hex'));
        if (arr) return arr[0]!.e;
      }
    }
    return undefined;
  }
}

/** Returned by match() for methods that need no pattern. */
export const MATCH_ONLY: PatEntry = { key: '', value: undefined, gen: 0, seq: 0 };

function isDirDelim(c: number): boolean { return c === 0x2f || c === 0x3f; }
function isDomDelim(c: number): boolean { return c === 0x2e || c === 0x2f || c === 0x3a || c === 0x3f; }

/** `pat` occurs in `v` with a delimiter (or the string's edge) on both sides. */
function delimitedMatch(v: string, pat: string, delim: (c: number) => boolean): boolean {
  if (pat.length === 0) return false;
  let from = 0;
  for (;;) {
    const i = v.indexOf(pat, from);
    if (i < 0) return false;
    const before = i === 0 || delim(v.charCodeAt(i - 1));
    const end = i + pat.length;
    const after = end === v.length || delim(v.charCodeAt(end));
    if (before && after) return true;
    from = i + 1;
  }
}

/* ---------------------------------------------------------------------------------------- */
/* The registry of references (by file name or -u id), shared with the runtime API          */
/* ---------------------------------------------------------------------------------------- */

export class PatternRefs {
  private byName = new Map<string, PatternRef>();
  private byId = new Map<number, PatternRef>();
  private nextId = 0;

  all(): PatternRef[] { return [...this.byId.values()].sort((a, b) => a.id - b.id); }

  byFile(name: string): PatternRef | undefined { return this.byName.get(name); }
  byUid(id: number): PatternRef | undefined { return this.byId.get(id); }

  /** The ref for a file (created empty when new), or for a `-u` id. */
  get(name: string, isMap: boolean, kind: 'file' | 'inline', uid?: number): PatternRef {
    let r = this.byName.get(name);
    if (r) return r;
    let id = uid ?? this.nextId;
    while (uid === undefined && this.byId.has(id)) id++;
    if (uid === undefined) this.nextId = id + 1;
    r = new PatternRef(name, id, isMap, kind);
    this.byName.set(name, r);
    this.byId.set(id, r);
    return r;
  }

  /** A new anonymous ref (inline patterns of one ACL line). */
  anonymous(desc: string, uid?: number): PatternRef {
    if (uid !== undefined && this.byId.has(uid)) return this.byId.get(uid)!;
    let id = uid ?? this.nextId;
    while (uid === undefined && this.byId.has(id)) id++;
    if (uid === undefined) this.nextId = id + 1;
    const r = new PatternRef(desc, id, false, 'inline');
    this.byId.set(id, r);
    return r;
  }

  /** Finds a ref by `#<id>` or by file name (runtime API). */
  lookup(text: string): PatternRef | undefined {
    if (text.startsWith('#')) {
      const id = Number(text.slice(1));
      return Number.isInteger(id) ? this.byId.get(id) : undefined;
    }
    return this.byName.get(text);
  }
}

/** The process's pattern references. */
export const patternRefs = new PatternRefs();
