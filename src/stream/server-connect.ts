// What TCP and HTTP streams share about reaching a server: the address to connect to (port
// offsets, "use the client's destination"), the source address, socket options, and the PROXY
// protocol header to send first.
import net from 'node:net';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import type { BindListener } from '../proxy/runtime.js';
import { buildProxyV1, buildProxyV2 } from '../net/proxy-protocol.js';

/** Addresses of the client connection as the streams know them (possibly from a PROXY header). */
export interface ConnAddrs { src: string; srcPort: number; dst: string; dstPort: number }

/** net.connect options for `s`, with `onread` for the stream-owned read buffer. */
export function serverConnectOptions(
  be: Proxy, s: Server, a: ConnAddrs,
  onread: { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean },
): net.NetConnectOpts {
  let host = s.host;
  let port = s.port;
  if (!s.isUnix) {
    if (host === '' || host === '0.0.0.0' || host === '::') host = a.dst;
    if (!s.cfg.address.hasPort) port = a.dstPort;
    else if (s.portOffset === '+') port = a.dstPort + s.port;
    else if (s.portOffset === '-') port = a.dstPort - s.port;
  }
  const src = s.source ?? be.cfg.source;
  return s.isUnix
    ? { path: host, allowHalfOpen: true, onread }
    : {
        host, port, allowHalfOpen: true, noDelay: true, onread,
        ...(src ? { localAddress: src.address.host || undefined, localPort: src.address.port || undefined } : {}),
      };
}

/** The PROXY header (v1 or v2 per the server's send-proxy setting) describing the client. */
export function buildProxyHeader(s: Server, a: ConnAddrs): Buffer {
  const v6 = net.isIPv6(a.src) || net.isIPv6(a.dst);
  const known = a.src !== '' && a.dst !== '' && net.isIP(a.src) !== 0;
  const family = !known ? 'UNKNOWN' : v6 ? 'TCP6' : 'TCP4';
  const toV6 = (x: string): string => (net.isIPv4(x) ? `::ffff:${x}` : x);
  const src = family === 'TCP6' ? toV6(a.src) : a.src;
  const dst = family === 'TCP6' ? toV6(a.dst) : a.dst;
  if (s.sendProxy === 1) {
    return buildProxyV1(family === 'UNKNOWN' ? { family } : { family, srcAddr: src, dstAddr: dst, srcPort: a.srcPort, dstPort: a.dstPort });
  }
  // as HAProxy does: a received LOCAL header keeps the real addresses, sent as PROXY; LOCAL is for non-inet addresses
  const cmd = family === 'UNKNOWN' ? 'LOCAL' : 'PROXY';
  return buildProxyV2(
    family === 'UNKNOWN' ? { command: cmd, family } : { command: cmd, family, srcAddr: src, dstAddr: dst, srcPort: a.srcPort, dstPort: a.dstPort },
    [],
    { crc32c: s.ppOpts?.crc32c ?? false },
  );
}

/** Whether the retry number `retryNo` (1-based) should go to another server (option redispatch). */
/**
 * A failed connection is retried on another server now: on the retry `option redispatch` names,
 * or at once when the server has meanwhile left the pool (marked down, maintenance) and
 * redispatch is enabled; only if another server can take it.
 */
export function redispatchNow(be: Proxy, s: Server, retryNo: number): boolean {
  return (shouldRedispatch(be, retryNo) || (be.cfg.options.redispatch && !s.usable())) &&
    be.servers.some((o) => o !== s && o.usable());
}

export function shouldRedispatch(be: Proxy, retryNo: number): boolean {
  const o = be.cfg.options;
  const iv = o.redispatchInterval;
  return o.redispatch && (iv > 0 ? retryNo % iv === 0 : retryNo === be.cfg.retries + 1 + iv);
}

/** The byte counters a stream feeds: its own, its frontend's, listener's, backend's and server's. */
export interface ByteCounted {
  bytesIn: number;
  bytesOut: number;
  readonly fe: Proxy;
  readonly listener: BindListener;
  be: Proxy | undefined;
  server: Server | undefined;
}

/** n bytes received from the client. */
export function countIn(st: ByteCounted, n: number): void {
  st.bytesIn += n;
  st.fe.feCounters.bytesIn += n;
  st.listener.counters.bytesIn += n;
  if (st.be) st.be.counters.bytesIn += n;
  if (st.server) st.server.counters.bytesIn += n;
}

/** n bytes sent to the client. */
export function countOut(st: ByteCounted, n: number): void {
  st.bytesOut += n;
  st.fe.feCounters.bytesOut += n;
  st.listener.counters.bytesOut += n;
  if (st.be) st.be.counters.bytesOut += n;
  if (st.server) st.server.counters.bytesOut += n;
}
