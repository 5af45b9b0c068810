// Server state files (configuration.txt: server-state-file, server-state-base,
// load-server-state-from-file, server-state-file-name; management.txt 9.3 `show servers state`):
// at start-up, before traffic and before the first health check, the servers' states saved by
// `show servers state` (format version 1) are applied to the servers of the same backend and
// name: operational state (down / up / soft-stopping), maintenance and drain, user weight, time
// of the last change and service port, with the rules and messages of HAProxy (2.6 output).
//
// Not applied: the check status/result (our checks keep their own), "disable health/agent"
// (no such command yet), srv_addr (init-addr last), fqdn and SRV records (no resolvers), ssl.
import fs from 'node:fs';
import { registerGlobal, registerProxy, BE, type ParseCtx } from '../registry/registry.js';
import type { ProxyConfig } from '../config/model.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import { logWarning, logNotice, logAlert } from '../cli/messages.js';

declare module '../config/model.js' {
  interface GlobalConfig {
    /** `server-state-file` (src/checks/state-file.ts) */
    serverStateFile?: string;
    /** `server-state-base` (src/checks/state-file.ts) */
    serverStateBase?: string;
  }
  interface ProxyOptions {
    /** `load-server-state-from-file` (default none) */
    loadServerState?: 'global' | 'local' | 'none';
    /** `server-state-file-name`; undefined = the backend's name */
    serverStateFileName?: string;
  }
}

// ---- configuration ------------------------------------------------------------------------

registerGlobal(
  {
    name: 'server-state-file',
    parse(args, g, ctx) {
      if (g.serverStateFile !== undefined) { ctx.alert(`'${args[0]}' already specified. Continuing.`); return; }
      if (!args[1]) { ctx.alert(`'${args[0]}' expect one argument: a file path.`); return; }
      g.serverStateFile = args[1];
    },
  },
  {
    name: 'server-state-base',
    parse(args, g, ctx) {
      if (g.serverStateBase !== undefined) { ctx.alert(`'${args[0]}' already specified. Continuing.`); return; }
      if (!args[1]) { ctx.alert(`'${args[0]}' expects one argument: a directory path.`); return; }
      g.serverStateBase = args[1];
    },
  },
);

function backendCapable(kw: string, px: ProxyConfig, ctx: ParseCtx): boolean {
  if (px.kind === 'frontend') { ctx.warn(`'${kw}' ignored because frontend '${px.name}' has no backend capability.`); return false; }
  return true;
}

registerProxy(
  {
    name: 'load-server-state-from-file',
    caps: BE,
    parse(args, px, ctx) {
      if (!backendCapable(args[0]!, px, ctx)) return;
      const v = args[1] ?? '';
      if (v !== 'global' && v !== 'local' && v !== 'none') {
        ctx.alert(`'${args[0]}' expects 'global', 'local' or 'none'. Got '${v}'`);
        return;
      }
      px.options = { ...px.options, loadServerState: v };
    },
  },
  {
    // HAProxy 2.6 accepts it in defaults sections too (it is inherited); so do we
    name: 'server-state-file-name',
    caps: BE,
    parse(args, px, ctx) {
      if (!backendCapable(args[0]!, px, ctx)) return;
      if (args.length > 2) { ctx.alert(`'${args[0]}' cannot handle unexpected argument '${args[2]}'.`); return; }
      const v = args[1];
      px.options = { ...px.options, serverStateFileName: v === undefined || v === 'use-backend-name' ? undefined : v };
    },
  },
);

// ---- the file ----------------------------------------------------------------------------

const MIN_FIELDS = 20;
const MAX_FIELDS = 25;

/** One parsed data line: the fields after be_id be_name srv_id srv_name come in `params`. */
export interface StateLine { beId: string; beName: string; srvId: string; srvName: string; params: string[]; forcedBeId: boolean }

/** File path: absolute, or relative to server-state-base when set. */
export function stateFilePath(name: string, base: string | undefined): string {
  if (name.startsWith('/') || !base) return name;
  return base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}

/**
 * Splits a file into its version and raw lines (each with its end of line, as fgets gives them).
 * version: -1 empty file, 0 bad version line, else the version.
 */
export function splitStateFile(text: string): { version: number; lines: string[] } {
  if (text === '') return { version: -1, lines: [] };
  const parts = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const first = parts[0] ?? '';
  const m = /^[ \t]*([+-]?\d+)\n$/.exec(first);
  // strtol stops at the first non-digit, which must be the end of the line
  const v = m ? Number(m[1]) : 0;
  return { version: v === 1 ? 1 : 0, lines: parts.slice(1) };
}

/** Parses one line: 1 = data (fields filled), 0 = blank or comment, -1 = corrupted. */
export function parseStateLine(raw: string, fields: string[]): 1 | 0 | -1 {
  if (raw === '' || !raw.endsWith('\n')) return -1;
  const body = raw.slice(0, -1);
  const trimmed = body.replace(/^[ \t]+/, '');
  if (trimmed === '' || trimmed.startsWith('#')) return 0;
  fields.length = 0;
  for (const f of trimmed.split(/[ \t]+/)) {
    if (f === '') continue;
    if (fields.length >= MAX_FIELDS) break;
    fields.push(f);
  }
  if (fields.length < MIN_FIELDS || fields.length > MAX_FIELDS) return -1;
  return 1;
}

/** strtol-like parse: a number when the text starts with digits (after an optional sign). */
function strtol(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^[ \t]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** Reads a file into a map "be_name srv_name" → line; returns undefined when unusable (messages printed). */
function loadLines(file: string, px: Proxy | undefined, msgs: Messages): Map<string, StateLine> | undefined {
  const who = px ? `Proxy '${px.name}': ` : 'config: ';
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = errnoText(err);
    const msg = px ? `${who}Can't open server state file '${file}': ${why}.` : `${who}Can't open global server state file '${file}': ${why}`;
    if (err.code === 'ENOENT') msgs.notice(msg); else msgs.warn(msg);
    return undefined;
  }
  const { version, lines } = splitStateFile(text);
  if (version === -1) { msgs.notice(px ? `${who}Empty server state file '${file}'.` : `${who}Empty global server state file '${file}'.`); return undefined; }
  if (version === 0) { msgs.warn(px ? `${who}Can't get version of the server state file '${file}'.` : `${who}Can't get version of the global server state file '${file}'.`); return undefined; }
  const out = new Map<string, StateLine>();
  let corrupted = false;
  lines.forEach((raw, i) => {
    if (corrupted) return;
    const f: string[] = [];
    const r = parseStateLine(raw, f);
    if (r === -1) {
      // HAProxy counts lines from the one after the version line
      msgs.warn(px ? `${who}corrupted server state file '${file}' at line ${i + 1}.` : `${who}corrupted global server state file '${file}' at line ${i + 1}.`);
      corrupted = true;
      return;
    }
    if (r === 0) return;
    const line: StateLine = { beId: f[0]!, beName: f[1]!, srvId: f[2]!, srvName: f[3]!, params: f.slice(4), forcedBeId: ((strtol(f[15]) ?? 0) & 1) === 1 };
    if (px) {
      const idOk = (strtol(line.beId) ?? 0) === px.id;
      const nameOk = line.beName === px.name;
      if (!idOk && !nameOk) return;
      if (!idOk) msgs.warn(`Proxy '${px.name}': backend ID mismatch: from server state file: '${line.beId}', from running config '${px.id}'`);
      else if (!nameOk) {
        msgs.warn(`Proxy '${px.name}': backend name mismatch: from server state file: '${line.beName}', from running config '${px.name}'`);
        if (!line.forcedBeId) return;
      }
    }
    const key = `${px ? px.name : line.beName} ${line.srvName}`;
    if (!out.has(key)) out.set(key, line); // a duplicate (hand-made file) is dropped
  });
  return corrupted ? undefined : out;
}

function errnoText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EACCES': return 'Permission denied';
    case 'EISDIR': return 'Is a directory';
    case 'ENOTDIR': return 'Not a directory';
    default: return e.message;
  }
}

export interface Messages { warn(m: string): void; notice(m: string): void; alert(m: string): void }

const defaultMessages: Messages = {
  warn: (m) => logWarning(`config : ${m}`),
  notice: (m) => logNotice(`config : ${m}`),
  alert: (m) => logAlert(`config : ${m}`),
};

// ---- applying a line ------------------------------------------------------------------------

const SRV_ST = { STOPPED: 0, STARTING: 1, RUNNING: 2, STOPPING: 3 };
const ADMF = { FMAINT: 0x01, IMAINT: 0x02, CMAINT: 0x04, FDRAIN: 0x08, IDRAIN: 0x10, RMAINT: 0x20, FQDN_CHANGED: 0x40 };
const CHK_ALL = 0x01 | 0x02 | 0x04 | 0x08 | 0x10;
const MAX_WEIGHT = 256;
/** HAProxy's number of check statuses (srv_check_status must be below it). */
const HCHK_STATUS_SIZE = 24;

function checkParams(s: Server): { rise: number; fall: number } {
  const o = s.healthCheck?.opts ?? s.cfg.check;
  return { rise: o?.rise ?? 2, fall: o?.fall ?? 3 };
}

function setHealth(s: Server, h: number): void {
  if (s.healthCheck) s.healthCheck.health = h;
}

/** "N active and M backup servers left[. Running on backup]" for a DOWN message. */
function downMessage(be: Proxy, s: Server): string {
  const act = be.servers.filter((x) => !x.backup && x.up && x.admin !== 'maint').length;
  const bck = be.servers.filter((x) => x.backup && x.up && x.admin !== 'maint').length;
  const what = `${s.backup ? 'Backup ' : ''}Server ${be.name}/${s.name}`;
  return `${what} is DOWN, changed from server-state after a reload. ${act} active and ${bck} backup servers left.${act === 0 && bck > 0 ? ' Running on backup.' : ''} ${s.cur} sessions active, 0 requeued, ${s.queue.length} remaining in queue.`;
}

/** Applies one saved line to a server (HAProxy's rules); messages through `msgs`. */
export function applyStateLine(be: Proxy, s: Server, params: readonly string[], msgs: Messages = defaultMessages): void {
  const errs: string[] = [];
  const num = (i: number, name: string, ok: (n: number) => boolean): number => {
    const n = strtol(params[i]);
    if (n === undefined || !ok(n)) { errs.push(`, invalid ${name} value '${params[i] ?? ''}'`); return 0; }
    return n;
  };
  const opState = num(1, 'srv_op_state', (n) => n >= 0 && n <= 3);
  let admin = strtol(params[2]);
  if (admin !== undefined) admin &= ~(ADMF.IDRAIN | ADMF.IMAINT | ADMF.RMAINT | ADMF.FQDN_CHANGED);
  if (admin === undefined || ![0, ADMF.FMAINT, ADMF.CMAINT, ADMF.CMAINT | ADMF.FMAINT, ADMF.CMAINT | ADMF.FDRAIN, ADMF.FDRAIN].includes(admin)) {
    errs.push(`, invalid srv_admin_state value '${params[2] ?? ''}'`);
    admin = 0;
  }
  const uweight = num(3, 'srv_uweight', (n) => n >= 0 && n <= MAX_WEIGHT);
  const iweight = num(4, 'srv_iweight', (n) => n >= 0 && n <= MAX_WEIGHT);
  const since = num(5, 'srv_last_time_change', () => true);
  num(6, 'srv_check_status', (n) => n < HCHK_STATUS_SIZE);
  num(7, 'srv_check_result', (n) => n >= 0 && n <= 4);
  const health = num(8, 'srv_check_health', () => true);
  num(9, 'srv_check_state', (n) => (n & ~CHK_ALL) === 0);
  num(10, 'srv_agent_state', (n) => (n & ~CHK_ALL) === 0);
  num(11, 'bk_f_forced_id', (n) => n === 0 || n === 1);
  num(12, 'srv_f_forced_id', (n) => n === 0 || n === 1);
  const fqdn = params[13];
  if (fqdn !== undefined && fqdn[0] !== '-' && (fqdn.length > 255 || !/^[A-Za-z0-9._-]*$/.test(fqdn))) errs.push(`, invalid srv_fqdn value '${fqdn}'`);
  let port: number | undefined;
  if (params[14] !== undefined) {
    // strl2uic: the leading digits (0 when none)
    port = Number(/^\d*/.exec(params[14])![0] || '0');
    if (port > 65535) { errs.push(`, invalid srv_port value '${params[14]}'`); port = undefined; }
  }
  if (errs.length) {
    msgs.warn(`server-state application failed for server '${be.name}/${s.name}'${errs.join('')}`);
    return;
  }

  // operational state, with the health counter that goes with it
  const { rise, fall } = checkParams(s);
  const max = rise + fall - 1;
  const stop = (): void => {
    setHealth(s, 0);
    if (!s.up) return;
    s.setOperational(false);
    if (s.admin !== 'maint') msgs.warn(downMessage(be, s));
  };
  const run = (): void => { setHealth(s, max); s.setOperational(true); };
  switch (opState) {
    case SRV_ST.STOPPED: stop(); break;
    case SRV_ST.STARTING:
      if (rise === 1) { run(); break; }
      setHealth(s, health < 1 || health >= rise ? rise - 1 : health);
      break;
    case SRV_ST.STOPPING:
      if (fall === 1) { stop(); break; }
      setHealth(s, health < rise || health > rise + fall - 2 ? rise : health);
      s.setOperational(true);
      if (!s.checkNolb) { s.checkNolb = true; s.updateWeight(); }
      break;
    case SRV_ST.RUNNING: run(); break;
  }

  // administrative state: a change in the configuration wins, else the saved state is applied
  const cfgMaint = s.cfg.disabled === true;
  if (((admin & ADMF.CMAINT) !== 0) !== cfgMaint) {
    s.setAdmin(cfgMaint ? 'maint' : 'ready');
  } else if ((admin & ADMF.FMAINT) && !cfgMaint) {
    s.setAdmin('maint');
  } else if (!(admin & ADMF.FMAINT) && cfgMaint) {
    s.setAdmin('ready');
  }
  // drain only for a server not in maintenance; a drain that came from a zero weight in the
  // previous configuration is dropped when the new configuration's weight is not zero
  if (s.admin !== 'maint' && (admin & ADMF.FDRAIN) && (iweight > 0 || s.iweight === 0)) {
    s.setAdmin('drain');
    msgs.warn(`${s.backup ? 'Backup ' : ''}Server ${be.name}/${s.name} remains in forced drain mode.`);
  }

  // HAProxy brings a server without health checks back up when it leaves maintenance; here the
  // operational state of such a server is left up while it is in maintenance, so that the
  // runtime API's "enable server" makes it serve again as in HAProxy
  if (!s.healthCheck && s.admin === 'maint' && !s.up) s.setOperational(true);

  // the saved weight only when the configured weight did not change
  if (iweight === s.iweight) s.setWeight(uweight);
  s.lastChange = Date.now() - since * 1000;
  if (port !== undefined && !s.isUnix) s.port = port;
}

// ---- start-up ---------------------------------------------------------------------------

/**
 * Applies the server state files to the runtime's backends: call it once, after the Runtime has
 * built its proxies (and created the health checks, whose first run is on a timer) and before
 * the listeners accept traffic.
 */
export function applyServerStateFile(rt: Runtime, msgs: Messages = defaultMessages): void {
  const g = rt.config.global;
  let global: Map<string, StateLine> | undefined;
  if (g.serverStateFile !== undefined) global = loadLines(stateFilePath(g.serverStateFile, g.serverStateBase), undefined, msgs);
  for (const px of rt.proxies) {
    if (!px.isBackend || px.stopped || px.servers.length === 0) continue;
    const mode = px.cfg.options.loadServerState ?? 'none';
    if (mode === 'none') continue;
    if (mode === 'global') {
      if (!global) continue;
      for (const s of px.servers) {
        const line = global.get(`${px.name} ${s.name}`);
        if (line) applyStateLine(px, s, line.params, msgs);
      }
      continue;
    }
    const file = stateFilePath(px.cfg.options.serverStateFileName ?? px.name, g.serverStateBase);
    const lines = loadLines(file, px, msgs);
    if (!lines) continue;
    for (const s of px.servers) {
      const key = `${px.name} ${s.name}`;
      const line = lines.get(key);
      if (!line) continue;
      lines.delete(key);
      applyStateLine(px, s, line.params, msgs);
    }
    for (const line of lines.values()) msgs.warn(`Proxy '${px.name}': can't find server '${line.srvName}' in backend '${px.name}'`);
  }
}
