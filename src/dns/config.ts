// Configuration of run-time name resolution (configuration.txt 5.3): the `resolvers` section
// and the server keywords resolvers / resolve-prefer / resolve-net / resolve-opts / init-addr.
import fs from 'node:fs';
import { isIP } from 'node:net';
import { registerSection, registerServer, registerPostParse, type ParseCtx } from '../registry/registry.js';
import type { Config, Where } from '../config/model.js';
import { parseTime, parseUint } from '../util/units.js';

export interface NameserverConfig {
  name: string;
  host: string;
  port: number;
  /** stream nameserver (tcp@, tcp4@, tcp6@): DNS over TCP with a 2-byte length prefix */
  tcp?: boolean;
  where: Where;
}

export type HoldKind = 'valid' | 'nx' | 'other' | 'refused' | 'timeout' | 'obsolete';

export interface ResolversConfig {
  name: string;
  where: Where;
  nameservers: NameserverConfig[];
  resolveRetries: number;
  /** ms */
  timeoutResolve: number;
  timeoutRetry: number;
  hold: Record<HoldKind, number>;
  acceptedPayloadSize: number;
  /** created automatically from /etc/resolv.conf (the "default" section) */
  implicit?: boolean;
}

export interface InitAddrMethod { kind: 'last' | 'libc' | 'none' | 'ip'; ip?: string }

export interface ServerResolveOptions {
  resolvers?: string;
  prefer?: 'ipv4' | 'ipv6';
  /** networks as [address text, prefix length] */
  nets?: [string, number][];
  allowDupIp?: boolean;
  ignoreWeight?: boolean;
  initAddr?: InitAddrMethod[];
}

declare module '../config/model.js' {
  interface Config {
    /** `resolvers` sections by name */
    resolvers?: Map<string, ResolversConfig>;
  }
  interface ServerOptions {
    /** run-time DNS resolution settings (src/dns/) */
    dns?: ServerResolveOptions;
  }
  interface ServerConfig {
    /** init-addr none left the server without an address: it starts in maintenance */
    noInitAddr?: boolean;
  }
}

export function newResolversConfig(name: string, where: Where): ResolversConfig {
  return {
    name, where, nameservers: [], resolveRetries: 3, timeoutResolve: 1000, timeoutRetry: 1000,
    hold: { valid: 10_000, nx: 30_000, other: 30_000, refused: 30_000, timeout: 30_000, obsolete: 0 },
    acceptedPayloadSize: 512,
  };
}

/** Nameserver addresses listed in a resolv.conf text (port 53). */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** "ip:port", "[ipv6]:port", "ipv4@ip:port", "udp@...": host and port, or an error text. */
export function parseNameserverAddress(text: string): { host: string; port: number; tcp?: boolean } | string {
  let t = text;
  let tcp = false;
  let fam = 0;
  const pfx = /^([a-z0-9]+)@/.exec(t);
  if (pfx) {
    const p = pfx[1]!;
    if (p === 'ssl') return `TLS nameservers ('ssl@') are not supported yet by haproxy-ts`;
    if (!['udp', 'udp4', 'udp6', 'ipv4', 'ipv6', 'tcp', 'tcp4', 'tcp6'].includes(p)) return `unsupported address family '${p}@' for a nameserver`;
    tcp = p.startsWith('tcp');
    fam = p.endsWith('4') ? 4 : p.endsWith('6') ? 6 : 0;
    t = t.slice(pfx[0].length);
  }
  let host: string, portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (v6) { host = v6[1]!; portText = v6[2]; } else {
    const i = t.lastIndexOf(':');
    if (i >= 0 && t.indexOf(':') === i) { host = t.slice(0, i); portText = t.slice(i + 1); } else { host = t; portText = undefined; }
  }
  if (!isIP(host)) return `invalid address '${text}'`;
  if (fam && isIP(host) !== fam) return `address '${host}' does not match the family of '${pfx![1]}@'`;
  const port = portText === undefined || portText === '' ? 53 : parseUint(portText);
  if (port === undefined || port < 1 || port > 65535) return `invalid port in '${text}'`;
  return tcp ? { host, port, tcp } : { host, port };
}

function all(config: Config): Map<string, ResolversConfig> {
  config.resolvers ??= new Map();
  return config.resolvers;
}
const current = new WeakMap<Config, ResolversConfig>();

const HOLDS: HoldKind[] = ['valid', 'nx', 'other', 'refused', 'timeout', 'obsolete'];

registerSection({
  name: 'resolvers',
  start(args, ctx, config) {
    const at = `parsing [${ctx.where.file}:${ctx.where.line}]`;
    const name = args[1];
    if (!name) { ctx.alert(`${at} : missing name for resolvers section.`); return false; }
    if (args.length > 2) { ctx.alert(`${at} : 'resolvers' takes a single name (got '${args[2]}').`); return false; }
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) { ctx.alert(`${at} : invalid resolvers name '${name}'.`); return false; }
    const prev = all(config).get(name);
    if (prev) {
      ctx.alert(`${at} : resolvers '${name}' has the same name as another resolvers section declared at ${prev.where.file}:${prev.where.line}.`);
      return false;
    }
    const r = newResolversConfig(name, ctx.where);
    all(config).set(name, r);
    current.set(config, r);
    return true;
  },
  line(args, ctx, config) {
    const r = current.get(config);
    if (!r) return;
    const at = `parsing [${ctx.where.file}:${ctx.where.line}]`;
    const kw = args[0]!;
    const addNs = (name: string, host: string, port: number, tcp?: boolean): void => {
      const dup = r.nameservers.find((n) => n.name === name);
      if (dup) { ctx.alert(`${at} : nameserver '${name}' has the same name as another nameserver declared at ${dup.where.file}:${dup.where.line}.`); return; }
      r.nameservers.push(tcp ? { name, host, port, tcp, where: ctx.where } : { name, host, port, where: ctx.where });
    };
    switch (kw) {
      case 'nameserver': {
        if (args.length < 3) { ctx.alert(`${at} : '${kw}' expects <name> and <addr>[:<port>] as arguments.`); return; }
        if (args.length > 3) { ctx.alert(`${at} : nameserver parameters ('${args[3]}') are not supported yet by haproxy-ts.`); return; }
        const a = parseNameserverAddress(args[2]!);
        if (typeof a === 'string') { ctx.alert(`${at} : '${kw} ${args[1]}' : ${a}.`); return; }
        addNs(args[1]!, a.host, a.port, a.tcp);
        return;
      }
      case 'parse-resolv-conf': {
        let text = '';
        try { text = fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch (e) {
          ctx.alert(`${at} : failed to open /etc/resolv.conf: ${(e as Error).message}.`);
          return;
        }
        for (const ip of resolvConfNameservers(text)) addNs(ip, ip, 53);
        return;
      }
      case 'resolve_retries': {
        const n = parseUint(args[1]);
        if (n === undefined || n < 1) { ctx.alert(`${at} : '${kw}' expects a positive integer argument.`); return; }
        r.resolveRetries = n;
        return;
      }
      case 'accepted_payload_size': {
        const n = parseUint(args[1]);
        if (n === undefined || n < 512 || n > 65535) { ctx.alert(`${at} : '${kw}' expects a value between 512 and 65535.`); return; }
        r.acceptedPayloadSize = n;
        return;
      }
      case 'timeout': {
        const ev = args[1];
        if (ev !== 'resolve' && ev !== 'retry') { ctx.alert(`${at} : 'timeout' supports 'resolve' and 'retry' (got '${ev ?? ''}').`); return; }
        if (args[2] === undefined) { ctx.alert(`${at} : 'timeout ${ev}' expects <time> as argument.`); return; }
        const ms = parseTime(args[2]);
        if (typeof ms === 'string') { ctx.alert(`${at} : 'timeout ${ev}' : ${ms}.`); return; }
        if (ms === 0) { ctx.alert(`${at} : 'timeout ${ev}' must be greater than zero.`); return; }
        if (ev === 'resolve') r.timeoutResolve = ms; else r.timeoutRetry = ms;
        return;
      }
      case 'hold': {
        const st = args[1] as HoldKind;
        if (!HOLDS.includes(st)) { ctx.alert(`${at} : 'hold' expects one of ${HOLDS.map((h) => `'${h}'`).join(', ')} (got '${args[1] ?? ''}').`); return; }
        if (args[2] === undefined) { ctx.alert(`${at} : 'hold ${st}' expects <time> as argument.`); return; }
        const ms = parseTime(args[2]);
        if (typeof ms === 'string') { ctx.alert(`${at} : 'hold ${st}' : ${ms}.`); return; }
        r.hold[st] = ms;
        return;
      }
      default:
        ctx.alert(`${at} : unknown keyword '${kw}' in 'resolvers' section`);
    }
  },
});

function dns(s: { dns?: ServerResolveOptions }): ServerResolveOptions {
  s.dns ??= {};
  return s.dns;
}

function parseNet(text: string): [string, number] | undefined {
  const [addr, len] = text.split('/');
  const fam = isIP(addr ?? '');
  if (!fam) return undefined;
  const max = fam === 4 ? 32 : 128;
  let n = max;
  if (len !== undefined) {
    if (/^\d+$/.test(len)) n = Number(len);
    else if (fam === 4 && isIP(len) === 4) {
      // dotted mask: count the leading one bits (must be contiguous)
      const v = len.split('.').reduce((a, x) => (a << 8) | Number(x), 0) >>> 0;
      n = 0;
      while (n < 32 && (v & (0x80000000 >>> n)) !== 0) n++;
      if (((v << n) >>> 0) !== 0 && n < 32) return undefined;
    } else return undefined;
  }
  if (n > max) return undefined;
  return [addr!, n];
}

registerServer(
  {
    name: 'resolvers', args: 1, inDefaultServer: true,
    parse(a, s) { dns(s).resolvers = a[1]!; },
  },
  {
    name: 'resolve-prefer', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      if (a[1] !== 'ipv4' && a[1] !== 'ipv6') { ctx.alert(`'resolve-prefer' : unsupported family '${a[1]}'. Supported values are 'ipv4' and 'ipv6'.`); return; }
      dns(s).prefer = a[1];
    },
  },
  {
    name: 'resolve-net', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const nets: [string, number][] = [];
      for (const t of a[1]!.split(',')) {
        const n = parseNet(t);
        if (!n) { ctx.alert(`'resolve-net' : invalid network '${t}'.`); return; }
        nets.push(n);
      }
      dns(s).nets = nets;
    },
  },
  {
    name: 'resolve-opts', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const d = dns(s);
      for (const o of a[1]!.split(',')) {
        if (o === 'allow-dup-ip') d.allowDupIp = true;
        else if (o === 'prevent-dup-ip') d.allowDupIp = false;
        else if (o === 'ignore-weight') d.ignoreWeight = true;
        else { ctx.alert(`'resolve-opts' : unknown option '${o}'. Supported options are 'allow-dup-ip', 'ignore-weight', and 'prevent-dup-ip'.`); return; }
      }
    },
  },
  {
    name: 'init-addr', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const methods: InitAddrMethod[] = [];
      for (const m of a[1]!.split(',')) {
        if (m === 'last' || m === 'libc' || m === 'none') methods.push({ kind: m });
        else if (isIP(m)) methods.push({ kind: 'ip', ip: m });
        else { ctx.alert(`'init-addr' : unknown method '${m}', supported methods are 'libc', 'last', 'none'.`); return; }
      }
      dns(s).initAddr = methods;
    },
  },
);

/** HAProxy creates a "default" resolvers section from /etc/resolv.conf when none has that name. */
function addImplicitDefault(config: Config): void {
  const m = all(config);
  if (m.has('default')) return;
  let text: string;
  try { text = fs.readFileSync('/etc/resolv.conf', 'utf8'); } catch { return; }
  const r = newResolversConfig('default', { file: '', line: 0 });
  r.implicit = true;
  for (const ip of resolvConfNameservers(text)) r.nameservers.push({ name: ip, host: ip, port: 53, where: r.where });
  if (!r.nameservers.length) return;
  m.set('default', r);
}

registerPostParse((config, ctx) => {
  for (const r of config.resolvers?.values() ?? []) {
    if (!r.nameservers.length) ctx.alert(`resolvers '${r.name}' declared at ${r.where.file}:${r.where.line} has no nameserver configured.`);
  }
  addImplicitDefault(config);
  for (const px of config.proxies) {
    for (const s of px.servers) {
      const name = s.dns?.resolvers;
      if (name === undefined) continue;
      if (!config.resolvers?.has(name)) {
        ctx.alert(`parsing [${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}' : unable to find required resolvers '${name}'.`);
        continue;
      }
      if (s.address.family === 'unix' || s.address.family === 'abns') ctx.alert(`parsing [${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}' : 'resolvers' needs a host name or an IP address.`);
    }
  }
});

/**
 * How a server's address is set at start-up when the configuration gives a host name
 * (init-addr; default "last,libc"): returns the steps to try in order.
 */
export function initAddrMethods(s: { dns?: ServerResolveOptions }): InitAddrMethod[] {
  return s.dns?.initAddr ?? [{ kind: 'last' }, { kind: 'libc' }];
}

/** For messages: "parsing [file:line]". */
export function at(ctx: ParseCtx): string { return `parsing [${ctx.where.file}:${ctx.where.line}]`; }

/**
 * Start-up address of a server given by host name, following its init-addr methods: returns
 * true when one worked (setting `resolved`, or `noInitAddr` for `none`). `libc` is the
 * system resolver (passed in). `last` (the server-state file) is not supported: it never works.
 */
export async function applyInitAddr(
  s: { dns?: ServerResolveOptions; resolved?: string; noInitAddr?: boolean; address: { host: string; family: string } },
  libc: (host: string, family: number) => Promise<string>,
): Promise<boolean> {
  const fam = s.address.family === 'ipv4' ? 4 : s.address.family === 'ipv6' ? 6 : 0;
  for (const m of initAddrMethods(s)) {
    switch (m.kind) {
      case 'last': break;
      case 'libc':
        try { s.resolved = await libc(s.address.host, fam); return true; } catch { break; }
      case 'none': s.noInitAddr = true; return true;
      case 'ip': s.resolved = m.ip!; return true;
    }
  }
  return false;
}
