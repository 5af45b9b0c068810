// An HTTP/1.x client connection in `mode http`: requests are parsed one at a time (pipelined
// ones wait their turn), each is a transaction with its own backend server choice, sent on a new
// or reused server connection; responses are parsed and forwarded; bodies stream with
// back-pressure both ways. Connection modes (keep-alive, server-close, close), the HTTP timeouts,
// X-Forwarded-For / X-Original-To, monitor-uri and HAProxy's error replies live here.
import { matchStatsRequest, handleStatsRequest } from '../ops/stats-page.js';
import { matchDashboardRequest, handleDashboardRequest } from '../ops/dashboard.js';
import { logStream, logConnect, isLogError, logSessionError, proxyHeaderErrorText, SESSION_ERRORS } from '../log/emit.js';
import { logsAtStep } from '../log/config.js';
import net from 'node:net';
import type { Runtime, BindListener } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server, PendingConn } from '../proxy/server.js';
import { ReadBuffer, adoptAccepted, attachReader, safeView, whenFlushed, type Sock, type OnRead } from '../net/read-buffers.js';
import { plainAddress } from '../net/address.js';
import { parseProxyHeader } from '../net/proxy-protocol.js';
import { sourceKey } from '../lb/config.js';
import { httpLbKey } from '../lb/keys.js';
import {
  parseRequestHead, parseResponseHead, ChunkedDecoder, formatRequestHead, formatResponseHead,
  encodeChunk, encodeLastChunk, type H1Options,
} from '../http/h1.js';
import { type HttpRequestHead, type HttpResponseHead, type BodyFraming, HttpHeaders, minorVersion } from '../http/htx.js';
import { h1ErrorMessage } from '../http/errors.js';
import { inNetwork } from '../http/keywords.js';
import { SrvConn, takeIdle, type SrvConnOwner } from '../proxy/conn-pool.js';
import { captureError } from '../http/error-capture.js';
import { cookieRequest, cookieResponse, persistUsable, type CookieReqState } from '../proxy/cookie.js';
import { serverConnectOptions, buildProxyHeader, redispatchNow, countIn, countOut } from './server-connect.js';
import type { TermCause, TermPhase } from './tcp-stream.js';
import { SmpCtx } from '../sample/context.js';
import { runRules, Act, type Rule, type Verdict } from '../actions/rules.js';
import { AclResult } from '../acl/acl.js';
import { errorMessageFor, serializeReply, renderErrorReply, reasonPhrase, type ErrorReply } from '../http/errors.js';
import { countFrontendRequest } from '../util/freq-ctr.js';
import { nextTxnId } from '../sample/fetches/stream-state.js';
import { setIpOpt } from '../net/sockopt.js';
import { balanceHashKey } from '../lb/hash-expr.js';
import { reportServerResult, validObservedStatus } from '../checks/observe.js';
import { switchPlan, segmentMatch } from '../actions/switch-table.js';
import { acceptRules, afterProxyHeader, StreamRuleHost, backendByName, silentDrop, applyBackendSockOpts } from './l4-rules.js';

/** Client bytes kept while a request is being processed (pipelined requests, early body). */
const MAX_HELD_BYTES = 256 * 1024;

type CliState = 'head' | 'body' | 'wait' | 'tunnel' | 'closing';
/** 'rules': the response head is parsed and a response rule waits (pause, wait-for-body) */
type SrvState = 'none' | 'head' | 'rules' | 'body' | 'tunnel';
type ParsedHead = Extract<ReturnType<typeof parseResponseHead>, { state: 'ok' }>;

/** Timestamps and results of a transaction kept for its log line (ms; 0: not reached). */
interface TxnLog {
  /** start of the transaction's window: the accept, or the end of the previous transaction */
  t0: number;
  firstByteAt: number;
  headAt: number;
  assignAt: number;
  assignedAt: number;
  connectedAt: number;
  respAt: number;
  bytesIn0: number;
  bytesOut0: number;
  /** termination state set for this transaction alone (a reply on a connection kept open) */
  cause: TermCause | undefined;
  phase: TermPhase | undefined;
  srv: Server | undefined;
  /** %s when an internal service answered ('<STATS>') */
  target?: string;
  /** the transaction ended (its times recorded) / its log line was sent */
  done: boolean;
  logged: boolean;
  htxOut0: number;
}

interface Txn {
  log: TxnLog;
  req: HttpRequestHead;
  reqFraming: BodyFraming;
  reqLeft: number;                 // body bytes left for a Content-Length request
  reqChunked: ChunkedDecoder | undefined;
  reqDone: boolean;                // request fully forwarded (or buffered for the server)
  wantsClose: boolean;             // the client connection closes after this transaction
  clAndTe: boolean;                // request had Content-Length and Transfer-Encoding: no reuse of its server connection
  upgrade: boolean;
  resp: HttpResponseHead | undefined;
  respFraming: BodyFraming | undefined;
  respLeft: number;
  respChunked: ChunkedDecoder | undefined;
  respDone: boolean;
  respStarted: boolean;            // bytes of the response were sent to the client
  retriesLeft: number;
  /** cookie persistence: what the request's cookie said, and the server it designates */
  cookie: CookieReqState | undefined;
  persistTo: Server | undefined;
  /** copies of every request byte sent, while they fit in a buffer (retry-on beyond conn-failure) */
  replay: Buffer[] | null;
  replayBytes: number;
  /** decoded request body kept while the rules wait for it (http-buffer-request, wait-for-body) */
  bodyParts: Buffer[] | null;
  bodyLen: number;
}

/**
 * What a TcpStream hands over when its client connection becomes HTTP (switch-mode http, or an
 * HTTP backend chosen by content switching): see TcpStream.handOver and HttpStream.startUpgraded.
 */
export interface TcpHandover {
  /** client bytes read and not forwarded: the beginning of the HTTP input */
  held: Buffer;
  /** the client already shut its side */
  cliEnded: boolean;
  /** the sample context so far (variables of every scope, captures, addresses set by rules ...) */
  sctx: SmpCtx;
  /** client and destination addresses (PROXY header, set-src / set-dst applied) */
  src: string; srcPort: number; dst: string; dstPort: number;
  acceptedAt: number;
  /** the backend content switching chose (implicit upgrade), already entered; undefined after switch-mode */
  be: Proxy | undefined;
  /** settings made by the tcp-request rules */
  tmoClient: number | undefined; tmoServer: number | undefined; tmoTunnel: number | undefined;
  retries: number | undefined;
  prioClass: number; prioOffset: number;
  lastRule: { file: string; line: number } | undefined;
  /** makes the client socket's reads (the next one included) reach the new stream */
  redirectReader(onread: OnRead): void;
}

export class HttpStream implements PendingConn, SrvConnOwner {
  readonly rt: Runtime;
  readonly listener: BindListener;
  readonly fe: Proxy;
  be: Proxy | undefined;
  cli: Sock;
  server: Server | undefined;
  // Client addresses, read from the socket only when something needs them (getpeername and
  // getsockname are system calls: forwardfor, balance source, send-proxy, logs use them), or
  // set from a PROXY header.
  private addrs: { src: string; srcPort: number; dst: string; dstPort: number } | undefined;
  private get a(): { src: string; srcPort: number; dst: string; dstPort: number } {
    if (!this.addrs) {
      const c = this.cli;
      this.addrs = { src: plainAddress(c.remoteAddress), srcPort: c.remotePort ?? 0, dst: plainAddress(c.localAddress), dstPort: c.localPort ?? 0 };
    }
    return this.addrs;
  }
  get src(): string { return this.a.src; }
  get srcPort(): number { return this.a.srcPort; }
  get dst(): string { return this.a.dst; }
  get dstPort(): number { return this.a.dstPort; }
  dequeued = true;
  queuedAt = 0;
  termCause: TermCause = '-';
  termPhase: TermPhase = '-';
  bytesIn = 0;
  bytesOut = 0;
  readonly acceptedAt: number;
  /** StreamInfo fields the log line reads (set by emitTxnLog for each transaction's line) */
  totalTime = -1;
  termState: string | undefined = undefined;
  cookieState: string | undefined = undefined;
  targetName: string | undefined = undefined;
  logOrigin: string | undefined = undefined;
  logasap = false;

  private readonly cbuf = new ReadBuffer(true);
  /** handed over by a TcpStream, until its first request starts (startRequest) */
  private upgrade: TcpHandover | undefined;
  /** the frontend's tcp-request content rules already ran on this request's contents (switch-mode) */
  private skipFeContent = false;
  private cliState: CliState = 'head';
  private srvState: SrvState = 'none';
  /** client bytes not consumed yet (head being read, pipelined requests), copied out of cbuf */
  private inBuf: Buffer | undefined;
  /** server bytes of a response head being read */
  private respBuf: Buffer | undefined;
  /** request bytes (head + body) waiting for the server connection */
  private outQueue: Buffer[] = [];
  private outQueued = 0;
  private txn: Txn | undefined;
  private txnCount = 0;
  /** logging: the end of the last transaction, the first byte of the request being read */
  private lastTxnEnd = 0;
  private headFirstByteAt = 0;
  /** the backend counts this stream's current transaction (backend scur/stot are per request) */
  private beEntered = false;
  /** what the log's %B counts for HTTP: the response as HAProxy's internal message size (htxSize) */
  private htxOut = 0;
  private conn: SrvConn | undefined;
  private closed = false;
  private cliEnded = false;
  private cliPaused = false;
  private proxyHeaderPending: boolean;
  private timer: NodeJS.Timeout | undefined;
  private timerKind: 'req' | 'ka' | 'queue' | 'connect' | 'server' | 'client' | 'tunnel' | 'body' | 'pause' | 'tarpit' | 'respause' | 'resbody' | undefined;
  private timerMs = 0;
  /** when the current deadline expires, and when the armed Node timer fires (ms) */
  private deadline = 0;
  private timerAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastAct = Date.now();
  /** body bytes to wait for before choosing a server (balance url_param check_post) */
  private lbBodyWait = 0;
  private readonly h1opts: H1Options;
  private readonly h1respOpts: H1Options;
  /** what sample fetches see of this connection and its current transaction */
  readonly sctx: SmpCtx;
  /** the rules' view of this stream (created when a proxy has rules) */
  private host: HttpRuleHost | undefined;
  /** request analysis: the stage reached and the rule to resume at */
  private anStage = 0;
  private anIndex = 0;
  /** body bytes the analysis waits for before going on (0: not waiting) */
  private anBodyWant = 0;
  /** per-stream timeouts set by rules (set-timeout) */
  tmoClient: number | undefined;
  tmoServer: number | undefined;
  tmoTunnel: number | undefined;
  /** retries set by set-retries */
  private retriesOverride: number | undefined;
  /** 103 Early Hints headers waiting to be sent */
  private earlyHints: [string, string][] | undefined;
  /** a response rule that waits: where to resume */
  private resWait: { resp: HttpResponseHead; c: SrvConn; stage: number; index: number; r: ParsedHead | undefined } | undefined;
  /** the framing of the response whose rules wait (set before the rules run) */
  private resWaitFraming: BodyFraming | undefined;
  /** a response wait-for-body is waiting for bytes; the server closed its side */
  private resBodyWant = false;
  private resSrvEnded = false;
  /** a reply held back by tarpit */
  private tarpitReply: Extract<Verdict, { kind: 'reply' }> | undefined;

  /** `up`: the connection comes from a TcpStream that upgraded it (start with startUpgraded) */
  constructor(rt: Runtime, listener: BindListener, accepted: Sock, up?: TcpHandover) {
    this.rt = rt;
    this.listener = listener;
    this.fe = listener.proxy;
    const onread = { buffer: this.cbuf.next, callback: this.onCliRead };
    if (up) {
      up.redirectReader(onread);
      this.cli = accepted;
      this.acceptedAt = up.acceptedAt;
      this.upgrade = up;
      this.addrs = { src: up.src, srcPort: up.srcPort, dst: up.dst, dstPort: up.dstPort };
      this.beEntered = up.be !== undefined;
    } else {
      const adopted = attachReader(accepted, onread) ? accepted : adoptAccepted(accepted, onread, true);
      const cli = adopted ?? accepted;
      if (!adopted) cli.on('data', (chunk: Buffer) => { if (!this.onCliRead(chunk.length, chunk)) cli.pause(); });
      this.cli = cli;
      this.acceptedAt = Date.now();
    }
    this.proxyHeaderPending = !up && !!listener.cfg.acceptProxy;
    this.lastTxnEnd = this.acceptedAt;
    // a frontend that logs reads the addresses now: a client gone by the end has none any more
    if (this.fe.logs && !up) void this.a;
    const t = rt.global.tune;
    this.h1opts = { maxHeadBytes: t.bufsize - t.maxrewrite, maxHeaders: t.httpMaxhdr, acceptUnsafe: this.fe.cfg.http.acceptUnsafeReq };
    this.h1respOpts = { maxHeadBytes: t.bufsize - t.maxrewrite, maxHeaders: t.httpMaxhdr, acceptUnsafe: false };
    let ctx: SmpCtx;
    if (up) {
      // the same context goes on: now describing this stream
      ctx = up.sctx;
      ctx.conn = this;
    } else ctx = new SmpCtx(this);
    ctx.rt = rt;
    ctx.fe = this.fe;
    ctx.listener = listener;
    ctx.stream = this;
    this.sctx = ctx;
  }

  private listenClient(): void {
    const cli = this.cli;
    cli.on('error', () => this.guard(() => this.onCliGone(true)));
    cli.on('close', () => this.guard(() => this.onCliGone(false)));
    cli.on('end', () => this.guard(() => this.onCliEnd()));
    cli.on('drain', this.onCliDrain);
  }

  start(): void {
    const cli = this.cli;
    this.listenClient();
    if (this.fe.cfg.options.clitcpka) cli.setKeepAlive(true);
    cli.setNoDelay(true);
    // tcp-request connection rules (and session rules unless a PROXY header comes first)
    if (!acceptRules(this, this.proxyHeaderPending, () => { this.proxyHeaderPending = true; })) return;
    if (this.fe.logs?.cfg?.steps?.includes('accept')) this.logAccept();
    this.armRequestTimer(true);
    cli.resume();
  }

  /**
   * start() for a connection handed over by a TcpStream (HTTP upgrade): its connection and
   * session rules already ran and the socket options are set. The bytes it held are parsed as
   * the beginning of the input; the first request then goes on where the TCP analysis stopped
   * (startRequest).
   */
  startUpgraded(): void {
    const up = this.upgrade!;
    this.listenClient();
    this.tmoClient = up.tmoClient;
    this.tmoServer = up.tmoServer;
    this.tmoTunnel = up.tmoTunnel;
    this.retriesOverride = up.retries;
    this.lastRule = up.lastRule;
    this.armRequestTimer(true);
    this.guard(() => {
      if (up.held.length) {
        countIn(this, up.held.length);
        this.inBuf = up.held;
      }
      // the backend chosen by the TCP stream is this stream's from now on (counted once)
      this.be = up.be;
      if (this.inBuf) this.processInput();
      if (!this.closed && up.cliEnded) this.onCliEnd();
    });
    if (this.readWanted()) this.cli.resume();
  }

  /** Whether reading from the client goes on (a TcpStream handing over in its read callback asks). */
  readWanted(): boolean {
    return !this.closed && !this.cliPaused && !this.cbuf.busy && !(this.inBuf && this.inBuf.length >= MAX_HELD_BYTES);
  }

  private guard(fn: () => void): void {
    try { fn(); } catch (e) {
      this.rt.internalError(e);
      this.fe.feCounters.internalErrors++;
      this.abort('I', this.phase());
    }
  }

  private phase(): TermPhase {
    if (this.cliState === 'head') return 'R';
    if (!this.conn?.connected) return this.dequeued ? 'C' : 'Q';
    return this.srvState === 'head' ? 'H' : 'D';
  }

  // ------------------------------------------------------------------ timers
  // One timer per stream, re-armed lazily: setting or clearing a deadline only stores it, and
  // the Node timer is replaced only when the new deadline comes before the armed one. When the
  // timer fires before the current deadline (it was moved later meanwhile), it is re-armed for
  // the rest. This keeps timer-list work off the per-request path.
  private setTimer(kind: NonNullable<HttpStream['timerKind']>, ms: number | undefined): void {
    if (!ms) { this.timerKind = undefined; return; }
    const now = Date.now();
    this.timerKind = kind;
    this.timerMs = ms;
    this.deadline = now + ms;
    if (this.timer && this.timerAt <= this.deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = this.deadline;
    this.timer = setTimeout(this.onTimer, ms);
  }

  private clearTimer(): void {
    this.timerKind = undefined;
  }

  /** Stops the Node timer for good (end of the stream). */
  private stopTimer(): void {
    this.timerKind = undefined;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = undefined; }
  }

  /** Waiting for a request head: timeout http-request (first request) / http-keep-alive (later ones). */
  private armRequestTimer(first: boolean): void {
    const fe = this.fe.cfg.timeouts;
    const ms = first ? (fe.httpRequest ?? fe.client) : (fe.httpKeepAlive ?? fe.httpRequest ?? fe.client);
    this.setTimer(first ? 'req' : 'ka', ms);
  }

  /** Idle timers while data flows: client or server inactivity, or tunnel. */
  private armIdleTimer(): void {
    const be = this.be?.cfg.timeouts;
    if (this.cliState === 'tunnel') { this.setTimer('tunnel', this.tmoTunnel ?? be?.tunnel ?? this.tmoServer ?? be?.server ?? this.tmoClient ?? this.fe.cfg.timeouts.client); return; }
    if (!this.txn?.reqDone) this.setTimer('client', this.tmoClient ?? this.fe.cfg.timeouts.client);
    else this.setTimer('server', this.tmoServer ?? be?.server);
  }

  private readonly onTimer = (): void => this.guard(() => {
    this.timer = undefined;
    const kind = this.timerKind;
    if (this.closed || !kind) return;
    const left = this.deadline - Date.now();
    if (left > 0) {
      // the deadline moved later since this timer was armed
      this.timerAt = this.deadline;
      this.timer = setTimeout(this.onTimer, left);
      return;
    }
    this.timerKind = undefined;
    switch (kind) {
      case 'req':
      case 'ka': {
        // a connection that sent nothing is closed silently on keep-alive, and on the first
        // request too with option http-ignore-probes
        const nothing = !this.inBuf || this.inBuf.length === 0;
        if (nothing && (kind === 'ka' || this.fe.cfg.http.ignoreProbes)) { this.abort('c', 'R'); return; }
        this.fe.feCounters.failedReq++;
        this.listener.counters.failedReq++;
        this.replyH1Error(408, 'c', 'R');
        return;
      }
      case 'queue':
        this.be?.unqueue(this, undefined);
        this.dequeued = true;
        this.replyError(503, 's', 'Q');
        return;
      case 'connect':
        this.connectFailed('timeout');
        return;
      case 'body':
        // wait-for-body / http-buffer-request: the body did not come in time
        this.anBodyWant = 0;
        this.replyError(408, 'c', 'R');
        return;
      case 'pause':
        this.analyzeRequest();
        return;
      case 'respause':
        this.resumeResponse();
        return;
      case 'resbody':
        // http-response wait-for-body: the body did not come in time
        this.resBodyWant = false;
        this.resWait = undefined;
        this.dropConn();
        this.replyError(504, 's', 'H');
        return;
      case 'tarpit': {
        const v = this.tarpitReply;
        this.tarpitReply = undefined;
        if (v) this.sendRuleReply(v, 'T');
        return;
      }
      case 'server':
      case 'client':
      case 'tunnel': {
        // inactivity timers: re-armed for the rest when there was traffic meanwhile
        const idle = Date.now() - this.lastAct;
        const ms = this.timerMs;
        if (ms && idle < ms) { this.setTimer(kind, ms - idle); this.timerMs = ms; return; }
        if (kind === 'server') {
          if (this.srvState === 'head' && !this.txn?.respStarted) {
            if (this.server) reportServerResult(this.server, 'layer7', false, 'Read timeout (http)');
            if (this.retryL7('response-timeout')) return;
            this.replyError(504, 's', 'H');
            return;
          }
          this.abort('s', 'D');
          return;
        }
        if (kind === 'client' && this.cliState === 'body') { this.replyError(408, 'c', 'D'); return; }
        this.abort('c', 'D');
        return;
      }
      default:
    }
  });

  // ------------------------------------------------------------------ client side
  /** Every client byte arrives here, in cbuf (valid during the call). */
  private readonly onCliRead = (n: number, buf: Uint8Array): boolean => {
    if (this.closed) return false;
    this.lastAct = Date.now();
    if (!this.txn && !this.headFirstByteAt) this.headFirstByteAt = this.lastAct;
    countIn(this, n);
    const chunk = (buf as Buffer).subarray(0, n);
    try {
      if (this.cliState === 'tunnel') return this.forwardToServer(chunk, true);
      if (this.cliState === 'body' && !this.inBuf) {
        const ok = this.feedRequestBody(chunk, true);
        if (!ok) this.cbuf.busy = true;
        const held = this.inBuf as Buffer | undefined; // set by feedRequestBody for a pipelined request
        if (held && held.buffer === buf.buffer) this.inBuf = Buffer.from(held);
        this.cbuf.grow(n, buf);
        return ok && !this.cliPaused;
      }
      // head, waiting, or body behind held bytes: processed in order; parsed in place when
      // nothing is held, and what is left is copied out of the read buffer
      this.inBuf = this.inBuf ? Buffer.concat([this.inBuf, chunk]) : chunk;
      this.processInput();
      if (this.inBuf && this.inBuf.buffer === buf.buffer) this.inBuf = Buffer.from(this.inBuf);
      if (this.closed) return false;
      this.cbuf.grow(n, buf);
      if (this.inBuf && this.inBuf.length >= MAX_HELD_BYTES) { this.cliPaused = true; return false; }
      return !this.cliPaused && !this.cbuf.busy;
    } catch (e) {
      this.rt.internalError(e);
      this.abort('I', this.phase());
      return false;
    }
  };

  /** Processes held client bytes as far as the current state allows. */
  private processInput(): void {
    while (!this.closed && this.inBuf && this.inBuf.length) {
      if (this.proxyHeaderPending) {
        const r = parseProxyHeader(this.inBuf);
        if (r.status === 'incomplete') return;
        if (r.status === 'error') {
          this.fe.feCounters.failedReq++;
          this.listener.counters.failedReq++;
          this.sessionError(proxyHeaderErrorText(r.reason));
          this.abort('P', 'R');
          return;
        }
        this.proxyHeaderPending = false;
        if (r.info.command === 'PROXY' && (r.info.family === 'TCP4' || r.info.family === 'TCP6')) {
          this.addrs = {
            src: plainAddress(r.info.srcAddr), srcPort: r.info.srcPort ?? 0,
            dst: plainAddress(r.info.dstAddr), dstPort: r.info.dstPort ?? 0,
          };
        }
        this.inBuf = this.inBuf.subarray(r.length);
        if (!afterProxyHeader(this)) return; // tcp-request session rules
        continue;
      }
      if (this.cliState === 'head') {
        if (!this.startRequest()) return;
        continue;
      }
      if (this.cliState === 'body') {
        const held = this.inBuf;
        this.inBuf = undefined;
        const before = this.txn;
        const consumed = this.feedRequestBodyCount(held);
        if (this.closed) return;
        if (consumed < held.length) this.inBuf = held.subarray(consumed);
        if (this.txn === before && this.cliState === 'body') return; // needs more
        continue;
      }
      if (this.cliState === 'tunnel') {
        const held = this.inBuf;
        this.inBuf = undefined;
        this.forwardToServer(held, false);
        return;
      }
      return; // 'wait' / 'closing': pipelined bytes stay until the current transaction ends
    }
  }

  /** Parses a request head from inBuf; false when more bytes are needed or the stream ended. */
  private startRequest(): boolean {
    const buf = this.inBuf!;
    const r = parseRequestHead(buf, this.h1opts);
    if (r.state === 'incomplete') return false;
    if (r.state === 'error') {
      this.fe.feCounters.failedReq++;
      this.listener.counters.failedReq++;
      this.rt.debug(`${this.fe.name}: invalid request from ${this.src}:${this.srcPort} at offset ${r.offset}: ${r.reason}`);
      captureError(this, 'request', buf, r.offset);
      this.replyH1Error(r.status, 'P', 'R');
      return false;
    }
    this.inBuf = buf.length > r.headLength ? buf.subarray(r.headLength) : undefined;
    this.txnCount++;
    const req = r.head;
    const now = Date.now();
    const txn: Txn = {
      log: {
        t0: this.lastTxnEnd, firstByteAt: this.headFirstByteAt || now, headAt: now, assignAt: 0, assignedAt: 0,
        connectedAt: 0, respAt: 0, bytesIn0: this.bytesIn - buf.length, bytesOut0: this.bytesOut,
        cause: undefined, phase: undefined, srv: undefined, done: false, logged: false, htxOut0: this.htxOut,
      },
      req, reqFraming: r.framing,
      reqLeft: r.framing.kind === 'length' ? r.framing.length : 0,
      reqChunked: r.framing.kind === 'chunked' ? new ChunkedDecoder() : undefined,
      reqDone: r.framing.kind === 'none' || (r.framing.kind === 'length' && r.framing.length === 0),
      wantsClose: r.wantsClose || r.clAndTe,
      clAndTe: r.clAndTe,
      upgrade: r.upgrade || req.method === 'CONNECT',
      resp: undefined, respFraming: undefined, respLeft: 0, respChunked: undefined,
      respDone: false, respStarted: false,
      retriesLeft: 0, replay: null, replayBytes: 0,
      cookie: undefined, persistTo: undefined, bodyParts: null, bodyLen: 0,
    };
    this.txn = txn;
    this.headFirstByteAt = 0;
    this.cliState = txn.reqDone ? 'wait' : 'body';
    this.clearTimer();
    this.fe.feCounters.reqTotal++;
    this.fe.feCounters.reqRate.hit();

    countFrontendRequest(this.fe);
    const ctx = this.sctx;
    const up = this.upgrade;
    if (up) {
      // the first request after an upgrade is the same transaction the TCP rules worked on:
      // its variables, captures and settings stay
      this.upgrade = undefined;
      const v = ctx.vars, txnVars = v.txn, reqVars = v.req, caps = ctx.reqCaptures, ll = ctx.logLevel;
      ctx.newTxn();
      v.txn = txnVars; v.req = reqVars; ctx.reqCaptures = caps; ctx.logLevel = ll;
      this.prioClass = up.prioClass;
      this.prioOffset = up.prioOffset;
    } else {
      ctx.newTxn();
      this.prioClass = 0;
      this.prioOffset = 0;
    }
    this.forwarded = false;
    this.toApplet = false;
    this.redispatched = false;
    ctx.req = req;
    ctx.be = this.be;
    ctx.txnId = nextTxnId();
    // the default log format: one "Connect from" line per request (per stream, in HAProxy)
    if (this.fe.logs && !up) logConnect(this.fe, ctx);
    if (this.fe.logs?.cfg?.steps) this.logStep(txn, 'request');
    ctx.reqStartedAt = Date.now();

    // capture request header <name> len <n>: the last occurrence, truncated
    const caps = this.fe.cfg.switching?.reqCaptures;
    if (caps?.length) captureHeaders(caps, req.headers, ctx.reqCaptures);

    // monitor-uri: answered here, never forwarded (503 when a "monitor fail" condition holds)
    const mu = this.fe.cfg.http.monitorUri;
    if (mu && (mu.startsWith('/') ? pathOf(req.uri) === mu : req.uri === mu)) {
      const fails = this.fe.cfg.switching?.monitorFail;
      let failed = false;
      if (fails) for (const c of fails) if (c.exec(ctx) === AclResult.PASS) { failed = true; break; }
      this.replyLocal(failed ? 503 : 200, txn);
      return !this.closed;
    }
    // after an upgrade, the analysis goes on where the TCP stream stopped: after the frontend's
    // tcp-request content rules (switch-mode http), or with the backend it chose (implicit
    // upgrade: only the backend's rules apply, no second switching)
    this.anStage = up?.be ? 5 : 0;
    this.skipFeContent = up !== undefined && !up.be;
    this.anIndex = 0;
    this.analyzeRequest();
    return !this.closed;
  }

  /**
   * The request analysis, in HAProxy's order: the frontend's body wait (http-buffer-request),
   * tcp-request content, http-request and redirect rules; content switching (use_backend); then
   * the same for the backend when it is another proxy; then server choice. A rule may suspend it
   * (pause, wait-for-body): it resumes from the same stage and rule.
   */
  private analyzeRequest(): void {
    const txn = this.txn;
    if (!txn) return;
    const fe = this.fe;
    while (!this.closed && this.txn === txn) {
      const be = this.be;
      switch (this.anStage) {
        case 0:
          if (fe.cfg.http.bufferRequest && !this.waitBodyDone(this.h1opts.maxHeadBytes, fe.cfg.timeouts.httpRequest ?? fe.cfg.timeouts.client)) return;
          break;
        case 1: if (!this.skipFeContent && !this.stageRules(fe.cfg.rules?.tcpReqCont)) return; break;
        case 2: if (!this.stageRules(fe.cfg.rules?.httpReq)) return; break;
        case 3: if (!this.stageRules(fe.cfg.switching?.redirects)) return; break;
        case 4: {
          const target = this.switchBackend();
          if (!target || target.stopped) { this.replyError(503, 'P', 'R'); return; }
          // a TCP frontend upgraded to HTTP cannot route to a TCP backend: closed, no reply
          if (target.mode !== 'http' && fe.mode !== 'http') { this.abort('P', 'R'); return; }
          if (this.be !== target || !this.beEntered) {
            if (this.be && this.beEntered) this.be.counters.leave();
            this.be = target;
            target.counters.enter();
            this.beEntered = true;
          }
          target.counters.reqTotal++;
          this.sctx.be = target;
          break;
        }
        case 5:
          if (be !== fe && be!.cfg.http.bufferRequest && !this.waitBodyDone(this.h1opts.maxHeadBytes, fe.cfg.timeouts.httpRequest ?? fe.cfg.timeouts.client)) return;
          break;
        case 6: if (be !== fe && !this.stageRules(be!.cfg.rules?.tcpReqCont)) return; break;
        case 7: if (be !== fe && !this.stageRules(be!.cfg.rules?.httpReq)) return; break;
        case 8: if (be !== fe && !this.stageRules(be!.cfg.switching?.redirects)) return; break;
        case 9: if (!this.statsPage(be!)) return; break;
        default:
          this.anStage = 0;
          this.finishAnalysis(be!);
          return;
      }
      this.anStage++;
      this.anIndex = 0;
    }
  }

  /**
   * The stats page (`stats uri` of the backend): answered here, after the backend's rules, with
   * the whole request body read first for the admin form. False when the analysis stops here.
   */
  private statsPage(be: Proxy): boolean {
    const txn = this.txn!;
    if (!be.cfg.options.statsPage) return true;
    const dash = matchDashboardRequest(be, txn.req);
    if (!dash && !matchStatsRequest(be, txn.req)) return true;
    if (txn.req.method === 'POST' && !this.waitBodyDone(this.h1opts.maxHeadBytes, this.fe.cfg.timeouts.httpRequest ?? this.fe.cfg.timeouts.client)) return false;
    const ctx = this.sctx;
    const headers: [string, string][] = [];
    for (const f of txn.req.headers.list) headers.push([f.name, f.value]);
    const r = (dash ? handleDashboardRequest : handleStatsRequest)(this.rt, be, {
      method: txn.req.method, uri: txn.req.uri, headers, body: ctx.reqBody ?? Buffer.alloc(0), srcAddr: this.src,
    }, { evalCond: (c) => c.exec(ctx) === AclResult.PASS });
    const h = new HttpHeaders();
    for (const [n, v] of r.headers) h.add(n, v);
    const reply: ErrorReply = { empty: false, version: 'HTTP/1.1', status: r.status, reason: reasonPhrase(r.status), headers: h, body: r.body, close: false };
    txn.log.target = '<STATS>';
    this.sendRuleReply({ kind: 'reply', reply, status: r.status, deny: false, applet: true }, 'R');
    return false;
  }

  /** Runs a rule list from the saved index; false when the analysis stops here (yield or verdict). */
  private stageRules(rules: readonly Rule[] | undefined): boolean {
    if (!rules || rules.length === 0) return true;
    const host = this.ruleHost();
    const r = runRules(rules, host, this.anIndex);
    if (this.earlyHints) this.flushEarlyHints();
    if (r.act === Act.CONT || r.act === Act.STOP) return true;
    if (r.act === Act.YIELD) {
      // the action armed what resumes the analysis (a pause timer, a body wait); the rule that
      // yielded runs again then
      this.anIndex = r.at + (host.resumeAfter ? 1 : 0);
      host.resumeAfter = false;
      return false;
    }
    this.applyVerdict();
    return false;
  }

  /** use_backend rules, then default_backend (a listen section is its own backend). */
  private switchBackend(): Proxy | undefined {
    const fe = this.fe;
    if (fe.isBackend) return fe;
    const rules = fe.cfg.switching?.useBackend;
    if (rules && rules.length) {
      const ctx = this.sctx;
      const plan = rules.length >= 8 ? switchPlan(rules) : undefined;
      for (let i = 0; i < rules.length; i++) {
        const seg = plan?.at.get(i);
        if (seg) {
          // a run of exact-match rules on one sample: one lookup decides
          const k = segmentMatch(seg, ctx);
          if (k < 0) { i = seg.end - 1; continue; }
          i = k;
        } else if (rules[i]!.cond && rules[i]!.cond!.exec(ctx) !== AclResult.PASS) continue;
        const r = rules[i]!;
        const t = r.target as { name: string; lf?: { render(c: SmpCtx): string }; px?: Proxy | null };
        if (!t.lf) {
          if (t.px === undefined) t.px = backendByName(this.rt, t.name) ?? null;
          if (t.px) return t.px;
          continue;
        }
        const name = t.lf.render(ctx);
        const px = backendByName(this.rt, name);
        if (px) return px;
        // a dynamic name that matches no backend: the default backend is used
        break;
      }
    }
    return fe.defaultBackend;
  }

  /**
   * Waits until `want` body bytes are held or the request body is complete; false while
   * waiting (the body feed resumes the analysis, the timer answers 408).
   */
  private waitBodyDone(want: number, ms: number | undefined): boolean {
    const txn = this.txn!;
    if (txn.reqDone && !txn.bodyParts) { this.sctx.reqBodyComplete = true; return true; }
    if (!txn.bodyParts) { txn.bodyParts = []; txn.bodyLen = 0; }
    const limit = Math.min(want || this.h1opts.maxHeadBytes, this.h1opts.maxHeadBytes);
    if (txn.reqDone || txn.bodyLen >= limit) {
      this.sctx.reqBody = txn.bodyParts.length === 1 ? txn.bodyParts[0] : Buffer.concat(txn.bodyParts);
      this.sctx.reqBodyComplete = txn.reqDone;
      this.anBodyWant = 0;
      return true;
    }
    this.anBodyWant = limit;
    this.lastAct = Date.now();
    this.setTimer('body', ms);
    return false;
  }

  /** Body bytes arrived while the analysis waits for them. */
  private bodyArrived(): void {
    const txn = this.txn;
    if (!txn || !this.anBodyWant || !txn.bodyParts) return;
    if (txn.reqDone || txn.bodyLen >= this.anBodyWant) {
      this.anBodyWant = 0;
      this.clearTimer();
      this.analyzeRequest();
    }
  }

  /** The rules' view of this stream. */
  private ruleHost(): HttpRuleHost {
    return this.host ??= new HttpRuleHost(this);
  }

  /** What a final rule decided for the request. */
  private applyVerdict(): void {
    const host = this.host!;
    const v = host.verdict!;
    host.verdict = undefined;
    switch (v.kind) {
      case 'reject':
        this.fe.feCounters.deniedReq++;
        this.abort('P', 'R');
        return;
      case 'silent-drop':
        this.fe.feCounters.deniedReq++;
        silentDrop(this, 'R');
        return;
      case 'reply':
        if (v.deny) { this.fe.feCounters.deniedReq++; if (this.be && this.be !== this.fe) this.be.counters.deniedReq++; }
        if (v.tarpit !== undefined) {
          this.tarpitReply = v;
          this.setTimer('tarpit', v.tarpit || 1);
          return;
        }
        this.sendRuleReply(v, 'R');
    }
  }

  /**
   * Sends a reply produced by a request rule (deny, return, redirect, auth, tarpit): the
   * connection stays open for the next request when the request was read completely.
   */
  private sendRuleReply(v: Extract<Verdict, { kind: 'reply' }>, phase: TermPhase): void {
    const txn = this.txn;
    if (!txn || this.closed) return;
    const reply = v.reply as ErrorReply;
    if (v.applet) { this.toApplet = true; this.fe.feCounters.intercepted++; }
    if (v.target) txn.log.target = v.target;
    const keep = txn.reqDone && !txn.wantsClose && connMode(this.fe, this.be) !== 'close' && !this.cliEnded && !this.rt.stopping && !reply.close;
    this.sctx.status = v.status;
    const bytes = this.serializeWithAfter(reply, keep);
    countStatus(this.fe.feCounters, v.status);
    if (this.fe.logs && bytes.length) this.htxOut += replyHtxSize(bytes, reply, keep);
    txn.respStarted = true;
    // the log's termination state: a deny/auth/tarpit is the proxy's, a return/redirect local
    txn.log.cause = v.deny ? 'P' : 'L';
    txn.log.phase = v.tarpit ? 'T' : phase === '-' ? 'R' : phase;
    if (bytes.length) this.writeClient(bytes);
    if (keep && bytes.length) {
      // the body (already read) was queued for a server that will never see it
      this.outQueue = [];
      this.outQueued = 0;
      txn.respDone = true;
      this.srvState = 'none';
      this.maybeFinishTxn();
      return;
    }
    this.closeAfterReply(v.deny ? 'P' : '-', v.deny ? phase : '-');
  }

  /**
   * The bytes of a reply haproxy-ts generates, after the http-after-response rules of the
   * backend and the frontend.
   */
  private serializeWithAfter(reply: ErrorReply, keepAlive: boolean): Buffer {
    if (reply.empty) return serializeReply(reply, { keepAlive });
    // http-error ... lf-string / lf-file / hdr with a format: rendered for this request
    if (reply.dynamic) reply = renderErrorReply(reply, this.sctx);
    const feAfter = this.fe.cfg.rules?.httpAfter;
    const beAfter = this.be && this.be !== this.fe ? this.be.cfg.rules?.httpAfter : undefined;
    if (!feAfter?.length && !beAfter?.length) return serializeReply(reply, { keepAlive });
    const res: HttpResponseHead = { version: reply.version, status: reply.status, reason: reply.reason, headers: reply.headers.clone() };
    this.runAfterRules(res);
    return serializeReply({ ...reply, status: res.status, reason: res.reason, headers: res.headers }, { keepAlive });
  }

  /** http-after-response rules, backend then frontend, on a response head. */
  private runAfterRules(res: HttpResponseHead): void {
    const ctx = this.sctx;
    const prevDir = ctx.dir, prevRes = ctx.res;
    ctx.dir = 'res';
    ctx.res = res;
    ctx.status = res.status;
    const host = this.ruleHost();
    for (const px of this.be && this.be !== this.fe ? [this.be, this.fe] : [this.fe]) {
      const rules = px.cfg.rules?.httpAfter;
      if (rules?.length) runRules(rules, host, 0);
      host.verdict = undefined;
    }
    ctx.dir = prevDir;
    ctx.res = prevRes ?? res;
  }

  /** The rest of the request processing once the rules let it through. */
  private finishAnalysis(be: Proxy): void {
    const txn = this.txn!;
    const req = txn.req;
    const retryOn = be.cfg.http.retryOn;
    txn.retriesLeft = retryOn.length ? (this.retriesOverride ?? be.cfg.retries) : 0;
    // body bytes held while the rules waited for the body are part of what a retry replays
    if (retryOn.some((k) => k !== 'conn-failure')) { txn.replay = [...this.outQueue]; txn.replayBytes = this.outQueued; }
    // force-persist / ignore-persist, use-server, then cookie persistence
    const sw = be.cfg.switching;
    const ctx = this.sctx;
    const force = !!sw?.forcePersist.length && sw.forcePersist.some((c) => c.exec(ctx) === AclResult.PASS);
    const ignore = !!sw?.ignorePersist.length && sw.ignorePersist.some((c) => c.exec(ctx) === AclResult.PASS);
    let useServer = false;
    if (sw?.useServer.length) {
      for (const r of sw.useServer) {
        if (r.cond && r.cond.exec(ctx) !== AclResult.PASS) continue;
        const name = r.target.lf ? r.target.lf.render(ctx) : r.target.name;
        const srv = be.findServer(name);
        if (!srv) continue;
        if (persistUsable(be, srv) || force) { txn.persistTo = srv; useServer = true; break; }
      }
    }
    // cookie persistence: read (and, per mode, strip) the cookie before the request goes on
    if (be.cfg.cookiePersist?.cookie) {
      const ck = cookieRequest(be, req, Date.now());
      txn.cookie = ck.state;
      if (!useServer && !ignore && ck.server && (force || persistUsable(be, ck.server))) txn.persistTo = ck.server;
    }
    // option http-restrict-req-hdr-names, frontend then backend
    for (const px of be === this.fe ? [this.fe] : [this.fe, be]) {
      const mode = px.cfg.http.restrictHdrNames;
      if (mode === 'preserve') continue;
      const bad = req.headers.list.filter((h) => !/^[a-zA-Z0-9-]+$/.test(h.name));
      if (!bad.length) continue;
      if (mode === 'reject') { this.replyError(403, 'P', 'R'); return; }
      for (const h of bad) req.headers.list.splice(req.headers.list.indexOf(h), 1);
    }
    this.uniqueId(req);
    this.prepareRequest(req, be);
    this.queueHead(formatRequestHead(req, this.srvNames(be)));
    txn.bodyParts = null;
    const b = be.cfg.balance;
    if (!txn.reqDone && (this.fe.cfg.http.bufferRequest || be.cfg.http.bufferRequest)) {
      // option http-buffer-request: the whole body, or a buffer's worth, before going on
      this.lbBodyWait = txn.reqFraming.kind === 'length' ? Math.min(txn.reqLeft, this.h1opts.maxHeadBytes) : this.h1opts.maxHeadBytes;
      // waiting for the body: timeout http-request (it covers the body here), else timeout client
      this.lastAct = Date.now();
      this.setTimer('client', this.fe.cfg.timeouts.httpRequest ?? this.fe.cfg.timeouts.client);
      this.checkLbBody();
    } else if (b?.algo === 'url_param' && b.checkPost && req.method === 'POST' && !txn.reqDone && txn.reqFraming.kind === 'length' && !req.uri.includes('?')) {
      // balance url_param check_post: the parameter may be in the body; wait for the first
      // part of it (up to the buffer size) before choosing a server
      this.lbBodyWait = Math.min(txn.reqLeft, this.h1opts.maxHeadBytes);
      this.lastAct = Date.now();
      this.setTimer('client', this.fe.cfg.timeouts.httpRequest ?? this.fe.cfg.timeouts.client);
      this.checkLbBody();
    } else {
      this.assign(null);
    }
  }

  /** unique-id-format: the transaction's id, generated once; unique-id-header sends it. */
  private uniqueId(req: HttpRequestHead): void {
    const sw = this.fe.cfg.switching;
    if (!sw?.uniqueIdFormat) return;
    const id = this.genUniqueId();
    if (sw.uniqueIdHeader && id !== undefined) req.headers.add(sw.uniqueIdHeader, id);
  }

  // ---- StreamInfo (what fetches read of this stream) ----
  /** the last final rule that matched (last_rule_file / last_rule_line) */
  lastRule: { file: string; line: number } | undefined;
  /** a retry went to another server */
  redispatched = false;
  /** set-bc-tos / set-bc-mark: applied to the server connection once connected */
  bcTos: number | undefined;
  bcMark: number | undefined;
  /** queue priority (set-priority-class / set-priority-offset), for queues and prio_* fetches */
  prioClass = 0;
  prioOffset = 0;
  /** the current request was sent to a server / answered by haproxy-ts itself (return) */
  forwarded = false;
  toApplet = false;
  /** an error happened in this transaction: a failed connection, a retry, a redispatch, a 5xx, an abort */
  get txnError(): boolean {
    return this.termCause !== '-' || this.sctx.status >= 500 || this.redispatched || (this.txn !== undefined && this.be !== undefined && this.txn.retriesLeft < (this.retriesOverride ?? this.be.cfg.retries) && this.be.cfg.http.retryOn.length > 0);
  }
  readonly cliHttpMajor = 1;
  get srvHttpMajor(): number | undefined { return this.conn ? 1 : undefined; }
  get curClientTimeout(): number | undefined { return this.tmoClient ?? this.fe.cfg.timeouts.client; }
  get curServerTimeout(): number | undefined { return this.tmoServer ?? this.be?.cfg.timeouts.server; }
  get curTunnelTimeout(): number | undefined { return this.tmoTunnel ?? this.be?.cfg.timeouts.tunnel; }
  /** the server connection: our local address as src, the server as dst */
  get srvConn(): { src: string; srcPort: number; dst: string; dstPort: number; acceptedAt: number } | undefined {
    const c = this.conn;
    if (!c || !c.connected) return undefined;
    const k = c.sock;
    return { src: plainAddress(k.localAddress), srcPort: k.localPort ?? 0, dst: plainAddress(k.remoteAddress), dstPort: k.remotePort ?? 0, acceptedAt: this.acceptedAt };
  }
  /** the server connection came from the idle pool (it served earlier requests) */
  get srvConnReused(): boolean | undefined { return this.conn ? this.conn.uses > 1 : undefined; }

  /** StreamInfo: the client socket and the server connection's socket (TCP_INFO fetches) */
  get cliSock(): object { return this.cli; }
  get srvSock(): object | undefined { return this.conn?.sock; }

  /** StreamInfo: builds the unique id from unique-id-format on first use. */
  genUniqueId(): string | undefined {
    const ctx = this.sctx;
    if (ctx.uniqueId !== undefined) return ctx.uniqueId;
    const fmt = this.fe.cfg.switching?.uniqueIdFormat;
    if (!fmt) return undefined;
    ctx.uniqueId = fmt.render(ctx);
    return ctx.uniqueId;
  }

  /**
   * The formatted request head goes first to the server, before body bytes already queued while
   * the rules waited for the body (and first in the replay copy).
   */
  private queueHead(head: Buffer): void {
    const txn = this.txn!;
    if (this.outQueue.length === 0) { this.queueOut(head); return; }
    this.outQueue.unshift(head);
    this.outQueued += head.length;
    if (txn.replay) {
      txn.replayBytes += head.length;
      if (txn.replayBytes > this.rt.global.tune.bufsize) txn.replay = null;
      else txn.replay.unshift(head);
    }
  }


  /** Header changes on the way to the server: X-Forwarded-For, X-Original-To, Connection. */
  private prepareRequest(req: HttpRequestHead, be: Proxy): void {
    const h = req.headers;
    const feH = this.fe.cfg.http, beH = be.cfg.http;
    const ff = beH.forwardfor ?? feH.forwardfor;
    if (ff && (feH.forwardfor || beH.forwardfor)) {
      const excluded = [feH.forwardfor?.except, beH.forwardfor?.except].some((n) => n && inNetwork(this.src, n));
      // if-none only when every proxy that sets the option says so
      const ifNone = (!feH.forwardfor || feH.forwardfor.ifNone) && (!beH.forwardfor || beH.forwardfor.ifNone);
      const lname = ff.header.toLowerCase();
      if (!excluded && net.isIP(this.src) && !(ifNone && h.has(lname))) h.add(ff.header, this.src);
    }
    const ot = beH.originalto ?? feH.originalto;
    if (ot) {
      const excluded = [feH.originalto?.except, beH.originalto?.except].some((n) => n && inNetwork(this.dst, n));
      if (!excluded && net.isIP(this.dst)) h.add(ot.header, this.dst);
    }
    // http-pretend-keepalive: the server is not told that the connection closes after this
    setConnection(h, req.version, this.serverSideCloses(be) && !be.cfg.http.pretendKeepalive, this.txn!.upgrade);
  }

  /** Header name case for the server side (option h1-case-adjust-bogus-server). */
  private srvNames(be: Proxy): ReadonlyMap<string, string> | undefined {
    return be.cfg.http.caseAdjustServer ? this.rt.global.h1CaseAdjust : undefined;
  }

  /** Header name case for the client side (option h1-case-adjust-bogus-client). */
  private cliNames(): ReadonlyMap<string, string> | undefined {
    return this.fe.cfg.http.caseAdjustClient ? this.rt.global.h1CaseAdjust : undefined;
  }

  /** Whether the server connection is to be closed after this transaction. */
  private serverSideCloses(be: Proxy): boolean {
    return connMode(this.fe, be) !== 'keep-alive';
  }

  /** Request body bytes from the client's buffer: returns false when the server side is full. */
  private feedRequestBody(chunk: Buffer, fromCbuf: boolean): boolean {
    const consumed = this.feedRequestBodyCount(chunk, fromCbuf);
    if (consumed < chunk.length && !this.closed) {
      // the rest belongs to the next request: hold a copy
      const rest = chunk.subarray(consumed);
      this.inBuf = this.inBuf ? Buffer.concat([this.inBuf, rest]) : Buffer.from(rest);
      this.processInput();
    }
    return !this.outBusy();
  }

  /** Forwards body bytes of the current request from `chunk`; returns how many were consumed. */
  private feedRequestBodyCount(chunk: Buffer, fromCbuf = false): number {
    const txn = this.txn!;
    let consumed = 0;
    if (txn.reqFraming.kind === 'length') {
      const take = Math.min(txn.reqLeft, chunk.length);
      if (take && txn.bodyParts) { txn.bodyParts.push(Buffer.from(chunk.subarray(0, take))); txn.bodyLen += take; }
      if (take) this.sendOut(chunk.subarray(0, take), fromCbuf);
      txn.reqLeft -= take;
      consumed = take;
      if (txn.reqLeft === 0) this.requestBodyDone();
    } else if (txn.reqChunked) {
      const r = txn.reqChunked.push(chunk);
      if (r.error) {
        this.fe.feCounters.failedReq++;
        this.listener.counters.failedReq++;
        this.rt.debug(`${this.fe.name}: invalid chunked request body from ${this.src}:${this.srcPort}: ${r.error.reason}`);
        if (this.txn?.respStarted) this.abort('P', 'D');
        else this.replyError(400, 'P', 'D');
        return chunk.length;
      }
      if (txn.bodyParts) for (const d of r.data) { txn.bodyParts.push(Buffer.from(d)); txn.bodyLen += d.length; }
      // what one read brought is sent as one chunk, as HAProxy re-chunks what it has buffered
      for (const d of r.data) this.htxOut += d.length;
      if (r.data.length === 1) for (const piece of encodeChunk(r.data[0]!)) this.sendOut(piece, fromCbuf);
      else if (r.data.length > 1) for (const piece of encodeChunk(Buffer.concat(r.data))) this.sendOut(piece, false);
      consumed = r.consumed;
      if (r.done) {
        const trailers = this.be?.cfg.http.dropReqTrailers ? undefined : r.trailers;
        this.sendOut(encodeLastChunk(trailers), false);
        this.requestBodyDone();
      }
    }
    if (this.anBodyWant && this.txn === txn) this.bodyArrived();
    return consumed;
  }

  private requestBodyDone(): void {
    const txn = this.txn!;
    txn.reqDone = true;
    if (this.cliState === 'body') this.cliState = 'wait';
    if (this.lbBodyWait) this.checkLbBody();
    if (this.conn?.connected) this.armIdleTimer();
    this.maybeFinishTxn();
  }

  /** Keeps a copy of request bytes for a possible L7 retry, while they fit in a buffer. */
  private keepReplay(b: Buffer, isView: boolean): void {
    const txn = this.txn;
    if (!txn?.replay) return;
    txn.replayBytes += b.length;
    if (txn.replayBytes > this.rt.global.tune.bufsize) { txn.replay = null; return; }
    txn.replay.push(isView ? Buffer.from(b) : b);
  }

  /**
   * An L7 retry (retry-on) for `event` if the backend asks for it, retries are left and the
   * whole request is known; the failed server connection is dropped and the request sent again,
   * on another server when option redispatch says so. False when no retry happens.
   */
  private retryL7(event: string): boolean {
    const txn = this.txn, be = this.be, s = this.server;
    if (!txn || !be || !s || !txn.reqDone || !txn.replay || txn.respStarted || txn.retriesLeft <= 0) return false;
    if (!be.cfg.http.retryOn.includes(event)) return false;
    const retryNo = be.cfg.retries - txn.retriesLeft + 1;
    txn.retriesLeft--;
    s.counters.retries++;
    be.counters.retries++;
    this.dropConn();
    this.respBuf = undefined;
    this.srvState = 'none';
    this.clearTimer();
    const copies = txn.replay;
    txn.replay = [];
    txn.replayBytes = 0;
    this.outQueue = [];
    this.outQueued = 0;
    for (const b of copies) this.queueOut(b);
    if (redispatchNow(be, s, retryNo)) {
      this.releaseServer();
      s.counters.redispatches++;
      be.counters.redispatches++;
      this.redispatched = true;
      this.assign(s);
    } else {
      this.connectNew();
    }
    return true;
  }

  /** Bytes for the server: written if connected, else queued (copied when they are views). */
  private sendOut(b: Buffer, isView: boolean): void {
    if (this.conn?.connected && this.outQueue.length === 0) {
      this.keepReplay(b, isView);
      const sock = this.conn.sock;
      sock.write(safeView(b));
      if (sock.writableLength > 0 && !this.cbuf.busy) {
        this.cbuf.busy = true;
        whenFlushed(sock, this.resumeClient);
      }
      return;
    }
    this.queueOut(Buffer.from(b));
  }

  private queueOut(b: Buffer): void {
    this.keepReplay(b, false);
    this.outQueue.push(b);
    this.outQueued += b.length;
    if (this.lbBodyWait) this.checkLbBody();
  }

  /** The server side cannot take more now (queued data, or not connected with too much held). */
  private outBusy(): boolean {
    if (this.conn?.connected) return this.conn.sock.writableLength > 0;
    return this.outQueued >= MAX_HELD_BYTES;
  }

  private forwardToServer(chunk: Buffer, fromCbuf: boolean): boolean {
    const c = this.conn;
    if (!c || !c.connected) { this.queueOut(Buffer.from(chunk)); return this.outQueued < MAX_HELD_BYTES; }
    const ok = c.sock.write(safeView(chunk));
    if (!ok || c.sock.writableLength > 0) {
      if (fromCbuf) this.cbuf.busy = true;
      if (ok) whenFlushed(c.sock, this.resumeClient);
      return false;
    }
    return true;
  }

  private readonly onCliDrain = (): void => {
    this.lastAct = Date.now(); // the client took what we wrote: activity
    const c = this.conn;
    if (!c || !c.rbuf.busy) return;
    c.rbuf.busy = false;
    if (!c.sock.destroyed) c.sock.resume();
  };

  private readonly resumeClient = (): void => this.onSrvDrainResume();

  private onSrvDrainResume(): void {
    if (this.cbuf.busy) {
      this.cbuf.busy = false;
      if (!this.cliEnded && !this.cliPaused) this.cli.resume();
    }
  }

  private onCliEnd(): void {
    this.cliEnded = true;
    if (this.closed) return;
    if (this.cliState === 'tunnel') {
      if (this.conn && !this.conn.sock.destroyed) this.conn.sock.end();
      if (this.conn?.ended) this.finishClose();
      return;
    }
    if (this.cliState === 'head' && (!this.inBuf || this.inBuf.length === 0) && !this.txn) {
      // client closed between requests
      this.abort('C', 'R');
      return;
    }
    if (this.cliState === 'head' || this.cliState === 'body') {
      // truncated request
      if (this.txn && this.cliState === 'body') { this.be && this.be.counters.cliAborts++; this.fe.feCounters.cliAborts++; }
      this.abort('C', this.cliState === 'head' ? 'R' : 'D');
      return;
    }
    // 'wait': request complete; the response still goes back (no abortonclose handling of HTTP yet)
    if (this.be?.cfg.options.abortonclose && !this.txn?.respStarted) { this.abort('C', this.phase()); }
  }

  private onCliGone(isError: boolean): void {
    if (this.closed) return;
    if (isError || !this.cliEnded || this.cliState !== 'closing') {
      if (this.txn && !this.txn.respDone) { this.fe.feCounters.cliAborts++; if (this.be) this.be.counters.cliAborts++; }
      this.abort('C', this.phase());
    }
  }

  // ------------------------------------------------------------------ what rules may change
  /** set-src / set-dst / set-src-port / set-dst-port */
  ruleSetAddr(which: 'src' | 'dst', addr: string | undefined, port: number | undefined): void {
    const a = { ...this.a };
    if (which === 'src') { if (addr !== undefined) a.src = addr; if (port !== undefined) a.srcPort = port; }
    else { if (addr !== undefined) a.dst = addr; if (port !== undefined) a.dstPort = port; }
    this.addrs = a;
    this.sctx.streamAddr = a;
  }

  /** set-retries: the retries left for this transaction */
  ruleSetRetries(n: number): void {
    this.retriesOverride = n;
    if (this.txn) this.txn.retriesLeft = n;
  }

  /** pause: the analysis resumes after the next rule once the delay is over */
  rulePause(ms: number): void {
    if (this.sctx.dir === 'res') { this.resPause(ms); return; }
    this.host!.resumeAfter = true;
    this.setTimer('pause', Math.max(1, ms));
  }

  /** wait-for-body: true when the body (or `atLeast` bytes of it, or a buffer's worth) is there */
  ruleWaitBody(ms: number, atLeast: number): boolean {
    if (this.sctx.dir === 'res') return this.resWaitBody(ms, atLeast);
    return this.waitBodyDone(atLeast || this.h1opts.maxHeadBytes, ms);
  }

  /** early-hint: collected, sent as one 103 response when the rule set pauses or ends */
  ruleEarlyHint(name: string, value: string): void {
    (this.earlyHints ??= []).push([name, value]);
  }

  private flushEarlyHints(): void {
    const h = this.earlyHints;
    if (!h) return;
    this.earlyHints = undefined;
    const txn = this.txn;
    if (!txn || txn.respStarted || this.closed || minorVersion(txn.req.version) < 1) return;
    let head = 'HTTP/1.1 103 Early Hints\r\n';
    for (const [n, v] of h) head += `${n.toLowerCase()}: ${v}\r\n`;
    this.writeClient(Buffer.from(head + '\r\n', 'latin1'));
  }

  /** set-fc-tos / set-fc-mark (and set-tos / set-mark) on the client connection */
  ruleSockOpt(what: 'tos' | 'mark', value: number): void {
    setIpOpt(this.cli, what, this.a.dst.includes(':'), value);
  }

  // ------------------------------------------------------------------ server choice
  /** With check_post, assigns once enough of the body is held (or all of it arrived). */
  private checkLbBody(): void {
    if (this.lbBodyWait === 0) return;
    const bodyHeld = this.outQueued - (this.outQueue[0]?.length ?? 0);
    if (bodyHeld < this.lbBodyWait && !this.txn?.reqDone) return;
    this.lbBodyWait = 0;
    this.assign(null);
  }

  /** The balancing key of the current request for the backend's algorithm. */
  private lbKey(be: Proxy): Uint8Array | null {
    const b = be.cfg.balance;
    if (!b) return null;
    if (b.algo === 'source') return sourceKey(this.src);
    if (b.algo === 'hash') return balanceHashKey(b, this.sctx);
    const req = this.txn!.req;
    if (b.algo === 'rdp-cookie') {
      // in HTTP, the named cookie of the request's Cookie header(s)
      for (const v of req.headers.getAll('cookie')) {
        for (const part of v.split(';')) {
          const eq = part.indexOf('=');
          if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === b.cookie.toLowerCase()) {
            const val = part.slice(eq + 1).trim();
            return val ? Buffer.from(val, 'latin1') : null;
          }
        }
      }
      return null;
    }
    if (b.algo !== 'uri' && b.algo !== 'url_param' && b.algo !== 'hdr') return null;
    const body = b.algo === 'url_param' && b.checkPost && this.outQueue.length > 1 ? Buffer.concat(this.outQueue.slice(1)) : null;
    return httpLbKey(b, { uri: req.uri, method: req.method, header: (n) => req.headers.get(n), body });
  }

  private assign(avoid: Server | null): void {
    const be = this.be!;
    const txn = this.txn;
    if (txn && !txn.log.assignAt) txn.log.assignAt = Date.now();
    // a persistent server first (not when redispatching away from it)
    const persist = txn?.persistTo && txn.persistTo !== avoid ? be.assignTo(txn.persistTo, this) : undefined;
    const r = persist ?? be.assign({ src: be.cfg.balance?.algo === 'source' ? this.src : undefined, key: this.lbKey(be) }, avoid, this);
    switch (r.kind) {
      case 'assigned':
        this.server = r.server;
        if (txn) { txn.log.srv = r.server; txn.log.assignedAt = Date.now(); }
        r.server.counters.reqTotal++;
        this.connect();
        return;
      case 'queued':
        this.dequeued = false;
        this.setTimer('queue', be.cfg.timeouts.queue ?? be.cfg.timeouts.connect);
        return;
      case 'none':
        this.replyError(503, 'S', 'C');
    }
  }

  grant(srv: Server): void {
    this.guard(() => {
      this.dequeued = true;
      this.clearTimer();
      if (this.closed) { this.be!.release(srv); return; }
      this.server = srv;
      const txn = this.txn;
      if (txn) { txn.log.srv = srv; txn.log.assignedAt = Date.now(); }
      srv.counters.reqTotal++;
      this.connect();
    });
  }

  private connect(): void {
    const be = this.be!;
    const s = this.server!;
    // reuse: a connection of this stream to the same server, or an idle one from the pool
    const mode = be.cfg.http.reuse;
    if (this.conn && this.conn.server === s && this.conn.reusable) {
      this.onSrvConnect(this.conn);
      return;
    }
    this.dropConn();
    if (mode !== 'never' && !s.sendProxy && (this.txnCount > 1 || mode === 'aggressive' || mode === 'always')) {
      const idle = takeIdle(s, this);
      if (idle) { this.conn = idle; this.onSrvConnect(idle); return; }
    }
    this.connectNew();
  }

  private connectFailed(why: string): void {
    if (this.server) reportServerResult(this.server, 'layer4', false);
    if (this.closed) return;
    this.clearTimer();
    const be = this.be!;
    const s = this.server!;
    const txn = this.txn!;
    this.dropConn();
    s.counters.failedConns++;
    be.counters.failedConns++;
    if (txn.retriesLeft <= 0 || !be.cfg.http.retryOn.includes('conn-failure')) {
      this.releaseServer();
      this.replyError(503, 'S', 'C');
      return;
    }
    const retryNo = be.cfg.retries - txn.retriesLeft + 1;
    txn.retriesLeft--;
    s.counters.retries++;
    be.counters.retries++;
    if (redispatchNow(be, s, retryNo)) {
      this.releaseServer();
      s.counters.redispatches++;
      be.counters.redispatches++;
      this.redispatched = true;
      this.assign(s);
      return;
    }
    const wait = why === 'timeout' ? 0 : Math.min(be.cfg.timeouts.connect ?? 1000, 1000);
    this.timerKind = undefined;
    this.retryTimer = setTimeout(() => this.guard(() => { this.retryTimer = undefined; if (!this.closed) this.connect(); }), wait);
  }

  // ------------------------------------------------------------------ server connection events
  onSrvConnect(c: SrvConn): void {
    this.guard(() => {
      if (c !== this.conn || this.closed) return;
      this.clearTimer();
      if (this.txn && !this.txn.log.connectedAt) {
        this.txn.log.connectedAt = Date.now();
        if (this.fe.logs?.cfg?.steps) this.logStep(this.txn, 'connect');
      }
      if (c.uses > 0 && this.server && this.be) { this.server.counters.reuses++; this.be.counters.reuses++; }
      c.uses++;
      this.forwarded = true;
      if (this.server && c.uses === 1) reportServerResult(this.server, 'layer4', true);
      applyBackendSockOpts(this, c.sock);
      this.srvState = 'head';
      this.respBuf = undefined;
      // flush what was prepared while connecting
      const q = this.outQueue;
      this.outQueue = [];
      this.outQueued = 0;
      if (q.length > 1) {
        // one writev for the head and the body bytes queued with it
        c.sock.cork();
        for (const b of q) c.sock.write(b);
        c.sock.uncork();
      } else if (q.length === 1) c.sock.write(q[0]!);
      // client reading paused on a full queue resumes now unless the socket queued it all
      if (this.cbuf.busy) {
        if (c.sock.writableLength === 0) this.onSrvDrainResume();
        else whenFlushed(c.sock, this.resumeClient);
      }
      this.lastAct = Date.now();
      this.armIdleTimer();
      if (this.cliPaused && (!this.inBuf || this.inBuf.length < MAX_HELD_BYTES)) { this.cliPaused = false; this.cli.resume(); }
      if (this.cliState === 'body' && this.inBuf) this.processInput();
    });
  }

  onSrvData(c: SrvConn, n: number, buf: Buffer): boolean {
    if (c !== this.conn || this.closed) return false;
    this.lastAct = Date.now();
    try {
      const chunk = buf.subarray(0, n);
      if (this.srvState === 'tunnel') return this.toClient(chunk, c, true);
      if (this.srvState === 'rules') {
        // a response rule waits: keep the bytes (a buffer's worth at most before pausing)
        this.respBuf = this.respBuf ? Buffer.concat([this.respBuf, chunk]) : Buffer.from(chunk);
        c.rbuf.grow(n, buf);
        if (this.resBodyWant) { this.resBodyWant = false; this.resumeResponse(); }
        return !this.closed && this.srvState === 'rules' ? (this.respBuf?.length ?? 0) < this.h1opts.maxHeadBytes : !this.closed;
      }
      if (this.srvState === 'body' && !this.respBuf) {
        const ok = this.feedResponseBody(chunk, c);
        c.rbuf.grow(n, buf);
        return ok;
      }
      if (this.srvState === 'head' || this.respBuf) {
        // parsed in place when nothing is held; what is left is copied out of the read buffer
        this.respBuf = this.respBuf ? Buffer.concat([this.respBuf, chunk]) : chunk;
        this.processResponse();
        if (this.respBuf && this.respBuf.buffer === buf.buffer) this.respBuf = Buffer.from(this.respBuf);
        c.rbuf.grow(n, buf);
        return !this.closed && !c.rbuf.busy;
      }
      // bytes from the server outside of a response: protocol error, drop the connection
      this.dropConn();
      return false;
    } catch (e) {
      this.rt.internalError(e);
      this.abort('I', this.phase());
      return false;
    }
  }

  /**
   * Response rules: the backend's tcp-response content and http-response rules, then the
   * frontend's; then http-after-response. 'stop' when a rule answered instead of the server,
   * 'yield' when a rule waits (the position is kept in resWait), 'ok' to forward the response.
   */
  private responseRules(resp: HttpResponseHead, c: SrvConn, fromStage: number, fromIndex: number): 'ok' | 'stop' | 'yield' {
    const host = this.ruleHost();
    const be = this.be;
    const lists: (readonly Rule[] | undefined)[] = [];
    for (const px of be && be !== this.fe ? [be, this.fe] : [this.fe]) {
      const rules = px.cfg.rules;
      lists.push(px.isBackend ? rules?.tcpResCont : undefined, rules?.httpRes);
    }
    for (let stage = fromStage; stage < lists.length; stage++) {
      const list = lists[stage];
      if (!list?.length) continue;
      const r = runRules(list, host, stage === fromStage ? fromIndex : 0);
      if (r.act === Act.YIELD) {
        const index = r.at + (host.resumeAfter ? 1 : 0);
        host.resumeAfter = false;
        this.resWait = { resp, c, stage, index, r: this.resWait?.r };
        return 'yield';
      }
      if (r.act !== Act.DONE) continue;
      const v = host.verdict!;
      host.verdict = undefined;
      this.resWait = undefined;
      // the server's answer is dropped: its connection cannot be reused
      c.uses = Infinity;
      this.dropConn();
      this.respBuf = undefined;
      if (v.kind === 'silent-drop') { (be ?? this.fe).counters.deniedResp++; silentDrop(this, 'R'); return 'stop'; }
      if (v.kind === 'reject') { (be ?? this.fe).counters.deniedResp++; this.abort('P', 'H'); return 'stop'; }
      if (v.deny) { (be ?? this.fe).counters.deniedResp++; if (this.server) this.server.counters.deniedResp++; }
      this.releaseServer();
      this.srvState = 'none';
      this.sendRuleReply(v, 'H');
      return 'stop';
    }
    this.resWait = undefined;
    if (this.fe.cfg.rules?.httpAfter.length || (be && be !== this.fe && be.cfg.rules?.httpAfter.length)) this.runAfterRules(resp);
    this.sctx.status = resp.status;
    return 'ok';
  }

  /** A response rule that waited may go on (pause over, body arrived, server closed). */
  private resumeResponse(): void {
    const w = this.resWait;
    if (!w || this.closed || this.srvState !== 'rules' || w.c !== this.conn) return;
    this.clearTimer();
    const rr = this.responseRules(w.resp, w.c, w.stage, w.index);
    if (rr !== 'ok') return;
    this.srvState = 'head';
    if (this.afterResponseHead(w.resp, w.r!, w.c) === 'stop') return;
    if (this.respBuf && this.respBuf.length) this.processResponse();
    if (!this.closed && this.conn === w.c && !w.c.rbuf.busy) w.c.sock.resume();
  }

  /** http-response pause: the response rules resume after the next rule once the delay is over. */
  private resPause(ms: number): void {
    this.host!.resumeAfter = true;
    this.setTimer('respause', Math.max(1, ms));
  }

  /**
   * http-response wait-for-body: true when the response body is complete, or `atLeast` bytes
   * (or a buffer's worth) of it are held; the decoded bytes are what res.body sees.
   */
  private resWaitBody(ms: number, atLeast: number): boolean {
    const w = this.resWait;
    const r = w?.r;
    const held = this.respBuf ?? Buffer.alloc(0);
    let body = held;
    let complete = false;
    const f = r?.framing ?? this.resWaitFraming;
    if (!f || f.kind === 'none') complete = true;
    else if (f.kind === 'length') { complete = held.length >= f.length; body = held.subarray(0, Math.min(held.length, f.length)); }
    else if (f.kind === 'chunked') {
      const d = new ChunkedDecoder().push(held);
      if (d.error) complete = true;
      else { body = Buffer.concat(d.data); complete = d.done; }
    } else complete = this.resSrvEnded;
    const limit = atLeast || this.h1opts.maxHeadBytes;
    if (complete || body.length >= limit || held.length >= this.h1opts.maxHeadBytes) {
      this.sctx.resBody = Buffer.from(body);
      return true;
    }
    this.resBodyWant = true;
    this.lastAct = Date.now();
    this.setTimer('resbody', ms);
    return false;
  }

  private processResponse(): void {
    const c = this.conn!;
    while (!this.closed && this.respBuf && this.respBuf.length && this.conn === c) {
      if (this.srvState === 'head') {
        const txn = this.txn!;
        const r = parseResponseHead(this.respBuf, txn.req.method, this.h1respOpts);
        if (r.state === 'incomplete') return;
        if (r.state === 'error') {
          this.be!.counters.failedResp++;
          if (this.server) this.server.counters.failedResp++;
          this.rt.debug(`${this.be!.name}/${this.server?.name}: invalid response at offset ${r.offset}: ${r.reason}`);
          captureError(this, 'response', this.respBuf, r.offset);
          if (this.server) reportServerResult(this.server, 'layer7', false, 'Invalid http response (headers)');
          if (this.retryL7('junk-response')) return;
          this.dropConn();
          this.replyError(502, 'S', 'H');
          return;
        }
        const rest = this.respBuf.length > r.headLength ? this.respBuf.subarray(r.headLength) : undefined;
        this.respBuf = rest;
        const resp = r.head;
        if (resp.status >= 100 && resp.status < 200 && resp.status !== 101) {
          // interim response (100-continue, 103): forwarded, the final one follows
          this.writeClient(formatResponseHead(resp, this.cliNames()));
          continue;
        }
        if (resp.status !== 101 && txn.retriesLeft > 0 && this.be!.cfg.http.retryOn.includes(String(resp.status)) && this.retryL7(String(resp.status))) return;
        if (txn.cookie && this.be) cookieResponse(this.be, txn.cookie, this.server, txn.req, resp, Date.now());
        if (this.server) reportServerResult(this.server, 'layer7', validObservedStatus(resp.status));
        const sctx = this.sctx;
        sctx.res = resp;
        sctx.serverStatus = resp.status;
        const rcaps = this.fe.cfg.switching?.resCaptures;
        if (rcaps?.length) captureHeaders(rcaps, resp.headers, sctx.resCaptures);
        sctx.status = resp.status;
        if (this.be?.cfg.rules || this.fe.cfg.rules) {
          sctx.dir = 'res';
          this.resWaitFraming = r.framing;
          this.resSrvEnded = false;
          this.resWait = undefined;
          const rr = this.responseRules(resp, c, 0, 0);
          if (rr === 'stop') return;
          if (rr === 'yield') {
            // a rule waits (pause, wait-for-body): server bytes are held meanwhile
            this.resWait!.r = r;
            this.srvState = 'rules';
            return;
          }
        }
        if (this.afterResponseHead(resp, r, c) === 'stop') return;
        continue;
      }
      if (this.srvState === 'body') {
        const held = this.respBuf;
        this.respBuf = undefined;
        this.feedResponseBody(held, c);
        return;
      }
      return;
    }
  }

  /** The response head passed the rules: forward it and set up the body. */
  private afterResponseHead(resp: HttpResponseHead, r: ParsedHead, c: SrvConn): 'continue' | 'stop' {
    const txn = this.txn!;
    {
      {
        if (!txn.log.respAt) txn.log.respAt = Date.now();
        txn.resp = resp;
        txn.respFraming = r.framing;
        txn.respStarted = true;
        countStatus(this.fe.feCounters, resp.status);
        if (this.be) countStatus(this.be.counters, resp.status);
        if (this.server) countStatus(this.server.counters, resp.status);
        const upgraded = resp.status === 101 || (txn.req.method === 'CONNECT' && resp.status >= 200 && resp.status < 300);
        // the server closing its side does not close the client's: only the client's wish, a
        // close-delimited body, httpclose or a stopping process do
        const cliCloses = !upgraded && (txn.wantsClose || r.framing.kind === 'close' || connMode(this.fe, this.be!) === 'close' || this.rt.stopping);
        txn.wantsClose = cliCloses;
        if (!upgraded) setConnection(resp.headers, resp.version, cliCloses, false, txn.req.version);
        if (r.wantsClose || r.framing.kind === 'close' || r.clAndTe) c.uses = Infinity; // not reusable
        const headBytes = formatResponseHead(resp, this.cliNames());
        const rest2 = this.respBuf;
        if (!upgraded && rest2 && rest2.length <= 16384 && (r.framing.kind === 'close' || (r.framing.kind === 'length' && rest2.length <= r.framing.length))) {
          // head and the body bytes that came with it in one write
          this.respBuf = undefined;
          if (this.fe.logs) this.htxOut += htxSize(headBytes) + rest2.length;
          this.writeClient(Buffer.concat([headBytes, rest2]));
          this.logAsap(txn);
          if (this.fe.logs?.cfg?.steps) this.logStep(txn, 'response');
          this.srvState = 'body';
          if (r.framing.kind === 'length') {
            txn.respLeft = r.framing.length - rest2.length;
            if (txn.respLeft === 0) { this.responseDone(); return 'stop'; }
          }
          if (this.cli.writableLength > 0) { c.rbuf.busy = true; whenFlushed(this.cli, this.onCliDrain); }
          return 'stop';
        }
        if (this.fe.logs) this.htxOut += htxSize(headBytes);
        this.writeClient(headBytes);
        this.logAsap(txn);
        if (this.fe.logs?.cfg?.steps) this.logStep(txn, 'response');
        if (upgraded) {
          this.srvState = 'tunnel';
          this.cliState = 'tunnel';
          txn.reqDone = true;
          this.armIdleTimer();
          const held = this.respBuf;
          this.respBuf = undefined;
          if (held) this.writeClient(held);
          if (this.inBuf) this.processInput();
          if (this.cliPaused) { this.cliPaused = false; this.cli.resume(); }
          return 'stop';
        }
        this.srvState = 'body';
        if (r.framing.kind === 'length') txn.respLeft = r.framing.length;
        else if (r.framing.kind === 'chunked') txn.respChunked = new ChunkedDecoder();
        if (r.framing.kind === 'none' || (r.framing.kind === 'length' && r.framing.length === 0)) { this.responseDone(); return 'stop'; }
        return 'continue';
      }
    }
  }

  /** Response body bytes straight from the server's read buffer. */
  private feedResponseBody(chunk: Buffer, c: SrvConn): boolean {
    const txn = this.txn!;
    const f = txn.respFraming!;
    if (f.kind === 'length') {
      const take = Math.min(txn.respLeft, chunk.length);
      txn.respLeft -= take;
      this.htxOut += take;
      this.toClient(take === chunk.length ? chunk : chunk.subarray(0, take), c, true);
      if (txn.respLeft === 0) {
        if (take < chunk.length) c.uses = Infinity; // extra bytes after the body: unusable
        this.responseDone();
      }
    } else if (f.kind === 'close') {
      this.htxOut += chunk.length;
      this.toClient(chunk, c, true);
    } else if (txn.respChunked) {
      const r = txn.respChunked.push(chunk);
      if (r.error) {
        this.be!.counters.failedResp++;
        this.dropConn();
        this.abort('S', 'D');
        return false;
      }
      if (r.data.length === 1) for (const piece of encodeChunk(r.data[0]!)) this.toClient(piece, c, true);
      else if (r.data.length > 1) for (const piece of encodeChunk(Buffer.concat(r.data))) this.toClient(piece, c, false);
      if (r.done) {
        const trailers = this.fe.cfg.http.dropRespTrailers ? undefined : r.trailers;
        this.writeClient(encodeLastChunk(trailers));
        if (r.consumed < chunk.length) c.uses = Infinity;
        this.responseDone();
      }
    }
    return !this.closed && !c.rbuf.busy;
  }

  /**
   * Writes to the client; when the write is queued, reading from the server pauses until 'drain'
   * (and a view of the server's private buffer stays pinned until then).
   */
  private toClient(b: Buffer, c: SrvConn, fromRbuf: boolean): boolean {
    countOut(this, b.length);
    const ok = this.cli.write(safeView(b));
    if (!ok || this.cli.writableLength > 0) {
      if (fromRbuf) c.rbuf.busy = true;
      if (ok) whenFlushed(this.cli, this.onCliDrain);
      return false;
    }
    return true;
  }

  private writeClient(b: Buffer): void {
    countOut(this, b.length);
    this.cli.write(b);
  }

  private responseDone(): void {
    const txn = this.txn!;
    txn.respDone = true;
    this.srvState = 'none';
    this.maybeFinishTxn();
  }

  onSrvEnd(c: SrvConn): void {
    this.guard(() => {
      if (c !== this.conn || this.closed) return;
      if (this.srvState === 'tunnel') {
        if (!this.cli.destroyed) this.cli.end();
        if (this.cliEnded) this.finishClose();
        return;
      }
      const txn = this.txn;
      if (this.srvState === 'rules') {
        // the server finished while a response rule waits: a close-delimited body is complete
        this.resSrvEnded = true;
        if (this.resBodyWant) { this.resBodyWant = false; this.resumeResponse(); }
        return;
      }
      if (this.srvState === 'body' && txn?.respFraming?.kind === 'close') {
        this.dropConn();
        this.responseDone();
        return;
      }
      if (this.srvState === 'head' && txn && !txn.respStarted) {
        // closed before a complete response: retried on a fresh connection when nothing of
        // the response came and the connection was a reused one, else 502
        const reused = c.uses > 1;
        const nothing = !this.respBuf;
        if (this.retryL7(nothing ? 'empty-response' : 'junk-response')) return;
        this.dropConn();
        if (reused && nothing && txn.reqDone && this.outQueue.length === 0 && txn.reqFraming.kind === 'none') {
          this.requeueRequest();
          return;
        }
        this.be!.counters.failedResp++;
        if (this.server) this.server.counters.failedResp++;
        this.replyError(502, 'S', 'H');
        return;
      }
      if (this.srvState === 'body') { this.dropConn(); this.abort('S', 'D'); return; }
      this.dropConn();
    });
  }

  onSrvClose(c: SrvConn): void {
    this.guard(() => {
      if (c !== this.conn || this.closed) return;
      if (!c.connected) { this.connectFailed('closed'); return; }
      this.onSrvEnd(c);
      if (c === this.conn) this.dropConn();
    });
  }

  onSrvError(c: SrvConn, e: Error): void {
    this.guard(() => {
      if (c !== this.conn || this.closed) return;
      if (!c.connected) { this.connectFailed(e.message); return; }
      if (this.srvState === 'head' && this.txn && !this.txn.respStarted) {
        if (this.retryL7(this.respBuf ? 'junk-response' : 'empty-response')) return;
        this.dropConn();
        if (this.server) this.server.counters.srvAborts++;
        this.replyError(502, 'S', 'H');
        return;
      }
      if (this.be) this.be.counters.srvAborts++;
      if (this.server) this.server.counters.srvAborts++;
      this.dropConn();
      this.abort('S', 'D');
    });
  }

  onSrvDrain(c: SrvConn): void {
    if (c !== this.conn) return;
    this.lastAct = Date.now(); // the server took what we wrote: activity
    this.onSrvDrainResume();
  }

  /** A reused connection was closed by the server before answering: send the request again. */
  private requeueRequest(): void {
    const txn = this.txn!;
    this.queueOut(formatRequestHead(txn.req, this.srvNames(this.be!)));
    this.srvState = 'none';
    this.connectNew();
  }

  /** A new connection to the assigned server (first attempt, retries, replays). */
  private connectNew(): void {
    const be = this.be!;
    const s = this.server!;
    const c = new SrvConn(s, (onread) => serverConnectOptions(be, s, this, onread), this);
    this.conn = c;
    s.counters.connAttempts++;
    be.counters.connAttempts++;
    if (be.cfg.options.srvtcpka || s.cfg.tcpka) c.sock.setKeepAlive(true);
    this.setTimer('connect', be.cfg.timeouts.connect);
    if (s.sendProxy) c.sock.write(buildProxyHeader(s, this));
  }

  /** Detaches and closes the current server connection. */
  private dropConn(): void {
    const c = this.conn;
    if (!c) return;
    this.conn = undefined;
    c.destroy();
  }

  private releaseServer(): void {
    const s = this.server;
    if (s && this.be) { this.server = undefined; this.be.release(s); }
  }

  // ------------------------------------------------------------------ end of transaction
  private maybeFinishTxn(): void {
    const txn = this.txn;
    if (!txn || !txn.reqDone || !txn.respDone || this.closed) return;
    this.txn = undefined;
    this.releaseServer();
    this.endTxnLog(txn, '-', '-');
    const c = this.conn;
    // A server connection that can serve another request goes to the server's idle pool, also
    // when this client leaves (as HAProxy does: the client's "Connection: close" is not passed on);
    // with http-reuse never it stays private to this client, and is closed with it.
    const keepSrv = c && c.uses !== Infinity && this.be && !this.serverSideCloses(this.be) && !txn.clAndTe && c.reusable;
    if (c) {
      this.conn = undefined;
      if (keepSrv && this.be!.cfg.http.reuse !== 'never') c.release();
      else if (keepSrv && !txn.wantsClose && !this.cliEnded) { this.conn = c; c.owner = this; }
      else c.discard();
    }
    if (txn.wantsClose || this.cliEnded) {
      this.cliState = 'closing';
      this.finishClose();
      return;
    }
    this.cliState = 'head';
    this.srvState = 'none';
    this.cbuf.relax();
    this.armRequestTimer(false);
    if (this.cliPaused) { this.cliPaused = false; this.cli.resume(); }
    if (this.inBuf && this.inBuf.length) this.processInput();
  }

  // ------------------------------------------------------------------ replies and closing
  /** An error found by the H1 parser or its timeout: HAProxy's raw page, then close. */
  private replyH1Error(status: number, cause: TermCause, phase: TermPhase): void {
    if (this.closed) return;
    countStatus(this.fe.feCounters, status);
    this.sctx.status = status;
    this.writeClient(h1ErrorMessage(status));
    if (this.txn) this.txn.respStarted = true;
    this.closeAfterReply(cause, phase);
  }

  /** The reply is written: drop the server side and close once it is flushed. */
  private closeAfterReply(cause: TermCause, phase: TermPhase): void {
    this.termCause = cause;
    this.termPhase = phase;
    this.dropConn();
    this.releaseServer();
    this.cliState = 'closing';
    this.finishClose(cause, phase);
  }

  private replyLocal(status: number, txn: Txn): void {
    const bytes = this.serializeWithAfter(errorMessageFor(this.fe.cfg, status), true);
    const body = bytes.length ? bytes : undefined;
    txn.respStarted = true;
    countStatus(this.fe.feCounters, status);
    this.fe.feCounters.intercepted++;
    this.sctx.status = status;
    if (body) { if (this.fe.logs) this.htxOut += htxSize(body); this.writeClient(body); }
    this.cliState = 'closing';
    this.finishClose();
  }

  /** Sends HAProxy's reply for `status` (unless the response already started) and closes. */
  private replyError(status: number, cause: TermCause, phase: TermPhase): void {
    if (this.closed) return;
    const txn = this.txn;
    // a server-side failure answered while the request was read completely leaves the client
    // connection usable, as HAProxy does (its 502/503/504 pages do not close)
    const keep = !!txn && !txn.respStarted && txn.reqDone && !txn.wantsClose && this.cliState === 'wait' &&
      (status === 502 || status === 503 || status === 504) && connMode(this.fe, this.be) !== 'close' && !this.cliEnded && !this.rt.stopping;
    if (!txn?.respStarted) {
      const px = this.be && this.txn ? this.be.cfg : this.fe.cfg;
      const msg = errorMessageFor(px, status, px !== this.fe.cfg ? this.fe.cfg : undefined);
      const bytes = this.serializeWithAfter(msg, keep);
      const reply = bytes.length ? bytes : undefined;
      countStatus(this.fe.feCounters, status);
      this.sctx.status = status;
      if (reply) { if (this.fe.logs) this.htxOut += replyHtxSize(reply, msg, keep); this.writeClient(reply); }
      if (txn) { txn.respStarted = true; txn.log.cause = cause; txn.log.phase = phase; }
      if (keep && reply) {
        this.dropConn();
        txn.respDone = true;
        this.srvState = 'none';
        this.maybeFinishTxn();
        return;
      }
    }
    this.closeAfterReply(cause, phase);
  }

  /** Normal end: flush what was written to the client, then close. */
  private finishClose(cause: TermCause = '-', phase: TermPhase = '-'): void {
    if (this.closed) return;
    this.cli.end();
    this.terminate(cause, phase, false);
  }

  /** Abnormal end: close both sides now. */
  private abort(cause: TermCause, phase: TermPhase): void {
    this.terminate(cause, phase, true);
  }

  /**
   * The end of a transaction: the backend stops counting it and its log line is emitted with
   * the transaction's own termination state, else the stream's (`cause`, `phase`).
   */
  private endTxnLog(txn: Txn, cause: TermCause, phase: TermPhase): void {
    const L = txn.log;
    const now = Date.now();
    this.lastTxnEnd = now;
    if (this.be && this.beEntered) { this.be.counters.leave(); this.beEntered = false; }
    if (L.done) return;
    L.done = true;
    const ctx = this.sctx;
    const t = this.txnTimers(txn, now);
    if (this.be && L.assignAt) {
      const tot = now - L.t0;
      this.be.counters.recordTimes(t.queue, t.connect, t.response, tot);
      L.srv?.counters.recordTimes(t.queue, t.connect, t.response, tot);
    }
    if (!this.fe.logs || L.logged || !logsAtStep(this.fe.logs.cfg, 'close')) return;
    L.logged = true;
    const c = L.cause ?? cause, ph = L.phase ?? phase;
    this.emitTxnLine(txn, now, c + ph, isLogError(c, ctx.retries, this.redispatched, ctx.status));
  }

  /**
   * option logasap: the log line goes out once the response head was sent, with the total time
   * and the bytes so far ('+' prefixed); nothing is logged at the end of the transaction.
   */
  private logAsap(txn: Txn): void {
    const L = txn.log;
    if (L.logged || !this.fe.logs?.cfg?.logasap) return;
    L.logged = true;
    const now = Date.now();
    const ctx = this.sctx;
    this.txnTimers(txn, now);
    this.emitTxnLine(txn, now, '--', isLogError('-', ctx.retries, this.redispatched, ctx.status), true);
  }

  /** log-steps: a line at an intermediate step of the transaction (request, connect, response). */
  private logStep(txn: Txn, step: 'request' | 'connect' | 'response'): void {
    if (!logsAtStep(this.fe.logs?.cfg, step)) return;
    const now = Date.now();
    this.txnTimers(txn, now);
    this.emitTxnLine(txn, now, '--', false, false, `txn_${step}`);
  }

  /** A transaction's log line (its timers already in the context): its server, cookie letters, bytes. */
  private emitTxnLine(txn: Txn, now: number, state: string, error: boolean, asap = false, origin?: string): void {
    const L = txn.log;
    const cookie = txn.cookie;
    this.emitTxnLog(now - L.t0, state, cookie ? COOKIE_REQ_FLAG[cookie.status] + COOKIE_RESP_FLAG[cookie.respStatus] : '--',
      L.srv, L.target, this.bytesIn - L.bytesIn0, this.htxOut - L.htxOut0, error, false, asap, origin);
  }

  /** The transaction's timers in the sample context (the log's %Th %Ti %TR %Tw %Tc %Tr), and ctx.retries. */
  private txnTimers(txn: Txn, now: number): SmpCtx['timers'] {
    const L = txn.log;
    const ctx = this.sctx;
    const t = ctx.timers;
    t.handshake = 0;
    t.idle = L.firstByteAt - L.t0;
    t.request = L.headAt - L.firstByteAt;
    t.queue = L.assignedAt ? L.assignedAt - L.assignAt : L.assignAt && L.connectedAt === 0 && L.srv ? now - L.assignAt : -1;
    t.connect = L.connectedAt ? L.connectedAt - (L.assignedAt || L.connectedAt) : -1;
    t.response = L.respAt && L.connectedAt ? L.respAt - L.connectedAt : -1;
    if (L.target !== undefined) {
      // a service answered (stats page, Prometheus): HAProxy's applet is "connected" at once
      t.queue = 0; t.connect = 0; t.response = 0;
    }
    if (L.phase === 'T') {
      // tarpit: HAProxy reports the time held as queue time, and no request time
      t.request = -1;
      t.queue = now - L.headAt;
    }
    ctx.retries = L.assignAt && this.be ? Math.max(0, (this.retriesOverride ?? this.be.cfg.retries) - txn.retriesLeft) : 0;
    return t;
  }

  /** log-steps accept: a line once the connection is accepted, before any request. */
  private logAccept(): void {
    const ctx = this.sctx;
    const t = ctx.timers;
    t.handshake = 0; t.idle = -1; t.request = -1; t.queue = -1; t.connect = -1; t.response = -1;
    this.emitTxnLog(Date.now() - this.acceptedAt, '--', '--', undefined, undefined, 0, 0, false, false, false, 'txn_accept');
  }

  private sessErrLogged = false;
  /** A session error (no stream started): its own log line instead of a <BADREQ> line. */
  private sessionError(message: string): void {
    if (!this.fe.logs || this.sessErrLogged) return;
    this.sessErrLogged = true;
    logSessionError(this.fe, this.sctx, this.listener.cfg.name ?? String(this.listener.id), message);
  }

  /** A connection closed, timed out or refused before a complete request: HAProxy's <BADREQ> line. */
  private logNoRequest(): void {
    const now = Date.now();
    const ctx = this.sctx;
    const t = ctx.timers;
    const firstByte = this.headFirstByteAt;
    t.handshake = 0;
    t.idle = firstByte ? firstByte - this.lastTxnEnd : -1;
    t.request = -1; t.queue = -1; t.connect = -1; t.response = -1;
    ctx.req = undefined;
    if (!ctx.status) ctx.status = this.termCause === 'c' ? 408 : 400;
    const empty = !firstByte && !(this.inBuf && this.inBuf.length);
    this.emitTxnLog(now - this.lastTxnEnd, this.termCause + this.termPhase, '--', undefined, undefined, 0, 0, isLogError(this.termCause, 0, false, ctx.status), empty);
  }

  private emitTxnLog(total: number, state: string, cookieState: string, srv: Server | undefined, target: string | undefined, bytesIn: number, bytesOut: number, error: boolean, empty = false, asap = false, origin?: string): void {
    const ctx = this.sctx;
    // the log reads the stream through ctx.stream: for the time of the (synchronous) rendering,
    // the stream shows this transaction's byte counts and log fields, then gets its own back
    const wireIn = this.bytesIn, wireOut = this.bytesOut;
    this.bytesIn = bytesIn;
    this.bytesOut = bytesOut;
    this.totalTime = total;
    this.termState = state;
    this.cookieState = cookieState;
    this.targetName = target;
    this.logOrigin = origin ?? (asap ? 'txn_response' : 'txn_close');
    this.logasap = asap;
    const savedSrv = ctx.srv;
    ctx.srv = srv;
    try {
      logStream(this.fe, ctx, { error, empty });
    } finally {
      this.bytesIn = wireIn;
      this.bytesOut = wireOut;
      ctx.srv = savedSrv;
    }
  }

  terminate(cause: TermCause, phase: TermPhase, hard = true): void {
    if (this.closed) return;
    this.closed = true;
    if (this.termCause === '-') { this.termCause = cause; this.termPhase = phase; }
    this.stopTimer();
    if (!this.dequeued && this.be) { this.be.unqueue(this, undefined); this.dequeued = true; }
    this.dropConn();
    this.releaseServer();
    const cli = this.cli;
    if (hard) {
      const linger0 = this.fe.cfg.options.nolinger;
      if (linger0 && !cli.destroyed && typeof cli.resetAndDestroy === 'function') cli.resetAndDestroy();
      else cli.destroy();
    } else {
      cli.destroySoon();
    }
    this.cbuf.release(cli.writableLength === 0 && !hard);
    const txn = this.txn;
    if (txn) this.endTxnLog(txn, this.termCause, this.termPhase);
    else if (this.fe.logs && this.proxyHeaderPending && !this.sessErrLogged) {
      // the connection ended while its PROXY header was expected: a session error, not a request
      this.sessionError(this.inBuf?.length ? SESSION_ERRORS.prxTruncated : this.termCause === 'c' ? SESSION_ERRORS.prxTimeout : SESSION_ERRORS.prxEmpty);
    } else if (this.fe.logs && !this.sessErrLogged && (this.txnCount === 0 || this.headFirstByteAt || (this.inBuf && this.inBuf.length))) this.logNoRequest();
    if (this.be && this.beEntered) { this.be.counters.leave(); this.beEntered = false; }
    this.rt.sessionEnded(this);
  }


}

/** The effective connection mode of a transaction: the most closing of frontend and backend. */
function connMode(fe: Proxy, be: Proxy | undefined): 'keep-alive' | 'server-close' | 'close' {
  const a = fe.cfg.http.connMode, b = be?.cfg.http.connMode ?? 'keep-alive';
  if (a === 'close' || b === 'close') return 'close';
  if (a === 'server-close' || b === 'server-close') return 'server-close';
  return 'keep-alive';
}

/**
 * Rewrites the Connection header for the next hop the way haproxy's H1 mux does (probed against
 * haproxy 2.6, test/interop/http-interop.test.ts): every Connection field stays in place with its
 * other tokens as written (case kept), minus "close" and "keep-alive" (and "upgrade" unless
 * `keepUpgrade`); a field left empty is removed. The connection-mode token then goes in a field
 * of its own at the end: "close" when closing and the message itself is HTTP/1.1, "keep-alive"
 * when keeping and either side (`version` or `otherVersion`) is HTTP/1.0. An upgrade request
 * ("Connection: upgrade" kept) gets no mode token.
 */
function setConnection(h: HttpHeaders, version: string, close: boolean, keepUpgrade: boolean, otherVersion?: string): void {
  const l = h.list;
  let upgrade = false;
  let w = 0;
  for (let r = 0; r < l.length; r++) {
    const f = l[r]!;
    if (f.lname === 'connection') {
      // the common single-token values first, without splitting
      const v = f.value.length <= 10 ? f.value.toLowerCase() : '';
      if (v === 'keep-alive' || v === 'close') continue;
      const kept: string[] = [];
      for (const t of f.value.split(',')) {
        const tok = t.trim();
        const lt = tok.toLowerCase();
        if (!tok || lt === 'close' || lt === 'keep-alive' || (!keepUpgrade && lt === 'upgrade')) continue;
        if (lt === 'upgrade') upgrade = true;
        kept.push(tok);
      }
      if (!kept.length) continue;
      const value = kept.join(', ');
      l[w++] = value === f.value ? f : { ...f, value };
    } else l[w++] = f;
  }
  l.length = w;
  if (upgrade) return;
  const minor = minorVersion(version);
  if (close) { if (minor >= 1) h.add('connection', 'close'); }
  else if (minor === 0 || (otherVersion !== undefined && minorVersion(otherVersion) === 0)) h.add('connection', 'keep-alive');
}

function pathOf(uri: string): string {
  if (uri.startsWith('/')) { const q = uri.indexOf('?'); return q < 0 ? uri : uri.slice(0, q); }
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
  const rest = m ? uri.slice(m[0].length) : uri;
  const q = rest.indexOf('?');
  const p = q < 0 ? rest : rest.slice(0, q);
  return p || '/';
}

function countStatus(c: { reqTotal: number; hrsp: number[] }, status: number): void {
  const cls = Math.floor(status / 100);
  c.hrsp[cls >= 1 && cls <= 5 ? cls : 0]!++;
}

/** The rules' view of an HTTP stream (configuration.txt 4.3): what actions may read and change. */
class HttpRuleHost extends StreamRuleHost<HttpStream> {
  readonly http = true;
  strictMode = true;
  /** the action that yielded is done: resume after it (pause) */
  resumeAfter = false;
  rewriteFailed(): boolean {
    this.s.fe.feCounters.failedRewrites++;
    if (this.s.be && this.s.be !== this.s.fe) this.s.be.counters.failedRewrites++;
    if (!this.strictMode) return false;
    // strict-mode on (the default): the transaction fails
    this.verdict = { kind: 'reply', reply: errorMessageFor(this.s.be?.cfg, 500, this.s.fe.cfg), status: 500, deny: false };
    return true;
  }
  disableL7Retry(): void { this.s.ruleSetRetries(0); }
  pauseUntil(ms: number): void { this.s.rulePause(ms); }
  waitForBody(ms: number, atLeast: number): boolean { return this.s.ruleWaitBody(ms, atLeast); }
  sendEarlyHint(name: string, value: string): void { this.s.ruleEarlyHint(name, value); }
}

/** `capture request|response header`: the last occurrence of each named header, truncated to its length. */
function captureHeaders(slots: readonly { name?: string; len: number }[], h: HttpHeaders, out: (string | undefined)[]): void {
  for (let i = 0; i < slots.length; i++) {
    const name = slots[i]!.name;
    if (!name) continue;
    const l = name.toLowerCase();
    let v: string | undefined;
    for (const f of h.list) if (f.lname === l) v = f.value;
    if (v !== undefined) out[i] = v.length > slots[i]!.len ? v.slice(0, slots[i]!.len) : v;
  }
}

/** The persistence cookie letters of the log (configuration.txt 8.5): request side, then response. */
const COOKIE_REQ_FLAG: Record<string, string> = { none: 'N', invalid: 'I', down: 'D', valid: 'V', expired: 'E', old: 'O', unused: 'U' };
const COOKIE_RESP_FLAG: Record<string, string> = { none: 'N', found: 'P', deleted: 'D', replaced: 'R', inserted: 'I', updated: 'U' };

/**
 * The size HAProxy's logs count for a message written in H1 (%B): its internal representation,
 * where the start line costs 20 bytes plus its three words, each header its name and value, the
 * end of headers one byte, and the body its payload.
 */
export function htxSize(wire: Buffer): number {
  // one pass over the head: every CRLF ends a line that costs its length minus 2 (the start
  // line's two spaces, a header's ": "); the empty line ends the head
  const n = wire.length;
  let size = 21;
  let lineStart = 0;
  for (let i = 0; i + 1 < n; i++) {
    if (wire[i] !== 13 || wire[i + 1] !== 10) continue;
    if (i === lineStart) return size + (n - i - 2); // the empty line: the rest is body
    size += i - lineStart - 2;
    lineStart = i + 2;
    i++;
  }
  return n;
}

/**
 * %B for a reply haproxy-ts generates: what HAProxy counts is the reply message itself, so the
 * connection header the H1 output adds (close, or keep-alive for HTTP/1.0) does not count, and
 * the reply's own connection header (dropped from the wire, re-added per hop) does.
 */
function replyHtxSize(wire: Buffer, reply: ErrorReply, keepAlive: boolean): number {
  let n = htxSize(wire);
  if (reply.empty) return n;
  if (!(keepAlive && !reply.close)) n -= 'connection'.length + 'close'.length;
  else if (reply.version === 'HTTP/1.0') n -= 'connection'.length + 'keep-alive'.length;
  for (const h of reply.headers.list) if (h.lname === 'connection') n += h.name.length + h.value.length;
  return n;
}
