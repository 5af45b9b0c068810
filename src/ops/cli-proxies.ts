// Runtime API commands acting on proxies as a whole (management.txt 9.3): `show backend`,
// `disable|enable|shutdown frontend`, `set rate-limit`.
import { registerCli, type CliContext, type CliKeyword } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import { logWarning } from '../cli/messages.js';
import { ctxErr, ctxRuntime } from './cli-util.js';

/** `show backend`: a header line then one backend name per line (listen sections included). */
export function renderBackends(proxies: readonly Proxy[]): string {
  let out = '# name\n';
  for (const p of proxies) if (p.isBackend) out += `${p.name}\n`;
  return out;
}

/** The frontend named by args[2] (name or #id), or undefined after printing HAProxy's error. */
function frontendArg(rt: Runtime, args: string[], ctx: CliContext): Proxy | undefined {
  const name = args[2];
  if (name === undefined || name === '') { ctxErr(ctx, 'A frontend name is expected.'); return undefined; }
  const fe = rt.findProxy(name, 'frontend');
  if (!fe) { ctxErr(ctx, 'No such frontend.'); return undefined; }
  return fe;
}

export const RATE_LIMIT_USAGE = [
  "'set rate-limit' only supports :",
  "   - 'connections global' to set the per-process maximum connection rate",
  "   - 'sessions global' to set the per-process maximum session rate",
  "   - 'ssl-sessions global' to set the per-process maximum SSL session rate",
  "   - 'http-compression global' to set the per-process maximum compression speed in kB/s",
].join('\n');

/** The global setting behind each `set rate-limit` target (connections and sessions are built). */
const RATE_LIMIT_SETTING: Record<string, string> = {
  connections: 'maxconnrate', sessions: 'maxsessrate', 'ssl-sessions': 'maxsslrate', 'http-compression': 'maxcomprate',
};

export const PROXY_COMMANDS: CliKeyword[] = [
  {
    words: ['show', 'backend'], usage: 'show backend', help: 'list the backends of the running configuration', level: 'user',
    run(_args, ctx) {
      const rt = ctxRuntime(ctx);
      if (rt) ctx.out(renderBackends(rt.proxies));
    },
  },
  {
    words: ['disable', 'frontend'], usage: 'disable frontend <frontend>', help: 'stop a frontend\'s listeners for a while', level: 'admin',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const fe = frontendArg(rt, args, ctx);
      if (!fe) return;
      if (fe.stopped) { ctxErr(ctx, 'Frontend was previously shut down, cannot disable.'); return; }
      const mine = rt.listeners.filter((l) => l.proxy === fe);
      if (!mine.some((l) => l.state === 'ready' || l.state === 'full')) { ctxErr(ctx, 'All sockets are already disabled.'); return; }
      for (const l of mine) rt.pauseListener(l);
      logWarning(`Paused frontend ${fe.name}.`);
    },
  },
  {
    words: ['enable', 'frontend'], usage: 'enable frontend <frontend>', help: 'listen again on a disabled frontend', level: 'admin',
    async run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const fe = frontendArg(rt, args, ctx);
      if (!fe) return;
      if (fe.stopped) { ctxErr(ctx, 'Frontend was previously shut down, cannot enable.'); return; }
      const mine = rt.listeners.filter((l) => l.proxy === fe && l.state === 'paused');
      if (!mine.length) { ctxErr(ctx, 'All sockets are already enabled.'); return; }
      let failed = false;
      for (const l of mine) {
        try { await rt.resumeListener(l); } catch (e) {
          failed = true;
          logWarning(`Failed to resume ${fe.name}/${l.name}: ${(e as Error).message}`);
        }
      }
      if (failed) { ctxErr(ctx, 'Failed to resume frontend, check logs for precise cause (port conflict?).'); return; }
      logWarning(`Resumed frontend ${fe.name}.`);
    },
  },
  {
    words: ['shutdown', 'frontend'], usage: 'shutdown frontend <frontend>', help: 'stop a frontend for good (its ports are released)', level: 'admin',
    run(args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const fe = frontendArg(rt, args, ctx);
      if (!fe) return;
      if (fe.stopped) { ctxErr(ctx, 'Frontend was already shut down.'); return; }
      for (const l of rt.listeners) if (l.proxy === fe) rt.stopListener(l);
      fe.stopped = true;
      logWarning(`Proxy ${fe.name} stopped (cumulated conns: FE: ${fe.feCounters.cumConns}, BE: ${fe.counters.cumConns}).`);
    },
  },
  {
    words: ['set', 'rate-limit'], usage: 'set rate-limit <setting> <value>', help: 'change a process-wide rate limit', level: 'admin',
    run(args, ctx) {
      const what = args[2] ?? '';
      if (!(what in RATE_LIMIT_SETTING) || args[3] !== 'global') { ctxErr(ctx, RATE_LIMIT_USAGE); return; }
      if (args[4] === undefined || args[4] === '') { ctxErr(ctx, 'Expects an integer value.'); return; }
      const rt = ctxRuntime(ctx);
      const n = Number(args[4]);
      if (!/^\d+$/.test(args[4]) || n > 0xffffffff) { ctxErr(ctx, 'Value out of range.'); return; }
      if (rt && what === 'connections') { rt.connRateLimit = n; rt.wakeHeld(); return; }
      if (rt && what === 'sessions') { rt.sessRateLimit = n; rt.wakeHeld(); return; }
      // SSL sessions and compression do not exist in haproxy-ts
      ctxErr(ctx, `'set rate-limit ${what} global' is not supported yet by haproxy-ts (no '${RATE_LIMIT_SETTING[what]}').`);
    },
  },
];

registerCli(...PROXY_COMMANDS);
