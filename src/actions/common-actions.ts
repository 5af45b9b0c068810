// Actions shared by the TCP and HTTP rule sets (configuration.txt 4.4): accept, reject,
// silent-drop, set-var / set-var-fmt / unset-var, set-src / set-dst / set-src-port / set-dst-port,
// expect-proxy layer4 and close.
import { registerAction, Act, type ActionParseCtx, type RuleSetKind } from './rules.js';
import { compileLf } from './lf.js';
import { parseSampleExpr } from '../sample/expr.js';
import { parseVarName, setVar, getVar, unsetVar, varCondsAllow, VAR_CONDS, type VarCond } from '../sample/vars.js';
import { cast, formatIpv4, formatIpv6, intNum, smpStr } from '../sample/types.js';

const TCP_ALL: readonly RuleSetKind[] = ['tcp-request connection', 'tcp-request session', 'tcp-request content', 'tcp-response content'];
const EVERY: readonly RuleSetKind[] = [...TCP_ALL, 'http-request', 'http-response', 'http-after-response'];

function expr(text: string, pc: ActionParseCtx) {
  return parseSampleExpr(text, { where: pc.where, proxyName: pc.px.name, file: pc.file, use: pc.use, useLabel: pc.useLabel });
}

registerAction({
  name: 'accept', sets: TCP_ALL,
  parse(words) {
    if (words.length > 1) return `unexpected argument '${words[1]}'`;
    return { name: 'accept', run: () => Act.STOP };
  },
});

registerAction({
  name: 'reject', sets: [...TCP_ALL, 'http-request'],
  parse(words) {
    if (words.length > 1) return `unexpected argument '${words[1]}'`;
    return { name: 'reject', run(h) { h.verdict = { kind: 'reject' }; return Act.DONE; } };
  },
});

registerAction({
  name: 'silent-drop', sets: [...TCP_ALL, 'http-request', 'http-response'],
  parse(words) {
    if (words.length > 1 && !(words[1] === 'rst-ttl' && words[2] !== undefined && words.length === 3)) return `unexpected argument '${words[1]}'`;
    if (words[1] === 'rst-ttl') return `'rst-ttl' is not supported yet by haproxy-ts (it needs raw IP packets)`;
    return { name: 'silent-drop', run(h) { h.verdict = { kind: 'silent-drop' }; return Act.DONE; } };
  },
});

registerAction({
  name: 'close', sets: ['tcp-response content'],
  parse(words) {
    if (words.length > 1) return `unexpected argument '${words[1]}'`;
    return { name: 'close', run(h) { h.verdict = { kind: 'reject' }; return Act.DONE; } };
  },
});

/* ---- variables ---- */

/** `set-var(name[,cond...])`: the variable and the conditions. */
function varHead(word: string, kw: string): { ref: Exclude<ReturnType<typeof parseVarName>, string>; conds: VarCond[] } | string {
  const m = new RegExp(`^${kw}\\((.*)\\)$`).exec(word);
  if (!m) return `expects a variable name between parentheses`;
  const parts = m[1]!.split(',').map((s) => s.trim());
  const ref = parseVarName(parts[0]!);
  if (typeof ref === 'string') return ref;
  const conds: VarCond[] = [];
  for (const c of parts.slice(1)) {
    if (!VAR_CONDS.includes(c as VarCond)) return `unknown condition '${c}' (expects ${VAR_CONDS.map((x) => `'${x}'`).join(', ')})`;
    conds.push(c as VarCond);
  }
  return { ref, conds };
}

registerAction({
  name: 'set-var', withArg: true, sets: EVERY,
  parse(words, pc) {
    const h = varHead(words[0]!, 'set-var');
    if (typeof h === 'string') return h;
    if (words.length !== 2) return `expects exactly one sample expression`;
    const e = expr(words[1]!, pc);
    return {
      name: 'set-var',
      run(host) {
        const s = e.eval(host.ctx);
        if (!s) return Act.CONT;
        if (h.conds.length && !varCondsAllow(h.conds, getVar(host.ctx, h.ref), s)) return Act.CONT;
        setVar(host.ctx, h.ref, s);
        return Act.CONT;
      },
    };
  },
});

registerAction({
  name: 'set-var-fmt', withArg: true, sets: EVERY,
  parse(words, pc) {
    const h = varHead(words[0]!, 'set-var-fmt');
    if (typeof h === 'string') return h;
    if (words.length !== 2) return `expects exactly one format string`;
    const f = compileLf(words[1]!, { where: pc.where, file: pc.file, proxyName: pc.px.name, use: pc.use, useLabel: pc.useLabel });
    return {
      name: 'set-var-fmt',
      run(host) {
        const s = smpStr(f.render(host.ctx));
        if (h.conds.length && !varCondsAllow(h.conds, getVar(host.ctx, h.ref), s)) return Act.CONT;
        setVar(host.ctx, h.ref, s);
        return Act.CONT;
      },
    };
  },
});

registerAction({
  name: 'unset-var', withArg: true, sets: EVERY,
  parse(words) {
    const m = /^unset-var\(([^,)]*)\)$/.exec(words[0]!);
    if (!m) return `expects a variable name between parentheses`;
    const ref = parseVarName(m[1]!);
    if (typeof ref === 'string') return ref;
    if (words.length > 1) return `unexpected argument '${words[1]}'`;
    return { name: 'unset-var', run(host) { unsetVar(host.ctx, ref); return Act.CONT; } };
  },
});

/* ---- addresses ---- */

function addrAction(name: 'set-src' | 'set-dst' | 'set-src-port' | 'set-dst-port'): void {
  registerAction({
    name, sets: ['tcp-request connection', 'tcp-request session', 'tcp-request content', 'http-request'],
    parse(words, pc) {
      if (words.length !== 2) return `expects exactly one sample expression`;
      const e = expr(words[1]!, pc);
      const which = name.startsWith('set-src') ? 'src' : 'dst';
      const port = name.endsWith('-port');
      return {
        name,
        run(h) {
          const s = e.eval(h.ctx);
          if (!s || !h.setAddr) return Act.CONT;
          if (port) {
            const c = cast(s, 'sint');
            if (!c) return Act.CONT;
            const n = intNum(c.v);
            if (n < 0 || n > 65535) return Act.CONT;
            h.setAddr(which, undefined, n);
          } else {
            const c = cast(s, 'addr');
            if (!c) return Act.CONT;
            h.setAddr(which, c.t === 'ipv4' ? formatIpv4(c.v) : formatIpv6(c.v), undefined);
          }
          return Act.CONT;
        },
      };
    },
  });
}
addrAction('set-src');
addrAction('set-dst');
addrAction('set-src-port');
addrAction('set-dst-port');
