// Dynamic servers on the runtime API (management.txt 9.3): `add server`, `del server`, and the
// `set server <b>/<s> addr|fqdn` sub-commands (setServerAddress / setServerFqdn, to be called
// by the `set server` handler). Answers as haproxy 2.6 gives them, byte for byte: some of them
// end with a single line feed (no empty line after them), which `bare` writes.
import net from 'node:net';
import { registerCli, serverKeywords, type CliContext, type ParseCtx } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import { Server } from '../proxy/server.js';
import { newServerOptions, type ServerConfig, type ServerOptions } from '../config/model.js';
import { parseAddress } from '../net/address.js';
import { suggest } from '../util/units.js';
import { defaultBalance, isDynamicBalance } from '../lb/config.js';
import { HealthCheck } from '../checks/health.js';
import { AgentCheck } from '../checks/agent.js';
import { serverConnCounts } from '../proxy/conn-pool.js';
import { cliRuntime } from './cli-state.js';
import type { CliSessionContext } from './cli-session.js';

/** How a command answers: `err`/`msg` are followed by an empty line, `bare` is not. */
export interface DynOut { msg(t: string): void; err(t: string): void; bare(t: string): void }

function outOf(ctx: CliContext): DynOut {
  const s = 'session' in ctx ? (ctx as CliSessionContext) : undefined;
  const line = (t: string): void => ctx.out(`${t}\n`);
  return {
    msg: (t) => (s ? s.msg(t) : line(t)),
    err: (t) => (s ? s.err(t) : line(t)),
    // the session writes the final line feed after every answer
    bare: (t) => ctx.out(t),
  };
}

function runtimeOf(ctx: CliContext): Runtime | undefined {
  return ('session' in ctx ? (ctx as CliSessionContext).rt : undefined) ?? cliRuntime();
}

/** Keywords HAProxy refuses on dynamic servers ("... is not accepted for dynamic server"). */
const NOT_DYNAMIC = new Set([
  'cookie', 'redir', 'non-stick', 'init-addr', 'resolvers', 'resolve-prefer', 'resolve-net', 'resolve-opts', 'namespace',
]);
/** The keywords haproxy-ts implements that a dynamic server accepts. */
export const DYNAMIC_KEYWORDS = new Set([
  'weight', 'maxconn', 'maxqueue', 'minconn', 'backup', 'no-backup', 'disabled', 'enabled', 'id', 'slowstart',
  'send-proxy', 'send-proxy-v2', 'no-send-proxy', 'no-send-proxy-v2', 'proxy-v2-options', 'source', 'hash-key',
  'check', 'no-check', 'inter', 'fastinter', 'downinter', 'rise', 'fall', 'port', 'addr', 'init-state', 'check-send-proxy',
  'agent-check', 'no-agent-check', 'agent-port', 'agent-addr', 'agent-inter', 'agent-send',
  'observe', 'error-limit', 'on-error', 'on-marked-down', 'on-marked-up',
  'pool-max-conn', 'max-reuse', 'pool-low-conn', 'pool-purge-delay',
]);

function splitSpec(spec: string | undefined): { be: string; srv: string } | undefined {
  const slash = spec === undefined ? -1 : spec.indexOf('/');
  if (spec === undefined || slash <= 0 || slash === spec.length - 1) return undefined;
  return { be: spec.slice(0, slash), srv: spec.slice(slash + 1) };
}

/** The server's position as the id-conflict message gives it (dynamic servers have none). */
function whereText(s: Server): string {
  const w = s.cfg.where;
  return w.file ? `${w.file}:${w.line}` : '(null):0';
}

/**
 * `add server <backend>/<server> <addr>[:<port>] [kw]*`. Returns the new server, or undefined
 * after printing why not.
 */
export function addServer(rt: Runtime, args: string[], out: DynOut): Server | undefined {
  const spec = splitSpec(args[2]);
  if (!spec) { out.bare("Require 'backend/server'."); return undefined; }
  const be = rt.findProxy(spec.be, 'backend');
  if (!be || !be.isBackend) { out.bare('No such backend.'); return undefined; }
  if (!isDynamicBalance(be.cfg.balance ?? defaultBalance(), be.cfg.hashType)) {
    out.bare('Backend must use a dynamic load balancing to support dynamic servers.');
    return undefined;
  }
  const addrText = args[3];
  if (addrText === undefined || addrText === '') { out.err("'server' expects <name> and <addr>[:<port>] as arguments."); return undefined; }
  if (be.servers.some((s) => s.name === spec.srv)) { out.err('Already exists a server with the same name in backend.'); return undefined; }
  const a = parseAddress(addrText, { server: true });
  if (typeof a === 'string') { out.err(a); return undefined; }
  if (a.family === 'abns' || a.family === 'fd' || a.family === 'sockpair') { out.err(`address family of '${addrText}' is not usable for a server.`); return undefined; }
  if (a.isHostname) { out.err(`'add server' with a host name ('${a.host}') is not supported yet by haproxy-ts.`); return undefined; }

  // no inheritance from default-server (management.txt "add server")
  const opts: ServerOptions = newServerOptions();
  let problem: string | undefined;
  const ctx: ParseCtx = {
    where: { file: '', line: 0 },
    alert: (m) => { problem ??= m; },
    warn: () => {},
  };
  for (let i = 4; i < args.length;) {
    const name = args[i]!;
    if (NOT_DYNAMIC.has(name)) { out.err(`'${name}' option is not accepted for dynamic server`); return undefined; }
    const k = serverKeywords.get(name);
    if (!k) {
      const cand = suggest(name, DYNAMIC_KEYWORDS);
      out.err(`unknown keyword '${name}'${cand ? `; did you mean '${cand}' maybe ?` : '.'}`);
      return undefined;
    }
    if (!DYNAMIC_KEYWORDS.has(name)) { out.err(`'${name}' option on a dynamic server is not supported yet by haproxy-ts.`); return undefined; }
    const kwArgs = args.slice(i, i + 1 + k.args);
    if (name === 'id') {
      const v = kwArgs[1] ?? '';
      const n = /^[0-9]+$/.test(v) ? Number(v) : 0;
      if (n <= 0) { out.err("'id' : custom id has to be > 0."); return undefined; }
      const other = be.servers.find((s) => s.puid === n);
      if (other) { out.err(`'id' : custom id ${n} already used at ${whereText(other)} ('server ${other.name}').`); return undefined; }
      opts.id = n;
    } else if (name === 'weight' && kwArgs[1] !== undefined && /^[0-9]+$/.test(kwArgs[1]) && Number(kwArgs[1]) > 256) {
      out.err(`weight of server ${spec.srv} is not within 0 and 256 (${kwArgs[1]})..`);
      return undefined;
    } else {
      if (kwArgs.length < 1 + k.args) { out.err(`'${name}' expects an argument.`); return undefined; }
      k.parse(kwArgs, opts, ctx);
      if (problem !== undefined) { out.err(problem); return undefined; }
    }
    i += 1 + k.args;
  }
  if (opts.agent?.enabled && opts.agent.port === undefined) {
    out.err(`server ${spec.srv} does not have agent port. Agent check has been disabled.`);
    return undefined;
  }
  const idForced = opts.id !== undefined;
  const cfg: ServerConfig = {
    ...opts, id: opts.id ?? be.nextServerId(), idForced,
    where: { file: '', line: 0 }, name: spec.srv, addressText: addrText, address: a,
  };
  // `enabled` (the default of a configured server) puts it in service at once; otherwise it
  // starts in maintenance and waits for `enable server` / `set server state ready`
  const inService = args.slice(4).includes('enabled') && !cfg.disabled;
  const s = new Server(cfg, be);
  if (!inService && s.admin !== 'maint') {
    s.admin = 'maint';
    s.eweight = 0;
    s.counters.startDown(s.lastChange);
  }
  // checks exist but stay disabled until `enable health` / `enable agent` (management.txt)
  if (cfg.check?.enabled) {
    const hc = new HealthCheck(s, be, cfg.check);
    hc.enabled = false;
    s.healthCheck = hc;
    hc.start(1);
  }
  if (cfg.agent?.enabled) {
    const ac = new AgentCheck(s, cfg.agent);
    ac.enabled = false;
    s.agentCheck = ac;
    ac.start(1);
  }
  // disabled checks do not hold the server down
  s.up = true;
  be.addServer(s);
  out.msg('New server registered.');
  return s;
}

/** Why a server cannot be deleted now, or undefined when it can. */
export function deleteRefusal(s: Server): string | undefined {
  if (s.admin !== 'maint') return 'Only servers in maintenance mode can be deleted.';
  if (s.trackers?.length) return 'Server tracked by other servers cannot be deleted.';
  const pool = serverConnCounts(s);
  if (s.cur > 0 || s.queue.length > 0 || pool.used > 0 || pool.idle > 0) return 'Server still has connections attached to it, cannot remove it.';
  return undefined;
}

/** `del server <backend>/<server>`. */
export function delServer(rt: Runtime, args: string[], out: DynOut): boolean {
  const spec = splitSpec(args[2]);
  if (!spec) { out.bare("Require 'backend/server'."); return false; }
  const be = rt.findProxy(spec.be, 'backend');
  if (!be || !be.isBackend) { out.bare('No such backend.'); return false; }
  const s = be.findServer(spec.srv);
  if (!s) { out.bare('No such server.'); return false; }
  const why = deleteRefusal(s);
  if (why) { out.bare(why); return false; }
  // it no longer follows a tracked server
  const t = s.tracked;
  if (t?.trackers) t.trackers = t.trackers.filter((x) => x !== s);
  s.agentCheck?.stop();
  removeFrom(be, s);
  out.bare('Server deleted.');
  return true;
}

function removeFrom(be: Proxy, s: Server): void { be.removeServer(s); }

const BY_CLI = " by 'stats socket command'";

/** C strtol over the whole text (what HAProxy requires of a port): a number, or undefined. */
function strictInt(t: string): number | undefined {
  return /^[ \t]*[+-]?[0-9]+$/.test(t) ? Number(t) : undefined;
}

/** The port as HAProxy shows it: with its sign when mapped (no port at all is "+0"). */
function portText(s: Server): string {
  if (s.portOffset) return `${s.portOffset}${s.port}`;
  return s.cfg.address.hasPort ? `${s.port}` : '+0';
}

/**
 * `set server <b>/<s> addr <ip> [port <port>]`: new connections go to the new address; those
 * open stay where they are. `args` are the command's words (args[4] is the address).
 */
export function setServerAddress(s: Server, args: string[], out: DynOut): void {
  const ip = args[4];
  if (ip === undefined || ip === '') { out.err('set server <b>/<s> addr requires an address and optionally a port.'); return; }
  if (s.isUnix) { out.err(`Update for the current server address family is only supported through configuration file${BY_CLI}`); return; }
  if (net.isIP(ip) === 0) { out.err(`Invalid addr '${ip}'${BY_CLI}`); return; }
  const parts: string[] = [];
  if (ip === s.host) parts.push('no need to change the addr');
  else {
    parts.push(`IP changed from '${s.host}' to '${ip}'`);
    s.setAddress(ip);
  }
  if (args[5] === 'port') {
    const text = args[6] ?? '';
    const n = strictInt(text);
    if (n === undefined) parts.push(`problem converting port '${text}' to an int`);
    else {
      const mapped = /^[ \t]*[+-]/.test(text);
      const sign = mapped ? (text.trim()[0] as '+' | '-') : undefined;
      const port = Math.abs(n) & 0xffff;
      if (mapped && !s.healthCheck?.opts.port) {
        parts.push("can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.");
      } else if (portText(s) === (sign ? `${sign}${port}` : `${port}`)) parts.push('no need to change the port');
      else {
        const before = portText(s);
        s.port = port;
        s.portOffset = sign;
        // the port is now explicit (server-connect.ts reads a missing one as the client's)
        (s.cfg.address as { hasPort: boolean }).hasPort = true;
        parts.push(`port changed from '${before}' to '${portText(s)}'`);
        if (s.cfg.hashKey === 'addr-port') s.setAddress(s.host);
      }
    }
  }
  out.msg(`${parts.join(', ')}${BY_CLI}`);
}

/** `set server <b>/<s> fqdn <name>`: only servers resolved at run time may change it. */
export function setServerFqdn(s: Server, args: string[], out: DynOut): void {
  const name = args[4];
  if (name === undefined || name === '') { out.err('set server <b>/<s> fqdn requires a FQDN.'); return; }
  if (!s.dns || s.cfg.dns?.resolvers === undefined) { out.err('set server <b>/<s> fqdn failed because no resolution is configured.'); return; }
  out.err("'set server <srv> fqdn' on a server using resolvers is not supported yet by haproxy-ts.");
}

/**
 * Hook for the `set server` handler: runs `addr` and `fqdn`, returns false for other
 * sub-commands.
 */
export function setServerDynamic(s: Server, sub: string, args: string[], ctx: CliContext): boolean {
  if (sub === 'addr') { setServerAddress(s, args, outOf(ctx)); return true; }
  if (sub === 'fqdn') { setServerFqdn(s, args, outOf(ctx)); return true; }
  return false;
}

registerCli(
  {
    words: ['add', 'server'], usage: 'add server <bk>/<srv>', help: 'create a new server (in maintenance)', level: 'admin',
    run(args, ctx) {
      const rt = runtimeOf(ctx);
      if (!rt) { outOf(ctx).err('No running process to act on.'); return; }
      addServer(rt, args, outOf(ctx));
    },
  },
  {
    words: ['del', 'server'], usage: 'del server <bk>/<srv>', help: 'remove a server in maintenance with no connection', level: 'admin',
    run(args, ctx) {
      const rt = runtimeOf(ctx);
      if (!rt) { outOf(ctx).err('No running process to act on.'); return; }
      delServer(rt, args, outOf(ctx));
    },
  },
);
