#!/usr/bin/env node
// Experiment, not part of haproxy-ts: minimal one-server TCP relays, each using another way of
// moving bytes in Node.js, to measure what the data pump of src/stream/tcp-stream.ts could gain.
// bench/run.mjs runs them as targets `pump-<variant>` (BENCH_TARGETS=...,pump-streams,...).
//
//   node bench/pump-variants.mjs <variant> <listen-port> <server-port>
//
// Variants:
//   streams     what tcp-stream.ts does once connected: 'data' → write(), pause on a full
//               socket, resume on 'drain'; setTimeout() on both sockets; per-chunk counters
//   notimeout   the same without socket.setTimeout() (one idle timer per stream, checked lazily)
//   onread      server side read with net.connect({ onread }) into one reused buffer per stream
//               (no Readable machinery, no allocation per read); client side as `notimeout`
//   onread2     both sides read with `onread`: the accepted socket's handle is moved into a new
//               net.Socket created with `onread` (Node has no `onread` option for servers)
//   raw         the ceiling for a relay in Node.js: libuv TCP handles driven directly (the
//               bindings src/net/raw-socket.ts uses), a reused write request, no timer, no
//               counter, no back-pressure handling (enough for wrk's request/response loads)
import net from 'node:net';

const [variant = 'streams', lport, sport] = process.argv.slice(2);
if (!lport || !sport || !['streams', 'notimeout', 'onread', 'onread2', 'raw'].includes(variant)) {
  process.stderr.write('usage: pump-variants.mjs streams|notimeout|onread|onread2|raw <listen-port> <server-port>\n');
  process.exit(1);
}
const IDLE_MS = 30_000;
const counters = { bytesIn: 0, bytesOut: 0, sessions: 0 };

/** One coarse idle timer per stream: activity only stores a timestamp. */
function idleWatch(onIdle) {
  let last = Date.now();
  let timer = setTimeout(check, IDLE_MS);
  function check() {
    const left = last + IDLE_MS - Date.now();
    if (left <= 0) onIdle();
    else timer = setTimeout(check, left);
  }
  return { touch() { last = Date.now(); }, stop() { clearTimeout(timer); } };
}

function relay(cli) {
  counters.sessions++;
  cli.setNoDelay(true);
  let srv;
  const pending = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    watch?.stop();
    cli.destroy();
    srv?.destroy();
  };
  const watch = variant === 'streams' ? undefined : idleWatch(close);
  const touch = watch ? watch.touch : () => {};
  if (variant === 'streams') {
    cli.setTimeout(IDLE_MS);
    cli.on('timeout', close);
  }
  const early = (d) => pending.push(d);
  cli.on('data', early);
  cli.on('error', close);
  cli.on('close', close);

  const opts = { host: '127.0.0.1', port: Number(sport), allowHalfOpen: true, noDelay: true };
  if (variant === 'onread') {
    const buf = Buffer.allocUnsafe(64 * 1024);
    opts.onread = {
      buffer: buf,
      callback(n, b) {
        counters.bytesOut += n;
        touch();
        const ok = cli.write(b.subarray(0, n));
        // the write went straight to the kernel unless something is queued: only then is the
        // buffer still referenced, and reading must wait for the queue to drain
        if (!ok || cli.writableLength > 0) {
          cli.once('drain', () => srv.resume());
          return false;
        }
        return true;
      },
    };
  }
  srv = net.connect(opts);
  srv.on('error', close);
  srv.on('close', close);
  srv.once('connect', () => {
    if (closed) return;
    cli.removeListener('data', early);
    for (const d of pending) srv.write(d);
    pending.length = 0;
    if (variant === 'streams') {
      srv.setTimeout(IDLE_MS);
      srv.on('timeout', close);
    }
    cli.on('data', (chunk) => {
      counters.bytesIn += chunk.length;
      touch();
      if (!srv.write(chunk)) cli.pause();
    });
    srv.on('drain', () => cli.resume());
    if (variant !== 'onread') {
      srv.on('data', (chunk) => {
        counters.bytesOut += chunk.length;
        touch();
        if (!cli.write(chunk)) srv.pause();
      });
      cli.on('drain', () => srv.resume());
    }
    cli.on('end', () => srv.end());
    srv.on('end', () => cli.end());
  });
}

/** Both directions through `onread` buffers; backpressure pauses the reading side. */
function relay2(accepted, server) {
  const handle = accepted._handle;
  accepted._handle = null;
  counters.sessions++;
  let closed = false;
  let srv;
  const pending = [];
  const watch = idleWatch(() => close());
  const close = () => {
    if (closed) return;
    closed = true;
    watch.stop();
    cli.destroy();
    srv?.destroy();
  };
  const cbuf = Buffer.allocUnsafe(64 * 1024);
  const sbuf = Buffer.allocUnsafe(64 * 1024);
  let connected = false;
  const cli = new net.Socket({
    handle, allowHalfOpen: true,
    onread: {
      buffer: cbuf,
      callback(n, b) {
        counters.bytesIn += n;
        watch.touch();
        if (!connected) { pending.push(Buffer.from(b.subarray(0, n))); return true; }
        const ok = srv.write(b.subarray(0, n));
        if (!ok || srv.writableLength > 0) { srv.once('drain', () => cli.resume()); return false; }
        return true;
      },
    },
  });
  cli.server = server; // the orphaned accepted socket never closes: let this one do the bookkeeping
  cli.setNoDelay(true);
  cli.on('error', close);
  cli.on('close', close);
  srv = net.connect({
    host: '127.0.0.1', port: Number(sport), allowHalfOpen: true, noDelay: true,
    onread: {
      buffer: sbuf,
      callback(n, b) {
        counters.bytesOut += n;
        watch.touch();
        const ok = cli.write(b.subarray(0, n));
        if (!ok || cli.writableLength > 0) { cli.once('drain', () => srv.resume()); return false; }
        return true;
      },
    },
  });
  srv.on('error', close);
  srv.on('close', close);
  srv.once('connect', () => {
    if (closed) return;
    connected = true;
    for (const d of pending) srv.write(d);
    pending.length = 0;
    cli.on('end', () => srv.end());
    srv.on('end', () => cli.end());
  });
  cli.resume();
}

/** The `raw` variant: a relay on libuv handles, with nothing but the bytes' path. */
function rawRelay() {
  const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
  const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = process.binding('stream_wrap');
  const UV_EOF = -4095;
  let spare;
  const write = (h, buf) => {
    const req = spare ?? new WriteWrap();
    spare = undefined;
    req.oncomplete = () => {};
    h.writeBuffer(req, buf);
    if (streamBaseState[kLastWriteWasAsync]) req.buffer = buf; else spare = req;
  };
  const shut = (h) => { const r = new ShutdownWrap(); r.oncomplete = () => {}; h.shutdown(r); };
  const listener = new TCP(constants.SERVER);
  if (listener.bind('127.0.0.1', Number(lport)) || listener.listen(511)) throw new Error('cannot listen');
  listener.onconnection = (err, c) => {
    if (err) return;
    const s = new TCP(constants.SOCKET);
    const cbuf = Buffer.allocUnsafe(16 * 1024);
    const sbuf = Buffer.allocUnsafe(16 * 1024);
    let closed = false;
    let eofs = 0;
    const closeBoth = () => { if (!closed) { closed = true; c.close(); s.close(); } };
    const pipe = (from, to, buf) => {
      let eof = false;
      from.onread = () => {
        const n = streamBaseState[kReadBytesOrError];
        if (n > 0) write(to, buf.subarray(0, n));
        else if (n === UV_EOF && !eof) { eof = true; shut(to); if (++eofs === 2) closeBoth(); }
        else if (n < 0) closeBoth();
      };
    };
    c.setNoDelay(true);
    s.setNoDelay(true);
    c.useUserBuffer(cbuf);
    s.useUserBuffer(sbuf);
    pipe(c, s, cbuf);
    pipe(s, c, sbuf);
    const req = new TCPConnectWrap();
    req.oncomplete = (status) => { if (status < 0) { closeBoth(); return; } c.readStart(); };
    if (s.connect(req, '127.0.0.1', Number(sport))) { closeBoth(); return; }
    s.readStart();
  };
  const bye = () => { listener.close(); process.exit(0); };
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}

if (variant === 'raw') rawRelay();
else {
const server = variant === 'onread2'
  ? net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => relay2(s, server))
  : net.createServer({ allowHalfOpen: true, pauseOnConnect: false }, relay);
server.listen(Number(lport), '127.0.0.1');
const bye = () => { server.close(); process.exit(0); };
process.on('SIGTERM', bye);
process.on('SIGINT', bye);
}
