// Bad input never throws: mutated and random messages through the H1 parsers and the chunked
// decoder always end in 'ok', 'incomplete' or an error result with a status and an offset inside
// the input. Deterministic (seeded), bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestHead, parseResponseHead, ChunkedDecoder, type H1Options } from '../../src/http/h1.js';

const O: H1Options = { maxHeadBytes: 16384 - 1024, maxHeaders: 101 };

/** xorshift32: reproducible pseudo-random numbers */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const SEEDS = [
  'GET /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello',
  'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'CONNECT a.b:443 HTTP/1.1\r\nHost: a.b:443\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
];
const RESP = [
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=b\r\n\r\nok',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  'HTTP/1.0 304 Not Modified\r\nETag: "x"\r\n\r\n',
];
const SPECIAL = [0, 9, 10, 13, 32, 34, 44, 58, 59, 127, 255, 0x0b, 0x2b, 0x2d, 0x30, 0x46];

function mutate(src: Buffer, r: () => number): Buffer {
  const b = Buffer.from(src);
  const n = 1 + (r() % 4);
  let out = b;
  for (let i = 0; i < n; i++) {
    const pos = r() % Math.max(1, out.length);
    switch (r() % 4) {
      case 0: out[pos] = SPECIAL[r() % SPECIAL.length]!; break;               // replace a byte
      case 1: out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1)]); break; // delete
      case 2: out = Buffer.concat([out.subarray(0, pos), Buffer.from([SPECIAL[r() % SPECIAL.length]!]), out.subarray(pos)]); break;
      default: out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + 8), out.subarray(pos)]); // duplicate
    }
  }
  return out;
}

function checkResult(r: { state: string; status?: number; offset?: number }, len: number, what: string): void {
  assert.ok(r.state === 'ok' || r.state === 'incomplete' || r.state === 'error', `${what}: state ${r.state}`);
  if (r.state === 'error') {
    assert.ok(r.status! >= 400 && r.status! <= 599, `${what}: status ${r.status}`);
    assert.ok(r.offset! >= 0 && r.offset! <= len, `${what}: offset ${r.offset} outside 0..${len}`);
  }
}

test('h1 parsers never throw on mutated or random input', () => {
  const r = rng(0x5eed);
  let errors = 0, oks = 0;
  for (let i = 0; i < 6000; i++) {
    const req = mutate(Buffer.from(SEEDS[i % SEEDS.length]!, 'latin1'), r);
    const a = parseRequestHead(req, O);
    checkResult(a as never, req.length, `request ${JSON.stringify(req.toString('latin1'))}`);
    if (a.state === 'error') errors++; else if (a.state === 'ok') oks++;
    const resp = mutate(Buffer.from(RESP[i % RESP.length]!, 'latin1'), r);
    checkResult(parseResponseHead(resp, i % 5 === 0 ? 'HEAD' : 'GET', O) as never, resp.length, `response ${JSON.stringify(resp.toString('latin1'))}`);
  }
  for (let i = 0; i < 2000; i++) {
    const len = r() % 200;
    const junk = Buffer.alloc(len);
    for (let j = 0; j < len; j++) junk[j] = r() & 0xff;
    checkResult(parseRequestHead(junk, O) as never, len, 'random request');
    checkResult(parseResponseHead(junk, 'GET', O) as never, len, 'random response');
  }
  // the mutations exercise both outcomes
  assert.ok(errors > 100 && oks > 100, `errors ${errors}, oks ${oks}`);
});

test('chunked decoder never throws and never consumes more than it is given', () => {
  const r = rng(0xc0ffee);
  const base = Buffer.from('5;x=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\nNEXT', 'latin1');
  for (let i = 0; i < 4000; i++) {
    const input = mutate(base, r);
    const d = new ChunkedDecoder();
    let off = 0;
    while (off < input.length) {
      const step = 1 + (r() % 7);
      const piece = input.subarray(off, off + step);
      const res = d.push(piece);
      assert.ok(res.consumed >= 0 && res.consumed <= piece.length, `consumed ${res.consumed} of ${piece.length}`);
      for (const data of res.data) assert.ok(data.length <= piece.length);
      if (res.error || res.done) break;
      off += piece.length;
    }
  }
});
