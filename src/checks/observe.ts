// Passive health checks (configuration.txt 5.2 `observe layer4|layer7`, `error-limit`,
// `on-error fastinter|fail-check|sudden-death|mark-down`) and what happens to a server's streams
// when its state changes (`on-marked-down shutdown-sessions`, `on-marked-up
// shutdown-backup-sessions`). The streams report each connection attempt (layer 4) and each
// response (layer 7) through reportServerResult().
import { registerServer, type ParseCtx } from '../registry/registry.js';
import type { ServerOptions } from '../config/model.js';
import type { Server } from '../proxy/server.js';
import { parseUint } from '../util/units.js';
import { serverEvents, setServerUp, type ServerChangeEvent } from './health.js';

export interface ObserveOptions {
  observe?: 'layer4' | 'layer7';
  errorLimit: number;
  onError: 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down';
  onMarkedDown?: 'shutdown-sessions';
  onMarkedUp?: 'shutdown-backup-sessions';
}

declare module '../config/model.js' {
  interface ServerOptions {
    /** passive checks and state-change actions (src/checks/observe.ts) */
    observe?: ObserveOptions;
  }
}

declare module '../proxy/server.js' {
  interface Server {
    /** consecutive errors observed (observe) */
    observedErrors?: number;
  }
}

function opts(s: ServerOptions): ObserveOptions {
  if (!s.observe) s.observe = { errorLimit: 10, onError: 'fail-check' };
  return s.observe;
}

function choice<T extends string>(kw: string, v: string | undefined, allowed: readonly T[], ctx: ParseCtx): T | undefined {
  if (!v || !allowed.includes(v as T)) { ctx.alert(`'${kw}' expects one of ${allowed.map((a) => `'${a}'`).join(', ')} (got '${v ?? ''}').`); return undefined; }
  return v as T;
}

registerServer(
  {
    name: 'observe', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const v = choice('observe', a[1], ['layer4', 'layer7'] as const, ctx); if (v) opts(s).observe = v; },
  },
  {
    name: 'error-limit', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const n = parseUint(a[1]);
      if (n === undefined || n < 1) { ctx.alert(`'error-limit' expects an integer argument > 0 (got '${a[1] ?? ''}').`); return; }
      opts(s).errorLimit = n;
    },
  },
  {
    name: 'on-error', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const v = choice('on-error', a[1], ['fastinter', 'fail-check', 'sudden-death', 'mark-down'] as const, ctx); if (v) opts(s).onError = v; },
  },
  {
    name: 'on-marked-down', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const v = choice('on-marked-down', a[1], ['shutdown-sessions'] as const, ctx); if (v) opts(s).onMarkedDown = v; },
  },
  {
    name: 'on-marked-up', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const v = choice('on-marked-up', a[1], ['shutdown-backup-sessions'] as const, ctx); if (v) opts(s).onMarkedUp = v; },
  },
);

/**
 * A stream's view of one exchange with a server: `ok` false for a failed connection (layer 4) or
 * a bad response (layer 7: unparsable, timeout, or a status outside 100-499, 501, 505).
 */
export function reportServerResult(s: Server, layer: 'layer4' | 'layer7', ok: boolean, what?: string): void {
  const o = s.cfg.observe;
  if (!o?.observe) return;
  // layer7 observation also counts connection failures; layer4 only looks at connections
  if (o.observe === 'layer4' && layer !== 'layer4') return;
  const hc = s.healthCheck;
  if (!hc) return; // observing needs health checks enabled
  // a successful connection says nothing about the responses: in layer7 mode only a good
  // response resets the count of consecutive errors
  if (ok) { if (layer === 'layer7' || o.observe === 'layer4') s.observedErrors = 0; return; }
  s.observedErrors = (s.observedErrors ?? 0) + 1;
  if (s.observedErrors < o.errorLimit) return;
  s.observedErrors = 0;
  const rise = hc.opts.rise;
  // HAProxy's words for the last error seen
  const last = what ?? (layer === 'layer4' ? 'L4 unsuccessful connection' : 'Wrong http response');
  const why = `, reason: Health analyze, info: "Detected ${o.errorLimit} consecutive errors, last one was: ${last}"`;
  switch (o.onError) {
    case 'fastinter':
      break;
    case 'fail-check':
      // one failed check, as if a check had failed
      if (hc.health > rise) hc.health--;
      else { hc.health = 0; if (s.up) setServerUp(s, false, why); }
      break;
    case 'sudden-death':
      // one step before down: the next failed check marks it down
      if (hc.health > rise) hc.health = rise;
      else { hc.health = 0; if (s.up) setServerUp(s, false, why); }
      break;
    case 'mark-down':
      hc.health = 0;
      if (s.up) setServerUp(s, false, why);
      break;
  }
  hc.forceFastinter();
}

/** Whether an HTTP status counts as valid for `observe layer7`. */
export function validObservedStatus(status: number): boolean {
  return (status >= 100 && status <= 499) || status === 501 || status === 505;
}

/** Streams of the process, given by the Runtime (for the shutdown actions). */
export const sessionSource: { each?: (f: (st: { server: Server | undefined; terminate(cause: 'D' | 'U', phase: 'D', hard?: boolean): void }) => void) => void } = {};

serverEvents.on('change', (ev: ServerChangeEvent) => {
  const s = ev.server;
  const o = s.cfg.observe;
  if (!o || !sessionSource.each) return;
  if (!ev.up && o.onMarkedDown === 'shutdown-sessions') {
    sessionSource.each((st) => { if (st.server === s) st.terminate('D', 'D', true); });
  }
  if (ev.up && o.onMarkedUp === 'shutdown-backup-sessions' && !s.backup && s.eweight > 0) {
    sessionSource.each((st) => { if (st.server && st.server.backup && st.server.backend === s.backend) st.terminate('U', 'D', true); });
  }
});
