// HTTP helpers for integration and interop tests: a recording backend built on node:http, a raw
// backend that answers with fixed bytes, and a raw client that sends bytes and splits what comes
// back into responses. Every wait is bounded.
import http from 'node:http';
import net from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  httpVersion: string;
  /** raw header pairs as received (names with their case) */
  rawHeaders: [string, string][];
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** which TCP connection (1-based, per backend) carried it */
  conn: number;
}

export interface HttpBackend {
  port: number;
  name: string;
  requests: SeenRequest[];
  connections: number;
  close(): Promise<void>;
}

export type Handler = (req: SeenRequest, res: http.ServerResponse) => void;

/** A node:http server that records requests and answers "<name> <method> <url>" unless `handler` answers. */
export async function startHttpBackend(name: string, handler?: Handler): Promise<HttpBackend> {
  const be: HttpBackend = { port: 0, name, requests: [], connections: 0, close: async () => {} };
  const socks = new Set<net.Socket>();
  const connIds = new WeakMap<net.Socket, number>();
  const srv = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const raw: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const seen: SeenRequest = {
        method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: raw,
        headers: req.headers, body: Buffer.concat(chunks), conn: connIds.get(req.socket) ?? 0,
      };
      be.requests.push(seen);
      if (handler) { handler(seen, res); return; }
      const text = `${name} ${seen.method} ${seen.url}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  srv.on('connection', (s) => {
    be.connections++;
    connIds.set(s, be.connections);
    socks.add(s);
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  be.port = (srv.address() as net.AddressInfo).port;
  be.close = () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); });
  return be;
}

/** A TCP server that answers every connection with `reply(requestBytes)` once a blank line arrived. */
export async function startRawBackend(reply: (req: Buffer, connNo: number) => Buffer | string | null, opts: { closeAfter?: boolean } = {}): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const socks = new Set<net.Socket>();
  let n = 0;
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    const no = ++n;
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.indexOf('\r\n\r\n') < 0) return;
      received.push(buf);
      const r = reply(buf, no);
      buf = Buffer.alloc(0);
      if (r === null) { s.destroy(); return; }
      if (opts.closeAfter) s.end(r); else s.write(r);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    received,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
}

export interface ParsedResponse {
  status: number;
  reason: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
  raw: Buffer;
}

export function header(r: ParsedResponse, name: string): string | undefined {
  const l = name.toLowerCase();
  return r.headers.find(([n]) => n.toLowerCase() === l)?.[1];
}

/**
 * Splits bytes into complete responses (Content-Length, chunked, or until the end for the last
 * one when `eof`). `headMethods` lists, in order, which responses answer HEAD requests.
 */
export function splitResponses(data: Buffer, eof: boolean, headFlags: boolean[] = []): { responses: ParsedResponse[]; rest: Buffer } {
  const out: ParsedResponse[] = [];
  let off = 0;
  while (off < data.length) {
    const end = data.indexOf('\r\n\r\n', off);
    if (end < 0) break;
    const head = data.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(head[0]!);
    if (!m) throw new Error(`bad status line '${head[0]}'`);
    const headers: [string, string][] = head.slice(1).map((l) => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()]; });
    const status = Number(m[2]);
    const isHead = headFlags[out.length] ?? false;
    let p = end + 4;
    let body: Buffer = Buffer.alloc(0);
    const cl = headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1];
    const te = headers.find(([n]) => n.toLowerCase() === 'transfer-encoding')?.[1];
    if (isHead || status < 200 || status === 204 || status === 304) {
      // no body
    } else if (te && /chunked/i.test(te)) {
      const parts: Buffer[] = [];
      let done = false;
      while (true) {
        const le = data.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(data.subarray(p, le).toString('latin1').split(';')[0]!, 16);
        if (size === 0) {
          const tend = data.indexOf('\r\n\r\n', le - 2 >= p ? le - 2 : p);
          if (tend < 0) break;
          p = tend + 4; done = true; break;
        }
        if (le + 2 + size + 2 > data.length) break;
        parts.push(data.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(parts);
    } else if (cl !== undefined) {
      const n = Number(cl);
      if (p + n > data.length) break;
      body = data.subarray(p, p + n);
      p += n;
    } else {
      if (!eof) break;
      body = data.subarray(p);
      p = data.length;
    }
    out.push({ status, reason: m[3] ?? '', version: m[1]!, headers, body, raw: data.subarray(off, p) });
    off = p;
  }
  return { responses: out, rest: data.subarray(off) };
}

/**
 * Sends `data` on a new connection and collects the answer until `responses` complete responses
 * arrived (then the socket is left open and returned) or the server closed.
 */
export function rawHttp(port: number, data: string | Buffer | (string | Buffer)[], opts: { responses?: number; timeoutMs?: number; head?: boolean[]; halfClose?: boolean; gapMs?: number } = {}): Promise<{ responses: ParsedResponse[]; raw: Buffer; closed: boolean; sock: net.Socket }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let closed = false;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      const raw = Buffer.concat(chunks);
      try {
        resolve({ responses: splitResponses(raw, closed, opts.head).responses, raw, closed, sock });
      } catch (e) { reject(e); }
    };
    const t = setTimeout(() => {
      if (opts.responses === undefined) { sock.destroy(); reject(new Error(`rawHttp: no close within ${opts.timeoutMs ?? 5000}ms; got ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`)); return; }
      sock.destroy();
      reject(new Error(`rawHttp: ${opts.responses} responses expected within ${opts.timeoutMs ?? 5000}ms; got ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, opts.timeoutMs ?? 5000);
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.responses !== undefined) {
        try {
          if (splitResponses(Buffer.concat(chunks), false, opts.head).responses.length >= opts.responses) finish();
        } catch { /* wait for more */ }
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; finish(); });
    // the server's FIN ends the exchange (the client side stays half-open, as a real client's
    // would until it notices)
    sock.on('end', () => { closed = true; finish(); });
    sock.on('connect', async () => {
      const parts = Array.isArray(data) ? data : [data];
      for (let i = 0; i < parts.length; i++) {
        sock.write(parts[i]!);
        if (opts.gapMs && i < parts.length - 1) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.halfClose) sock.end();
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Added for the HTTP interop suite: a raw backend that records every byte of every connection and
// answers each complete request (head + Content-Length or chunked body) with `reply(...)`.

export interface RecordedRequest { method: string; head: string; conn: number; index: number }
export type RecordingReply = string | Buffer | null | { data: string | Buffer; close?: boolean };

export interface RecordingBackend {
  port: number;
  /** every byte each connection received, in accept order */
  conns: Buffer[];
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Finds the end of an H1 head (CRLFCRLF or bare LF variants); returns the offset after it or -1. */
function headEnd(b: Buffer): number {
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 10) continue;
    if (b[i + 1] === 10) return i + 2;
    if (b[i + 1] === 13 && b[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Length of a chunked body at the start of `b` (through the trailers), -1 when incomplete, -2 when unparsable. */
function chunkedLength(b: Buffer): number {
  let p = 0;
  for (;;) {
    const le = b.indexOf(10, p);
    if (le < 0) return -1;
    const size = parseInt(b.subarray(p, le).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) return -2;
    p = le + 1;
    if (size === 0) {
      for (;;) { // trailers up to an empty line
        const e = b.indexOf(10, p);
        if (e < 0) return -1;
        const line = b.subarray(p, e).toString('latin1');
        p = e + 1;
        if (line === '' || line === '\r') return p;
      }
    }
    if (p + size > b.length) return -1;
    p += size;
    if (b[p] === 13) p++;
    if (p >= b.length) return -1;
    if (b[p] === 10) p++;
  }
}

export async function startRecordingBackend(reply: (r: RecordedRequest) => RecordingReply, opts: { continue100?: boolean; port?: number } = {}): Promise<RecordingBackend> {
  const conns: Buffer[] = [];
  const requests: RecordedRequest[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    socks.add(s);
    const connNo = conns.length;
    conns.push(Buffer.alloc(0));
    s.on('close', () => socks.delete(s));
    s.on('error', () => {});
    s.on('end', () => s.end());
    let pending = Buffer.alloc(0);
    let sent100 = false;
    s.on('data', (d: Buffer) => {
      conns[connNo] = Buffer.concat([conns[connNo]!, d]);
      pending = Buffer.concat([pending, d]);
      while (pending.length && !s.destroyed) {
        const he = headEnd(pending);
        if (he < 0) return;
        const head = pending.subarray(0, he).toString('latin1');
        const lines = head.split(/\r?\n/);
        const method = lines[0]!.split(' ')[0]!;
        const hdr = (n: string): string | undefined => lines.slice(1).find((l) => l.toLowerCase().startsWith(n + ':'))?.slice(n.length + 1).trim();
        if (opts.continue100 && !sent100 && /100-continue/i.test(hdr('expect') ?? '')) { sent100 = true; s.write('HTTP/1.1 100 Continue\r\n\r\n'); }
        let total = he;
        const te = hdr('transfer-encoding');
        if (te && /chunked/i.test(te)) {
          const n = chunkedLength(pending.subarray(he));
          if (n === -1) return;
          total = n === -2 ? pending.length : he + n;
        } else {
          const cl = Number(hdr('content-length') ?? '0');
          if (Number.isFinite(cl) && cl > 0) { if (pending.length < he + cl) return; total = he + cl; }
        }
        pending = pending.subarray(total);
        sent100 = false;
        const r: RecordedRequest = { method, head, conn: connNo, index: requests.length };
        requests.push(r);
        const out = reply(r);
        if (out === null) { s.destroy(); return; }
        if (typeof out === 'string' || Buffer.isBuffer(out)) s.write(out);
        else if (out.close) { s.end(out.data); return; }
        else s.write(out.data);
      }
    });
  });
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(opts.port ?? 0, '127.0.0.1', () => resolve()); });
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    requests,
    close: () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }),
  };
}

/**
 * An HTTP server answering its `name` (and `status` on /health), that can be closed and reopened
 * on the same port: a server for health-check tests.
 */
export async function controllableServer(name: string, port?: number): Promise<{ port: number; status: number; hits: number; close(): Promise<void>; reopen(): Promise<void> }> {
  const st = { port: port ?? 0, status: 200, hits: 0, close: async () => {}, reopen: async () => {} };
  let srv: http.Server;
  const socks = new Set<net.Socket>();
  const open = async (): Promise<void> => {
    srv = http.createServer((req, res) => {
      if (req.url === '/health') { res.writeHead(st.status); res.end('h'); return; }
      st.hits++;
      res.writeHead(200, { 'content-length': name.length });
      res.end(name);
    });
    srv.on('connection', (s) => { socks.add(s); s.on('close', () => socks.delete(s)); });
    await new Promise<void>((r) => srv.listen(st.port, '127.0.0.1', () => r()));
    st.port = (srv.address() as net.AddressInfo).port;
  };
  await open();
  st.close = () => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); });
  st.reopen = open;
  return st;
}

/** One `GET /` through the proxy: "<status> <body>", or "none". */
export async function whoAnswers(fp: number): Promise<string> {
  const r = await rawHttp(fp, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  r.sock.destroy();
  return r.responses[0] ? `${r.responses[0].status} ${r.responses[0].body.toString()}` : 'none';
}

/** One request through node:http (no agent unless given): status, headers and the whole body decoded as `encoding`. */
export function httpFetch(port: number, p: string, opts: { method?: string; agent?: http.Agent | false; encoding?: BufferEncoding } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method: opts.method ?? 'GET', agent: opts.agent ?? false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding(opts.encoding ?? 'utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
