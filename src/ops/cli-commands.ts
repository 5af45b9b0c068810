// The runtime API commands owned by this module (management.txt 9.3). Other modules add theirs
// with registerCli(); they all share the session's dispatcher, levels and usage screen.
import { setServerDynamic } from './cli-dynsrv.js';
import { registerCli, cliKeywords, type CliContext, type CliKeyword } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Server } from '../proxy/server.js';
import { defaultBalance, isDynamicBalance } from '../lb/config.js';
import { parseTime } from '../util/units.js';
import { buildUsage, atoi } from './cli-parse.js';
import {
  collectInfo, renderInfo, processVersion, parseWeightChange, parseServerMaxconn,
  type InfoFormat,
} from './cli-format.js';
import { cliState, cliRuntime, markWentDown, type SeverityOutput } from './cli-state.js';
import { boundAddress } from './cli-listen.js';
import type { CliSessionContext } from './cli-session.js';
import { setServerCheck, checkToggleKeywords, renderServersState as renderServersStateChecks, type CheckCliOut } from '../checks/cli-checks.js';
import { setAdminState } from '../checks/health.js';
import { dropModes } from './cli-util.js';

/** The extended context our session passes; plain contexts get a minimal stand-in. */
function sc(ctx: CliContext): CliSessionContext | undefined {
  return 'session' in ctx ? (ctx as CliSessionContext) : undefined;
}
function msg(ctx: CliContext, text: string): void {
  const s = sc(ctx);
  if (s) s.msg(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}
function err(ctx: CliContext, text: string): void {
  const s = sc(ctx);
  if (s) s.err(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}
function runtimeOf(ctx: CliContext): Runtime | undefined {
  return sc(ctx)?.rt ?? cliRuntime();
}
function needRuntime(ctx: CliContext): Runtime | undefined {
  const rt = runtimeOf(ctx);
  if (!rt) err(ctx, 'No running process to act on.');
  return rt;
}

/** "<backend>/<server>" with names or "#<id>"; prints HAProxy's error texts when not found. */
export function lookupServer(rt: Runtime, spec: string | undefined, ctx: CliContext): Server | undefined {
  const slash = spec === undefined ? -1 : spec.indexOf('/');
  if (spec === undefined || slash < 0 || slash === spec.length - 1) { err(ctx, "Require 'backend/server'."); return undefined; }
  const be = rt.findProxy(spec.slice(0, slash), 'backend');
  if (!be) { err(ctx, 'No such backend.'); return undefined; }
  const s = be.findServer(spec.slice(slash + 1));
  if (!s) { err(ctx, 'No such server.'); return undefined; }
  return s;
}

/** Applies a `set weight` value to a server; returns false (after printing why) on error. */
export function applyWeight(s: Server, text: string, ctx: CliContext): boolean {
  const be = s.backend;
  const dynamic = isDynamicBalance(be.cfg.balance ?? defaultBalance(), be.cfg.hashType);
  const r = parseWeightChange(text, s.iweight, dynamic);
  if (typeof r === 'string') { err(ctx, r); return false; }
  const wasUsable = s.usable();
  s.setWeight(r);
  if (wasUsable !== s.usable()) be.serverStateChanged(s);
  return true;
}

export function setServerAdmin(s: Server, state: 'ready' | 'drain' | 'maint'): void {
  if (state === 'maint') markWentDown(s);
  // with HAProxy's messages ("enters drain state", "is going DOWN for maintenance" ...)
  setAdminState(s, state);
}

/** Answers of the check commands: errors with the usual blank line, or a bare line. */
function checkOut(ctx: CliContext): CheckCliOut {
  return { err: (t) => err(ctx, t), bare: (t) => ctx.out(t) };
}

const PROMPT_HELP = [
  'Usage: prompt [help | n | i | p | timed]*',
  '  help  : show this message',
  '  n     : non-interactive mode, the connection closes after the current line',
  '  i     : interactive mode, commands are read until "quit", without prompt',
  '  p     : interactive mode with a "> " prompt',
  '  timed : toggle the process uptime in the prompt (turns the prompt on)',
  'Without argument, the prompt mode is turned on, or off when it was on.',
].join('\n');

const SET_SERVER_USAGE = 'usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight';
const SET_SERVER_NOT_YET = new Set(['ssl']);

export const COMMANDS: CliKeyword[] = [
  {
    words: ['help'], usage: '', help: '', level: 'user',
    run(args, ctx) { msg(ctx, buildUsage(cliKeywords, args.slice(1), true)); },
  },
  {
    words: ['prompt'], usage: '', help: '', level: 'user',
    run(args, ctx) {
      const s = sc(ctx)?.session;
      if (!s) return;
      if (args.length === 1) { s.setMode(s.mode === 'p' ? 'n' : 'p'); return; }
      for (const a of args.slice(1)) {
        switch (a) {
          case 'help': msg(ctx, PROMPT_HELP); break;
          case 'n': case 'i': case 'p': s.setMode(a); break;
          case 'timed': s.setMode('p'); s.timed = !s.timed; break;
          default: err(ctx, `'prompt' only supports 'help', 'n', 'i', 'p' and 'timed' (got '${a}').`); return;
        }
      }
    },
  },
  {
    words: ['quit'], usage: '', help: '', level: 'user',
    run(_args, ctx) { sc(ctx)?.session.requestQuit(); },
  },
  {
    words: ['echo'], usage: 'echo <text>', help: 'print <text> back (to label the answers of a batch)', level: 'user',
    run(args, ctx) { msg(ctx, args.slice(1).join(' ')); },
  },
  {
    words: ['show', 'info'], usage: 'show info [desc|json|typed|float]*', help: 'report process-wide information and counters', level: 'user',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      let format: InfoFormat = 'plain';
      let desc = false;
      let float = false;
      for (const a of args.slice(2)) {
        if (a === 'typed') format = 'typed';
        else if (a === 'json') format = 'json';
        else if (a === 'desc') desc = true;
        else if (a === 'float') float = true;
      }
      ctx.out(renderInfo(collectInfo(rt, float), format, desc));
    },
  },
  {
    words: ['show', 'version'], usage: 'show version', help: 'print the version of this process', level: 'user',
    run(_args, ctx) { msg(ctx, processVersion()); },
  },
  {
    words: ['show', 'env'], usage: 'show env [var]', help: 'list the environment variables, or one of them', level: 'operator',
    run(args, ctx) {
      const name = args[2];
      if (name !== undefined && name !== '') {
        const v = process.env[name];
        if (v === undefined) { err(ctx, 'Variable not found'); return; }
        ctx.out(`${name}=${v}\n`);
        return;
      }
      let out = '';
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out += `${k}=${v}\n`;
      ctx.out(out);
    },
  },
  {
    words: ['show', 'servers', 'state'], usage: 'show servers state [<backend>]', help: 'dump the servers\' run-time state (all backends or one)', level: 'user',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      let backends = rt.proxies.filter((p) => p.isBackend);
      const name = args[3];
      if (name !== undefined && name !== '') {
        const be = rt.findProxy(name, 'backend');
        if (!be) { err(ctx, "Can't find backend."); return; }
        backends = [be];
      }
      ctx.out(renderServersStateChecks(backends));
    },
  },
  {
    words: ['get', 'weight'], usage: 'get weight <bk>/<srv>', help: 'print a server\'s current and initial weights', level: 'user',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[2], ctx);
      if (s) ctx.out(`${s.uweight} (initial ${s.iweight})\n`);
    },
  },
  {
    words: ['set', 'weight'], usage: 'set weight <bk>/<srv>  (DEPRECATED)', help: 'change a server\'s weight (prefer \'set server\')', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[2], ctx);
      if (!s) return;
      if (args[3] === undefined || args[3] === '') { err(ctx, 'Require <weight> or <weight%>.'); return; }
      applyWeight(s, args[3], ctx);
    },
  },
  {
    words: ['set', 'server'], usage: 'set server <bk>/<srv> [opts]', help: 'change a server\'s administrative state or weight', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[2], ctx);
      if (!s) return;
      const sub = args[3] ?? '';
      if (sub === 'state') {
        const st = args[4];
        if (st === 'ready' || st === 'drain' || st === 'maint') setServerAdmin(s, st);
        else err(ctx, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
      } else if (sub === 'weight') {
        if (args[4] === undefined || args[4] === '') { err(ctx, 'Require <weight> or <weight%>.'); return; }
        applyWeight(s, args[4], ctx);
      } else if (setServerCheck(s, sub, args, checkOut(ctx))) {
        // health, agent, check-port, check-addr, agent-port, agent-addr, agent-send
      } else if (setServerDynamic(s, sub, args, ctx)) {
        // addr [port], fqdn (src/ops/cli-dynsrv.ts)
      } else if (SET_SERVER_NOT_YET.has(sub)) {
        err(ctx, `'set server <srv> ${sub}' is not supported yet by haproxy-ts.`);
      } else {
        err(ctx, SET_SERVER_USAGE);
      }
    },
  },
  {
    words: ['enable', 'server'], usage: 'enable server <bk>/<srv>  (DEPRECATED)', help: 'take a server out of maintenance (prefer \'set server\')', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[2], ctx);
      if (s) setServerAdmin(s, 'ready');
    },
  },
  {
    words: ['disable', 'server'], usage: 'disable server <bk>/<srv>  (DEPRECATED)', help: 'put a server in maintenance (prefer \'set server\')', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[2], ctx);
      if (s) setServerAdmin(s, 'maint');
    },
  },
  {
    words: ['set', 'maxconn', 'frontend'], usage: 'set maxconn frontend <frontend> <value>', help: 'change a frontend\'s connection limit', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      if (args[3] === undefined || args[3] === '') { err(ctx, 'A frontend name is expected.'); return; }
      const fe = rt.findProxy(args[3], 'frontend');
      if (!fe) { err(ctx, 'No such frontend.'); return; }
      if (args[4] === undefined || args[4] === '') { err(ctx, 'Integer value expected.'); return; }
      const v = atoi(args[4]);
      if (v < 0) { err(ctx, 'Value out of range.'); return; }
      fe.maxconn = v;
      rt.wakeHeld();
    },
  },
  {
    words: ['set', 'maxconn', 'server'], usage: 'set maxconn server <bk>/<srv> <value>', help: 'change a server\'s connection limit', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      const s = lookupServer(rt, args[3], ctx);
      if (!s) return;
      if (args[4] === undefined || args[4] === '') { err(ctx, 'Require <maxconn>.'); return; }
      const r = parseServerMaxconn(args[4]);
      if (typeof r === 'string') { err(ctx, r); return; }
      s.maxconn = r;
      s.backend.dispatchQueues(s);
    },
  },
  {
    words: ['set', 'maxconn', 'global'], usage: 'set maxconn global <value>', help: 'change the process-wide connection limit', level: 'admin',
    run(args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      if (args[3] === undefined || args[3] === '') { err(ctx, 'Expects an integer value.'); return; }
      const hard = cliState(rt).hardMaxconn;
      let v = atoi(args[3]);
      if (v > hard) { err(ctx, 'Value out of range.'); return; }
      if (v <= 0) v = hard;
      rt.maxconn = v;
      rt.wakeHeld();
    },
  },
  {
    words: ['show', 'cli', 'level'], usage: 'show cli level', help: 'print the access level of this session', level: 'user',
    run(_args, ctx) { msg(ctx, ctx.level); },
  },
  {
    words: ['operator'], usage: 'operator', help: 'lower this session\'s level to operator', level: 'operator',
    run(_args, ctx) { ctx.level = 'operator'; dropModes(sc(ctx)?.session); },
  },
  {
    words: ['user'], usage: 'user', help: 'lower this session\'s level to user', level: 'user',
    run(_args, ctx) { ctx.level = 'user'; dropModes(sc(ctx)?.session); },
  },
  {
    words: ['show', 'cli', 'sockets'], usage: 'show cli sockets', help: 'list the stats sockets with their levels', level: 'user',
    run(_args, ctx) {
      const rt = needRuntime(ctx);
      if (!rt) return;
      let out = '# socket lvl processes\n';
      for (const l of cliState(rt).listeners) out += `${boundAddress(l)} ${l.cfg.level} all\n`;
      ctx.out(out);
    },
  },
  {
    words: ['set', 'severity-output'], usage: 'set severity-output [none|number|string]', help: 'prefix feedback messages with their severity', level: 'user',
    run(args, ctx) {
      const v = args[2];
      const s = sc(ctx)?.session;
      if (v === 'none' || v === 'number' || v === 'string') { if (s) s.severityOutput = v as SeverityOutput; return; }
      err(ctx, "one of 'none', 'number', 'string' is a required argument");
    },
  },
  {
    words: ['set', 'timeout'], usage: 'set timeout [cli] <delay>', help: 'change this session\'s idle timeout (seconds)', level: 'user',
    run(args, ctx) {
      if (args[2] !== 'cli') { err(ctx, "'set timeout' only supports 'cli'."); return; }
      if (args[3] === undefined || args[3] === '') { err(ctx, 'Expects an integer value.'); return; }
      const ms = parseTime(args[3], 's');
      if (typeof ms === 'string' || ms < 1000) { err(ctx, 'Invalid timeout value.'); return; }
      sc(ctx)?.session.setTimeoutMs(ms);
    },
  },
];

COMMANDS.push(...checkToggleKeywords((spec, ctx) => {
  const rt = needRuntime(ctx);
  return rt ? lookupServer(rt, spec, ctx) : undefined;
}, checkOut));

registerCli(...COMMANDS);

// show stat, show schema json, clear counters (src/ops/stats-cli.ts)
import './stats-cli.js';
// show sess, shutdown session(s), show servers conn (src/ops/cli-sessions.ts)
import './cli-sessions.js';
// show backend, disable/enable/shutdown frontend, set rate-limit (src/ops/cli-proxies.ts)
import './cli-proxies.js';
// show activity/pools/tasks/threads/startup-logs, expert/experimental modes, wait ... (src/ops/cli-misc.ts)
import './cli-misc.js';
