// Rule sets (configuration.txt 4.2 tcp-request/tcp-response/http-request/http-response/
// http-after-response, 4.3 the action matrix): the registry of actions, the parsing of a rule line
// (`<action> [args] [if|unless <cond>]`), the per-proxy lists of rules and the evaluation loop.
// Actions act on the stream through the `RuleHost` interface, which HttpStream and TcpStream
// implement; they never see a codec or a socket.
import type { ProxyConfig } from '../config/model.js';
import type { ParseCtx } from '../registry/registry.js';
import { USE } from '../sample/registry.js';
import type { SmpCtx } from '../sample/context.js';
import '../sample/fetches/stream-state.js';
import { Cond, AclResult, parseCond, type Acl } from '../acl/acl.js';
import type { ErrorReply } from '../http/errors.js';
import type { Proxy } from '../proxy/proxy.js';

export type RuleSetKind =
  | 'tcp-request connection' | 'tcp-request session' | 'tcp-request content' | 'tcp-response content'
  | 'http-request' | 'http-response' | 'http-after-response';

export const RULE_SETS: readonly RuleSetKind[] = [
  'tcp-request connection', 'tcp-request session', 'tcp-request content', 'tcp-response content',
  'http-request', 'http-response', 'http-after-response',
];

/** What an action tells the rule loop. */
export const enum Act {
  /** go on with the next rule */
  CONT = 0,
  /** stop evaluating this rule set, processing goes on (allow, accept) */
  STOP = 1,
  /** stop here and evaluate this rule again later (more data needed, pause) */
  YIELD = 2,
  /** the transaction/connection is answered or closed: see RuleHost.verdict */
  DONE = 3,
}

/** How a rule set ended for the stream. */
export type Verdict =
  | { kind: 'reply'; reply: ErrorReply | Buffer; status: number; /** counts as a denied request */ deny: boolean; tarpit?: number; close?: boolean; rst?: boolean; /** produced by `return` (an applet in HAProxy) */ applet?: boolean; /** the log's %s for a service ('<PROMEX>') */ target?: string }
  | { kind: 'reject' }              // close the connection (tcp-request reject / http-request reject)
  | { kind: 'silent-drop' };        // disappear without telling the client

/** The stream, as actions see it. */
export interface RuleHost {
  readonly ctx: SmpCtx;
  /** HTTP mode */
  readonly http: boolean;
  /** set by terminal actions before returning Act.DONE */
  verdict: Verdict | undefined;
  /** the frontend and the backend currently known */
  readonly fe: Proxy;
  readonly be: Proxy | undefined;
  /** the running configuration (http-errors sections ...) */
  config(): import('../config/model.js').Config | undefined;
  /** set-src / set-dst / set-src-port / set-dst-port */
  setAddr?(which: 'src' | 'dst', addr: string | undefined, port: number | undefined): void;
  /** set-timeout server|tunnel|client */
  setTimeout?(which: 'server' | 'tunnel' | 'client', ms: number): void;
  /** set-retries */
  setRetries?(n: number): void;
  /** set-priority-class / set-priority-offset: the stream's place in queues */
  setPriority?(which: 'class' | 'offset', v: number): void;
  /** disable-l7-retry */
  disableL7Retry?(): void;
  /** pause <time>: resume the rules after that many ms (the host calls again) */
  pauseUntil?(ms: number): void;
  /** wait-for-body: wait until that much of the body is there (or the message is complete) */
  waitForBody?(ms: number, atLeast: number): boolean;
  /** use-service: hand the transaction to an applet */
  useService?(name: string, arg: unknown): void;
  /** strict-mode on|off for this transaction's rewrites */
  strictMode?: boolean;
  /**
   * A rewrite failed (an empty method or URI ...): counted; in strict mode (the default) the
   * transaction fails with a 500 (the verdict is set and true returned: the action returns DONE).
   */
  rewriteFailed?(): boolean;
  /** 1xx early hints */
  sendEarlyHint?(name: string, value: string): void;
  /** log now (do-log) */
  doLog?(): void;
  /** set-nice, set-mark, set-tos... that act on sockets */
  setSockOpt?(what: 'tos' | 'mark' | 'nice' | 'fc-tos' | 'fc-mark' | 'bc-tos' | 'bc-mark', v: number): void;
}

/** An action instance built from a rule line. */
export interface Action {
  readonly name: string;
  run(host: RuleHost): Act;
}

export interface ActionParseCtx {
  /** the words of the action (after the rule set keyword, before if/unless) */
  readonly px: ProxyConfig;
  readonly set: RuleSetKind;
  readonly where: string;
  readonly file: string;
  readonly line: number;
  /** USE.* place of the rule, for fetch placement checks */
  readonly use: number;
  readonly useLabel: string;
  warn(msg: string): void;
}

export interface ActionDef {
  name: string;
  /** the name is followed by `(...)` as part of the keyword (set-var(txn.x), sc-inc-gpc0(1)) */
  withArg?: boolean;
  sets: readonly RuleSetKind[];
  /**
   * words[0] is the action keyword (with its parenthesised part). Returns the action or an
   * error message.
   */
  parse(words: string[], pc: ActionParseCtx): Action | string;
  /** -dK shows a '*' after names taking a parenthesised argument */
}

export const actionRegistry = new Map<string, ActionDef>();

export function registerAction(def: ActionDef): void {
  actionRegistry.set(def.name, def);
}

/** Finds the definition of the action word (`deny`, `set-var(txn.x)` ...). */
export function findAction(word: string): ActionDef | undefined {
  const d = actionRegistry.get(word);
  if (d) return d;
  const p = word.indexOf('(');
  if (p > 0) {
    const d2 = actionRegistry.get(word.slice(0, p));
    if (d2?.withArg) return d2;
  }
  return undefined;
}

/** Actions of the TCP rule sets HAProxy's parser handles itself (they are not in its `-dK` list). */
const BUILTIN_TCP_ACTIONS = new Set(['accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'close']);

/** `-dKcfg` lines for the actions, as haproxy prints them. */
export function dumpActions(): string[] {
  const out: string[] = [];
  for (const set of RULE_SETS) {
    for (const d of [...actionRegistry.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!d.sets.includes(set)) continue;
      if (set.startsWith('tcp-') && BUILTIN_TCP_ACTIONS.has(d.name)) continue;
      out.push(`\t${set} ${d.name}${d.withArg ? '*' : ''}`);
    }
  }
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* Rules and the per-proxy rule sets                                                        */
/* ---------------------------------------------------------------------------------------- */

export class Rule {
  readonly action: Action;
  readonly cond: Cond | undefined;
  readonly file: string;
  readonly line: number;
  constructor(action: Action, cond: Cond | undefined, file: string, line: number) {
    this.action = action;
    this.cond = cond;
    this.file = file;
    this.line = line;
  }
}

/** A `use_backend` / `use-server` / switching rule: a target and a condition. */
export interface SwitchRule<T> {
  target: T;
  cond: Cond | undefined;
  where: string;
}

export interface ProxyRules {
  acls: Map<string, Acl>;
  tcpReqConn: Rule[];
  tcpReqSess: Rule[];
  tcpReqCont: Rule[];
  tcpResCont: Rule[];
  httpReq: Rule[];
  httpRes: Rule[];
  httpAfter: Rule[];
  /** tcp-request inspect-delay / tcp-response inspect-delay (ms; 0 = none) */
  tcpReqInspectDelay: number;
  tcpResInspectDelay: number;
}

export function newProxyRules(): ProxyRules {
  return {
    acls: new Map(), tcpReqConn: [], tcpReqSess: [], tcpReqCont: [], tcpResCont: [],
    httpReq: [], httpRes: [], httpAfter: [], tcpReqInspectDelay: 0, tcpResInspectDelay: 0,
  };
}

/** The rules of a proxy (created on first use). */
export function rulesOf(px: ProxyConfig): ProxyRules {
  if (!px.rules) px.rules = newProxyRules();
  return px.rules;
}

/** Copy for a proxy inheriting from a (named) defaults section: its rules come first, its ACLs stay. */
export function inheritRules(def: ProxyRules): ProxyRules {
  const r = newProxyRules();
  r.tcpReqConn = [...def.tcpReqConn];
  r.tcpReqSess = [...def.tcpReqSess];
  r.tcpReqCont = [...def.tcpReqCont];
  r.tcpResCont = [...def.tcpResCont];
  r.httpReq = [...def.httpReq];
  r.httpRes = [...def.httpRes];
  r.httpAfter = [...def.httpAfter];
  r.tcpReqInspectDelay = def.tcpReqInspectDelay;
  r.tcpResInspectDelay = def.tcpResInspectDelay;
  return r;
}

export function listOf(r: ProxyRules, set: RuleSetKind): Rule[] {
  switch (set) {
    case 'tcp-request connection': return r.tcpReqConn;
    case 'tcp-request session': return r.tcpReqSess;
    case 'tcp-request content': return r.tcpReqCont;
    case 'tcp-response content': return r.tcpResCont;
    case 'http-request': return r.httpReq;
    case 'http-response': return r.httpRes;
    case 'http-after-response': return r.httpAfter;
  }
}

function hasFe(px: ProxyConfig): boolean { return px.kind === 'frontend' || px.kind === 'listen' || px.kind === 'defaults'; }
function hasBe(px: ProxyConfig): boolean { return px.kind === 'backend' || px.kind === 'listen' || px.kind === 'defaults'; }

/** Where a rule set of this proxy is evaluated (USE.* index and label). */
export function placeOf(set: RuleSetKind, px: ProxyConfig): { use: number; label: string } {
  const fe = hasFe(px);
  switch (set) {
    case 'tcp-request connection': return { use: USE.FE_CON_ACC, label: 'frontend tcp-request connection rule' };
    case 'tcp-request session': return { use: USE.FE_SES_ACC, label: 'frontend tcp-request session rule' };
    case 'tcp-request content': return fe ? { use: USE.FE_REQ_CNT, label: 'frontend tcp-request content rule' } : { use: USE.BE_REQ_CNT, label: 'backend tcp-request content rule' };
    case 'tcp-response content': return hasBe(px) ? { use: USE.BE_RES_CNT, label: 'backend tcp-response content rule' } : { use: USE.FE_RES_CNT, label: 'frontend tcp-response content rule' };
    case 'http-request': return fe ? { use: USE.FE_HRQ_HDR, label: 'frontend http-request header rule' } : { use: USE.BE_HRQ_HDR, label: 'backend http-request header rule' };
    case 'http-response': case 'http-after-response':
      return hasBe(px) ? { use: USE.BE_HRS_HDR, label: 'backend http-response header rule' } : { use: USE.FE_HRS_HDR, label: 'frontend http-response header rule' };
  }
}

/**
 * Parses one rule line of a set (`words` start with the action). Reports through ctx.alert and
 * returns undefined on error.
 */
export function parseRule(set: RuleSetKind, words: string[], px: ProxyConfig, ctx: ParseCtx): Rule | undefined {
  const kwLabel = set;
  if (!words.length) {
    ctx.alert(`'${kwLabel}' expects an action.`);
    return undefined;
  }
  const ci = words.findIndex((w, i) => i > 0 && (w === 'if' || w === 'unless'));
  const actWords = ci >= 0 ? words.slice(0, ci) : words;
  const condWords = ci >= 0 ? words.slice(ci) : undefined;
  const def = findAction(actWords[0]!);
  const place = placeOf(set, px);
  const where = `${ctx.where.file}:${ctx.where.line}`;
  if (!def || !def.sets.includes(set)) {
    const names = [...actionRegistry.values()].filter((d) => d.sets.includes(set)).map((d) => d.name + (d.withArg ? '(*)' : ''));
    const known = KNOWN_ACTIONS[set]?.includes(actWords[0]!.replace(/\(.*$/, ''));
    if (known) ctx.alert(`'${kwLabel} ${actWords[0]}' is not supported yet by haproxy-ts.`);
    else ctx.alert(`'${kwLabel}' expects ${names.map((n) => `'${n}'`).join(', ')}, but got '${actWords[0]}'.`);
    return undefined;
  }
  const pc: ActionParseCtx = {
    px, set, where, file: ctx.where.file, line: ctx.where.line, use: place.use, useLabel: place.label,
    warn: (m) => ctx.warn(m),
  };
  let action: Action | string;
  try {
    action = def.parse(actWords, pc);
  } catch (e) {
    action = (e as Error).message;
  }
  if (typeof action === 'string') {
    ctx.alert(`'${kwLabel} ${actWords[0]}' : ${action}`);
    return undefined;
  }
  let cond: Cond | undefined;
  if (condWords) {
    try {
      cond = parseCond(condWords, {
        where, file: ctx.where.file, line: ctx.where.line, proxyName: px.name, aclName: '',
        acls: rulesOf(px).acls, use: place.use, useLabel: place.label, warn: (m) => ctx.warn(m),
      });
    } catch (e) {
      ctx.alert(`error detected while parsing an '${kwLabel} ${actWords[0]}' condition : ${(e as Error).message}.`);
      return undefined;
    }
  }
  return new Rule(action, cond, ctx.where.file, ctx.where.line);
}

/**
 * Runs rules from index `from`; returns the result and the index reached (the rule that yielded,
 * or the length). Conditions that cannot decide yet (MISS) yield unless `final`.
 */
export function runRules(rules: readonly Rule[], host: RuleHost, from = 0): { act: Act; at: number } {
  const ctx = host.ctx;
  for (let i = from; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.cond) {
      const res = r.cond.exec(ctx);
      if (res === AclResult.MISS) {
        if (!ctx.final) return { act: Act.YIELD, at: i };
        continue;
      }
      if (res === AclResult.FAIL) continue;
    }
    const a = r.action.run(host);
    if (a !== Act.CONT) {
      // a final rule: last_rule_file / last_rule_line
      if (a !== Act.YIELD && ctx.stream) ctx.stream.lastRule = { file: r.file, line: r.line };
      return { act: a, at: i };
    }
  }
  return { act: Act.CONT, at: rules.length };
}


/** Action names HAProxy 3.2 has per set, to tell "not supported yet" from "unknown". */
const KNOWN_ACTIONS: Partial<Record<RuleSetKind, string[]>> = {
  'tcp-request connection': ['accept', 'expect-netscaler-cip', 'expect-proxy', 'reject', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'set-dst', 'set-dst-port', 'set-fc-mark', 'set-fc-tos', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'set-var', 'set-var-fmt', 'silent-drop', 'track-sc0', 'track-sc1', 'track-sc2', 'track-sc', 'unset-var', 'do-log'],
  'tcp-request session': ['accept', 'attach-srv', 'reject', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'set-dst', 'set-dst-port', 'set-fc-mark', 'set-fc-tos', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'set-var', 'set-var-fmt', 'silent-drop', 'track-sc0', 'track-sc1', 'track-sc2', 'track-sc', 'unset-var', 'do-log'],
  'tcp-request content': ['accept', 'capture', 'do-resolve', 'reject', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-bandwidth-limit', 'set-bc-mark', 'set-bc-tos', 'set-dst', 'set-dst-port', 'set-fc-mark', 'set-fc-tos', 'set-log-level', 'set-mark', 'set-nice', 'set-priority-class', 'set-priority-offset', 'set-retries', 'set-src', 'set-src-port', 'set-tos', 'set-var', 'set-var-fmt', 'silent-drop', 'switch-mode', 'track-sc0', 'track-sc1', 'track-sc2', 'track-sc', 'unset-var', 'use-service', 'do-log'],
  'tcp-response content': ['accept', 'close', 'reject', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-bandwidth-limit', 'set-fc-mark', 'set-fc-tos', 'set-log-level', 'set-mark', 'set-nice', 'set-tos', 'set-var', 'set-var-fmt', 'silent-drop', 'unset-var', 'do-log'],
  'http-request': ['add-acl', 'add-header', 'allow', 'auth', 'cache-use', 'capture', 'del-acl', 'del-header', 'del-map', 'deny', 'disable-l7-retry', 'do-log', 'do-resolve', 'early-hint', 'normalize-uri', 'pause', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-bandwidth-limit', 'set-bc-mark', 'set-bc-tos', 'set-dst', 'set-dst-port', 'set-fc-mark', 'set-fc-tos', 'set-header', 'set-log-level', 'set-map', 'set-mark', 'set-method', 'set-nice', 'set-path', 'set-pathq', 'set-priority-class', 'set-priority-offset', 'set-query', 'set-retries', 'set-src', 'set-src-port', 'set-timeout', 'set-tos', 'set-uri', 'set-var', 'set-var-fmt', 'silent-drop', 'strict-mode', 'tarpit', 'track-sc0', 'track-sc1', 'track-sc2', 'track-sc', 'unset-var', 'use-service', 'wait-for-body', 'wait-for-handshake'],
  'http-response': ['add-acl', 'add-header', 'allow', 'cache-store', 'capture', 'del-acl', 'del-header', 'del-map', 'deny', 'do-log', 'pause', 'redirect', 'replace-header', 'replace-value', 'return', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-bandwidth-limit', 'set-fc-mark', 'set-fc-tos', 'set-header', 'set-log-level', 'set-map', 'set-mark', 'set-nice', 'set-status', 'set-timeout', 'set-tos', 'set-var', 'set-var-fmt', 'silent-drop', 'strict-mode', 'track-sc0', 'track-sc1', 'track-sc2', 'track-sc', 'unset-var', 'wait-for-body'],
  'http-after-response': ['add-header', 'allow', 'capture', 'del-acl', 'del-header', 'del-map', 'do-log', 'replace-header', 'replace-value', 'sc-add-gpc', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'set-header', 'set-log-level', 'set-map', 'set-status', 'set-var', 'set-var-fmt', 'strict-mode', 'unset-var'],
};
