// Runtime API commands for maps and ACLs (management.txt 9.3): show/get/add/del/set/clear/
// prepare/commit on the pattern references shared with the map converters and the ACLs. Every
// change goes through PatternRef, so the indexes of all users follow at once.
import { registerCli, type CliContext, type CliKeyword } from '../registry/registry.js';
import { patternRefs, type PatEntry, type PatternRef } from '../acl/pattern.js';
import { refExprs, entryPtr, ptrToSeq, type RefExpr } from '../acl/ref-users.js';
import { smpStr } from '../sample/types.js';
import type { CliSessionContext } from './cli-session.js';

type Kind = 'map' | 'acl';

function sc(ctx: CliContext): CliSessionContext | undefined {
  return 'session' in ctx ? (ctx as CliSessionContext) : undefined;
}
function msg(ctx: CliContext, text: string): void {
  const s = sc(ctx);
  if (s) s.msg(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}
function err(ctx: CliContext, text: string): void {
  const s = sc(ctx);
  if (s) s.err(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}

const UNKNOWN: Record<Kind, string> = {
  map: 'Unknown map identifier. Please use #<id> or <file>.',
  acl: 'Unknown ACL identifier. Please use #<id> or <file>.',
};
const MISSING: Record<Kind, string> = { map: 'Missing map identifier.', acl: 'Missing ACL identifier.' };

/** The ref named by `#<id>` or a file name; with `typed`, only one used as that kind. */
function lookup(text: string | undefined, kind: Kind, typed: boolean): PatternRef | undefined {
  if (text === undefined || text === '') return undefined;
  let r: PatternRef | undefined;
  if (text.startsWith('#')) {
    // the whole rest must be a decimal number
    if (!/^[+-]?[0-9]+$/.test(text.slice(1))) return undefined;
    r = patternRefs.byUid(Number(text.slice(1)));
  } else {
    r = patternRefs.byFile(text);
  }
  if (!r || !typed) return r;
  return (kind === 'map' ? r.usedAsMap : r.usedAsAcl) ? r : undefined;
}

/** An unsigned version number as `@<ver>` gives it (leading digits; anything else is 0). */
function parseVersion(text: string): number {
  const m = /^[0-9]+/.exec(text);
  if (!m) return 0;
  return Number(BigInt.asUintN(32, BigInt(m[0])));
}

/** Splits an optional `@<ver>` off the words after the command's two fixed words. */
function withVersion(args: string[]): { gen: number | undefined; rest: string[] } {
  const rest = args.slice(2);
  if (rest[0] !== undefined && rest[0].startsWith('@')) return { gen: parseVersion(rest[0].slice(1)), rest: rest.slice(1) };
  return { gen: undefined, rest };
}

/** One `show map`/`show acl` list line. */
export function refListLine(r: PatternRef): string {
  const file = r.kind === 'inline' ? '' : r.name;
  return `${r.id} (${file}) ${r.displayName}. curr_ver=${r.curGen} next_ver=${r.nextGen} entry_cnt=${r.entries.length}\n`;
}

function entryLine(e: PatEntry): string {
  return e.value !== undefined ? `${entryPtr(e)} ${e.key} ${e.value}\n` : `${entryPtr(e)} ${e.key}\n`;
}

/** Checks a new key (and value) against every user of the ref; returns HAProxy's message. */
function validate(r: PatternRef, key: string, value: string | undefined): string | undefined {
  for (const x of refExprs(r)) {
    try { x.index.parse(key); } catch (e) { return (e as Error).message; }
    if (value !== undefined && x.parseValue && x.parseValue(value) === undefined) return `unable to parse '${value}'`;
  }
  return undefined;
}

function validateValue(r: PatternRef, value: string): string | undefined {
  for (const x of refExprs(r)) if (x.parseValue && x.parseValue(value) === undefined) return `unable to parse '${value}'`;
  return undefined;
}

const TREE_METHODS = new Set(['str', 'beg', 'ip']);

function lookupLine(x: RefExpr, input: string, kind: Kind): string {
  const e = x.index.match(smpStr(input));
  let line = `type=${x.matchName}, case=${x.index.icase ? 'insensitive' : 'sensitive'}`;
  if (!e) return `${line}, ${kind === 'map' ? 'found' : 'match'}=no\n`;
  line += `, ${kind === 'map' ? 'found' : 'match'}=yes, idx=${TREE_METHODS.has(x.index.method) ? 'tree' : 'list'}`;
  if (kind === 'acl') return `${line}, pattern="${e.key}"\n`;
  line += `, key="${e.key}"`;
  if (x.kind === 'map' && e.value !== undefined) line += `, value="${e.value}", type="${x.valueType ? x.valueType(e) : 'str'}"`;
  else line += ', value=none';
  return `${line}\n`;
}

/** Parses one `add map` payload line: the key up to the first blank, then the value. */
function payloadLine(line: string): { key: string; value: string | undefined } {
  let i = 0;
  while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
  if (i === line.length) return { key: line, value: undefined };
  let j = i + 1;
  while (j < line.length && (line[j] === ' ' || line[j] === '\t')) j++;
  return { key: line.slice(0, i), value: line.slice(j) };
}

function showCmd(kind: Kind): CliKeyword {
  return {
    words: ['show', kind],
    usage: kind === 'map' ? 'show map [@ver] [map]' : 'show acl [@<ver>] <acl>]',
    help: kind === 'map' ? 'list the maps, or the entries of one map' : 'list the ACL pattern lists, or the entries of one',
    level: 'user',
    run(args, ctx) {
      if (args[2] === undefined || args[2] === '') {
        let out = '# id (file) description\n';
        for (const r of patternRefs.all()) if (kind === 'map' ? r.usedAsMap : r.usedAsAcl) out += refListLine(r);
        ctx.out(out);
        return;
      }
      const { gen, rest } = withVersion(args);
      const r = lookup(rest[0], kind, true);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      const g = gen ?? r.curGen;
      let out = '';
      for (const e of r.entries) if (e.gen === g) out += entryLine(e);
      ctx.out(out);
    },
  };
}

function getCmd(kind: Kind): CliKeyword {
  return {
    words: ['get', kind],
    usage: kind === 'map' ? 'get map <acl> <value>' : 'get acl <acl> <value>',
    help: kind === 'map' ? 'look a value up in a map and report the matching entries' : 'look a value up in an ACL and report the matching patterns',
    level: 'user',
    run(args, ctx) {
      if (!args[2] || !args[3]) { err(ctx, kind === 'map' ? 'Missing map identifier and/or key.' : 'Missing ACL identifier and/or key.'); return; }
      const r = lookup(args[2], kind, false);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      let out = '';
      for (const x of refExprs(r)) out += lookupLine(x, args[3], kind);
      ctx.out(out);
    },
  };
}

function addCmd(kind: Kind): CliKeyword {
  return {
    words: ['add', kind],
    usage: kind === 'map' ? 'add map [@<ver>] <map> <key> <val>' : 'add acl [@<ver>] <acl> <pattern>',
    help: kind === 'map' ? 'add an entry to a map (or several, one per payload line)' : 'add a pattern to an ACL',
    level: 'user',
    run(args, ctx, payload) {
      const { gen, rest } = withVersion(args);
      if (kind === 'map') {
        if ((payload === undefined && (!rest[0] || !rest[1] || !rest[2])) || (payload !== undefined && !rest[0])) {
          err(ctx, "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload");
          return;
        }
      } else if (!rest[0] || !rest[1]) {
        err(ctx, "'add acl' expects two parameters: ACL identifier and pattern.");
        return;
      }
      const r = lookup(rest[0], kind, false);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      if (gen !== undefined && ((gen - r.nextGen) | 0) > 0) {
        err(ctx, `Version number in the future, please use 'prepare ${kind}' before.`);
        return;
      }
      if (kind === 'acl' && r.isMap) {
        err(ctx, "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.");
        return;
      }
      const g = gen ?? r.curGen;
      const addOne = (key: string, value: string | undefined): boolean => {
        const v = kind === 'map' ? value : undefined;
        const bad = validate(r, key, v);
        if (bad) { err(ctx, `${bad}.`); return false; }
        r.add(key, v, g);
        return true;
      };
      if (payload === undefined) { addOne(rest[1]!, rest[2]); return; }
      for (const line of payload.split('\n')) {
        if (line === '') continue;
        const kv = payloadLine(line);
        if (kv.value === undefined && kind === 'map') { err(ctx, `Missing value for key '${kv.key}'.`); return; }
        if (!addOne(kv.key, kv.value)) return;
      }
    },
  };
}

function delCmd(kind: Kind): CliKeyword {
  return {
    words: ['del', kind],
    usage: kind === 'map' ? 'del map <map> [<key>|#<ref>]' : 'del acl <acl> [<key>|#<ref>]',
    help: kind === 'map' ? 'delete the map entries with a key, or one entry by its reference' : 'delete the ACL patterns equal to a text, or one by its reference',
    level: 'user',
    run(args, ctx) {
      if (!args[2] || !args[3]) {
        err(ctx, `This command expects two parameters: ${kind === 'map' ? 'map' : 'ACL'} identifier and key.`);
        return;
      }
      // HAProxy names maps in this message for both kinds
      const r = lookup(args[2], kind, true);
      if (!r) { err(ctx, UNKNOWN.map); return; }
      const k = args[3];
      if (k.startsWith('#0x')) {
        const seq = ptrToSeq(k.slice(1));
        if (seq === 'malformed') { err(ctx, 'Malformed identifier. Please use #<id> or <file>.'); return; }
        if (seq === undefined || !r.removeSeq(seq)) err(ctx, 'Key not found.');
        return;
      }
      if (r.removeKey(k) === 0) err(ctx, 'Key not found.');
    },
  };
}

const setCmd: CliKeyword = {
  words: ['set', 'map'],
  usage: 'set map <map> [<key>|#<ref>] <value>',
  help: 'change the value of the map entries with a key, or of one entry by its reference',
  level: 'user',
  run(args, ctx) {
    if (!args[2] || !args[3] || !args[4]) { err(ctx, "'set map' expects three parameters: map identifier, key and value."); return; }
    const r = lookup(args[2], 'map', false);
    if (!r) { err(ctx, UNKNOWN.map); return; }
    const k = args[3];
    const v = args[4];
    if (k.startsWith('#0x')) {
      const seq = ptrToSeq(k.slice(1));
      if (seq === 'malformed') { err(ctx, 'Malformed identifier. Please use #<id> or <file>.'); return; }
      const e = seq === undefined ? undefined : r.entries.find((x) => x.seq === seq);
      if (!e) { err(ctx, 'key or pattern not found.'); return; }
      const bad = validateValue(r, v);
      if (bad) { err(ctx, `${bad}.`); return; }
      e.value = v;
      e.parsed = undefined;
      return;
    }
    if (!r.current().some((e) => e.key === k)) { err(ctx, 'entry not found.'); return; }
    const bad = validateValue(r, v);
    if (bad) { err(ctx, `${bad}.`); return; }
    r.setValue(k, v);
  },
};

function clearCmd(kind: Kind): CliKeyword {
  return {
    words: ['clear', kind],
    usage: kind === 'map' ? 'clear map [@<ver>] <map>' : 'clear acl [@<ver>] <acl>',
    help: kind === 'map' ? 'remove every entry of a map (current version, or the one given)' : 'remove every pattern of an ACL (current version, or the one given)',
    level: 'user',
    run(args, ctx) {
      const { gen, rest } = withVersion(args);
      if (!rest[0]) { err(ctx, MISSING[kind]); return; }
      const r = lookup(rest[0], kind, true);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      r.clear(gen ?? r.curGen);
    },
  };
}

function prepareCmd(kind: Kind): CliKeyword {
  return {
    words: ['prepare', kind],
    usage: kind === 'map' ? 'prepare map <acl>' : 'prepare acl <acl>',
    help: kind === 'map' ? 'allocate a new version of a map, to fill then commit' : 'allocate a new version of an ACL, to fill then commit',
    level: 'user',
    run(args, ctx) {
      const r = lookup(args[2], kind, true);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      msg(ctx, `New version created: ${r.prepare()}`);
    },
  };
}

function commitCmd(kind: Kind): CliKeyword {
  return {
    words: ['commit', kind],
    usage: kind === 'map' ? 'commit map @<ver> <map>' : 'commit acl @<ver> <acl>',
    help: kind === 'map' ? 'make a prepared version of a map the current one' : 'make a prepared version of an ACL the current one',
    level: 'user',
    run(args, ctx) {
      if (args[2] === undefined || !args[2].startsWith('@')) { err(ctx, 'Missing version number.'); return; }
      const gen = parseVersion(args[2].slice(1));
      if (!args[3]) { err(ctx, MISSING[kind]); return; }
      const r = lookup(args[3], kind, true);
      if (!r) { err(ctx, UNKNOWN[kind]); return; }
      if (!r.commit(gen)) err(ctx, 'Version number out of range.');
    },
  };
}

export const MAP_COMMANDS: CliKeyword[] = [
  addCmd('acl'), clearCmd('acl'), commitCmd('acl'), delCmd('acl'), getCmd('acl'), prepareCmd('acl'), showCmd('acl'),
  addCmd('map'), clearCmd('map'), commitCmd('map'), delCmd('map'), getCmd('map'), prepareCmd('map'), setCmd, showCmd('map'),
];

registerCli(...MAP_COMMANDS);
