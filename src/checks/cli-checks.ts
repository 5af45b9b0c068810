// Runtime API for checks (management.txt 9.3): `set server <b>/<s> health|agent|check-port|
// check-addr|agent-addr|agent-port|agent-send`, `enable|disable health|agent`, and the check
// columns of `show servers state`. Answers and messages as haproxy 2.6 gives them.
import net from 'node:net';
import type { CliContext, CliKeyword } from '../registry/registry.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { passed, type CheckStatus } from './engine.js';
import { setServerUp, setServerStopping, checksAllowUp } from './health.js';
import './agent.js';
import { hasGoneDown, serverIdForced, proxyIdForced } from '../ops/cli-state.js';
import { SERVERS_STATE_VERSION, SERVERS_STATE_COLUMNS, SRV_ST, CHK_ST, serverOpState, serverAdminState, SRV_ADMF } from '../ops/cli-format.js';
import type {} from '../dns/resolver.js';

type Say = (text: string) => void;
/** How a command answers: `err` gets the usual blank line after it, `bare` only the final LF. */
export interface CheckCliOut { err: Say; bare: Say }

const FROM_CLI = ', changed from CLI';

/** HAProxy's numeric check statuses (srv_check_status). */
export const HCHK_STATUS: Record<CheckStatus, number> = {
  SOCKERR: 5, L4OK: 6, L4TOUT: 7, L4CON: 8, L6OK: 9, L6TOUT: 10, L6RSP: 11, L7TOUT: 12, L7RSP: 13, L7OK: 15, L7OKC: 16, L7STS: 17, PROCERR: 18, PROCTOUT: 19, PROCOK: 20,
};
const HCHK_STATUS_INI = 1;
/** Check results (srv_check_result). */
export const CHK_RES = { UNKNOWN: 0, NEUTRAL: 1, FAILED: 2, PASSED: 3, CONDPASS: 4 } as const;
const DEFAULT_RISE = 2;

function parsePort(text: string): number | 'nan' | 'range' {
  if (!/^[+-]?[0-9]*$/.test(text)) return 'nan';
  const n = Number(text || '0');
  if (n < 0 || n > 65535) return 'range';
  return n;
}

/**
 * The `set server` sub-commands about checks. Returns false when `sub` is not one of them.
 */
export function setServerCheck(s: Server, sub: string, args: string[], out: CheckCliOut): boolean {
  const a4 = args[4];
  const hc = s.healthCheck;
  const ag = s.agentCheck;
  switch (sub) {
    case 'health': {
      if (a4 !== 'up' && a4 !== 'stopping' && a4 !== 'down') { out.err("'set server <srv> health' expects 'up', 'stopping', or 'down'."); return true; }
      if (a4 === 'down') {
        if (hc) hc.force(0); else s.forcedDown = true;
        if (s.up) setServerUp(s, false, FROM_CLI);
        return true;
      }
      if (hc) hc.force(hc.opts.rise + hc.opts.fall - 1);
      s.forcedDown = false;
      if (a4 === 'stopping') { setServerStopping(s, FROM_CLI); return true; }
      if (s.stopping) {
        s.stopping = false;
        s.checkNolb = false;
        s.updateWeight();
        if (s.up) { setServerUp(s, true, FROM_CLI); return true; }
      }
      if (!s.up && checksAllowUp(s)) setServerUp(s, true, FROM_CLI);
      return true;
    }
    case 'agent': {
      if (!ag) { out.err('agent checks are not enabled on this server.'); return true; }
      if (a4 !== 'up' && a4 !== 'down') { out.err("'set server <srv> agent' expects 'up' or 'down'."); return true; }
      ag.setHealth(a4 === 'up', FROM_CLI);
      return true;
    }
    case 'check-port':
    case 'agent-port': {
      if (a4 === undefined || a4 === '') { out.err(`set server <b>/<s> ${sub} requires a port.`); return true; }
      const p = parsePort(a4);
      if (p === 'nan') { out.bare('provided port is not an integer'); return true; }
      if (p === 'range') { out.bare('provided port is invalid'); return true; }
      if (sub === 'check-port') {
        if (!hc) { out.bare('health checks are not enabled on this server'); return true; }
        hc.opts.port = p;
      } else {
        if (!ag) { out.bare('agent checks are not enabled on this server'); return true; }
        ag.opts.port = p;
      }
      return true;
    }
    case 'check-addr':
    case 'agent-addr': {
      if (a4 === undefined || a4 === '') { out.err(`set server <b>/<s> ${sub} requires an address and optionally a port.`); return true; }
      if (net.isIP(a4) === 0) { out.bare(`invalid addr '${a4}'`); return true; }
      let port: number | undefined;
      if (args[5] === 'port') {
        const p = parsePort(args[6] ?? '');
        if (p === 'nan') { out.bare('provided port is not an integer'); return true; }
        if (p === 'range') { out.bare('provided port is invalid'); return true; }
        port = p;
      }
      if (sub === 'check-addr') {
        if (!hc) { out.bare('health checks are not enabled on this server'); return true; }
        hc.opts.addr = a4;
        if (port !== undefined) hc.opts.port = port;
      } else {
        if (!ag) { out.bare('agent checks are not enabled on this server'); return true; }
        ag.opts.addr = a4;
        if (port !== undefined) ag.opts.port = port;
      }
      return true;
    }
    case 'agent-send': {
      if (!ag) { out.err('agent checks are not enabled on this server.'); return true; }
      ag.opts.send = args.slice(4).join(' ');
      return true;
    }
    default:
      return false;
  }
}

/** `enable|disable health|agent <b>/<s>` once the server is found. */
export function toggleCheck(s: Server, what: 'health' | 'agent', enable: boolean, out: CheckCliOut): void {
  const c = what === 'health' ? s.healthCheck : s.agentCheck;
  if (!c) {
    if (enable) out.err(what === 'health' ? 'Health check was not configured on this server, cannot enable.' : 'Agent was not configured on this server, cannot enable.');
    return;
  }
  c.enabled = enable;
}

/** The enable/disable keywords; `find` looks the server up (printing HAProxy's errors). */
export function checkToggleKeywords(find: (spec: string | undefined, ctx: CliContext) => Server | undefined, outOf: (ctx: CliContext) => CheckCliOut): CliKeyword[] {
  const kws: CliKeyword[] = [];
  for (const en of [true, false]) {
    for (const what of ['health', 'agent'] as const) {
      const verb = en ? 'enable' : 'disable';
      kws.push({
        words: [verb, what], usage: `${verb} ${what} <bk>/<srv>`,
        help: `${en ? 'enable' : 'disable'} the ${what === 'health' ? 'health checks' : 'agent checks'} of a server`, level: 'admin',
        run(args, ctx) {
          const s = find(args[2], ctx);
          if (s) toggleCheck(s, what, en, outOf(ctx));
        },
      });
    }
  }
  return kws;
}

/* ---- show servers state ---- */

/** One data line of `show servers state`, with the check and agent columns. */
export function serverStateLine(be: Proxy, s: Server, now = Date.now()): string {
  const hc = s.healthCheck;
  const ag = s.agentCheck;
  const maint = s.admin === 'maint';
  let opState: number = serverOpState(s);
  if (opState !== SRV_ST.STOPPED && s.stopping) opState = SRV_ST.STOPPING;
  let chkStatus = HCHK_STATUS_INI;
  let chkResult: number = CHK_RES.UNKNOWN;
  let chkHealth: number;
  let chkState = 0;
  if (hc) {
    if (hc.last) {
      chkStatus = HCHK_STATUS[hc.last.status];
      chkResult = hc.last.status === 'L7OKC' ? CHK_RES.CONDPASS : (passed(hc.last.status) ? CHK_RES.PASSED : CHK_RES.FAILED);
    }
    if (hc.running) chkResult = CHK_RES.UNKNOWN;
    chkHealth = maint ? 0 : hc.health;
    chkState = CHK_ST.CONFIGURED | (hc.enabled ? CHK_ST.ENABLED : 0) | (maint ? CHK_ST.PAUSED : 0) | (hc.running ? CHK_ST.INPROGRESS : 0);
  } else {
    const healthy = !(s.cfg.disabled || hasGoneDown(s) || maint || !s.up || s.forcedDown);
    chkHealth = healthy ? DEFAULT_RISE : 0;
    chkState = s.cfg.disabled ? CHK_ST.PAUSED : 0;
  }
  const agState = ag ? CHK_ST.AGENT | CHK_ST.CONFIGURED | (ag.enabled ? CHK_ST.ENABLED : 0) | (ag.running ? CHK_ST.INPROGRESS : 0) : 0;
  const isUnix = s.isUnix;
  const fields: (string | number)[] = [
    be.id, be.name, s.puid, s.name, isUnix || (s.dns && s.dns.addr === undefined) ? '-' : (s.host || '-'),
    opState, dnsAdminState(s), s.uweight, s.iweight,
    Math.max(0, Math.floor((now - s.lastChange) / 1000)),
    chkStatus, chkResult, chkHealth, chkState, agState,
    proxyIdForced(be.cfg) ? 1 : 0, serverIdForced(s) ? 1 : 0,
    s.dns?.srvName !== undefined ? (s.dns.fqdn || '-') : s.cfg.address.isHostname ? s.cfg.address.host : '-',
    isUnix ? 0 : s.port, s.dns?.srvName ?? '-', 0,
    hc?.opts.port ?? 0, hc?.opts.addr ?? '-',
    ag?.opts.addr ?? '-', ag?.opts.port ?? 0,
  ];
  return fields.join(' ');
}

/** srv_admin_state: maintenance caused by DNS resolution is RMAINT (0x20) rather than FMAINT. */
function dnsAdminState(s: Server): number {
  const f = serverAdminState(s);
  const g = s.resolvMaint ? (f & ~SRV_ADMF.FMAINT) | SRV_ADMF.RMAINT : f;
  // a slot that held an SRV record keeps 0x40 (HAProxy 2.6 shows 64 / 96 for them)
  return s.dns?.srvSeen ? g | SRV_ADMF.HMAINT : g;
}

export function renderServersState(backends: Proxy[], now = Date.now()): string {
  let out = `${SERVERS_STATE_VERSION}\n# ${SERVERS_STATE_COLUMNS.join(' ')}\n`;
  for (const be of backends) for (const s of be.servers) out += `${serverStateLine(be, s, now)}\n`;
  return out;
}
