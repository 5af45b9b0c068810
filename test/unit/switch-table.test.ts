// The hash-table evaluation of runs of `use_backend ... if <exact-match acl>` rules must decide
// exactly as the rule-by-rule evaluation: first matching rule, every header value, -i, and
// pattern lists changed at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/actions/index.js';
import { parseConfigText } from '../helpers/config.js';
import { switchPlan, segmentMatch } from '../../src/actions/switch-table.js';
import { AclResult } from '../../src/acl/acl.js';
import { SmpCtx, staticConn } from '../../src/sample/context.js';
import { HttpHeaders } from '../../src/http/htx.js';

function ctxFor(hosts: string[]): SmpCtx {
  const c = new SmpCtx(staticConn());
  const h = new HttpHeaders();
  for (const v of hosts) h.add('Host', v);
  c.req = { method: 'GET', uri: '/', version: 'HTTP/1.1', headers: h };
  return c;
}

const N = 12;
const cfg = `defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
frontend f
  bind 127.0.0.1:1
${Array.from({ length: N }, (_, i) => `  acl h${i} hdr(host) -i host${i}.example ${i === 3 ? 'dup.example' : ''}${i === 7 ? 'dup.example DUP2.example' : ''}`).join('\n')}
${Array.from({ length: N }, (_, i) => `  use_backend b${i} if h${i}`).join('\n')}
  default_backend b0
${Array.from({ length: N }, (_, i) => `backend b${i}\n  server s 127.0.0.1:1`).join('\n')}
`;

test('a run of exact-match use_backend rules is one segment deciding like the rules', () => {
  const r = parseConfigText(cfg);
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  const fe = r.config.proxies.find((p) => p.name === 'f')!;
  const rules = fe.switching!.useBackend;
  const plan = switchPlan(rules);
  const seg = plan.at.get(0);
  assert.ok(seg, 'the whole run is one segment');
  assert.equal(seg.end, N);
  const slow = (c: SmpCtx): number => rules.findIndex((x) => x.cond!.exec(c) === AclResult.PASS);
  for (const hosts of [['host5.example'], ['HOST11.EXAMPLE'], ['dup.example'], ['dup2.example'], ['nothing'], ['x', 'host9.example', 'host2.example'], []]) {
    const c = ctxFor(hosts);
    assert.equal(segmentMatch(seg, c), slow(c), `hosts ${hosts.join(',')}`);
  }
  assert.equal(segmentMatch(seg, ctxFor(['dup.example'])), 3, 'the first rule listing a pattern wins');
  // a pattern added at run time to an earlier rule's list is seen at once
  const ref = rules[1]!.cond!.groups[0]![0]!.acl.tests[0]!.indexes[0]!.refs[0]!;
  ref.add('dup.example', undefined);
  assert.equal(segmentMatch(seg, ctxFor(['dup.example'])), 1);
  assert.equal(slow(ctxFor(['dup.example'])), 1);
  ref.removeKey('dup.example');
  assert.equal(segmentMatch(seg, ctxFor(['dup.example'])), 3);
});

test('rules that are not exact matches on one sample are left to the ordinary evaluation', () => {
  const mixed = cfg.replace('acl h2 hdr(host) -i host2.example', 'acl h2 hdr(host) -m beg host2');
  const r = parseConfigText(mixed);
  const rules = r.config.proxies.find((p) => p.name === 'f')!.switching!.useBackend;
  const plan = switchPlan(rules);
  assert.equal(plan.at.get(0), undefined, 'a run of 2 is too short');
  assert.equal(plan.at.get(3)?.end, N, 'the run after the prefix match is a segment');
});
