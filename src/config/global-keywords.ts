// Keywords of the `global` section owned by the foundation (process settings, limits, tunables).
// `stats socket`/`stats timeout` are registered by the runtime API module (src/ops/cli-socket.ts).
import { registerGlobal, type ParseCtx } from '../registry/registry.js';
import type { GlobalConfig } from './model.js';
import { parseSize, parseTime, parseUint } from '../util/units.js';
import { userInfo } from 'node:os';
import { execFileSync } from 'node:child_process';
import { sockoptAvailable } from '../net/sockopt.js';

function needArgs(args: string[], n: number, ctx: ParseCtx, what = 'an argument'): boolean {
  if (args.length < n + 1) { ctx.alert(`'${args[0]}' expects ${what}.`); return false; }
  if (args.length > n + 1) { ctx.alert(`'${args[0]}' : too many arguments (expects ${n}).`); return false; }
  return true;
}

function uintKw(name: string, set: (g: GlobalConfig, n: number) => void, min = 0): void {
  registerGlobal({
    name,
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined || n < min) { ctx.alert(`'${name}' expects an integer argument${min ? ` >= ${min}` : ''} (got '${args[1]}').`); return; }
      set(g, n);
    },
  });
}

function lookupId(db: 'passwd' | 'group', name: string): number | undefined {
  try {
    const out = execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const id = Number(out.split(':')[2]);
    return Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

registerGlobal(
  { name: 'strict-limits', parse(args, g, ctx) { if (needArgs(args, 0, ctx)) g.strictLimits = true; } },
  { name: 'no strict-limits', parse(args, g, ctx) { if (needArgs(args.slice(1), 0, ctx)) g.strictLimits = false; } },
  { name: 'daemon', parse(args, g, ctx) { if (needArgs(args, 0, ctx)) g.daemon = true; } },
  { name: 'expose-experimental-directives', parse(args, _g, ctx) { if (needArgs(args, 0, ctx)) experimental = true; } },
  { name: 'quiet', parse(args, g, ctx) { if (needArgs(args, 0, ctx)) g.quiet = true; } },
  {
    name: 'pidfile',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a file name as argument')) return;
      if (g.pidfile) { ctx.alert(`'${args[0]}' already specified. Continuing.`); return; }
      g.pidfile = args[1];
    },
  },
  {
    name: 'maxconnrate',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined) { ctx.alert(`'maxconnrate' expects an integer argument (got '${args[1]}').`); return; }
      g.maxConnRate = n;
    },
  },
  {
    name: 'maxsessrate',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined) { ctx.alert(`'maxsessrate' expects an integer argument (got '${args[1]}').`); return; }
      g.maxSessRate = n;
    },
  },
  {
    name: 'maxconn',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined || n < 1) { ctx.alert(`'maxconn' expects a positive integer argument (got '${args[1]}').`); return; }
      g.maxconn = n; g.maxconnSet = true;
    },
  },
  {
    name: 'nbthread',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined || n < 1 || n > 4096) { ctx.alert(`'nbthread' expects an integer argument between 1 and 4096 (got '${args[1]}').`); return; }
      g.nbthread = n;
      if (n > 1) ctx.warn(`'nbthread ${n}': haproxy-ts runs one worker process for now (multi-process support comes with the process-model work); continuing with a single event loop.`);
    },
  },
  {
    name: 'hard-stop-after',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a time argument')) return;
      const t = parseTime(args[1]!);
      if (typeof t === 'string') { ctx.alert(`'hard-stop-after': ${t}.`); return; }
      g.hardStopAfter = t;
    },
  },
  {
    name: 'grace',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a time argument')) return;
      const t = parseTime(args[1]!);
      if (typeof t === 'string') { ctx.alert(`'grace': ${t}.`); return; }
      g.grace = t;
    },
  },
  {
    name: 'uid',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined) { ctx.alert(`'uid' expects an integer argument (got '${args[1]}').`); return; }
      g.uid = n;
    },
  },
  {
    name: 'gid',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'an integer argument')) return;
      const n = parseUint(args[1]);
      if (n === undefined) { ctx.alert(`'gid' expects an integer argument (got '${args[1]}').`); return; }
      g.gid = n;
    },
  },
  {
    name: 'user',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a user name')) return;
      const id = lookupId('passwd', args[1]!);
      if (id === undefined) { ctx.alert(`cannot find user id for '${args[1]}' (0:Success)`); return; }
      g.user = args[1]; g.uid = id;
    },
  },
  {
    name: 'group',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a group name')) return;
      const id = lookupId('group', args[1]!);
      if (id === undefined) { ctx.alert(`cannot find group id for '${args[1]}' (0:Success)`); return; }
      g.group = args[1]; g.gid = id;
    },
  },
  { name: 'localpeer', parse(args, g, ctx) { if (needArgs(args, 1, ctx, 'a name as an argument')) g.localpeer = args[1]; } },
  { name: 'node', parse(args, g, ctx) { if (needArgs(args, 1, ctx, 'a name as an argument')) g.node = args[1]!; } },
  {
    name: 'description',
    parse(args, g, ctx) {
      if (args.length < 2) { ctx.alert(`'description' expects a string argument.`); return; }
      g.description = args.slice(1).join(' ');
    },
  },
  {
    name: 'default-path',
    parse(args, g, ctx) {
      const mode = args[1];
      if (mode === 'current' || mode === 'config' || mode === 'parent') {
        if (args.length !== 2) { ctx.alert(`'default-path ${mode}' takes no other argument.`); return; }
        g.defaultPath = { mode };
      } else if (mode === 'origin') {
        if (args.length !== 3) { ctx.alert(`'default-path origin' expects a path as an argument.`); return; }
        g.defaultPath = { mode, origin: args[2] };
      } else {
        ctx.alert(`'default-path' expects one of 'current', 'config', 'parent' or 'origin' (got '${mode ?? ''}').`);
      }
    },
  },
  {
    name: 'pp2-never-send-local',
    parse(args, g, ctx) { if (needArgs(args, 0, ctx)) g.pp2NeverSendLocal = true; },
  },
  {
    name: 'setenv',
    parse(args, _g, ctx) {
      if (args.length !== 3) { ctx.alert(`'setenv' expects a name and a value.`); return; }
      process.env[args[1]!] = args[2]!;
    },
  },
  {
    name: 'presetenv',
    parse(args, _g, ctx) {
      if (args.length !== 3) { ctx.alert(`'presetenv' expects a name and a value.`); return; }
      if (process.env[args[1]!] === undefined) process.env[args[1]!] = args[2]!;
    },
  },
  {
    name: 'unsetenv',
    parse(args, _g, ctx) {
      if (args.length < 2) { ctx.alert(`'unsetenv' expects at least one variable name.`); return; }
      for (const n of args.slice(1)) delete process.env[n];
    },
  },
  {
    name: 'resetenv',
    parse(args) {
      const keep = new Set(args.slice(1));
      for (const n of Object.keys(process.env)) if (!keep.has(n)) delete process.env[n];
    },
  },
);

// ulimit-n and chroot need system calls Node.js does not expose: they are registered only when
// the native addon (native/sockopt.c) is built; otherwise they are rejected as not supported.
if (sockoptAvailable) {
  registerGlobal(
    {
      name: 'ulimit-n',
      parse(args, g, ctx) {
        if (!needArgs(args, 1, ctx, 'an integer argument')) return;
        const n = parseUint(args[1]);
        if (n === undefined || n < 1) { ctx.alert(`'ulimit-n' expects a positive integer argument (got '${args[1]}').`); return; }
        g.ulimitN = n;
      },
    },
    {
      name: 'chroot',
      parse(args, g, ctx) {
        if (!needArgs(args, 1, ctx, 'a directory as an argument')) return;
        g.chroot = args[1];
      },
    },
  );
}

uintKw('tune.http.maxhdr', (g, n) => { g.tune.httpMaxhdr = n; }, 1);

registerGlobal(
  {
    name: 'tune.bufsize',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a size argument')) return;
      const n = parseSize(args[1]!);
      if (typeof n === 'string' || n < 1024 || n > 1 << 30) { ctx.alert(`'tune.bufsize' expects a size between 1024 and 1073741824 (got '${args[1]}').`); return; }
      g.tune.bufsize = n;
    },
  },
  {
    name: 'tune.maxrewrite',
    parse(args, g, ctx) {
      if (!needArgs(args, 1, ctx, 'a size argument')) return;
      const n = parseSize(args[1]!);
      if (typeof n === 'string') { ctx.alert(`'tune.maxrewrite' expects a size argument (got '${args[1]}').`); return; }
      g.tune.maxrewrite = n;
    },
  },
);

export function currentUser(): string {
  try { return userInfo().username; } catch { return ''; }
}

/** `expose-experimental-directives` was seen in the configuration being parsed. */
let experimental = false;
export function experimentalAllowed(): boolean { return experimental; }
/** Called when a new configuration starts being parsed. */
export function resetExperimental(): void { experimental = false; }
