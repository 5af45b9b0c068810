// Runtime API statistics commands (management.txt 9.3): `show stat` (CSV, typed, JSON),
// `show schema json`, `clear counters [all]`, and `option socket-stats` (listener rows).
import { registerCli, FE, type CliContext, type CliKeyword, type CliLevel } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { CliSessionContext } from './cli-session.js';
import { cliRuntime } from './cli-state.js';
import { registerFlagOption } from '../proxy/keywords.js';
import {
  STAT_FIELDS, statValues, objectIds, fieldTags, OBJ_TYPE_NAME, TAG_ORIGIN, TAG_NATURE, TAG_SCOPE,
  type StatObject, type StatValue, type StatEnv,
} from './stats-fields.js';

declare module '../config/model.js' {
  interface ProxyOptions {
    /** option socket-stats: one stats row per listener */
    socketStats?: boolean;
  }
}
registerFlagOption('socket-stats', FE, (px, on) => { px.options.socketStats = on; });

/** Object type bits of the `<type>` selector. */
export const STAT_TYPE = { FE: 1, BE: 2, SV: 4, SO: 8 } as const;

export interface StatQuery {
  /** proxy id, -1 for all */
  iid: number;
  /** ORed STAT_TYPE bits, -1 for all */
  type: number;
  /** server id, -1 for all */
  sid: number;
  format: 'csv' | 'typed' | 'json';
  desc: boolean;
  /** only servers that are up or not checked */
  up: boolean;
  /** skip servers in maintenance */
  noMaint: boolean;
}

/** The objects `show stat` reports, in HAProxy's order: per proxy its frontend, listeners, servers, backend. */
export function statObjects(rt: Runtime, q: Pick<StatQuery, 'iid' | 'type' | 'sid' | 'up' | 'noMaint'>): StatObject[] {
  const out: StatObject[] = [];
  const want = (bit: number): boolean => q.type === -1 || (q.type & bit) !== 0;
  for (const p of rt.proxies) {
    if (q.iid !== -1 && p.id !== q.iid) continue;
    if (p.isFrontend && want(STAT_TYPE.FE)) out.push({ kind: 'F', proxy: p });
    if (p.isFrontend && p.cfg.options.socketStats && want(STAT_TYPE.SO)) {
      for (const l of rt.listeners) if (l.proxy === p) out.push({ kind: 'L', listener: l });
    }
    if (p.isBackend && want(STAT_TYPE.SV)) {
      for (const s of p.servers) {
        if (q.sid !== -1 && s.puid !== q.sid) continue;
        if (q.noMaint && s.admin === 'maint') continue;
        if (q.up && (!s.up || s.admin === 'maint')) continue;
        out.push({ kind: 'S', server: s });
      }
    }
    if (p.isBackend && want(STAT_TYPE.BE)) out.push({ kind: 'B', proxy: p });
  }
  return out;
}

/** A CSV cell: quoted (quotes doubled) only when it holds a comma, a quote or a line break. */
export function csvCell(v: StatValue): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV header line. */
export function csvHeader(): string {
  return `# ${STAT_FIELDS.map((f) => `${f.name},`).join('')}-,\n`;
}

export function csvRow(vals: StatValue[]): string {
  let line = '';
  for (const v of vals) line += `${csvCell(v)},`;
  return `${line}-,\n`;
}

function quoteDesc(d: string): string { return `"${d.replace(/["\\]/g, (c) => `\\${c}`)}"`; }

/** Typed lines of one object: "<T>.<iid>.<sid>.<pos>.<name>.1:<tags>:<type>:<value>" for each non-empty field. */
export function typedLines(o: StatObject, vals: StatValue[], desc: boolean): string {
  const { iid, sid } = objectIds(o);
  let out = '';
  for (let i = 0; i < STAT_FIELDS.length; i++) {
    const v = vals[i];
    if (v === undefined) continue;
    const f = STAT_FIELDS[i]!;
    const t = fieldTags(f, o.kind);
    out += `${o.kind}.${iid}.${sid}.${f.pos}.${f.name}.1:${t.tags}:${t.type}:${v}${desc ? `:${quoteDesc(f.desc)}` : ''}\n`;
  }
  return out;
}

/** The JSON items of one object (non-empty fields only). */
export function jsonItems(o: StatObject, vals: StatValue[]): unknown[] {
  const { iid, sid } = objectIds(o);
  const items: unknown[] = [];
  for (let i = 0; i < STAT_FIELDS.length; i++) {
    const v = vals[i];
    if (v === undefined) continue;
    const f = STAT_FIELDS[i]!;
    const t = fieldTags(f, o.kind);
    items.push({
      objType: OBJ_TYPE_NAME[o.kind], proxyId: iid, id: sid,
      field: { pos: f.pos, name: f.name }, processNum: 1,
      tags: { origin: TAG_ORIGIN[t.tags[0]!] ?? 'Unknown', nature: TAG_NATURE[t.tags[1]!] ?? 'Unknown', scope: TAG_SCOPE[t.tags[2]!] ?? 'Unknown' },
      value: { type: t.type, value: v },
    });
  }
  return items;
}

/** The whole `show stat` answer. */
export function renderStats(rt: Runtime, q: StatQuery, legends: boolean): string {
  const env: StatEnv = { rt, now: Date.now(), legends };
  const objs = statObjects(rt, q);
  if (q.format === 'json') return `${JSON.stringify(objs.map((o) => jsonItems(o, statValues(o, env))))}\n`;
  let out = q.format === 'csv' ? csvHeader() : '';
  for (const o of objs) {
    const vals = statValues(o, env);
    out += q.format === 'csv' ? csvRow(vals) : typedLines(o, vals, q.desc);
  }
  return out;
}

/** Parses the words after `show stat`; returns the query or the error text to print. */
export function parseStatArgs(rt: Runtime, words: string[]): StatQuery | string {
  const q: StatQuery = { iid: -1, type: -1, sid: -1, format: 'csv', desc: false, up: false, noMaint: false };
  let i = 0;
  if (words[i] === 'domain') {
    const d = words[i + 1];
    if (d === 'resolvers') return "'show stat domain resolvers' is not supported yet by haproxy-ts.";
    if (d !== 'proxy') return 'Invalid statistics domain.';
    i += 2;
  }
  if (words[i] && words[i + 1] && words[i + 2]) {
    const a = words[i]!;
    if (/^-?\d+$/.test(a)) q.iid = Number(a);
    else {
      const p: Proxy | undefined = rt.proxies.find((x) => x.name === a);
      if (!p) return 'No such proxy.';
      q.iid = p.id;
    }
    q.type = atoiLike(words[i + 1]!);
    q.sid = atoiLike(words[i + 2]!);
    i += 3;
  }
  for (; i < words.length; i++) {
    switch (words[i]) {
      case 'typed': q.format = 'typed'; break;
      case 'json': q.format = 'json'; break;
      case 'desc': q.desc = true; break;
      case 'up': q.up = true; break;
      case 'no-maint': q.noMaint = true; break;
      default: break;
    }
  }
  return q;
}

function atoiLike(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/** `clear counters`: maxima and rates; `clear counters all`: every counter of every object. */
export function clearCounters(rt: Runtime, all: boolean): void {
  for (const p of rt.proxies) {
    p.feCounters.clear(all);
    p.counters.clear(all);
    for (const s of p.servers) s.counters.clear(all);
  }
  for (const l of rt.listeners) l.counters.clear(all);
}

/** The JSON schema of the typed JSON outputs, as HAProxy prints it. */
export const STATS_JSON_SCHEMA = "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"oneOf\":[{\"title\":\"Info\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"value\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Stat\",\"type\":\"array\",\"items\":{\"title\":\"InfoItem\",\"type\":\"object\",\"properties\":{\"objType\":{\"enum\":[\"Frontend\",\"Backend\",\"Listener\",\"Server\",\"Unknown\"]},\"proxyId\":{\"type\":\"integer\",\"minimum\":0},\"id\":{\"type\":\"integer\",\"minimum\":0},\"field\":{\"$ref\":\"#/definitions/field\"},\"processNum\":{\"$ref\":\"#/definitions/processNum\"},\"tags\":{\"$ref\":\"#/definitions/tags\"},\"typedValue\":{\"$ref\":\"#/definitions/typedValue\"}},\"required\":[\"objType\",\"proxyId\",\"id\",\"field\",\"processNum\",\"tags\",\"value\"]}},{\"title\":\"Error\",\"type\":\"object\",\"properties\":{\"errorStr\":{\"type\":\"string\"}},\"required\":[\"errorStr\"]}],\"definitions\":{\"field\":{\"type\":\"object\",\"pos\":{\"type\":\"integer\",\"minimum\":0},\"name\":{\"type\":\"string\"},\"required\":[\"pos\",\"name\"]},\"processNum\":{\"type\":\"integer\",\"minimum\":1},\"tags\":{\"type\":\"object\",\"origin\":{\"type\":\"string\",\"enum\":[\"Metric\",\"Status\",\"Key\",\"Config\",\"Product\",\"Unknown\"]},\"nature\":{\"type\":\"string\",\"enum\":[\"Gauge\",\"Limit\",\"Min\",\"Max\",\"Rate\",\"Counter\",\"Duration\",\"Age\",\"Time\",\"Name\",\"Output\",\"Avg\", \"Unknown\"]},\"scope\":{\"type\":\"string\",\"enum\":[\"Cluster\",\"Process\",\"Service\",\"System\",\"Unknown\"]},\"required\":[\"origin\",\"nature\",\"scope\"]},\"typedValue\":{\"type\":\"object\",\"oneOf\":[{\"$ref\":\"#/definitions/typedValue/definitions/s32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/s64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u32Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/u64Value\"},{\"$ref\":\"#/definitions/typedValue/definitions/strValue\"}],\"definitions\":{\"s32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s32\"]},\"value\":{\"type\":\"integer\",\"minimum\":-2147483648,\"maximum\":2147483647}},\"required\":[\"type\",\"value\"]},\"s64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"s64\"]},\"value\":{\"type\":\"integer\",\"minimum\":-9007199254740991,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"u32Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u32\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":4294967295}},\"required\":[\"type\",\"value\"]},\"u64Value\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"u64\"]},\"value\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9007199254740991}},\"required\":[\"type\",\"value\"]},\"strValue\":{\"properties\":{\"type\":{\"type\":\"string\",\"enum\":[\"str\"]},\"value\":{\"type\":\"string\"}},\"required\":[\"type\",\"value\"]},\"unknownValue\":{\"properties\":{\"type\":{\"type\":\"integer\",\"minimum\":0},\"value\":{\"type\":\"string\",\"enum\":[\"unknown\"]}},\"required\":[\"type\",\"value\"]}}}}}";

function sc(ctx: CliContext): CliSessionContext | undefined {
  return 'session' in ctx ? (ctx as CliSessionContext) : undefined;
}
function runtimeOf(ctx: CliContext): Runtime | undefined { return sc(ctx)?.rt ?? cliRuntime(); }
function err(ctx: CliContext, text: string): void {
  const s = sc(ctx);
  if (s) s.err(text); else ctx.out(`${text}\n`);
}
const LEGEND_LEVELS: readonly CliLevel[] = ['operator', 'admin'];

export const STATS_COMMANDS: CliKeyword[] = [
  {
    words: ['show', 'stat'], usage: 'show stat [desc|json|no-maint|typed|up]*', help: 'report counters for each proxy and server', level: 'user',
    run(args, ctx) {
      const rt = runtimeOf(ctx);
      if (!rt) { err(ctx, 'No running process to act on.'); return; }
      const q = parseStatArgs(rt, args.slice(2));
      if (typeof q === 'string') { err(ctx, q); return; }
      ctx.out(renderStats(rt, q, LEGEND_LEVELS.includes(ctx.level)));
    },
  },
  {
    words: ['show', 'schema', 'json'], usage: 'show schema json', help: 'report schema used for stats', level: 'user',
    run(_args, ctx) { ctx.out(`${STATS_JSON_SCHEMA}\n`); },
  },
  {
    words: ['clear', 'counters'], usage: 'clear counters [all]', help: 'clear max statistics counters (or all counters)', level: 'operator',
    run(args, ctx) {
      const rt = runtimeOf(ctx);
      if (!rt) { err(ctx, 'No running process to act on.'); return; }
      const all = args[2] === 'all';
      if (all && ctx.level !== 'admin') { err(ctx, 'Permission denied'); return; }
      clearCounters(rt, all);
    },
  },
];

registerCli(...STATS_COMMANDS);
