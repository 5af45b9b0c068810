// Per-process state of the runtime API that the Runtime itself does not keep: the stats socket
// listeners and sessions, the hard connection limit, a few global counters, and which ids
// were forced in the configuration (for `show servers state`).
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../proxy/runtime.js';
import type { ProxyConfig, StatsSocketConfig, Where } from '../config/model.js';
import type { Server } from '../proxy/server.js';

export type SeverityOutput = 'none' | 'number' | 'string';

/** A `stats socket` line: the model's fields plus what only the CLI uses. */
export interface CliSocketConfig extends StatsSocketConfig {
  severityOutput?: SeverityOutput;
}

/** A bound stats socket. */
export interface CliListener {
  cfg: CliSocketConfig;
  server: net.Server;
  /** sessions open on this socket */
  cur: number;
  /** connections waiting (unread) for a free slot */
  held: net.Socket[];
  /** unix socket file we created (removed at stop if still ours) */
  unixPath?: string;
  unixIno?: number;
}

/** What a live session exposes to the bookkeeping. */
export interface CliSessionHandle { destroy(): void }

export interface CliState {
  listeners: CliListener[];
  sessions: Set<CliSessionHandle>;
  /** sessions accepted since start */
  cumSessions: number;
  /** bytes written on CLI connections */
  bytesOut: number;
  /** the process-wide connection limit at start-up: `set maxconn global` cannot exceed it */
  hardMaxconn: number;
  /** milliseconds from process start to the end of start-up */
  bootMs: number;
  maxConnRate: number;
  /** set once the stats sockets are being closed */
  stopped: boolean;
}

const states = new WeakMap<Runtime, CliState>();

export function cliState(rt: Runtime): CliState {
  let st = states.get(rt);
  if (!st) {
    st = {
      listeners: [], sessions: new Set(), cumSessions: 0, bytesOut: 0,
      hardMaxconn: rt.maxconn,
      bootMs: Math.max(0, Math.round(rt.startedAt - performance.timeOrigin)),
      maxConnRate: 0,
      stopped: false,
    };
    states.set(rt, st);
  }
  return st;
}

let current: Runtime | undefined;
/** The runtime whose stats sockets were started last (for commands registered elsewhere). */
export function cliRuntime(): Runtime | undefined { return current; }
export function setCliRuntime(rt: Runtime): void { current = rt; }

// ---- servers brought down by the CLI ------------------------------------------------------

const wentDown = new WeakSet<Server>();
/** Records that a server was put in maintenance: without health checks HAProxy then reports a
 *  zero check health for it until the process restarts. */
export function markWentDown(s: Server): void { wentDown.add(s); }
export function hasGoneDown(s: Server): boolean { return wentDown.has(s); }

// ---- ids forced by the configuration ------------------------------------------------------

export function serverIdForced(s: Server): boolean { return s.cfg.idForced === true; }
export function proxyIdForced(p: ProxyConfig): boolean { return p.idForced === true; }
