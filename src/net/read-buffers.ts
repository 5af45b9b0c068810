// Reading sockets into buffers the stream owns, instead of a fresh allocation per read.
//
// Node's default read path allocates a buffer for every read() and hands it to the Readable
// machinery; on a proxy that relays every byte this is most of the user-space cost and, on bulk
// transfers, a source of page faults when the garbage collector frees the buffers in batches
// (docs/PERFORMANCE.md). `onread` (net.connect) reads into a buffer we supply and calls us with
// the byte count; returning false pauses reading until resume().
//
// Outgoing connections take `onread` directly. Node has no such option for accepted sockets, so
// `adoptAccepted` moves the accepted socket's handle into a new net.Socket created with `onread`.
// This uses the documented `handle` constructor option plus the socket's `_handle` property; if a
// future Node lacks the property the original socket is returned and the caller falls back to
// 'data' events.
import net from 'node:net';
import { RawSocket, isRawTcpHandle, type OnRead, type Sock } from './raw-socket.js';
export type { OnRead, Sock } from './raw-socket.js';

export const SMALL_BUF = 16 * 1024;
export const LARGE_BUF = 64 * 1024;
const POOL_MAX = 256;
const smallPool: Buffer[] = [];
const largePool: Buffer[] = [];

export function takeBuf(size: number): Buffer {
  const pool = size === SMALL_BUF ? smallPool : largePool;
  return pool.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** Gives a buffer back; only when nothing (a queued write) can still point into it. */
export function giveBuf(b: Buffer): void {
  const pool = b.length === SMALL_BUF ? smallPool : largePool;
  if (pool.length < POOL_MAX) pool.push(b);
}

/**
 * One buffer shared by every connection in "shared" mode. Bytes read into it are only valid during
 * the read callback: whatever is written on from it must go through `safeView` (a copy), since the
 * next read of any connection overwrites it. Idle and small-message connections hold no buffer of
 * their own this way.
 */
const SHARED = Buffer.allocUnsafeSlow(LARGE_BUF);

/** A view that can be handed to a write that may be queued: copied when it points into the shared buffer. */
export function safeView(v: Buffer): Buffer {
  return v.buffer === SHARED.buffer ? Buffer.from(v) : v;
}

/**
 * One direction's read buffer. In private mode it starts small and becomes large the first time
 * a read fills it (bulk transfer: fewer read() calls); in shared mode it reads into the shared
 * buffer until a read is large, then turns private (views instead of copies for bulk data) until
 * `relax()` (end of an HTTP transaction) gives the private buffer back. `busy` is set while a
 * queued write (not taken by the kernel at once) still points into the private buffer.
 */
export class ReadBuffer {
  buf: Buffer | undefined;
  busy = false;
  private readonly sharedMode: boolean;

  constructor(shared = false) {
    this.sharedMode = shared;
  }

  /** relax() asked while the socket may still be set to read into the private buffer */
  private relaxing = false;

  /**
   * For onread.buffer: called before the first read and after each read; what it returns is
   * where the socket reads next. A private buffer given up by relax() goes back to the pool only
   * here, when the socket stops pointing at it.
   */
  readonly next = (): Buffer => {
    if (this.relaxing) {
      this.relaxing = false;
      if (this.buf && !this.busy) { giveBuf(this.buf); this.buf = undefined; }
    }
    if (this.buf) return this.buf;
    if (this.sharedMode) return SHARED;
    return (this.buf = takeBuf(SMALL_BUF));
  };

  /** after a read of n bytes (into `into`) that the caller is done with */
  grow(n: number, into?: Uint8Array): void {
    if (this.sharedMode && !this.buf) {
      if (into === SHARED && n >= SMALL_BUF) this.buf = takeBuf(LARGE_BUF);
      return;
    }
    const b = this.buf;
    if (b && n === b.length && b.length === SMALL_BUF) {
      giveBuf(b);
      this.buf = takeBuf(LARGE_BUF);
    }
  }

  /**
   * Shared mode: back to the shared buffer when nothing points into the private one. The socket
   * reads into the buffer `next()` returned last until its next read, so the private buffer is
   * given back at the next `next()` call, not now.
   */
  relax(): void {
    if (!this.sharedMode || !this.buf || this.busy) return;
    this.relaxing = true;
  }

  release(safe: boolean): void {
    if (this.buf && !this.busy && safe) giveBuf(this.buf);
    this.buf = undefined;
    this.relaxing = false;
  }
}

interface HandleOwner { _handle?: unknown; server?: unknown }

/**
 * Re-creates an accepted socket (from a server created with pauseOnConnect) around the same
 * handle, with `onread`. The returned socket starts reading at once. Returns undefined when the
 * handle cannot be taken over; the original socket is then left untouched.
 */
export function adoptAccepted(sock: Sock, onread: OnRead, allowHalfOpen: boolean): net.Socket | undefined {
  if (sock instanceof RawSocket) return undefined; // reads through attachReader
  const old = sock as unknown as HandleOwner;
  const handle = old._handle;
  if (!handle || typeof handle !== 'object' || sock.destroyed) return undefined;
  old._handle = null;
  const s = new net.Socket({ handle, allowHalfOpen, onread } as unknown as net.SocketConstructorOpts);
  // the orphaned socket never closes: the new one does the server's connection bookkeeping
  (s as unknown as HandleOwner).server = old.server;
  old.server = null;
  return s;
}

// ---- accepting sockets with onread directly ----------------------------------------------------

const READ_HOOK = Symbol('haproxy-ts.readHook');
interface ReadHook { next: () => Buffer; cb: (n: number, buf: Uint8Array) => boolean }
interface ServerInternals { _handle?: { onconnection?: unknown } | null; _connections?: number; _emitCloseIfDrained?: () => void }

/**
 * Makes a listening server create each accepted socket with `onread` itself (one net.Socket per
 * connection, instead of Node's socket plus the one `adoptAccepted` builds). The socket starts
 * paused (like pauseOnConnect) and reads into the shared buffer until `attachReader` gives it its
 * stream's buffer and callback. Relies on the server handle's `onconnection` hook, as
 * `adoptAccepted` relies on `_handle`; returns false (nothing changed) where that is missing.
 */
export function acceptWithOnread(srv: net.Server, onError: (e: Error) => void): boolean {
  const internals = srv as unknown as ServerInternals;
  const h = internals._handle;
  if (!h || typeof h.onconnection !== 'function') return false;
  const original = h.onconnection as (this: unknown, err: number, client: unknown) => void;
  const onClosed = (): void => {
    internals._connections = (internals._connections ?? 1) - 1;
    internals._emitCloseIfDrained?.call(srv);
  };
  h.onconnection = function (this: unknown, err: number, clientHandle: unknown): void {
    if (err || !clientHandle) {
      if (err) onError(new Error(`accept failed (${err})`));
      else original.call(this, err, clientHandle);
      return;
    }
    if (isRawTcpHandle(clientHandle)) {
      // data-plane socket on the handle itself (net/raw-socket.ts); reading starts with
      // resume(), into the buffer attachReader gives it
      const rs = new RawSocket({ buffer: () => SHARED, callback: () => false }, clientHandle as never);
      rs.onClosed = onClosed;
      internals._connections = (internals._connections ?? 0) + 1;
      srv.emit('connection', rs);
      return;
    }
    const hook: ReadHook = { next: () => SHARED, cb: () => false };
    const sock = new net.Socket({
      handle: clientHandle, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true,
      onread: { buffer: () => hook.next(), callback: (n: number, b: Uint8Array) => hook.cb(n, b) },
    } as unknown as net.SocketConstructorOpts);
    (sock as unknown as Record<symbol, ReadHook>)[READ_HOOK] = hook;
    internals._connections = (internals._connections ?? 0) + 1;
    (sock as unknown as { server: unknown }).server = srv;
    srv.emit('connection', sock);
  };
  return true;
}

/**
 * Points a socket accepted through `acceptWithOnread` at its stream's buffer and callback;
 * false for other sockets. Until the first read of the stream's own buffer, bytes may still land
 * in the shared buffer: callers write what they read through `safeView`.
 */
export function attachReader(sock: Sock, onread: OnRead): boolean {
  if (sock instanceof RawSocket) { sock.reader = onread; return true; }
  const hook = (sock as unknown as Record<symbol, ReadHook | undefined>)[READ_HOOK];
  if (!hook) return false;
  hook.next = onread.buffer;
  hook.cb = onread.callback;
  return true;
}

const EMPTY = Buffer.alloc(0);

/**
 * After a write that was queued (writableLength > 0) although write() returned true, Node emits no
 * 'drain' (only writes that return false do): asks for `cb` once everything queued so far has
 * been flushed, with an empty write, which completes in order after the others.
 */
export function whenFlushed(sock: Sock, cb: () => void): void {
  if (!sock.destroyed && !sock.writableEnded) sock.write(EMPTY, () => cb());
}
