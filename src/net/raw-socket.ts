// Data-plane connections on libuv's TCP handles directly, without net.Socket.
//
// A net.Socket is a Duplex stream: building one, connecting it, writing through the Writable
// machinery and destroying it costs more user time than the proxy's own work per request
// (docs/PERFORMANCE.md: a minimal relay on these handles does about 1.6 times the connection
// rate of the same relay on net.Socket). RawSocket keeps the handle Node's net module itself uses
// (the `tcp_wrap` binding: TCP, TCPConnectWrap, and `stream_wrap`'s WriteWrap/ShutdownWrap),
// and implements the part of net.Socket's interface that the streams use, with the same events
// ('connect', 'end', 'drain', 'error', 'close') and the same half-close rules (allowHalfOpen:
// the socket closes once both directions ended). Reads always go into caller-supplied buffers
// (`onread`), like net's `onread` option.
//
// The bindings are internal to Node.js. `rawSocketsAvailable()` is false when they are missing or
// have another shape, or when HAPROXY_TS_RAW_SOCKETS=0; the streams then use net.Socket (the
// `Sock` interface below is what both provide).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import util from 'node:util';

/** What the streams use of a socket: net.Socket and RawSocket both provide it. */
export interface Sock {
  on(event: string, fn: (...args: any[]) => void): unknown;
  once(event: string, fn: (...args: any[]) => void): unknown;
  removeListener(event: string, fn: (...args: any[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  write(data: Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  destroySoon(): void;
  resetAndDestroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  cork(): void;
  uncork(): void;
  setNoDelay(on?: boolean): unknown;
  setKeepAlive(on?: boolean, delayMs?: number): unknown;
  ref(): unknown;
  unref(): unknown;
  readonly writableLength: number;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  readonly readyState: string;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export type OnRead = { buffer: () => Buffer; callback: (n: number, buf: Uint8Array) => boolean };

// ---- the bindings -------------------------------------------------------------------------------

interface Req { oncomplete: ((...a: any[]) => void) | null; handle?: unknown; [k: string]: unknown }
interface Handle {
  readStart(): number;
  readStop(): number;
  useUserBuffer(b: Uint8Array): void;
  writeBuffer(req: Req, b: Uint8Array): number;
  writev(req: Req, chunks: Uint8Array[], allBuffers: boolean): number;
  shutdown(req: Req): number;
  close(cb?: () => void): void;
  reset?(cb?: () => void): number;
  onread: (ab?: ArrayBuffer) => Uint8Array | undefined;
  setNoDelay?(on: boolean): number;
  setKeepAlive?(on: boolean, delaySec: number): number;
  getpeername?(out: Record<string, unknown>): number;
  getsockname?(out: Record<string, unknown>): number;
  connect(req: Req, host: string, port: number): number;
  connect6(req: Req, host: string, port: number): number;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  ref(): void;
  unref(): void;
  readonly fd: number;
}
interface Bindings {
  TCP: new (type: number) => Handle;
  TCPConnectWrap: new () => Req;
  SOCKET: number;
  WriteWrap: new () => Req;
  ShutdownWrap: new () => Req;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

function loadBindings(): Bindings | undefined {
  if (process.env['HAPROXY_TS_RAW_SOCKETS'] === '0') return undefined;
  try {
    const binding = (process as unknown as { binding?: (n: string) => any }).binding;
    if (typeof binding !== 'function') return undefined;
    const t = binding('tcp_wrap');
    const s = binding('stream_wrap');
    const ok = typeof t?.TCP === 'function' && typeof t.TCPConnectWrap === 'function' && typeof t.constants?.SOCKET === 'number'
      && typeof s?.WriteWrap === 'function' && typeof s.ShutdownWrap === 'function' && s.streamBaseState instanceof Int32Array
      && typeof s.kReadBytesOrError === 'number' && typeof s.kLastWriteWasAsync === 'number'
      && typeof t.TCP.prototype.useUserBuffer === 'function' && typeof t.TCP.prototype.writeBuffer === 'function';
    if (!ok) return undefined;
    return {
      TCP: t.TCP, TCPConnectWrap: t.TCPConnectWrap, SOCKET: t.constants.SOCKET,
      WriteWrap: s.WriteWrap, ShutdownWrap: s.ShutdownWrap, state: s.streamBaseState,
      kReadBytesOrError: s.kReadBytesOrError, kLastWriteWasAsync: s.kLastWriteWasAsync,
    };
  } catch {
    return undefined;
  }
}

const B = loadBindings();
const UV_EOF = -4095;

/** Whether the data plane runs on raw handles (else on net.Socket). */
export function rawSocketsAvailable(): boolean { return B !== undefined; }

/** Whether `h` (an accepted connection's handle) is a TCP handle RawSocket can own. */
export function isRawTcpHandle(h: unknown): boolean {
  return B !== undefined && h instanceof B.TCP;
}

function uvError(status: number, syscall: string, address?: string, port?: number): Error {
  let code = 'UNKNOWN';
  try { code = util.getSystemErrorName(status); } catch { /* unknown status */ }
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const e = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = status;
  e.syscall = syscall;
  return e;
}

/** net.Socket's default writableHighWaterMark: write() returns false from this many queued bytes */
const HIGH_WATER = 16 * 1024;

function ignoreRead(): undefined { return undefined; }
function startConnect(s: RawSocket, opts: Parameters<RawSocket['doConnect']>[0]): void { s.doConnect(opts); }

// completion callbacks of the requests (`this` is the request)
function onWriteDone(this: Req, status: number): void {
  (this['owner'] as RawSocket).afterWrite(this, status);
}
function onShutdownDone(this: Req, status: number): void {
  (this['owner'] as RawSocket).afterShutdown(status);
}
function onConnectDone(this: Req, status: number): void {
  (this['owner'] as RawSocket).afterConnect(status);
}

/** a write request object no write is using (see takeWriteReq) */
let spareReq: Req | undefined;

interface AddrInfo { address?: string; port?: number; family?: string }

interface Pending { data: Uint8Array; cb: ((err?: Error | null) => void) | undefined }

export class RawSocket extends EventEmitter implements Sock {
  _handle: Handle | null;
  /** where reads go: replaceable until the first read (attachReader) */
  reader: OnRead;
  /** the buffer libuv reads into next (set with useUserBuffer, then by onread's return value) */
  private cur: Buffer | undefined;
  private reading = false;
  private wantRead: boolean;
  connecting = false;
  destroyed = false;
  writableEnded = false;
  private writableFinished = false;
  private readEnded = false;
  private shutdownSent = false;
  private destroyWhenFinished = false;
  private needDrain = false;
  private corked = 0;
  private corkQueue: Pending[] = [];
  /** writes made while connecting */
  private connectQueue: Pending[] = [];
  /** bytes handed to libuv and not written yet */
  private queued = 0;
  /** callbacks waiting for `queued` to reach 0 */
  private flushWaiters: Array<(err?: Error | null) => void> = [];
  bytesRead = 0;
  bytesWritten = 0;
  private peer: AddrInfo | undefined;
  private local: AddrInfo | undefined;
  /** set by the listener: called once when the handle is closed */
  onClosed: (() => void) | undefined;
  private connectAddr: { host: string; port: number } | undefined;

  /** Wraps an accepted handle (reading stays stopped until resume()), or makes an unconnected socket. */
  constructor(onread: OnRead, handle?: Handle) {
    super();
    this.reader = onread;
    this._handle = handle ?? null;
    this.wantRead = false;
    if (handle) this.initHandle(handle);
  }

  private initHandle(h: Handle): void {
    h.onread = this.onHandleRead;
  }

  /**
   * Outgoing connection to an IP address (`host` must be a literal IPv4 or IPv6 address). As with
   * net.connect, the connection is started on the next tick: a stream that gives up within the
   * current one (a request found invalid after its head) opens nothing.
   */
  static connectTo(opts: { host: string; port: number; localAddress?: string | undefined; localPort?: number | undefined; noDelay?: boolean }, onread: OnRead): RawSocket {
    const s = new RawSocket(onread);
    s.wantRead = true;
    s.connecting = true;
    s.connectAddr = { host: opts.host, port: opts.port };
    process.nextTick(startConnect, s, opts);
    return s;
  }

  /** @internal */
  doConnect(opts: { host: string; port: number; localAddress?: string | undefined; localPort?: number | undefined; noDelay?: boolean }): void {
    if (this.destroyed) return;
    const h = new B!.TCP(B!.SOCKET);
    this._handle = h;
    this.initHandle(h);
    const v6 = ipFamily(opts.host) === 6;
    let err = 0;
    if (opts.localAddress || opts.localPort) {
      const la = opts.localAddress || (v6 ? '::' : '0.0.0.0');
      err = net.isIPv6(la) ? h.bind6(la, opts.localPort ?? 0, 0) : h.bind(la, opts.localPort ?? 0);
      if (err) { this.destroy(uvError(err, 'bind', la, opts.localPort)); return; }
    }
    if (opts.noDelay) h.setNoDelay?.(true);
    const req = new B!.TCPConnectWrap();
    req.oncomplete = onConnectDone;
    req['owner'] = this;
    req['address'] = opts.host;
    req['port'] = opts.port;
    err = v6 ? h.connect6(req, opts.host, opts.port) : h.connect(req, opts.host, opts.port);
    if (err) { this.destroy(uvError(err, 'connect', opts.host, opts.port)); return; }
    // Reading is set up with the connection (one epoll registration for both the connect and the
    // reads, where starting it after the connect costs libuv two more epoll_ctl calls); libuv
    // reports the connect before any read.
    if (this.wantRead) this.startReading();
  }

  afterConnect(status: number): void {
    if (this.destroyed) return;
    this.connecting = false;
    if (status < 0) {
      this.destroy(uvError(status, 'connect', this.connectAddr?.host, this.connectAddr?.port));
      return;
    }
    const q = this.connectQueue;
    this.connectQueue = [];
    if (q.length > 1) this.writeMany(q);
    else if (q.length === 1) this.writeOne(q[0]!.data, q[0]!.cb);
    if (this.destroyed) return;
    if (this.writableEnded) this.maybeShutdown();
    if (this.wantRead) this.startReading();
    this.emit('connect');
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Also while connecting, once the handle exists; a failure then is retried after the connect. */
  private startReading(): void {
    const h = this._handle;
    if (!h || this.reading || this.readEnded) return;
    if (!this.cur) {
      this.cur = this.reader.buffer();
      h.useUserBuffer(this.cur);
    }
    const err = h.readStart();
    if (err === 0) this.reading = true;
    else if (!this.connecting) this.destroy(uvError(err, 'read'));
  }

  private stopReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this._handle?.readStop();
  }

  private readonly onHandleRead = (): Uint8Array | undefined => {
    const n = B!.state[B!.kReadBytesOrError]!;
    if (n > 0) {
      if (this.destroyed) return undefined;
      this.bytesRead += n;
      const buf = this.cur!;
      const more = this.reader.callback(n, buf);
      let ret: Buffer | undefined;
      if (!this.destroyed) {
        const next = this.reader.buffer();
        if (next !== buf) { this.cur = next; ret = next; }
        if (!more) this.stopReading();
      }
      return ret;
    }
    if (n === 0) return undefined;
    if (n === UV_EOF) {
      this.reading = false;
      this._handle?.readStop();
      this.readEnded = true;
      this.emit('end');
      if (this.writableFinished && !this.destroyed) this.destroy();
      return undefined;
    }
    this.destroy(uvError(n, 'read'));
    return undefined;
  };

  pause(): this {
    this.wantRead = false;
    this.stopReading();
    return this;
  }

  resume(): this {
    if (this.destroyed) return this;
    this.wantRead = true;
    this.startReading();
    return this;
  }

  // ---- writing -----------------------------------------------------------------------------

  get writableLength(): number {
    let n = this.queued;
    for (const p of this.connectQueue) n += p.data.length;
    for (const p of this.corkQueue) n += p.data.length;
    return n;
  }

  write(data: Uint8Array | string, cb?: (err?: Error | null) => void): boolean {
    if (typeof data === 'string') data = Buffer.from(data, 'utf8'); // net.Socket's default encoding
    if (this.destroyed || this.writableEnded) {
      const e = uvError(-32, 'write'); // EPIPE
      if (cb) process.nextTick(cb, e);
      return false;
    }
    if (data.length === 0) {
      // a marker: cb once everything written so far is flushed
      if (cb) {
        if (this.writableLength === 0) process.nextTick(cb);
        else this.flushWaiters.push(cb);
      }
      return true;
    }
    if (this.connecting) this.connectQueue.push({ data, cb });
    else if (this.corked) this.corkQueue.push({ data, cb });
    else this.writeOne(data, cb);
    const ok = this.writableLength < HIGH_WATER;
    if (!ok) this.needDrain = true;
    return ok;
  }

  // A write that the kernel takes whole never reaches libuv's queue and leaves the request
  // object untouched: one object serves every such write, and a new one is made only after a
  // write went asynchronous (libuv then owns it until its completion). What the completion needs
  // is stored on the object only then.
  private takeWriteReq(): Req {
    const req = spareReq;
    if (req) { spareReq = undefined; return req; }
    const r = new B!.WriteWrap();
    r.oncomplete = onWriteDone;
    return r;
  }

  private writeOne(data: Uint8Array, cb: ((err?: Error | null) => void) | undefined): void {
    const h = this._handle;
    if (!h) return;
    const req = this.takeWriteReq();
    this.dispatched(req, h.writeBuffer(req, data), data, data.length, cb);
  }

  private writeMany(list: Pending[]): void {
    const h = this._handle;
    if (!h) return;
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    const cbs: Array<(err?: Error | null) => void> = [];
    for (const p of list) { chunks.push(p.data); bytes += p.data.length; if (p.cb) cbs.push(p.cb); }
    const cb = cbs.length === 0 ? undefined : (err?: Error | null): void => { for (const f of cbs) f(err); };
    const req = this.takeWriteReq();
    this.dispatched(req, h.writev(req, chunks, true), chunks, bytes, cb);
  }

  private dispatched(req: Req, err: number, keep: unknown, bytes: number, cb: ((err?: Error | null) => void) | undefined): void {
    if (err) {
      spareReq = req;
      const e = uvError(err, 'write');
      if (cb) process.nextTick(cb, e);
      this.destroy(e);
      return;
    }
    if (B!.state[B!.kLastWriteWasAsync]) {
      req.handle = this._handle;
      req['owner'] = this;
      req['cb'] = cb;
      req['bytes'] = bytes;
      req['buffer'] = keep; // keeps the bytes alive until libuv has written them
      this.queued += bytes;
      return;
    }
    spareReq = req;
    this.bytesWritten += bytes;
    if (cb) process.nextTick(cb);
  }

  afterWrite(req: Req, status: number): void {
    const bytes = req['bytes'] as number;
    const cb = req['cb'] as ((err?: Error | null) => void) | undefined;
    this.queued -= bytes;
    if (status < 0) {
      const e = uvError(status, 'write');
      if (cb) cb(e);
      this.destroy(e);
      return;
    }
    this.bytesWritten += bytes;
    if (cb) cb();
    if (this.queued > 0 || this.destroyed) return;
    if (this.flushWaiters.length) {
      const w = this.flushWaiters;
      this.flushWaiters = [];
      for (const f of w) f();
    }
    if (this.destroyed) return;
    if (this.writableEnded) { this.maybeShutdown(); return; }
    if (this.needDrain) { this.needDrain = false; this.emit('drain'); }
  }

  cork(): void { this.corked++; }

  uncork(): void {
    if (this.corked === 0 || --this.corked > 0) return;
    const q = this.corkQueue;
    this.corkQueue = [];
    if (this.destroyed || q.length === 0) return;
    if (this.connecting) { this.connectQueue.push(...q); return; }
    if (q.length === 1) this.writeOne(q[0]!.data, q[0]!.cb);
    else this.writeMany(q);
  }

  // ---- ending ------------------------------------------------------------------------------

  /** Sends FIN once everything queued is written. */
  end(): this {
    if (this.destroyed || this.writableEnded) return this;
    this.writableEnded = true;
    if (this.corked) { this.corked = 1; this.uncork(); }
    this.maybeShutdown();
    return this;
  }

  private maybeShutdown(): void {
    if (this.shutdownSent || this.destroyed || this.connecting || this.queued > 0) return;
    const h = this._handle;
    if (!h) return;
    this.shutdownSent = true;
    const req = new B!.ShutdownWrap();
    req.oncomplete = onShutdownDone;
    req.handle = h;
    req['owner'] = this;
    const err = h.shutdown(req);
    if (err) this.afterShutdown(err);
  }

  afterShutdown(_status: number): void {
    if (this.destroyed) return;
    this.writableFinished = true;
    if (this.readEnded || this.destroyWhenFinished) this.destroy();
  }

  /** Ends the write side, then closes once everything is written. */
  destroySoon(): void {
    if (this.destroyed) return;
    this.end();
    if (this.writableFinished) this.destroy();
    else this.destroyWhenFinished = true;
  }

  /** Closes at once: pending writes are dropped; 'error' (when err is given) then 'close' follow. */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.reading = false;
    this.connecting = false;
    const h = this._handle;
    const done = (): void => {
      if (err) this.emit('error', err);
      this.emit('close', !!err);
    };
    this.closeHandle(h, false, done);
    return this;
  }

  /** Closes with a TCP reset (SO_LINGER 0) instead of a FIN. */
  resetAndDestroy(): this {
    if (this.destroyed) return this;
    if (this.connecting) { this.destroy(); return this; }
    this.destroyed = true;
    this.reading = false;
    this.closeHandle(this._handle, true, () => this.emit('close', false));
    return this;
  }

  private closeHandle(h: Handle | null, reset: boolean, done: () => void): void {
    this.connectQueue = [];
    this.corkQueue = [];
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    if (waiters.length) { const e = uvError(-32, 'write'); for (const f of waiters) process.nextTick(f, e); }
    if (!h) { process.nextTick(() => { this.onClosed?.(); done(); }); return; }
    h.onread = ignoreRead;
    const closed = (): void => { this._handle = null; this.onClosed?.(); done(); };
    if (reset && typeof h.reset === 'function') {
      const e = h.reset(closed);
      if (e) h.close(closed);
    } else {
      h.close(closed);
    }
  }

  // ---- options and addresses ---------------------------------------------------------------

  setNoDelay(on = true): this { this._handle?.setNoDelay?.(on); return this; }

  setKeepAlive(on = false, delayMs = 0): this {
    this._handle?.setKeepAlive?.(on, Math.floor(delayMs / 1000));
    return this;
  }

  ref(): this { this._handle?.ref(); return this; }
  unref(): this { this._handle?.unref(); return this; }

  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.destroyed) return 'closed';
    if (!this.readEnded && !this.writableEnded) return 'open';
    if (!this.readEnded) return 'readOnly';
    if (!this.writableEnded) return 'writeOnly';
    return 'closed';
  }

  /** getpeername / getsockname, asked once and kept */
  private addrInfo(which: 'peer' | 'local'): AddrInfo {
    const known = this[which];
    if (known) return known;
    const h = this._handle;
    const get = which === 'peer' ? h?.getpeername : h?.getsockname;
    const out: AddrInfo = {};
    if (!h || !get || get.call(h, out as Record<string, unknown>) !== 0) return {};
    return (this[which] = out);
  }

  get remoteAddress(): string | undefined { return this.addrInfo('peer').address; }
  get remotePort(): number | undefined { return this.addrInfo('peer').port; }
  get localAddress(): string | undefined { return this.addrInfo('local').address; }
  get localPort(): number | undefined { return this.addrInfo('local').port; }
}

/** net.isIP of the few server addresses a configuration has, remembered (the test is a long regexp). */
const families = new Map<string, number>();
function ipFamily(host: string): number {
  let f = families.get(host);
  if (f === undefined) {
    f = net.isIP(host);
    if (families.size < 4096) families.set(host, f);
  }
  return f;
}

/**
 * A server connection: on a raw handle when the bindings are there and the address is a literal
 * IP (no DNS lookup, no unix socket), else net.connect. `opts` carries `onread`.
 */
export function connectSock(opts: net.NetConnectOpts): Sock {
  const o = opts as net.TcpNetConnectOpts & { onread?: OnRead; path?: string };
  if (B && o.onread && !o.path && typeof o.host === 'string' && ipFamily(o.host) !== 0 && typeof o.port === 'number') {
    return RawSocket.connectTo({ host: o.host, port: o.port, localAddress: o.localAddress, localPort: o.localPort, noDelay: o.noDelay ?? false }, o.onread);
  }
  return net.connect(opts);
}
