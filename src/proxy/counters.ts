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
  // ---- added for the statistics views (src/ops/stats-*.ts) ----
  reqRate = new RateCounter();   // req_rate / req_rate_max (frontends): call reqRate.hit() per HTTP request
  intercepted = 0;    // intercepted: requests answered by the proxy itself (monitor-uri, stats, return...)
  connAttempts = 0;   // connect: connection attempts to servers
  reuses = 0;         // reuse: requests sent over an already established server connection
  internalErrors = 0; // eint
  failedChecks = 0;   // chkfail (servers): failed health checks while the server was up
  downTrans = 0;      // chkdown: UP->DOWN transitions
  /** queue / connect / response / total times (ms), averaged over the last 1024 samples */
  qTime = new SlidingAvg();
  cTime = new SlidingAvg();
  rTime = new SlidingAvg();
  tTime = new SlidingAvg();
  /** not cleared by `clear counters all` (HAProxy keeps it outside the counters too) */
  downtimeMs = 0;     // accumulated down time (servers, backends)
  downSince = 0;      // ms timestamp the object went down, 0 while up
  stateChangedAt = Date.now(); // last UP<->DOWN change (lastchg of backends)

  /** Records a state change: `down` true when the object stops being available. */
  noteState(down: boolean, now = Date.now()): void {
    if (down) {
      if (!this.downSince) { this.downSince = now; this.downTrans++; this.stateChangedAt = now; }
    } else if (this.downSince) {
      this.stateChangedAt = now;
      this.downtimeMs += now - this.downSince;
      this.downSince = 0;
    }
  }

  /** Marks the object down from the start without counting a transition (e.g. `disabled`). */
  startDown(now = Date.now()): void { if (!this.downSince) this.downSince = now; }

  /** Total down time in ms, the current down period included. */
  downtime(now = Date.now()): number {
    return this.downtimeMs + (this.downSince ? now - this.downSince : 0);
  }

  /**
   * One finished stream's timings (ms; -1 = phase not reached, not recorded), as HAProxy feeds
   * qtime/ctime/rtime/ttime and their maxima.
   */
  recordTimes(queue: number, connect: number, response: number, total: number): void {
    if (queue >= 0) this.qTime.add(queue);
    if (connect >= 0) this.cTime.add(connect);
    if (response >= 0) this.rTime.add(response);
    if (total >= 0) this.tTime.add(total);
  }

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
    this.reqRate.reset();
    if (!all) return;
    this.cumConns = 0; this.bytesIn = 0; this.bytesOut = 0; this.deniedConn = 0; this.failedReq = 0;
    this.failedConns = 0; this.retries = 0; this.redispatches = 0; this.lbTotal = 0; this.cliAborts = 0; this.srvAborts = 0;
    this.reqTotal = 0; this.failedResp = 0; this.hrsp = [0, 0, 0, 0, 0, 0];
    this.deniedReq = 0; this.deniedResp = 0; this.deniedSess = 0; this.failedRewrites = 0;
    this.intercepted = 0; this.connAttempts = 0; this.reuses = 0; this.internalErrors = 0;
    this.failedChecks = 0; this.downTrans = 0; this.lastSess = 0;
    this.qTime = new SlidingAvg(); this.cTime = new SlidingAvg(); this.rTime = new SlidingAvg(); this.tTime = new SlidingAvg();
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

/** Samples averaged over a window of the last 1024 values (fewer while fewer were seen). */
export class SlidingAvg {
  static readonly WINDOW = 1024;
  private sum = 0;
  private n = 0;
  max = 0;
  /** every sample ever added and their sum (the dashboard's per-second averages use the deltas) */
  count = 0;
  total = 0;

  add(v: number): void {
    this.count++;
    this.total += v;
    if (this.n < SlidingAvg.WINDOW) this.n++;
    // the oldest sample is approximated by the average, as a sliding sum does
    this.sum += v - (this.n === SlidingAvg.WINDOW ? this.sum / this.n : 0);
    if (v > this.max) this.max = v;
  }

  avg(): number { return this.n ? Math.round(this.sum / this.n) : 0; }
}
