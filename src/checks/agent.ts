// Agent checks (configuration.txt 5.2 `agent-check`, `agent-port`, `agent-addr`, `agent-inter`,
// `agent-send`): beside the health check, on its own interval, a TCP connection to an agent
// which answers one line of words changing the server's operational state (up, down, stopped,
// fail), administrative state (ready, drain, maint), weight (NN%, weight:N[%]) and maxconn.
import net from 'node:net';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import type { ServerOptions } from '../config/model.js';
import { registerServer, registerPostParse, type ParseCtx } from '../registry/registry.js';
import { parseTime, parseUint } from '../util/units.js';
import { defaultBalance, isDynamicBalance } from '../lb/config.js';
import { parseWeightChange, parseServerMaxconn } from '../ops/cli-format.js';
import type { CheckResult } from './engine.js';
import { PeriodicCheck, checkTimeout, backendStarters, upConditions, setServerUp, setAdminState, checksAllowUp, checkReason } from './health.js';

export interface AgentOptions {
  enabled: boolean;
  port?: number;
  addr?: string;
  /** ms; the server's `inter` when not set */
  inter?: number;
  send?: string;
}

declare module '../config/model.js' {
  interface ServerOptions {
    /** agent check settings (src/checks/agent.ts) */
    agent?: AgentOptions;
  }
}

declare module '../proxy/server.js' {
  interface Server {
    /** the server's agent check, when `agent-check` is set */
    agentCheck?: AgentCheck;
  }
}

function aopts(s: ServerOptions): AgentOptions {
  if (!s.agent) s.agent = { enabled: false };
  return s.agent;
}

/** "a.b.c.d" or an IPv6 address (no name resolution at run time). */
export function isIpAddress(v: string): boolean {
  return net.isIP(v) !== 0;
}

registerServer(
  { name: 'agent-check', args: 0, inDefaultServer: true, parse(_a, s) { aopts(s).enabled = true; } },
  { name: 'no-agent-check', args: 0, inDefaultServer: true, parse(_a, s) { aopts(s).enabled = false; } },
  {
    name: 'agent-port', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const n = parseUint(a[1]);
      if (n === undefined || n < 1 || n > 65535) { ctx.alert(`'agent-port' expects a valid TCP port (got '${a[1] ?? ''}').`); return; }
      aopts(s).port = n;
    },
  },
  {
    name: 'agent-addr', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const v = a[1] ?? '';
      if (!isIpAddress(v)) { ctx.alert(`parsing agent-addr failed. Check if '${v}' is correct address.`); return; }
      aopts(s).addr = v;
    },
  },
  {
    name: 'agent-inter', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const t = parseTime(a[1] ?? '');
      if (typeof t === 'string' || t === 0) { ctx.alert(`invalid value ${a[1] ?? ''} for argument 'agent-inter'.`); return; }
      aopts(s).inter = t;
    },
  },
  {
    name: 'agent-send', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      if (a[1] === undefined) { ctx.alert(`'agent-send' expects a string as argument.`); return; }
      aopts(s).send = a[1];
    },
  },
);

registerPostParse((config, ctx: ParseCtx) => {
  for (const px of config.proxies) {
    for (const s of px.servers) {
      if (s.agent?.enabled && s.agent.port === undefined) {
        ctx.alert(`[${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}' : server ${s.name} does not have agent port. Agent check has been disabled.`);
      }
    }
  }
});

/* ---- the agent's reply ---- */

export interface AgentReply {
  /** up / down / stopped / fail, as written by the agent */
  health?: string;
  /** ready / drain / maint */
  admin?: 'ready' | 'drain' | 'maint';
  /** weight text for parseWeightChange ("75%", "20") */
  weight?: string;
  /** maxconn text */
  maxconn?: string;
  /** text after '#' */
  desc: string;
}

/** Parses the first line of an agent's answer; undefined when no word was understood. */
export function parseAgentReply(text: string): AgentReply | undefined {
  let line = text;
  const eol = line.search(/[\r\n]/);
  if (eol >= 0) line = line.slice(0, eol);
  const r: AgentReply = { desc: '' };
  let known = false;
  const re = /[^ \t,]+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    const w = m[0];
    if (w.startsWith('#')) { r.desc = line.slice(m.index + 1).trim(); break; }
    const lw = w.toLowerCase();
    if (lw === 'up' || lw === 'down' || lw === 'stopped' || lw === 'fail') { r.health = w; known = true; }
    else if (lw === 'ready' || lw === 'drain' || lw === 'maint') { r.admin = lw; known = true; }
    else if (/^[0-9]/.test(w) && w.includes('%')) { r.weight = w; known = true; }
    else if (lw.startsWith('weight:')) { r.weight = w.slice(7); known = true; }
    else if (lw.startsWith('maxconn:')) { r.maxconn = w.slice(8); known = true; }
  }
  return known ? r : undefined;
}

/* ---- the check ---- */

export class AgentCheck extends PeriodicCheck {
  readonly server: Server;
  readonly opts: AgentOptions;
  /** agent health: 1 up, 0 down (HAProxy's agent rise and fall are 1) */
  health = 1;
  /** `disable agent` clears it */
  enabled = true;
  running = false;
  last: CheckResult | undefined;

  constructor(server: Server, opts: AgentOptions) {
    super();
    this.server = server;
    this.opts = opts;
  }

  get inter(): number { return this.opts.inter ?? this.server.cfg.check?.inter ?? 2000; }

  private timeout(): number { return checkTimeout(this.server.backend, this.inter); }


  async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    const s = this.server;
    // the agent keeps running in maintenance (it may bring the server back with "ready")
    if (!this.enabled) { this.schedule(this.inter); return; }
    this.running = true;
    try {
      const got = await askAgent(this.opts.addr ?? s.host, this.opts.port ?? 0, this.opts.send, this.timeout());
      if (!this.stopped && got !== undefined) this.reply(got.text, got.duration);
    } finally {
      this.running = false;
      this.schedule(this.inter);
    }
  }

  /** Applies an agent's answer; undefined text = no answer (no effect). */
  reply(text: string, duration = 0): void {
    const r = parseAgentReply(text);
    if (!r) return;
    const s = this.server;
    // administrative state first, then the weight, the connection limit, the health last
    if (r.admin && this.enabled) setAdminState(s, r.admin);
    if (r.weight !== undefined && this.enabled) {
      const be = s.backend;
      const w = parseWeightChange(r.weight, s.iweight, isDynamicBalance(be.cfg.balance ?? defaultBalance(), be.cfg.hashType));
      if (typeof w === 'number') {
        const wasUsable = s.usable();
        s.setWeight(w);
        if (wasUsable !== s.usable()) be.serverStateChanged(s);
      }
    }
    if (r.maxconn !== undefined) {
      const m = parseServerMaxconn(r.maxconn);
      if (typeof m === 'number') { s.maxconn = m; s.backend.dispatchQueues(s); }
    }
    if (r.health !== undefined) {
      const up = r.health.toLowerCase() === 'up';
      const res: CheckResult = {
        status: up ? 'L7OK' : 'L7STS', code: 0,
        info: `via agent : ${r.health}${r.desc ? ` (${r.desc})` : ''}`, duration,
      };
      this.last = res;
      this.setHealth(up, checkReason(res), res);
    }
  }

  /** Sets the agent's verdict and the server's state with it. */
  setHealth(up: boolean, why: string, res?: CheckResult): void {
    this.health = up ? 1 : 0;
    const s = this.server;
    if (!up && s.up) setServerUp(s, false, why, res);
    else if (up && !s.up && checksAllowUp(s)) setServerUp(s, true, why, res);
  }
}

/** Connects, sends `send` if any, reads one line (or until the agent closes). */
function askAgent(host: string, port: number, send: string | undefined, timeout: number): Promise<{ text: string; duration: number } | undefined> {
  const start = Date.now();
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const sock = net.connect({ host, port });
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok && buf !== '' ? { text: buf, duration: Date.now() - start } : undefined);
    };
    const timer = setTimeout(() => finish(buf !== ''), Math.max(1, timeout));
    sock.setNoDelay(true);
    sock.on('connect', () => { if (send !== undefined && send !== '') sock.write(send); });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (/[\r\n]/.test(buf)) finish(true);
    });
    sock.on('end', () => finish(true));
    sock.on('error', () => finish(buf !== ''));
  });
}

upConditions.push((s) => {
  const a = s.agentCheck;
  return !a || !a.enabled || a.health > 0;
});

backendStarters.push((be: Proxy) => {
  const servers = be.servers.filter((s) => s.cfg.agent?.enabled && s.cfg.agent.port !== undefined);
  servers.forEach((s, i) => {
    const ac = new AgentCheck(s, s.cfg.agent!);
    s.agentCheck = ac;
    ac.start(Math.floor((ac.inter * i) / Math.max(1, servers.length)) + 1);
    // the agent stops with the server (Server.dispose stops the health check only)
    const dispose = s.dispose.bind(s);
    s.dispose = (): void => { dispose(); ac.stop(); };
  });
});
