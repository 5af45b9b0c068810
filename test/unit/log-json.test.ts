// The %{+json} encoding of formatted strings (configuration.txt 8.2.6). HAProxy 2.6 has no
// encodings: expected outputs are hand-written from the 3.2 documentation: with "%{+json}o" the
// line is a JSON object of the named items (literal text and unnamed items left out), numeric
// aliases are numbers ('+' of logasap dropped), strings are escaped JSON strings, absent values
// null, and "%(name:type)" forces str/sint/bool; on a single item the value alone is encoded.
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFormat, jsonString } from '../../src/log/format.js';
import { SmpCtx, type StreamInfo } from '../../src/sample/context.js';
import { registerFetch, fetchRegistry } from '../../src/sample/registry.js';
import { smpStr, smpInt, smpBool } from '../../src/sample/types.js';
import { HttpHeaders } from '../../src/http/htx.js';

if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => smpStr(a[0] as string) });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => smpInt(a[0] as number) });
if (!fetchRegistry.has('bool')) registerFetch('bool', { fn: (a) => smpBool(Number(a[0]) !== 0) });
if (!fetchRegistry.has('var')) registerFetch('var', { fn: () => undefined });

function mkCtx(over: Partial<StreamInfo> = {}): SmpCtx {
  const ctx = new SmpCtx({ src: '127.0.0.1', srcPort: 5555, dst: '10.0.3.31', dstPort: 8012, acceptedAt: Date.UTC(2009, 1, 6, 12, 12, 51, 443) });
  ctx.fe = { name: 'fnt', mode: 'http', feCounters: { cur: 3 }, counters: { cur: 9 } } as any;
  ctx.stream = { bytesIn: 84, bytesOut: 265, ...over } as StreamInfo;
  ctx.req = { method: 'GET', uri: '/p?x=1', version: 'HTTP/1.1', headers: new HttpHeaders() };
  ctx.status = 200;
  return ctx;
}

function render(fmt: string, ctx = mkCtx()): string {
  const r = compileFormat(fmt, { proxyMode: 'http' });
  if (r.error !== undefined) throw new Error(r.error);
  return r.fmt.render(ctx);
}

test('%{+json}o: the documentation example', () => {
  assert.equal(render('%{+json}o %(request)r %(custom_expr)[str(custom)]'),
    '{"request": "GET /p?x=1 HTTP/1.1", "custom_expr": "custom"}');
});

test('%{+json}o: numbers, strings, unnamed items and literals left out, null, typed items', () => {
  assert.equal(render('%{+json}o %(client_ip)ci:%cp [%t] %(port)cp %(fe)f %(status)ST %(bytes)B %(n)[int(-3)] %(ok)[bool(1)] %(miss)[var(txn.nope)]'),
    '{"client_ip": "127.0.0.1", "port": 5555, "fe": "fnt", "status": 200, "bytes": 265, "n": -3, "ok": true, "miss": null}');
  // forced types
  assert.equal(render('%{+json}o %(st:str)ST %(num:sint)[str(42)] %(b:bool)[int(0)] %(bad:sint)[str(x)]'),
    '{"st": "200", "num": 42, "b": false, "bad": null}');
  // logasap: '+' dropped from the incomplete byte count; +Q and +E do not apply
  assert.equal(render('%{+json,+Q,+E}o %(bytes)B %(fe)f', mkCtx({ logasap: true })), '{"bytes": 265, "fe": "fnt"}');
  // a backslash is escaped
  assert.equal(render('%{+json}o %(s)[str(a\\tb)]'), '{"s": "a\\\\tb"}');
  // control characters (RFC 8259 section 7)
  assert.equal(jsonString('a\tb\n\u0001"'), '"a\\tb\\n\\u0001\\""');
});

test('%{+json} on one item: the value alone', () => {
  assert.equal(render('st=%{+json}ST fe=%{+json}f q=%{+json}[str(a)]'), 'st=200 fe="fnt" q="a"');
});

