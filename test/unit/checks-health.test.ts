// The health counter of src/checks/health.ts driven with fake results, the agent reply parser
// and its effects. Expected values follow HAProxy's rules (configuration.txt 5.2 rise/fall/
// init-state/fastinter/downinter; agent-check), worked by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthCheck, serverEvents, checksAllowUp, type ServerChangeEvent } from '../../src/checks/health.js';
import { AgentCheck, parseAgentReply } from '../../src/checks/agent.js';
import { newCheckOptions, type ServerCheckOptions } from '../../src/checks/config.js';
import type { CheckResult, CheckStatus } from '../../src/checks/engine.js';
import type { Server } from '../../src/proxy/server.js';
import type { Proxy } from '../../src/proxy/proxy.js';
import { setQuiet } from '../../src/cli/messages.js';

setQuiet(true);

/** A stand-in for Server and its backend: only what the checks touch. */
function fake(opts: Partial<ServerCheckOptions> = {}, balance = 'roundrobin'): { s: Server; be: Proxy; hc: HealthCheck; events: ServerChangeEvent[] } {
  const be = {
    name: 'bk', servers: [] as unknown[], cfg: { timeouts: {}, balance: { algo: balance }, options: {} },
    totalQueued: () => 0, rebuildLb() {}, dispatchQueues() {}, serverStateChanged() {},
  } as unknown as Proxy;
  const s = {
    name: 's1', backup: false, backend: be, up: true, admin: 'ready', uweight: 10, iweight: 10, eweight: 10, cur: 0, maxconn: 0,
    queue: { length: 0 }, cfg: { check: undefined }, counters: { failedChecks: 0 },
    usable(this: Server) { return this.up && this.admin === 'ready' && this.eweight > 0; },
    setOperational(this: Server, up: boolean) { this.up = up; },
    updateWeight(this: Server) { this.eweight = this.admin === 'ready' && !this.checkNolb ? this.uweight : 0; },
    setWeight(this: Server, w: number) { this.uweight = w; this.updateWeight(); },
    setAdmin(this: Server, a: 'ready' | 'drain' | 'maint') { this.admin = a; this.updateWeight(); },
  } as unknown as Server;
  (be.servers as unknown[]).push(s);
  const hc = new HealthCheck(s, be, { ...newCheckOptions(), enabled: true, ...opts });
  s.healthCheck = hc;
  const events: ServerChangeEvent[] = [];
  serverEvents.removeAllListeners('change');
  serverEvents.on('change', (e: ServerChangeEvent) => events.push(e));
  return { s, be, hc, events };
}

const ok: CheckResult = { status: 'L4OK', duration: 1 };
const ko: CheckResult = { status: 'L4CON', info: 'Connection refused', duration: 1 };
const res = (status: CheckStatus): CheckResult => ({ status, duration: 0 });

test('init-state: the starting health and state (rise 2, fall 3: health 0..4)', () => {
  assert.deepEqual([fake({ initState: 'fully-up' }).hc.health, fake({ initState: 'fully-up' }).s.up], [4, true]);
  assert.deepEqual([fake({ initState: 'up' }).hc.health, fake({ initState: 'up' }).s.up], [2, true]);
  assert.deepEqual([fake({ initState: 'down' }).hc.health, fake({ initState: 'down' }).s.up], [1, false]);
  assert.deepEqual([fake({ initState: 'fully-down' }).hc.health, fake({ initState: 'fully-down' }).s.up], [0, false]);
});

test('fall: an UP server at full health goes DOWN after `fall` failures, not before', () => {
  const { s, hc, events } = fake({ initState: 'fully-up', rise: 2, fall: 3 });
  hc.result(ko); assert.equal(hc.health, 3); assert.equal(s.up, true);
  hc.result(ko); assert.equal(hc.health, 2); assert.equal(s.up, true);
  hc.result(ko); assert.equal(hc.health, 0); assert.equal(s.up, false); // 2-1 < rise: straight to 0
  assert.equal(events.length, 1);
  assert.equal(events[0]!.up, false);
  assert.match(events[0]!.message, /^Server bk\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 1ms\. 0 active and 0 backup servers left\./);
  assert.equal(events[0]!.noServerLeft, true);
  hc.result(ko); assert.equal(hc.health, 0); assert.equal(events.length, 1, 'no second message');
});

test('rise: a DOWN server comes UP after `rise` successes and jumps to full health', () => {
  const { s, hc, events } = fake({ initState: 'fully-down', rise: 3, fall: 2 });
  hc.result(ok); assert.equal(hc.health, 1); assert.equal(s.up, false);
  hc.result(ok); assert.equal(hc.health, 2); assert.equal(s.up, false);
  hc.result(ok); assert.equal(hc.health, 4); assert.equal(s.up, true); // rise+fall-1 = 4
  assert.equal(events.length, 1);
  assert.match(events[0]!.message, /^Server bk\/s1 is UP, reason: Layer4 check passed, check duration: 1ms\. 1 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/);
});

test('a failure while rising starts again from 0; a success while falling goes back to full health', () => {
  const { s, hc } = fake({ initState: 'fully-down', rise: 2, fall: 3 });
  hc.result(ok); assert.equal(hc.health, 1);
  hc.result(ko); assert.equal(hc.health, 0); assert.equal(s.up, false);
  hc.result(ok); hc.result(ok); assert.equal(hc.health, 4); assert.equal(s.up, true);
  hc.result(ko); assert.equal(hc.health, 3);
  hc.result(ok); assert.equal(hc.health, 4);
});

test('init-state up (health = rise): one failure takes the server down, one success makes it full', () => {
  const a = fake({ initState: 'up', rise: 2, fall: 3 });
  a.hc.result(ko); assert.equal(a.hc.health, 0); assert.equal(a.s.up, false);
  const b = fake({ initState: 'up', rise: 2, fall: 3 });
  b.hc.result(ok); assert.equal(b.hc.health, 4); assert.equal(b.s.up, true);
  const c = fake({ initState: 'down', rise: 2, fall: 3 });
  c.hc.result(ok); assert.equal(c.hc.health, 4); assert.equal(c.s.up, true);
});

test('rise 1 fall 1: every result flips the state', () => {
  const { s, hc, events } = fake({ initState: 'up', rise: 1, fall: 1 });
  hc.result(res('L7STS')); assert.equal(s.up, false);
  hc.result(res('L7OK')); assert.equal(s.up, true);
  hc.result(res('L4TOUT')); assert.equal(s.up, false);
  assert.equal(events.length, 3);
});

test('L7OKC (disable-on-404) passes but puts the server in NOLB; L7OK lifts it', () => {
  const { s, hc } = fake({ initState: 'fully-up' });
  hc.result(res('L7OKC')); assert.equal(s.up, true); assert.equal(s.checkNolb, true); assert.equal(s.eweight, 0);
  hc.result(res('L7OK')); assert.equal(s.checkNolb, false); assert.equal(s.eweight, 10);
});

test('intervals: inter at full health, downinter at 0 while down, fastinter in between', () => {
  const { hc } = fake({ initState: 'fully-up', rise: 2, fall: 3, inter: 1000, fastinter: 100, downinter: 5000 });
  assert.equal(hc.nextInterval(), 1000);
  hc.result(ko); assert.equal(hc.nextInterval(), 100); // health 3: changing state
  hc.result(ko); assert.equal(hc.nextInterval(), 100);
  hc.result(ko); assert.equal(hc.nextInterval(), 5000); // down at 0
  hc.result(ok); assert.equal(hc.nextInterval(), 100); // rising
  hc.result(ok); assert.equal(hc.nextInterval(), 1000);
});

test('intervals: fastinter and downinter default to inter', () => {
  const { hc } = fake({ initState: 'fully-down', inter: 700 });
  assert.equal(hc.nextInterval(), 700);
  hc.result(ok); assert.equal(hc.nextInterval(), 700);
});

/* ---- agent replies ---- */

test('parseAgentReply: words, separators, case, description, unknown words', () => {
  assert.deepEqual(parseAgentReply('up\n'), { health: 'up', desc: '' });
  assert.deepEqual(parseAgentReply('DOWN\r\n'), { health: 'DOWN', desc: '' });
  assert.deepEqual(parseAgentReply('up 75%'), { health: 'up', weight: '75%', desc: '' });
  assert.deepEqual(parseAgentReply('up,100%\tdrain'), { health: 'up', weight: '100%', admin: 'drain', desc: '' });
  assert.deepEqual(parseAgentReply('down #foo bar \n'), { health: 'down', desc: 'foo bar' });
  assert.deepEqual(parseAgentReply('maxconn:10 weight:20'), { maxconn: '10', weight: '20', desc: '' });
  // "down#foo" is one word, not "down" (haproxy 2.6 ignores such a reply)
  assert.equal(parseAgentReply('down#foo bar'), undefined);
  assert.equal(parseAgentReply('bogus'), undefined);
  assert.equal(parseAgentReply(''), undefined);
  assert.equal(parseAgentReply('\nup'), undefined, 'only the first line counts');
});

function withAgent(balance = 'roundrobin'): ReturnType<typeof fake> & { ag: AgentCheck } {
  const f = fake({ initState: 'fully-up' }, balance);
  const ag = new AgentCheck(f.s, { enabled: true, port: 1 });
  f.s.agentCheck = ag;
  return { ...f, ag };
}

test('agent: down/stopped/fail take the server down with "via agent", up brings it back', () => {
  const { s, ag, events } = withAgent();
  ag.reply('down\n', 21);
  assert.equal(s.up, false);
  assert.match(events[0]!.message, /^Server bk\/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down", check duration: 21ms\./);
  ag.reply('up\n', 3);
  assert.equal(s.up, true);
  assert.match(events[1]!.message, /^Server bk\/s1 is UP, reason: Layer7 check passed, code: 0, info: "via agent : up", check duration: 3ms\./);
  ag.reply('stopped #going away\n');
  assert.match(events[2]!.message, /info: "via agent : stopped \(going away\)"/);
  ag.reply('up\n'); ag.reply('fail\n');
  assert.equal(s.up, false);
});

test('agent: "up" does not override a failing health check', () => {
  const { s, hc, ag } = withAgent();
  ag.reply('down\n');
  hc.result(ko); hc.result(ko); hc.result(ko);
  assert.equal(hc.health, 0);
  ag.reply('up\n');
  assert.equal(s.up, false, 'the health check still says down');
  assert.equal(checksAllowUp(s), false);
  hc.result(ok); hc.result(ok);
  assert.equal(s.up, true);
});

test('agent: weights as a percentage of the initial weight, maxconn, admin states', () => {
  const { s, ag } = withAgent();
  ag.reply('50%\n'); assert.equal(s.uweight, 5); // 10 * 50 / 100
  ag.reply('75%\n'); assert.equal(s.uweight, 7); // 7.5 rounded down
  ag.reply('weight:3\n'); assert.equal(s.uweight, 3);
  ag.reply('100%\n'); assert.equal(s.uweight, 10);
  ag.reply('maxconn:30\n'); assert.equal(s.maxconn, 30);
  ag.reply('drain\n'); assert.equal(s.admin, 'drain'); assert.equal(s.up, true);
  ag.reply('ready\n'); assert.equal(s.admin, 'ready');
  ag.reply('maint\n'); assert.equal(s.admin, 'maint');
  ag.reply('ready\n'); assert.equal(s.admin, 'ready'); assert.equal(s.up, true);
});

test('agent: static algorithms accept only 0% and 100%', () => {
  const { s, ag } = withAgent('static-rr');
  ag.reply('50%\n'); assert.equal(s.uweight, 10, 'refused');
  ag.reply('0%\n'); assert.equal(s.uweight, 0);
});

test('agent: disabled agent neither counts nor changes the weight', () => {
  const { s, ag } = withAgent();
  ag.reply('down\n'); assert.equal(s.up, false);
  ag.enabled = false;
  assert.equal(checksAllowUp(s), true, 'a disabled agent is ignored');
  ag.reply('50%\n'); assert.equal(s.uweight, 10);
});
