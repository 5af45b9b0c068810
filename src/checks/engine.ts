// The check rule engine: runs a list of connect / send / expect steps against a server over one
// TCP connection and reports HAProxy's check status (L4OK, L4TOUT, L4CON, L7OK, L7STS, L7RSP,
// L7TOUT ...) with its code and info, and the duration.
import net from 'node:net';
import os from 'node:os';
import type { CheckStep, CheckRules, HdrPattern } from './config.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { SmpCtx, staticConn } from '../sample/context.js';
import type { SampleExpr } from '../sample/expr.js';
import { cast, smpStr } from '../sample/types.js';
import { getVar, setVar, unsetVar, varCondsAllow } from '../sample/vars.js';
import { HttpHeaders, type HttpResponseHead } from '../http/htx.js';
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
  /** the checked server and its backend (sample fetches, send-state) */
  server?: Server;
  backend?: Proxy;
  /** global `node` name (send-state) */
  node?: string;
}

/** Node's error codes as the strerror text HAProxy shows in "info". */
function errText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'Connection refused';
    case 'ECONNRESET': return 'Connection reset by peer';
    case 'EHOSTUNREACH': return 'No route to host';
    case 'ENETUNREACH': return 'Network is unreachable';
    case 'ETIMEDOUT': return 'Connection timed out';
    case 'EPIPE': return 'Broken pipe';
    default: return e.message;
  }
}

type ExpectStep = Extract<CheckStep, { kind: 'expect' }>;
type HttpSend = Extract<CheckStep, { kind: 'http-send' }>;

const IMPLICIT_CONNECT: CheckStep = { kind: 'connect', sendProxy: false, default: true };
const IMPLICIT_EXPECT: ExpectStep = { kind: 'expect', type: 'status', neg: false, pattern: '200-399', statuses: [[200, 399]], implicit: true };

/**
 * The steps of a rule set as run: HTTP checks get option httpchk's request when no
 * `http-check send` is given, and the implicit 2xx/3xx expectation after the last send.
 */
function preparedSteps(rules: CheckRules): AnyStep[] {
  const cache = rules as CheckRules & { prepared?: AnyStep[] };
  if (cache.prepared) return cache.prepared;
  let steps: AnyStep[] = rules.type === 'tcp' ? [] : [...rules.steps];
  if (rules.type === 'http') {
    if (!steps.some((x) => x.kind === 'http-send')) {
      const at = steps.findIndex((x) => x.kind === 'expect');
      const send: HttpSend = { kind: 'http-send', headers: [] };
      if (at < 0) steps.push(send); else steps.splice(at, 0, send);
    }
    let lastSend = -1;
    steps.forEach((x, i) => { if (x.kind === 'http-send') lastSend = i; });
    if (!steps.slice(lastSend + 1).some((x) => x.kind === 'expect')) steps.push(IMPLICIT_EXPECT);
  }
  cache.prepared = steps;
  return steps;
}

/** The X-Haproxy-Server-State value (http-check send-state). */
export function serverStateHeader(s: Server, node: string): string {
  const c = s.healthCheck;
  const rise = c?.opts.rise ?? 1, fall = c?.opts.fall ?? 1, health = c?.health ?? rise;
  let st: string;
  if (!c) st = 'no check';
  else if (s.up) {
    const nolb = !!s.checkNolb || !!s.stopping;
    const word = nolb ? 'NOLB' : 'UP';
    st = health === rise + fall - 1 ? word : `${word} ${health - rise + 1}/${fall}`;
  } else st = health ? `DOWN ${health}/${rise}` : 'DOWN';
  const be = s.backend;
  let tot = 0, totBck = 0;
  for (const x of be.servers) { if (!x.usable()) continue; if (x.backup) totBck += x.eweight; else tot += x.eweight; }
  if (!tot) tot = totBck;
  let beCur = 0;
  for (const x of be.servers) beCur += x.cur;
  return `${st}; address=${s.host}; port=${s.port}; name=${be.name}/${s.name}; node=${node}; weight=${s.eweight}/${tot}; scur=${s.cur}/${beCur}; qcur=${s.queue.length}`;
}

const HOST = os.hostname();

/** The integer of a status-code expression, if it gives one. */
function codeOf(e: SampleExpr | undefined, ctx: SmpCtx): number | undefined {
  if (!e) return undefined;
  const v = e.eval(ctx);
  const n = v ? cast(v, 'sint') : undefined;
  return n ? Number(n.v) : undefined;
}

/** Matches one side of a hdr/fhdr pattern. */
function hdrMatch(p: HdrPattern, v: string, ctx: SmpCtx, lower: boolean): boolean {
  let pat = p.lf ? p.lf.render(ctx) : p.text;
  if (lower) { v = v.toLowerCase(); pat = pat.toLowerCase(); }
  switch (p.meth) {
    case 'str': return v === pat;
    case 'beg': return v.startsWith(pat);
    case 'end': return v.endsWith(pat);
    case 'sub': return v.includes(pat);
    case 'reg': return p.re!.test(v);
  }
}

/** The description of a step in tcp-check connection/timeout messages. */
function stepDesc(st: AnyStep): string {
  switch (st.kind) {
    case 'connect': return st.port ? ` (connect port ${st.port})` : ' (connect)';
    case 'send': return ' (send)';
    case 'custom': return ' (expect custom function)';
    case 'expect':
      switch (st.type) {
        case 'string': return ` (expect string '${st.pattern}')`;
        case 'binary': return ` (expect binary '${st.bin!.toString('hex')}')`;
        case 'rstring': return ' (expect regex)';
        case 'rbinary': return ' (expect binary regex)';
        case 'string-lf': return ' (expect log-format string)';
        case 'binary-lf': return ' (expect log-format binary)';
        default: return '';
      }
    default: return '';
  }
}

/** Runs the rules; never throws. */
export function runCheck(rules: CheckRules, t: CheckTarget): Promise<CheckResult> {
  const start = Date.now();
  const http = rules.type === 'http';
  /** a tcp-check rule set (not a canned protocol check): messages name the failing step */
  const detailed = rules.type === 'tcp-check' && !rules.proto;
  const steps = preparedSteps(rules);
  const ctx = new SmpCtx(staticConn('127.0.0.1', 0, t.host, t.port));
  ctx.be = t.backend;
  ctx.srv = t.server;
  ctx.dir = 'res';
  ctx.final = true;
  /** the custom step being waited on (its timeout status applies) */
  let customWaiting: CustomExpect | undefined;
  return new Promise((resolve) => {
    let sock: net.Socket | undefined;
    let linger = true;
    let done = false;
    let connected = false;
    let buf = Buffer.alloc(0);
    let stepIdx = 0;
    let waiting: ((ended: boolean) => void) | undefined;
    /** tout-status of the expect being evaluated */
    let curTout: CheckStatus | undefined;
    /** the step being run (undefined: the implicit first connection) */
    let cur: AnyStep | undefined;
    let ended = false;
    const finish = (r: Omit<CheckResult, 'duration'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (sock && !sock.destroyed) {
        if (linger) sock.destroy(); else sock.resetAndDestroy();
      }
      resolve({ ...r, duration: Date.now() - start });
    };
    /** info of a connection-level failure: tcp-check rule sets say at which step */
    const connInfo = (msg: string): string => {
      if (!detailed) return msg;
      const cm = cur?.comment;
      const at = cur === undefined || cur === IMPLICIT_CONNECT ? ' at initial connection step of tcp-check' : ` at step ${stepIdx} of tcp-check${stepDesc(cur)}`;
      return `${msg}${at}${cm !== undefined ? ` comment: '${cm}'` : ''}`;
    };
    const timer = setTimeout(() => {
      try {
        if (!connected) finish({ status: 'L4TOUT', info: detailed ? connInfo('') : undefined });
        else finish({ status: customWaiting?.toutStatus ?? curTout ?? 'L7TOUT', info: detailed ? connInfo('') : undefined });
      } catch { finish({ status: 'L7TOUT' }); }
    }, Math.max(1, t.timeout));

    const connect = (host: string, port: number, sendProxy: boolean, lingerOpt: boolean, then: () => void): void => {
      if (sock && !sock.destroyed) { if (linger) sock.destroy(); else sock.resetAndDestroy(); }
      buf = Buffer.alloc(0);
      ctx.resPayload = buf;
      ended = false;
      connected = false;
      linger = lingerOpt;
      const s = net.connect({ host, port });
      sock = s;
      s.setNoDelay(true);
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (s !== sock) return;
        if (!connected) finish({ status: 'L4CON', info: connInfo(errText(e)) });
        // a reset while a protocol check reads is the end of the response, as HAProxy sees it
        else if (customWaiting && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) { ended = true; waiting?.(true); }
        else if (detailed) finish({ status: 'SOCKERR', info: connInfo(errText(e)) });
        else finish({ status: 'L7RSP', info: errText(e) });
      });
      s.on('data', (d: Buffer) => { if (s !== sock) return; buf = Buffer.concat([buf, d]); ctx.resPayload = buf; safe(() => waiting?.(false)); });
      s.on('end', () => { if (s !== sock) return; ended = true; safe(() => waiting?.(true)); });
      s.on('connect', () => {
        if (s !== sock) return;
        connected = true;
        if (sendProxy) s.write(`PROXY TCP4 ${s.localAddress} ${s.remoteAddress} ${s.localPort} ${s.remotePort}\r\n`);
        safe(then);
      });
    };
    /** runs a step function; an unexpected exception fails the check instead of escaping */
    const safe = (f: () => void): void => {
      try { f(); } catch (e) { finish({ status: 'SOCKERR', info: (e as Error).message }); }
    };

    const next = (): void => {
      if (done) return;
      const st = steps[stepIdx++];
      cur = st;
      if (!st) {
        if (http) { finish({ status: 'L7OK', code: statusOf(buf) }); return; }
        finish({ status: steps.some((x) => x.kind === 'expect' || x.kind === 'custom') ? 'L7OK' : 'L4OK' });
        return;
      }
      switch (st.kind) {
        case 'comment':
          next();
          return;
        case 'set-var': {
          const v = st.expr ? st.expr.eval(ctx) : smpStr(st.lf!.render(ctx));
          if (v && (!st.conds.length || varCondsAllow(st.conds, getVar(ctx, st.ref), v))) setVar(ctx, st.ref, v);
          next();
          return;
        }
        case 'unset-var':
          unsetVar(ctx, st.ref);
          next();
          return;
        case 'connect': {
          let port = st.port;
          if (port === undefined && st.portExpr) {
            const v = st.portExpr.eval(ctx);
            const n = v ? cast(v, 'sint') : undefined;
            if (n && Number(n.v) > 0 && Number(n.v) < 65536) port = Number(n.v);
          }
          connect(st.addr ?? t.host, port ?? t.port, st.sendProxy || (!!st.default && t.sendProxy), !!st.linger, next);
          return;
        }
        case 'send': {
          // a send starts a new exchange: what was received so far is dropped (as HAProxy does)
          buf = Buffer.alloc(0);
          ctx.resPayload = buf;
          let data = st.data;
          if (st.lf) {
            const text = st.lf.render(ctx);
            data = st.binary ? Buffer.from(text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text) ? text : '', 'hex') : Buffer.from(text, 'latin1');
          }
          sock!.write(data);
          next();
          return;
        }
        case 'http-send':
          buf = Buffer.alloc(0);
          sock!.write(httpRequest(st));
          next();
          return;
        case 'expect':
          if (http) expectHttp(st); else expectTcp(st);
          return;
        case 'custom':
          expectCustom(st);
      }
    };

    /** The request of an http-send step, as HAProxy 2.6 sends it (names lower-cased). */
    const httpRequest = (st: HttpSend): string => {
      const d = rules.httpDefaults ?? { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0', headers: [] };
      const version = st.version ?? d.version;
      const uri = st.uriLf ? st.uriLf.render(ctx) : st.uri ?? d.uri;
      let head = `${st.method ?? d.method} ${uri} ${version}\r\n`;
      // a configured Connection header takes the place of "connection: close", after the others
      let conn: string | undefined;
      for (const [n, v] of [...d.headers, ...st.headers]) {
        const ln = n.toLowerCase();
        if (ln === 'connection') { conn = v.render(ctx); continue; }
        head += `${ln}: ${v.render(ctx)}\r\n`;
      }
      if (rules.sendState && t.server) head += `x-haproxy-server-state: ${serverStateHeader(t.server, t.node || HOST)}\r\n`;
      const body = st.bodyLf ? st.bodyLf.render(ctx) : st.body ?? '';
      if (body) head += `content-length: ${Buffer.byteLength(body, 'latin1')}\r\n`;
      if (conn !== undefined) head += `connection: ${conn}\r\n`;
      else if (version !== 'HTTP/1.0') head += 'connection: close\r\n';
      return head + '\r\n' + body;
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

    /** The end of an expect rule that failed: on-error, the default message, the comment, status-code. */
    const failExpect = (st: ExpectStep, status: CheckStatus, defMsg: string, code?: number): void => {
      const o = st.opts ?? {};
      let info = o.onError ? o.onError.render(ctx) : defMsg;
      const cm = st.comment ?? o.comment;
      if (cm !== undefined) info += ` comment: ${cm}`;
      const c = showsCode(status) ? codeOf(o.statusCode, ctx) ?? code ?? 0 : undefined;
      finish({ status, code: c, info });
    };
    const passExpect = (st: ExpectStep, code?: number): void => {
      const o = st.opts ?? {};
      waiting = undefined;
      curTout = undefined;
      if (stepIdx >= steps.length) {
        // the last rule: ok-status, on-success and status-code decide the report
        const status = (o.okStatus ?? 'L7OK') as CheckStatus;
        const info = o.onSuccess ? o.onSuccess.render(ctx) : undefined;
        const c = showsCode(status) ? codeOf(o.statusCode, ctx) ?? code : undefined;
        finish({ status, code: c, info });
        return;
      }
      next();
    };

    /** tcp-check expect: waits until the pattern is found in what was received, or the end. */
    const expectTcp = (st: ExpectStep): void => {
      let lfVal: Buffer | undefined;
      const needle = (): Buffer => {
        if (st.type === 'binary') return st.bin!;
        if (st.type === 'string') return Buffer.from(st.pattern, 'latin1');
        if (lfVal === undefined) {
          const text = st.lf!.render(ctx);
          lfVal = st.type === 'binary-lf' ? Buffer.from(text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text) ? text : '', 'hex') : Buffer.from(text, 'latin1');
        }
        return lfVal;
      };
      const test = (): boolean => {
        switch (st.type) {
          case 'rstring': return st.re!.test(buf.toString('latin1'));
          case 'rbinary': return st.re!.test(buf.toString('hex'));
          default: return buf.includes(needle());
        }
      };
      const step = stepIdx;
      const o = st.opts ?? {};
      const errStatus = (o.errorStatus ?? 'L7RSP') as CheckStatus;
      const what = (): string => {
        switch (st.type) {
          case 'string': return ` '${st.pattern}'`;
          case 'binary': return ' (binary)';
          case 'rstring': return ' (regex)';
          case 'rbinary': return ' (binary regex)';
          case 'string-lf': return ' (log-format string)';
          default: return ' (log-format binary)';
        }
      };
      const fail = (matched: boolean): void => {
        waiting = undefined;
        failExpect(st, errStatus, `TCPCHK ${matched ? 'matched unwanted' : 'did not match'} content${what()} at step ${step}`);
      };
      curTout = o.toutStatus as CheckStatus | undefined;
      const check = (isEnd: boolean): void => {
        const end = isEnd || ended;
        // min-recv: nothing is decided before that many bytes (or the end)
        if (o.minRecv !== undefined && o.minRecv > 0 && buf.length < o.minRecv && !end) return;
        const ok = test();
        if (ok && !st.neg) { passExpect(st); return; }
        if (ok && st.neg) { fail(true); return; }
        if (end || o.minRecv === 0) {
          if (st.neg) { passExpect(st); return; }
          fail(false);
        }
      };
      waiting = check;
      check(false);
    };

    /** http-check expect: waits for the response head (and the body when needed), then checks. */
    const expectHttp = (st: ExpectStep): void => {
      const o = st.opts ?? {};
      curTout = o.toutStatus as CheckStatus | undefined;
      const check = (isEnd: boolean): void => {
        const end = isEnd || ended;
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0 && !end) return;
        const head = headEnd >= 0 ? parseHead(buf.subarray(0, headEnd)) : undefined;
        const bodyType = st.type === 'string' || st.type === 'rstring' || st.type === 'string-lf';
        if (bodyType && !end && head) {
          // the whole body is needed: Content-Length bytes, or the end of the stream
          const cl = head.headers.get('content-length');
          if (cl === undefined || buf.length - headEnd - 4 < Number(cl)) return;
        }
        if (o.minRecv !== undefined && o.minRecv > 0 && buf.length < o.minRecv && !end) return;
        waiting = undefined;
        if (!head) { finish({ status: 'L7RSP', info: 'Invalid http response (headers)' }); return; }
        const code = head.status;
        ctx.res = head;
        ctx.status = code;
        const body = buf.subarray(headEnd + 4);
        ctx.resBody = body;
        const reason = head.reason || reasonPhrase(code);
        if (rules.disableOn404 && code === 404) { finish({ status: 'L7OKC', code, info: reason }); return; }
        let ok: boolean;
        switch (st.type) {
          case 'status': ok = st.statuses!.some(([a, b]) => code >= a && code <= b); break;
          case 'rstatus': ok = st.re!.test(String(code)); break;
          case 'hdr': case 'fhdr': ok = headerMatches(st, head); break;
          case 'rstring': ok = st.re!.test(body.toString('latin1')); break;
          case 'string': ok = body.includes(Buffer.from(st.pattern, 'latin1')); break;
          default: ok = body.includes(Buffer.from(st.lf!.render(ctx), 'latin1'));
        }
        if (st.neg) ok = !ok;
        if (!ok) {
          const statusLike = !bodyType;
          const def: CheckStatus = statusLike ? 'L7STS' : 'L7RSP';
          const stt = (o.errorStatus ?? def) as CheckStatus;
          failExpect(st, stt, statusLike ? reason : st.neg ? 'HTTP check matched unwanted content' : 'HTTP content check did not match', code);
          return;
        }
        passExpect(st, code);
      };
      const headerMatches = (st2: ExpectStep, head: HttpResponseHead): boolean => {
        const h = st2.hdr!;
        for (const hd of head.headers.list) {
          if (!hdrMatch(h.name, hd.lname, ctx, true)) continue;
          if (!h.value) return true;
          const values = st2.type === 'fhdr' ? [hd.value] : hd.value.split(',').map((x) => x.trim());
          if (values.some((v) => hdrMatch(h.value!, v, ctx, false))) return true;
        }
        return false;
      };
      waiting = check;
      safe(() => check(false));
    };

    // a check starts with a connection; an explicit `connect` (after set-var/comment rules) replaces it
    const firstReal = steps.find((x) => x.kind !== 'set-var' && x.kind !== 'unset-var' && x.kind !== 'comment');
    if (firstReal?.kind === 'connect') safe(next);
    else { cur = IMPLICIT_CONNECT; safe(() => connect(t.host, t.port, t.sendProxy, true, next)); }
  });
}

/** The status line and header fields of a response head. */
function parseHead(b: Buffer): HttpResponseHead | undefined {
  const lines = b.toString('latin1').split('\r\n');
  const m = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers = new HttpHeaders();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers.add(l.slice(0, c).trim(), l.slice(c + 1).trim());
  }
  return { version: m[1]!, status: Number(m[2]), reason: m[3]!, headers };
}

function statusOf(buf: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}
