// HTTP error replies: the responses haproxy-ts generates itself (no server available, bad request,
// timeouts, deny rules...), the built-in pages for them, and the configuration that replaces them:
// `errorfile`, `errorloc`/`errorloc302`, `errorloc303`, `errorfiles`, `http-error` and the
// `http-errors` section (configuration.txt 4.2 and 12.4).
//
// A proxy keeps its error directives in declaration order (inherited ones from its defaults section
// first); the post-parse check resolves them, with the http-errors sections, into one reply per
// status. At run time a reply is looked up in the backend, then in the frontend, then the built-in
// page is used (as HAProxy does).
import fs from 'node:fs';
import {
  registerProxy, registerSection, registerPostParse, ALL, type ParseCtx,
} from '../registry/registry.js';
import type { Config, ProxyConfig, Where } from '../config/model.js';
import { HttpHeaders } from './htx.js';
import { compileLf, type Lf } from '../actions/lf.js';

// ---- built-in pages -------------------------------------------------------------------------

/** Statuses HAProxy 3.2 has a built-in page for (and the only ones errorfile & co. accept). */
export const ERROR_STATUSES: readonly number[] = [
  200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 414, 425, 429, 431, 500, 501, 502, 503, 504,
];

/**
 * Status line reason and the sentence of each built-in page. Harvested from Debian's HAProxy 2.6
 * (deny_status / no server / server timeout / server abort / bad request / http-request timeout).
 * 2.6 has no page for 414 and 431 (it refuses them in deny_status and errorfile); those two are
 * the 3.2 pages. The other 17 pages are the same in 3.2 as in 2.6. Note the quirks kept on
 * purpose: 407 says "Unauthorized", 501's sentence starts with a dot, 431's with '>'.
 */
const PAGES: ReadonlyMap<number, { reason: string; text: string; close?: boolean }> = new Map([
  [200, { reason: 'OK', text: 'Service ready.' }],
  [400, { reason: 'Bad request', text: 'Your browser sent an invalid request.', close: true }],
  [401, { reason: 'Unauthorized', text: 'You need a valid user and password to access this content.' }],
  [403, { reason: 'Forbidden', text: 'Request forbidden by administrative rules.' }],
  [404, { reason: 'Not Found', text: 'The resource could not be found.' }],
  [405, { reason: 'Method Not Allowed', text: 'A request was made of a resource using a request method not supported by that resource' }],
  [407, { reason: 'Unauthorized', text: 'You need a valid user and password to access this content.' }],
  [408, { reason: 'Request Time-out', text: "Your browser didn't send a complete request in time.", close: true }],
  [410, { reason: 'Gone', text: 'The resource is no longer available and will not be available again.' }],
  [413, { reason: 'Payload Too Large', text: 'The request entity exceeds the maximum allowed.' }],
  // 3.2 only (not in 2.6):
  [414, { reason: 'URI Too Long', text: 'The URI provided was too long for the server to process.' }],
  [425, { reason: 'Too Early', text: 'Your browser sent early data.' }],
  [429, { reason: 'Too Many Requests', text: 'You have sent too many requests in a given amount of time.' }],
  // 3.2 only (not in 2.6):
  [431, { reason: 'Request Header Fields Too Large', text: '>Request Header Fields Too Large.' }],
  [500, { reason: 'Internal Server Error', text: 'An internal server error occurred.' }],
  [501, { reason: 'Not Implemented', text: '.The server does not support the functionality required to fulfill the request.' }],
  [502, { reason: 'Bad Gateway', text: 'The server returned an invalid or incomplete response.' }],
  [503, { reason: 'Service Unavailable', text: 'No server is available to handle this request.' }],
  [504, { reason: 'Gateway Time-out', text: "The server didn't respond in time." }],
]);

/**
 * Reason phrases HAProxy puts on replies it builds from a status alone (`http-error ... string`,
 * `http-request return`, ...). Not the same as the built-in pages' (e.g. 400, 413, 502).
 */
const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Continue'], [101, 'Switching Protocols'], [102, 'Processing'], [200, 'OK'], [201, 'Created'],
  [202, 'Accepted'], [203, 'Non-Authoritative Information'], [204, 'No Content'], [205, 'Reset Content'],
  [206, 'Partial Content'], [207, 'Multi-Status'], [210, 'Content Different'], [226, 'IM Used'],
  [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Found'], [303, 'See Other'],
  [304, 'Not Modified'], [305, 'Use Proxy'], [307, 'Temporary Redirect'], [308, 'Permanent Redirect'],
  [310, 'Too many Redirects'], [400, 'Bad Request'], [401, 'Unauthorized'], [402, 'Payment Required'],
  [403, 'Forbidden'], [404, 'Not Found'], [405, 'Method Not Allowed'], [406, 'Not Acceptable'],
  [407, 'Proxy Authentication Required'], [408, 'Request Time-out'], [409, 'Conflict'], [410, 'Gone'],
  [411, 'Length Required'], [412, 'Precondition Failed'], [413, 'Request Entity Too Large'],
  [414, 'Request-URI Too Long'], [415, 'Unsupported Media Type'], [416, 'Requested range unsatisfiable'],
  [417, 'Expectation failed'], [418, "I'm a teapot"], [421, 'Misdirected Request'],
  [422, 'Unprocessable Content'], [423, 'Locked'], [424, 'Method failure'], [425, 'Too Early'],
  [426, 'Upgrade Required'], [428, 'Precondition Required'], [429, 'Too Many Requests'],
  [431, 'Request Header Fields Too Large'], [449, 'Retry With'],
  [450, 'Blocked by Windows Parental Controls'], [451, 'Unavailable For Legal Reasons'],
  [456, 'Unrecoverable Error'], [499, 'client has closed connection'], [500, 'Internal Server Error'],
  [501, 'Not Implemented'], [502, 'Bad Gateway or Proxy Error'], [503, 'Service Unavailable'],
  [504, 'Gateway Time-out'], [505, 'HTTP Version not supported'], [506, 'Variant also negotiate'],
  [507, 'Insufficient storage'], [508, 'Loop detected'], [509, 'Bandwidth Limit Exceeded'],
  [510, 'Not extended'], [511, 'Network authentication required'],
  [520, 'Web server is returning an unknown error'],
]);

/** The reason phrase HAProxy uses for a status it builds a reply for. */
export function reasonPhrase(status: number): string {
  const r = REASONS.get(status);
  if (r !== undefined) return r;
  if (status >= 100 && status < 200) return 'Informational';
  if (status >= 200 && status < 300) return 'Success';
  if (status >= 300 && status < 400) return 'Redirection';
  if (status >= 400 && status < 500) return 'Client Error';
  if (status >= 500 && status < 600) return 'Server Error';
  return 'Other';
}

export function isErrorStatus(status: number): boolean { return PAGES.has(status); }

// ---- the reply model ------------------------------------------------------------------------

/** One error reply, ready to be turned into an HTTP message. */
export interface ErrorReply {
  /** true: send nothing and close the connection (an empty errorfile, e.g. /dev/null) */
  empty: boolean;
  version: string;
  status: number;
  reason: string;
  /** header fields in order, names as written (the H1 output lower-cases them) */
  headers: HttpHeaders;
  body: Buffer;
  /** the connection must be closed after it ("Connection: close", or a body without length) */
  close: boolean;
  /** where it was defined, for messages */
  where?: Where;
  /** the file it was read from (errorfile) */
  file?: string;
  /**
   * http-error with log-format parts (lf-string, lf-file, hdr with a format): rendered per
   * request by renderErrorReply() before the reply is sent.
   */
  dynamic?: { body?: { render(ctx: never): string }; hdrs: { name: string; value: { render(ctx: never): string } | string }[]; contentType?: string };
}

/** A reply with log-format parts made concrete for one request (others are returned as is). */
export function renderErrorReply<C>(r: ErrorReply, ctx: C): ErrorReply {
  const d = r.dynamic;
  if (!d) return r;
  const hdrs: Array<[string, string]> = d.hdrs.map((h) => [h.name, typeof h.value === 'string' ? h.value : (h.value.render as (c: C) => string)(ctx)]);
  const body = d.body ? Buffer.from((d.body.render as (c: C) => string)(ctx), 'latin1') : r.body;
  const out = buildReply(r.status, hdrs, body.length ? d.contentType : undefined, body);
  out.where = r.where;
  return out;
}

const EMPTY = Buffer.alloc(0);

function emptyReply(where?: Where, file?: string): ErrorReply {
  return { empty: true, version: 'HTTP/1.1', status: 0, reason: '', headers: new HttpHeaders(), body: EMPTY, close: true, where, file };
}

/**
 * The built-in page as HAProxy stores it: the raw text with its header names in their original
 * case. HAProxy 2.6's H1 multiplexer sends exactly these bytes for errors it detects itself before
 * a stream exists (unparsable request → 400, `timeout http-request` → 408).
 */
export function rawDefaultErrorMessage(status: number): Buffer {
  const p = PAGES.get(status) ?? PAGES.get(500)!;
  const code = PAGES.has(status) ? status : 500;
  const body = `<html><body><h1>${code} ${p.reason}</h1>\n${p.text}\n</body></html>\n`;
  return Buffer.from(
    `HTTP/1.1 ${code} ${p.reason}\r\n` +
    `Content-length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-cache\r\n' +
    (p.close ? 'Connection: close\r\n' : '') +
    'Content-Type: text/html\r\n' +
    '\r\n' + body, 'latin1');
}

/**
 * The bytes HAProxy's H1 multiplexer sends for errors it detects itself, before a stream exists
 * (unparsable or refused request, `timeout http-request`): the raw built-in page, header names as
 * written. 422 (a Transfer-Encoding it refuses) has a page of its own there, which errorfile
 * cannot change (harvested from HAProxy 2.6).
 */
export function h1ErrorMessage(status: number): Buffer {
  if (status === 422) {
    const body = '<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n';
    return Buffer.from(`HTTP/1.1 422 Unprocessable Content\r\nContent-length: ${body.length}\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n${body}`, 'latin1');
  }
  return rawDefaultErrorMessage(status);
}

const defaultCache = new Map<number, ErrorReply>();

/** The built-in page for a status as a structured reply (statuses without one get 500's, as HAProxy). */
export function defaultErrorMessage(status: number): ErrorReply {
  const code = PAGES.has(status) ? status : 500;
  let r = defaultCache.get(code);
  if (!r) {
    const parsed = parseRawMessage(rawDefaultErrorMessage(code));
    if (typeof parsed === 'string') throw new Error(`built-in ${code} page: ${parsed}`);
    r = parsed;
    defaultCache.set(code, r);
  }
  return r;
}

/**
 * The bytes HAProxy puts on the wire for the built-in page when a stream produces it (deny rules,
 * no server, server errors and timeouts) to an HTTP/1.1 keep-alive client: lower-case header
 * names, the connection header last. Statuses without a page get the 500 page.
 */
export function defaultErrorReply(status: number): Buffer {
  return serializeReply(defaultErrorMessage(status));
}

export interface SerializeOptions {
  /** the client's connection stays open after this reply if the reply allows it (default true) */
  keepAlive?: boolean;
}

/**
 * HTTP/1 bytes of a reply as HAProxy's H1 output writes it: the status line as given, header names
 * lower-cased in their order, any Connection field dropped and one put last when needed
 * ("close" when either side closes, "keep-alive" when an HTTP/1.0 reply keeps the connection).
 * An empty reply serializes to zero bytes (the connection is just closed).
 */
export function serializeReply(r: ErrorReply, opts: SerializeOptions = {}): Buffer {
  if (r.empty) return EMPTY;
  const keepAlive = (opts.keepAlive ?? true) && !r.close;
  let head = `${r.version} ${r.status} ${r.reason}\r\n`;
  for (const h of r.headers.list) {
    if (h.lname === 'connection') continue;
    head += `${h.lname}: ${h.value}\r\n`;
  }
  if (!keepAlive) head += 'connection: close\r\n';
  else if (r.version === 'HTTP/1.0') head += 'connection: keep-alive\r\n';
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), r.body]);
}

// ---- parsing a raw HTTP response (errorfile contents) ----------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a complete HTTP/1 response (an errorfile). Returns the reply or HAProxy's reason for
 * refusing it. An empty input is the empty reply.
 */
export function parseRawMessage(raw: Buffer): ErrorReply | string {
  if (raw.length === 0) return emptyReply();
  const text = raw.toString('latin1');
  // the head ends at the first empty line (CRLF or bare LF line endings)
  let pos = 0;
  const lines: Array<{ text: string; at: number }> = [];
  let headEnd = -1;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break;
    let line = text.slice(pos, nl);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') { headEnd = nl + 1; break; }
    lines.push({ text: line, at: pos });
    pos = nl + 1;
  }
  // no end of headers: HAProxy's parser reports where it stopped (the end of the input)
  if (headEnd < 0) return `unable to parse headers (error offset: ${text.length})`;
  if (lines.length === 0) return 'unable to parse headers (error offset: 0)';
  const sl = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]!.text);
  if (!sl) {
    const v = /^(\S*) /.exec(lines[0]!.text);
    if (v && /^HTTP\/\d+\.\d+$/.test(v[1]!) && v[1]!.length !== 8) return `invalid http version (${v[1]})`;
    return 'unable to parse headers (error offset: 0)';
  }
  const version = sl[1]!;
  const status = Number(sl[2]);
  const reason = sl[3] ?? '';
  if (status < 200 && (status === 100 || status >= 102)) return `invalid http status code for an error message (${status})`;
  const headers = new HttpHeaders();
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.text.indexOf(':');
    const name = colon < 0 ? '' : l.text.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return `unable to parse headers (error offset: ${l.at + Math.max(colon, 0)})`;
    headers.add(name, l.text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  let body = raw.subarray(headEnd);
  let close = headers.tokens('connection').includes('close');
  const noBody = status === 204 || status === 304;
  if (headers.has('transfer-encoding') && !noBody) return 'chunk-encoded payload not supported';
  const cls = headers.getAll('content-length');
  if (cls.length && !noBody) {
    const values = new Set(cls.flatMap((v) => v.split(',').map((s) => s.trim())));
    if (values.size !== 1 || !/^\d+$/.test([...values][0]!)) return `unable to parse headers (error offset: 0)`;
    const len = Number([...values][0]);
    if (body.length !== len) return `payload size does not match the announced content-length (${body.length} != ${len})`;
  } else if (!noBody) {
    // no length: the body ends when the connection closes
    close = true;
  } else {
    body = EMPTY;
  }
  return { empty: false, version, status, reason, headers, body, close };
}

/** Reads an errorfile at start-up; returns the reply or the alert text (without the keyword). */
export function readErrorFile(file: string, bufsize = 16384, warn?: (msg: string) => void): ErrorReply | string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return `error opening file '${file}'.`;
  }
  try {
    let size: number;
    try { size = fs.fstatSync(fd).size; } catch { return `error opening file '${file}'.`; }
    if (size > bufsize) {
      warn?.(`custom error message file '${file}' larger than ${bufsize} bytes. Truncating.`);
      size = bufsize;
    }
    const buf = Buffer.alloc(size);
    let got = 0;
    try {
      while (got < size) {
        const n = fs.readSync(fd, buf, got, size - got, got);
        if (n <= 0) break;
        got += n;
      }
    } catch {
      return `error reading file '${file}'.`;
    }
    if (got !== size) return `error reading file '${file}'.`;
    const r = parseRawMessage(buf);
    if (typeof r === 'string') return `'${file}': ${r}`;
    r.file = file;
    return r;
  } finally {
    fs.closeSync(fd);
  }
}

/** The 302/303 reply of errorloc/errorloc302/errorloc303. */
export function redirectReply(code: 302 | 303, url: string): ErrorReply {
  const headers = new HttpHeaders();
  headers.add('Cache-Control', 'no-cache');
  headers.add('Content-length', '0');
  headers.add('Location', url);
  return { empty: false, version: 'HTTP/1.1', status: code, reason: code === 302 ? 'Found' : 'See Other', headers, body: EMPTY, close: false };
}

/** A reply built from a status, optional extra headers and a payload (http-error string/file). */
export function buildReply(status: number, hdrs: Array<[string, string]>, contentType: string | undefined, payload: Buffer): ErrorReply {
  const headers = new HttpHeaders();
  for (const [n, v] of hdrs) headers.add(n, v);
  headers.add('content-length', String(payload.length));
  if (payload.length && contentType !== undefined) headers.add('content-type', contentType);
  return { empty: false, version: 'HTTP/1.1', status, reason: reasonPhrase(status), headers, body: payload, close: false };
}

// ---- per-proxy configuration ----------------------------------------------------------------

export type ErrorDirective =
  /** errorfile, errorloc*, http-error with a reply */
  | { kind: 'set'; status: number; reply: ErrorReply; where: Where }
  /** http-error status <code> default-errorfiles: back to the built-in page (or the frontend's) */
  | { kind: 'reset'; status: number; where: Where }
  /** errorfiles <name> [<code>...] (codes empty = all), or http-error ... errorfiles <name> (one code) */
  | { kind: 'import'; section: string; codes: number[]; where: Where; fromHttpError?: boolean };

/** A proxy's error configuration. Defaults sections pass their directives on to proxies. */
export interface ErrorReplies {
  directives: ErrorDirective[];
  /**
   * Filled by the post-parse check: status → reply. `null` means "not set here" after a
   * `default-errorfiles` (the frontend's reply or the built-in page applies).
   */
  replies: Map<number, ErrorReply | null>;
}

export function newErrorReplies(): ErrorReplies { return { directives: [], replies: new Map() }; }

function errorsOf(px: ProxyConfig): ErrorReplies {
  if (!px.errors) px.errors = newErrorReplies();
  return px.errors;
}

/** The http-errors sections of one configuration. */
export interface HttpErrorsSection { name: string; where: Where; replies: Map<number, ErrorReply> }
const sectionsByConfig = new WeakMap<Config, Map<string, HttpErrorsSection>>();

export function httpErrorsSections(config: Config): Map<string, HttpErrorsSection> {
  let m = sectionsByConfig.get(config);
  if (!m) { m = new Map(); sectionsByConfig.set(config, m); }
  return m;
}

/**
 * The reply for `status` in a stream whose backend is `px` and frontend `fe`: the backend's, then
 * the frontend's, then the built-in page. Statuses without a page use 500's, as HAProxy.
 */
export function errorMessageFor(px: Pick<ProxyConfig, 'errors'> | undefined, status: number, fe?: Pick<ProxyConfig, 'errors'>): ErrorReply {
  const code = PAGES.has(status) ? status : 500;
  for (const p of [px, fe]) {
    const r = p?.errors?.replies.get(code);
    if (r) return r;
  }
  return defaultErrorMessage(code);
}

/** The bytes to send for `status` (see errorMessageFor); empty when the reply is "no reply". */
export function errorReplyFor(px: Pick<ProxyConfig, 'errors'> | undefined, status: number, fe?: Pick<ProxyConfig, 'errors'>, opts?: SerializeOptions): Buffer {
  return serializeReply(errorMessageFor(px, status, fe), opts);
}

/** C atol(): leading digits, 0 when none. */
function atol(s: string | undefined): number {
  const m = /^\s*([+-]?\d+)/.exec(s ?? '');
  return m ? Number(m[1]) : 0;
}

function parseErrorfileArgs(kw: string, args: string[], ctx: ParseCtx, sep = ' :'): { status: number; reply: ErrorReply } | undefined {
  if (!args[1] || !args[2]) { ctx.alert(`${kw}${sep} expects <status_code> and <file> as arguments.`); return undefined; }
  const status = atol(args[1]);
  if (!PAGES.has(status)) { ctx.alert(`${kw} : status code '${status}' not handled.`); return undefined; }
  const r = readErrorFile(args[2], 16384, (m) => ctx.warn(m));
  if (typeof r === 'string') { ctx.alert(`${kw} : ${r}`); return undefined; }
  r.where = ctx.where;
  return { status, reply: r };
}

function errorlocKeyword(name: string, code: 302 | 303) {
  return {
    name,
    caps: ALL,
    parse(args: string[], px: ProxyConfig, ctx: ParseCtx) {
      if (!args[1] || !args[2]) { ctx.alert(`${args[0]} : expects <status_code> and <url> as arguments.`); return; }
      const status = atol(args[1]);
      if (!PAGES.has(status)) { ctx.alert(`${args[0]} : status code '${status}' not handled.`); return; }
      const reply = redirectReply(code, args[2]);
      reply.where = ctx.where;
      errorsOf(px).directives.push({ kind: 'set', status, reply, where: ctx.where });
    },
  };
}

/** A log-format string without any format directive, unescaped; undefined when it needs log-format. */
function plainLogFormat(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      if (s[i + 1] === '%') { out += '%'; i++; continue; }
      return undefined;
    }
    if (c === '\\' && i + 1 < s.length) { out += s[++i]!; continue; }
    out += c;
  }
  return out;
}

function parseHttpError(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  const kw = args[0]!;
  if (args[1] !== 'status') { ctx.alert(`${kw} : expects at least a <status> as arguments.`); return; }
  if (args[2] === undefined || args[2] === '') { ctx.alert(`${kw} : 'status' expects <status_code> as argument`); return; }
  const status = atol(args[2]);
  if (!PAGES.has(status)) { ctx.alert(`${kw} : Unexpected status code '${args[2]}'`); return; }
  let contentType: string | undefined;
  let payloadKw: string | undefined;
  let errorfile: ErrorReply | undefined;
  let payload: Buffer | undefined;
  let importName: string | undefined;
  let reset = false;
  const hdrs: Array<[string, string]> = [];
  // log-format parts (lf-string / lf-file / hdr with a format), rendered per request
  let lfBody: Lf | undefined;
  const lfHdrs: { name: string; value: Lf | string }[] = [];
  let hasLfHdr = false;
  const PAYLOADS = new Set(['default-errorfiles', 'errorfile', 'errorfiles', 'file', 'lf-file', 'string', 'lf-string']);
  let i = 3;
  while (i < args.length) {
    const a = args[i]!;
    if (PAYLOADS.has(a) && payloadKw !== undefined) {
      ctx.alert(`${kw} : unexpected '${a}' argument, '${payloadKw}' already defined`);
      return;
    }
    switch (a) {
      case 'content-type':
        if (!args[i + 1]) { ctx.alert(`${kw} : '${a}' expects <type> as argument`); return; }
        contentType = args[i + 1]!;
        i += 2;
        break;
      case 'default-errorfiles':
        payloadKw = a; reset = true; i += 1;
        break;
      case 'errorfile': {
        if (!args[i + 1]) { ctx.alert(`${kw} : '${a}' expects <file> as argument`); return; }
        const r = readErrorFile(args[i + 1]!, 16384, (m) => ctx.warn(m));
        if (typeof r === 'string') { ctx.alert(`${kw} : ${r}`); return; }
        r.where = ctx.where;
        errorfile = r; payloadKw = a; i += 2;
        break;
      }
      case 'errorfiles':
        if (!args[i + 1]) { ctx.alert(`${kw} : '${a}' expects <name> as argument`); return; }
        importName = args[i + 1]!; payloadKw = a; i += 2;
        break;
      case 'file': {
        if (!args[i + 1]) { ctx.alert(`${kw} : '${a}' expects <file> as argument`); return; }
        const f = args[i + 1]!;
        try {
          payload = fs.readFileSync(f);
        } catch {
          ctx.alert(`${kw} : error opening file '${f}'`);
          return;
        }
        payloadKw = a; i += 2;
        break;
      }
      case 'string':
        if (args[i + 1] === undefined) { ctx.alert(`${kw} : '${a}' expects <str> as argument`); return; }
        payload = Buffer.from(args[i + 1]!, 'latin1'); payloadKw = a; i += 2;
        break;
      case 'lf-file':
      case 'lf-string': {
        if (args[i + 1] === undefined) { ctx.alert(`${kw} : '${a}' expects <${a === 'lf-file' ? 'file' : 'fmt'}> as argument`); return; }
        let text = args[i + 1]!;
        if (a === 'lf-file') {
          try { text = fs.readFileSync(text, 'latin1'); } catch { ctx.alert(`${kw} : error opening file '${args[i + 1]}'`); return; }
        }
        try {
          lfBody = compileLf(text, { where: `${ctx.where.file}:${ctx.where.line}`, file: ctx.where.file, proxyName: px.name });
        } catch (e) { ctx.alert(`${kw} : ${(e as Error).message}`); return; }
        payload = lfBody.isConst ? Buffer.from(lfBody.render(undefined as never), 'latin1') : Buffer.from('x');
        if (lfBody.isConst) lfBody = undefined;
        payloadKw = a; i += 2;
        break;
      }
      case 'hdr': {
        if (!args[i + 1] || args[i + 2] === undefined) { ctx.alert(`${kw} : 'hdr' expects <name> and <value> as arguments`); return; }
        const name = args[i + 1]!;
        const value = plainLogFormat(args[i + 2]!);
        const l = name.toLowerCase();
        if (l === 'content-length' || l === 'transfer-encoding') ctx.warn(`header '${l}' always ignored by the http reply.`);
        else if (value !== undefined) { hdrs.push([name, value]); lfHdrs.push({ name, value }); }
        else {
          try {
            lfHdrs.push({ name, value: compileLf(args[i + 2]!, { where: `${ctx.where.file}:${ctx.where.line}`, file: ctx.where.file, proxyName: px.name }) });
            hasLfHdr = true;
          } catch (e) { ctx.alert(`${kw} : ${(e as Error).message}`); return; }
        }
        i += 3;
        break;
      }
      default:
        ctx.alert(`${kw} : unknown keyword '${a}'.`);
        return;
    }
  }
  const list = errorsOf(px).directives;
  if (errorfile) {
    if (contentType !== undefined) ctx.warn(`content-type '${contentType}' ignored by the http reply when used with an erorrfile.`);
    if (hdrs.length) ctx.warn(`hdr parameters ignored by the http reply when used with an erorrfile.`);
    list.push({ kind: 'set', status, reply: errorfile, where: ctx.where });
    return;
  }
  if (reset) { list.push({ kind: 'reset', status, where: ctx.where }); return; }
  if (importName !== undefined) { list.push({ kind: 'import', section: importName, codes: [status], where: ctx.where, fromHttpError: true }); return; }
  if (payload === undefined) {
    if (contentType !== undefined) ctx.warn(`content-type '${contentType}' ignored by the http reply because neither errorfile nor payload defined.`);
    contentType = undefined;
  } else if (payload.length === 0) {
    if (contentType !== undefined) ctx.warn(`content-type '${contentType}' ignored by the http reply when used with an empty payload.`);
    contentType = undefined;
  } else if (contentType === undefined) {
    ctx.alert(`${kw} : a content type must be defined when non-empty payload is configured`);
    return;
  }
  const reply = buildReply(status, hdrs, contentType, payload ?? EMPTY);
  reply.where = ctx.where;
  if (lfBody || hasLfHdr) reply.dynamic = { body: lfBody, hdrs: lfHdrs, contentType };
  list.push({ kind: 'set', status, reply, where: ctx.where });
}

registerProxy(
  {
    name: 'errorfile',
    caps: ALL,
    parse(args, px, ctx) {
      const r = parseErrorfileArgs(args[0]!, args, ctx);
      if (r) errorsOf(px).directives.push({ kind: 'set', status: r.status, reply: r.reply, where: ctx.where });
    },
  },
  errorlocKeyword('errorloc', 302),
  errorlocKeyword('errorloc302', 302),
  errorlocKeyword('errorloc303', 303),
  {
    name: 'errorfiles',
    caps: ALL,
    parse(args, px, ctx) {
      if (!args[1]) { ctx.alert(`${args[0]} : expects <name> as argument.`); return; }
      const codes: number[] = [];
      for (const a of args.slice(2)) {
        const status = atol(a);
        if (!PAGES.has(status)) { ctx.alert(`${args[0]} : status code '${status}' not handled.`); return; }
        codes.push(status);
      }
      errorsOf(px).directives.push({ kind: 'import', section: args[1], codes, where: ctx.where });
    },
  },
  { name: 'http-error', caps: ALL, parse: parseHttpError },
);

// ---- the http-errors section ----------------------------------------------------------------

let current: HttpErrorsSection | undefined;

registerSection({
  name: 'http-errors',
  start(args, ctx, config) {
    current = undefined;
    const name = args[1];
    if (!name) { ctx.alert(`missing name for http-errors section.`); return false; }
    const bad = [...name].find((c) => !/[A-Za-z0-9_.:-]/.test(c));
    if (bad !== undefined) { ctx.alert(`character '${bad}' is not permitted in 'http-errors' name '${name}'.`); return false; }
    const all = httpErrorsSections(config);
    const prev = all.get(name);
    if (prev) {
      ctx.alert(`parsing [${ctx.where.file}:${ctx.where.line}]: http-errors section '${name}' already exists (declared at ${prev.where.file}:${prev.where.line}).`);
      return false;
    }
    current = { name, where: ctx.where, replies: new Map() };
    all.set(name, current);
    return true;
  },
  line(args, ctx) {
    const kw = args[0]!;
    if (kw !== 'errorfile') { ctx.alert(`unknown keyword '${kw}' in 'http-errors' section`); return; }
    const r = parseErrorfileArgs(kw, args, ctx, ':');
    if (r && current) current.replies.set(r.status, r.reply);
  },
});

// ---- post-parse: resolve each proxy's directives --------------------------------------------

/** Resolves a proxy's directives (own and inherited) into per-status replies. */
export function resolveErrors(px: ProxyConfig, sections: Map<string, HttpErrorsSection>, ctx: ParseCtx): void {
  const e = px.errors;
  if (!e) return;
  e.replies = new Map();
  for (const d of e.directives) {
    switch (d.kind) {
      case 'set': e.replies.set(d.status, d.reply); break;
      case 'reset': e.replies.set(d.status, null); break;
      case 'import': {
        const sec = sections.get(d.section);
        if (!sec) {
          ctx.alert(`proxy '${px.name}': unknown http-errors section '${d.section}' (at ${d.where.file}:${d.where.line}).`);
          break;
        }
        if (d.codes.length === 0) {
          for (const [status, r] of sec.replies) e.replies.set(status, r);
          break;
        }
        for (const status of d.codes) {
          const r = sec.replies.get(status);
          if (r) e.replies.set(status, r);
          else if (!d.fromHttpError) ctx.warn(`config: proxy '${px.name}' : status '${status}' not declared in http-errors section '${d.section}' (at ${d.where.file}:${d.where.line}).`);
        }
        break;
      }
    }
  }
}

registerPostParse((config, ctx) => {
  const sections = httpErrorsSections(config);
  for (const px of config.proxies) resolveErrors(px, sections, ctx);
});
