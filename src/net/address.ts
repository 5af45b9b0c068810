// Address forms accepted on `bind`, `server`, `source` and `stats socket` lines
// (configuration.txt section 11 "Address formats").
import { isIP } from 'node:net';

export type AddrFamily = 'ipv4' | 'ipv6' | 'any' | 'unix' | 'abns' | 'fd' | 'sockpair';

export interface ParsedAddress {
  family: AddrFamily;
  host: string;          // ip text ('' = any), hostname, unix path, abns name, or fd number as text
  port: number;          // first port (0 when none)
  portEnd: number;       // last port of a range (== port when no range)
  portOffset?: '+' | '-'; // server addresses: port relative to the client's destination port
  hasPort: boolean;
  isHostname: boolean;
}

export interface AddressOptions {
  /** bind lines: a port is mandatory for inet addresses; ranges allowed. */
  bind?: boolean;
  /** server lines: port optional, +N/-N offsets allowed, host names allowed. */
  server?: boolean;
}

/** Splits a comma-separated bind address list. */
export function splitAddressList(text: string): string[] {
  return text.split(',').filter((s) => s.length > 0);
}

export function parseAddress(text: string, opts: AddressOptions): ParsedAddress | string {
  let rest = text;
  let forced: AddrFamily | undefined;
  const at = /^([a-z0-9]+)@/.exec(rest);
  if (at) {
    const p = at[1]!;
    switch (p) {
      case 'ipv4': case 'tcp4': forced = 'ipv4'; break;
      case 'ipv6': case 'tcp6': forced = 'ipv6'; break;
      case 'tcp': forced = 'any'; break;
      case 'unix': forced = 'unix'; break;
      case 'abns': forced = 'abns'; break;
      case 'fd': forced = 'fd'; break;
      case 'sockpair': forced = 'sockpair'; break;
      case 'udp': case 'udp4': case 'udp6': case 'quic4': case 'quic6': case 'uxdg': case 'uxst': case 'rhttp': case 'abnsz':
        return `address family '${p}@' is not supported yet by haproxy-ts in '${text}'`;
      default:
        return `unknown address family '${p}@' in '${text}'`;
    }
    rest = rest.slice(at[0].length);
  }
  if (forced === 'unix' || (!forced && rest.startsWith('/'))) {
    if (!rest) return `missing path in '${text}'`;
    return { family: 'unix', host: rest, port: 0, portEnd: 0, hasPort: false, isHostname: false };
  }
  if (forced === 'abns') {
    if (!rest) return `missing name in '${text}'`;
    return { family: 'abns', host: rest, port: 0, portEnd: 0, hasPort: false, isHostname: false };
  }
  if (forced === 'fd' || forced === 'sockpair') {
    if (!/^\d+$/.test(rest)) return `invalid file descriptor '${rest}' in '${text}'`;
    return { family: forced, host: rest, port: 0, portEnd: 0, hasPort: false, isHostname: false };
  }
  // inet: [v6]:port, v6:port (last colon), v4:port, host:port, :port, *:port
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) return `missing ']' in address '${text}'`;
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after.length) {
      if (!after.startsWith(':')) return `invalid character after ']' in '${text}'`;
      portText = after.slice(1);
    }
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) {
      host = rest;
    } else {
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
      // an IPv6 address without port and without brackets, e.g. "::1" or "fe80::2"
      if (opts.server && host.includes(':') && isIP(rest) === 6 && !isIP(host)) {
        host = rest;
        portText = undefined;
      }
    }
  }
  if (host === '*') host = '';
  let family: AddrFamily = forced ?? 'any';
  let isHostname = false;
  if (host !== '') {
    const v = isIP(host);
    if (v === 4) family = forced === 'ipv6' ? 'ipv6' : 'ipv4';
    else if (v === 6) {
      if (forced === 'ipv4') return `invalid IPv4 address '${host}' in '${text}'`;
      family = 'ipv6';
    } else {
      // a server may name an SRV label ("_http._tcp.example"), resolved at run time (src/dns/)
      if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(opts.server && host.startsWith('_') ? host.slice(1) : host)) return `invalid address: '${text}'`;
      isHostname = true;
      if (forced === 'ipv4' || forced === 'ipv6') family = forced;
    }
  } else if (forced === 'ipv6') {
    host = '::';
  } else if (forced === 'ipv4') {
    host = '0.0.0.0';
  }
  let port = 0, portEnd = 0, hasPort = false;
  let portOffset: '+' | '-' | undefined;
  if (portText !== undefined) {
    if (portText === '') {
      if (opts.bind) return `missing port number: '${text}'`;
    } else {
      hasPort = true;
      let pt = portText;
      if (pt[0] === '+' || pt[0] === '-') {
        if (!opts.server) return `invalid port offset in '${text}' (only on server addresses)`;
        portOffset = pt[0] as '+' | '-';
        pt = pt.slice(1);
      }
      const range = /^(\d+)(?:-(\d+))?$/.exec(pt);
      if (!range) return `invalid port '${portText}'`;
      port = Number(range[1]);
      portEnd = range[2] !== undefined ? Number(range[2]) : port;
      if (range[2] !== undefined && !opts.bind) return `port ranges are not allowed here: '${text}'`;
      if (port > 65535 || portEnd > 65535 || portEnd < port) return `invalid port '${portText}'`;
      if (opts.bind && port === 0) return `invalid port '${portText}'`;
    }
  } else if (opts.bind) {
    return `missing port number: '${text}'`;
  }
  return { family, host, port, portEnd, portOffset, hasPort, isHostname };
}

/** Formats an address the way HAProxy prints it in logs and CLI output. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Normalises an IPv4-mapped IPv6 address (::ffff:a.b.c.d) to plain IPv4, as HAProxy shows it. */
export function plainAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}
