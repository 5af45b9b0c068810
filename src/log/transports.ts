// Where log lines go: UDP syslog servers, unix datagram sockets (/dev/log), file descriptors
// (stdout, stderr, fd@N), rings (ring@name) and TCP/unix-stream syslog servers behind an
// implicit ring (tcp@, tcp4@, tcp6@, uxst@). Sending never blocks the event loop for long and
// never throws: a line that cannot be sent is dropped and counted (show info DroppedLogs).
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { sockopt } from '../net/sockopt.js';
import type { LogTransport, LogFormatName } from './syslog.js';

/* ---- UDP ---- */

const udpSockets: { udp4?: dgram.Socket; udp6?: dgram.Socket } = {};

function udpSocket(family: 'udp4' | 'udp6'): dgram.Socket {
  let s = udpSockets[family];
  if (!s) {
    s = dgram.createSocket(family);
    s.on('error', () => { /* ICMP errors etc.: the log is lost, as with syslog over UDP */ });
    s.unref();
    udpSockets[family] = s;
  }
  return s;
}

/** Native non-blocking UDP sockets (one per family), when the addon has them. */
const nativeUdp: { 4?: number; 6?: number } = {};

function nativeUdpFd(family: 4 | 6): number {
  let fd = nativeUdp[family];
  if (fd === undefined) {
    try { fd = sockopt?.udpSocket ? sockopt.udpSocket(family) : -1; } catch { fd = -1; }
    nativeUdp[family] = fd;
  }
  return fd;
}

export class UdpTransport implements LogTransport {
  readonly label: string;
  private sock: dgram.Socket | undefined;
  constructor(public host: string, readonly port: number) {
    this.label = `udp@${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  write(line: Buffer | string): boolean {
    const b = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
    // one sendto() through the addon: a dgram.send costs several times more per datagram, and a
    // line per request is the common case; a full socket buffer drops the line, as in HAProxy
    const fam = net.isIPv4(this.host) ? 4 : net.isIPv6(this.host) ? 6 : 0;
    if (fam && sockopt?.udpSend) {
      const fd = nativeUdpFd(fam);
      if (fd >= 0) {
        const n = sockopt.udpSend(fd, this.host, this.port, b);
        // ECONNREFUSED and the like report an earlier datagram's fate: this one was sent
        return n >= 0 || n === -111;
      }
    }
    try {
      (this.sock ??= udpSocket(net.isIPv6(this.host) ? 'udp6' : 'udp4')).send(b, this.port, this.host);
      return true;
    } catch { return false; }
  }
}

/* ---- unix datagram sockets ---- */

let unixFd = -1;

export function unixDgramAvailable(): boolean {
  return sockopt?.unixDgramSocket !== undefined && sockopt.unixDgramSend !== undefined;
}

export class UnixDgramTransport implements LogTransport {
  readonly label: string;
  constructor(readonly path: string) { this.label = path; }
  write(line: Buffer | string): boolean {
    const a = sockopt;
    if (!a?.unixDgramSend || !a.unixDgramSocket) return false;
    try {
      if (unixFd < 0) unixFd = a.unixDgramSocket();
      return a.unixDgramSend(unixFd, this.path, typeof line === 'string' ? Buffer.from(line, 'latin1') : line) >= 0;
    } catch { return false; }
  }
}

/* ---- file descriptors ---- */

export class FdTransport implements LogTransport {
  readonly label: string;
  private nonBlocking = false;
  constructor(readonly fd: number) { this.label = fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : `fd@${fd}`; }
  write(line: Buffer | string): boolean {
    // as HAProxy does, the descriptor is non-blocking: a reader that stalls costs dropped lines
    // (EAGAIN), never a stalled process; a line up to the pipe's atomic size goes whole or not
    if (!this.nonBlocking) {
      this.nonBlocking = true;
      try { sockopt?.setNonBlocking?.(this.fd); } catch { /* a descriptor that refuses: left as is */ }
    }
    try {
      const b = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
      return fs.writeSync(this.fd, b) === b.length;
    } catch { return false; }
  }
}

/* ---- rings ---- */

export interface RingServerConfig {
  name: string;
  host?: string;
  port?: number;
  path?: string;
  /** rfc6587: non-transparent framing ('legacy', one line per message) or octet counting */
  proto: 'legacy' | 'octet-count';
}

export interface RingConfig {
  name: string;
  where: { file: string; line: number };
  description?: string;
  format: LogFormatName;
  maxlen: number;
  size: number;
  timeoutConnect?: number;
  timeoutServer?: number;
  servers: RingServerConfig[];
  /** created by a tcp@/uxst@ log target rather than a ring section */
  implicit?: boolean;
}

interface RingEntry { seq: number; line: string }

/** An in-memory ring of messages: the oldest are dropped when `size` bytes are exceeded. */
export class Ring implements LogTransport {
  readonly label: string;
  readonly ring: { format: LogFormatName; maxlen: number } | undefined;
  private entries: RingEntry[] = [];
  private head = 0;
  private bytes = 0;
  private nextSeq = 0;
  /** messages lost because a server lagged behind the ring's size */
  dropped = 0;
  private readonly waiters = new Set<() => void>();
  private readonly forwarders: RingForwarder[] = [];

  constructor(readonly cfg: RingConfig) {
    this.label = `ring@${cfg.name}`;
    this.ring = cfg.implicit ? undefined : { format: cfg.format, maxlen: cfg.maxlen };
  }

  write(line: Buffer | string): boolean {
    const s = typeof line === 'string' ? line : line.toString('latin1');
    // a ring keeps messages without their final newline
    const msg = s.endsWith('\n') ? s.slice(0, -1) : s;
    if (msg.length + 1 > this.cfg.size) return false;
    this.entries.push({ seq: this.nextSeq++, line: msg });
    this.bytes += msg.length + 1;
    while (this.bytes > this.cfg.size && this.head < this.entries.length) {
      const old = this.entries[this.head++]!;
      this.bytes -= old.line.length + 1;
      for (const f of this.forwarders) if (f.cursor <= old.seq) { f.cursor = old.seq + 1; this.dropped++; }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) { this.entries = this.entries.slice(this.head); this.head = 0; }
    for (const f of this.forwarders) f.kick();
    for (const w of this.waiters) w();
    return true;
  }

  /** The messages with a sequence number >= from. */
  since(from: number): RingEntry[] {
    // sequence numbers are contiguous from the head
    return this.entries.slice(this.head + Math.max(0, from - this.firstSeq));
  }

  get lastSeq(): number { return this.nextSeq; }
  get firstSeq(): number { return this.head < this.entries.length ? this.entries[this.head]!.seq : this.nextSeq; }

  /** Calls fn on every new message until the returned function is called. */
  watch(fn: () => void): () => void { this.waiters.add(fn); return () => this.waiters.delete(fn); }

  /** Starts forwarding to the ring's servers. */
  start(): void {
    for (const s of this.cfg.servers) {
      const f = new RingForwarder(this, s);
      this.forwarders.push(f);
      f.connect();
    }
  }

  stop(): void { for (const f of this.forwarders) f.stop(); }
}

/** One TCP (or unix stream) syslog server fed from a ring, reconnecting when it fails. */
class RingForwarder {
  cursor = 0;
  private sock: net.Socket | undefined;
  private connected = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly ring: Ring, private readonly srv: RingServerConfig) {
    this.cursor = ring.firstSeq;
  }

  connect(): void {
    if (this.stopped) return;
    const s = this.srv.path !== undefined
      ? net.createConnection({ path: this.srv.path })
      : net.createConnection({ host: this.srv.host!, port: this.srv.port! });
    this.sock = s;
    const tc = this.ring.cfg.timeoutConnect ?? 5000;
    s.setTimeout(tc);
    s.on('connect', () => {
      this.connected = true;
      s.setTimeout(this.ring.cfg.timeoutServer ?? 0);
      this.kick();
    });
    s.on('timeout', () => s.destroy());
    s.on('drain', () => this.kick());
    s.on('data', () => { /* syslog servers do not answer; ignore */ });
    s.on('error', () => { /* retried on close */ });
    s.on('close', () => {
      this.connected = false;
      this.sock = undefined;
      if (!this.stopped) { this.retry = setTimeout(() => this.connect(), 1000); this.retry.unref(); }
    });
    s.unref();
  }

  kick(): void {
    const s = this.sock;
    if (!s || !this.connected || s.writableNeedDrain) return;
    const list = this.ring.since(this.cursor);
    if (!list.length) return;
    let out = '';
    for (const e of list) {
      out += this.srv.proto === 'octet-count' ? `${Buffer.byteLength(e.line, 'latin1')} ${e.line}` : e.line + '\n';
      this.cursor = e.seq + 1;
      if (out.length > 65536) break;
    }
    s.write(Buffer.from(out, 'latin1'));
    if (!s.writableNeedDrain && this.cursor < this.ring.lastSeq) setImmediate(() => this.kick());
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.sock?.end();
  }
}

/** The rings of the configuration (ring sections and the implicit ones of tcp@ targets). */
export const rings = new Map<string, Ring>();
