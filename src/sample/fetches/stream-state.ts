// Stream state the layer-4 / internal-state fetches read, added to the sample context by module
// augmentation. Every member is optional: a fetch whose data was not filled in by the owning
// stream does not return anything (or, where HAProxy documents one, a default).
import type { ProxyInfo } from '../../net/proxy-protocol.js';
import type { ConnInfo } from '../context.js';

declare module '../context.js' {
  interface StreamInfo {
    /** timeouts currently applied to the stream (ms), after set-timeout; default: the proxies' */
    curClientTimeout?: number;
    curServerTimeout?: number;
    curTunnelTimeout?: number;
    /** the server-side connection: src/srcPort = our local address, dst/dstPort = the server's */
    srvConn?: ConnInfo;
    /** the server connection was taken from the idle pool (bc_reused) */
    srvConnReused?: boolean;
    /** connection error code of the server-side connection (bc_err, table of fc_err_str); 0 none */
    srvConnErr?: number;
    /** protocol glitches counted on the server connection (bc_glitches) */
    srvGlitches?: number;
    /** HTTP major version on the wire for the server / client connection (default 1) */
    srvHttpMajor?: number;
    cliHttpMajor?: number;
    /** %bq / %sq: position in the backend / server queue when the stream was dequeued */
    beQueuePos?: number;
    srvQueuePos?: number;
    /** the stream was redispatched to another server on a retry */
    redispatched?: boolean;
    /** priority class / offset set by set-priority-class / set-priority-offset (default 0) */
    prioClass?: number;
    prioOffset?: number;
    /** the last final rule that matched (file and line of the configuration) */
    lastRule?: { file: string; line: number };
    /** the entity (rule "file:line" or filter id) the stream was waiting on at error/timeout */
    waitingEntity?: string;
    /** the last entity that interrupted processing (a filter id); rules use lastRule */
    lastEntity?: string;
  }
  interface SmpCtx {
    /** the PROXY protocol header the client sent (fc_rcvd_proxy, fc_pp_*) */
    proxyInfo?: ProxyInfo;
    /**
     * Stream-level addresses once a set-src / set-dst / set-src-port / set-dst-port action ran
     * after the connection rules (src/dst read these; fc_src/fc_dst keep reading ctx.conn).
     */
    streamAddr?: { src: string; srcPort: number; dst: string; dstPort: number };
    /** internal transaction id (txn.id32), from nextTxnId() */
    txnId?: number;
    /** when the connection became ready for this transaction (accept_date in HTTP keep-alive), ms */
    txnAcceptedAt?: number;
  }
}

let txnCounter = 0;
/** A process-wide 32-bit transaction counter, as HAProxy's stream ids (wraps). */
export function nextTxnId(): number {
  const id = txnCounter;
  txnCounter = (txnCounter + 1) >>> 0;
  return id;
}

export {};
