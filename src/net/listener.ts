// Listening sockets for `bind` lines and the stats socket: inet, unix, abstract and inherited fds.
import net from 'node:net';
import fs from 'node:fs';
import type { ParsedAddress } from './address.js';

export interface ListenOptions {
  address: ParsedAddress;
  backlog?: number;
  v6only?: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** Describes where a socket listens, as HAProxy prints it ("127.0.0.1:8080", "unix@/path"). */
export function describeAddress(a: ParsedAddress): string {
  switch (a.family) {
    case 'unix': return `unix@${a.host}`;
    case 'abns': return `abns@${a.host}`;
    case 'fd': return `fd@${a.host}`;
    case 'sockpair': return `sockpair@${a.host}`;
    default: {
      const h = a.host === '' ? '0.0.0.0' : a.host;
      return h.includes(':') ? `[${h}]:${a.port}` : `${h}:${a.port}`;
    }
  }
}

/** Starts listening; resolves once bound, rejects with a message HAProxy-like on failure. */
export function listenOn(server: net.Server, o: ListenOptions): Promise<void> {
  const a = o.address;
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.removeListener('listening', onListening);
      reject(new Error(`cannot bind socket (${errText(e)}) for [${describeAddress(a)}]`));
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      if (a.family === 'unix') {
        try {
          if (o.mode !== undefined) fs.chmodSync(a.host, o.mode);
          if (o.uid !== undefined || o.gid !== undefined) fs.chownSync(a.host, o.uid ?? -1, o.gid ?? -1);
        } catch (e) {
          server.close();
          reject(new Error(`cannot change UNIX socket ownership/permissions (${errText(e as NodeJS.ErrnoException)}) for [${a.host}]`));
          return;
        }
      }
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    const backlog = o.backlog && o.backlog > 0 ? o.backlog : 1024;
    switch (a.family) {
      case 'unix':
        try {
          const st = fs.lstatSync(a.host);
          if (st.isSocket()) fs.unlinkSync(a.host);
        } catch { /* absent */ }
        server.listen({ path: a.host, backlog });
        break;
      case 'abns':
        server.listen({ path: `\0${a.host}`, backlog });
        break;
      case 'fd':
      case 'sockpair':
        server.listen({ fd: Number(a.host), backlog } as net.ListenOptions);
        break;
      default: {
        let host = a.host;
        if (host === '') host = a.family === 'ipv6' ? '::' : '0.0.0.0';
        server.listen({ host, port: a.port, backlog, ipv6Only: o.v6only ?? false });
      }
    }
  });
}

export function errText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EADDRINUSE': return 'Address already in use';
    case 'EACCES': return 'Permission denied';
    case 'EADDRNOTAVAIL': return 'Cannot assign requested address';
    case 'ENOENT': return 'No such file or directory';
    case 'EBADF': return 'Bad file descriptor';
    default: return e.message;
  }
}
