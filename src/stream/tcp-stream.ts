// A TCP-mode stream: client connection ⇄ server connection, full duplex with half-close,
// HAProxy's timeouts, queueing, retries and redispatch, optional PROXY protocol on both sides.
// The rules (configuration.txt 4.2): tcp-request connection rules on accept, tcp-request session
// rules once the session is valid, then the content analysis (the frontend's tcp-request content
// rules with its inspect-delay, use_backend switching, the backend's tcp-request content rules,
// use-server), and on the server side the backend's tcp-response content rules.
// HTTP upgrade (configuration.txt section 4): `switch-mode http` or content switching choosing an
// HTTP backend hands the client connection over to an HttpStream (handOver).
import { logStream, logConnect, isLogError, logSessionError, proxyHeaderErrorText, SESSION_ERRORS } from '../log/emit.js';
import { logsAtStep } from '../log/config.js';
import type { Runtime, BindListener } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server, PendingConn } from '../proxy/server.js';
import { parseProxyHeader, type ProxyInfo } from '../net/proxy-protocol.js';
import { serverConnectOptions, buildProxyHeader, redispatchNow, countIn, countOut } from './server-connect.js';
import { plainAddress } from '../net/address.js';
import { sourceKey, rdpCookieKey } from '../lb/config.js';
import { ReadBuffer, adoptAccepted, attachReader, safeView, whenFlushed, type Sock, type OnRead } from '../net/read-buffers.js';
import { connectSock } from '../net/raw-socket.js';
import { balanceHashKey } from '../lb/hash-expr.js';
import { reportServerResult } from '../checks/observe.js';
import { SmpCtx } from '../sample/context.js';
import { runRules, Act, type Rule } from '../actions/rules.js';
import { AclResult } from '../acl/acl.js';
import { persistUsable } from '../proxy/cookie.js';
import { setIpOpt } from '../net/sockopt.js';
import { TcpRuleHost, connectionRules, sessionRules, silentDrop, backendByName, applyBackendSockOpts } from './l4-rules.js';
import { HttpStream } from './http-stream.js';

/** Termination state letters (configuration.txt 8.5): who ended it, and in which phase. */
export type TermCause = '-' | 'C' | 'S' | 'P' | 'I' | 'R' | 'K' | 'c' | 's' | 'D' | 'L' | 'U';
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
  /** what sample fetches see of this connection */
  readonly sctx: SmpCtx;
  // ---- StreamInfo (what fetches read of this stream) ----
  /** set-bc-tos / set-bc-mark: applied to the server connection once connected */
  bcTos: number | undefined;
  bcMark: number | undefined;
  /** queue priority (set-priority-class / set-priority-offset) */
  prioClass = 0;
  prioOffset = 0;
  /** the last final rule that matched (last_rule_file / last_rule_line) */
  lastRule: { file: string; line: number } | undefined;
  /** a retry went to another server */
  redispatched = false;
  /** log timestamps (ms): backend assignment started, server granted, connection established */
  private assignAt = 0;
  private assignedAt = 0;
  private connectedAt = 0;
  /** StreamInfo fields the log line reads (set by emitLog) */
  totalTime = -1;
  termState: string | undefined = undefined;
  logOrigin: string | undefined = undefined;
  logasap = false;
  /** the last server assigned (kept for the log after it was released) */
  private logServer: Server | undefined;
  /** the log line was sent (option logasap sends it early) */
  private logged = false;
  get cliSock(): object { return this.cli; }
  get srvSock(): object | undefined { return this.srv; }
  get curClientTimeout(): number | undefined { return this.tmoClient ?? this.fe.cfg.timeouts.client; }
  get curServerTimeout(): number | undefined { return this.tmoServer ?? this.be?.cfg.timeouts.server; }
  get curTunnelTimeout(): number | undefined { return this.tmoTunnel ?? this.be?.cfg.timeouts.tunnel; }
  /** the server connection: our local address as src, the server as dst */
  get srvConn(): { src: string; srcPort: number; dst: string; dstPort: number; acceptedAt: number } | undefined {
    const k = this.srv;
    if (!k || !this.connected) return undefined;
    return { src: plainAddress(k.localAddress), srcPort: k.localPort ?? 0, dst: plainAddress(k.remoteAddress), dstPort: k.remotePort ?? 0, acceptedAt: this.acceptedAt };
  }
  /** the rules' view of this stream (created when a proxy has rules) */
  private host: TcpRuleHost | undefined;
  /** request content analysis: running, the stage reached, the rule to resume at, its deadline */
  private analyzing = false;
  private anStage = 0;
  private anIndex = 0;
  private inspectUntil = 0;
  /** server chosen by a use-server rule */
  private persistTo: Server | undefined;
  /** per-stream settings made by rules (set-timeout, set-retries) */
  tmoClient: number | undefined;
  tmoServer: number | undefined;
  tmoTunnel: number | undefined;
  /** response content analysis (tcp-response content rules): server bytes held meanwhile */
  private resInspecting = false;
  private resHeld: Buffer[] = [];
  private resHeldBytes = 0;
  private resUntil = 0;
  /**
   * Where client reads go: this stream's buffer and handler, until the connection is handed over
   * to an HttpStream (HTTP upgrade). `readerDirect`: the socket takes a new reader itself
   * (attachReader); otherwise its reads go through `reader`.
   */
  private reader: OnRead;
  private readonly readerDirect: boolean;
  /** the HTTP stream this connection was handed over to */
  private upgradedTo: HttpStream | undefined;

  constructor(rt: Runtime, listener: BindListener, accepted: Sock) {
    this.rt = rt;
    this.listener = listener;
    this.fe = listener.proxy;
    const onread: OnRead = { buffer: this.cbuf.next, callback: this.onCliRead };
    this.reader = onread;
    this.readerDirect = attachReader(accepted, onread);
    const adopted = this.readerDirect ? accepted
      : adoptAccepted(accepted, { buffer: () => this.reader.buffer(), callback: (n, b) => this.reader.callback(n, b) }, true);
    const cli = adopted ?? accepted;
    if (!adopted) {
      // fallback: the same handler, fed by 'data' events
      cli.on('data', (chunk: Buffer) => { if (!this.reader.callback(chunk.length, chunk)) cli.pause(); });
    }
    this.cli = cli;
    this.src = plainAddress(cli.remoteAddress);
    this.srcPort = cli.remotePort ?? 0;
    this.dst = plainAddress(cli.localAddress);
    this.dstPort = cli.localPort ?? 0;
    const ctx = new SmpCtx(this);
    ctx.rt = rt;
    ctx.fe = this.fe;
    // until content switching, the stream's backend is the frontend itself
    ctx.be = this.fe;
    ctx.listener = listener;
    ctx.stream = this;
    this.sctx = ctx;
  }

  start(): void {
    const cli = this.cli;
    const fe = this.fe;
    cli.on('error', this.onCliErrorEv);
    cli.on('close', this.onCliCloseEv);
    if (fe.cfg.options.clitcpka) cli.setKeepAlive(true);
    cli.setNoDelay(true);
    const tmo = fe.cfg.timeouts.client;
    this.setIdleTimeouts(tmo ?? 0, 0);
    let wantProxy = !!this.listener.cfg.acceptProxy;
    if (fe.cfg.rules?.tcpReqConn.length) {
      const r = connectionRules(this, this.ruleHost());
      if (r === 'closed') return;
      if (r === 'proxy') wantProxy = true;
    }
    if (wantProxy) {
      this.readProxyHeader();
    } else {
      this.sessionStart();
    }
  }

  private readonly onCliErrorEv = (e: Error): void => this.guard(() => this.onCliError(e));
  private readonly onCliCloseEv = (): void => this.guard(() => this.onCliClose());

  /** The session is valid (after the PROXY header if any): session rules, then the stream. */
  private sessionStart(): void {
    if (this.fe.cfg.rules?.tcpReqSess.length && !sessionRules(this, this.ruleHost())) return;
    if (this.fe.logs) logConnect(this.fe, this.sctx);
    if (this.fe.logs?.cfg?.steps?.includes('accept')) this.emitLog('txn_accept');
    this.startStream();
  }

  private ruleHost(): TcpRuleHost {
    return this.host ??= new TcpRuleHost(this);
  }

  /** Runs a handler so that an exception ends this stream, never the process. */
  private guard(fn: () => void): void {
    try { fn(); } catch (e) {
      this.rt.internalError(e);
      this.fe.feCounters.internalErrors++;
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
    this.sessionError(this.proxyBuf?.length ? SESSION_ERRORS.prxTruncated : SESSION_ERRORS.prxEmpty);
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
      this.sessionError(proxyHeaderErrorText(r.reason));
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
    this.sessionStart();
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
      else {
        this.pushPending(Buffer.from(chunk));
        if (this.analyzing) {
          this.analyze();
          // while the rules inspect the contents, no more than a buffer is read
          if (this.analyzing) return !this.closed && this.pendingBytes < this.recvLimit();
        }
      }
    } catch (e) {
      this.rt.internalError(e);
      this.terminate('I', this.phase);
      return false;
    }
    // handed over during this read: the HTTP stream decides whether reading goes on
    if (this.upgradedTo) return this.upgradedTo.readWanted();
    return !this.closed && this.pendingBytes < MAX_PENDING_BYTES;
  };

  // ---------------------------------------------------------------- backend and server choice
  private startStream(): void {
    // read what the client sends while the rules look at it and we look for a server, within
    // bounds (onCliRead)
    this.cliMode = 'pending';
    this.cli.on('end', this.onCliEndEarly);
    if (this.pendingBytes < MAX_PENDING_BYTES) this.cli.resume();
    this.analyzing = true;
    this.anStage = 0;
    this.anIndex = 0;
    this.analyze();
  }

  /** What the contents analysis may hold of the request: a buffer, less the rewrite reserve. */
  private recvLimit(): number {
    const t = this.rt.global.tune;
    return Math.max(1, t.bufsize - t.maxrewrite);
  }

  /**
   * The request analysis, in HAProxy's order: the frontend's tcp-request content rules, content
   * switching (use_backend, default_backend), the backend's tcp-request content rules when it is
   * another proxy, use-server; then server choice. Runs again on every client read and when the
   * inspect delay expires while a rule waits for more contents.
   */
  private analyze(): void {
    const fe = this.fe;
    while (this.analyzing && !this.closed) {
      switch (this.anStage) {
        case 0:
          if (!this.inspectRequest(fe)) return;
          break;
        case 1: {
          // switching rules see the contents received so far, as final
          const ctx = this.sctx;
          ctx.dir = 'req';
          ctx.final = true;
          ctx.reqPayload = this.heldPayload();
          const be = this.switchBackend();
          if (!be || be.stopped) { this.analyzing = false; this.terminate('P', 'R'); return; }
          this.be = be;
          this.sctx.be = be;
          be.counters.enter();
          this.retriesLeft = this.retriesOverride ?? be.cfg.retries;
          // an HTTP backend: the connection goes on as HTTP, with this backend (implicit upgrade)
          if (be.mode === 'http') { this.handOver(be); return; }
          break;
        }
        case 2:
          if (this.be !== fe && !this.inspectRequest(this.be!)) return;
          break;
        default: {
          this.analyzing = false;
          const ctx = this.sctx;
          ctx.final = true;
          ctx.reqPayload = this.heldPayload();
          this.serverRules(this.be!);
          this.phase = 'Q';
          if (this.pendingBytes < MAX_PENDING_BYTES && !this.cliEnded) this.cli.resume();
          // the held contents stay visible to balance hash <expr>
          this.assign(null);
          ctx.reqPayload = undefined;
          return;
        }
      }
      this.anStage++;
      this.anIndex = 0;
      this.inspectUntil = 0;
      this.clearTimer();
    }
  }

  /**
   * HTTP upgrade (switch-mode http, or an HTTP backend chosen by content switching): the client
   * connection goes on in a new HttpStream. What was read and not forwarded becomes the start
   * of its input; addresses, variables and rule settings go with it; the session stays counted
   * once (Runtime.sessionUpgraded). `be`: the backend already chosen (and entered), if any.
   */
  private handOver(be: Proxy | undefined): void {
    this.analyzing = false;
    this.clearTimer();
    if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = undefined; }
    const cli = this.cli;
    cli.removeListener('error', this.onCliErrorEv);
    cli.removeListener('close', this.onCliCloseEv);
    cli.removeListener('end', this.onCliEndEarly);
    cli.removeListener('end', this.onCliEndInHeader);
    // this object is done: nothing of it runs anymore (terminate() included)
    this.closed = true;
    const held = this.pendingBytes ? this.heldPayload() : Buffer.alloc(0);
    this.pending = [];
    this.pendingBytes = 0;
    // the socket may still read once more into this buffer (the HTTP stream gets those bytes):
    // it is left to the garbage collector, never given back to the pool
    this.cbuf.release(false);
    const ctx = this.sctx;
    ctx.reqPayload = undefined;
    ctx.final = true;
    ctx.dir = 'req';
    this.be = undefined;
    const http = new HttpStream(this.rt, this.listener, cli, {
      held, cliEnded: this.cliEnded, sctx: ctx,
      src: this.src, srcPort: this.srcPort, dst: this.dst, dstPort: this.dstPort,
      acceptedAt: this.acceptedAt, be,
      tmoClient: this.tmoClient, tmoServer: this.tmoServer, tmoTunnel: this.tmoTunnel,
      retries: this.retriesOverride, prioClass: this.prioClass, prioOffset: this.prioOffset,
      lastRule: this.lastRule,
      redirectReader: (onread) => {
        if (this.readerDirect) attachReader(cli, onread);
        this.reader = onread;
      },
    });
    this.upgradedTo = http;
    this.rt.sessionUpgraded(this, http);
    http.startUpgraded();
  }

  /** The client bytes held so far, as one buffer. */
  private heldPayload(): Buffer {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0] ?? Buffer.alloc(0);
  }

  /**
   * tcp-request content rules of a proxy (its tcp-request inspect-delay). False while a rule
   * waits for more contents, or when a rule closed the connection.
   */
  private inspectRequest(px: Proxy): boolean {
    const rules = px.cfg.rules?.tcpReqCont;
    if (!rules?.length) return true;
    const delay = px.cfg.rules!.tcpReqInspectDelay;
    const now = Date.now();
    if (delay && !this.inspectUntil) this.inspectUntil = now + delay;
    const ctx = this.sctx;
    ctx.dir = 'req';
    ctx.reqPayload = this.heldPayload();
    // the contents are final once nothing more can come or change them: no delay (or expired),
    // the client shut its side, or the buffer is full
    ctx.final = !delay || now >= this.inspectUntil || this.cliEnded || this.pendingBytes >= this.recvLimit();
    const host = this.ruleHost();
    const r = this.runFrom(rules, this.anIndex);
    if (host.upgrade) {
      // switch-mode http: the following rules are not evaluated, the stream becomes HTTP
      host.upgrade = undefined;
      if (px === this.fe && r.act === Act.STOP) { this.handOver(undefined); return false; }
    }
    if (r.act === Act.YIELD) {
      this.anIndex = r.resume;
      // the timer evaluates the rules one last time, with final contents
      this.setTimer(Math.max(0, this.inspectUntil - Date.now()), () => this.analyze());
      return false;
    }
    if (r.act === Act.DONE) {
      this.analyzing = false;
      const v = host.verdict;
      host.verdict = undefined;
      this.fe.feCounters.deniedReq++;
      this.listener.counters.deniedReq++;
      if (v?.kind === 'silent-drop') silentDrop(this, 'R');
      else this.terminate('P', 'R');
      return false;
    }
    return true;
  }

  /**
   * Runs rules from `from`. On a yield, `resume` is where to start again: the rule itself when
   * its action asked to run again, the first rule when a condition lacked contents (all the rules
   * are evaluated again on new contents).
   */
  private runFrom(rules: readonly Rule[], from: number): { act: Act; at: number; resume: number } {
    const r = runRules(rules, this.ruleHost(), from);
    if (r.act !== Act.YIELD) return { ...r, resume: 0 };
    // a yield comes from a condition lacking contents, or from an action asking to run again
    const cond = rules[r.at]!.cond;
    const condWaits = cond !== undefined && cond.exec(this.sctx) === AclResult.MISS;
    return { ...r, resume: condWaits ? 0 : r.at };
  }

  /** use_backend rules, then default_backend (a listen section is its own default). */
  private switchBackend(): Proxy | undefined {
    const fe = this.fe;
    const rules = fe.cfg.switching?.useBackend;
    if (rules?.length) {
      const ctx = this.sctx;
      for (const r of rules) {
        if (r.cond && r.cond.exec(ctx) !== AclResult.PASS) continue;
        if (!r.target.lf) {
          const px = backendByName(this.rt, r.target.name);
          if (px) return px;
          continue;
        }
        // a formatted name matching no backend: the default backend applies
        return backendByName(this.rt, r.target.lf.render(ctx)) ?? fe.defaultBackend;
      }
    }
    return fe.defaultBackend;
  }

  /** use-server rules (a stopped server only with force-persist or persist). */
  private serverRules(be: Proxy): void {
    const sw = be.cfg.switching;
    if (!sw?.useServer.length) return;
    const ctx = this.sctx;
    const force = sw.forcePersist.length > 0 && sw.forcePersist.some((c) => c.exec(ctx) === AclResult.PASS);
    for (const r of sw.useServer) {
      if (r.cond && r.cond.exec(ctx) !== AclResult.PASS) continue;
      const srv = be.findServer(r.target.lf ? r.target.lf.render(ctx) : r.target.name);
      if (!srv) continue;
      if (persistUsable(be, srv) || force) { this.persistTo = srv; return; }
    }
  }

  // ---------------------------------------------------------------- rule host services
  /** set-src / set-dst / set-src-port / set-dst-port */
  ruleSetAddr(which: 'src' | 'dst', addr: string | undefined, port: number | undefined): void {
    if (which === 'src') { if (addr !== undefined) this.src = addr; if (port !== undefined) this.srcPort = port; }
    else { if (addr !== undefined) this.dst = addr; if (port !== undefined) this.dstPort = port; }
    this.sctx.streamAddr = { src: this.src, srcPort: this.srcPort, dst: this.dst, dstPort: this.dstPort };
  }

  /** set-retries */
  ruleSetRetries(n: number): void {
    this.retriesLeft = n;
    this.retriesOverride = n;
  }
  private retriesOverride: number | undefined;

  /** set-fc-tos / set-fc-mark on the client connection */
  ruleSockOpt(what: 'tos' | 'mark', value: number): void {
    setIpOpt(this.cli, what, this.dst.includes(':'), value);
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
      return;
    }
    // the contents cannot change anymore: the rules decide now
    if (this.analyzing) this.analyze();
  });

  private assign(avoid: Server | null): void {
    const be = this.be!;
    if (!this.assignAt) this.assignAt = Date.now();
    const persist = this.persistTo && this.persistTo !== avoid ? be.assignTo(this.persistTo, this) : undefined;
    const r = persist ?? be.assign({ src: this.src, key: this.lbKey(be) }, avoid, this);
    switch (r.kind) {
      case 'assigned':
        this.server = r.server;
        this.logServer = r.server;
        this.assignedAt = Date.now();
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
    if (b.algo === 'hash') return balanceHashKey(b, this.sctx);
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
      this.logServer = srv;
      this.assignedAt = Date.now();
      this.connect();
    });
  }

  // ---------------------------------------------------------------- server connection
  private connect(): void {
    const be = this.be!;
    const s = this.server!;
    this.phase = 'C';
    this.attempt++;
    s.counters.connAttempts++;
    be.counters.connAttempts++;
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
    if (this.server) reportServerResult(this.server, 'layer4', false);
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
    if (redispatchNow(be, s, retryNo)) {
      be.release(s);
      this.server = undefined;
      s.counters.redispatches++;
      this.redispatched = true;
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
    this.connectedAt = Date.now();
    this.phase = 'D';
    // option logasap: logged once connected, with the total time and bytes so far
    if (this.fe.logs?.cfg?.logasap) this.emitLog('asap');
    if (this.fe.logs?.cfg?.steps?.includes('connect')) this.emitLog('txn_connect');
    if (this.server) reportServerResult(this.server, 'layer4', true);
    applyBackendSockOpts(this, sock);
    const be = this.be!;
    const s = this.server!;
    if (s.sendProxy) sock.write(buildProxyHeader(s, this));
    // flush what the client sent meanwhile
    this.cli.removeListener('end', this.onCliEndEarly);
    for (const b of this.pending) { countIn(this, b.length); sock.write(b); }
    this.pending = [];
    this.pendingBytes = 0;
    // idle timeouts: tunnel supersedes client/server once established
    const tun = this.tmoTunnel ?? be.cfg.timeouts.tunnel;
    const ct = tun ?? this.tmoClient ?? this.fe.cfg.timeouts.client;
    const st = tun ?? this.tmoServer ?? be.cfg.timeouts.server;
    this.lastAct = Date.now();
    this.setIdleTimeouts(ct ?? 0, st ?? 0);
    sock.on('close', () => this.guard(() => this.onSrvClose()));
    // client → server: see onCliRead
    this.cliMode = 'relay';
    sock.on('drain', this.onSrvDrain);
    // server → client: see onSrvRead; the backend's tcp-response content rules see the first
    // server bytes before they are forwarded
    const resRules = be.cfg.rules?.tcpResCont;
    if (resRules?.length) {
      this.resInspecting = true;
      const delay = be.cfg.rules!.tcpResInspectDelay;
      if (delay) {
        this.resUntil = Date.now() + delay;
        this.setTimer(delay, () => this.inspectResponse());
      }
    }
    this.cli.on('drain', this.onCliDrain);
    this.cli.on('end', () => this.guard(() => this.onCliEnd()));
    sock.on('end', () => this.guard(() => {
      if (this.resInspecting) {
        this.srvEnded = true;
        this.inspectResponse();
        if (this.closed || this.resInspecting) return;
        this.srvEnded = false;
      }
      this.onSrvEnd();
    }));
    if (this.cliEnded) this.onCliEnd();
    else this.cli.resume();
    sock.resume();
  }

  /** Bytes from the server, in sbuf (valid only during the call). Returning false pauses the server socket. */
  private readonly onSrvRead = (n: number, buf: Uint8Array): boolean => {
    if (this.closed) return false;
    this.lastAct = Date.now();
    if (this.resInspecting) {
      try {
        // held (copied: sbuf is reused) until the response rules decide
        this.resHeld.push(Buffer.from((buf as Buffer).subarray(0, n)));
        this.resHeldBytes += n;
        this.inspectResponse();
      } catch (e) {
        this.rt.internalError(e);
        this.terminate('I', this.phase);
        return false;
      }
      if (this.closed) return false;
      if (this.resInspecting) return this.resHeldBytes < this.recvLimit();
      // forwarded: go on reading once the client took it
      if (this.cli.writableLength > 0) {
        this.sbuf.busy = true;
        whenFlushed(this.cli, this.onCliDrain);
        return false;
      }
      return true;
    }
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

  /**
   * tcp-response content rules of the backend on the server bytes held so far (ctx.resPayload);
   * once they let the response through, the held bytes are forwarded to the client.
   */
  private inspectResponse(): void {
    if (!this.resInspecting || this.closed) return;
    const be = this.be!;
    const rules = be.cfg.rules!.tcpResCont;
    const delay = be.cfg.rules!.tcpResInspectDelay;
    const ctx = this.sctx;
    if (this.resHeld.length > 1) this.resHeld = [Buffer.concat(this.resHeld)];
    const prevDir = ctx.dir, prevFinal = ctx.final;
    ctx.dir = 'res';
    ctx.resPayload = this.resHeld[0] ?? Buffer.alloc(0);
    ctx.final = !delay || Date.now() >= this.resUntil || this.srvEnded || this.resHeldBytes >= this.recvLimit();
    const r = this.runFrom(rules, 0);
    ctx.dir = prevDir;
    ctx.final = prevFinal;
    if (r.act === Act.YIELD) {
      // more data or the delay's end will run the rules again
      if (!this.timer) this.setTimer(Math.max(0, this.resUntil - Date.now()), () => this.inspectResponse());
      return;
    }
    this.resInspecting = false;
    ctx.resPayload = undefined;
    this.clearTimer();
    const host = this.ruleHost();
    const held = this.resHeld;
    this.resHeld = [];
    this.resHeldBytes = 0;
    if (r.act === Act.DONE) {
      const v = host.verdict;
      host.verdict = undefined;
      if (rules[r.at]!.action.name === 'close') {
        // close: the server connection is closed at once, what it sent still reaches the client
        for (const b of held) { countOut(this, b.length); this.cli.write(b); }
        const srv = this.srv;
        if (srv) { srv.removeAllListeners('end'); srv.removeAllListeners('close'); srv.on('error', () => {}); srv.destroy(); }
        this.srvEnded = true;
        this.terminate('-', '-');
        return;
      }
      be.counters.deniedResp++;
      this.fe.feCounters.deniedResp++;
      this.listener.counters.deniedResp++;
      if (this.server) this.server.counters.deniedResp++;
      if (v?.kind === 'silent-drop') silentDrop(this, 'D');
      else this.terminate('P', 'D');
      return;
    }
    for (const b of held) { countOut(this, b.length); this.cli.write(b); }
  }

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
    this.emitLog();
    this.rt.sessionEnded(this);
  }

  /** A session error (no stream started): its own log line instead of the traffic log. */
  private sessionError(message: string): void {
    if (!this.fe.logs) return;
    this.logged = true;
    logSessionError(this.fe, this.sctx, this.listener.cfg.name ?? String(this.listener.id), message);
  }

  /** The traffic log of the session (option tcplog, log-format), once it ended. */
  private emitLog(kind: 'close' | 'asap' | 'txn_accept' | 'txn_connect' = 'close'): void {
    const asap = kind === 'asap';
    const step = kind === 'txn_accept' || kind === 'txn_connect';
    const ctx = this.sctx;
    const now = Date.now();
    const t = ctx.timers;
    t.handshake = 0;
    t.idle = 0;
    t.request = -1;
    t.queue = this.assignedAt ? this.assignedAt - this.assignAt : -1;
    t.connect = this.connectedAt ? this.connectedAt - this.assignedAt : -1;
    t.response = -1;
    if (this.be && this.assignAt && kind === 'close') {
      const tot = now - this.acceptedAt;
      this.be.counters.recordTimes(t.queue, t.connect, -1, tot);
      this.logServer?.counters.recordTimes(t.queue, t.connect, -1, tot);
    }
    if (!this.fe.logs || this.logged) return;
    if (kind === 'close' && !logsAtStep(this.fe.logs.cfg, 'close')) return;
    if (!step) this.logged = true;
    this.totalTime = now - this.acceptedAt;
    this.termState = step ? '--' : this.termCause + this.termPhase;
    this.logOrigin = step ? kind : asap ? 'txn_connect' : 'txn_close';
    this.logasap = asap;
    if (this.be) ctx.be = this.be;
    ctx.srv = this.logServer;
    ctx.retries = this.be ? (this.retriesOverride ?? this.be.cfg.retries) - this.retriesLeft : 0;
    if (ctx.retries < 0) ctx.retries = 0;
    logStream(this.fe, ctx, { error: !step && isLogError(this.termCause, ctx.retries, this.redispatched, 0), empty: !step && this.bytesIn === 0 });
  }
}
