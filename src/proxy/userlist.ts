// `userlist` sections (configuration.txt 12.2): users with a password (crypt(3) hash or clear
// text) and groups, for the http_auth* fetches and `http-request auth` / stats authentication.
//
// Behaviour settled against HAProxy 2.6:
// - a duplicated userlist, group or user is ignored with a warning; the lines after a duplicated
//   `userlist` header go to the userlist declared last (HAProxy keeps appending to its newest
//   list);
// - group memberships may be given on either side (`group G users a,b` or `user a groups G`);
//   names given on either side must exist in the same userlist, checked once the whole
//   configuration is read (alerts without a file position, as HAProxy prints them);
// - a user without a password never authenticates (HAProxy 2.6 crashes on one).
// User names and passwords are compared as bytes: the configuration's UTF-8 text is turned into
// one char per byte, the way the Authorization header's decoded credentials are kept.
import { registerSection, registerPostParse } from '../registry/registry.js';
import type { Config, Where } from '../config/model.js';
import { cryptScheme, cryptSupported, verifyPasswordCached, safeEqual } from '../util/crypt.js';

declare module '../config/model.js' {
  interface Config {
    /** userlist sections by name (set when at least one is declared) */
    userlists?: Map<string, Userlist>;
  }
}

export interface UserEntry {
  /** the name as bytes (one char per byte) */
  name: string;
  /** the password as bytes; a crypt(3) hash unless `insecure` */
  pass: string | undefined;
  insecure: boolean;
  /** group names from the `groups` option, checked after parsing */
  groupNames: string[];
  /** every group the user belongs to (both directions), filled after parsing */
  groups: string[];
  where: Where;
}

export interface GroupEntry {
  name: string;
  /** user names (as bytes) from the `users` option, checked after parsing */
  userNames: string[];
  where: Where;
}

/** Configuration text (UTF-8 decoded) to one char per byte. */
function bytes(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

export class Userlist {
  readonly name: string;
  readonly where: Where;
  readonly users = new Map<string, UserEntry>();
  readonly groups = new Map<string, GroupEntry>();

  constructor(name: string, where: Where) {
    this.name = name;
    this.where = where;
  }

  /**
   * True when `user` exists and `pass` is its password. Both are byte strings (one char per
   * byte), as decoded from an Authorization header. Hashed passwords go through crypt(3)'s
   * algorithms (with a cache of successful checks, see verifyPasswordCached).
   */
  check(user: string, pass: string): boolean {
    const u = this.users.get(user);
    if (!u || u.pass === undefined) return false;
    if (u.insecure) return safeEqual(pass, u.pass);
    return verifyPasswordCached(pass, u.pass);
  }

  /** The groups of a user, in declaration order of the groups; empty for an unknown user. */
  groupsOf(user: string): string[] {
    return this.users.get(user)?.groups ?? [];
  }

  /** True when the user belongs to the group (or to any of the groups given). */
  hasGroup(user: string, ...groups: string[]): boolean {
    const g = this.users.get(user)?.groups;
    if (!g) return false;
    for (const x of groups) if (g.includes(x)) return true;
    return false;
  }

  /** True when a group of that name is declared. */
  hasGroupNamed(group: string): boolean { return this.groups.has(group); }
}

/** The userlist of that name, if declared. */
export function findUserlist(config: Pick<Config, 'userlists'>, name: string): Userlist | undefined {
  return config.userlists?.get(name);
}

/** Userlists in declaration order, the most recent last. */
function lists(config: Config): Map<string, Userlist> {
  if (!config.userlists) config.userlists = new Map();
  return config.userlists;
}

/** The userlist user/group lines go to (the one declared last), per configuration. */
const currentByConfig = new WeakMap<Config, Userlist>();

function splitNames(s: string | undefined): string[] {
  if (!s) return [];
  return s.split(',').filter((x) => x !== '');
}

registerSection({
  name: 'userlist',
  start(args, ctx, config) {
    const name = args[1];
    if (!name) { ctx.alert(`parsing [${ctx.where.file}:${ctx.where.line}]: 'userlist' expects <name> as arguments.`); return false; }
    const all = lists(config);
    if (all.has(name)) {
      ctx.warn(`parsing [${ctx.where.file}:${ctx.where.line}]: ignoring duplicated userlist '${name}'.`);
      // the lines that follow still go to the newest userlist, as in HAProxy
      return currentByConfig.has(config);
    }
    const ul = new Userlist(name, ctx.where);
    all.set(name, ul);
    currentByConfig.set(config, ul);
    return true;
  },
  line(args, ctx, config) {
    const ul = currentByConfig.get(config);
    if (!ul) return;
    const kw = args[0]!;
    const at = `parsing [${ctx.where.file}:${ctx.where.line}]`;
    if (kw === 'group') {
      const name = args[1];
      if (!name) { ctx.alert(`${at}: 'group' expects <name> as arguments.`); return; }
      if (ul.groups.has(name)) { ctx.warn(`${at}: ignoring duplicated group '${name}' in userlist '${ul.name}'.`); return; }
      const g: GroupEntry = { name, userNames: [], where: ctx.where };
      for (let i = 2; i < args.length; i += 2) {
        if (args[i] === 'users') { g.userNames.push(...splitNames(args[i + 1]).map(bytes)); continue; }
        ctx.alert(`${at}: 'group' only supports 'users' option.`);
        return;
      }
      ul.groups.set(name, g);
      return;
    }
    if (kw === 'user') {
      const raw = args[1];
      if (!raw) { ctx.alert(`${at}: 'user' expects <name> as arguments.`); return; }
      const name = bytes(raw);
      if (ul.users.has(name)) { ctx.warn(`${at}: ignoring duplicated user '${raw}' in userlist '${ul.name}'.`); return; }
      const u: UserEntry = { name, pass: undefined, insecure: false, groupNames: [], groups: [], where: ctx.where };
      for (let i = 2; i < args.length; i += 2) {
        const opt = args[i];
        const val = args[i + 1];
        if (opt === 'password' || opt === 'insecure-password') {
          if (val === undefined) { ctx.alert(`${at}: '${opt}' expects a password as argument.`); return; }
          u.pass = bytes(val);
          u.insecure = opt === 'insecure-password';
          if (!u.insecure && !cryptSupported(val)) {
            // HAProxy hands the string to the system's crypt(3); haproxy-ts computes the
            // schemes listed in src/util/crypt.ts and refuses the others rather than
            // letting every login fail
            const scheme = /^\$[^$]*\$/.exec(val)?.[0];
            ctx.alert(`${at}: the encrypted password used for user '${raw}' is not supported by haproxy-ts${scheme && !cryptScheme(val) ? ` (hash type '${scheme}')` : ''}; supported: $1$, $5$, $6$, $2a$/$2b$/$2y$/$2x$${cryptScheme('ab') === 'des' ? ' and DES' : ''}.`);
            return;
          }
          continue;
        }
        if (opt === 'groups') { u.groupNames.push(...splitNames(val)); continue; }
        ctx.alert(`${at}: 'user' only supports 'password', 'insecure-password' and 'groups' options.`);
        return;
      }
      ul.users.set(name, u);
      return;
    }
    ctx.alert(`${at}: unknown keyword '${kw}' in 'users' section`);
  },
});

/** Resolves group memberships in both directions; reports unknown names. */
export function resolveUserlist(ul: Userlist, alert: (msg: string) => void): void {
  const members = new Map<string, Set<string>>();
  for (const g of ul.groups.values()) members.set(g.name, new Set());
  for (const u of ul.users.values()) {
    for (const gn of u.groupNames) {
      const m = members.get(gn);
      if (!m) { alert(`userlist '${ul.name}': no such group '${gn}' specified in user '${u.name}'`); continue; }
      m.add(u.name);
    }
  }
  for (const g of ul.groups.values()) {
    for (const un of g.userNames) {
      if (!ul.users.has(un)) { alert(`userlist '${ul.name}': no such user '${un}' specified in group '${g.name}'`); continue; }
      members.get(g.name)!.add(un);
    }
  }
  for (const u of ul.users.values()) {
    u.groups = [];
    for (const g of ul.groups.values()) if (members.get(g.name)!.has(u.name)) u.groups.push(g.name);
  }
}

registerPostParse((config, ctx) => {
  if (!config.userlists) return;
  for (const ul of config.userlists.values()) resolveUserlist(ul, (m) => ctx.alert(m));
});

/**
 * Configuration-time check for an ACL on http_auth_group(<userlist>): it needs at least one
 * group, and every group must exist in the userlist. Returns the end of HAProxy's message
 * ("proxy <px>: acl <name> http_auth_group(): " goes before it), or undefined when valid.
 */
export function checkAuthGroupPatterns(ul: Userlist, patterns: readonly string[]): string | undefined {
  if (patterns.length === 0) return 'no groups specified.';
  for (const p of patterns) if (!ul.groups.has(p)) return `invalid group '${p}'.`;
  return undefined;
}

/**
 * Resolves a 'user list' argument once the configuration is parsed (sets ref.ref). Returns
 * HAProxy's message when the userlist does not exist, e.g. for an ACL keyword:
 * "parsing [f:7]: unable to find userlist 'L9' referenced in arg 1 of ACL keyword 'http_auth' in
 * proxy 'f'." (`what` is "ACL keyword" or "sample fetch", `where` "f:7").
 */
export function resolveUserlistRef(ref: { name: string; ref?: unknown }, config: Pick<Config, 'userlists'>,
  kw: string, where: string, what = 'sample fetch', proxyName?: string, argPos = 1): string | undefined {
  const ul = findUserlist(config, ref.name);
  if (ul) { ref.ref = ul; return undefined; }
  return `parsing [${where}]: unable to find userlist '${ref.name}' referenced in arg ${argPos} of ${what} '${kw}'${proxyName ? ` in proxy '${proxyName}'` : ''}.`;
}
