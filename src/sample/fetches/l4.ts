// Layer-4 sample fetches (configuration.txt 7.3.3): addresses and ports on both sides, the
// listening socket, the PROXY protocol header received, proxy/server identities and timeouts,
// byte counts and dates. The TCP_INFO ones (fc_rtt, bc_rtt ...) are in tcpinfo.ts.
import os from 'node:os';
import { registerFetch, registerFetches } from '../registry.js';
import { addrSample, parseIpv4, parseIpv6, smpBool, smpInt, smpStr, type Sample } from '../types.js';
import type { ConnInfo, SmpCtx } from '../context.js';
import { PP2_TYPE, PP2_SUBTYPE_SSL, type ProxyInfo } from '../../net/proxy-protocol.js';
import { dateIn, unitArgCheck, type TimeUnit } from './refs.js';
import './stream-state.js';

/* ---------------------------------------------------------------- addresses */

function srcOf(ctx: SmpCtx): { a: string; p: number } { const s = ctx.streamAddr; return s ? { a: s.src, p: s.srcPort } : { a: ctx.conn.src, p: ctx.conn.srcPort }; }
function dstOf(ctx: SmpCtx): { a: string; p: number } { const s = ctx.streamAddr; return s ? { a: s.dst, p: s.dstPort } : { a: ctx.conn.dst, p: ctx.conn.dstPort }; }

/** The port of an IP endpoint (fails on UNIX sockets, whose address is not an IP). */
function portSample(a: string, p: number): Sample | undefined {
  return addrSample(a) ? smpInt(p) : undefined;
}

/** True when the listening socket is a UNIX one (its peers are local by definition). */
function unixListener(ctx: SmpCtx): boolean {
  const f = ctx.listener?.cfg.address.family;
  return f === 'unix' || f === 'abns';
}

interface LocalNet { v4: boolean; addr: Buffer; prefix: number }
let localNets: LocalNet[] = [];
let localNetsAt = 0;

/** Addresses of this system; a loopback interface owns its whole network (127.0.0.0/8). */
function loadLocalNets(): LocalNet[] {
  const now = Date.now();
  if (now - localNetsAt < 1000 && localNetsAt) return localNets;
  const out: LocalNet[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const ni of list ?? []) {
      const v4 = ni.family === 'IPv4';
      const a = v4 ? parseIpv4(ni.address) : parseIpv6(ni.address.split('%')[0]!);
      if (a === undefined) continue;
      const addr = typeof a === 'number' ? Buffer.from([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]) : a;
      const cidr = ni.cidr ? Number(ni.cidr.slice(ni.cidr.indexOf('/') + 1)) : v4 ? 32 : 128;
      out.push({ v4, addr, prefix: ni.internal ? cidr : v4 ? 32 : 128 });
    }
  }
  localNets = out;
  localNetsAt = now;
  return out;
}

function matchPrefix(a: Buffer, b: Buffer, prefix: number): boolean {
  let i = 0;
  for (; prefix >= 8; prefix -= 8, i++) if (a[i] !== b[i]) return false;
  if (prefix === 0) return true;
  const m = (0xff << (8 - prefix)) & 0xff;
  return (a[i]! & m) === (b[i]! & m);
}

/** Whether an address belongs to this system; undefined for a non-IP address off a UNIX socket. */
export function isLocalAddress(text: string, ctx: SmpCtx): boolean | undefined {
  const s = addrSample(text);
  if (!s) return unixListener(ctx) ? true : undefined;
  let bytes: Buffer;
  const v4 = s.t === 'ipv4';
  if (v4) { const n = s.v as number; bytes = Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]); }
  else bytes = s.v as Buffer;
  for (const n of loadLocalNets()) {
    if (n.v4 !== v4) continue;
    if (matchPrefix(bytes, n.addr, n.prefix)) return true;
  }
  return false;
}

function boolOrNone(b: boolean | undefined): Sample | undefined { return b === undefined ? undefined : smpBool(b); }

registerFetches({
  src: (_a, ctx) => addrSample(srcOf(ctx).a),
  src_port: (_a, ctx) => { const e = srcOf(ctx); return portSample(e.a, e.p); },
  src_is_local: (_a, ctx) => boolOrNone(isLocalAddress(srcOf(ctx).a, ctx)),
  dst: (_a, ctx) => addrSample(dstOf(ctx).a),
  dst_port: (_a, ctx) => { const e = dstOf(ctx); return portSample(e.a, e.p); },
  dst_is_local: (_a, ctx) => boolOrNone(isLocalAddress(dstOf(ctx).a, ctx)),
  fc_src: (_a, ctx) => addrSample(ctx.conn.src),
  fc_src_port: (_a, ctx) => portSample(ctx.conn.src, ctx.conn.srcPort),
  fc_src_is_local: (_a, ctx) => boolOrNone(isLocalAddress(ctx.conn.src, ctx)),
  fc_dst: (_a, ctx) => addrSample(ctx.conn.dst),
  fc_dst_port: (_a, ctx) => portSample(ctx.conn.dst, ctx.conn.dstPort),
  fc_dst_is_local: (_a, ctx) => boolOrNone(isLocalAddress(ctx.conn.dst, ctx)),
  dst_conn: (_a, ctx) => (ctx.listener ? smpInt(ctx.listener.cur) : undefined),
  so_id: (_a, ctx) => (ctx.listener ? smpInt(ctx.listener.id) : undefined),
  so_name: (_a, ctx) => { const n = ctx.listener?.cfg.name; return n === undefined ? undefined : smpStr(n); },
  // HTTP/2 is not spoken on the wire here: HTTP connections are HTTP/1; raw TCP has no version
  fc_http_major: (_a, ctx) => {
    const v = ctx.stream?.cliHttpMajor ?? (ctx.fe?.mode === 'http' ? 1 : undefined);
    return v === undefined ? undefined : smpInt(v);
  },
});

/* ---------------------------------------------------------------- PROXY protocol */

function firstTlv(info: ProxyInfo | undefined, type: number): Buffer | undefined {
  if (!info) return undefined;
  for (const t of info.tlvs) if (t.type === type) return t.value;
  return undefined;
}

/** Every value of TLV `type`, in header order; SSL sub-types are looked up in SSL TLVs. */
function allTlvs(info: ProxyInfo, type: number): Buffer[] {
  const out: Buffer[] = [];
  const sub = type >= PP2_SUBTYPE_SSL.VERSION && type <= PP2_SUBTYPE_SSL.KEY_ALG;
  for (const t of info.tlvs) {
    if (!sub) { if (t.type === type) out.push(t.value); continue; }
    if (t.type !== PP2_TYPE.SSL) continue;
    // client (1 byte) and verify (4 bytes), then sub-TLVs: type, 16-bit length, value
    const v = t.value;
    for (let p = 5; p + 3 <= v.length;) {
      const len = v.readUInt16BE(p + 1);
      if (p + 3 + len > v.length) break;
      if (v[p] === type) out.push(v.subarray(p + 3, p + 3 + len));
      p += 3 + len;
    }
  }
  return out;
}

const TLV_NAMES: Record<string, number> = {
  ALPN: PP2_TYPE.ALPN, AUTHORITY: PP2_TYPE.AUTHORITY, CRC32: PP2_TYPE.CRC32C, NETNS: PP2_TYPE.NETNS,
  NOOP: PP2_TYPE.NOOP, SSL: PP2_TYPE.SSL, SSL_CIPHER: PP2_SUBTYPE_SSL.CIPHER, SSL_CN: PP2_SUBTYPE_SSL.CN,
  SSL_KEY_ALG: PP2_SUBTYPE_SSL.KEY_ALG, SSL_SIG_ALG: PP2_SUBTYPE_SSL.SIG_ALG,
  SSL_VERSION: PP2_SUBTYPE_SSL.VERSION, UNIQUE_ID: PP2_TYPE.UNIQUE_ID,
};

registerFetches({
  fc_rcvd_proxy: (_a, ctx) => smpBool(ctx.proxyInfo !== undefined),
  fc_pp_authority: (_a, ctx) => { const v = firstTlv(ctx.proxyInfo, PP2_TYPE.AUTHORITY); return v ? smpStr(v.toString('latin1')) : undefined; },
  fc_pp_unique_id: (_a, ctx) => { const v = firstTlv(ctx.proxyInfo, PP2_TYPE.UNIQUE_ID); return v ? smpStr(v.toString('latin1')) : undefined; },
});

registerFetch('fc_pp_tlv', {
  check: (args) => {
    const a = args[0] as string;
    let id: number | undefined;
    if (/^[0-9]+$/.test(a)) id = Number(a);
    else if (/^0x[0-9a-fA-F]+$/.test(a)) id = parseInt(a.slice(2), 16);
    else id = TLV_NAMES[a];
    if (id === undefined || id > 255) return `invalid TLV ID '${a}' (expected a number between 0 and 255 or a TLV name)`;
    args[0] = id;
    return undefined;
  },
  fn: (args, ctx) => {
    if (!ctx.proxyInfo) return undefined;
    const v = allTlvs(ctx.proxyInfo, args[0] as number);
    return v.length ? smpStr(v[0]!.toString('latin1')) : undefined;
  },
  all: (args, ctx) => {
    if (!ctx.proxyInfo) return undefined;
    const v = allTlvs(ctx.proxyInfo, args[0] as number);
    return v.length ? v.map((b) => smpStr(b.toString('latin1'))) : undefined;
  },
});

/* ---------------------------------------------------------------- server side connection */

/** Connection error names and messages, by code (the table of fc_err_str). */
const CONN_ERRORS: readonly (readonly [string, string])[] = [
  ['-', 'Success'],
  ['CONF_FDLIM', 'Reached configured maxconn value'],
  ['PROC_FDLIM', 'Too many sockets on the process'],
  ['SYS_FDLIM', 'Too many sockets on the system'],
  ['SYS_MEMLIM', 'Out of system buffers'],
  ['NOPROTO', 'Protocol or address family not supported'],
  ['SOCK_ERR', 'General socket error'],
  ['PORT_RANGE', 'Source port range exhausted'],
  ['CANT_BIND', "Can't bind to source address"],
  ['FREE_PORTS', 'Out of local source ports on the system'],
  ['ADDR_INUSE', 'Local source address already in use'],
  ['PRX_EMPTY', 'Connection closed while waiting for PROXY protocol header'],
  ['PRX_ABORT', 'Connection error while waiting for PROXY protocol header'],
  ['PRX_TIMEOUT', 'Timeout while waiting for PROXY protocol header'],
  ['PRX_TRUNCATED', 'Truncated PROXY protocol header received'],
  ['PRX_NOT_HDR', 'Received something which does not look like a PROXY protocol header'],
  ['PRX_BAD_HDR', 'Received an invalid PROXY protocol header'],
  ['PRX_BAD_PROTO', 'Received an unhandled protocol in the PROXY protocol header'],
  ['CIP_EMPTY', 'Connection closed while waiting for NetScaler Client IP header'],
  ['CIP_ABORT', 'Connection error while waiting for NetScaler Client IP header'],
  ['CIP_TIMEOUT', 'Timeout while waiting for a NetScaler Client IP header'],
  ['CIP_TRUNCATED', 'Truncated NetScaler Client IP header received'],
  ['CIP_BAD_MAGIC', 'Received an invalid NetScaler Client IP magic number'],
  ['CIP_BAD_PROTO', 'Received an unhandled protocol in the NetScaler Client IP header'],
  ['SSL_EMPTY', 'Connection closed during SSL handshake'],
  ['SSL_ABORT', 'Connection error during SSL handshake'],
  ['SSL_TIMEOUT', 'Timeout during SSL handshake'],
  ['SSL_TOO_MANY', 'Too many SSL connections'],
  ['SSL_NO_MEM', 'Out of memory when initializing an SSL connection'],
  ['SSL_RENEG', 'Rejected a client-initiated SSL renegotiation attempt'],
  ['SSL_CA_FAIL', 'SSL client CA chain cannot be verified'],
  ['SSL_CRT_FAIL', 'SSL client certificate not trusted'],
  ['SSL_MISMATCH', 'Server presented an SSL certificate different from the configured one'],
  ['SSL_MISMATCH_SNI', 'Server presented an SSL certificate different from the expected one'],
  ['SSL_HANDSHAKE', 'SSL handshake failure'],
  ['SSL_HANDSHAKE_HB', 'SSL handshake failure after heartbeat'],
  ['SSL_KILLED_HB', 'Stopped a TLSv1 heartbeat attack (CVE-2014-0160)'],
  ['SSL_NO_TARGET', 'Attempt to use SSL on an unknown target (internal error)'],
  ['SSL_EARLY_FAILED', 'Server refused early data'],
  ['SOCKS4_SEND', 'SOCKS4 Proxy write error during handshake'],
  ['SOCKS4_RECV', 'SOCKS4 Proxy read error during handshake'],
  ['SOCKS4_DENY', 'SOCKS4 Proxy deny the request'],
  ['SOCKS4_ABORT', 'SOCKS4 Proxy handshake aborted by server'],
  ['SSL_FATAL', 'SSL fatal error'],
  ['REVERSE', 'Reverse connect failure'],
  ['POLLERR', 'Poller reported POLLERR'],
  ['EREFUSED', 'ECONNREFUSED returned by OS'],
  ['ERESET', 'ECONNRESET returned by OS'],
  ['EUNREACH', 'ENETUNREACH returned by OS'],
  ['ENOMEM', 'ENOMEM returned by OS'],
  ['EBADF', 'EBADF returned by OS'],
  ['EFAULT', 'EFAULT returned by OS'],
  ['EINVAL', 'EINVAL returned by OS'],
  ['ENCONN', 'ENCONN returned by OS'],
  ['ENSOCK', 'ENSOCK returned by OS'],
  ['ENOBUFS', 'ENOBUFS returned by OS'],
  ['EPIPE', 'EPIPE returned by OS'],
];
/** Code of a connection error name (for the streams reporting bc_err). */
export const CONN_ERR: Readonly<Record<string, number>> = Object.fromEntries(CONN_ERRORS.map((e, i) => [e[0], i]));

function srvConn(ctx: SmpCtx): ConnInfo | undefined { return ctx.stream?.srvConn; }

registerFetches({
  bc_src: (_a, ctx) => addrSample(srvConn(ctx)?.src),
  bc_src_port: (_a, ctx) => { const c = srvConn(ctx); return c ? portSample(c.src, c.srcPort) : undefined; },
  bc_dst: (_a, ctx) => addrSample(srvConn(ctx)?.dst),
  bc_dst_port: (_a, ctx) => { const c = srvConn(ctx); return c ? portSample(c.dst, c.dstPort) : undefined; },
  bc_reused: (_a, ctx) => (srvConn(ctx) ? smpBool(ctx.stream!.srvConnReused ?? false) : undefined),
  bc_http_major: (_a, ctx) => {
    if (!srvConn(ctx)) return undefined;
    const v = ctx.stream!.srvHttpMajor ?? ((ctx.be ?? ctx.fe)?.mode === 'http' ? 1 : undefined);
    return v === undefined ? undefined : smpInt(v);
  },
  bc_nb_streams: (_a, ctx) => (srvConn(ctx) ? smpInt(1) : undefined),
  bc_setting_streams_limit: (_a, ctx) => (srvConn(ctx) ? smpInt(1) : undefined),
  bc_glitches: (_a, ctx) => (srvConn(ctx) ? smpInt(ctx.stream!.srvGlitches ?? 0) : undefined),
  bc_err: (_a, ctx) => { const e = ctx.stream?.srvConnErr; return e === undefined ? undefined : smpInt(e); },
  bc_err_name: (_a, ctx) => {
    const e = ctx.stream?.srvConnErr;
    if (e === undefined) return undefined;
    return smpStr(e === 0 ? '' : CONN_ERRORS[e]?.[0] ?? '');
  },
  bc_err_str: (_a, ctx) => {
    const e = ctx.stream?.srvConnErr;
    if (e === undefined) return undefined;
    const m = CONN_ERRORS[e];
    return m ? smpStr(m[1]) : undefined;
  },
  bc_be_queue: (_a, ctx) => { const q = ctx.stream?.beQueuePos; return q === undefined ? undefined : smpInt(q); },
  bc_srv_queue: (_a, ctx) => { const q = ctx.stream?.srvQueuePos; return q === undefined ? undefined : smpInt(q); },
});

/* ---------------------------------------------------------------- proxies, server, timeouts */

registerFetches({
  be_id: (_a, ctx) => { const p = ctx.be ?? ctx.fe; return p ? smpInt(p.id) : undefined; },
  be_name: (_a, ctx) => { const p = ctx.be ?? ctx.fe; return p ? smpStr(p.name) : undefined; },
  be_server_timeout: (_a, ctx) => { const p = ctx.be ?? ctx.fe; return p ? smpInt(p.cfg.timeouts.server ?? 0) : undefined; },
  be_tunnel_timeout: (_a, ctx) => { const p = ctx.be ?? ctx.fe; return p ? smpInt(p.cfg.timeouts.tunnel ?? 0) : undefined; },
  fe_id: (_a, ctx) => (ctx.fe ? smpInt(ctx.fe.id) : undefined),
  fe_name: (_a, ctx) => (ctx.fe ? smpStr(ctx.fe.name) : undefined),
  fe_client_timeout: (_a, ctx) => (ctx.fe ? smpInt(ctx.fe.cfg.timeouts.client ?? 0) : undefined),
  fe_defbe: (_a, ctx) => { const d = ctx.fe?.cfg.defaultBackend; return d ? smpStr(d.name) : undefined; },
  srv_id: (_a, ctx) => (ctx.srv ? smpInt(ctx.srv.puid) : undefined),
  srv_name: (_a, ctx) => (ctx.srv ? smpStr(ctx.srv.name) : undefined),
  cur_client_timeout: (_a, ctx) => {
    const v = ctx.stream?.curClientTimeout ?? ctx.fe?.cfg.timeouts.client;
    return v === undefined && !ctx.fe ? undefined : smpInt(v ?? 0);
  },
  cur_server_timeout: (_a, ctx) => {
    const p = ctx.be ?? ctx.fe;
    const v = ctx.stream?.curServerTimeout ?? p?.cfg.timeouts.server;
    return v === undefined && !p ? undefined : smpInt(v ?? 0);
  },
  cur_tunnel_timeout: (_a, ctx) => {
    const p = ctx.be ?? ctx.fe;
    const v = ctx.stream?.curTunnelTimeout ?? p?.cfg.timeouts.tunnel;
    return v === undefined && !p ? undefined : smpInt(v ?? 0);
  },
});

/* ---------------------------------------------------------------- counts and dates */

registerFetches({
  bytes_in: (_a, ctx) => (ctx.stream ? smpInt(ctx.stream.bytesIn) : undefined),
  bytes_out: (_a, ctx) => (ctx.stream ? smpInt(ctx.stream.bytesOut) : undefined),
  'txn.conn_retries': (_a, ctx) => smpInt(ctx.retries),
  'txn.redispatched': (_a, ctx) => smpBool(ctx.stream?.redispatched ?? false),
});

registerFetch('accept_date', {
  check: unitArgCheck(0),
  fn: (args, ctx) => smpInt(dateIn(ctx.txnAcceptedAt ?? ctx.conn.acceptedAt, args[0] as TimeUnit | undefined)),
});
registerFetch('request_date', {
  check: unitArgCheck(0),
  fn: (args, ctx) => (ctx.reqStartedAt ? smpInt(dateIn(ctx.reqStartedAt, args[0] as TimeUnit | undefined)) : undefined),
});
