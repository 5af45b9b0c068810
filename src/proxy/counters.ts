// Counters kept per frontend, backend, server and listener; the stats and CLI views read them.

export class Counters {
  cumConns = 0;       // stot: sessions (frontend) / connections assigned (backend, server)
  cur = 0;            // scur
  max = 0;            // smax
  bytesIn = 0;        // bin: bytes from clients
  bytesOut = 0;       // bout: bytes to clients
  deniedConn = 0;     // dcon
  failedReq = 0;      // ereq (e.g. bad PROXY header)
  failedConns = 0;    // econ
  retries = 0;        // wretr
  redispatches = 0;   // wredis
  lbTotal = 0;        // lbtot: times selected by the load balancer
  cliAborts = 0;      // cli_abrt
  srvAborts = 0;      // srv_abrt
  queueCur = 0;       // qcur
  queueMax = 0;       // qmax
  sessRate = new RateCounter();
  lastSess = 0;       // ms timestamp of last session
  reqTotal = 0;       // req_tot: HTTP requests
  failedResp = 0;     // eresp: invalid or missing responses
  deniedReq = 0;      // dreq: requests denied by rules
  deniedResp = 0;     // dresp: responses denied by rules
  deniedSess = 0;     // dses: sessions rejected by tcp-request session rules
  failedRewrites = 0; // wrew: failed header/URI rewrites
  /** hrsp_1xx..hrsp_5xx at indexes 1..5, hrsp_other at 0 */
  hrsp = [0, 0, 0, 0, 0, 0];

  enter(): void {
    this.cur++;
    if (this.cur > this.max) this.max = this.cur;
    this.cumConns++;
    this.sessRate.hit();
    this.lastSess = Date.now();
  }

  leave(): void { if (this.cur > 0) this.cur--; }

  clear(all: boolean): void {
    this.max = this.cur;
    this.queueMax = this.queueCur;
    this.sessRate.reset();
    if (!all) return;
    this.cumConns = 0; this.bytesIn = 0; this.bytesOut = 0; this.deniedConn = 0; this.failedReq = 0;
    this.failedConns = 0; this.retries = 0; this.redispatches = 0; this.lbTotal = 0; this.cliAborts = 0; this.srvAborts = 0;
    this.reqTotal = 0; this.failedResp = 0; this.hrsp = [0, 0, 0, 0, 0, 0];
    this.deniedReq = 0; this.deniedResp = 0; this.deniedSess = 0; this.failedRewrites = 0;
  }
}

/** Events over the last second, as HAProxy's freq counters do (current + previous period blend). */
export class RateCounter {
  private curSec = 0;
  private curCount = 0;
  private prevCount = 0;
  maxRate = 0;

  hit(): void {
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    this.rotate(sec);
    this.curCount++;
    const r = this.rate(now);
    if (r > this.maxRate) this.maxRate = r;
  }

  private rotate(sec: number): void {
    if (sec !== this.curSec) {
      this.prevCount = sec === this.curSec + 1 ? this.curCount : 0;
      this.curCount = 0;
      this.curSec = sec;
    }
  }

  rate(now = Date.now()): number {
    const sec = Math.floor(now / 1000);
    this.rotate(sec);
    const frac = (now % 1000) / 1000;
    return this.curCount + Math.round(this.prevCount * (1 - frac));
  }

  reset(): void { this.maxRate = 0; }
}
