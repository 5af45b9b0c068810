// The %{+cbor} encoding of formatted strings (configuration.txt 8.2.6): like json, "%{+cbor}o" makes
// the line a map of the named items, here in CBOR (RFC 8949), written in upper-case hex unless
// "+bin" asks for the raw bytes. HAProxy 2.6 has no encodings: every expected value below is
// encoded by hand from RFC 8949 (major types 0/1 integers, 3 text strings, 5 maps with the
// indefinite length 0xbf ... 0xff, simple values 0xf4 false, 0xf5 true, 0xf6 null).
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cborText } from '../../src/log/format.js';
import { mkLogCtx, renderLog } from '../helpers/log-ctx.js';

const mkCtx = (over = {}) => mkLogCtx(over, '/p');
const render = (fmt: string, ctx = mkCtx()): string => renderLog(fmt, ctx);

test('text strings and integers: RFC 8949 heads', () => {
  assert.equal(Buffer.from(cborText('a'), 'latin1').toString('hex'), '6161');
  assert.equal(Buffer.from(cborText('x'.repeat(24)), 'latin1').toString('hex').slice(0, 4), '7818');
  assert.equal(render('%{+cbor}[int(0)]'), '00');
  assert.equal(render('%{+cbor}[int(23)]'), '17');
  assert.equal(render('%{+cbor}[int(24)]'), '1818');
  assert.equal(render('%{+cbor}[int(1000)]'), '1903E8');
  assert.equal(render('%{+cbor}[int(-1)]'), '20');
  assert.equal(render('%{+cbor}[int(-1000)]'), '3903E7');
  assert.equal(render('%{+cbor}[int(1000000)]'), '1A000F4240');
  assert.equal(render('%{+cbor}[bool(1)] %{+cbor}[bool(0)]'), 'F5 F4');
  assert.equal(render('%{+cbor}[str(IETF)]'), '6449455446');
});

test('%{+cbor}o: the documentation example is a map of the named items', () => {
  // {"request": "GET /p HTTP/1.1", "custom_expr": "custom"}
  const want = 'bf' +
    '67' + Buffer.from('request').toString('hex') + '6f' + Buffer.from('GET /p HTTP/1.1').toString('hex') +
    '6b' + Buffer.from('custom_expr').toString('hex') + '66' + Buffer.from('custom').toString('hex') + 'ff';
  assert.equal(render('%{+cbor}o %(request)r %(custom_expr)[str(custom)]'), want.toUpperCase());
});

test('%{+cbor}o: numbers, null, typed items, unnamed items and literals left out, +bin', () => {
  // {"st": 200, "b": 265, "tt": -1, "ok": true}  (%Tt unknown is the timer -1; literal and %ci unnamed: left out)
  const want = 'bf' + '627374' + '18c8' + '6162' + '190109' + '627474' + '20' + '626f6b' + 'f5' + 'ff';
  assert.equal(render('%{+cbor}o %(st)ST literal %ci %(b)B %(tt)Tt %(ok:bool)[int(1)]', mkCtx()), want.toUpperCase());
  // +bin: the raw bytes (one char per byte)
  const raw = render('%{+cbor,+bin}o %(st)ST');
  assert.equal(Buffer.from(raw, 'latin1').toString('hex'), 'bf' + '627374' + '18c8' + 'ff');
});
