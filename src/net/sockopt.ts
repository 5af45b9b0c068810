// Socket options Node.js does not expose (TCP_DEFER_ACCEPT, TCP_FASTOPEN, SO_BINDTODEVICE,
// TCP_MAXSEG), set through the small native addon built from native/sockopt.c by node-gyp
// (binding.gyp at the repository root; `npm install` builds it into build/Release/).
// When the addon is missing (not built, not Linux, or HAPROXY_TS_NO_SOCKOPT=1 in the
// environment), `sockoptAvailable` is false and the bind keywords needing it stay unregistered.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import type net from 'node:net';

/** The addon's interface (native/sockopt.c). Constants are absent when the platform lacks them. */
export interface SockoptAddon {
  setIntOpt(fd: number, level: number, optname: number, value: number): void;
  setStrOpt(fd: number, level: number, optname: number, value: string): void;
  getIntOpt(fd: number, level: number, optname: number): number;
  getStrOpt(fd: number, level: number, optname: number): string;
  /** RLIMIT_NOFILE: set the soft limit (raising the hard one if needed), read [soft, hard] (-1: unlimited) */
  setNofileLimit(n: number): void;
  getNofileLimit(): [number, number];
  /** chroot(path) then chdir("/") */
  chrootTo(path: string): void;
  /** a non-blocking AF_UNIX datagram socket; sendto() on it returns bytes sent or -errno */
  unixDgramSocket?(): number;
  unixDgramSend?(fd: number, path: string, data: Buffer): number;
  closeFd?(fd: number): void;
  /** O_NONBLOCK on a descriptor */
  setNonBlocking?(fd: number): void;
  /** a non-blocking UDP socket (family 4 or 6); sendto() returning bytes sent or -errno */
  udpSocket?(family: number): number;
  udpSend?(fd: number, ip: string, port: number, data: Buffer): number;
  /**
   * getsockopt(IPPROTO_TCP, TCP_INFO): some fields of struct tcp_info, at the TCPI_* indexes
   * (Linux only; absent elsewhere). Throws like getIntOpt when the call fails.
   */
  getTcpInfo?(fd: number): Float64Array;
  TCP_INFO?: number;
  SOL_SOCKET: number;
  IPPROTO_TCP: number;
  IPPROTO_IP: number;
  IPPROTO_IPV6: number;
  TCP_DEFER_ACCEPT?: number;
  TCP_FASTOPEN?: number;
  TCP_MAXSEG?: number;
  SO_BINDTODEVICE?: number;
  IP_FREEBIND?: number;
  IP_TRANSPARENT?: number;
  IPV6_TRANSPARENT?: number;
}

/** Candidate locations of the addon: this file is dist/src/net/sockopt.js once compiled
 * (repository root three levels up), or src/net/sockopt.ts when run from sources. */
function candidates(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rel = path.join('build', 'Release', 'sockopt.node');
  return [path.resolve(here, '..', '..', '..', rel), path.resolve(here, '..', '..', rel)];
}

function load(): { addon?: SockoptAddon; error?: string } {
  if (process.env['HAPROXY_TS_NO_SOCKOPT'] === '1') return { error: 'disabled by HAPROXY_TS_NO_SOCKOPT=1' };
  const require = createRequire(import.meta.url);
  let lastErr = 'build/Release/sockopt.node not found (run `npm install` to build it)';
  for (const file of candidates()) {
    if (!fs.existsSync(file)) continue;
    try {
      const m = require(file) as SockoptAddon;
      if (typeof m.setIntOpt === 'function' && typeof m.getIntOpt === 'function') return { addon: m };
      lastErr = `${file}: not the expected addon`;
    } catch (e) {
      lastErr = `${file}: ${(e as Error).message}`;
    }
  }
  return { error: lastErr };
}

const loaded = load();

/** The raw addon, for tests and callers needing another option; undefined when unavailable. */
export const sockopt: SockoptAddon | undefined = loaded.addon;
/** Why the addon could not be loaded (for diagnostics), undefined when it was. */
export const sockoptLoadError: string | undefined = loaded.error;
/** True when the addon is loaded and the platform has the options used by the bind keywords. */
export const sockoptAvailable: boolean = sockopt !== undefined &&
  sockopt.TCP_DEFER_ACCEPT !== undefined && sockopt.TCP_FASTOPEN !== undefined &&
  sockopt.TCP_MAXSEG !== undefined && sockopt.SO_BINDTODEVICE !== undefined;

export interface ListenerSockOptions {
  /** TCP_DEFER_ACCEPT: wake the listener only once data arrived (up to about one second). */
  deferAccept?: boolean;
  /** TCP_FASTOPEN on the listener. */
  tfo?: boolean;
  /** TFO queue length: the listener's backlog (HAProxy uses the backlog, else maxconn). */
  backlog?: number;
  /** SO_BINDTODEVICE: accept only packets that came through this interface. */
  iface?: string;
  /** TCP_MAXSEG: > 0 sets the MSS advertised to clients; < 0 is applied per accepted
   * connection by applyClientSocketOptions(); 0 or undefined leaves the default. */
  mss?: number;
}

/** TCP_DEFER_ACCEPT value in seconds: "defer accept by up to one second". */
export const DEFER_ACCEPT_SECONDS = 1;
/** TFO queue length when the caller gives no backlog (the default listen backlog). */
export const DEFAULT_TFO_QUEUE = 1024;

/** The file descriptor behind a listening net.Server or a net.Socket, or -1. */
export function handleFd(h: object): number {
  const handle = (h as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : -1;
}

function isInetServer(server: net.Server): boolean {
  const a = server.address();
  return a !== null && typeof a === 'object' && (a.family === 'IPv4' || a.family === 'IPv6');
}

function why(e: unknown): string {
  const m = (e as Error).message ?? String(e);
  // "setsockopt: Operation not permitted (fd=..)" -> "Operation not permitted"
  const r = /^[gs]etsockopt: (.*?) \(fd=/.exec(m);
  return r ? r[1]! : m;
}

/**
 * Applies the `bind` line socket options to a net.Server once it listens. Like HAProxy, a
 * failure does not stop the listener: each one is returned as a warning message (e.g.
 * "cannot enable DEFER_ACCEPT (Operation not permitted)"). Only TCPv4/TCPv6 listeners are
 * concerned; on other sockets (unix, abns) the options are ignored, as documented.
 *
 * Note: the options are set after bind()+listen() because Node does both at once. For
 * SO_BINDTODEVICE this still filters incoming connections (checked on Linux), but two
 * listeners on the same address and port with different interfaces cannot both bind.
 */
export function applyListenerOptions(server: net.Server, o: ListenerSockOptions): string[] {
  const warnings: string[] = [];
  const wants = o.deferAccept || o.tfo || (o.iface !== undefined && o.iface !== '') || (o.mss !== undefined && o.mss > 0);
  if (!wants || !isInetServer(server)) return warnings;
  const m = sockopt;
  if (!m) return [`cannot set socket options (${sockoptLoadError ?? 'addon unavailable'})`];
  const fd = handleFd(server);
  if (fd < 0) return ['cannot set socket options (no file descriptor for the listener)'];

  const attempt = (what: string, fn: () => void): void => {
    try { fn(); } catch (e) { warnings.push(`${what} (${why(e)})`); }
  };
  if (o.iface !== undefined && o.iface !== '') {
    const iface = o.iface;
    attempt('cannot bind listener to device', () => m.setStrOpt(fd, m.SOL_SOCKET, m.SO_BINDTODEVICE!, iface));
  }
  if (o.mss !== undefined && o.mss > 0) {
    const mss = o.mss;
    attempt('cannot set MSS', () => m.setIntOpt(fd, m.IPPROTO_TCP, m.TCP_MAXSEG!, mss));
  }
  if (o.deferAccept) {
    attempt('cannot enable DEFER_ACCEPT', () => m.setIntOpt(fd, m.IPPROTO_TCP, m.TCP_DEFER_ACCEPT!, DEFER_ACCEPT_SECONDS));
  }
  if (o.tfo) {
    const qlen = o.backlog !== undefined && o.backlog > 0 ? o.backlog : DEFAULT_TFO_QUEUE;
    attempt('cannot enable TCP_FASTOPEN', () => m.setIntOpt(fd, m.IPPROTO_TCP, m.TCP_FASTOPEN!, qlen));
  }
  return warnings;
}

/**
 * Per accepted connection options. A negative `mss` reduces the connection's current MSS
 * by that amount ("mss -N" on the bind line). Best effort and silent, like HAProxy: note
 * that recent Linux kernels ignore TCP_MAXSEG changes once the handshake is done, so this
 * often has no visible effect. Returns true when something was applied.
 */
export function applyClientSocketOptions(sock: object, o: { mss?: number }): boolean {
  const m = sockopt;
  if (!m || m.TCP_MAXSEG === undefined || o.mss === undefined || o.mss >= 0) return false;
  const fd = handleFd(sock);
  if (fd < 0) return false;
  try {
    const cur = m.getIntOpt(fd, m.IPPROTO_TCP, m.TCP_MAXSEG);
    const next = cur + o.mss;
    if (next <= 0) return false;
    m.setIntOpt(fd, m.IPPROTO_TCP, m.TCP_MAXSEG, next);
    return true;
  } catch {
    return false;
  }
}

/** The MSS value stored by the `mss` bind keyword (BindConfig has no field for it yet). */
export function bindMss(b: object): number | undefined {
  const v = (b as { mss?: unknown }).mss;
  return typeof v === 'number' ? v : undefined;
}

/** The file descriptor of a RawSocket or a net.Socket/Server, or -1. */
export function sockFd(sock: object): number {
  const direct = (sock as { fd?: unknown }).fd;
  if (typeof direct === 'number' && Number.isInteger(direct) && direct >= 0) return direct;
  return handleFd(sock);
}

// Linux values (the addon exports only a few constants)
const IP_TOS = 1, IP_TTL = 2, IPV6_UNICAST_HOPS = 16, IPV6_TCLASS = 67, SO_MARK = 36;

/**
 * Sets the IP TTL / hop limit ('ttl'), TOS / traffic class ('tos') or the netfilter mark
 * ('mark') of a connected socket. False when it cannot be done (no addon, no descriptor,
 * refused by the kernel: SO_MARK needs CAP_NET_ADMIN).
 */
export function setIpOpt(sock: object, what: 'ttl' | 'tos' | 'mark', v6: boolean, value: number): boolean {
  const m = sockopt;
  if (!m) return false;
  const fd = sockFd(sock);
  if (fd < 0) return false;
  try {
    if (what === 'mark') m.setIntOpt(fd, m.SOL_SOCKET, SO_MARK, value);
    else if (v6) m.setIntOpt(fd, m.IPPROTO_IPV6, what === 'ttl' ? IPV6_UNICAST_HOPS : IPV6_TCLASS, value);
    else m.setIntOpt(fd, m.IPPROTO_IP, what === 'ttl' ? IP_TTL : IP_TOS, value);
    return true;
  } catch {
    return false;
  }
}

/** Indexes of the fields returned by the addon's getTcpInfo() (the TCPI_* enum of sockopt.c). */
export const TCPI = {
  /** smoothed round trip time, microseconds */
  rtt: 0,
  /** its variance, microseconds */
  rttvar: 1,
  /** segments sent and not acknowledged yet */
  unacked: 2,
  /** segments selectively acknowledged */
  sacked: 3,
  /** segments considered lost */
  lost: 4,
  /** segments retransmitted and not yet acknowledged (HAProxy's fc_retrans) */
  retrans: 5,
  /** forward-acknowledged segments */
  fackets: 6,
  /** reordering metric (segments) */
  reordering: 7,
  /** consecutive unrecovered retransmission timeouts */
  retransmits: 8,
  /** retransmissions over the connection's life */
  totalRetrans: 9,
  /** TCP state (1 = ESTABLISHED) */
  state: 10,
} as const;
export type TcpInfoField = keyof typeof TCPI;
export type TcpInfo = Record<TcpInfoField, number>;

/** True when TCP_INFO can be read (Linux with the addon loaded). */
export const tcpInfoAvailable: boolean = typeof sockopt?.getTcpInfo === 'function';

/**
 * The raw TCP_INFO fields of a socket (index them with TCPI), or undefined when the addon
 * lacks getTcpInfo, the socket has no descriptor (closed, not a TCP socket) or the kernel
 * refuses (e.g. a UNIX socket: EOPNOTSUPP).
 */
export function tcpInfoRaw(sock: object): Float64Array | undefined {
  const get = sockopt?.getTcpInfo;
  if (get === undefined) return undefined;
  const fd = sockFd(sock);
  if (fd < 0) return undefined;
  try {
    return get(fd);
  } catch {
    return undefined;
  }
}

/** The TCP_INFO fields of a socket by name, or undefined (see tcpInfoRaw). */
export function tcpInfo(sock: object): TcpInfo | undefined {
  const v = tcpInfoRaw(sock);
  if (v === undefined) return undefined;
  const out = {} as TcpInfo;
  for (const [k, i] of Object.entries(TCPI) as [TcpInfoField, number][]) out[k] = v[i]!;
  return out;
}
