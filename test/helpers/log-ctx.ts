// A sample context and renderer for the log-format encoding tests (json, cbor): the fetches they
// use (str, int, bool, var) registered as stubs when the full catalogue is not loaded, and a
// context with fixed addresses, dates, counters and request.
import { compileFormat } from '../../src/log/format.js';
import { SmpCtx, type StreamInfo } from '../../src/sample/context.js';
import { registerFetch, fetchRegistry } from '../../src/sample/registry.js';
import { smpStr, smpInt, smpBool } from '../../src/sample/types.js';
import { HttpHeaders } from '../../src/http/htx.js';

if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => smpStr(a[0] as string) });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => smpInt(a[0] as number) });
if (!fetchRegistry.has('bool')) registerFetch('bool', { fn: (a) => smpBool(Number(a[0]) !== 0) });
if (!fetchRegistry.has('var')) registerFetch('var', { fn: () => undefined });

/** A context for GET `uri` on frontend "fnt" (3 connections), accepted 2009-02-06 12:12:51.443 UTC. */
export function mkLogCtx(over: Partial<StreamInfo> = {}, uri = '/p?x=1'): SmpCtx {
  const ctx = new SmpCtx({ src: '127.0.0.1', srcPort: 5555, dst: '10.0.3.31', dstPort: 8012, acceptedAt: Date.UTC(2009, 1, 6, 12, 12, 51, 443) });
  ctx.fe = { name: 'fnt', mode: 'http', feCounters: { cur: 3 }, counters: { cur: 9 } } as never;
  ctx.stream = { bytesIn: 84, bytesOut: 265, ...over } as StreamInfo;
  ctx.req = { method: 'GET', uri, version: 'HTTP/1.1', headers: new HttpHeaders() };
  ctx.status = 200;
  return ctx;
}

/** Compiles `fmt` for an HTTP proxy and renders it (throws on a compile error). */
export function renderLog(fmt: string, ctx: SmpCtx = mkLogCtx()): string {
  const r = compileFormat(fmt, { proxyMode: 'http' });
  if (r.error !== undefined) throw new Error(r.error);
  return r.fmt.render(ctx);
}
