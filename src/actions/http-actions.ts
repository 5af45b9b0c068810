// HTTP actions of http-request / http-response / http-after-response (configuration.txt 4.4):
// replies (allow, deny, tarpit, auth, redirect, return, reject), header and URI rewriting,
// status, method, captures, map/ACL updates, timeouts and retries, early hints, pause,
// wait-for-body, strict-mode and normalize-uri.
import { registerAction, Act, type Action, type ActionParseCtx, type RuleHost, type RuleSetKind } from './rules.js';
import { compileLf, type Lf } from './lf.js';
import { parseReplyArgs, buildReply, plainReply, type ReplySpec } from './http-reply.js';
import { parseSampleExpr, type SampleExpr } from '../sample/expr.js';
import { cast, intNum, sampleToString } from '../sample/types.js';
import { parseTime } from '../util/units.js';
import { patternRefs } from '../acl/pattern.js';
import { loadPatternFile } from '../acl/files.js';
import { httpErrorsSections, errorMessageFor, type ErrorReply } from '../http/errors.js';
import type { HttpHeaders } from '../http/htx.js';
import type { SmpCtx } from '../sample/context.js';
import { normalizers, type Normalizer } from './normalize-uri.js';
import { experimentalAllowed } from '../config/global-keywords.js';

const REQ: readonly RuleSetKind[] = ['http-request'];
const REQ_RES: readonly RuleSetKind[] = ['http-request', 'http-response'];
const ALL_HTTP: readonly RuleSetKind[] = ['http-request', 'http-response', 'http-after-response'];
const RES_AFT: readonly RuleSetKind[] = ['http-response', 'http-after-response'];

function lfCtx(pc: ActionParseCtx) {
  return { where: pc.where, file: pc.file, proxyName: pc.px.name, use: pc.use, useLabel: pc.useLabel };
}

function lf(text: string, pc: ActionParseCtx): Lf { return compileLf(text, lfCtx(pc)); }

function expr(text: string, pc: ActionParseCtx): SampleExpr {
  return parseSampleExpr(text, { where: pc.where, proxyName: pc.px.name, file: pc.file, use: pc.use, useLabel: pc.useLabel });
}

/** The message the rule works on: the request in http-request rules, else the response. */
function msgHeaders(h: RuleHost, set: RuleSetKind): HttpHeaders | undefined {
  return set === 'http-request' ? h.ctx.req?.headers : h.ctx.res?.headers;
}

function simple(name: string, sets: readonly RuleSetKind[], run: (h: RuleHost) => Act, nargs = 0): void {
  registerAction({
    name, sets,
    parse(words) {
      if (words.length > 1 + nargs) return `unexpected argument '${words[1 + nargs]}'`;
      return { name, run };
    },
  });
}

/* ---------------------------------------------------------------------------------------- */
/* Final actions                                                                            */
/* ---------------------------------------------------------------------------------------- */

simple('allow', ALL_HTTP, () => Act.STOP);

function replyAction(name: 'deny' | 'tarpit' | 'return', sets: readonly RuleSetKind[]): void {
  registerAction({
    name, sets,
    parse(words, pc) {
      const defStatus = name === 'return' ? 200 : name === 'tarpit' ? 500 : pc.set === 'http-response' ? 502 : 403;
      const statusWords = name === 'return' ? ['status'] : ['status', 'deny_status'];
      const spec = parseReplyArgs(words, 1, defStatus, name === 'return' ? 'none' : 'default-errorfiles', statusWords, lfCtx(pc), pc.warn);
      if (typeof spec === 'string') return spec;
      const isDeny = name !== 'return';
      return {
        name,
        run(h) {
          const reply = makeReply(spec, h);
          if (name === 'tarpit') {
            // timeout tarpit of the frontend, else of the backend, else timeout connect
            const t = h.be?.cfg.timeouts, ft = h.fe.cfg.timeouts;
            const delay = ft.tarpit ?? t?.tarpit ?? ft.connect ?? t?.connect ?? 0;
            h.verdict = { kind: 'reply', reply, status: spec.status, deny: true, tarpit: delay };
          } else {
            h.verdict = { kind: 'reply', reply, status: spec.status, deny: isDeny, applet: name === 'return' };
          }
          return Act.DONE;
        },
      } satisfies Action;
    },
  });
}

function makeReply(spec: ReplySpec, h: RuleHost): ErrorReply {
  const cfg = h.config();
  return buildReply(spec, h.ctx, h.be?.cfg, h.fe.cfg, cfg ? httpErrorsSections(cfg) : undefined);
}

replyAction('deny', REQ_RES);
replyAction('tarpit', REQ);
replyAction('return', REQ_RES);

registerAction({
  name: 'auth', sets: REQ,
  parse(words) {
    let realm: string | undefined;
    if (words[1] !== undefined) {
      if (words[1] !== 'realm' || words[2] === undefined) return `expects 'realm' <realm> as argument`;
      realm = words[2];
      if (words.length > 3) return `unexpected argument '${words[3]}'`;
    }
    return {
      name: 'auth',
      run(h) {
        const r = realm ?? h.be?.name ?? h.fe.name;
        // a proxy request (absolute URI) is answered with 407 Proxy-Authenticate
        const proxyReq = !!h.ctx.req && /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(h.ctx.req.uri) && h.ctx.req.headers.has('proxy-connection');
        const status = proxyReq ? 407 : 401;
        const base = errorMessageFor(h.be?.cfg, status, h.fe.cfg);
        const headers = base.headers.clone();
        headers.add(proxyReq ? 'Proxy-Authenticate' : 'WWW-Authenticate', `Basic realm="${r}"`);
        h.verdict = { kind: 'reply', reply: { ...base, headers }, status, deny: false };
        return Act.DONE;
      },
    };
  },
});

/* ---------------------------------------------------------------------------------------- */
/* Redirect                                                                                 */
/* ---------------------------------------------------------------------------------------- */

interface RedirectSpec {
  type: 'location' | 'prefix' | 'scheme';
  value: Lf | string;
  code: number;
  dropQuery: boolean;
  appendSlash: boolean;
  ignoreEmpty: boolean;
  cookie?: { kind: 'set' | 'clear' | 'fmt'; text: string; lf?: Lf };
}

/** Parses `<type> <value> [code N] [options]` (words[0] is "redirect"); legacy: plain strings. */
export function parseRedirect(words: string[], pc: ActionParseCtx, legacy = false): RedirectSpec | string {
  const type = words[1];
  if (type !== 'location' && type !== 'prefix' && type !== 'scheme') return `expects 'location', 'prefix' or 'scheme' followed by a value`;
  const raw = words[2];
  if (raw === undefined) return `'${type}' expects an argument`;
  if (pc.set === 'http-response' && type !== 'location') return `only 'location' redirects are permitted in 'http-response' rules`;
  const spec: RedirectSpec = { type, value: raw, code: 302, dropQuery: false, appendSlash: false, ignoreEmpty: false };
  if (!legacy) {
    const f = lf(raw, pc);
    spec.value = f.isConst ? f.render(undefined as never) : f;
  }
  for (let i = 3; i < words.length; i++) {
    const w = words[i]!;
    switch (w) {
      case 'code': {
        const c = Number(words[++i]);
        if (![301, 302, 303, 307, 308].includes(c)) return `'code' expects one of 301, 302, 303, 307 or 308, but got '${words[i] ?? ''}'`;
        spec.code = c;
        break;
      }
      case 'drop-query': spec.dropQuery = true; break;
      case 'append-slash': spec.appendSlash = true; break;
      case 'ignore-empty': spec.ignoreEmpty = true; break;
      case 'set-cookie': case 'clear-cookie': {
        const v = words[++i];
        if (v === undefined) return `'${w}' expects a cookie name`;
        spec.cookie = { kind: w === 'set-cookie' ? 'set' : 'clear', text: v };
        break;
      }
      case 'set-cookie-fmt': {
        const v = words[++i];
        if (v === undefined) return `'${w}' expects a format string`;
        spec.cookie = { kind: 'fmt', text: v, lf: lf(v, pc) };
        break;
      }
      default:
        return `expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '${w}')`;
    }
  }
  return spec;
}

/** The path and query of a request target ("" for '*' and authority forms). */
function pathAndQuery(uri: string): string {
  if (uri.startsWith('/')) return uri;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
  if (m) return uri.slice(m[0].length);
  return '';
}

function runRedirect(spec: RedirectSpec, h: RuleHost): Act {
  const ctx = h.ctx;
  const val = typeof spec.value === 'string' ? spec.value : spec.value.render(ctx);
  if (spec.ignoreEmpty && val === '') return Act.CONT;
  let loc: string;
  const req = ctx.req;
  if (spec.type === 'location') {
    loc = val;
  } else {
    let pq = req ? pathAndQuery(req.uri) : '';
    if (spec.type === 'scheme' && (pq === '' || pq === '*')) pq = '/';
    if (spec.dropQuery) { const q = pq.indexOf('?'); if (q >= 0) pq = pq.slice(0, q); }
    if (spec.appendSlash && (pq === '' || !pq.endsWith('/'))) pq += '/';
    if (spec.type === 'prefix') loc = val === '/' ? pq : val + pq;
    else loc = `${val}://${req?.headers.get('host') ?? ''}${pq}`;
  }
  const hdrs: [string, string][] = [['location', loc]];
  if (spec.code === 302 || spec.code === 303 || spec.code === 307) hdrs.push(['cache-control', 'no-cache']);
  if (spec.cookie) {
    if (spec.cookie.kind === 'set') hdrs.push(['set-cookie', `${spec.cookie.text}; path=/;`]);
    else if (spec.cookie.kind === 'clear') hdrs.push(['set-cookie', `${spec.cookie.text}; path=/; Max-Age=0;`]);
    else hdrs.push(['set-cookie', spec.cookie.lf!.render(ctx)]);
  }
  const reply = plainReply(spec.code, [], undefined, Buffer.alloc(0));
  // HAProxy's order: content-length, location, cache-control, set-cookie
  for (const [n, v] of hdrs) reply.headers.add(n, v);
  h.verdict = { kind: 'reply', reply, status: spec.code, deny: false };
  return Act.DONE;
}

registerAction({
  name: 'redirect', sets: REQ_RES,
  parse(words, pc) {
    const spec = parseRedirect(words, pc, false);
    if (typeof spec === 'string') return spec;
    return { name: 'redirect', run: (h) => runRedirect(spec, h) };
  },
});

/** The legacy `redirect` proxy keyword: the same rule with literal values. */
export function legacyRedirect(words: string[], pc: ActionParseCtx): Action | string {
  const spec = parseRedirect(words, pc, true);
  if (typeof spec === 'string') return spec;
  return { name: 'redirect', run: (h) => runRedirect(spec, h) };
}

/* ---------------------------------------------------------------------------------------- */
/* Headers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

function headerAction(name: 'add-header' | 'set-header', sets: readonly RuleSetKind[]): void {
  registerAction({
    name, sets,
    parse(words, pc) {
      if (words.length !== 3) return `expects exactly 2 arguments`;
      const hname = words[1]!;
      const value = lf(words[2]!, pc);
      const set = pc.set;
      return {
        name,
        run(h) {
          const hs = msgHeaders(h, set);
          if (!hs) return Act.CONT;
          const v = value.render(h.ctx);
          if (name === 'add-header') hs.add(hname, v); else hs.set(hname, v);
          return Act.CONT;
        },
      };
    },
  });
}
headerAction('add-header', ALL_HTTP);
headerAction('set-header', ALL_HTTP);

registerAction({
  name: 'del-header', sets: ALL_HTTP,
  parse(words, pc) {
    const hname = words[1];
    if (hname === undefined) return `expects at least 1 argument`;
    let meth = 'str';
    if (words[2] !== undefined) {
      if (words[2] !== '-m' || words[3] === undefined || words.length > 4) return `expects exactly 1 argument, optionally followed by '-m <meth>'`;
      meth = words[3];
      if (!['str', 'beg', 'end', 'sub', 'reg'].includes(meth)) return `-m: only 'str', 'beg', 'end', 'sub' and 'reg' are supported (got '${meth}')`;
    }
    const l = hname.toLowerCase();
    let re: RegExp | undefined;
    if (meth === 'reg') { try { re = new RegExp(hname, 'i'); } catch (e) { return `invalid regex '${hname}': ${(e as Error).message}`; } }
    const test = (n: string): boolean => {
      switch (meth) {
        case 'str': return n === l;
        case 'beg': return n.startsWith(l);
        case 'end': return n.endsWith(l);
        case 'sub': return n.includes(l);
        default: return re!.test(n);
      }
    };
    const set = pc.set;
    return {
      name: 'del-header',
      run(h) {
        const hs = msgHeaders(h, set);
        if (!hs) return Act.CONT;
        if (meth === 'str') { hs.delete(l); return Act.CONT; }
        const list = hs.list;
        let w = 0;
        for (let r = 0; r < list.length; r++) if (!test(list[r]!.lname)) list[w++] = list[r]!;
        list.length = w;
        return Act.CONT;
      },
    };
  },
});

/** Substitutes \0..\9 in `fmt` with the groups of a regex match. */
function backrefs(fmt: string, m: RegExpExecArray): string {
  if (!fmt.includes('\\')) return fmt;
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '\\' && i + 1 < fmt.length) {
      const d = fmt.charCodeAt(i + 1);
      if (d >= 0x30 && d <= 0x39) { out += m[d - 0x30] ?? ''; i++; continue; }
    }
    out += c;
  }
  return out;
}

function replaceHeaderAction(name: 'replace-header' | 'replace-value'): void {
  registerAction({
    name, sets: ALL_HTTP,
    parse(words, pc) {
      if (words.length !== 4) return `expects exactly 3 arguments`;
      const l = words[1]!.toLowerCase();
      let re: RegExp;
      try { re = new RegExp(words[2]!); } catch (e) { return `invalid regex '${words[2]}': ${(e as Error).message}`; }
      const fmt = lf(words[3]!, pc);
      const set = pc.set;
      return {
        name,
        run(h) {
          const hs = msgHeaders(h, set);
          if (!hs) return Act.CONT;
          let rendered: string | undefined;
          for (const f of hs.list) {
            if (f.lname !== l) continue;
            if (name === 'replace-header') {
              const m = re.exec(f.value);
              if (!m) continue;
              rendered ??= fmt.render(h.ctx);
              f.value = backrefs(rendered, m);
            } else {
              // each comma-separated value is matched without its surrounding blanks; a
              // replaced value loses them, the others are kept as written
              const parts = splitValues(f.value);
              let changed = false;
              for (let i = 0; i < parts.length; i++) {
                const m = re.exec(parts[i]!.trim());
                if (!m) continue;
                rendered ??= fmt.render(h.ctx);
                parts[i] = backrefs(rendered, m);
                changed = true;
              }
              if (changed) f.value = parts.join(',');
            }
          }
          return Act.CONT;
        },
      };
    },
  });
}
replaceHeaderAction('replace-header');
replaceHeaderAction('replace-value');

/** Comma-separated values of a header as written (blanks kept), commas inside quotes kept. */
function splitValues(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '"') q = !q;
    if (c === ',' && !q) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* URI, path, query, method, status                                                         */
/* ---------------------------------------------------------------------------------------- */

/** Splits a request target into the part before the path, the path and the query (with '?'). */
export function splitUri(uri: string): { pre: string; path: string; query: string } {
  let pre = '';
  let rest = uri;
  if (!uri.startsWith('/')) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
    if (!m) return { pre: '', path: uri === '*' ? '' : '', query: '' };
    pre = m[0];
    rest = uri.slice(pre.length);
  }
  const q = rest.indexOf('?');
  return q < 0 ? { pre, path: rest, query: '' } : { pre, path: rest.slice(0, q), query: rest.slice(q) };
}

function uriAction(name: 'set-path' | 'set-pathq' | 'set-query' | 'set-uri' | 'set-method'): void {
  registerAction({
    name, sets: REQ,
    parse(words, pc) {
      if (words.length !== 2) return `expects exactly 1 argument <format>`;
      const f = lf(words[1]!, pc);
      return {
        name,
        run(h) {
          const req = h.ctx.req;
          if (!req) return Act.CONT;
          const v = f.render(h.ctx);
          const u = splitUri(req.uri);
          switch (name) {
            case 'set-method': if (v) req.method = v; else if (h.rewriteFailed?.()) return Act.DONE; break;
            case 'set-uri': if (v) req.uri = v; else if (h.rewriteFailed?.()) return Act.DONE; break;
            case 'set-path': req.uri = u.pre + v + u.query; break;
            case 'set-pathq': req.uri = u.pre + v; break;
            case 'set-query':
              if (u.query === '' && v === '') break;
              req.uri = u.pre + u.path + '?' + v;
              break;
          }
          if (name !== 'set-method' && req.uri === '') req.uri = '/';
          return Act.CONT;
        },
      };
    },
  });
}
uriAction('set-path');
uriAction('set-pathq');
uriAction('set-query');
uriAction('set-uri');
uriAction('set-method');

function replaceUriAction(name: 'replace-uri' | 'replace-path' | 'replace-pathq'): void {
  registerAction({
    name, sets: REQ,
    parse(words, pc) {
      if (words.length !== 3) return `expects exactly 2 arguments <match-regex> and <replace-format>`;
      let re: RegExp;
      try { re = new RegExp(words[1]!); } catch (e) { return `invalid regex '${words[1]}': ${(e as Error).message}`; }
      const fmt = lf(words[2]!, pc);
      return {
        name,
        run(h) {
          const req = h.ctx.req;
          if (!req) return Act.CONT;
          const u = splitUri(req.uri);
          const subject = name === 'replace-uri' ? req.uri : name === 'replace-path' ? u.path : u.path + u.query;
          const m = re.exec(subject);
          if (!m) return Act.CONT;
          const out = backrefs(fmt.render(h.ctx), m);
          if (name === 'replace-uri') req.uri = out || '/';
          else if (name === 'replace-path') req.uri = u.pre + out + u.query;
          else req.uri = u.pre + out;
          return Act.CONT;
        },
      };
    },
  });
}
replaceUriAction('replace-uri');
replaceUriAction('replace-path');
replaceUriAction('replace-pathq');

registerAction({
  name: 'set-status', sets: RES_AFT,
  parse(words) {
    const code = Number(words[1]);
    if (!/^[0-9]+$/.test(words[1] ?? '') || code < 100 || code > 999) return `expects an integer status code between 100 and 999`;
    let reason: string | undefined;
    if (words[2] !== undefined) {
      if (words[2] !== 'reason' || words[3] === undefined || words.length > 4) return `expects only 'reason' keyword after the status code`;
      reason = words[3];
    }
    return {
      name: 'set-status',
      run(h) {
        const res = h.ctx.res;
        if (!res) return Act.CONT;
        res.status = code;
        res.reason = reason ?? reasonFor(code);
        h.ctx.status = code;
        return Act.CONT;
      },
    };
  },
});

import { reasonPhrase } from '../http/errors.js';
function reasonFor(code: number): string { return reasonPhrase(code); }

/* ---------------------------------------------------------------------------------------- */
/* normalize-uri                                                                            */
/* ---------------------------------------------------------------------------------------- */

registerAction({
  name: 'normalize-uri', sets: REQ,
  parse(words, pc) {
    if (!experimentalAllowed()) return `this action is experimental, it must be allowed via a global 'expose-experimental-directives'`;
    void pc;
    const which = words[1];
    if (!which) return `expects a normalizer name`;
    const n: Normalizer | undefined = normalizers[which];
    if (!n) return `unknown normalizer '${which}'`;
    const opt = words[2];
    if (opt !== undefined && (!n.option || opt !== n.option || words.length > 3)) return `unexpected argument '${opt}'`;
    const withOpt = opt !== undefined;
    return {
      name: 'normalize-uri',
      run(h) {
        const req = h.ctx.req;
        if (!req) return Act.CONT;
        const out = n.apply(req.uri, withOpt);
        if (out === null) {
          // a strict normalizer found an invalid sequence: 400 Bad Request
          h.verdict = { kind: 'reply', reply: errorMessageFor(h.be?.cfg, 400, h.fe.cfg), status: 400, deny: false };
          return Act.DONE;
        }
        req.uri = out;
        return Act.CONT;
      },
    };
  },
});

/* ---------------------------------------------------------------------------------------- */
/* capture                                                                                  */
/* ---------------------------------------------------------------------------------------- */

import { switchingOf } from './keywords.js';

registerAction({
  name: 'capture', sets: ['tcp-request content', 'http-request', 'http-response', 'http-after-response'],
  parse(words, pc) {
    if (words.length !== 4 || (words[2] !== 'len' && words[2] !== 'id')) return `expects <expression> [ 'len' <length> | id <idx> ]`;
    const e = expr(words[1]!, pc);
    const n = Number(words[3]);
    if (!Number.isInteger(n) || n < 0) return `'${words[2]}' expects a positive integer`;
    const isReq = pc.set !== 'http-response' && pc.set !== 'http-after-response';
    let slot: number;
    let len: number;
    if (words[2] === 'len') {
      if (!isReq) return `'len' is only usable with request captures; use 'id' for responses`;
      if (pc.px.kind === 'backend' || pc.px.kind === 'defaults') return `'len' is not allowed in backends; use 'id'`;
      const caps = switchingOf(pc.px).reqCaptures;
      slot = caps.length;
      caps.push({ len: n, where: pc.where });
      len = n;
    } else {
      slot = n;
      const caps = pc.px.kind === 'backend' ? undefined : (isReq ? switchingOf(pc.px).reqCaptures : switchingOf(pc.px).resCaptures);
      if (caps && slot >= caps.length) return `the capture id ${slot} is not declared in the proxy`;
      len = caps?.[slot]?.len ?? -1;
    }
    return {
      name: 'capture',
      run(h) {
        const s = e.eval(h.ctx);
        if (!s) return Act.CONT;
        let v = sampleToString(s);
        if (v === undefined) return Act.CONT;
        const fcaps = isReq ? switchingOf(h.fe.cfg).reqCaptures : switchingOf(h.fe.cfg).resCaptures;
        const max = len >= 0 ? len : fcaps[slot]?.len;
        if (max === undefined) return Act.CONT; // the frontend has no such slot: ignored
        if (v.length > max) v = v.slice(0, max);
        (isReq ? h.ctx.reqCaptures : h.ctx.resCaptures)[slot] = v;
        return Act.CONT;
      },
    };
  },
});

/* ---------------------------------------------------------------------------------------- */
/* Maps and ACLs                                                                            */
/* ---------------------------------------------------------------------------------------- */

function refAction(name: 'add-acl' | 'del-acl' | 'set-map' | 'del-map', sets: readonly RuleSetKind[]): void {
  registerAction({
    name, withArg: true, sets,
    parse(words, pc) {
      const m = /^[a-z-]+\((.+)\)$/.exec(words[0]!);
      if (!m) return `expects a file name between parentheses`;
      const file = m[1]!;
      const nargs = name === 'set-map' ? 2 : 1;
      if (words.length !== 1 + nargs) return `expects exactly ${nargs} argument${nargs > 1 ? 's' : ''}`;
      const isMap = name.endsWith('map');
      const ref = patternRefs.get(file, isMap, 'file');
      if (isMap) ref.usedAsMap = true; else ref.usedAsAcl = true;
      try { loadPatternFile(ref, file, isMap); } catch (e) {
        return `unable to load the ${isMap ? 'map' : 'ACL'} file '${file}' : ${(e as Error).message}`;
      }
      const key = lf(words[1]!, pc);
      const value = nargs === 2 ? lf(words[2]!, pc) : undefined;
      return {
        name,
        run(h) {
          const k = key.render(h.ctx);
          switch (name) {
            case 'add-acl':
              if (!ref.current().some((e) => e.key === k)) ref.add(k, undefined);
              break;
            case 'del-acl': case 'del-map':
              ref.removeKey(k);
              break;
            case 'set-map': {
              const v = value!.render(h.ctx);
              if (ref.setValue(k, v) === 0) ref.add(k, v);
              break;
            }
          }
          return Act.CONT;
        },
      };
    },
  });
}
refAction('add-acl', REQ_RES);
refAction('del-acl', ALL_HTTP);
refAction('set-map', ALL_HTTP);
refAction('del-map', ALL_HTTP);

/* ---------------------------------------------------------------------------------------- */
/* Stream settings                                                                          */
/* ---------------------------------------------------------------------------------------- */

/** `<time>` or an expression giving milliseconds. */
function timeOrExpr(text: string, pc: ActionParseCtx): (ctx: SmpCtx) => number | undefined {
  const t = parseTime(text);
  if (typeof t === 'number') return () => t;
  const e = expr(text, pc);
  return (ctx) => {
    const s = e.eval(ctx);
    const c = s && cast(s, 'sint');
    if (!c) return undefined;
    const n = intNum(c.v);
    return n >= 0 ? n : undefined;
  };
}

registerAction({
  name: 'set-timeout', sets: REQ_RES,
  parse(words, pc) {
    const which = words[1];
    if (which !== 'server' && which !== 'tunnel' && which !== 'client') return `expects 'client', 'server' or 'tunnel'`;
    if (words.length !== 3) return `expects a timeout value or an expression`;
    const hasBe = pc.px.kind === 'backend' || pc.px.kind === 'listen' || pc.px.kind === 'defaults';
    const hasFe = pc.px.kind === 'frontend' || pc.px.kind === 'listen' || pc.px.kind === 'defaults';
    if ((which === 'server' || which === 'tunnel') && !hasBe) return `'${which}' timeout is only available in proxies with backend capability`;
    if (which === 'client' && !hasFe) return `'client' timeout is only available in proxies with frontend capability`;
    const get = timeOrExpr(words[2]!, pc);
    return {
      name: 'set-timeout',
      run(h) {
        const ms = get(h.ctx);
        if (ms !== undefined && ms > 0) h.setTimeout?.(which, ms);
        return Act.CONT;
      },
    };
  },
});

registerAction({
  name: 'set-retries', sets: ['tcp-request content', 'http-request'],
  parse(words, pc) {
    if (words.length !== 2) return `expects exactly one argument`;
    if (pc.px.kind === 'frontend') return `only available in proxies with backend capability`;
    let get: (ctx: SmpCtx) => number | undefined;
    if (/^[0-9]+$/.test(words[1]!)) {
      const n = Number(words[1]);
      if (n > 100) return `expects an integer between 0 and 100`;
      get = () => n;
    } else {
      const e = expr(words[1]!, pc);
      get = (ctx) => { const s = e.eval(ctx); const c = s && cast(s, 'sint'); if (!c) return undefined; const n = intNum(c.v); return n >= 0 && n <= 100 ? n : undefined; };
    }
    return { name: 'set-retries', run(h) { const n = get(h.ctx); if (n !== undefined) h.setRetries?.(n); return Act.CONT; } };
  },
});

simple('disable-l7-retry', REQ, (h) => { h.disableL7Retry?.(); return Act.CONT; });

registerAction({
  name: 'strict-mode', sets: ALL_HTTP,
  parse(words) {
    if (words.length !== 2 || (words[1] !== 'on' && words[1] !== 'off')) return `expects 'on' or 'off'`;
    const on = words[1] === 'on';
    return { name: 'strict-mode', run(h) { h.strictMode = on; return Act.CONT; } };
  },
});

registerAction({
  name: 'early-hint', sets: REQ,
  parse(words, pc) {
    if (words.length !== 3) return `expects exactly 2 arguments`;
    const name = words[1]!;
    const value = lf(words[2]!, pc);
    return { name: 'early-hint', run(h) { h.sendEarlyHint?.(name, value.render(h.ctx)); return Act.CONT; } };
  },
});

registerAction({
  name: 'pause', sets: REQ_RES,
  parse(words, pc) {
    if (words.length !== 2) return `expects a timeout or an expression`;
    const get = timeOrExpr(words[1]!, pc);
    return {
      name: 'pause',
      run(h) {
        const ms = get(h.ctx);
        if (ms === undefined || !h.pauseUntil) return Act.CONT;
        h.pauseUntil(ms);
        return Act.YIELD;
      },
    };
  },
});

registerAction({
  name: 'wait-for-body', sets: REQ_RES,
  parse(words) {
    if (words[1] !== 'time' || words[2] === undefined) return `expects 'time' <time> [ 'at-least' <bytes> ]`;
    const t = parseTime(words[2]);
    if (typeof t === 'string') return `'time' : ${t}`;
    let atLeast = 0;
    if (words[3] !== undefined) {
      if (words[3] !== 'at-least' || words[4] === undefined || words.length > 5) return `unexpected argument '${words[3]}'`;
      const m = /^([0-9]+)([kmg]?)$/i.exec(words[4]);
      if (!m) return `'at-least' expects a size`;
      atLeast = Number(m[1]) * ({ '': 1, k: 1024, m: 1048576, g: 1073741824 } as Record<string, number>)[m[2]!.toLowerCase()]!;
    }
    return {
      name: 'wait-for-body',
      run(h) { return h.waitForBody && !h.waitForBody(t, atLeast) ? Act.YIELD : Act.CONT; },
    };
  },
});

/* ---------------------------------------------------------------------------------------- */
/* Queue priority                                                                           */
/* ---------------------------------------------------------------------------------------- */

function priorityAction(name: 'set-priority-class' | 'set-priority-offset', max: number): void {
  registerAction({
    name, sets: ['tcp-request content', 'http-request'],
    parse(words, pc) {
      if (words.length !== 2) return `expects exactly one sample expression`;
      const e = expr(words[1]!, pc);
      return {
        name,
        run(h) {
          const s = e.eval(h.ctx);
          const c = s && cast(s, 'sint');
          if (!c || !h.setPriority) return Act.CONT;
          // values out of range are truncated to it
          const v = Math.max(-max, Math.min(max, intNum(c.v)));
          h.setPriority(name === 'set-priority-class' ? 'class' : 'offset', v);
          return Act.CONT;
        },
      };
    },
  });
}
priorityAction('set-priority-class', 2047);
priorityAction('set-priority-offset', 524287);
