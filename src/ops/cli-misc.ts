// Runtime API diagnostics and session modes (management.txt 9.3): `show activity`, `show pools`,
// `show tasks`, `show threads`, `show startup-logs`, `expert-mode`, `experimental-mode`,
// `debug dev` (expert only), `wait`, and the answers for features haproxy-ts does not build
// (`show table`, `show peers`, `show cache`: no such object can exist).
//
// haproxy-ts runs one event loop: the thread dumps show a single thread. HAProxy's memory pools
// do not exist in Node.js; `show pools` reports V8's heap spaces (and the memory held outside
// the heap) in the pool line layout, each byte counted as one item of one byte.
import v8 from 'node:v8';
import { registerCli, type CliKeyword } from '../registry/registry.js';
import { startupLogText } from '../cli/messages.js';
import { parseTime } from '../util/units.js';
import { cliState } from './cli-state.js';
import { ctxErr, ctxMsg, ctxRuntime, modesOf, sessionCtx } from './cli-util.js';
import { lookupServer } from './cli-commands.js';

// ---- show activity ---------------------------------------------------------------------------

/** "<seconds>.<microseconds>" as HAProxy prints date_now. */
export function dateNow(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return `${sec}.${String(Math.round((ms - sec * 1000) * 1000)).padStart(6, '0')}`;
}

/** `show activity`: the thread header, then the counters haproxy-ts keeps, one per line. */
export function renderActivity(now: number, counters: ReadonlyArray<[string, number]>): string {
  let out = `thread_id: 1 (1..1)\ndate_now: ${dateNow(now)}\n`;
  for (const [k, v] of counters) out += `${k}: ${v}\n`;
  return out;
}

// ---- show pools ------------------------------------------------------------------------------

export interface PoolRow { name: string; allocated: number; used: number }

/** The memory areas reported as pools: V8's heap spaces, then external and array-buffer memory. */
export function memoryPools(): PoolRow[] {
  const rows: PoolRow[] = v8.getHeapSpaceStatistics().map((s) => ({
    name: s.space_name, allocated: s.space_size, used: s.space_used_size,
  }));
  const m = process.memoryUsage();
  rows.push({ name: 'external', allocated: m.external, used: m.external });
  rows.push({ name: 'array_buffers', allocated: m.arrayBuffers, used: m.arrayBuffers });
  return rows;
}

export interface PoolsQuery { sort?: 'byname' | 'bysize' | 'byusage'; detailed: boolean; match?: string; max?: number }

export function parsePoolsArgs(words: string[]): PoolsQuery | string {
  const q: PoolsQuery = { detailed: false };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'byname' || w === 'bysize' || w === 'byusage') q.sort = w;
    else if (w === 'detailed') q.detailed = true;
    else if (w === 'match') {
      const p = words[i + 1];
      if (p === undefined || p === '') return "'match' needs a pool name prefix.";
      q.match = p;
      i++;
    } else if (/^\d+$/.test(w)) q.max = Number(w);
    else return 'show pools [byname|bysize|byusage] [detailed] [match <pfx>] [<nb>]';
  }
  return q;
}

/** `show pools` in HAProxy's layout. */
export function renderPools(rows: readonly PoolRow[], q: PoolsQuery): string {
  let list = rows.filter((r) => q.match === undefined || r.name.startsWith(q.match));
  if (q.sort === 'byname') list = [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  else if (q.sort === 'bysize') list = [...list].sort((a, b) => b.allocated - a.allocated);
  else if (q.sort === 'byusage') list = list.filter((r) => r.used > 0).sort((a, b) => b.used - a.used);
  if (q.max !== undefined && q.max > 0) list = list.slice(0, q.max);
  let out = 'Dumping pools usage. Use SIGQUIT to flush them.\n';
  let alloc = 0;
  let used = 0;
  for (const r of list) {
    alloc += r.allocated;
    used += r.used;
    out += `  - Pool ${r.name} (1 bytes) : ${r.allocated} allocated (${r.allocated} bytes), ${r.used} used (~0 by thread caches), needed_avg 0, 0 failures, 1 users, @0x0 [SHARED]\n`;
  }
  out += `Total: ${list.length} pools, ${alloc} bytes allocated, ${used} used (~0 by thread caches).\n`;
  return out;
}

// ---- show tasks / show threads ---------------------------------------------------------------

export function renderTasks(): string {
  return 'Running tasks: 0 (1 threads)\n  function                     places     %    lat_tot   lat_avg\n';
}

/** One thread, the one answering (hence the '*'); CPU time from the process's usage. */
export function renderThreads(cpuNs: number): string {
  return '* Thread 1 : id=0x0 act=1 glob=0 wq=0 rq=0 tl=0 tlsz=0 rqsz=0\n' +
    '      1/1    stuck=0 prof=0 harmless=0 wantrdv=0\n' +
    `             cpu_ns: poll=0 now=${cpuNs} diff=0\n` +
    '             curr_task=0\n\n';
}

// ---- wait ------------------------------------------------------------------------------------

export const WAIT_USAGE = [
  'Usage: wait {-h|<duration>} [condition [args...]]',
  '  - \'-h\' shows this help',
  '  - <duration>: the longest wait, in milliseconds unless a unit follows',
  '    (us, ms, s, m, h, d)',
  '  - <condition>: what to wait for, at most <duration>:',
  '    - none: just wait for <duration>',
  '    - srv-removable <px>/<srv>: until this server is in maintenance and has no',
  '      connection left (the condition \'del server\' needs)',
].join('\n');

const WAIT_POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => { setTimeout(r, ms).unref?.(); });

// ---- commands --------------------------------------------------------------------------------

export const MISC_COMMANDS: CliKeyword[] = [
  {
    words: ['show', 'activity'], usage: 'show activity [-1|0|thread_num]', help: 'show the event loop\'s activity counters (for support/developers)', level: 'user',
    run(_args, ctx) {
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      ctx.out(renderActivity(Date.now(), [['accepted', rt.cumConns + cliState(rt).cumSessions]]));
    },
  },
  {
    words: ['show', 'pools'], usage: 'show pools [byname|bysize|byusage] [detailed] [match <pfx>] [<nb>]', help: 'report memory usage (V8 heap spaces in the pools layout)', level: 'user',
    run(args, ctx) {
      const q = parsePoolsArgs(args.slice(2));
      if (typeof q === 'string') { ctxErr(ctx, q); return; }
      ctx.out(renderPools(memoryPools(), q));
    },
  },
  {
    words: ['show', 'tasks'], usage: 'show tasks', help: 'show the tasks waiting to run', level: 'user',
    run(_args, ctx) { ctx.out(renderTasks()); },
  },
  {
    words: ['show', 'threads'], usage: 'show threads', help: 'show the state of each thread (one event loop here)', level: 'user',
    run(_args, ctx) {
      const u = process.cpuUsage();
      ctx.out(renderThreads((u.user + u.system) * 1000));
    },
  },
  {
    words: ['show', 'startup-logs'], usage: 'show startup-logs', help: 'report the messages emitted while the process started', level: 'operator',
    run(_args, ctx) { ctx.out(startupLogText()); },
  },
  {
    words: ['expert-mode'], usage: '', help: '', level: 'admin',
    run(args, ctx) {
      const m = modesOf(ctx);
      if (args.length < 2 || args[1] === '') { ctxMsg(ctx, `expert-mode is ${m.expert ? 'ON' : 'OFF'}`); return; }
      m.expert = args[1] === 'on';
    },
  },
  {
    words: ['experimental-mode'], usage: '', help: '', level: 'admin',
    run(args, ctx) {
      const m = modesOf(ctx);
      if (args.length < 2 || args[1] === '') { ctxMsg(ctx, `experimental-mode is ${m.experimental ? 'ON' : 'OFF'}`); return; }
      m.experimental = args[1] === 'on';
    },
  },
  {
    words: ['debug', 'dev'], usage: '', help: '', level: 'admin',
    run(_args, ctx) {
      if (!modesOf(ctx).expert) { ctxErr(ctx, 'This command is restricted to expert mode only.'); return; }
      ctxErr(ctx, "'debug dev' is not supported yet by haproxy-ts.");
    },
  },
  {
    words: ['wait'], usage: 'wait {-h|<delay_ms>} [cond [args...]]', help: 'wait for a delay or until a condition is met (-h for details)', level: 'user',
    async run(args, ctx) {
      const d = args[1];
      if (d === undefined || d === '' || d === '-h' || args[2] === '-h') { ctxMsg(ctx, WAIT_USAGE); return; }
      const ms = parseTime(d, 'ms');
      if (typeof ms === 'string') { ctxErr(ctx, `Invalid duration '${d}': ${ms}`); return; }
      const cond = args[2];
      const session = sessionCtx(ctx)?.session;
      if (cond === undefined || cond === '') {
        // in slices, so that a closed connection does not keep the command running
        for (const until = Date.now() + ms; !session?.isClosed;) {
          const left = until - Date.now();
          if (left <= 0) return;
          await sleep(Math.min(1000, left));
        }
        return;
      }
      if (cond !== 'srv-removable') { ctxErr(ctx, `Unsupported condition '${cond}' (try 'wait -h').`); return; }
      const rt = ctxRuntime(ctx);
      if (!rt) return;
      const spec = args[3];
      if (!lookupServer(rt, spec, ctx)) return;
      const until = Date.now() + ms;
      for (;;) {
        // the server may be deleted meanwhile: look it up again each time
        const slash = spec!.indexOf('/');
        const s = rt.findProxy(spec!.slice(0, slash), 'backend')?.findServer(spec!.slice(slash + 1));
        if (!s) { ctxErr(ctx, 'No such server.'); return; }
        if (s.admin !== 'maint') { ctxErr(ctx, 'Server is not in maintenance: it cannot become removable.'); return; }
        if (s.cur === 0 && s.queue.length === 0) return;
        const left = until - Date.now();
        if (left <= 0) { ctxErr(ctx, 'Timed out: the server still has connections.'); return; }
        if (session?.isClosed) return;
        await sleep(Math.min(WAIT_POLL_MS, left));
      }
    },
  },
  {
    words: ['show', 'table'], usage: 'show table <table> [<filter>]*', help: 'report table usage or dump a table (no stick-table in haproxy-ts)', level: 'user',
    run(args, ctx) { if (args[2] !== undefined && args[2] !== '') ctxErr(ctx, 'No such table'); },
  },
  {
    words: ['show', 'peers'], usage: 'show peers [dict|-] [section]', help: 'dump the peers sections (none in haproxy-ts)', level: 'user',
    run(args, ctx) {
      const name = args[2] === 'dict' || args[2] === '-' ? args[3] : args[2];
      if (name !== undefined && name !== '') ctxErr(ctx, 'No such peers');
    },
  },
  {
    words: ['show', 'cache'], usage: 'show cache', help: 'show the caches and their objects (none in haproxy-ts)', level: 'admin',
    run() { /* no cache section can be configured */ },
  },
];

registerCli(...MISC_COMMANDS);
