// The HTTP replies rules produce (configuration.txt 4.4 "return", "deny", "tarpit", and
// "http-error"): a status, a content-type, a payload (string, file, log-format string or file,
// an errorfile or the proxy's errorfiles) and extra headers with log-format values.
import fs from 'node:fs';
import type { SmpCtx } from '../sample/context.js';
import { HttpHeaders } from '../http/htx.js';
import { errorMessageFor, httpErrorsSections, readErrorFile, reasonPhrase, isErrorStatus, type ErrorReply } from '../http/errors.js';
import type { ProxyConfig } from '../config/model.js';
import { compileLf, type Lf, type LfCtx } from './lf.js';

export type PayloadKind = 'none' | 'default-errorfiles' | 'errorfile' | 'errorfiles' | 'file' | 'lf-file' | 'string' | 'lf-string';

export interface ReplySpec {
  status: number;
  contentType?: string;
  kind: PayloadKind;
  /** string / file contents */
  payload?: Buffer;
  /** lf-string / lf-file */
  lf?: Lf;
  /** errorfile <file> */
  errorfile?: ErrorReply;
  /** errorfiles <section> */
  section?: string;
  hdrs: { name: string; lname: string; value: Lf }[];
}

const EMPTY = Buffer.alloc(0);

/**
 * Parses the reply arguments starting at `i` (status/deny_status, content-type, payload, hdr).
 * `statusWords` lists the words accepted before the status ("status", and "deny_status" for deny).
 * Returns the spec or an error message; `warn` receives HAProxy's warnings.
 */
export function parseReplyArgs(words: string[], i: number, defStatus: number, defKind: PayloadKind, statusWords: string[],
  lfcx: LfCtx, warn: (m: string) => void): ReplySpec | string {
  const spec: ReplySpec = { status: defStatus, kind: 'none', hdrs: [] };
  let explicitKind = false;
  const PAYLOADS = new Set(['default-errorfiles', 'errorfile', 'errorfiles', 'file', 'lf-file', 'string', 'lf-string']);
  let onlyStatus = true;
  while (i < words.length) {
    const a = words[i]!;
    const arg = words[i + 1];
    if (PAYLOADS.has(a) && explicitKind) return `unexpected '${a}' argument, '${spec.kind}' already defined`;
    if (statusWords.includes(a)) {
      if (arg === undefined || !/^[0-9]+$/.test(arg)) return `'${a}' expects <status_code> as argument`;
      const st = Number(arg);
      if (st < 200 || st > 599) return `Unexpected status code '${arg}'`;
      spec.status = st;
      i += 2;
      continue;
    }
    onlyStatus = false;
    switch (a) {
      case 'content-type':
        if (arg === undefined) return `'${a}' expects <type> as argument`;
        spec.contentType = arg;
        i += 2;
        continue;
      case 'default-errorfiles':
        spec.kind = a; explicitKind = true; i += 1;
        continue;
      case 'errorfile': {
        if (arg === undefined) return `'${a}' expects <fmt> as argument`;
        const r = readErrorFile(arg, 16384, warn);
        if (typeof r === 'string') return r;
        spec.errorfile = r; spec.kind = a; explicitKind = true; i += 2;
        continue;
      }
      case 'errorfiles':
        if (arg === undefined) return `'${a}' expects <name> as argument`;
        spec.section = arg; spec.kind = a; explicitKind = true; i += 2;
        pendingReplySections.push({ spec, where: lfcx.where });
        continue;
      case 'file': case 'lf-file': {
        if (arg === undefined) return `'${a}' expects <file> as argument`;
        let data: Buffer;
        try { data = fs.readFileSync(arg); } catch { return `error opening file '${arg}'`; }
        if (a === 'file') spec.payload = data;
        else {
          try { spec.lf = compileLf(data.toString('latin1'), lfcx); } catch (e) { return (e as Error).message; }
        }
        spec.kind = a; explicitKind = true; i += 2;
        continue;
      }
      case 'string': case 'lf-string':
        if (arg === undefined) return `'${a}' expects <str> as argument`;
        if (a === 'string') spec.payload = Buffer.from(arg, 'latin1');
        else {
          try { spec.lf = compileLf(arg, lfcx); } catch (e) { return (e as Error).message; }
        }
        spec.kind = a; explicitKind = true; i += 2;
        continue;
      case 'hdr': {
        const v = words[i + 2];
        if (arg === undefined || v === undefined) return `'hdr' expects <name> and <value> as arguments`;
        const l = arg.toLowerCase();
        if (l === 'content-length' || l === 'transfer-encoding') { warn(`header '${l}' always ignored by the http reply.`); i += 3; continue; }
        try { spec.hdrs.push({ name: arg, lname: l, value: compileLf(v, lfcx) }); } catch (e) { return (e as Error).message; }
        i += 3;
        continue;
      }
      default:
        return `unknown keyword '${a}'`;
    }
  }
  if (!explicitKind) spec.kind = onlyStatus ? defKind : 'none';
  if (spec.kind === 'default-errorfiles' || spec.kind === 'errorfile' || spec.kind === 'errorfiles') {
    if (spec.kind !== 'default-errorfiles' || explicitKind) {
      if (!isErrorStatus(spec.status)) return `status code '${spec.status}' not handled by default with '${spec.kind}' payload`;
    }
    if (spec.contentType !== undefined) warn(`content-type '${spec.contentType}' ignored by the http reply when used with an erorrfile.`);
    if (spec.hdrs.length) warn(`hdr parameters ignored by the http reply when used with an erorrfile.`);
    spec.contentType = undefined;
    spec.hdrs = [];
  } else if (spec.kind === 'none') {
    if (spec.contentType !== undefined) warn(`content-type '${spec.contentType}' ignored by the http reply because neither errorfile nor payload defined.`);
    spec.contentType = undefined;
  } else if ((spec.kind === 'string' || spec.kind === 'file') && spec.payload!.length === 0) {
    if (spec.contentType !== undefined) warn(`content-type '${spec.contentType}' ignored by the http reply when used with an empty payload.`);
    spec.contentType = undefined;
  } else if (spec.contentType === undefined) {
    return `a content type must be defined when non-empty payload is configured`;
  }
  return spec;
}

/** Replies naming an http-errors section, checked once the whole configuration is read. */
export const pendingReplySections: { spec: ReplySpec; where: string }[] = [];

/**
 * Checks an `errorfiles <section>` reference once sections are known (post-parse). A section
 * without a file for the status is fine: the proxy's reply for it is used then.
 */
export function replySectionError(spec: ReplySpec, cfgSections: ReturnType<typeof httpErrorsSections>): string | undefined {
  if (spec.kind !== 'errorfiles') return undefined;
  const s = cfgSections.get(spec.section!);
  if (!s) return `unknown http-errors section '${spec.section}'`;
  return undefined;
}

/** Builds the reply for a request being handled by `px` (backend if known) and `fe`. */
export function buildReply(spec: ReplySpec, ctx: SmpCtx, px: ProxyConfig | undefined, fe: ProxyConfig, sections?: ReturnType<typeof httpErrorsSections>): ErrorReply {
  switch (spec.kind) {
    case 'default-errorfiles': {
      if (!isErrorStatus(spec.status)) return plainReply(spec.status, [], undefined, EMPTY);
      return errorMessageFor(px, spec.status, fe);
    }
    case 'errorfile': return spec.errorfile!;
    case 'errorfiles': {
      const r = sections?.get(spec.section!)?.replies.get(spec.status);
      return r ?? errorMessageFor(px, spec.status, fe);
    }
    default: break;
  }
  const hdrs: [string, string][] = [];
  for (const h of spec.hdrs) hdrs.push([h.name, h.value.render(ctx)]);
  let body: Buffer = EMPTY;
  if (spec.kind === 'string' || spec.kind === 'file') body = spec.payload!;
  else if (spec.kind === 'lf-string' || spec.kind === 'lf-file') body = Buffer.from(spec.lf!.render(ctx), 'latin1');
  return plainReply(spec.status, hdrs, body.length ? spec.contentType : undefined, body);
}

/**
 * A reply as HAProxy builds it for return/deny with a payload: extra headers first, then
 * content-length (omitted for 204 and 304), then content-type.
 */
export function plainReply(status: number, hdrs: [string, string][], contentType: string | undefined, body: Buffer): ErrorReply {
  const headers = new HttpHeaders();
  for (const [n, v] of hdrs) headers.add(n, v);
  if (status !== 204 && status !== 304) headers.add('content-length', String(body.length));
  if (contentType !== undefined) headers.add('content-type', contentType);
  return { empty: false, version: 'HTTP/1.1', status, reason: reasonPhrase(status), headers, body, close: false };
}
