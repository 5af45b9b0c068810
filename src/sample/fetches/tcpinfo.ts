// Layer-4 fetches reading the kernel's TCP_INFO for the client or server connection
// (configuration.txt 7.3.3): fc_rtt, fc_rttvar, fc_unacked, fc_sacked, fc_retrans, fc_fackets,
// fc_lost, fc_reordering, bc_rtt, bc_rttvar. They need the native addon's getTcpInfo (Linux):
// without it nothing is registered, so `-dKsmp` only lists what works.
//
// Choices, matching HAProxy's behaviour:
// - the time fetches take an optional unit, "ms" (default) or "us", checked at parse time; the
//   kernel reports microseconds, and milliseconds are rounded to the nearest (half up);
// - fc_retrans is the kernel's count of retransmitted segments not yet acknowledged
//   (tcpi_retrans), not the RTO counter (tcpi_retransmits) nor the lifetime total;
// - the counter fetches accept and ignore a string argument (older versions documented one);
// - a missing socket, a closed one or a non-TCP one (UNIX socket) makes the fetch fail.
import { registerFetch, type FetchFn } from '../registry.js';
import type { Sample } from '../types.js';
import type { SmpCtx } from '../context.js';
import { TCPI, tcpInfoAvailable, tcpInfoRaw } from '../../net/sockopt.js';

declare module '../context.js' {
  interface StreamInfo {
    /** the client-side socket (net.Socket, tls.TLSSocket or RawSocket): fc_rtt, fc_lost ... */
    cliSock?: object;
    /** the server-side socket once connected: bc_rtt, bc_rttvar */
    srvSock?: object;
  }
}

function cliSock(ctx: SmpCtx): object | undefined { return ctx.stream?.cliSock; }
function srvSock(ctx: SmpCtx): object | undefined { return ctx.stream?.srvSock; }

/** Parse-time check of the optional unit argument of the time fetches. */
function unitCheck(args: any[]): string | undefined {
  if (args.length === 0) return undefined;
  const u = args[0];
  if (u !== 'us' && u !== 'ms') return `expects 'us' or 'ms', got '${String(u)}'`;
  return undefined;
}

/** The counter fetches ignore any argument. */
function dropArgs(args: any[]): string | undefined {
  args.length = 0;
  return undefined;
}

function timeFetch(sock: (ctx: SmpCtx) => object | undefined, field: number): FetchFn {
  return (args, ctx): Sample | undefined => {
    const s = sock(ctx);
    if (s === undefined) return undefined;
    const info = tcpInfoRaw(s);
    if (info === undefined) return undefined;
    const us = info[field]!;
    // microseconds as is; milliseconds rounded half up (the kernel value is non-negative)
    return { t: 'sint', v: args[0] === 'us' ? us : Math.floor((us + 500) / 1000) };
  };
}

function counterFetch(field: number): FetchFn {
  return (_args, ctx): Sample | undefined => {
    const s = cliSock(ctx);
    if (s === undefined) return undefined;
    const info = tcpInfoRaw(s);
    if (info === undefined) return undefined;
    return { t: 'sint', v: info[field]! };
  };
}

if (tcpInfoAvailable) {
  registerFetch('fc_rtt', { fn: timeFetch(cliSock, TCPI.rtt), check: unitCheck });
  registerFetch('fc_rttvar', { fn: timeFetch(cliSock, TCPI.rttvar), check: unitCheck });
  registerFetch('bc_rtt', { fn: timeFetch(srvSock, TCPI.rtt), check: unitCheck });
  registerFetch('bc_rttvar', { fn: timeFetch(srvSock, TCPI.rttvar), check: unitCheck });
  registerFetch('fc_unacked', { fn: counterFetch(TCPI.unacked), check: dropArgs });
  registerFetch('fc_sacked', { fn: counterFetch(TCPI.sacked), check: dropArgs });
  registerFetch('fc_retrans', { fn: counterFetch(TCPI.retrans), check: dropArgs });
  registerFetch('fc_fackets', { fn: counterFetch(TCPI.fackets), check: dropArgs });
  registerFetch('fc_lost', { fn: counterFetch(TCPI.lost), check: dropArgs });
  registerFetch('fc_reordering', { fn: counterFetch(TCPI.reordering), check: dropArgs });
}
