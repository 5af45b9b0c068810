// The check rule engine: runs a list of connect / send / expect steps against a server over one
// TCP connection and reports HAProxy's check status (L4OK, L4TOUT, L4CON, L7OK, L7STS, L7RSP,
// L7TOUT ...) with its code and info, and the duration.
import net from 'node:net';
import type { CheckStep, CheckRules } from './config.js';
import { reasonPhrase } from '../http/errors.js';

export type CheckStatus = 'L4OK' | 'L4TOUT' | 'L4CON' | 'L6OK' | 'L6TOUT' | 'L6RSP' | 'L7OK' | 'L7OKC' | 'L7TOUT' | 'L7RSP' | 'L7STS' | 'SOCKERR' | 'PROCOK' | 'PROCERR' | 'PROCTOUT';

/** What a custom expectation decides about the data received so far. */
export type CustomVerdict =
  /** not enough data yet: wait for more (or the end of the stream) */
  | 'wait'
  /** this step passed: go on with the next one */
  | 'next'
  /** the check ends here with this result (success or failure) */
  | { status: CheckStatus; code?: number; info?: string };

/**
 * An expect step deciding with a function (the protocol checks: MySQL packets, LDAP result
 * codes, SMTP replies...). `fn` sees everything received since the last send, and whether the
 * server closed its side. Before it is called, `minRecv` bytes are awaited (unless the stream
 * ended); an empty response ends the check with `errorStatus`; a timeout reports `toutStatus`.
 */
export interface CustomExpect {
  kind: 'custom';
  fn: (buf: Buffer, ended: boolean) => CustomVerdict;
  minRecv?: number;
  errorStatus: CheckStatus;
  toutStatus?: CheckStatus;
  comment?: string;
}

/** Makes a custom expect step to put in CheckRules.steps (typed there as CheckStep). */
export function customStep(c: Omit<CustomExpect, 'kind'>): CheckStep {
  return { kind: 'custom', ...c } as unknown as CheckStep;
}

type AnyStep = CheckStep | CustomExpect;

/** Statuses after which HAProxy shows "code: N" (the Layer 7 data statuses). */
export function showsCode(s: CheckStatus): boolean { return s === 'L7OK' || s === 'L7OKC' || s === 'L7STS'; }

export interface CheckResult {
  status: CheckStatus;
  /** HTTP status for L7 results */
  code?: number;
  /** text HAProxy shows after "info:" */
  info?: string;
  /** ms from the start of the check */
  duration: number;
}

/** Whether a status counts as a success for the health counter. */
export function passed(s: CheckStatus): boolean { return s === 'L4OK' || s === 'L6OK' || s === 'L7OK' || s === 'L7OKC' || s === 'PROCOK'; }

/** The words HAProxy uses for each status ("reason: ..."). */
export const STATUS_TEXT: Record<CheckStatus, string> = {
  PROCOK: 'External check passed',
  PROCERR: 'External check error',
  PROCTOUT: 'External check timeout',
  L4OK: 'Layer4 check passed',
  L4TOUT: 'Layer4 timeout',
  L4CON: 'Layer4 connection problem',
  L6OK: 'Layer6 check passed',
  L6TOUT: 'Layer6 timeout',
  L6RSP: 'Layer6 invalid response',
  L7OK: 'Layer7 check passed',
  L7OKC: 'Layer7 check conditionally passed',
  L7TOUT: 'Layer7 timeout',
  L7RSP: 'Layer7 invalid response',
  L7STS: 'Layer7 wrong status',
  SOCKERR: 'Socket error',
};

export interface CheckTarget {
  host: string;
  port: number;
  /** send a PROXY v1 header first (check-send-proxy) */
  sendProxy: boolean;
  timeout: number;
}

/** Node's error codes as the strerror text HAProxy shows in "info". */
function errText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'Connection refused';
    case 'ECONNRESET': return 'Connection reset by peer';
    case 'EHOSTUNREACH': return 'No route to host';
    case 'ENETUNREACH': return 'Network is unreachable';
    case 'ETIMEDOUT': return 'Connection timed out';
    default: return e.message;
  }
}

/** Runs the rules; never throws. */
export function runCheck(rules: CheckRules, t: CheckTarget): Promise<CheckResult> {
  const start = Date.now();
  const http = rules.type === 'http';
  let steps: AnyStep[] = rules.steps.length && rules.type !== 'tcp' ? rules.steps : [];
  // HTTP checks: connection, then the request, then the expectations, whatever the line order
  if (http) steps = [...steps.filter((x) => x.kind === 'connect'), ...steps.filter((x) => x.kind === 'http-send'), ...steps.filter((x) => x.kind !== 'connect' && x.kind !== 'http-send')];
  /** the custom step being waited on (its timeout status applies) */
  let customWaiting: CustomExpect | undefined;
  return new Promise((resolve) => {
    let sock: net.Socket | undefined;
    let done = false;
    let connected = false;
    let buf = Buffer.alloc(0);
    let stepIdx = 0;
    let waiting: ((ended: boolean) => void) | undefined;
    /** tout-status of the expect being evaluated */
    let curTout: CheckStatus | undefined;
    let ended = false;
    const finish = (r: Omit<CheckResult, 'duration'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (sock && !sock.destroyed) sock.destroy();
      resolve({ ...r, duration: Date.now() - start });
    };
    const timer = setTimeout(() => {
      if (!connected) finish({ status: 'L4TOUT' });
      else finish({ status: customWaiting?.toutStatus ?? curTout ?? 'L7TOUT' });
    }, Math.max(1, t.timeout));

    const connect = (host: string, port: number, sendProxy: boolean, then: () => void): void => {
      if (sock && !sock.destroyed) sock.destroy();
      buf = Buffer.alloc(0);
      ended = false;
      connected = false;
      const s = net.connect({ host, port });
      sock = s;
      s.setNoDelay(true);
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (!connected) finish({ status: 'L4CON', info: errText(e) });
        // a reset while a protocol check reads is the end of the response, as HAProxy sees it
        else if (customWaiting && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) { ended = true; waiting?.(true); }
        else finish({ status: 'L7RSP', info: errText(e) });
      });
      s.on('data', (d: Buffer) => { buf = Buffer.concat([buf, d]); waiting?.(false); });
      s.on('end', () => { ended = true; waiting?.(true); });
      s.on('connect', () => {
        connected = true;
        if (sendProxy) s.write(`PROXY TCP4 ${s.localAddress} ${s.remoteAddress} ${s.localPort} ${s.remotePort}\r\n`);
        then();
      });
    };

    const next = (): void => {
      if (done) return;
      const st = steps[stepIdx++];
      if (!st) {
        // every step passed: Layer 7 success when something was checked beyond the connection
        if (http) {
          const code = statusOf(buf);
          finish({ status: 'L7OK', code });
          return;
        }
        finish({ status: steps.some((x) => x.kind === 'expect' || x.kind === 'custom') ? 'L7OK' : 'L4OK' });
        return;
      }
      switch (st.kind) {
        case 'connect':
          connect(st.addr ?? t.host, st.port ?? t.port, st.sendProxy || t.sendProxy, next);
          return;
        case 'send':
          // a send starts a new exchange: what was received so far is dropped (as HAProxy does)
          buf = Buffer.alloc(0);
          sock!.write(st.data);
          next();
          return;
        case 'http-send': {
          // as HAProxy 2.6 sends it: header names lower-cased (HTX), "connection: close" on
          // HTTP/1.1 only ("OPTIONS / HTTP/1.0\r\n\r\n" for a bare option httpchk)
          let head = `${st.method} ${st.uri} ${st.version}\r\n`;
          for (const [n, v] of st.headers) head += `${n.toLowerCase()}: ${v}\r\n`;
          if (st.body) head += `content-length: ${Buffer.byteLength(st.body)}\r\n`;
          if (st.version !== 'HTTP/1.0') head += 'connection: close\r\n';
          head += '\r\n';
          sock!.write(head + st.body);
          if (!rules.httpExpect) {
            // no explicit expectation: the status must be 2xx or 3xx
            expectHttp({ kind: 'expect', type: 'status', neg: false, pattern: '200-399', statuses: [[200, 399]] });
            return;
          }
          next();
          return;
        }
        case 'expect':
          if (http) expectHttp(st); else expectTcp(st);
          return;
        case 'custom':
          expectCustom(st);
      }
    };

    /** custom expect: the step's function decides once enough data is there. */
    const expectCustom = (st: CustomExpect): void => {
      const step = stepIdx;
      customWaiting = st;
      const check = (isEnd: boolean): void => {
        const end = isEnd || ended;
        if (!end && buf.length < (st.minRecv ?? 1)) return;
        if (end && buf.length === 0) {
          waiting = undefined;
          finish({ status: st.errorStatus, code: showsCode(st.errorStatus) ? 0 : undefined, info: `TCPCHK got an empty response at step ${step}` });
          return;
        }
        const v = st.fn(buf, end);
        if (v === 'wait') {
          if (!end) return;
          // nothing more will come: the function must decide
          waiting = undefined;
          finish({ status: st.errorStatus, code: showsCode(st.errorStatus) ? 0 : undefined });
          return;
        }
        waiting = undefined;
        customWaiting = undefined;
        if (v === 'next') { next(); return; }
        finish(v);
      };
      waiting = check;
      check(false);
    };

    /** tcp-check expect: waits until the pattern is found in what was received, or the end. */
    const expectTcp = (st: Extract<CheckStep, { kind: 'expect' }>): void => {
      const test = (): boolean => {
        switch (st.type) {
          case 'string': return buf.toString('latin1').includes(st.pattern);
          case 'rstring': return st.re!.test(buf.toString('latin1'));
          case 'binary': return buf.includes(st.bin!);
          case 'rbinary': return st.re!.test(buf.toString('hex'));
          default: return false;
        }
      };
      const step = stepIdx;
      const o = st.opts ?? {};
      const errStatus = (o.errorStatus ?? 'L7RSP') as CheckStatus;
      const fail = (info: string): void => finish({ status: errStatus, code: showsCode(errStatus) ? 0 : undefined, info: o.comment ?? info });
      const pass = (): void => {
        waiting = undefined;
        curTout = undefined;
        // ok-status applies when this expect is the last rule
        if (o.okStatus && stepIdx >= steps.length) { finish({ status: o.okStatus as CheckStatus }); return; }
        next();
      };
      curTout = o.toutStatus as CheckStatus | undefined;
      const check = (isEnd: boolean): void => {
        // min-recv: nothing is decided before that many bytes (or the end)
        if (o.minRecv !== undefined && o.minRecv > 0 && buf.length < o.minRecv && !(isEnd || ended)) return;
        const ok = test();
        if (ok && !st.neg) { pass(); return; }
        if (ok && st.neg) { waiting = undefined; fail(`TCPCHK matched unwanted content '${st.pattern}' at step ${step}`); return; }
        if (isEnd || ended) {
          waiting = undefined;
          if (st.neg) { pass(); return; }
          fail(`TCPCHK did not match content '${st.pattern}' at step ${step}`);
        }
      };
      waiting = check;
      check(false);
    };

    /** http-check expect: waits for the response head, then checks the status or the body. */
    const expectHttp = (st: Extract<CheckStep, { kind: 'expect' }>): void => {
      const o = st.opts ?? {};
      curTout = o.toutStatus as CheckStatus | undefined;
      const check = (isEnd: boolean): void => {
        const headEnd = buf.indexOf('\r\n\r\n');
        const needBody = st.type === 'string' || st.type === 'rstring';
        if (headEnd < 0 && !(isEnd || ended)) return;
        if (needBody && !(isEnd || ended)) return;
        if (o.minRecv !== undefined && o.minRecv > 0 && buf.length < o.minRecv && !(isEnd || ended)) return;
        waiting = undefined;
        const code = statusOf(buf);
        if (code === undefined) { finish({ status: 'L7RSP', info: 'Invalid http response (headers)' }); return; }
        const reason = reasonOf(buf) ?? reasonPhrase(code);
        if (rules.disableOn404 && code === 404) { finish({ status: 'L7OKC', code, info: reason }); return; }
        let ok: boolean;
        if (st.type === 'status') ok = st.statuses!.some(([a, b]) => code >= a && code <= b);
        else if (st.type === 'rstatus') ok = st.re!.test(String(code));
        else {
          const body = headEnd >= 0 ? buf.subarray(headEnd + 4).toString('latin1') : '';
          ok = st.type === 'string' ? body.includes(st.pattern) : st.re!.test(body);
        }
        if (st.neg) ok = !ok;
        if (!ok) {
          // error-status and comment override HAProxy's defaults
          const def: CheckStatus = st.type === 'status' || st.type === 'rstatus' ? 'L7STS' : 'L7RSP';
          const stt = (o.errorStatus ?? def) as CheckStatus;
          finish({ status: stt, code, info: o.comment ?? (def === 'L7STS' ? reason : 'HTTP content check did not match') });
          return;
        }
        curTout = undefined;
        if (stepIdx >= steps.length) { finish({ status: (o.okStatus ?? 'L7OK') as CheckStatus, code }); return; }
        next();
      };
      waiting = check;
      check(false);
    };

    // a check always starts with a connection (an explicit first `connect` step replaces it)
    if (steps[0]?.kind === 'connect') next();
    else connect(t.host, t.port, t.sendProxy, next);
  });
}

function statusOf(buf: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

function reasonOf(buf: Buffer): string | undefined {
  const eol = buf.indexOf('\r\n');
  const line = buf.subarray(0, eol < 0 ? Math.min(buf.length, 256) : eol).toString('latin1');
  const m = /^HTTP\/1\.[01] \d{3} ?(.*)$/.exec(line);
  return m ? m[1] : undefined;
}

