// A TCP-mode stream: client connection ⇄ server connection, full duplex with half-close,
// HAProxy's timeouts, queueing, retries and redispatch, optional PROXY protocol on both sides.
import type { Runtime, BindListener } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server, PendingConn } from '../proxy/server.js';
import { parseProxyHeader, type ProxyInfo } from '../net/proxy-protocol.js';
import { serverConnectOptions, buildProxyHeader, shouldRedispatch, countIn, countOut } from './server-connect.js';
import { plainAddress } from '../net/address.js';
import { sourceKey, rdpCookieKey } from '../lb/config.js';
import { ReadBuffer, adoptAccepted, attachReader, safeView, whenFlushed, type Sock } from '../net/read-buffers.js';
import { connectSock } from '../net/raw-socket.js';

/** Termination state letters (configuration.txt 8.5): who ended it, and in which phase. */
export type TermCause = '-' | 'C' | 'S' | 'P' | 'I' | 'R' | 'K' | 'c' | 's' | 'D' | 'L';
export type TermPhase = '-' | 'R' | 'Q' | 'C' | 'H' | 'D' | 'L' | 'T';

const MAX_PENDING_BYTES = 1 << 20;

export class TcpStream implements PendingConn {
  readonly rt: Runtime;
  readonly listener: BindListener;
  readonly fe: Proxy;
  be: Proxy | undefined;
  cli: Sock;
  srv: Sock | undefined;
  server: Server | undefined;
  /** client and original destination addresses (possibly from a PROXY header) */
  src = ''; srcPort = 0; dst = ''; dstPort = 0;
  proxyInfo: ProxyInfo | undefined;
  dequeued = true;
  queuedAt = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private cliEnded = false;
  private srvEnded = false;
  private cliShut = false;   // we sent FIN to the client
  private srvShut = false;   // we sent FIN to the server
  private closed = false;
  private phase: TermPhase = 'R';
  termCause: TermCause = '-';
  termPhase: TermPhase = '-';
  retriesLeft = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private queuedOn: Server | undefined;
  readonly acceptedAt = Date.now();
  bytesIn = 0;
  bytesOut = 0;
  /** server connection established */
  private connected = false;
  /** What client bytes are for: the PROXY header, waiting for a server, or relaying. */
  private cliMode: 'proxy' | 'pending' | 'relay' = 'pending';
  /** the PROXY header read so far */
  private proxyBuf: Buffer | undefined;
  /** Both directions read into buffers the stream owns (net/read-buffers.ts). */
  private readonly cbuf = new ReadBuffer();
  /** last traffic in either direction (ms), and the idle timeouts of each side (0: none) */
  private lastAct = 0;
  private cliTmo = 0;
  private srvTmo = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly sbuf = new ReadBuffer();

  constructor(rt: Runtime, listener: BindListener, accepted: Sock) {
    this.rt = rt;
    this.listener = listener;
    this.fe = listener.proxy;
    const onread = { buffer: this.cbuf.next, callback: this.onCliRead };
    const adopted = attachReader(accepted, onread) ? accepted : adoptAccepted(accepted, onread, true);
    const cli = adopted ?? accepted;
    if (!adopted) {
      // fallback: the same handler, fed by 'data' events
      cli.on('data', (chunk: Buffer) => { if (!this.onCliRead(chunk.length, chunk)) cli.pause(); });
    }
    this.cli = cli;
    this.src = plainAddress(cli.remoteAddress);
    this.srcPort = cli.remotePort ?? 0;
    this.dst = plainAddress(cli.localAddress);
    this.dstPort = cli.localPort ?? 0;
  }

  start(): void {
    const cli = this.cli;
    const fe = this.fe;
    cli.on('error', (e) => this.guard(() => this.onCliError(e)));
    cli.on('close', () => this.guard(() => this.onCliClose()));
    if (fe.cfg.options.clitcpka) cli.setKeepAlive(true);
    cli.setNoDelay(true);
    const tmo = fe.cfg.timeouts.client;
    this.setIdleTimeouts(tmo ?? 0, 0);
    if (this.listener.cfg.acceptProxy) {
      this.readProxyHeader();
    } else {
      this.startStream();
    }
  }

  /** Runs a handler so that an exception ends this stream, never the process. */
  private guard(fn: () => void): void {
    try { fn(); } catch (e) {
      this.rt.internalError(e);
      this.terminate('I', this.phase);
    }
  }

  // ---------------------------------------------------------------- PROXY header on accept
  private readProxyHeader(): void {
    this.cliMode = 'proxy';
    this.cli.once('end', this.onCliEndInHeader);
    this.cli.resume();
  }

  private readonly onCliEndInHeader = (): void => this.guard(() => {
    if (this.cliMode !== 'proxy') return;
    this.fe.feCounters.failedReq++;
    this.listener.counters.failedReq++;
    this.terminate('C', 'R');
  });

  /** Client bytes while the PROXY header is expected. */
  private onProxyBytes(chunk: Buffer): void {
    const buf = this.proxyBuf ? Buffer.concat([this.proxyBuf, chunk]) : Buffer.from(chunk);
    const r = parseProxyHeader(buf);
    if (r.status === 'incomplete') { this.proxyBuf = buf; return; }
    this.proxyBuf = undefined;
    this.cli.removeListener('end', this.onCliEndInHeader);
    if (r.status === 'error') {
      this.fe.feCounters.failedReq++;
      this.listener.counters.failedReq++;
      this.rt.debug(`${this.fe.name}: invalid PROXY header from ${this.src}:${this.srcPort}: ${r.reason}`);
      this.terminate('P', 'R');
      return;
    }
    this.proxyInfo = r.info;
    if (r.info.command === 'PROXY' && (r.info.family === 'TCP4' || r.info.family === 'TCP6')) {
      this.src = plainAddress(r.info.srcAddr); this.srcPort = r.info.srcPort ?? 0;
      this.dst = plainAddress(r.info.dstAddr); this.dstPort = r.info.dstPort ?? 0;
    }
    this.cliMode = 'pending';
    if (buf.length > r.length) this.pushPending(buf.subarray(r.length));
    this.startStream();
  }

  /**
   * Every byte from the client arrives here, in cbuf (valid only during the call). Returning
   * false pauses reading from the client.
   */
  private readonly onCliRead = (n: number, buf: Uint8Array): boolean => {
    if (this.closed) return false;
    this.lastAct = Date.now();
    const chunk = (buf as Buffer).subarray(0, n);
    if (this.cliMode === 'relay') {
      countIn(this, n);
      const srv = this.srv!;
      const ok = srv.write(safeView(chunk));
      if (!ok || srv.writableLength > 0) {
        this.cbuf.busy = true;
        if (ok) whenFlushed(srv, this.onSrvDrain);
        return false;
      }
      this.cbuf.grow(n);
      return true;
    }
    try {
      if (this.cliMode === 'proxy') this.onProxyBytes(chunk);
      else this.pushPending(Buffer.from(chunk));
    } catch (e) {
      this.rt.internalError(e);
      this.terminate('I', this.phase);
      return false;
    }
    return !this.closed && this.pendingBytes < MAX_PENDING_BYTES;
  };

  // ---------------------------------------------------------------- backend and server choice
  private startStream(): void {
    const be = this.fe.isBackend ? this.fe : this.fe.defaultBackend;
    if (!be || be.stopped) {
      this.terminate('P', 'R');
      return;
    }
    this.be = be;
    be.counters.enter();
    this.retriesLeft = be.cfg.retries;
    // read what the client sends while we look for a server, within bounds (onCliRead)
    this.cli.on('end', this.onCliEndEarly);
    if (this.pendingBytes < MAX_PENDING_BYTES) this.cli.resume();
    this.phase = 'Q';
    this.assign(null);
  }

  private pushPending(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  private onCliEndEarly = (): void => this.guard(() => {
    this.cliEnded = true;
    if (this.be?.cfg.options.abortonclose && !this.connected) {
      this.be.counters.cliAborts++;
      this.fe.feCounters.cliAborts++;
      this.terminate('C', this.phase);
    }
  });

  private assign(avoid: Server | null): void {
    const be = this.be!;
    const r = be.assign({ src: this.src, key: this.lbKey(be) }, avoid, this);
    switch (r.kind) {
      case 'assigned':
        this.server = r.server;
        this.connect();
        return;
      case 'queued': {
        this.phase = 'Q';
        this.queuedOn = r.server;
        const qt = be.cfg.timeouts.queue ?? be.cfg.timeouts.connect;
        if (qt) this.setTimer(qt, () => {
          be.unqueue(this, this.queuedOn);
          this.terminate('s', 'Q');
        });
        return;
      }
      case 'none':
        this.terminate('S', 'C');
        return;
    }
  }

  /** Hashing input for the backend's algorithm, from what is known of the connection so far. */
  private lbKey(be: Proxy): Uint8Array | null {
    const b = be.cfg.balance;
    if (!b) return null;
    if (b.algo === 'source') return sourceKey(this.src);
    if (b.algo === 'rdp-cookie' && this.pendingBytes > 0) {
      return rdpCookieKey(Buffer.concat(this.pending), b.cookie);
    }
    return null;
  }

  /** Called by the backend when a queued stream gets a slot on `srv`. */
  grant(srv: Server): void {
    this.guard(() => {
      this.clearTimer();
      this.queuedOn = undefined;
      if (this.closed) { this.be!.release(srv); return; }
      this.server = srv;
      this.connect();
    });
  }

  // ---------------------------------------------------------------- server connection
  private connect(): void {
    const be = this.be!;
    const s = this.server!;
    this.phase = 'C';
    this.attempt++;
    const opts = serverConnectOptions(be, s, this, { buffer: this.sbuf.next, callback: this.onSrvRead });
    const sock = connectSock(opts);
    this.srv = sock;
    if (be.cfg.options.srvtcpka || s.cfg.tcpka) sock.setKeepAlive(true);
    const ct = be.cfg.timeouts.connect;
    if (ct) this.setTimer(ct, () => { sock.destroy(); this.connectFailed('timeout'); });
    sock.once('connect', () => this.guard(() => this.onConnected(sock)));
    sock.on('error', (e) => this.guard(() => {
      if (!this.connected && this.srv === sock) this.connectFailed(e.message);
      else this.onSrvError(e);
    }));
  }

  private connectFailed(why: string): void {
    if (this.closed) return;
    this.clearTimer();
    const be = this.be!;
    const s = this.server!;
    const sock = this.srv;
    this.srv = undefined;
    sock?.removeAllListeners();
    sock?.on('error', () => {});
    sock?.destroy();
    s.counters.failedConns++;
    be.counters.failedConns++;
    if (this.retriesLeft <= 0) {
      be.release(s);
      this.server = undefined;
      this.terminate('S', 'C');
      return;
    }
    const retryNo = be.cfg.retries - this.retriesLeft + 1;
    this.retriesLeft--;
    s.counters.retries++;
    be.counters.retries++;
    if (shouldRedispatch(be, retryNo) && be.usableServers() > 1) {
      be.release(s);
      this.server = undefined;
      s.counters.redispatches++;
      be.counters.redispatches++;
      this.assign(s);
      return;
    }
    // turn-around timer before retrying the same server
    const wait = why === 'timeout' ? 0 : Math.min(be.cfg.timeouts.connect ?? 1000, 1000); // HAProxy: no turn-around after a connect timeout
    this.setTimer(wait, () => this.connect());
  }

  private onConnected(sock: Sock): void {
    if (this.closed) { sock.destroy(); return; }
    this.clearTimer();
    this.connected = true;
    this.phase = 'D';
    const be = this.be!;
    const s = this.server!;
    if (s.sendProxy) sock.write(buildProxyHeader(s, this));
    // flush what the client sent meanwhile
    this.cli.removeListener('end', this.onCliEndEarly);
    for (const b of this.pending) { countIn(this, b.length); sock.write(b); }
    this.pending = [];
    this.pendingBytes = 0;
    // idle timeouts: tunnel supersedes client/server once established
    const tun = be.cfg.timeouts.tunnel;
    const ct = tun ?? this.fe.cfg.timeouts.client;
    const st = tun ?? be.cfg.timeouts.server;
    this.lastAct = Date.now();
    this.setIdleTimeouts(ct ?? 0, st ?? 0);
    sock.on('close', () => this.guard(() => this.onSrvClose()));
    // client → server: see onCliRead
    this.cliMode = 'relay';
    sock.on('drain', this.onSrvDrain);
    // server → client: see onSrvRead
    this.cli.on('drain', this.onCliDrain);
    this.cli.on('end', () => this.guard(() => this.onCliEnd()));
    sock.on('end', () => this.guard(() => this.onSrvEnd()));
    if (this.cliEnded) this.onCliEnd();
    else this.cli.resume();
    sock.resume();
  }

  /** Bytes from the server, in sbuf (valid only during the call). Returning false pauses the server socket. */
  private readonly onSrvRead = (n: number, buf: Uint8Array): boolean => {
    if (this.closed) return false;
    this.lastAct = Date.now();
    countOut(this, n);
    const cli = this.cli;
    const ok = cli.write((buf as Buffer).subarray(0, n));
    if (!ok || cli.writableLength > 0) {
      // the write is queued and still points into sbuf: no more reads into it until it drains
      this.sbuf.busy = true;
      if (ok) whenFlushed(cli, this.onCliDrain);
      return false;
    }
    this.sbuf.grow(n);
    return true;
  };

  private readonly onCliDrain = (): void => {
    if (!this.sbuf.busy) return;
    this.sbuf.busy = false;
    this.srv?.resume();
  };

  private readonly onSrvDrain = (): void => {
    if (!this.cbuf.busy) return;
    this.cbuf.busy = false;
    if (!this.cliEnded) this.cli.resume();
  };



  // ---------------------------------------------------------------- half-close and timeouts
  private onCliEnd(): void {
    this.cliEnded = true;
    if (this.srv && !this.srvShut) { this.srvShut = true; this.srv.end(); }
    if (this.srvEnded) { this.finish(); return; }
    // The client is done sending: nothing more is expected from it, and the server side's
    // timeout rules (server-fin once we shut our side towards it, if set).
    const sf = this.be?.cfg.timeouts.serverFin;
    this.setIdleTimeouts(0, sf && this.srv ? sf : this.srvTmo);
  }

  private onSrvEnd(): void {
    this.srvEnded = true;
    if (!this.cliShut) { this.cliShut = true; this.cli.end(); }
    if (this.cliEnded) { this.finish(); return; }
    // We shut our side towards the client: waiting for it to finish uses client-fin if set.
    const cf = this.fe.cfg.timeouts.clientFin;
    if (cf) this.setIdleTimeouts(cf, this.srvTmo);
  }

  private onCliTimeout(): void {
    if (this.closed) return;
    if (this.phase === 'R') { this.terminate('c', 'R'); return; }
    if (!this.connected) return; // waiting for a server: the queue/connect timers rule
    this.terminate('c', 'D');
  }

  private onSrvTimeout(): void {
    if (this.closed) return;
    this.terminate('s', 'D');
  }

  private onCliError(_e: Error): void {
    if (this.closed) return;
    if (this.be) { this.be.counters.cliAborts++; this.fe.feCounters.cliAborts++; if (this.server) this.server.counters.cliAborts++; }
    this.terminate('C', this.phase);
  }

  private onSrvError(_e: Error): void {
    if (this.closed) return;
    if (this.be) { this.be.counters.srvAborts++; if (this.server) this.server.counters.srvAborts++; }
    this.terminate('S', 'D');
  }

  private onCliClose(): void {
    if (this.closed) return;
    if (!this.connected) {
      // client went away while we were waiting: abort
      if (this.be) { this.be.counters.cliAborts++; this.fe.feCounters.cliAborts++; }
      this.terminate('C', this.phase);
      return;
    }
    if (!this.cliEnded) { this.terminate('C', 'D'); return; }
    if (this.srvEnded) this.finish();
  }

  private onSrvClose(): void {
    if (this.closed) return;
    if (!this.srvEnded) { this.terminate('S', 'D'); return; }
    if (this.cliEnded) this.finish();
  }

  // ---------------------------------------------------------------- end of stream
  private setTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(() => this.guard(fn), ms);
  }

  private clearTimer(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
  }

  // Idle timeouts (client/server/tunnel/client-fin/server-fin). Instead of a timer per socket
  // refreshed on every read and write, traffic in either direction only stores a timestamp
  // (every byte read on one side is written to the other, so it is activity on both), and one
  // timer per stream is re-armed lazily when it fires early. When both sides are idle past
  // their timeouts the client side is reported first, as HAProxy checks it first.
  private setIdleTimeouts(cli: number, srv: number): void {
    this.cliTmo = cli;
    this.srvTmo = srv;
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    if (!this.lastAct) this.lastAct = Date.now();
    this.armIdle();
  }

  private armIdle(): void {
    const c = this.cliTmo, s = this.srvTmo;
    if (!c && !s || this.closed) return;
    const tmo = !c ? s : !s ? c : Math.min(c, s);
    const left = Math.max(0, this.lastAct + tmo - Date.now());
    this.idleTimer = setTimeout(this.onIdleTimer, left);
  }

  private readonly onIdleTimer = (): void => this.guard(() => {
    this.idleTimer = undefined;
    if (this.closed) return;
    const idle = Date.now() - this.lastAct;
    // a timeout that does not end the stream (client idle while waiting for a server, where the
    // queue and connect timers rule) fires once, as a socket timeout would
    if (this.cliTmo && idle >= this.cliTmo) { this.onCliTimeout(); if (this.closed) return; this.cliTmo = 0; }
    if (this.srvTmo && idle >= this.srvTmo) { this.onSrvTimeout(); if (this.closed) return; this.srvTmo = 0; }
    this.armIdle();
  });

  /** Both directions ended normally: close once the data is flushed. */
  private finish(): void {
    if (this.closed) return;
    const done = (): void => this.terminate('-', '-');
    if (this.cli.writableLength === 0 && (!this.srv || this.srv.writableLength === 0)) done();
    else setImmediate(done);
  }

  terminate(cause: TermCause, phase: TermPhase): void {
    if (this.closed) return;
    this.closed = true;
    this.termCause = cause;
    this.termPhase = phase;
    this.clearTimer();
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    if (!this.dequeued && this.be) this.be.unqueue(this, this.queuedOn);
    const linger0 = this.fe.cfg.options.nolinger || (this.be?.cfg.options.nolinger ?? false);
    const cli = this.cli;
    if (cause === '-' ) {
      cli.end();
      cli.destroySoon();
    } else if (linger0 && !cli.destroyed) {
      cli.resetAndDestroy();
    } else {
      cli.destroy();
    }
    if (this.srv) {
      const srv = this.srv;
      if (cause === '-') srv.destroySoon();
      else if (this.be?.cfg.options.nolinger && !srv.destroyed && srv.readyState === 'open') srv.resetAndDestroy();
      else srv.destroy();
    }
    if (this.server && this.be) {
      const s = this.server;
      this.server = undefined;
      this.be.release(s);
    }
    // a buffer a queued write still points into is left to the garbage collector
    this.sbuf.release(cli.writableLength === 0);
    this.cbuf.release(!this.srv || this.srv.writableLength === 0);
    if (this.be) this.be.counters.leave();
    this.rt.sessionEnded(this);
  }
}
