// `track [<backend>/]<server>` (configuration.txt 5.2): a server takes the state of another one
// instead of checking itself; chains are followed ("Server b2/s2 is DOWN via b1/s1.").
import { registerServer, registerPostParse, type ParseCtx } from '../registry/registry.js';
import type { Config } from '../config/model.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import { serverEvents, setServerUp, type ServerChangeEvent } from './health.js';

declare module '../config/model.js' {
  interface ServerOptions {
    /** `track [<backend>/]<server>` as written */
    track?: string;
  }
}

declare module '../proxy/server.js' {
  interface Server {
    /** servers whose state follows this one */
    trackers?: Server[];
    /** the server this one follows */
    tracked?: Server;
  }
}

registerServer({
  name: 'track', args: 1, inDefaultServer: false,
  parse(a, s, ctx) {
    if (!a[1]) { ctx.alert(`'track' expects [<proxy>/]<server> as argument.`); return; }
    s.track = a[1];
  },
});

function split(track: string, own: string): { backend: string; server: string } {
  const i = track.indexOf('/');
  return i >= 0 ? { backend: track.slice(0, i), server: track.slice(i + 1) } : { backend: own, server: track };
}

/** Post-parse: the tracked proxy and server exist, and the chain ends with a checked server. */
function checkTracks(config: Config, ctx: ParseCtx): void {
  for (const px of config.proxies) {
    for (const s of px.servers) {
      if (!s.track) continue;
      const seen = new Set<string>();
      const at = `[${s.where.file}:${s.where.line}] : 'server ${px.name}/${s.name}'`;
      let cur: { px: string; srv: string } = { px: px.name, srv: s.name };
      let track: string | undefined = s.track;
      for (;;) {
        const t = split(track!, cur.px);
        const tpx = config.proxies.find((p) => p.name === t.backend && (p.kind === 'backend' || p.kind === 'listen'));
        if (!tpx) { ctx.alert(`${at} : unable to find required proxy '${t.backend}' for tracking.`); break; }
        const ts = tpx.servers.find((x) => x.name === t.server);
        if (!ts) { ctx.alert(`${at} : unable to find required server '${t.server}' for tracking.`); break; }
        const key = `${tpx.name}/${ts.name}`;
        if (seen.has(key) || (tpx.name === px.name && ts.name === s.name)) { ctx.alert(`${at} : unable to track ${key}: the tracking chain loops.`); break; }
        seen.add(key);
        if (!ts.track) {
          const agent = (ts as { agent?: { enabled?: boolean } }).agent;
          if (!ts.check?.enabled && !agent?.enabled) ctx.alert(`${at} : unable to use ${key} for tracking as it does not have any check nor agent enabled.`);
          break;
        }
        cur = { px: tpx.name, srv: ts.name };
        track = ts.track;
      }
    }
  }
}
registerPostParse(checkTracks);

/** Links the trackers to their servers at run time and gives them the tracked state. */
export function linkTracks(proxies: Proxy[]): void {
  const byName = new Map<string, Proxy>();
  for (const p of proxies) if (p.isBackend) byName.set(p.name, p);
  for (const p of proxies) {
    for (const s of p.servers) {
      if (!s.cfg.track) continue;
      const t = split(s.cfg.track, p.name);
      const target = byName.get(t.backend)?.findServer(t.server);
      if (!target) continue;
      s.tracked = target;
      (target.trackers ??= []).push(s);
    }
  }
  // initial states follow the chain
  for (const p of proxies) for (const s of p.servers) if (s.tracked) follow(s);
}

function root(s: Server): Server {
  let cur = s;
  while (cur.tracked && cur.tracked !== s) cur = cur.tracked;
  return cur;
}

function follow(s: Server): void {
  const up = root(s).up;
  if (s.up !== up) { s.up = up; s.backend.rebuildLb(); }
}

serverEvents.on('change', (ev: ServerChangeEvent) => {
  const src = ev.server;
  for (const t of src.trackers ?? []) {
    if (t.up === ev.up) continue;
    setServerUp(t, ev.up, ` via ${src.backend.name}/${src.name}`);
  }
});
