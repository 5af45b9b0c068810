// The admin form of the statistics page (POST, `stats admin`): the checked servers ('s'), the
// action ('action') and the backend ('b', "#<id>" or a name), url-encoded. The result is one of
// HAProxy's status codes, shown by the page after the 303 redirection:
// DONE (all servers changed), PART (some), NONE (no server given), ERRP (bad action, backend or
// server names), EXCD (request body larger than a buffer), DENY (not admin, decided by the caller).
// The actions go through the same functions as the runtime API's `set server` commands.
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import { setServerUp, setServerStopping, checksAllowUp } from '../checks/health.js';
import { toggleCheck } from '../checks/cli-checks.js';
import { setServerAdmin } from './cli-commands.js';

export type AdminStatus = 'DONE' | 'PART' | 'NONE' | 'ERRP' | 'EXCD' | 'DENY';

/** Largest form HAProxy accepts (one buffer, tune.bufsize). */
export const ADMIN_MAX_BODY = 16384;

const WHY = ', changed from Web interface';
const QUIET = { err: (): void => undefined, bare: (): void => undefined };

type Action = (s: Server) => boolean;

/** Each action; returns whether it applied to the server. */
const ACTIONS: Record<string, Action> = {
  ready: (s) => { setServerAdmin(s, 'ready'); return true; },
  drain: (s) => { setServerAdmin(s, 'drain'); return true; },
  maint: (s) => { setServerAdmin(s, 'maint'); return true; },
  // older names of the form
  enable: (s) => { setServerAdmin(s, 'ready'); return true; },
  disable: (s) => { setServerAdmin(s, 'maint'); return true; },
  dhlth: (s) => { if (!s.healthCheck) return false; toggleCheck(s, 'health', false, QUIET); return true; },
  ehlth: (s) => { if (!s.healthCheck) return false; toggleCheck(s, 'health', true, QUIET); return true; },
  dagent: (s) => { if (!s.agentCheck) return false; toggleCheck(s, 'agent', false, QUIET); return true; },
  eagent: (s) => { if (!s.agentCheck) return false; toggleCheck(s, 'agent', true, QUIET); return true; },
  hrunn: (s) => {
    if (s.tracked) return false;
    const hc = s.healthCheck;
    if (hc) hc.force(hc.opts.rise + hc.opts.fall - 1);
    s.forcedDown = false;
    if (s.stopping) { s.stopping = false; s.checkNolb = false; s.updateWeight(); if (s.up) { setServerUp(s, true, WHY); return true; } }
    if (!s.up && checksAllowUp(s)) setServerUp(s, true, WHY);
    return true;
  },
  hnolb: (s) => {
    if (s.tracked) return false;
    const hc = s.healthCheck;
    if (hc) hc.force(hc.opts.rise + hc.opts.fall - 1);
    s.forcedDown = false;
    setServerStopping(s, WHY);
    return true;
  },
  hdown: (s) => {
    if (s.tracked) return false;
    const hc = s.healthCheck;
    if (hc) hc.force(0); else s.forcedDown = true;
    if (s.up) setServerUp(s, false, WHY);
    return true;
  },
  arunn: (s) => { if (!s.agentCheck || s.tracked) return false; s.agentCheck.setHealth(true, WHY); return true; },
  adown: (s) => { if (!s.agentCheck || s.tracked) return false; s.agentCheck.setHealth(false, WHY); return true; },
  shutdown: (s) => { killSessions(s); return true; },
};

type Killable = { server?: Server; terminate(cause: 'K', phase: 'D', hard?: boolean): void };
let runtimeRef: Runtime | undefined;

/** Ends every stream using the server (`Kill Sessions`, logged with the 'K' termination cause). */
function killSessions(s: Server): void {
  const rt = runtimeRef;
  if (!rt) return;
  for (const st of [...rt.streams] as unknown as Killable[]) {
    if (st.server === s) {
      try { st.terminate('K', 'D', true); } catch { /* the stream may already be closing */ }
    }
  }
}

/** Parses "a=b&c=d" (application/x-www-form-urlencoded) into pairs, in order. */
export function parseForm(body: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of body.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    const v = i < 0 ? '' : part.slice(i + 1);
    out.push([dec(k), dec(v)]);
  }
  return out;
}
function dec(s: string): string {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

function findBackend(rt: Runtime, ref: string): Proxy | undefined {
  if (ref.startsWith('#')) {
    const id = Number(ref.slice(1));
    return rt.proxies.find((p) => p.isBackend && p.id === id);
  }
  const found = rt.proxies.filter((p) => p.isBackend && p.name === ref);
  return found.length === 1 ? found[0] : undefined;
}

/** Applies the admin form; the status code the page then shows. */
export function processAdminPost(rt: Runtime, body: Buffer): AdminStatus {
  if (body.length > ADMIN_MAX_BODY) return 'EXCD';
  const pairs = parseForm(body.toString('latin1'));
  // the backend and the action come after the servers in the form: read them first
  let backend: string | undefined;
  let action: string | undefined;
  const names: string[] = [];
  for (const [k, v] of pairs) {
    if (k === 'b') backend = v;
    else if (k === 'action') action = v;
    else if (k === 's') names.push(v);
  }
  const be = backend !== undefined ? findBackend(rt, backend) : undefined;
  const act = action !== undefined ? ACTIONS[action] : undefined;
  if (!be || !act) return 'ERRP';
  if (!names.length) return 'NONE';
  runtimeRef = rt;
  let altered = 0;
  for (const n of names) {
    const s = be.servers.find((x) => x.name === n);
    if (!s) continue;
    try { if (act(s)) altered++; } catch { /* one server failing does not stop the others */ }
  }
  if (altered === 0) return 'ERRP';
  return altered === names.length ? 'DONE' : 'PART';
}
