// The %{+json} encoding of formatted strings (configuration.txt 8.2.6). HAProxy 2.6 has no
// encodings: expected outputs are hand-written from the 3.2 documentation: with "%{+json}o" the
// line is a JSON object of the named items (literal text and unnamed items left out), numeric
// aliases are numbers ('+' of logasap dropped), strings are escaped JSON strings, absent values
// null, and "%(name:type)" forces str/sint/bool; on a single item the value alone is encoded.
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonString } from '../../src/log/format.js';
import { mkLogCtx as mkCtx, renderLog as render } from '../helpers/log-ctx.js';

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

