// What a sample fetch can see: the connection, the proxies and server, the contents being
// inspected, the HTTP transaction and the variables. Streams own one `SmpCtx` each and fill the
// per-transaction fields as the transaction progresses; unit tests build one by hand.
import type { HttpRequestHead, HttpResponseHead } from '../http/htx.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import type { Runtime, BindListener } from '../proxy/runtime.js';
import type { Sample } from './types.js';

/** Layer-4 facts about the client connection; addresses are read lazily by the stream. */
export interface ConnInfo {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  /** Date.now() when the connection was accepted */
  readonly acceptedAt: number;
}

/** Variable scopes (configuration.txt 2.8). */
export type VarScope = 'proc' | 'sess' | 'txn' | 'req' | 'res' | 'check';
export const VAR_SCOPES: readonly VarScope[] = ['proc', 'sess', 'txn', 'req', 'res', 'check'];

/** The variables of one stream, one map per scope; `proc` is shared by the process. */
export class Vars {
  static readonly proc = new Map<string, Sample>();
  sess = new Map<string, Sample>();
  txn = new Map<string, Sample>();
  req = new Map<string, Sample>();
  res = new Map<string, Sample>();
  check = new Map<string, Sample>();

  scope(s: VarScope): Map<string, Sample> {
    switch (s) {
      case 'proc': return Vars.proc;
      case 'sess': return this.sess;
      case 'txn': return this.txn;
      case 'req': return this.req;
      case 'res': return this.res;
      case 'check': return this.check;
    }
  }

  /** A new transaction: txn, req and res variables are gone. */
  newTxn(): void {
    if (this.txn.size) this.txn = new Map();
    if (this.req.size) this.req = new Map();
    if (this.res.size) this.res = new Map();
  }
}

/**
 * What the owning stream offers fetches beyond the context's own fields (byte counts,
 * termination state, the server connection ...). Feature modules may add optional members by
 * module augmentation; the streams implement them.
 */
export interface StreamInfo {
  /** bytes received from the client / sent to it */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Which rule set is evaluating (decides what fetches may see). */
export type SmpDir = 'req' | 'res';

export class SmpCtx {
  rt: Runtime | undefined;
  fe: Proxy | undefined;
  be: Proxy | undefined;
  srv: Server | undefined;
  listener: BindListener | undefined;
  conn: ConnInfo;
  private varStore: Vars | undefined;
  /** the variables (created on first use) */
  get vars(): Vars { return this.varStore ??= new Vars(); }
  dir: SmpDir = 'req';

  // ---- contents (tcp-request/tcp-response content, req.payload, req.len ...) ----
  /** request bytes received and not yet forwarded */
  reqPayload: Buffer | undefined;
  /** response bytes received and not yet forwarded */
  resPayload: Buffer | undefined;
  /** no more data will come for this decision (inspect-delay expired, buffer full, or shut) */
  final = true;

  // ---- HTTP transaction ----
  req: HttpRequestHead | undefined;
  res: HttpResponseHead | undefined;
  /** the request body when it was waited for (http-buffer-request, wait-for-body) */
  reqBody: Buffer | undefined;
  /** the response body when it was waited for */
  resBody: Buffer | undefined;
  /** the request body is complete in reqBody */
  reqBodyComplete = false;
  /** transaction status once known (txn.status): the response's, or the one set by an action */
  status = 0;
  /** 1 for the first request of the connection */
  txnNumber = 0;
  /** unique-id of the transaction, once generated */
  uniqueId: string | undefined;
  /** capture slots of the frontend (declare capture / capture request|response header) */
  reqCaptures: (string | undefined)[] = [];
  resCaptures: (string | undefined)[] = [];
  /** Date.now() when the request started (first byte) */
  reqStartedAt = 0;
  /** timestamps of the transaction, for bc.timer / txn.timer / fc.timer fetches (ms, -1 unknown) */
  timers: { handshake: number; idle: number; request: number; queue: number; connect: number; response: number } = {
    handshake: 0, idle: -1, request: -1, queue: -1, connect: -1, response: -1,
  };
  /** the stream (HttpStream / TcpStream) owning this context */
  stream: StreamInfo | undefined;
  /**
   * Set by a fetch that cannot answer yet because more contents may come (not `final`): a
   * rule with an inspect-delay then waits instead of deciding.
   */
  wantMore = false;
  /** connection counters of the stream (retries done, ...) */
  retries = 0;
  /** the log level set by set-log-level, -1 unchanged, -2 silent */
  logLevel = -1;

  constructor(conn: ConnInfo) {
    this.conn = conn;
  }

  /** Resets the per-transaction fields when a new request starts on the connection. */
  newTxn(): void {
    this.req = undefined;
    this.res = undefined;
    this.reqBody = undefined;
    this.resBody = undefined;
    this.reqBodyComplete = false;
    this.status = 0;
    this.uniqueId = undefined;
    this.dir = 'req';
    this.varStore?.newTxn();
    if (this.reqCaptures.length) this.reqCaptures = [];
    if (this.resCaptures.length) this.resCaptures = [];
    this.srv = undefined;
    this.retries = 0;
    this.logLevel = -1;
    this.txnNumber++;
  }
}

/** A context with fixed addresses, for tests and the configuration-time evaluations. */
export function staticConn(src = '127.0.0.1', srcPort = 0, dst = '127.0.0.1', dstPort = 0): ConnInfo {
  return { src, srcPort, dst, dstPort, acceptedAt: Date.now() };
}
