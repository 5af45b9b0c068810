// The `stats ...` proxy keywords of the HTTP statistics page (configuration.txt 4.2): enable,
// uri, realm, auth, refresh, admin, http-request, scope, hide-version, show-legends, show-node,
// show-desc. `stats show-modules` is refused (haproxy-ts has no extra statistics modules).
// The settings live in the proxy options so that a defaults section passes them on; a proxy
// changing one gets its own copy first.
import { registerProxy, registerPostParse, ALL, type ParseCtx } from '../registry/registry.js';
import type { ProxyConfig } from '../config/model.js';
import { parseCond, type Cond } from '../acl/acl.js';
import { USE } from '../sample/registry.js';
import { rulesOf } from '../actions/rules.js';
import { parseTime } from '../util/units.js';

export interface StatsRule {
  action: 'allow' | 'deny' | 'auth';
  realm?: string;
  cond?: Cond;
}

export interface StatsConfig {
  /** the proxy that owns this object (copy-on-write for inherited settings) */
  owner: ProxyConfig;
  enabled: boolean;
  uri: string;
  realm?: string;
  /** `stats auth` accounts, in declaration order */
  users: { user: string; pass: string }[];
  /** refresh interval in seconds, 0 when unset */
  refresh: number;
  admin: Cond[];
  rules: StatsRule[];
  /** proxy names allowed by `stats scope` ('.' is the stats proxy itself); empty: all */
  scope: string[];
  hideVersion: boolean;
  showLegends: boolean;
  /** `stats show-node [name]`: '' means the global node name */
  showNode?: string;
  /** `stats show-desc [text]`: '' means the global description */
  showDesc?: string;
  /**
   * haproxy-ts extension, `stats dashboard-uri <uri>`: the live dashboard's base path (no
   * trailing '/'), under the same access rules as the page (src/ops/dashboard.ts)
   */
  dashboard?: string;
  dashboardWhere?: string;
  /** where `stats auth`/`stats realm` and `stats http-request` were first seen (post-parse check) */
  authWhere?: string;
  rulesWhere?: string;
}

declare module '../config/model.js' {
  interface ProxyOptions {
    /** the statistics page settings (`stats ...` keywords) */
    statsPage?: StatsConfig;
  }
}

export const DEFAULT_STATS_URI = '/haproxy?stats';
export const DEFAULT_STATS_REALM = 'HAProxy Statistics';

/** The proxy's own stats settings, copied from the inherited ones on first change. */
function own(px: ProxyConfig): StatsConfig {
  const cur = px.options.statsPage;
  if (cur && cur.owner === px) return cur;
  const st: StatsConfig = cur
    ? { ...cur, owner: px, users: [...cur.users], admin: [...cur.admin], rules: [...cur.rules], scope: [...cur.scope] }
    : { owner: px, enabled: true, uri: DEFAULT_STATS_URI, users: [], refresh: 0, admin: [], rules: [], scope: [], hideVersion: false, showLegends: false };
  px.options.statsPage = st;
  return st;
}

/** The stats settings of a proxy when the page is enabled there. */
export function statsConfigOf(px: ProxyConfig): StatsConfig | undefined {
  const st = px.options.statsPage;
  return st && st.enabled ? st : undefined;
}

function condOf(words: string[], px: ProxyConfig, ctx: ParseCtx, what: string): Cond | undefined | null {
  if (!words.length) return undefined;
  try {
    return parseCond(words, {
      where: `${ctx.where.file}:${ctx.where.line}`, file: ctx.where.file, line: ctx.where.line, proxyName: px.name, aclName: '',
      acls: rulesOf(px).acls, use: USE.FE_HRQ_HDR, useLabel: 'frontend http-request header rule', warn: (m) => ctx.warn(m),
    });
  } catch (e) {
    ctx.alert(`error detected while parsing '${what}' condition : ${(e as Error).message}.`);
    return null;
  }
}

const SUBS = "'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc', 'show-legends', 'refresh' or 'http-request'";

function parseStats(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  const sub = args[1] ?? '';
  const where = `${ctx.where.file}:${ctx.where.line}`;
  const noDefaults = (kw: string): boolean => {
    if (px.kind !== 'defaults') return false;
    ctx.alert(`'${kw}' not allowed in 'defaults' section.`);
    return true;
  };
  switch (sub) {
    case 'enable': own(px).enabled = true; return;
    case 'uri': {
      if (!args[2]) { ctx.alert(`'uri' needs an URI prefix.`); return; }
      own(px).uri = args[2];
      return;
    }
    case 'dashboard-uri': {
      // haproxy-ts extension (HAProxy has no such keyword and rejects it)
      const u = args[2];
      if (!u || !u.startsWith('/') || /[?#;\s]/.test(u)) { ctx.alert(`'dashboard-uri' needs a path starting with '/' (no '?', '#' or ';').`); return; }
      const st = own(px);
      st.dashboard = u.length > 1 ? u.replace(/\/+$/, '') || '/' : u;
      st.dashboardWhere = where;
      return;
    }
    case 'realm': {
      if (!args[2]) { ctx.alert(`'realm' needs an realm name.`); return; }
      const st = own(px);
      st.realm = args[2];
      st.authWhere ??= where;
      return;
    }
    case 'auth': {
      if (!args[2]) { ctx.alert(`'auth' needs a user:password account.`); return; }
      const st = own(px);
      const i = args[2].indexOf(':');
      st.users.push(i < 0 ? { user: args[2], pass: '' } : { user: args[2].slice(0, i), pass: args[2].slice(i + 1) });
      st.authWhere ??= where;
      return;
    }
    case 'refresh': {
      const t = args[2] === undefined || args[2] === '' ? 'missing value' : parseTime(args[2], 's');
      if (typeof t === 'string') { ctx.alert(`'refresh' needs a valid time value (${t}).`); return; }
      own(px).refresh = Math.floor(t / 1000);
      return;
    }
    case 'scope': {
      if (!args[2]) { ctx.alert(`'scope' needs a proxy name.`); return; }
      own(px).scope.push(args[2]);
      return;
    }
    case 'hide-version': own(px).hideVersion = true; return;
    case 'show-legends': own(px).showLegends = true; return;
    case 'show-node': {
      const name = args[2] ?? '';
      if (name && !/^[A-Za-z0-9_.-]+$/.test(name)) { ctx.alert(`'show-node' : invalid character in node name '${name}'.`); return; }
      own(px).showNode = name;
      return;
    }
    case 'show-desc': {
      const text = args.slice(2).join(' ');
      own(px).showDesc = text;
      return;
    }
    case 'show-modules':
      ctx.alert(`'stats show-modules' is not supported yet by haproxy-ts.`);
      return;
    case 'admin': {
      if (noDefaults('stats admin')) return;
      if (args[2] !== 'if' && args[2] !== 'unless') { ctx.alert(`'stats admin' requires either 'if' or 'unless' followed by a condition.`); return; }
      const cond = condOf(args.slice(2), px, ctx, 'stats admin');
      if (!cond) return;
      own(px).admin.push(cond);
      return;
    }
    case 'http-request': {
      if (noDefaults('stats')) return;
      if (px.kind === 'frontend') { ctx.warn(`'stats http-request' ignored because frontend '${px.name}' has no backend capability.`); return; }
      const action = args[2];
      let i = 3;
      let realm: string | undefined;
      if (action !== 'allow' && action !== 'deny' && action !== 'auth') {
        ctx.alert(`'stats http-request' expects 'allow', 'deny' or 'auth' (got '${action ?? ''}').`);
        return;
      }
      if (action === 'auth' && args[i] === 'realm') {
        if (!args[i + 1]) { ctx.alert(`'stats http-request auth' : missing realm name.`); return; }
        realm = args[i + 1];
        i += 2;
      }
      if (args[i] !== undefined && args[i] !== 'if' && args[i] !== 'unless') {
        ctx.alert(`'stats http-request ${action}' expects either 'if' or 'unless' followed by a condition but found '${args[i]}'.`);
        return;
      }
      const cond = condOf(args.slice(i), px, ctx, `stats http-request ${action}`);
      if (cond === null) return;
      const st = own(px);
      st.rules.push({ action, realm, cond });
      st.rulesWhere ??= where;
      return;
    }
    default:
      ctx.alert(`unknown stats parameter '${sub}', expects ${SUBS}.`);
  }
}

registerProxy({ name: 'stats', caps: ALL, parse: parseStats });

registerPostParse((config, post) => {
  for (const px of config.proxies) {
    const st = px.options.statsPage;
    if (!st || !st.enabled) continue;
    if (st.rules.length && (st.users.length || st.realm !== undefined) && st.owner === px) {
      post.alert(`proxy '${px.name}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.`);
    }
    if (st.dashboard !== undefined && st.owner === px && dashboardCovers(st.dashboard, st.uri)) {
      post.alert(`parsing [${st.dashboardWhere ?? ''}] : proxy '${px.name}': 'stats dashboard-uri ${st.dashboard}' would hide the stats page at '${st.uri}'.`);
    }
  }
});

/** Whether a request for `uri` (path part) is one for the dashboard at base path `base`. */
export function dashboardCovers(base: string, uri: string): boolean {
  const q = uri.search(/[?#;]/);
  const path = q < 0 ? uri : uri.slice(0, q);
  if (base === '/') return true;
  return path === base || path.startsWith(`${base}/`);
}
