// The map converters (configuration.txt 7.3.1 "map"): look the input up in a two-column file
// with a match method and return the value of the matching entry (as a string, an integer or
// an address), or its key. The file becomes a PatternRef shared with the runtime API, so
// `add/del/set map` change what every converter sees at once.
import fs from 'node:fs';
import { registerConverter } from '../registry.js';
import type { ArgCheckCtx } from '../registry.js';
import { smpInt, smpStr, smpIpv4, smpIpv6, strToInt, parseIpv6, type Sample } from '../types.js';
import { PatternIndex, parsePattern, patternRefs, type MatchMethod, type PatEntry, type PatternRef } from '../../acl/pattern.js';
import { parsePatternText } from '../../acl/files.js';
import { addRefExpr, noteRefUse, sharedIndex, splitWhere, type RefExpr } from '../../acl/ref-users.js';

export type MapOut = 'str' | 'int' | 'ip' | 'key';

/** What a map converter's check() leaves in args[0]. */
export interface CompiledMap {
  ref: PatternRef;
  index: PatternIndex;
  out: MapOut;
  regm: boolean;
  /** returned when nothing matches (undefined: the conversion fails) */
  def: Sample | undefined;
}

/** Per-entry values parsed for the outputs, cached in PatEntry.parsed (reset by `set map`). */
interface Parsed {
  str?: Sample;
  int?: Sample | null;
  ip?: Sample | null;
  /** map_regm: the key compiled, and the value cut into text and group numbers */
  re?: RegExp;
  tpl?: (string | number)[];
}

/* ---- value parsers ---- */

/** An integer value: optional sign and digits (none at all is 0), clamped to 64 bits. */
export function parseMapInt(v: string): number | bigint | undefined {
  if (!/^[+-]?[0-9]*$/.test(v)) return undefined;
  return strToInt(v) ?? 0;
}

/** An address value: a dotted quad (anything after it is ignored, as HAProxy does) or IPv6. */
export function parseMapIp(v: string): Sample | undefined {
  const m = /^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/.exec(v);
  if (m) {
    const o = [m[1], m[2], m[3], m[4]].map(Number);
    if (o.every((x) => x <= 255)) return smpIpv4(((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0);
  }
  const v6 = parseIpv6(v);
  return v6 ? smpIpv6(v6) : undefined;
}

function parsedOf(e: PatEntry): Parsed {
  let p = e.parsed as Parsed | undefined;
  if (!p) { p = {}; e.parsed = p; }
  return p;
}

function intOf(e: PatEntry): Sample | undefined {
  const p = parsedOf(e);
  if (p.int === undefined) { const n = parseMapInt(e.value ?? ''); p.int = n === undefined ? null : smpInt(n); }
  return p.int ?? undefined;
}

function ipOf(e: PatEntry): Sample | undefined {
  const p = parsedOf(e);
  if (p.ip === undefined) p.ip = parseMapIp(e.value ?? '') ?? null;
  return p.ip ?? undefined;
}

function strOf(e: PatEntry): Sample {
  const p = parsedOf(e);
  return p.str ??= smpStr(e.value ?? '');
}

/** Cuts a map_regm value into literal parts and group references (\0..\9; "\\" is a backslash). */
export function regmTemplate(v: string): (string | number)[] {
  const out: (string | number)[] = [];
  let cur = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && i + 1 < v.length) {
      const n = v.charCodeAt(i + 1);
      if (n >= 0x30 && n <= 0x39) { if (cur) out.push(cur); cur = ''; out.push(n - 0x30); i++; continue; }
      if (n === 0x5c) { cur += '\\'; i++; continue; }
    }
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

function regmOut(e: PatEntry, input: string): Sample | undefined {
  const p = parsedOf(e);
  if (!p.re) {
    try { p.re = new RegExp(e.key, 's'); } catch { return undefined; }
  }
  p.tpl ??= regmTemplate(e.value ?? '');
  const m = p.re.exec(input);
  if (!m) return strOf(e);
  let s = '';
  for (const part of p.tpl) s += typeof part === 'string' ? part : (m[part] ?? '');
  return smpStr(s);
}

/* ---- loading ---- */

/**
 * The file line of each entry read from a file, by position in ref.entries (for configuration
 * error messages, which are produced before anything can change the entries).
 */
const entryLines = new WeakMap<PatternRef, Int32Array>();

/** Reads a map file into its ref; returns an error message, or undefined. */
function loadMapFile(ref: PatternRef, path: string, optional: boolean): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'latin1');
  } catch {
    if (optional) { ref.loaded = true; return undefined; }
    return `failed to open pattern file <${path}>`;
  }
  const first = ref.entries.length;
  const list = parsePatternText(text, true);
  const lines = new Int32Array(first + list.length);
  for (let i = 0; i < list.length; i++) { const l = list[i]!; ref.add(l.key, l.value); lines[first + i] = l.line; }
  entryLines.set(ref, lines);
  ref.loaded = true;
  return undefined;
}

function at(ref: PatternRef, e: PatEntry): string {
  const i = ref.entries.indexOf(e);
  return ` at line ${(i >= 0 ? entryLines.get(ref)?.[i] : undefined) ?? 0} of file '${ref.name}'`;
}

/** Map file name forms (configuration.txt 2.7): file@ and opt@ prefixes, virt@ names. */
export function mapName(arg: string): { name: string; optional: boolean; virtual: boolean } {
  if (arg.startsWith('file@')) return { name: arg.slice(5), optional: false, virtual: false };
  if (arg.startsWith('opt@')) return { name: arg.slice(4), optional: true, virtual: false };
  if (arg.startsWith('virt@')) return { name: arg, optional: false, virtual: true };
  return { name: arg, optional: false, virtual: false };
}

const OUT_TYPE: Record<MapOut, 'str' | 'sint' | 'addr'> = { str: 'str', int: 'sint', ip: 'addr', key: 'str' };

function compile(method: MatchMethod, regm: boolean, out: MapOut, args: any[], cx: ArgCheckCtx): string | undefined {
  const { name, optional, virtual } = mapName(String(args[0]));
  if (name === '') return 'map: missing map name';
  const ref = patternRefs.get(name, true, 'file');
  if (!ref.isMap) return `The file "${name}" is already used as one column file and cannot be used by as two column file.`;
  ref.usedAsMap = true;
  if (!ref.loaded) {
    if (virtual) ref.loaded = true;
    else { const err = loadMapFile(ref, name, optional); if (err) return err; }
  }
  const w = splitWhere(cx.where, cx.file);
  noteRefUse(ref, 'map', w.file, w.line);

  // the default value, parsed for the output type
  let def: Sample | undefined;
  if (args.length > 1) {
    const d = args[1];
    if (out === 'int') def = smpInt(d as number | bigint);
    else if (out === 'ip') {
      def = parseMapIp(String(d));
      if (!def) return `map: cannot parse default ip <${String(d)}>.`;
    } else def = smpStr(String(d));
  }

  const index = sharedIndex(ref, method, false, () => {
    const idx = new PatternIndex(method, false);
    idx.attach(ref);
    return idx;
  });
  if (index.errors.length) {
    for (const e of ref.current()) {
      try { parsePattern(method, e.key, false); } catch (err) { return `${(err as Error).message}${at(ref, e)}`; }
    }
    return index.errors[0];
  }

  const expr: RefExpr = {
    kind: 'map', matchName: regm ? 'regm' : method, index, outType: OUT_TYPE[out],
    parseValue: out === 'int' ? parseMapInt : out === 'ip' ? parseMapIp : undefined,
    valueType: out === 'int' ? () => 'sint' : out === 'ip' ? (e) => ipOf(e)?.t ?? 'str' : () => 'str',
  };
  const kept = addRefExpr(ref, expr);
  if (kept === expr && (out === 'int' || out === 'ip')) {
    // every value must be valid for this output; the parsed values stay cached
    for (const e of ref.current()) {
      if ((out === 'int' ? intOf(e) : ipOf(e)) === undefined) return `unable to parse '${e.value ?? ''}'${at(ref, e)}`;
    }
  }
  const c: CompiledMap = { ref, index, out, regm, def };
  args.length = 0;
  args.push(c);
  return undefined;
}

function convert(s: Sample, args: any[]): Sample | undefined {
  const c = args[0] as CompiledMap;
  const e = c.index.match(s);
  if (!e) return c.def;
  switch (c.out) {
    case 'str': return c.regm ? regmOut(e, s.v as string) : strOf(e);
    case 'key': return smpStr(e.key);
    case 'int': return intOf(e);
    case 'ip': return ipOf(e);
  }
}

/* ---- registration: map, map_<match>, map_<match>_<out>, map_regm ---- */

const METHODS: MatchMethod[] = ['str', 'beg', 'sub', 'dir', 'dom', 'end', 'reg', 'int', 'ip'];
const OUTS: MapOut[] = ['str', 'int', 'ip', 'key'];

function register(name: string, method: MatchMethod, regm: boolean, out: MapOut): void {
  registerConverter(name, {
    fn: convert,
    check: (args, cx) => compile(method, regm, out, args, cx),
  });
}

register('map', 'str', false, 'str');
register('map_regm', 'reg', true, 'str');
for (const m of METHODS) {
  for (const o of OUTS) register(o === 'str' ? `map_${m}` : `map_${m}_${o}`, m, false, o);
}
