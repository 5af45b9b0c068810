// Formatted strings (configuration.txt 8.2.6). Expected outputs were observed on HAProxy 2.6
// (lf-string / set-header for the 'http' style, log-format lines for the 'log' style) or are
// hand computations noted next to them.
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFormat, compileFormatOrThrow, HTTP_LOG_FMT, TCP_LOG_FMT, HTTP_CLF_LOG_FMT, TCP_CLF_LOG_FMT, HTTPS_LOG_FMT, legacyConnectLog, type FormatOptions } from '../../src/log/format.js';
import { SmpCtx, staticConn, type StreamInfo } from '../../src/sample/context.js';
import { registerFetch, registerConverter, fetchRegistry } from '../../src/sample/registry.js';
import { smpStr, smpInt, smpBin } from '../../src/sample/types.js';
import { HttpHeaders } from '../../src/http/htx.js';

// test-only keywords (tests run in their own process)
if (!fetchRegistry.has('str')) registerFetch('str', { fn: (a) => smpStr(a[0] as string) });
if (!fetchRegistry.has('int')) registerFetch('int', { fn: (a) => smpInt(a[0] as number) });
if (!fetchRegistry.has('bin')) registerFetch('bin', { fn: (a) => smpBin(Buffer.from(a[0] as string, 'hex')) });
if (!fetchRegistry.has('var')) registerFetch('var', { fn: (a, ctx) => ctx.vars.txn.get((a[0] as string).replace(/^txn\./, '')) });
registerFetch('base', { fn: (_a, ctx) => (ctx.req ? smpStr('host' + ctx.req.uri) : undefined) });
registerConverter('lower', { fn: (s) => smpStr((s.v as string).toLowerCase()) });
registerConverter('upper', { fn: (s) => smpStr((s.v as string).toUpperCase()) });

// 06/Feb/2009:12:12:51.443 UTC; python3: calendar.timegm((2009,2,6,12,12,51)) = 1233922371 = 0x498C2943
const ACCEPT = Date.UTC(2009, 1, 6, 12, 12, 51, 443);

function mkCtx(over: Partial<StreamInfo> = {}, http = true): SmpCtx {
  const conn = { src: '127.0.0.1', srcPort: 5555, dst: '::ffff:10.0.3.31', dstPort: 8012, acceptedAt: ACCEPT };
  const ctx = new SmpCtx(conn);
  ctx.fe = { name: 'fnt', mode: http ? 'http' : 'tcp', feCounters: { cur: 3 }, counters: { cur: 9 } } as any;
  ctx.be = { name: 'bck', mode: http ? 'http' : 'tcp', feCounters: { cur: 0 }, counters: { cur: 2 } } as any;
  ctx.rt = { curConns: 7 } as any;
  ctx.stream = { bytesIn: 84, bytesOut: 265, ...over } as StreamInfo;
  if (http) {
    ctx.req = { method: 'GET', uri: '/p/a?x=1&y="', version: 'HTTP/1.1', headers: new HttpHeaders() };
    ctx.reqStartedAt = ACCEPT + 10;
  }
  return ctx;
}

function render(fmt: string, ctx: SmpCtx, opts: FormatOptions = {}): string {
  const r = compileFormat(fmt, opts);
  if (r.error !== undefined) throw new Error(r.error);
  return r.fmt.render(ctx);
}
function err(fmt: string, opts: FormatOptions = {}): string | undefined { return compileFormat(fmt, opts).error; }

test('parse errors use haproxy wording', () => {
  assert.equal(err('%zz'), "no such format tag 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'");
  assert.equal(err('%'), "truncated line after '%'");
  assert.equal(err('a%'), "truncated line after '%'");
  assert.equal(err('%{+Q'), "truncated line after '+Q'");
  assert.equal(err('%[str(a)'), "missing ']' after 'str(a)'");
  assert.match(err('%[nosuch]')!, /^failed to parse sample expression <nosuch\]> : unknown fetch method 'nosuch'/);
  assert.match(err('%[str(a),nosuch]')!, /^failed to parse sample expression <str\(a\),nosuch\]> : unknown converter 'nosuch'/);
  assert.equal(err('%[]'), 'failed to parse sample expression <]> : missing fetch method');
  assert.match(err('%[int(x)]')!, /failed to parse 'x' as type 'integer'/);
  assert.equal(err('%{+Q}-'), "parse argument modifier without tag name near '%{+Q}'");
  assert.match(err('%1')!, /^unexpected tag name near '1' at position 1 line : '%1'\. Maybe you want/);
  assert.match(err('100% done')!, /^unexpected tag name near ' '/);
  assert.match(err('%(a b)ci')!, /^invalid character in custom name near ' '/);
  assert.match(err('%(a:ip)ci')!, /^unexpected output type 'ip'.*Supported types are: str, sint, bool$/);
});

test('HTTP-only aliases are refused in TCP proxies, accepted in HTTP ones', () => {
  for (const a of ['HM', 'r', 'CC', 'CS', 'tr', 'trg', 'trl', 'Ta', 'Ti', 'Tq', 'TR', 'Tr', 'HU', 'HP', 'HPO', 'HQ', 'HV']) {
    assert.equal(err(`%${a}`, { proxyMode: 'tcp' }), `format tag '${a}' is reserved for HTTP mode`, a);
    assert.equal(err(`%${a}`, { proxyMode: 'http' }), undefined);
  }
  // not restricted
  for (const a of ['ST', 'hr', 'hrl', 'tsc', 'ts', 'Tw', 'Tt', 'B', 'ID', 'rt']) assert.equal(err(`%${a}`, { proxyMode: 'tcp' }), undefined, a);
  // unknown flags are ignored (haproxy 2.6 accepts %{+Z}ci), with a warning
  const r = compileFormat('%{+Z}ci', { where: 'cfg:3' });
  assert.equal(r.error, undefined);
  assert.deepEqual(r.warnings, ["parsing [cfg:3] : ignoring unknown format flag '+Z'"]);
  // a flag without a sign is ignored silently (the tcplog clf format has %{Q}o)
  assert.deepEqual(compileFormat('%{Q}ci').warnings, []);
});

test('literals, %%, separators', () => {
  const ctx = mkCtx();
  assert.equal(render('100%% sure', ctx, { style: 'http' }), '100% sure');
  // haproxy 2.6 log: "A    B" -> "A B"; empty items do not double the separators
  assert.equal(render('A    B| %hr  %hs  x |', ctx), 'A B| x |');
  // set-header keeps spaces: "a    b  %[str(c)]   d" -> "a    b  c   d"
  assert.equal(render('a    b  %[str(c)]   d', ctx, { style: 'http' }), 'a    b  c   d');
  // '%' followed by another character is dropped: "%-x" -> "-x"
  assert.equal(render('%-x', ctx), '-x');
  assert.equal(render('%ci%%a', ctx), '127.0.0.1%a');
  const f = compileFormatOrThrow('const  text');
  assert.equal(f.isConstant, true);
  assert.equal(f.render(ctx), 'const text');
  assert.equal(compileFormatOrThrow('x%ci').isConstant, false);
});

test('samples: missing and empty values, quoting and escaping per style', () => {
  const ctx = mkCtx();
  // log style (haproxy 2.6 log line): missing '-', +Q '""'; empty string the same
  assert.equal(render('%[var(txn.nope)]', ctx), '-');
  assert.equal(render('%{+Q}[var(txn.nope)]|%[str()]|%{+Q}[str()]', ctx), '""|-|""');
  assert.equal(render('%{+Q}[str(ab)] %{+Q}[int(5)] %{+X}[int(255)]', ctx), '"ab" "5" 255');
  // +E escapes '"', '\' and ']' with a backslash: a"b\c]d -> a\"b\\c\]d
  ctx.vars.txn.set('x', smpStr('a"b\\c]d'));
  assert.equal(render('%{+E}[var(txn.x)]|%{+Q,+E}[var(txn.x)]|%[var(txn.x)]', ctx), 'a\\"b\\\\c\\]d|"a\\"b\\\\c\\]d"|a"b\\c]d');
  // http style (lf-string / set-header): missing and empty are empty, +Q ignored, +E applied
  assert.equal(render('<%[var(txn.nope)]>|<%{+Q}[var(txn.nope)]>|<%{+Q}[str(ab)]>|<%[str()]>', ctx, { style: 'http' }), '<>|<>|<ab>|<>');
  assert.equal(render('%{+E}[var(txn.x)]|%{+Q,+E}[var(txn.x)]', ctx, { style: 'http' }), 'a\\"b\\\\c\\]d|a\\"b\\\\c\\]d');
  // control characters a header value cannot carry are %-encoded, tab and % kept
  ctx.vars.txn.set('c', smpStr('t\tu\r\nv\x7f%'));
  assert.equal(render('%[var(txn.c)]', ctx, { style: 'http' }), 't\tu%0D%0Av%7F%');
  // converters run: str(AbC),lower -> abc; chains
  assert.equal(render('%[str(AbC),lower]-%[str(AbC),lower,upper]', ctx, { style: 'http' }), 'abc-ABC');
  // nested brackets and quotes inside the expression: the ']' inside quotes does not end it
  assert.equal(render('[%[str("a]b")]]', ctx, { style: 'http' }), '[a]b]');
  assert.equal(render("%[str('x,y')]", ctx, { style: 'http' }), 'x,y');
  // binary samples print as text up to a NUL; +bin (global only in haproxy) keeps the bytes
  assert.equal(render('%[bin(41420043)]', ctx), 'AB');
  assert.equal(render('%{+bin}o %[bin(41420043)]', ctx), 'AB\x00C');
  // the fetch's place of use is checked
  assert.match(err('%[base]', { use: 0, useLabel: 'frontend tcp-request connection rule' })!, /failed to parse sample expression <base\]>/);
});

test('%o sets default flags for the following items; items can remove them', () => {
  const ctx = mkCtx();
  assert.equal(render('%{+Q}o %ci %{-Q}ci %b %{-Q}b', ctx), '"127.0.0.1" 127.0.0.1 "bck" bck');
});

test('addresses and ports', () => {
  const ctx = mkCtx({ beConnSrc: '10.0.0.5', beConnSrcPort: 40000, beConnDst: '2001:db8::1', beConnDstPort: 80 });
  // 127.0.0.1 = 0x7F000001, 5555 = 0x15B3; v4-mapped addresses print as IPv4
  assert.equal(render('%ci:%cp %fi:%fp %bi:%bp %si:%sp', ctx), '127.0.0.1:5555 10.0.3.31:8012 10.0.0.5:40000 2001:db8::1:80');
  assert.equal(render('%{+X}ci:%{+X}cp %{+Q}ci %{+Q}cp', ctx), '7F000001:15B3 "127.0.0.1" 5555');
  assert.equal(render('%{+X}si', ctx), '20010DB8000000000000000000000001');
  // unknown server connection (haproxy 2.6: log "-:-", lf-string ":", +Q '""')
  const none = mkCtx();
  assert.equal(render('%si:%sp %bi:%bp %{+Q}si', none), '-:- -:- ""');
  assert.equal(render('%si:%sp', none, { style: 'http' }), ':');
});

test('names, ids and counters', () => {
  const ctx = mkCtx();
  // haproxy 2.6: %s is <NOSRV> without a server; +Q quotes names
  assert.equal(render('%f %ft %b %s %{+Q}s %{+Q}b', ctx), 'fnt fnt bck <NOSRV> "<NOSRV>" "bck"');
  assert.equal(render('%ft', mkCtx({ feSsl: true })), 'fnt~');
  assert.equal(render('%s', mkCtx({ targetName: '<STATS>' })), '<STATS>');
  ctx.srv = { name: 'srv1', cur: 4 } as any;
  assert.equal(render('%b/%s %sc', ctx), 'bck/srv1 4');
  // %ID absent: log '-', +Q '""', http ''
  assert.equal(render('%ID|%{+Q}ID', ctx), '-|""');
  assert.equal(render('%ID|%{+Q}ID', ctx, { style: 'http' }), '|""');
  ctx.uniqueId = 'abc-1';
  assert.equal(render('%ID', ctx), 'abc-1');
  assert.equal(render('%ac/%fc/%bc/%sc/%rc %sq/%bq', ctx), '7/3/2/4/0 0/0');
  ctx.retries = 3;
  assert.equal(render('%rc', mkCtx({ redispatched: true, srvQueuePos: 2, beQueuePos: 5 })), '+0');
  assert.equal(render('%rc', ctx), '3');
  assert.equal(render('%sq/%bq', mkCtx({ srvQueuePos: 2, beQueuePos: 5 })), '2/5');
  // %rt/%pid in hex: %04X (haproxy 2.6 printed 0000 for %{+X}rt); 1234 = 0x04D2
  assert.equal(render('%rt %{+X}rt %lc', mkCtx({ uniqId: 1234, logCount: 9 })), '1234 04D2 9');
  assert.equal(render('%pid', ctx), String(process.pid));
  assert.equal(render('%{+X}pid', ctx), process.pid.toString(16).toUpperCase().padStart(4, '0'));
  assert.equal(render('%H', ctx).length > 0, true);
  assert.equal(render('%B %U', ctx), '265 84');
  assert.equal(render('%B', mkCtx({ logasap: true })), '+265');
  assert.equal(render('%OG', ctx), 'unspec');
  assert.equal(render('%OG', mkCtx({ logOrigin: 'txn_close' })), 'txn_close');
  assert.equal(render('%sslv/%sslc', ctx), '-/-');
  assert.equal(render('%sslv/%sslc', mkCtx({ sslVersion: 'TLSv1.3', sslCipher: 'TLS_AES_128_GCM_SHA256' })), 'TLSv1.3/TLS_AES_128_GCM_SHA256');
});

test('status, termination state, cookies', () => {
  const ctx = mkCtx();
  assert.equal(render('%ST', ctx), '-1');
  ctx.status = 200;
  assert.equal(render('%ST %{+Q}ST %{+X}ST', ctx), '200 200 200');
  assert.equal(render('%ST', mkCtx({}, false)), '0');
  // haproxy 2.6 defaults shown for a request answered by "return": LR / LR--; Q does not apply
  assert.equal(render('%ts %tsc %{+Q}ts', mkCtx({ termState: 'LR' })), 'LR LR-- LR');
  assert.equal(render('%ts %tsc', ctx), '-- ----');
  assert.equal(render('%tsc', mkCtx({ termState: 'CD', cookieState: 'NI' })), 'CDNI');
  // captured cookies: '-' when absent, '""' with +Q
  assert.equal(render('%CC %CS %{+Q}CC', ctx), '- - ""');
  assert.equal(render('%CC %CS', mkCtx({ capturedReqCookie: 'SESS=1', capturedResCookie: 'SESS=2' })), 'SESS=1 SESS=2');
});

test('HTTP request parts', () => {
  const ctx = mkCtx();
  // haproxy 2.6 for GET /p/a?x=1&y=" : '"' encoded as #22 in all URI items
  assert.equal(render('%HM %HU %HP %HPO %HQ %HV', ctx), 'GET /p/a?x=1&y=#22 /p/a /p/a ?x=1&y=#22 HTTP/1.1');
  assert.equal(render('%r|%{+Q}r|%{+Q}HM', ctx), 'GET /p/a?x=1&y=#22 HTTP/1.1|"GET /p/a?x=1&y=#22 HTTP/1.1"|"GET"');
  ctx.req = { method: 'GET', uri: 'http://www.example.org:81/x/y?q', version: 'HTTP/1.1', headers: new HttpHeaders() };
  assert.equal(render('%HP|%HPO|%HQ', ctx), 'http://www.example.org:81/x/y|/x/y|?q');
  ctx.req.uri = '/noquery';
  // empty query: nothing even in logs, '""' with +Q (haproxy 2.6)
  assert.equal(render('%HQ|%{+Q}HQ|', ctx), '|""|');
  ctx.req = undefined;
  assert.equal(render('%r', ctx), '<BADREQ>');
});

test('captured headers', () => {
  const ctx = mkCtx({ reqCapSlots: 3, resCapSlots: 0 });
  ctx.reqCaptures = ['127.0.0.1:18431', undefined, 'a b|c{d}"#'];
  // haproxy 2.6 with 3 request captures, the second not present
  const enc = 'a b#7Cc#7Bd#7D#22#23';
  assert.equal(render('%hr', ctx), `{127.0.0.1:18431||${enc}}`);
  assert.equal(render('%{+Q}hr', ctx), `"{127.0.0.1:18431||${enc}}"`);
  assert.equal(render('%hrl', ctx), `127.0.0.1:18431 - ${enc}`);
  assert.equal(render('%{+Q}hrl', ctx), `"127.0.0.1:18431" "" "${enc}"`);
  assert.equal(render('|%hs|%hsl|', ctx), '|||');
  // without slots declared the arrays' length counts
  const c2 = mkCtx();
  c2.resCaptures = ['text/html'];
  assert.equal(render('%hs %hsl', c2), '{text/html} text/html');
});

test('dates', () => {
  const ctx = mkCtx();
  assert.equal(render('%t', ctx), '06/Feb/2009:12:12:51.443');
  assert.equal(render('%T', ctx), '06/Feb/2009:12:12:51 +0000');
  assert.equal(render('%Tl', ctx), '06/Feb/2009:12:12:51 +0000');
  assert.equal(render('%Ts %{+X}Ts %ms', ctx), '1233922371 498C2943 443');
  assert.equal(render('%tr|%trg|%trl', ctx), '06/Feb/2009:12:12:51.453|06/Feb/2009:12:12:51 +0000|06/Feb/2009:12:12:51 +0000');
  assert.equal(render('%{+Q}t', ctx), '06/Feb/2009:12:12:51.443');
  const c2 = mkCtx();
  c2.conn = { ...c2.conn, acceptedAt: Date.UTC(2024, 11, 31, 23, 59, 59, 5) };
  assert.equal(render('%t %ms', c2), '31/Dec/2024:23:59:59.005 005');
});

test('timers', () => {
  const ctx = mkCtx();
  // haproxy 2.6 for a request answered by "return": Tw/Tc/Tr -1, Ta/Tt/TR/Ti/Th/Tq 0, Td -1, Tu 0
  ctx.timers = { handshake: 0, idle: 0, request: 0, queue: -1, connect: -1, response: -1 };
  const c0 = mkCtx({ totalTime: 0 });
  c0.timers = ctx.timers;
  assert.equal(render('%Tw %Tc %Tr %Ta %Tt %TR %Ti %Th %Tq %Td %Tu', c0), '-1 -1 -1 0 0 0 0 0 0 -1 0');
  // full transaction: Th 1, Ti 2, TR 3, Tw 4, Tc 5, Tr 6, Tt 30
  // Tq = 1+2+3 = 6; Ta = 30-1-2 = 27; Tu = 30-2 = 28; Td = 30-(6+4+5+6) = 9
  const c1 = mkCtx({ totalTime: 30 });
  c1.timers = { handshake: 1, idle: 2, request: 3, queue: 4, connect: 5, response: 6 };
  assert.equal(render('%Th %Ti %TR %Tw %Tc %Tr %Tt %Tq %Ta %Tu %Td', c1), '1 2 3 4 5 6 30 6 27 28 9');
  assert.equal(render('%Tt', mkCtx({ totalTime: 30, logasap: true })), '+30');
  // total time unknown
  assert.equal(render('%Tt %Ta %Tu %Td', ctx), '-1 -1 -1 -1');
});

test('default formats compile and render', () => {
  for (const f of [HTTP_LOG_FMT, HTTP_CLF_LOG_FMT]) assert.equal(err(f, { proxyMode: 'http' }), undefined);
  for (const f of [TCP_LOG_FMT, TCP_CLF_LOG_FMT]) assert.equal(err(f, { proxyMode: 'tcp' }), undefined);
  assert.equal(err(HTTP_LOG_FMT, { proxyMode: 'tcp' }), "format tag 'tr' is reserved for HTTP mode");
  assert.equal(typeof HTTPS_LOG_FMT, 'string');
  // the 8.2.2 example line: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0
  const ctx = new SmpCtx({ src: '10.0.1.2', srcPort: 33313, dst: '10.0.3.31', dstPort: 8012, acceptedAt: ACCEPT });
  ctx.fe = { name: 'fnt', mode: 'tcp', feCounters: { cur: 0 } } as any;
  ctx.be = { name: 'bck', mode: 'tcp', counters: { cur: 0 } } as any;
  ctx.srv = { name: 'srv1', cur: 0 } as any;
  ctx.rt = { curConns: 0 } as any;
  ctx.retries = 3;
  ctx.timers = { handshake: 0, idle: -1, request: -1, queue: 0, connect: 0, response: -1 };
  ctx.stream = { bytesIn: 0, bytesOut: 212, totalTime: 5007, termState: '--' } as StreamInfo;
  assert.equal(compileFormatOrThrow(TCP_LOG_FMT, { proxyMode: 'tcp' }).render(ctx),
    '10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0');
  assert.equal(legacyConnectLog(ctx), 'Connect from 10.0.1.2:33313 to 10.0.3.31:8012 (fnt/TCP)');
});
