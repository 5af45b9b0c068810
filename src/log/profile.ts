// Log profiles (configuration.txt 8.3.5): a "log-profile" section overrides, for the "log" lines
// naming it ("log ... profile <name>"), the syslog tag and, per logging step, the log format
// and the RFC5424 structured data, or drops the logs of a step.
import { registerSection, registerPostParse } from '../registry/registry.js';
import { USE } from '../sample/registry.js';
import { compileFormat, type LogFormat } from './format.js';

/** The steps HAProxy logs at, and the origins of "do-log" in each rule set. */
export const PROFILE_STEPS = [
  'accept', 'request', 'connect', 'response', 'close', 'error', 'any',
  'quic-init', 'tcp-req-conn', 'tcp-req-sess', 'tcp-req-cont', 'tcp-res-cont', 'http-req', 'http-res', 'http-after-res',
] as const;
export type ProfileStep = (typeof PROFILE_STEPS)[number];

export interface ProfileRule {
  drop: boolean;
  format?: { text: string; compiled?: LogFormat };
  sd?: { text: string; compiled?: LogFormat };
}

export interface LogProfileConfig {
  name: string;
  where: { file: string; line: number };
  tag?: string;
  steps: Map<ProfileStep, ProfileRule>;
}

declare module '../config/model.js' {
  interface GlobalConfig {
    /** log-profile sections */
    logProfiles?: Map<string, LogProfileConfig>;
  }
}

/** The step of a log from its origin (%OG): txn_close -> close, do-log origins as they are. */
export function stepOfOrigin(origin: string | undefined): ProfileStep | undefined {
  if (origin === undefined) return 'close';
  if (origin.startsWith('txn_')) {
    const s = origin.slice(4);
    return s === 'accept' || s === 'request' || s === 'connect' || s === 'response' || s === 'close' ? s : undefined;
  }
  return (PROFILE_STEPS as readonly string[]).includes(origin) ? origin as ProfileStep : undefined;
}

/** The rule of a profile for a step: the step's own, else "any". */
export function profileRule(p: LogProfileConfig, step: ProfileStep | undefined): ProfileRule | undefined {
  return (step !== undefined ? p.steps.get(step) : undefined) ?? p.steps.get('any');
}

let cur: LogProfileConfig | undefined;

registerSection({
  name: 'log-profile',
  start(args, ctx, config) {
    const name = args[1];
    if (!name || args.length > 2) { ctx.alert(`'log-profile' expects <name> as argument.`); cur = undefined; return false; }
    const map = config.global.logProfiles ??= new Map();
    const prev = map.get(name);
    if (prev) { ctx.alert(`log-profile '${name}' already exists (declared at ${prev.where.file}:${prev.where.line}).`); cur = undefined; return false; }
    cur = { name, where: { ...ctx.where }, steps: new Map() };
    map.set(name, cur);
    return true;
  },
  line(args, ctx) {
    const p = cur;
    if (!p) return;
    const kw = args[0]!;
    if (kw === 'log-tag') {
      if (args.length !== 2 || !args[1]) { ctx.alert(`'log-tag' expects a tag for use in syslog.`); return; }
      p.tag = args[1];
      return;
    }
    if (kw !== 'on') { ctx.alert(`unknown keyword '${kw}' in log-profile section '${p.name}'.`); return; }
    const step = args[1];
    if (!step || !(PROFILE_STEPS as readonly string[]).includes(step)) {
      ctx.alert(`'on' expects a logging step among ${PROFILE_STEPS.map((s) => `'${s}'`).join(', ')} (got '${step ?? ''}').`);
      return;
    }
    const rule: ProfileRule = p.steps.get(step as ProfileStep) ?? { drop: false };
    for (let i = 2; i < args.length; i++) {
      const a = args[i]!;
      if (a === 'drop') { rule.drop = true; continue; }
      if (a === 'format' || a === 'sd') {
        const t = args[++i];
        if (t === undefined) { ctx.alert(`'on ${step} ${a}' expects a log format string.`); return; }
        rule[a] = { text: t };
        continue;
      }
      ctx.alert(`'on ${step}' : unexpected argument '${a}' (expects 'drop', 'format <fmt>' or 'sd <sd_fmt>').`);
      return;
    }
    if (args.length === 2) { ctx.alert(`'on ${step}' expects 'drop', 'format <fmt>' or 'sd <sd_fmt>'.`); return; }
    p.steps.set(step as ProfileStep, rule);
  },
});

registerPostParse((config, ctx) => {
  for (const p of config.global.logProfiles?.values() ?? []) {
    for (const [step, r] of p.steps) {
      for (const which of ['format', 'sd'] as const) {
        const f = r[which];
        if (!f) continue;
        const res = compileFormat(f.text, {
          where: `${p.where.file}:${p.where.line}`, file: p.where.file, use: USE.FE_LOG_END, useLabel: 'logs', style: 'log',
        });
        for (const w of res.warnings) ctx.warn(w);
        if (res.error !== undefined) ctx.alert(`parsing [${p.where.file}:${p.where.line}] : log-profile '${p.name}': failed to parse 'on ${step} ${which}' : ${res.error}.`);
        else f.compiled = res.fmt;
      }
    }
  }
  // "log ... profile <name>" lines name existing profiles
  const check = (l: { profile?: string; where: { file: string; line: number } } | 'global'): void => {
    if (l === 'global' || l.profile === undefined) return;
    if (!config.global.logProfiles?.has(l.profile)) ctx.alert(`parsing [${l.where.file}:${l.where.line}] : log : unknown log-profile '${l.profile}'.`);
  };
  for (const l of config.global.loggers ?? []) check(l);
  for (const px of config.proxies) for (const l of px.log?.loggers ?? []) check(l);
  for (const f of config.global.logForwards ?? []) for (const l of f.loggers) check(l);
});
