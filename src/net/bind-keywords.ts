// `bind` line options owned by the foundation (configuration.txt 5.1).
import { registerBind, type ParseCtx } from '../registry/registry.js';
import type { BindConfig } from '../config/model.js';
import { parseUint } from '../util/units.js';
import { execFileSync } from 'node:child_process';
import { sockoptAvailable } from './sockopt.js';

function uintArg(name: string, v: string | undefined, ctx: ParseCtx, min = 0): number | undefined {
  const n = parseUint(v);
  if (n === undefined || n < min) { ctx.alert(`'${name}' : expects an integer argument${min ? ` >= ${min}` : ''} (got '${v ?? ''}')`); return undefined; }
  return n;
}

export function lookupAccountId(db: 'passwd' | 'group', name: string): number | undefined {
  try {
    const out = execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const id = Number(out.split(':')[2]);
    return Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

const unixOnly = (b: BindConfig, kw: string, ctx: ParseCtx): boolean => {
  if (b.address.family === 'unix') return true;
  ctx.alert(`'${kw}' : only applies to UNIX sockets ('${b.addressText}').`);
  return false;
};

registerBind(
  { name: 'name', args: 1, parse(a, b) { b.name = a[1]; } },
  { name: 'id', args: 1, parse(a, b, ctx) { const n = uintArg('id', a[1], ctx, 1); if (n !== undefined) b.id = n; } },
  { name: 'maxconn', args: 1, parse(a, b, ctx) { const n = uintArg('maxconn', a[1], ctx); if (n !== undefined) b.maxconn = n; } },
  { name: 'backlog', args: 1, parse(a, b, ctx) { const n = uintArg('backlog', a[1], ctx, 1); if (n !== undefined) b.backlog = n; } },
  { name: 'v4v6', args: 0, parse(_a, b) { b.v4v6 = true; b.v6only = false; } },
  { name: 'v6only', args: 0, parse(_a, b) { b.v6only = true; b.v4v6 = false; } },
  { name: 'accept-proxy', args: 0, parse(_a, b) { b.acceptProxy = true; } },
  {
    name: 'mode', args: 1,
    parse(a, b, ctx) {
      if (!unixOnly(b, 'mode', ctx)) return;
      if (!/^[0-7]{1,4}$/.test(a[1] ?? '')) { ctx.alert(`'mode' : expects an octal mode (got '${a[1] ?? ''}')`); return; }
      b.mode = parseInt(a[1]!, 8);
    },
  },
  { name: 'uid', args: 1, parse(a, b, ctx) { if (!unixOnly(b, 'uid', ctx)) return; const n = uintArg('uid', a[1], ctx); if (n !== undefined) b.uid = n; } },
  { name: 'gid', args: 1, parse(a, b, ctx) { if (!unixOnly(b, 'gid', ctx)) return; const n = uintArg('gid', a[1], ctx); if (n !== undefined) b.gid = n; } },
  {
    name: 'user', args: 1,
    parse(a, b, ctx) {
      if (!unixOnly(b, 'user', ctx)) return;
      const id = lookupAccountId('passwd', a[1]!);
      if (id === undefined) { ctx.alert(`'user' : unknown user name '${a[1]}'`); return; }
      b.user = a[1]; b.uid = id;
    },
  },
  {
    name: 'group', args: 1,
    parse(a, b, ctx) {
      if (!unixOnly(b, 'group', ctx)) return;
      const id = lookupAccountId('group', a[1]!);
      if (id === undefined) { ctx.alert(`'group' : unknown group name '${a[1]}'`); return; }
      b.group = a[1]; b.gid = id;
    },
  },
);

// Options needing setsockopt() calls Node.js lacks: only with the native addon (src/net/sockopt.ts).
// Without it they stay unregistered and the parser reports them as not supported yet.
/** IFNAMSIZ on Linux, terminating NUL included. */
const IFNAMSIZ = 16;

if (sockoptAvailable) {
  registerBind(
    { name: 'defer-accept', args: 0, parse(_a, b) { b.deferAccept = true; } },
    { name: 'tfo', args: 0, parse(_a, b) { b.tfo = true; } },
    {
      name: 'interface', args: 1,
      parse(a, b, ctx) {
        const name = a[1] ?? '';
        if (name === '' || name.length >= IFNAMSIZ || /[\s/]/.test(name)) {
          ctx.alert(`'interface' : expects a network interface name of at most ${IFNAMSIZ - 1} characters (got '${name}')`);
          return;
        }
        b.interface = name;
      },
    },
    {
      name: 'mss', args: 1,
      parse(a, b, ctx) {
        const v = a[1] ?? '';
        const n = /^[+-]?\d{1,6}$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < -65535 || n > 65535) {
          ctx.alert(`'mss' : expects an MSS value between -65535 and 65535, optionally signed (got '${v}')`);
          return;
        }
        b.mss = n;
      },
    },
  );
}
