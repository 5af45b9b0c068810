// HTTP error replies: built-in pages byte for byte (harvested from Debian's HAProxy 2.6), the
// errorfile/errorloc/errorfiles/http-error keywords, the http-errors section, inheritance.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/config/global-keywords.js';
import '../../src/proxy/keywords.js';
import '../../src/proxy/server-keywords.js';
import '../../src/net/bind-keywords.js';
import {
  defaultErrorReply, rawDefaultErrorMessage, errorReplyFor, errorMessageFor, parseRawMessage, serializeReply,
  ERROR_STATUSES, reasonPhrase,
} from '../../src/http/errors.js';
import { parseConfigFiles } from '../../src/config/parser.js';
import { condContext } from '../../src/cli/main.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-errors-'));
test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content, 'latin1');
  return f;
}
function parse(text: string) {
  return parseConfigFiles([file('h.cfg', text)], condContext());
}
const alerts = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'ALERT').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);
const warnings = (r: ReturnType<typeof parse>) => r.diags.filter((d) => d.level === 'WARNING').map((d) => `${d.where?.line ?? '-'}:${d.msg}`);

const HDR = `defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
`;

// What haproxy 2.6 sent (http-request deny deny_status <code>, no server, server abort/timeout).
const page = (code: number, reason: string, text: string, close = false): string => {
  const body = `<html><body><h1>${code} ${reason}</h1>\n${text}\n</body></html>\n`;
  return `HTTP/1.1 ${code} ${reason}\r\ncontent-length: ${body.length}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
};
const HARVESTED: Record<number, string> = {
  200: 'HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n',
  400: 'HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n',
  401: 'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
  403: 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
  404: 'HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n',
  405: 'HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n',
  407: 'HTTP/1.1 407 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n',
  408: 'HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn\'t send a complete request in time.\n</body></html>\n',
  410: 'HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n',
  413: 'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 106\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n',
  425: 'HTTP/1.1 425 Too Early\r\ncontent-length: 80\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n',
  429: 'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n',
  500: 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n',
  501: 'HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n',
  502: 'HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n',
  503: 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n',
  504: 'HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn\'t respond in time.\n</body></html>\n',
};

test('built-in pages match haproxy 2.6 byte for byte', () => {
  for (const [code, want] of Object.entries(HARVESTED)) {
    assert.equal(defaultErrorReply(Number(code)).toString('latin1'), want, `status ${code}`);
  }
  // the 3.2-only pages follow the same layout
  assert.equal(defaultErrorReply(414).toString('latin1'), page(414, 'URI Too Long', 'The URI provided was too long for the server to process.'));
  assert.equal(defaultErrorReply(431).toString('latin1'), page(431, 'Request Header Fields Too Large', '>Request Header Fields Too Large.'));
  assert.deepEqual([...ERROR_STATUSES], [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 414, 425, 429, 431, 500, 501, 502, 503, 504]);
  // statuses without a page get 500's, as HAProxy
  assert.equal(defaultErrorReply(418).toString('latin1'), HARVESTED[500]);
});

test('raw built-in pages: what the 2.6 H1 mux sends for early 400/408', () => {
  assert.equal(rawDefaultErrorMessage(400).toString('latin1'),
    'HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n');
  assert.equal(rawDefaultErrorMessage(408).toString('latin1'),
    'HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn\'t send a complete request in time.\n</body></html>\n');
});

test('reason phrases of generated replies', () => {
  assert.equal(reasonPhrase(400), 'Bad Request');
  assert.equal(reasonPhrase(407), 'Proxy Authentication Required');
  assert.equal(reasonPhrase(413), 'Request Entity Too Large');
  assert.equal(reasonPhrase(502), 'Bad Gateway or Proxy Error');
  assert.equal(reasonPhrase(499), 'client has closed connection');
  assert.equal(reasonPhrase(299), 'Success');
});

test('parsing errorfile contents and serializing them as haproxy 2.6 does', () => {
  const r = parseRawMessage(Buffer.from('HTTP/1.0 503 Sorry\r\nContent-Type:   text/plain \r\nX-Foo: bar\r\nContent-Length: 6\r\n\r\nsorry\n'));
  assert.ok(typeof r !== 'string');
  assert.equal(serializeReply(r).toString(), 'HTTP/1.0 503 Sorry\r\ncontent-type: text/plain\r\nx-foo: bar\r\ncontent-length: 6\r\nconnection: keep-alive\r\n\r\nsorry\n');
  const nolen = parseRawMessage(Buffer.from('HTTP/1.1 503 X\r\n\r\nbody-without-length'));
  assert.ok(typeof nolen !== 'string');
  assert.equal(serializeReply(nolen).toString(), 'HTTP/1.1 503 X\r\nconnection: close\r\n\r\nbody-without-length');
  const lf = parseRawMessage(Buffer.from('HTTP/1.1 503 X\nContent-Length: 2\n\nab'));
  assert.ok(typeof lf !== 'string');
  assert.equal(serializeReply(lf).toString(), 'HTTP/1.1 503 X\r\ncontent-length: 2\r\n\r\nab');
  const cl = parseRawMessage(Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\nX-Up: A\r\n\r\nhello'));
  assert.ok(typeof cl !== 'string');
  assert.equal(serializeReply(cl).toString(), 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\nx-up: A\r\nconnection: close\r\n\r\nhello');
  const empty = parseRawMessage(Buffer.alloc(0));
  assert.ok(typeof empty !== 'string' && empty.empty);
  assert.equal(serializeReply(empty as Exclude<typeof empty, string>).length, 0);
  assert.equal(parseRawMessage(Buffer.from('garbage\r\n\r\n')), 'unable to parse headers (error offset: 0)');
  assert.equal(parseRawMessage(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n')), 'invalid http status code for an error message (100)');
  assert.equal(parseRawMessage(Buffer.from('HTTP/1.1 503 X\r\nContent-Length: 2\r\n\r\nabcdef')), 'payload size does not match the announced content-length (6 != 2)');
  assert.equal(parseRawMessage(Buffer.from('HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n')), 'chunk-encoded payload not supported');
});

test('errorfile: replies, argument checks and alerts with file:line', () => {
  const ok = file('ok.http', 'HTTP/1.1 503 Sorry\r\nContent-Length: 5\r\n\r\nsorry');
  const r = parse(`${HDR}frontend f
  bind 127.0.0.1:1
  errorfile 503 ${ok}
  errorfile 999 ${ok}
  errorfile 302 ${ok}
  errorfile 503 ${dir}/nonexistent.http
  errorfile 503
  errorfile abc ${ok}
  errorfile 404 ${dir}
  errorfile 400 ${file('bad.http', 'garbage\r\n\r\n')}
  errorfile 400 ${file('c.http', 'HTTP/1.1 400 X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')}
`);
  assert.deepEqual(alerts(r), [
    "8:errorfile : status code '999' not handled.",
    "9:errorfile : status code '302' not handled.",
    `10:errorfile : error opening file '${dir}/nonexistent.http'.`,
    '11:errorfile : expects <status_code> and <file> as arguments.',
    "12:errorfile : status code '0' not handled.",
    `13:errorfile : error reading file '${dir}'.`,
    `14:errorfile : '${dir}/bad.http': unable to parse headers (error offset: 0)`,
    `15:errorfile : '${dir}/c.http': chunk-encoded payload not supported`,
  ]);
});

test('errorfile, errorloc, errorloc303, http-error replies of a proxy', () => {
  const ok = file('ok2.http', 'HTTP/1.1 503 Sorry\r\nContent-Length: 5\r\n\r\nsorry');
  const empty = file('empty.http', '');
  const r = parse(`${HDR}frontend f
  bind 127.0.0.1:1
  errorfile 503 ${ok}
  errorfile 408 ${empty}
  errorloc 403 http://example.com/denied
  errorloc303 404 /nf
  http-error status 429 content-type text/plain string hello hdr X-A b
  http-error status 500 content-type text/plain hdr X-B "50%% off"
  default_backend b
backend b
  errorloc302 502 /bad
`);
  assert.deepEqual(alerts(r), []);
  assert.deepEqual(warnings(r).filter((w) => !w.includes('no server')), ["12:content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined."]);
  const f = r.config.proxies.find((p) => p.name === 'f')!;
  const b = r.config.proxies.find((p) => p.name === 'b')!;
  assert.equal(errorReplyFor(f, 503).toString(), 'HTTP/1.1 503 Sorry\r\ncontent-length: 5\r\n\r\nsorry');
  assert.equal(errorReplyFor(f, 408).length, 0);
  assert.ok(errorMessageFor(f, 408).empty);
  assert.equal(errorReplyFor(f, 403).toString(), 'HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://example.com/denied\r\n\r\n');
  assert.equal(errorReplyFor(f, 404).toString(), 'HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /nf\r\n\r\n');
  assert.equal(errorReplyFor(f, 429).toString(), 'HTTP/1.1 429 Too Many Requests\r\nx-a: b\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello');
  assert.equal(errorReplyFor(f, 500).toString(), 'HTTP/1.1 500 Internal Server Error\r\nx-b: 50% off\r\ncontent-length: 0\r\n\r\n');
  assert.equal(errorReplyFor(f, 504).toString(), HARVESTED[504]);
  // backend first, then frontend, then the built-in page
  assert.equal(errorReplyFor(b, 502, f).toString(), 'HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /bad\r\n\r\n');
  assert.equal(errorReplyFor(b, 503, f).toString(), 'HTTP/1.1 503 Sorry\r\ncontent-length: 5\r\n\r\nsorry');
  assert.equal(errorReplyFor(b, 400, f).toString(), HARVESTED[400]);
  assert.equal(errorReplyFor(undefined, 503).toString(), HARVESTED[503]);
});

test('errorloc argument checks', () => {
  const r = parse(`${HDR}frontend f
  bind 127.0.0.1:1
  errorloc 999 http://x/
  errorloc 503
  errorloc302 503
  errorloc303 abc /x
  errorloc
  errorloc303 404 /a /b
`);
  assert.deepEqual(alerts(r), [
    "7:errorloc : status code '999' not handled.",
    '8:errorloc : expects <status_code> and <url> as arguments.',
    '9:errorloc302 : expects <status_code> and <url> as arguments.',
    "10:errorloc303 : status code '0' not handled.",
    '11:errorloc : expects <status_code> and <url> as arguments.',
  ]);
});

test('http-error argument checks and warnings', () => {
  const ok = file('ok3.http', 'HTTP/1.1 503 Sorry\r\nContent-Length: 5\r\n\r\nsorry');
  const empty = file('empty2.http', '');
  const r = parse(`${HDR}frontend f
  bind 127.0.0.1:1
  http-error status 503 string hello
  http-error status 999 content-type text/plain string x
  http-error
  http-error status
  http-error status 503 errorfile ${dir}/none
  http-error status 503 file ${dir}/none content-type text/plain
  http-error status 503 content-type text/plain lf-string %[src]
  http-error status 503 content-type text/plain string x hdr X-A %[src]
  http-error status 503 bogus
  http-error foo 503
  http-error status 503 errorfile ${ok} content-type text/plain
  http-error status 503 string x content-type text/plain file ${ok}
  http-error status 503 file ${empty} content-type text/plain
  http-error status 503 content-type text/plain string
  http-error status 503 hdr X-A
  http-error status 503 errorfile ${ok} hdr X-A b
  http-error status 503 content-type text/plain string x hdr content-length 3
  http-error status 503 content-type text/plain lf-file /x
`);
  assert.deepEqual(alerts(r), [
    '7:http-error : a content type must be defined when non-empty payload is configured',
    "8:http-error : Unexpected status code '999'",
    '9:http-error : expects at least a <status> as arguments.',
    "10:http-error : 'status' expects <status_code> as argument",
    `11:http-error : error opening file '${dir}/none'.`,
    `12:http-error : error opening file '${dir}/none'`,
    "15:http-error : unknown keyword 'bogus'.",
    '16:http-error : expects at least a <status> as arguments.',
    "18:http-error : unexpected 'file' argument, 'string' already defined",
    "20:http-error : 'string' expects <str> as argument",
    "21:http-error : 'hdr' expects <name> and <value> as arguments",
    "24:http-error : error opening file '/x'",
  ]);
  assert.deepEqual(warnings(r), [
    "17:content-type 'text/plain' ignored by the http reply when used with an erorrfile.",
    "19:content-type 'text/plain' ignored by the http reply when used with an empty payload.",
    '22:hdr parameters ignored by the http reply when used with an erorrfile.',
    "23:header 'content-length' always ignored by the http reply.",
  ]);
});

test('http-errors sections, errorfiles and http-error errorfiles/default-errorfiles', () => {
  const e503 = file('e503.http', 'HTTP/1.1 503 From-E1\r\nContent-Length: 2\r\n\r\ne1');
  const e404 = file('e404.http', 'HTTP/1.1 404 From-E1\r\nContent-Length: 2\r\n\r\ne1');
  const own = file('own.http', 'HTTP/1.1 503 Own\r\nContent-Length: 3\r\n\r\nown');
  const r = parse(`${HDR}frontend f1
  bind 127.0.0.1:1
  errorfile 503 ${own}
  errorfiles e1
frontend f2
  bind 127.0.0.1:2
  errorfiles e1 404
  errorfile 503 ${own}
  http-error status 503 default-errorfiles
frontend f3
  bind 127.0.0.1:3
  errorfiles e1 503 408
  http-error status 404 errorfiles e1
http-errors e1
  errorfile 503 ${e503}
  errorfile 404 ${e404}
`);
  assert.deepEqual(alerts(r), []);
  assert.deepEqual(warnings(r), ["-:config: proxy 'f3' : status '408' not declared in http-errors section 'e1' (at " + `${dir}/h.cfg:16).`]);
  const [f1, f2, f3] = ['f1', 'f2', 'f3'].map((n) => r.config.proxies.find((p) => p.name === n)!);
  assert.match(errorReplyFor(f1, 503).toString(), /^HTTP\/1.1 503 From-E1/);
  assert.match(errorReplyFor(f1, 404).toString(), /^HTTP\/1.1 404 From-E1/);
  assert.match(errorReplyFor(f2, 404).toString(), /^HTTP\/1.1 404 From-E1/);
  assert.equal(errorReplyFor(f2, 503).toString(), HARVESTED[503]);
  assert.match(errorReplyFor(f3, 503).toString(), /^HTTP\/1.1 503 From-E1/);
  assert.match(errorReplyFor(f3, 404).toString(), /^HTTP\/1.1 404 From-E1/);
});

test('http-errors section errors', () => {
  const ok = file('ok4.http', 'HTTP/1.1 503 Sorry\r\nContent-Length: 5\r\n\r\nsorry');
  const r = parse(`${HDR}http-errors e1
  errorfile 503 ${ok}
  errorfile 999 ${ok}
  errorfile 503
  errorloc 503 /x
http-errors e1
  errorfile 404 ${ok}
http-errors
  errorfile 404 ${ok}
http-errors b@d
`);
  assert.deepEqual(alerts(r), [
    "7:errorfile : status code '999' not handled.",
    '8:errorfile: expects <status_code> and <file> as arguments.',
    "9:unknown keyword 'errorloc' in 'http-errors' section",
    `10:parsing [${dir}/h.cfg:10]: http-errors section 'e1' already exists (declared at ${dir}/h.cfg:5).`,
    '12:missing name for http-errors section.',
    "14:character '@' is not permitted in 'http-errors' name 'b@d'.",
  ]);
});

test('unknown http-errors section: post-parse alert naming the proxy and file:line, inherited from defaults', () => {
  const r = parse(`defaults
  timeout client 1s
  timeout server 1s
  timeout connect 1s
  errorfiles nope
frontend f
  bind 127.0.0.1:1
frontend g
  bind 127.0.0.1:2
  http-error status 404 errorfiles nope2
`);
  assert.deepEqual(alerts(r), [
    `-:proxy 'f': unknown http-errors section 'nope' (at ${dir}/h.cfg:5).`,
    `-:proxy 'g': unknown http-errors section 'nope' (at ${dir}/h.cfg:5).`,
    `-:proxy 'g': unknown http-errors section 'nope2' (at ${dir}/h.cfg:10).`,
  ]);
  assert.equal(r.fatal, true);
});

test('inheritance from defaults: defaults first, the proxy overrides; named defaults with from', () => {
  const a = file('a.http', 'HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\na');
  const b = file('b.http', 'HTTP/1.1 503 B\r\nContent-Length: 1\r\n\r\nb');
  const r = parse(`defaults d1
  timeout client 1s
  timeout server 1s
  timeout connect 1s
  errorfile 503 ${a}
  errorloc 404 /x
defaults d2
  timeout client 1s
  timeout server 1s
  timeout connect 1s
backend b1 from d1
  errorfile 503 ${b}
backend b2 from d1
backend b3
`);
  assert.deepEqual(alerts(r), []);
  const [b1, b2, b3] = ['b1', 'b2', 'b3'].map((n) => r.config.proxies.find((p) => p.name === n)!);
  assert.match(errorReplyFor(b1, 503).toString(), /^HTTP\/1.1 503 B/);
  assert.match(errorReplyFor(b1, 404).toString(), /^HTTP\/1.1 302 Found/);
  assert.match(errorReplyFor(b2, 503).toString(), /^HTTP\/1.1 503 A/);
  assert.equal(errorReplyFor(b3, 503).toString(), HARVESTED[503]);
  // the defaults section's list is not changed by the proxies
  assert.equal(r.config.defaults.get('d1')!.errors!.directives.length, 2);
});

test('keywords are accepted in TCP proxies (HAProxy says nothing)', () => {
  const ok = file('ok5.http', 'HTTP/1.1 503 Sorry\r\nContent-Length: 5\r\n\r\nsorry');
  const r = parse(`${HDR}  mode tcp
frontend f
  bind 127.0.0.1:1
  errorfile 503 ${ok}
  errorloc 503 /x
  http-error status 503 content-type text/plain string x
`);
  assert.deepEqual(alerts(r), []);
  assert.deepEqual(warnings(r), []);
});
