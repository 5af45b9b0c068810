// HTTP authentication fetches (configuration.txt 7.3.6): http_auth, http_auth_bearer,
// http_auth_group, http_auth_pass, http_auth_type, http_auth_user.
//
// How the Authorization header is read (settled against HAProxy 2.6):
// - the first value of the first Authorization field, values being separated by commas, with
//   surrounding blanks removed;
// - the scheme is the text before the first space; it names Basic when it is a case-insensitive
//   prefix of "Basic" (so "bas" works, "Basicx" does not), else Bearer when a prefix of
//   "Bearer"; any other scheme (Digest...) gives no sample at all, nor does a tab separator;
// - spaces after the scheme are skipped; Basic credentials are strict base64 (length a
//   multiple of 4, '=' padding only at the end), decoded text stops at a NUL byte, and the user
//   name ends at the first ':' (none: no sample); the password may contain ':'.
// The parsed credentials are kept per request head (HAProxy parses them once per transaction).
import { registerFetch, type NameRef } from '../registry.js';
import { smpBool, smpStr, type Sample } from '../types.js';
import type { SmpCtx } from '../context.js';
import type { HttpRequestHead } from '../../http/htx.js';
import { findUserlist, type Userlist } from '../../proxy/userlist.js';

export type AuthData =
  | { type: 'Basic'; user: string; pass: string }
  | { type: 'Bearer'; token: string };

/** The first non-empty comma-separated value of the first field named `lname`, trimmed. */
function firstValue(req: HttpRequestHead, lname: string): string | undefined {
  for (const h of req.headers.list) {
    if (h.lname !== lname) continue;
    for (const part of h.value.split(',')) {
      const v = part.replace(/^[ \t]+|[ \t]+$/g, '');
      if (v !== '') return v;
    }
  }
  return undefined;
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses one Authorization value; undefined when it holds no usable credentials. */
export function parseAuthValue(v: string | undefined): AuthData | undefined {
  if (v === undefined) return undefined;
  const sp = v.indexOf(' ');
  if (sp <= 0) return undefined;
  const scheme = v.slice(0, sp).toLowerCase();
  let p = sp + 1;
  while (p < v.length && v.charCodeAt(p) === 0x20) p++;
  const rest = v.slice(p);
  if (scheme.length <= 5 && 'basic'.startsWith(scheme)) {
    if (!B64_RE.test(rest)) return undefined;
    let dec = Buffer.from(rest, 'base64').toString('latin1');
    const nul = dec.indexOf('\0');
    if (nul >= 0) dec = dec.slice(0, nul);
    const colon = dec.indexOf(':');
    if (colon < 0) return undefined;
    return { type: 'Basic', user: dec.slice(0, colon), pass: dec.slice(colon + 1) };
  }
  if (scheme.length <= 6 && 'bearer'.startsWith(scheme)) return { type: 'Bearer', token: rest };
  return undefined;
}

interface Parsed { raw: string | undefined; auth: AuthData | undefined }
const parsedByReq = new WeakMap<HttpRequestHead, Parsed>();

/** The credentials of the request's Authorization header, parsed once per request head. */
export function requestAuth(ctx: SmpCtx): AuthData | undefined {
  const req = ctx.req;
  if (!req) return undefined;
  const raw = firstValue(req, 'authorization');
  const c = parsedByReq.get(req);
  if (c && c.raw === raw) return c.auth;
  const auth = parseAuthValue(raw);
  parsedByReq.set(req, { raw, auth });
  return auth;
}

/** The userlist a 'user list' argument names (resolved once, then kept on the reference). */
function userlistOf(ref: NameRef, ctx: SmpCtx): Userlist | undefined {
  if (ref.ref) return ref.ref as Userlist;
  const config = ctx.rt?.config;
  if (!config) return undefined;
  const ul = findUserlist(config, ref.name);
  if (ul) ref.ref = ul;
  return ul;
}

function basic(ctx: SmpCtx): { user: string; pass: string } | undefined {
  const a = requestAuth(ctx);
  return a && a.type === 'Basic' ? a : undefined;
}

/** The Basic user when its password is valid in the userlist. */
function validUser(args: any[], ctx: SmpCtx): string | undefined {
  const a = basic(ctx);
  if (!a) return undefined;
  const ul = userlistOf(args[0] as NameRef, ctx);
  if (!ul || !ul.check(a.user, a.pass)) return undefined;
  return a.user;
}

registerFetch('http_auth', {
  fn(args, ctx) {
    const a = basic(ctx);
    if (!a) return undefined;
    const ul = userlistOf(args[0] as NameRef, ctx);
    if (!ul) return undefined;
    return smpBool(ul.check(a.user, a.pass));
  },
});

registerFetch('http_auth_group', {
  // the user name, when valid
  fn(args, ctx) {
    const u = validUser(args, ctx);
    return u === undefined ? undefined : smpStr(u);
  },
  // for ACLs: the groups of the valid user, one value each, matched against the group names
  all(args, ctx) {
    const u = validUser(args, ctx);
    if (u === undefined) return undefined;
    const ul = userlistOf(args[0] as NameRef, ctx)!;
    const out: Sample[] = [];
    for (const g of ul.groupsOf(u)) out.push(smpStr(g));
    return out;
  },
});

registerFetch('http_auth_user', { fn: (_a, ctx) => { const a = basic(ctx); return a ? smpStr(a.user) : undefined; } });
registerFetch('http_auth_pass', { fn: (_a, ctx) => { const a = basic(ctx); return a ? smpStr(a.pass) : undefined; } });
registerFetch('http_auth_type', { fn: (_a, ctx) => { const a = requestAuth(ctx); return a ? smpStr(a.type) : undefined; } });

registerFetch('http_auth_bearer', {
  check(args) {
    // the header name is matched in lower case
    if (args.length > 0) args[0] = (args[0] as string).toLowerCase();
    return undefined;
  },
  fn(args, ctx) {
    let a: AuthData | undefined;
    if (args.length > 0 && args[0] !== '' && args[0] !== 'authorization') {
      if (!ctx.req) return undefined;
      a = parseAuthValue(firstValue(ctx.req, args[0] as string));
    } else {
      a = requestAuth(ctx);
    }
    return a && a.type === 'Bearer' ? smpStr(a.token) : undefined;
  },
});
