// The layer-4 rule sets shared by both stream kinds: `tcp-request connection` rules (run on
// accept, before anything is read), `tcp-request session` rules (once the session is valid, after
// a PROXY header when one is expected), and the rule hosts streams give to actions: a base shared
// by TCP and HTTP streams, and the TCP one (configuration.txt 4.2 tcp-request, 4.3/4.4 actions).
// Also what both stream kinds share around the rules: use_backend name resolution, silent-drop,
// and set-bc-tos / set-bc-mark on the server connection.
import type { Runtime, BindListener } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { SmpCtx } from '../sample/context.js';
import type { Sock } from '../net/read-buffers.js';
import type { TermCause, TermPhase } from './tcp-stream.js';
import { runRules, Act, type RuleHost, type Verdict, type Rule } from '../actions/rules.js';
import { setIpOpt } from '../net/sockopt.js';
import '../actions/tcp-actions.js';

declare module '../sample/context.js' {
  interface SmpCtx {
    /**
     * The connection was closed by a tcp-request connection or session rule: such connections
     * are not logged (configuration.txt, "reject" action).
     */
    noLog?: boolean;
  }
}

/** What the layer-4 rules need of a stream (TcpStream and HttpStream both have it). */
export interface L4Stream {
  readonly rt: Runtime;
  readonly fe: Proxy;
  readonly be: Proxy | undefined;
  readonly listener: BindListener;
  readonly cli: Sock;
  readonly sctx: SmpCtx;
  readonly src: string;
  readonly dst: string;
  tmoClient: number | undefined;
  tmoServer: number | undefined;
  tmoTunnel: number | undefined;
  ruleSetAddr(which: 'src' | 'dst', addr: string | undefined, port: number | undefined): void;
  ruleSockOpt(what: 'tos' | 'mark', value: number): void;
  ruleSetRetries(n: number): void;
  /** set-bc-tos / set-bc-mark: applied to the server connection */
  bcTos: number | undefined;
  bcMark: number | undefined;
  /** queue priority (set-priority-class / set-priority-offset) */
  prioClass: number;
  prioOffset: number;
  terminate(cause: TermCause, phase: TermPhase, hard?: boolean): void;
}

/**
 * What the rules may read and change on any stream (TCP or HTTP): the sample context, the
 * proxies, addresses, timeouts, retries, queue priority and socket options. The TCP and HTTP
 * rule hosts add what is specific to their rule sets.
 */
export abstract class StreamRuleHost<S extends L4Stream = L4Stream> implements RuleHost {
  abstract readonly http: boolean;
  verdict: Verdict | undefined;
  protected readonly s: S;
  constructor(s: S) { this.s = s; }
  get ctx(): SmpCtx { return this.s.sctx; }
  get fe(): Proxy { return this.s.fe; }
  get be(): Proxy | undefined { return this.s.be; }
  config() { return this.s.rt.config; }
  setAddr(which: 'src' | 'dst', addr: string | undefined, port: number | undefined): void { this.s.ruleSetAddr(which, addr, port); }
  setTimeout(which: 'server' | 'tunnel' | 'client', ms: number): void {
    if (which === 'server') this.s.tmoServer = ms;
    else if (which === 'tunnel') this.s.tmoTunnel = ms;
    else this.s.tmoClient = ms;
  }
  setRetries(n: number): void { this.s.ruleSetRetries(n); }
  setPriority(which: 'class' | 'offset', v: number): void {
    if (which === 'class') this.s.prioClass = v; else this.s.prioOffset = v;
  }
  setSockOpt(what: 'tos' | 'mark' | 'nice' | 'fc-tos' | 'fc-mark' | 'bc-tos' | 'bc-mark', v: number): void {
    if (what === 'tos' || what === 'fc-tos') this.s.ruleSockOpt('tos', v);
    else if (what === 'mark' || what === 'fc-mark') this.s.ruleSockOpt('mark', v);
    else if (what === 'bc-tos') this.s.bcTos = v;
    else if (what === 'bc-mark') this.s.bcMark = v;
  }
}

/** The rules' view of a stream in the TCP rule sets. */
export class TcpRuleHost extends StreamRuleHost {
  readonly http = false;
  /** expect-proxy layer4 ran */
  wantProxy = false;
  expectProxy(): void { this.wantProxy = true; }
  /** switch-mode http ran: the stream is to become an HTTP stream (TcpStream checks this) */
  upgrade: 'h1' | undefined;
  switchMode(proto: 'h1' | undefined): void { this.upgrade = proto ?? 'h1'; }
}

/**
 * set-bc-tos / set-bc-mark: applied to a server connection once it is established (TOS or
 * traffic class after the family of the connection's peer address).
 */
export function applyBackendSockOpts(s: { readonly bcTos: number | undefined; readonly bcMark: number | undefined }, sock: Sock): void {
  if (s.bcTos !== undefined) setIpOpt(sock, 'tos', (sock.remoteAddress ?? '').includes(':'), s.bcTos);
  if (s.bcMark !== undefined) setIpOpt(sock, 'mark', false, s.bcMark);
}

/**
 * Disappears without telling the client: the TTL (hop limit) of the client socket is set to 1 so
 * that the reset sent on close dies on the way, then the connection is reset.
 */
export function silentDrop(s: L4Stream, phase: TermPhase): void {
  const cli = s.cli;
  setIpOpt(cli, 'ttl', s.dst.includes(':'), 1);
  if (typeof cli.resetAndDestroy === 'function' && !cli.destroyed) {
    try { cli.resetAndDestroy(); } catch { cli.destroy(); }
  }
  s.terminate('P', phase, true);
}

/** The verdict of a final rule of the connection or session sets: the connection is closed. */
function closeEarly(s: L4Stream, host: TcpRuleHost, set: 'conn' | 'sess'): void {
  const v = host.verdict;
  host.verdict = undefined;
  s.sctx.noLog = true;
  const fe = s.fe.feCounters, li = s.listener.counters;
  if (v?.kind === 'silent-drop') {
    fe.deniedReq++; li.deniedReq++;
    silentDrop(s, 'R');
    return;
  }
  if (set === 'conn') { fe.deniedConn++; li.deniedConn++; } else { fe.deniedSess++; li.deniedSess++; }
  s.terminate('P', 'R', true);
}

function runFinal(rules: readonly Rule[], s: L4Stream, host: TcpRuleHost): Act {
  const ctx = s.sctx;
  // these sets cannot wait for anything: what is not known now never matches
  const prevFinal = ctx.final;
  ctx.final = true;
  const r = runRules(rules, host, 0);
  ctx.final = prevFinal;
  return r.act;
}

/**
 * tcp-request connection rules of the frontend, on a connection just accepted. Returns
 * 'closed' when a rule closed it, 'proxy' when expect-proxy layer4 asks for a PROXY header,
 * else 'ok'.
 */
export function connectionRules(s: L4Stream, host: TcpRuleHost): 'ok' | 'proxy' | 'closed' {
  const rules = s.fe.cfg.rules?.tcpReqConn;
  if (!rules?.length) return 'ok';
  host.wantProxy = false;
  const act = runFinal(rules, s, host);
  if (act === Act.DONE) { closeEarly(s, host, 'conn'); return 'closed'; }
  return host.wantProxy ? 'proxy' : 'ok';
}

/** tcp-request session rules of the frontend; false when a rule closed the connection. */
export function sessionRules(s: L4Stream, host: TcpRuleHost): boolean {
  const rules = s.fe.cfg.rules?.tcpReqSess;
  if (!rules?.length) return true;
  const act = runFinal(rules, s, host);
  if (act === Act.DONE) { closeEarly(s, host, 'sess'); return false; }
  return true;
}

/** Backends by name, per runtime (use_backend names, static or formatted; TCP and HTTP streams). */
const backendMaps = new WeakMap<Runtime, Map<string, Proxy>>();
export function backendByName(rt: Runtime, name: string): Proxy | undefined {
  let m = backendMaps.get(rt);
  if (!m) {
    m = new Map();
    for (const p of rt.proxies) if (p.isBackend && !m.has(p.name)) m.set(p.name, p);
    backendMaps.set(rt, m);
  }
  return m.get(name);
}

/**
 * The HttpStream hooks: connection rules on accept (and session rules right away unless a PROXY
 * header comes first). Returns false when the connection was closed; `expectHeader` is called
 * when expect-proxy layer4 asks for a PROXY header.
 */
export function acceptRules(s: L4Stream, headerPending: boolean, expectHeader: () => void): boolean {
  const fe = s.fe.cfg.rules;
  if (!fe || (!fe.tcpReqConn.length && !fe.tcpReqSess.length)) return true;
  const host = new TcpRuleHost(s);
  const r = connectionRules(s, host);
  if (r === 'closed') return false;
  if (r === 'proxy') { expectHeader(); return true; }
  if (headerPending) return true;
  return sessionRules(s, host);
}

/** The HttpStream hook once the PROXY header was read: the session rules. */
export function afterProxyHeader(s: L4Stream): boolean {
  if (!s.fe.cfg.rules?.tcpReqSess.length) return true;
  return sessionRules(s, new TcpRuleHost(s));
}
