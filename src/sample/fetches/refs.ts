// Helpers shared by the fetch modules: arguments naming a backend, frontend or server (resolved
// lazily through the runtime when the configuration loader did not fill NameRef.ref), the
// optional "current proxy" argument HAProxy fills in, and date units.
import { fetchRegistry, type NameRef } from '../registry.js';
import { pendingRefs } from '../expr.js';
import type { SmpCtx } from '../context.js';
import type { Proxy } from '../../proxy/proxy.js';
import type { Server } from '../../proxy/server.js';

/**
 * Makes the first (proxy-typed) argument of registered fetches optional, as HAProxy does: when
 * omitted, it designates the proxy holding the expression (queued in pendingRefs like a named
 * one, so that the configuration check rejects e.g. be_conn in a frontend-only proxy). The
 * catalogue text (for -dKsmp) is kept. Must run after the fetches are registered.
 */
export function optionalProxyArg(kind: 'backend' | 'frontend', names: readonly string[]): void {
  for (const n of names) {
    const d = fetchRegistry.get(n);
    if (!d || !d.args[0]) continue;
    d.args[0] = { ...d.args[0], optional: true };
    const prev = d.check;
    d.check = (args, cx) => {
      if (args.length === 0 && cx.proxyName !== undefined) {
        const ref: NameRef = { kind, name: cx.proxyName };
        pendingRefs.push({ ref, where: cx.where, proxyName: cx.proxyName, kw: n });
        args.push(ref);
      }
      return prev?.(args, cx);
    };
  }
}

/** The proxy an argument designates; without an argument, the stream's current one. */
export function argProxy(args: any[], ctx: SmpCtx, kind: 'backend' | 'frontend'): Proxy | undefined {
  const ref = args[0] as NameRef<Proxy> | undefined;
  if (!ref) return kind === 'backend' ? ctx.be ?? (ctx.fe?.isBackend ? ctx.fe : undefined) : ctx.fe;
  if (ref.ref) return ref.ref;
  const p = ctx.rt?.findProxy(ref.name, kind);
  if (p) ref.ref = p;
  return p;
}

/** The server a `[<backend>/]<server>` argument designates. */
export function argServer(args: any[], ctx: SmpCtx): Server | undefined {
  const ref = args[0] as NameRef<Server> | undefined;
  if (!ref) return undefined;
  if (ref.ref) return ref.ref;
  const be = ref.backend !== undefined ? ctx.rt?.findProxy(ref.backend, 'backend') : ctx.be;
  const s = be?.findServer(ref.name);
  if (s) ref.ref = s;
  return s;
}

export type TimeUnit = 's' | 'ms' | 'us';

/** check(): a unit argument at `idx` must be s, ms or us (stored as the unit name). */
export function unitArgCheck(idx: number) {
  return (args: any[]): string | undefined => {
    if (args.length <= idx) return undefined;
    const u = args[idx];
    if (u !== 's' && u !== 'ms' && u !== 'us') return `invalid unit '${String(u)}' (expected 's', 'ms' or 'us')`;
    return undefined;
  };
}

/** A date in ms (possibly fractional) as an integer number of `unit`s since the epoch. */
export function dateIn(ms: number, unit: TimeUnit | undefined): number {
  switch (unit) {
    case 'ms': return Math.floor(ms);
    case 'us': return Math.floor(ms * 1000);
    default: return Math.floor(ms / 1000);
  }
}
