// Shared set-up of the run-time DNS tests (dns, dns-srv, dns-template): the configuration with a
// "mydns" resolvers section, HTTP servers sharing one port on several loopback addresses, which
// server answered a request, and columns of `show servers state`.
import http from 'node:http';
import { freePorts, cliCommand, httpTestHead } from './harness.js';
import { rawHttp } from './http.js';

/**
 * A configuration with an optional admin stats socket, http defaults, a "resolvers mydns" section
 * (one nameserver `nameserver`, resolve 200ms, retry 100ms, `hold nx` when given) and a
 * "listen web" bound on 127.0.0.1:`port` whose remaining lines are `lines`.
 */
export function resolverTestConfig(o: { sock?: string; nameserver: string; holdNx?: string; port: number; lines: string }): string {
  return `
${httpTestHead(o.sock)}resolvers mydns
  nameserver ns1 ${o.nameserver}
  timeout resolve 200ms
  timeout retry 100ms
${o.holdNx !== undefined ? `  hold nx ${o.holdNx}\n` : ''}listen web
  bind 127.0.0.1:${o.port}
${o.lines}
`;
}

/**
 * HTTP servers on one common port, one per [address, body]: each answers 200 with its body and
 * closes. Tries other ports when one is taken on any of the addresses.
 */
export async function sharedPortHttpServers(entries: ReadonlyArray<readonly [ip: string, body: string]>): Promise<{ port: number; close(): Promise<void> }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [port] = await freePorts(1);
    const servers: http.Server[] = [];
    try {
      for (const [ip, body] of entries) {
        const s = http.createServer((_req, res) => { res.writeHead(200, { 'content-length': body.length, connection: 'close' }); res.end(body); });
        await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port!, ip, () => resolve()); });
        servers.push(s);
      }
      return { port: port!, close: async () => { for (const s of servers) { s.closeAllConnections(); await new Promise<void>((r) => s.close(() => r())); } } };
    } catch {
      for (const s of servers) s.close();
    }
  }
  throw new Error(`no port free on all of ${entries.map((e) => e[0]).join(', ')}`);
}

/** The body of a 200 answer to `GET /` through port `fp`, else the status, 'none' or 'error'. */
export async function whoServed(fp: number): Promise<string> {
  try {
    const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    r.sock.destroy();
    const res = r.responses[0];
    return res ? (res.status === 200 ? res.body.toString() : String(res.status)) : 'none';
  } catch { return 'error'; }
}

/** For each server of `backend` in `show servers state`: the space-separated fields at `fields`. */
export async function serverStateFields(sock: string, backend: string, fields: number[]): Promise<string[]> {
  const t = await cliCommand(sock, `show servers state ${backend}`);
  const row = new RegExp(`^\\d+ ${backend} `);
  return t.split('\n').filter((l) => row.test(l)).map((l) => { const f = l.split(' '); return fields.map((i) => f[i]).join(' '); });
}
