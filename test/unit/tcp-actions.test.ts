// TCP rule-set actions (src/actions/tcp-actions.ts): expect-proxy layer4, set-fc-tos, set-fc-mark,
// set-tos, set-mark; where they are accepted (action matrix, configuration.txt 4.3), how their
// arguments parse, and what they ask of the stream. Also the rule host helpers of l4-rules.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/config/global-keywords.js';
import '../../src/proxy/keywords.js';
import '../../src/actions/index.js';
import '../../src/actions/tcp-actions.js';
import { parseConfigText } from '../helpers/config.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { runRules, Act, type Rule, type RuleHost, type Verdict, dumpActions } from '../../src/actions/rules.js';
import type { Proxy } from '../../src/proxy/proxy.js';

function parse(body: string): ReturnType<typeof parseConfigText> {
  return parseConfigText(`
defaults d
  mode tcp
  timeout client 1s
  timeout server 1s
  timeout connect 1s
frontend fe from d
  bind 127.0.0.1:10000
${body}
  default_backend be
backend be from d
  server s 127.0.0.1:1
`);
}

function ok(body: string) {
  const r = parse(body);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  return r.config.proxies.find((p) => p.name === 'fe')!;
}

function fails(body: string, re: RegExp): void {
  const r = parse(body);
  assert.equal(r.fatal, true, `expected an error for: ${body}`);
  assert.ok(r.diags.some((d) => re.test(d.msg)), JSON.stringify(r.diags));
}

class FakeHost implements RuleHost {
  readonly http = false;
  verdict: Verdict | undefined;
  readonly ctx: SmpCtx;
  opts: [string, number][] = [];
  proxyWanted = 0;
  constructor(ctx: SmpCtx) { this.ctx = ctx; }
  get fe(): Proxy { return undefined as unknown as Proxy; }
  get be(): Proxy | undefined { return undefined; }
  config() { return undefined; }
  setSockOpt(what: 'tos' | 'mark' | 'nice' | 'fc-tos' | 'fc-mark' | 'bc-tos' | 'bc-mark', v: number): void { this.opts.push([what, v]); }
  expectProxy(): void { this.proxyWanted++; }
}

function run(rules: Rule[], src = '10.1.2.3'): FakeHost {
  const h = new FakeHost(new SmpCtx(staticConn(src, 1234, '127.0.0.1', 80)));
  const r = runRules(rules, h, 0);
  assert.equal(r.act, Act.CONT);
  return h;
}

describe('expect-proxy layer4', () => {
  it('is accepted in tcp-request connection rules only', () => {
    const px = ok('  tcp-request connection expect-proxy layer4 if { src 10.0.0.0/8 }');
    assert.equal(px.rules!.tcpReqConn.length, 1);
    fails('  tcp-request session expect-proxy layer4', /expects .*but got 'expect-proxy'|not supported/);
    fails('  tcp-request content expect-proxy layer4', /but got 'expect-proxy'|not supported/);
  });
  it('requires the layer4 word and nothing after it', () => {
    fails('  tcp-request connection expect-proxy', /expects 'layer4'/);
    fails('  tcp-request connection expect-proxy layer7', /expects 'layer4'/);
    fails('  tcp-request connection expect-proxy layer4 foo', /unexpected argument 'foo'/);
  });
  it('asks the stream for a PROXY header when its condition holds', () => {
    const px = ok('  tcp-request connection expect-proxy layer4 if { src 10.0.0.0/8 }');
    assert.equal(run(px.rules!.tcpReqConn, '10.9.9.9').proxyWanted, 1);
    assert.equal(run(px.rules!.tcpReqConn, '192.168.0.1').proxyWanted, 0);
  });
});

describe('set-fc-tos / set-fc-mark / set-tos / set-mark', () => {
  it('are accepted where the action matrix ticks them', () => {
    for (const a of ['set-fc-tos 16', 'set-fc-mark 7', 'set-tos 16', 'set-mark 7']) {
      const px = ok(`  tcp-request connection ${a}\n  tcp-request session ${a}\n  tcp-request content ${a}\n  http-request ${a}\n  http-response ${a}`);
      assert.equal(px.rules!.tcpReqConn.length, 1);
      assert.equal(px.rules!.httpRes.length, 1);
    }
    const r = parseConfigText(`
defaults d
  mode tcp
backend be from d
  tcp-response content set-fc-tos 8
  tcp-response content set-fc-mark 8
  server s 127.0.0.1:1
`);
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    fails('  http-after-response set-fc-tos 16', /but got 'set-fc-tos'|not supported/);
  });

  it('take decimal, hexadecimal and octal constants (strtol base 0)', () => {
    // 0x2e = 46 (EF DSCP << 2 = 184 = 0xb8), 010 = 8 in octal
    const px = ok('  tcp-request connection set-fc-tos 0xb8\n  tcp-request connection set-fc-tos 010\n  tcp-request connection set-fc-mark 4294967295\n  tcp-request connection set-tos 0\n  tcp-request connection set-mark 0x10');
    assert.deepEqual(run(px.rules!.tcpReqConn).opts, [['fc-tos', 184], ['fc-tos', 8], ['fc-mark', 4294967295], ['fc-tos', 0], ['fc-mark', 16]]);
  });

  it('set-bc-tos / set-bc-mark: tcp-request content and http-request only, for the server connection', () => {
    const px = ok('  tcp-request content set-bc-tos 0xb8\n  tcp-request content set-bc-mark 7');
    const h = new FakeHost(new SmpCtx(staticConn()));
    runRules(px.rules!.tcpReqCont, h, 0);
    assert.deepEqual(h.opts, [['bc-tos', 184], ['bc-mark', 7]]);
    fails('  tcp-request connection set-bc-tos 16', /but got 'set-bc-tos'|not supported/);
    fails('  http-response set-bc-mark 1', /but got 'set-bc-mark'|not supported/);
  });

  it('take an integer expression, evaluated per stream', () => {
    const px = ok('  tcp-request connection set-fc-mark src_port\n  tcp-request connection set-fc-tos int(32)\n  tcp-request connection set-fc-tos str(12)');
    assert.deepEqual(run(px.rules!.tcpReqConn).opts, [['fc-mark', 1234], ['fc-tos', 32], ['fc-tos', 12]]);
  });

  it('wrap values wider than the field (TOS one byte, mark 32 bits)', () => {
    // 0x1b8 & 0xff = 0xb8 = 184; 2^32 + 5 modulo 2^32 = 5; -1 as u32 = 4294967295
    const px = ok('  tcp-request connection set-fc-tos 0x1b8\n  tcp-request connection set-fc-mark int(4294967301)\n  tcp-request connection set-fc-mark int(-1)');
    assert.deepEqual(run(px.rules!.tcpReqConn).opts, [['fc-tos', 184], ['fc-mark', 5], ['fc-mark', 4294967295]]);
  });

  it('do nothing when the expression gives no sample', () => {
    const px = ok('  tcp-request content set-fc-mark req.payload(0,4),length\n  tcp-request content set-fc-tos req.payload_lv(0,1),length');
    const h = new FakeHost(new SmpCtx(staticConn()));
    h.ctx.final = true;
    h.ctx.reqPayload = Buffer.alloc(0);
    runRules(px.rules!.tcpReqCont, h, 0);
    assert.deepEqual(h.opts, []);
  });

  it('reject bad arguments at parse time', () => {
    fails('  tcp-request connection set-fc-tos', /expects exactly one argument/);
    fails('  tcp-request connection set-fc-tos 1 2', /expects exactly one argument/);
    fails('  tcp-request connection set-fc-mark 12abc', /unknown fetch method|12abc/);
    fails('  tcp-request connection set-fc-mark nosuchfetch', /unknown fetch method 'nosuchfetch'/);
    // a binary sample cannot become an integer
    fails('  tcp-request content set-fc-tos req.payload(0,1)', /does not return an integer/);
  });
});

describe('the -dK listing', () => {
  it('lists the new actions in their sets', () => {
    const lines = dumpActions();
    // built into HAProxy's TCP rule parser: not in its -dK list, nor in ours
    assert.ok(!lines.includes('\ttcp-request connection expect-proxy'));
    assert.ok(!lines.includes('\ttcp-request content accept'));
    assert.ok(lines.includes('\thttp-request reject'));
    for (const a of ['set-fc-tos', 'set-fc-mark', 'set-tos', 'set-mark']) {
      assert.ok(lines.includes(`\ttcp-response content ${a}`), a);
      assert.ok(lines.includes(`\thttp-response ${a}`), a);
      assert.ok(!lines.includes(`\thttp-after-response ${a}`), a);
    }
    assert.ok(!lines.some((l) => l.includes('expect-netscaler-cip')));
  });
});
