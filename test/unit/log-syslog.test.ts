// Syslog line building. Every expected line below was captured from HAProxy 2.6 sending to a UDP
// listener (same facility, level, tag, pid, time and message), with TZ=UTC.
process.env['TZ'] = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLine, parseSample, logGlobals, Logger, type LogTransport } from '../../src/log/syslog.js';
import { parseLogLine } from '../../src/log/config.js';

const US = Date.UTC(2026, 11, 1, 3, 34, 5) * 1000 + 259642; // 2026-12-01T03:34:05.259642Z
const MSG = '127.0.0.1:57412 [01/Dec/2026:03:34:05.259] f f/<NOSRV> 0/-1/-1/-1/0 200 73 - - LR-- 1/1/0/0/0 0/0 "GET /x HTTP/1.1"';

function withGlobals<T>(g: { pid: number; sendHostname?: string }, f: () => T): T {
  const saved = { pid: logGlobals.pid, sendHostname: logGlobals.sendHostname };
  logGlobals.pid = g.pid;
  logGlobals.sendHostname = g.sendHostname;
  try { return f(); } finally { logGlobals.pid = saved.pid; logGlobals.sendHostname = saved.sendHostname; }
}

test('the eight formats: headers as HAProxy 2.6 writes them', () => {
  withGlobals({ pid: 21461 }, () => {
    // local0 info = 134, local1 = 142, local2 = 150, local3 = 158
    assert.equal(buildLine('local', 16, 6, 'haproxy', MSG, 1024, undefined, US), `<134>Dec  1 03:34:05 haproxy[21461]: ${MSG}\n`);
    assert.equal(buildLine('rfc3164', 17, 6, 'haproxy', MSG, 1024, undefined, US), `<142>Dec  1 03:34:05 localhost haproxy[21461]: ${MSG}\n`);
    assert.equal(buildLine('rfc5424', 18, 6, 'haproxy', MSG, 1024, undefined, US), `<150>1 2026-12-01T03:34:05.259642+00:00 - haproxy 21461 - - ${MSG}\n`);
    assert.equal(buildLine('short', 19, 6, 'haproxy', MSG, 1024, undefined, US), `<6>${MSG}\n`);
    assert.equal(buildLine('timed', 19, 6, 'haproxy', MSG, 1024, undefined, US), `<6>2026-12-01T03:34:05.259642+00:00 ${MSG}\n`);
    assert.equal(buildLine('iso', 19, 6, 'haproxy', MSG, 1024, undefined, US), `2026-12-01T03:34:05.259642+00:00 ${MSG}\n`);
    assert.equal(buildLine('priority', 19, 6, 'haproxy', MSG, 1024, undefined, US), `<158>${MSG}\n`);
    assert.equal(buildLine('raw', 19, 6, 'haproxy', MSG, 1024, undefined, US), `${MSG}\n`);
  });
});

test('alert and emerg levels of server messages (local0: 129, 128)', () => {
  withGlobals({ pid: 21676 }, () => {
    assert.equal(buildLine('local', 16, 0, 'haproxy', 'backend b has no server available!', 1024, undefined, US).slice(0, 5), '<128>');
    assert.equal(buildLine('rfc5424', 1 * 0 + 17, 1, 'haproxy', 'x', 1024, undefined, US).slice(0, 7), '<137>1 ');
  });
});

test('log-send-hostname and log-tag in rfc3164 and rfc5424 headers', () => {
  withGlobals({ pid: 22206, sendHostname: 'myhost' }, () => {
    const us = Date.UTC(2026, 11, 1, 3, 34, 35) * 1000 + 219777;
    const msg = '127.0.0.1 /x abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz';
    assert.equal(buildLine('rfc3164', 17, 6, 'ftag', msg, 1024, undefined, us), `<142>Dec  1 03:34:35 myhost ftag[22206]: ${msg}\n`);
    assert.equal(buildLine('rfc5424', 18, 6, 'ftag', msg, 1024, '[exampleSDID@1234 bytes="73" status="200"]', us),
      `<150>1 2026-12-01T03:34:35.219777+00:00 myhost ftag 22206 - [exampleSDID@1234 bytes="73" status="200"] ${msg}\n`);
  });
});

test('len: the line is cut at len bytes before the newline; the structured data is all or nothing', () => {
  withGlobals({ pid: 22206, sendHostname: 'myhost' }, () => {
    const us = Date.UTC(2026, 11, 1, 3, 34, 48) * 1000 + 276153;
    const msg = '127.0.0.1 /x abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz';
    const sd = '[exampleSDID@1234 bytes="73" status="200"]';
    // rfc3164-style header of 41 bytes: len 80 keeps 39 bytes of text, len 85 keeps 44
    assert.equal(buildLine('rfc3164', 16, 6, 'ftag', msg, 80, undefined, us), '<134>Dec  1 03:34:48 myhost ftag[22206]: 127.0.0.1 /x abcdefghijklmnopqrstuvwxyz\n');
    assert.equal(buildLine('rfc3164', 16, 6, 'ftag', msg, 85, undefined, us), '<134>Dec  1 03:34:48 myhost ftag[22206]: 127.0.0.1 /x abcdefghijklmnopqrstuvwxyz abcd\n');
    // rfc5424: 60-byte header + 42-byte structured data
    const head = '<150>1 2026-12-01T03:34:48.276153+00:00 myhost ftag 22206 - ';
    for (const len of [80, 100, 101, 102]) assert.equal(buildLine('rfc5424', 18, 6, 'ftag', msg, len, sd, us), head + '\n', `len ${len}`);
    assert.equal(buildLine('rfc5424', 18, 6, 'ftag', msg, 103, sd, us), head + sd + '\n');
    assert.equal(buildLine('rfc5424', 18, 6, 'ftag', msg, 110, sd, us), head + sd + ' 127.0.0\n');
  });
});

test('sample ranges and level filters', () => {
  const s = parseSample('1,3-4:5');
  assert.deepEqual(s, { ranges: [[1, 1], [3, 4]], size: 5 });
  assert.equal(typeof parseSample('0:4'), 'string');
  assert.equal(typeof parseSample('1-5:4'), 'string');
  assert.equal(typeof parseSample('x'), 'string');
  const lines: string[] = [];
  const tr: LogTransport = { label: 't', write(l) { lines.push(String(l)); return true; } };
  const alerts: string[] = [];
  const ctx = { where: { file: 'f', line: 1 }, alert: (m: string) => alerts.push(m), warn: () => {} };
  const cfg = parseLogLine(['log', 'stdout', 'format', 'raw', 'sample', '2:3', 'local0', 'notice', 'err'], ctx)!;
  assert.deepEqual(alerts, []);
  const lg = new Logger(cfg, tr);
  for (let i = 1; i <= 6; i++) lg.send(5, `m${i}`);
  assert.deepEqual(lines, ['m2\n', 'm5\n'], 'only the 2nd of every 3 messages');
  lines.length = 0;
  const cfg2 = parseLogLine(['log', 'stdout', 'format', 'short', 'local0', 'notice', 'err'], ctx)!;
  const lg2 = new Logger(cfg2, tr);
  lg2.send(6, 'info is filtered');
  lg2.send(5, 'notice');
  lg2.send(0, 'emerg capped at err');
  assert.deepEqual(lines, ['<5>notice\n', '<3>emerg capped at err\n']);
});

test('log line errors use HAProxy 2.6 wording', () => {
  const cases: [string[], string][] = [
    [['log', '127.0.0.1', 'format', 'foo', 'local0'], "log : unknown log format 'foo'."],
    [['log', '127.0.0.1', 'local0', 'foo'], "log : unknown optional log level 'foo'."],
    [['log', '127.0.0.1', 'local0', 'info', 'bar'], "log : unknown optional minimum log level 'bar'."],
    [['log', '127.0.0.1', 'len', '99999', 'local0'], "log : invalid log length '99999', must be between 80 and 65535."],
    [['log', '127.0.0.1'], 'log : expects <address> and <facility>  as arguments.'],
    [['log', '127.0.0.1', 'local0', 'info', 'info', 'extra'], "log : cannot handle unexpected argument 'extra'."],
    [['log', '127.0.0.1', 'len', '100', 'local9'], "log : unknown log facility 'local9'."],
    [['log', 'fd@abc', 'local0'], "log : file descriptor 'abc' is not a valid integer in 'fd@abc'."],
    [['log', '127.0.0.1', 'sample', 'x', 'local0'], 'log : Missing sample size.'],
  ];
  for (const [args, want] of cases) {
    const alerts: string[] = [];
    const r = parseLogLine(args, { where: { file: 'f', line: 1 }, alert: (m) => alerts.push(m), warn: () => {} });
    assert.equal(r, undefined, args.join(' '));
    assert.deepEqual(alerts, [want]);
  }
});
