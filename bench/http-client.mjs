// Minimal keep-alive HTTP/1.1 client connection for the load generators of bench/run-http.mjs
// (rate-load.mjs, idle-conns.mjs): one GET at a time, responses framed by Content-Length or
// chunked encoding; no allocation beyond the received chunks.
import net from 'node:net';

const CRLFCRLF = Buffer.from('\r\n\r\n');

export class HttpConn {
  /**
   * @param {number} port  127.0.0.1:port
   * @param {string} urlPath
   * @param {(conn: HttpConn, err?: Error) => void} onResponse  called once per response (or error)
   */
  constructor(port, urlPath, onResponse) {
    this.req = Buffer.from(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1');
    this.onResponse = onResponse;
    this.busy = false;
    this.closed = false;
    this.buf = null;        // unparsed bytes of the response head
    this.remaining = -1;    // body bytes still expected; -1 = in the head; -2 = chunked
    this.status = 0;
    this.sentAt = 0n;
    this.sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.connected = new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('error', (e) => this.fail(e));
    this.sock.on('close', () => { this.closed = true; this.fail(new Error('connection closed')); });
  }

  send() {
    this.busy = true;
    this.remaining = -1;
    this.buf = null;
    this.sentAt = process.hrtime.bigint();
    this.sock.write(this.req);
  }

  fail(e) {
    if (!this.busy) return;
    this.busy = false;
    this.onResponse(this, e);
  }

  done() {
    this.busy = false;
    this.onResponse(this, this.status === 200 ? undefined : new Error(`status ${this.status}`));
  }

  onData(d) {
    if (!this.busy) return;
    if (this.remaining === -1) {
      this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
      const end = this.buf.indexOf(CRLFCRLF);
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      d = this.buf.subarray(end + 4);
      this.buf = null;
      if (cl) this.remaining = Number(cl[1]);
      else if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) { this.remaining = -2; this.chunkTail = Buffer.alloc(0); }
      else this.remaining = 0;
    }
    if (this.remaining === -2) {
      // chunked: good enough for a benchmark: the body ends with the last-chunk and empty trailer
      this.chunkTail = Buffer.concat([this.chunkTail, d]).subarray(-5);
      if (this.chunkTail.toString('latin1') === '0\r\n\r\n') this.done();
      return;
    }
    this.remaining -= d.length;
    if (this.remaining <= 0) this.done();
  }

  close() { this.sock.destroy(); }
}

/** Parses `--name value` arguments into an object of strings, with defaults. */
export function parseArgs(argv, defaults) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in defaults)) throw new Error(`unknown option --${k} (known: ${Object.keys(defaults).join(', ')})`);
    o[k] = argv[i + 1];
  }
  return o;
}

/** p-th percentile (0..100) of a sorted array. */
export function percentile(sorted, p) {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
