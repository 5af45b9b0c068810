// Variables and ACLs as samples: the `var` and `acl` fetches, the `set-var`, `unset-var`,
// `capture-req`, `capture-res`, `nbsrv` and `srv_queue` converters (configuration.txt 7.3.1,
// 7.3.2).
import { registerFetch, registerConverter } from '../registry.js';
import { parseVarName, getVar, setVar, unsetVar, varCondsAllow, VAR_CONDS, type VarCond, type VarRef } from '../vars.js';
import { smpBool, smpInt, smpStr, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';
import type { Proxy } from '../../proxy/proxy.js';
import { usableCount } from './internal.js';
import { AclResult, type Acl } from '../../acl/acl.js';

registerFetch('var', {
  check(args) {
    const ref = parseVarName(String(args[0]));
    if (typeof ref === 'string') return ref;
    args[0] = ref;
    return undefined;
  },
  fn(args, ctx) {
    const s = getVar(ctx, args[0] as VarRef);
    if (s) return s;
    return args[1] !== undefined ? smpStr(String(args[1])) : undefined;
  },
});

/** Named ACLs the `acl` fetch may reach, set by the rules engine per proxy being parsed. */
export const aclScope: { current: Map<string, Acl> | undefined } = { current: undefined };

registerFetch('acl', {
  check(args) {
    const acls = aclScope.current;
    const out: { acl: Acl; neg: boolean }[] = [];
    for (const a of args as string[]) {
      const neg = a.startsWith('!');
      const name = neg ? a.slice(1) : a;
      const acl = acls?.get(name);
      if (!acl) return `ACL '${name}' not found`;
      out.push({ acl, neg });
    }
    args.length = 0;
    args.push(out);
    return undefined;
  },
  fn(args, ctx) {
    for (const { acl, neg } of args[0] as { acl: Acl; neg: boolean }[]) {
      const r = acl.exec(ctx);
      if (r === AclResult.MISS) { ctx.wantMore = true; return undefined; }
      if ((r === AclResult.PASS) === neg) return smpBool(false);
    }
    return smpBool(true);
  },
});

function varConvCheck(args: unknown[]): string | undefined {
  const ref = parseVarName(String(args[0]));
  if (typeof ref === 'string') return ref;
  const conds: VarCond[] = [];
  for (const c of args.slice(1) as string[]) {
    if (!VAR_CONDS.includes(c as VarCond)) return `unknown condition '${c}'`;
    conds.push(c as VarCond);
  }
  args.length = 0;
  args.push(ref, conds);
  return undefined;
}

registerConverter('set-var', {
  check: varConvCheck,
  fn(s, args, ctx) {
    const ref = args[0] as VarRef, conds = args[1] as VarCond[];
    if (conds.length && !varCondsAllow(conds, getVar(ctx, ref), s)) return s;
    setVar(ctx, ref, s);
    return s;
  },
});

registerConverter('unset-var', {
  check: varConvCheck,
  fn(s, args, ctx) { unsetVar(ctx, args[0] as VarRef); return s; },
});

function captureConv(which: 'req' | 'res') {
  return {
    fn(s: Sample, args: unknown[], ctx: SmpCtx): Sample | undefined {
      const id = Number(args[0]);
      const slots = which === 'req' ? ctx.fe?.cfg.switching?.reqCaptures : ctx.fe?.cfg.switching?.resCaptures;
      const slot = slots?.[id];
      if (!slot) return s; // the slot does not exist: fails silently, the sample goes on
      const v = s.v as string;
      (which === 'req' ? ctx.reqCaptures : ctx.resCaptures)[id] = v.length > slot.len ? v.slice(0, slot.len) : v;
      return s;
    },
    check(args: unknown[]): string | undefined {
      const n = Number(args[0]);
      return Number.isInteger(n) && n >= 0 ? undefined : 'expects a capture slot id (a positive integer)';
    },
  };
}
registerConverter('capture-req', captureConv('req'));
registerConverter('capture-res', captureConv('res'));

function backendNamed(ctx: SmpCtx, name: string): Proxy | undefined {
  return ctx.rt?.proxies.find((p) => p.isBackend && p.name === name);
}

registerConverter('nbsrv', {
  fn(s, _args, ctx) {
    const px = backendNamed(ctx, s.v as string);
    return px ? smpInt(usableCount(px)) : undefined;
  },
});

registerConverter('srv_queue', {
  fn(s, _args, ctx) {
    const v = s.v as string;
    const slash = v.indexOf('/');
    const px = slash >= 0 ? backendNamed(ctx, v.slice(0, slash)) : ctx.be;
    const srv = px?.findServer(slash >= 0 ? v.slice(slash + 1) : v);
    return srv ? smpInt(srv.queue.length) : undefined;
  },
});
