// Unit tests of log forwarding (src/log/forward.ts): syslog parsing, re-emission per format,
// "option host" strategies (configuration.txt 12.6) and RFC6587 TCP framing. Expected lines
// are HAProxy 2.6's for the same input (see test/interop/log-forward-interop.test.ts) or, for
// what 2.6 lacks (option host), the 3.2 documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSyslog, buildForwardLine, SyslogFramer } from '../../src/log/forward.js';

const LOCAL0 = 16;

test('parseSyslog: RFC5424 fields, nil values and structured data', () => {
  const m = parseSyslog('<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 [a b="c\\"]"][d e="f"] hello');
  assert.equal(m.format, 'rfc5424');
  assert.equal(m.facility, 20); assert.equal(m.level, 5);
  assert.equal(m.ts, '2003-10-11T22:14:15.003Z');
  assert.deepEqual([m.host, m.tag, m.pid, m.msgid], ['myhost', 'evntslog', '77', 'ID47']);
  assert.equal(m.sd, '[a b="c\\"]"][d e="f"]');
  assert.equal(m.msg, 'hello');
  const n = parseSyslog('<30>1 - - - - - - minimal\n');
  assert.deepEqual([n.format, n.ts, n.host, n.sd, n.msg], ['rfc5424', '-', '', '', 'minimal']);
});

test('parseSyslog: RFC3164 header, tag and pid only with ": "', () => {
  const a = parseSyslog('<13>Oct 11 22:14:15 myhost app[123]: hello');
  assert.deepEqual([a.format, a.ts, a.host, a.tag, a.pid, a.msg], ['rfc3164', 'Oct 11 22:14:15', 'myhost', 'app', '123', 'hello']);
  const b = parseSyslog('<31>Oct 11 22:14:15 host app[1]:nospace');
  assert.deepEqual([b.host, b.tag, b.msg], ['host', '', 'app[1]:nospace']);
  const c = parseSyslog('<31>Oct 11 22:14:15 app[12]: nohost');
  assert.deepEqual([c.host, c.tag, c.msg], ['app[12]:', '', 'nohost']);
  // no host name followed by a space: not a header, only a priority
  const d = parseSyslog('<31>Oct 11 22:14:15 nohostnotag');
  assert.deepEqual([d.format, d.msg], ['priority', 'Oct 11 22:14:15 nohostnotag']);
  const e = parseSyslog('just text');
  assert.deepEqual([e.format, e.facility, e.level, e.msg], ['raw', -1, 0, 'just text']);
  assert.equal(parseSyslog('<13>Oct 11 22:14:15 h t: x', true).msg, '<13>Oct 11 22:14:15 h t: x');
});

test('buildForwardLine: conversions between formats (HAProxy 2.6 output)', () => {
  const year = new Date().getFullYear();
  const a = parseSyslog('<13>Oct 11 22:14:15 myhost app[123]: hello 3164');
  const line = (m: ReturnType<typeof parseSyslog>, f: Parameters<typeof buildForwardLine>[1]): string => buildForwardLine(m, f, LOCAL0, m.level, 'keep', '10.0.0.1');
  assert.equal(line(a, undefined), '<13>Oct 11 22:14:15 myhost app[123]: hello 3164');
  assert.equal(line(a, 'rfc5424'), `<13>1 ${year}-10-11T22:14:15-00:00 myhost app 123 - - hello 3164`);
  assert.equal(line(a, 'iso'), `${year}-10-11T22:14:15-00:00 hello 3164`);
  assert.equal(line(a, 'short'), '<5>hello 3164');
  assert.equal(line(a, 'raw'), 'hello 3164');
  const b = parseSyslog('<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 [x@1 i="3"] hello 5424');
  assert.equal(line(b, undefined), '<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 [x@1 i="3"] hello 5424');
  assert.equal(line(b, 'rfc3164'), '<165>Oct 11 22:14:15 myhost evntslog[77]: hello 5424');
  assert.equal(line(b, 'timed'), '<5>2003-10-11T22:14:15.003Z hello 5424');
  // only a timestamp: kept as a bare priority
  assert.equal(line(parseSyslog('<30>1 2003-10-11T22:14:15.003Z - - - - - ts only'), undefined), '<30>ts only');
  // no priority: the target's facility, level 0
  assert.match(line(parseSyslog('just text'), 'rfc5424'), /^<128>1 \S+ - - - - - just text$/);
  // the structured data is kept whole or dropped under the length limit
  assert.equal(buildForwardLine(b, 'rfc5424', LOCAL0, 5, 'keep', undefined, 80), '<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 [x@1 i="3"] hello 5424'.slice(0, 80));
  assert.equal(buildForwardLine(b, 'rfc5424', LOCAL0, 5, 'keep', undefined, 60), '<165>1 2003-10-11T22:14:15.003Z myhost evntslog 77 ID47 ');
});

test('option host strategies (configuration.txt 12.6)', () => {
  const withHost = parseSyslog('<13>Oct 11 22:14:15 myhost app: x');
  const noHost = parseSyslog('<13>x');
  const h = (m: ReturnType<typeof parseSyslog>, s: 'replace' | 'fill' | 'keep' | 'append', f: 'rfc3164' | 'rfc5424', src: string | null = '10.0.0.1'): string =>
    buildForwardLine(m, f, LOCAL0, 5, s, src ?? undefined).replace(/^<\d+>(1 \S+ |\w{3} [ \d]\d \d\d:\d\d:\d\d )/, '').split(' ')[0]!;
  assert.equal(h(withHost, 'replace', 'rfc3164'), '10.0.0.1');
  assert.equal(h(noHost, 'replace', 'rfc5424'), '10.0.0.1');
  assert.equal(h(withHost, 'fill', 'rfc3164'), 'myhost');
  assert.equal(h(noHost, 'fill', 'rfc3164'), '10.0.0.1');
  assert.equal(h(withHost, 'keep', 'rfc5424'), 'myhost');
  assert.equal(h(noHost, 'keep', 'rfc3164'), 'localhost');
  assert.equal(h(noHost, 'keep', 'rfc5424'), '-');
  assert.equal(h(withHost, 'append', 'rfc3164'), 'myhost,10.0.0.1');
  assert.equal(h(noHost, 'append', 'rfc5424'), '10.0.0.1');
  // no source address (unix sockets): "keep"
  assert.equal(h(noHost, 'replace', 'rfc3164', null), 'localhost');
});

test('SyslogFramer: octet counting, non-transparent framing, split reads, bad lengths', () => {
  const f = new SyslogFramer(false);
  assert.deepEqual(f.push('5 hello3 ab'), { msgs: ['hello'] });
  assert.deepEqual(f.push('c<1>x\n<2>'), { msgs: ['abc', '<1>x'] });
  assert.deepEqual(f.push('y\n'), { msgs: ['<2>y'] });
  // forced non-transparent framing: a leading digit is text
  const n = new SyslogFramer(true);
  assert.deepEqual(n.push('5 hello\n'), { msgs: ['5 hello'] });
  assert.equal(new SyslogFramer(false).push('12x hello').error, 'invalid octet count');
  assert.equal(new SyslogFramer(false, 100).push('200 x').error, 'frame too large');
});
