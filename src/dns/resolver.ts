// Run-time name resolution of servers (configuration.txt 5.3): one UDP socket per nameserver,
// one periodic resolution per (resolvers section, host name, preferred family) shared by the
// servers using it, address changes applied to the servers, maintenance on failures beyond
// `hold`, and the `show resolvers` runtime command.
import dgram from 'node:dgram';
import net, { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Config } from '../config/model.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { registerCli, type CliContext } from '../registry/registry.js';
import { srvMessage, noServerMessage } from '../checks/health.js';
import { LOG_NOTICE, LOG_ALERT } from '../log/syslog.js';
import { encodeQuery, interpretAnswer, QTYPE, type AnswerStatus, type DnsRecord } from './message.js';
import type { ResolversConfig, NameserverConfig, ServerResolveOptions } from './config.js';

export class NsCounters {
  sent = 0; snd_error = 0; valid = 0; update = 0; cname = 0; cname_error = 0; any_err = 0; nx = 0;
  timeout = 0; refused = 0; other = 0; invalid = 0; too_big = 0; truncated = 0; outdated = 0;
}
const COUNTER_NAMES = Object.keys(new NsCounters()) as (keyof NsCounters)[];

/** Final status of a resolution attempt, as used by `hold`. */
export type ResolutionStatus = 'valid' | 'nx' | 'refused' | 'timeout' | 'other';

const MAINT_REASON: Record<Exclude<ResolutionStatus, 'valid'>, string> = {
  nx: 'DNS NX status', refused: 'DNS refused status', timeout: 'DNS timeout status', other: 'unspecified DNS error',
};

/** Idle stream connections to a nameserver are closed after this long. */
const TCP_IDLE_MS = 5000;

export class Nameserver {
  readonly cfg: NameserverConfig;
  readonly counters = new NsCounters();
  sock: dgram.Socket | undefined;
  /** stream nameserver: the current connection (queries are pipelined on it) */
  private conn: net.Socket | undefined;
  private connReady = false;
  private backlog: { msg: Buffer; cb: (err?: Error) => void }[] = [];
  private rx = Buffer.alloc(0);
  private idle: NodeJS.Timeout | undefined;
  /** queries sent on the connection and not answered yet */
  private inflight = 0;
  onMessage: (buf: Buffer) => void = () => { /* set by the resolvers */ };
  private stopped = false;
  constructor(cfg: NameserverConfig) { this.cfg = cfg; }

  /** Ready to send: a UDP socket is bound, or a stream nameserver (connected on demand). */
  get usable(): boolean { return this.cfg.tcp ? !this.stopped : this.sock !== undefined; }

  /** Sends one query; `cb` gets an error when it could not be sent. */
  send(msg: Buffer, cb: (err?: Error) => void): void {
    if (!this.cfg.tcp) {
      if (!this.sock) { cb(new Error('no socket')); return; }
      this.sock.send(msg, this.cfg.port, this.cfg.host, (err) => cb(err ?? undefined));
      return;
    }
    if (this.stopped) { cb(new Error('stopped')); return; }
    const framed = Buffer.allocUnsafe(msg.length + 2);
    framed.writeUInt16BE(msg.length, 0);
    msg.copy(framed, 2);
    if (this.idle) { clearTimeout(this.idle); this.idle = undefined; }
    if (this.conn && this.connReady) { this.write(framed, cb); return; }
    this.backlog.push({ msg: framed, cb });
    if (!this.conn) this.connect();
  }

  private write(framed: Buffer, cb: (err?: Error) => void): void {
    this.inflight++;
    this.conn!.write(framed, (err) => { if (err) cb(err); });
  }

  private connect(): void {
    const c = net.connect({ host: this.cfg.host, port: this.cfg.port });
    this.conn = c;
    this.connReady = false;
    this.rx = Buffer.alloc(0);
    this.inflight = 0;
    c.unref();
    c.setNoDelay(true);
    c.on('connect', () => {
      if (this.conn !== c) return;
      this.connReady = true;
      const q = this.backlog;
      this.backlog = [];
      for (const b of q) this.write(b.msg, b.cb);
    });
    c.on('data', (d) => {
      if (this.conn !== c) return;
      this.rx = this.rx.length ? Buffer.concat([this.rx, d]) : d;
      while (this.rx.length >= 2) {
        const len = this.rx.readUInt16BE(0);
        if (this.rx.length < 2 + len) break;
        const m = this.rx.subarray(2, 2 + len);
        this.rx = this.rx.subarray(2 + len);
        if (this.inflight > 0) this.inflight--;
        try { this.onMessage(m); } catch { /* never fatal */ }
      }
      if (this.inflight === 0 && !this.backlog.length) this.armIdle(c);
    });
    c.on('error', () => { /* reported through close */ });
    c.on('close', () => {
      if (this.conn !== c) return;
      this.conn = undefined;
      this.connReady = false;
      if (this.idle) { clearTimeout(this.idle); this.idle = undefined; }
      // queries waiting for a connection that failed are lost like unanswered datagrams
      // (HAProxy 2.6 counts them as sent, not as send errors): the retry timer deals with them
      this.backlog = [];
    });
  }

  private armIdle(c: net.Socket): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => { this.idle = undefined; if (this.conn === c && this.inflight === 0) c.destroy(); }, TCP_IDLE_MS);
    this.idle.unref();
  }

  close(): void {
    this.stopped = true;
    try { this.sock?.close(); } catch { /* closed */ }
    this.sock = undefined;
    if (this.idle) { clearTimeout(this.idle); this.idle = undefined; }
    const c = this.conn;
    this.conn = undefined;
    this.backlog = [];
    c?.destroy();
  }
}

/** Per-server resolution state. */
interface SrvDns {
  server: Server;
  opts: ServerResolveOptions;
  /** the address currently used, undefined when the server has none (init-addr none, or lost) */
  addr: string | undefined;
  /** in maintenance because of resolution */
  maint: boolean;
  /** host name resolved for this server now ('' for an SRV slot holding no record) */
  fqdn: string;
  /** SRV label, when the server is filled from SRV records (server-template) */
  srvName?: string;
  /** "target:port" of the SRV record the slot holds */
  srvKey?: string;
  srvLastSeen?: number;
  /** the slot held an SRV record once (HAProxy keeps a flag for it, 0x40 in the state dump) */
  srvSeen?: boolean;
  /** the A/AAAA resolution of the SRV target this slot is attached to */
  hostRes?: Resolution;
}

declare module '../proxy/server.js' {
  interface Server {
    /** run-time DNS state of a server using `resolvers` */
    dns?: SrvDns;
    /** maintenance set by DNS resolution (HAProxy's RMAINT); the server has no address */
    resolvMaint?: boolean;
  }
}

interface Pending {
  id: number;
  type: number;
  answered: Set<Nameserver>;
  lastError: AnswerStatus | undefined;
  timer: NodeJS.Timeout;
}

export class Resolution {
  readonly resolvers: Resolvers;
  readonly hostname: string;
  readonly prefer: 'ipv4' | 'ipv6';
  readonly servers: SrvDns[] = [];
  /** time of the last valid answer (start-up counts as one, as the start-up address is valid) */
  lastValid = Date.now();
  lastStatus: ResolutionStatus | undefined;
  private pending: Pending | undefined;
  private triesLeft = 0;
  private switched = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(resolvers: Resolvers, hostname: string, prefer: 'ipv4' | 'ipv6') {
    this.resolvers = resolvers;
    this.hostname = hostname;
    this.prefer = prefer;
  }

  /** SRV label resolution (a name starting with '_'): fills the slots of `servers` */
  get isSrv(): boolean { return this.hostname.startsWith('_'); }
  private get preferredType(): number { return this.isSrv ? QTYPE.SRV : this.prefer === 'ipv4' ? QTYPE.A : QTYPE.AAAA; }
  private started = false;

  start(delay: number): void { if (this.started) return; this.started = true; this.stopped = false; this.schedule(delay); }

  stop(): void {
    this.stopped = true;
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.pending) clearTimeout(this.pending.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private schedule(ms: number, fn: () => void = () => this.run()): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; fn(); }, Math.max(1, ms));
    this.timer.unref();
  }

  /** Starts a new resolution cycle. */
  run(): void {
    if (this.stopped || this.pending) return;
    // an SRV target resolution nobody uses any more idles
    if (!this.servers.length) { this.schedule(this.resolvers.cfg.timeoutResolve); return; }
    this.triesLeft = this.resolvers.cfg.resolveRetries;
    this.switched = false;
    this.send(this.preferredType);
  }

  private send(type: number): void {
    if (this.stopped) return;
    this.triesLeft--;
    const id = this.resolvers.allocId(this);
    let query: Buffer;
    try { query = encodeQuery(id, this.hostname, type, this.resolvers.cfg.acceptedPayloadSize); } catch {
      this.resolvers.releaseId(id);
      this.fail('other');
      return;
    }
    const p: Pending = {
      id, type, answered: new Set(), lastError: undefined,
      timer: setTimeout(() => this.onTimeout(p), this.resolvers.cfg.timeoutRetry),
    };
    p.timer.unref();
    this.pending = p;
    for (const ns of this.resolvers.nameservers) {
      if (!ns.usable) { ns.counters.snd_error++; p.answered.add(ns); continue; }
      ns.counters.sent++;
      ns.send(query, (err) => {
        if (!err || this.pending !== p) return;
        ns.counters.snd_error++;
        p.answered.add(ns);
        if (p.answered.size >= this.resolvers.nameservers.length) this.allFailed(p);
      });
    }
  }

  /** An answer for this resolution's query id arrived from `ns`. */
  onAnswer(ns: Nameserver, buf: Buffer, id: number): void {
    const p = this.pending;
    if (!p || p.id !== id || p.answered.has(ns)) { ns.counters.outdated++; return; }
    const c = ns.counters;
    if (buf.length > this.resolvers.cfg.acceptedPayloadSize) { c.too_big++; p.answered.add(ns); p.lastError = 'other'; this.checkAll(p); return; }
    const r = interpretAnswer(buf, id, this.hostname, p.type);
    if (r.status === 'invalid') { c.invalid++; return; } // not an answer to our question: ignore it
    p.answered.add(ns);
    if (r.cname) c.cname++;
    switch (r.status) {
      case 'valid':
        c.valid++;
        clearTimeout(p.timer);
        this.resolvers.releaseId(p.id);
        this.pending = undefined;
        if (this.isSrv) this.succeedSrv(r.srv, r.additional, ns); else this.succeed(r.addresses, ns);
        return;
      case 'empty': c.any_err++; break;
      case 'nx': c.nx++; break;
      case 'refused': c.refused++; break;
      case 'truncated': c.truncated++; break;
      case 'cname_error': c.cname_error++; break;
      default: c.other++; break;
    }
    p.lastError = r.status;
    this.checkAll(p);
  }

  private checkAll(p: Pending): void {
    if (p.answered.size >= this.resolvers.nameservers.length) this.allFailed(p);
  }

  private onTimeout(p: Pending): void {
    if (this.pending !== p) return;
    for (const ns of this.resolvers.nameservers) if (!p.answered.has(ns)) ns.counters.timeout++;
    this.allFailed(p);
  }

  /** Every nameserver answered with an error, or the retry timeout struck. */
  private allFailed(p: Pending): void {
    if (this.pending !== p) return;
    clearTimeout(p.timer);
    this.resolvers.releaseId(p.id);
    this.pending = undefined;
    const err = p.lastError;
    if (this.triesLeft <= 0) { this.fail(statusOf(err)); return; }
    if (err === undefined) { this.send(p.type); return; } // timeout: same type again
    if (!this.switched && !this.isSrv) {
      // an error answer: try the other address family first
      this.switched = true;
      this.send(p.type === QTYPE.A ? QTYPE.AAAA : QTYPE.A);
      return;
    }
    this.switched = false;
    const type = this.preferredType;
    this.schedule(this.resolvers.cfg.timeoutRetry, () => {
      if (!this.pending) this.send(type);
    });
  }

  private fail(status: ResolutionStatus): void {
    this.lastStatus = status;
    const now = Date.now();
    if (status !== 'valid') {
      const hold = this.resolvers.cfg.hold[status];
      if (now - this.lastValid > hold) {
        if (this.isSrv) for (const sd of [...this.servers]) releaseSlot(sd);
        else for (const sd of [...this.servers]) enterMaint(sd, MAINT_REASON[status]);
      }
    }
    this.schedule(this.resolvers.cfg.timeoutResolve);
  }

  private succeed(addresses: string[], ns: Nameserver): void {
    this.lastStatus = 'valid';
    this.lastValid = Date.now();
    let first = true;
    for (const sd of this.servers) {
      const ip = pickAddress(sd, addresses);
      if (ip === undefined) {
        // every listed address is taken by another server of the group (server-template)
        if (!sd.maint) enterMaint(sd, 'No IP for server ');
      } else if (ip !== sd.addr) {
        if (first) ns.counters.update++;
        applyAddress(sd, ip, first ? `${this.resolvers.cfg.name}/${ns.cfg.name}` : 'DNS cache');
      }
      first = false;
    }
    this.schedule(this.resolvers.cfg.timeoutResolve);
  }

  /**
   * A valid SRV answer: each record (target and port) goes to the slot already holding it, or
   * to a free slot; slots whose record is absent for longer than `hold obsolete` are released.
   * A target's address comes from the additional section when present, else from its own
   * A/AAAA resolution.
   */
  private succeedSrv(records: DnsRecord[], additional: DnsRecord[], _ns: Nameserver): void {
    this.lastStatus = 'valid';
    const now = Date.now();
    this.lastValid = now;
    const seen = new Map<string, DnsRecord>();
    for (const r of records) {
      if (!r.data || r.port === undefined) continue;
      const key = `${r.data.toLowerCase()}:${r.port}`;
      if (!seen.has(key)) seen.set(key, r);
    }
    for (const sd of this.servers) if (sd.srvKey !== undefined && seen.has(sd.srvKey)) sd.srvLastSeen = now;
    // records gone for longer than hold obsolete free their slot
    const released = new Set<SrvDns>();
    for (const sd of this.servers) {
      if (sd.srvKey === undefined || seen.has(sd.srvKey)) continue;
      if (now - (sd.srvLastSeen ?? 0) > this.resolvers.cfg.hold.obsolete) { releaseSlot(sd); released.add(sd); }
    }
    for (const [key, r] of seen) {
      let sd = this.servers.find((x) => x.srvKey === key);
      if (!sd) {
        // a slot freed by this very answer is taken last (as HAProxy 2.6 does)
        sd = this.servers.find((x) => x.srvKey === undefined && !released.has(x)) ?? this.servers.find((x) => x.srvKey === undefined);
        if (!sd) continue; // more records than slots
        sd.srvKey = key;
        sd.srvSeen = true;
        sd.srvLastSeen = now;
        sd.fqdn = r.data;
        sd.server.port = r.port!;
      }
      if (!sd.opts.ignoreWeight) {
        const w = Math.ceil((r.weight ?? 0) / 256);
        if (w !== sd.server.uweight) sd.server.setWeight(w);
      }
      const wantV4 = sd.opts.prefer === 'ipv4';
      const addrs = additional.filter((a) => a.name.toLowerCase() === r.data.toLowerCase());
      const ip = (addrs.find((a) => (a.type === QTYPE.A) === wantV4) ?? addrs[0])?.data;
      if (ip !== undefined) {
        detachHost(sd);
        if (ip !== sd.addr) applyAddress(sd, ip, 'DNS additional record', false);
      } else if (!sd.hostRes) {
        const hr = this.resolvers.resolutionFor(r.data, sd.opts.prefer ?? 'ipv6');
        sd.hostRes = hr;
        hr.servers.push(sd);
        if (this.resolvers.isStarted) hr.start(1);
      }
    }
    this.schedule(this.resolvers.cfg.timeoutResolve);
  }
}

function detachHost(sd: SrvDns): void {
  const hr = sd.hostRes;
  if (!hr) return;
  const i = hr.servers.indexOf(sd);
  if (i >= 0) hr.servers.splice(i, 1);
  sd.hostRes = undefined;
}

/** An SRV slot loses its record: maintenance, no address, no target. */
function releaseSlot(sd: SrvDns): void {
  if (sd.srvKey === undefined && sd.maint) return;
  detachHost(sd);
  enterMaint(sd, 'entry removed from SRV record');
  sd.srvKey = undefined;
  sd.fqdn = '';
  sd.server.port = 0;
}

function statusOf(e: AnswerStatus | undefined): ResolutionStatus {
  switch (e) {
    case undefined: return 'timeout';
    case 'nx': return 'nx';
    case 'refused': return 'refused';
    default: return 'other';
  }
}

function inNet(ip: string, net: [string, number]): boolean {
  const fa = isIP(ip), fb = isIP(net[0]);
  if (fa !== fb || fa === 0) return false;
  const a = ipBytes(ip), b = ipBytes(net[0]);
  let bits = net[1];
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

function ipBytes(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out: number[] = [];
  for (const g of groups) { const v = parseInt(g || '0', 16); out.push(v >> 8, v & 0xff); }
  return out;
}

/**
 * The address a server takes from an answer: its current one when still listed; else the first
 * in a `resolve-net` network; addresses already used by another server of the backend resolving
 * the same name are skipped unless `allow-dup-ip`.
 */
export function pickAddress(sd: SrvDns, addresses: string[]): string | undefined {
  let cands = addresses;
  const nets = sd.opts.nets;
  if (nets?.length) {
    const m = addresses.filter((a) => nets.some((n) => inNet(a, n)));
    if (m.length) cands = m;
  }
  if (sd.addr !== undefined && cands.includes(sd.addr)) return sd.addr;
  if (!sd.opts.allowDupIp) {
    const s = sd.server;
    const used = new Set<string>();
    for (const o of s.backend.servers) {
      if (o === s || !o.dns || o.dns.addr === undefined) continue;
      if (o.dns.fqdn.toLowerCase() === sd.fqdn.toLowerCase()) used.add(o.dns.addr);
    }
    const free = cands.filter((a) => !used.has(a));
    return free[0];
  }
  return cands[0];
}

function label(s: Server): string { return `${s.backend.name}/${s.name}`; }

function applyAddress(sd: SrvDns, ip: string, by: string, adminMsg = true): void {
  const s = sd.server;
  srvMessage(s.backend, `${label(s)} changed its IP from ${sd.addr ?? '(none)'} to ${ip} by ${by}.`, LOG_NOTICE);
  sd.addr = ip;
  s.setAddress(ip);
  if (sd.maint) {
    sd.maint = false;
    s.resolvMaint = false;
    srvMessage(s.backend, `Server ${label(s)} ('${sd.fqdn}') is UP/READY (resolves again).`, LOG_NOTICE);
    // HAProxy 2.6 prints this one except for an address taken from an SRV additional record
    if (adminMsg) srvMessage(s.backend, `Server ${label(s)} administratively READY thanks to valid DNS answer.`, LOG_NOTICE);
    if (!s.cfg.disabled) s.setAdmin('ready');
  }
}

function enterMaint(sd: SrvDns, reason: string): void {
  if (sd.maint) return;
  const s = sd.server;
  const be = s.backend as Proxy;
  const wasCounted = s.up && s.admin !== 'maint';
  const queued = s.queue.length;
  sd.maint = true;
  sd.addr = undefined;
  s.resolvMaint = true;
  s.setAdmin('maint');
  if (!wasCounted) return;
  const act = be.servers.filter((x) => !x.backup && x.up && x.admin !== 'maint').length;
  const bck = be.servers.filter((x) => x.backup && x.up && x.admin !== 'maint').length;
  srvMessage(be, `${s.backup ? 'Backup ' : ''}Server ${label(s)} is going DOWN for maintenance (${reason}). ${act} active and ${bck} backup servers left. ${s.cur} sessions active, ${queued} requeued, ${s.queue.length} remaining in queue.`, LOG_ALERT);
  if (act === 0 && bck === 0) noServerMessage(be);
}

export class Resolvers {
  readonly cfg: ResolversConfig;
  readonly nameservers: Nameserver[];
  readonly resolutions: Resolution[] = [];
  private readonly ids = new Map<number, Resolution>();
  private started = false;
  get isStarted(): boolean { return this.started; }

  constructor(cfg: ResolversConfig) {
    this.cfg = cfg;
    this.nameservers = cfg.nameservers.map((n) => new Nameserver(n));
  }

  allocId(r: Resolution): number {
    for (;;) {
      const id = randomInt(0, 0x10000);
      if (!this.ids.has(id)) { this.ids.set(id, r); return id; }
    }
  }
  releaseId(id: number): void { this.ids.delete(id); }

  resolutionFor(hostname: string, prefer: 'ipv4' | 'ipv6'): Resolution {
    const key = hostname.toLowerCase();
    let r = this.resolutions.find((x) => x.hostname.toLowerCase() === key && x.prefer === prefer);
    if (!r) { r = new Resolution(this, hostname, prefer); this.resolutions.push(r); }
    return r;
  }

  /** Opens the nameserver sockets and starts the resolutions (only when some server uses them). */
  async start(): Promise<void> {
    if (this.started || !this.resolutions.length) return;
    this.started = true;
    for (const ns of this.nameservers) ns.onMessage = (buf) => this.onMessage(ns, buf);
    await Promise.all(this.nameservers.filter((ns) => !ns.cfg.tcp).map((ns) => new Promise<void>((resolve) => {
      const sock = dgram.createSocket(isIP(ns.cfg.host) === 6 ? 'udp6' : 'udp4');
      sock.on('message', (buf) => this.onMessage(ns, buf));
      sock.on('error', () => { /* counted on send */ });
      sock.bind(0, () => { sock.unref(); ns.sock = sock; resolve(); });
    })));
    this.resolutions.forEach((r, i) => r.start(1 + i));
  }

  private onMessage(ns: Nameserver, buf: Buffer): void {
    if (buf.length < 12) { ns.counters.invalid++; return; }
    const id = buf.readUInt16BE(0);
    const r = this.ids.get(id);
    if (!r) { ns.counters.outdated++; return; }
    r.onAnswer(ns, buf, id);
  }

  stop(): void {
    for (const r of this.resolutions) r.stop();
    for (const ns of this.nameservers) ns.close();
    this.started = false;
  }

  /** This section's block of `show resolvers`. */
  render(): string {
    const out = [`Resolvers section ${this.cfg.name}`];
    for (const ns of this.nameservers) {
      out.push(` nameserver ${ns.cfg.name}:`);
      for (const k of COUNTER_NAMES) out.push(`  ${`${k}:`.padEnd(13)}${ns.counters[k]}`);
    }
    return out.join('\n') + '\n';
  }
}

/** The resolvers of the running process, in declaration order. */
let active: Resolvers[] = [];
export function activeResolvers(): readonly Resolvers[] { return active; }

/**
 * Builds the resolvers of a configuration and attaches the servers using them. Servers left
 * without an address at start-up (init-addr none) are put in maintenance until resolved.
 */
export function setupResolvers(config: Config, proxies: readonly Proxy[]): Resolvers[] {
  const list: Resolvers[] = [];
  const byName = new Map<string, Resolvers>();
  for (const rc of config.resolvers?.values() ?? []) {
    const r = new Resolvers(rc);
    list.push(r);
    byName.set(rc.name, r);
  }
  for (const p of proxies) {
    if (!p.isBackend) continue;
    for (const s of p.servers) {
      const o = s.cfg.dns ?? {};
      const isSrv = s.cfg.address.isHostname && s.cfg.address.host.startsWith('_');
      if (s.cfg.noInitAddr) {
        s.dns = { server: s, opts: o, addr: undefined, maint: true, fqdn: isSrv ? '' : s.cfg.address.host };
        s.resolvMaint = true;
        s.setAdmin('maint');
      }
      const r = o.resolvers !== undefined ? byName.get(o.resolvers) : undefined;
      if (!r || !s.cfg.address.isHostname) continue;
      s.dns ??= { server: s, opts: o, addr: s.host, maint: false, fqdn: s.cfg.address.host };
      if (isSrv) {
        // a slot filled from SRV records: no address nor port until a record is assigned
        s.dns.srvName = s.cfg.address.host;
        s.dns.fqdn = '';
        s.port = 0;
        // the port always comes from the SRV record, never from the client's destination
        (s.cfg.address as { hasPort: boolean }).hasPort = true;
        if (!s.dns.maint) { s.dns.maint = true; s.dns.addr = undefined; s.resolvMaint = true; s.setAdmin('maint'); }
      }
      r.resolutionFor(s.cfg.address.host, o.prefer ?? 'ipv6').servers.push(s.dns);
    }
  }
  active = list;
  return list;
}

export async function startResolvers(list: readonly Resolvers[]): Promise<void> {
  await Promise.all(list.map((r) => r.start()));
}

export function stopResolvers(list: readonly Resolvers[]): void {
  for (const r of list) r.stop();
  if (active === list) active = [];
}

registerCli({
  words: ['show', 'resolvers'], usage: 'show resolvers [id]', help: 'dumps counters from all resolvers section and associated name servers', level: 'user',
  run(args, ctx: CliContext) {
    const id = args[2];
    const list = id === undefined ? active : active.filter((r) => r.cfg.name === id);
    if (id !== undefined && !list.length) {
      const text = "Can't find that resolvers section";
      if ('err' in ctx && typeof ctx.err === 'function') (ctx.err as (t: string) => void)(text); else ctx.out(`${text}\n`);
      return;
    }
    ctx.out(list.map((r) => r.render()).join(''));
  },
});
