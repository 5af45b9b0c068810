// The runtime API conversation without sockets: modes, separators, prompts, payloads, levels,
// feedback severities, and the commands that act on the runtime.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import '../../src/config/global-keywords.js';
import '../../src/ops/cli.js';
import { parseConfigFiles } from '../../src/config/parser.js';
import { condContext } from '../../src/cli/main.js';
import { Runtime } from '../../src/proxy/runtime.js';
import { CliSession, TOO_BIG_MSG, type CliSessionContext } from '../../src/ops/cli-session.js';
import { cliKeywords, type CliKeyword, type CliLevel } from '../../src/registry/registry.js';
import { processVersion } from '../../src/ops/cli-format.js';

let dir = '';
before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hts-cli-session-')); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

const CFG = `
defaults
  mode tcp
  timeout client 1s
  timeout server 1s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:1
  maxconn 50
  default_backend be
backend be
  server s1 127.0.0.1:8001 weight 10
  server s2 127.0.0.1:8002
backend st
  balance static-rr
  server a 127.0.0.1:9000 weight 4
`;

function runtime(): Runtime {
  const f = path.join(dir, `c${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(f, CFG);
  const r = parseConfigFiles([f], condContext());
  assert.equal(r.fatal, false, JSON.stringify(r.diags));
  return new Runtime(r.config, { maxconnOverride: 300 });
}

interface Conv { s: CliSession; out(): string; ended(): boolean }

function conv(rt: Runtime, level: CliLevel = 'admin', opts: { keywords?: CliKeyword[]; max?: number } = {}): Conv {
  let out = '';
  let ended = false;
  const s = new CliSession(rt, {
    write: (t) => { assert.ok(!ended, 'no write after end'); out += t; },
    end: () => { ended = true; },
  }, { level, timeoutMs: 1000, keywords: opts.keywords, maxCommandBytes: opts.max });
  return { s, out: () => out, ended: () => ended };
}

/** Feeds `input` then the end of input; returns the whole answer. */
function talk(rt: Runtime, input: string, level: CliLevel = 'admin'): string {
  const c = conv(rt, level);
  c.s.feed(input);
  c.s.endInput();
  assert.ok(c.ended(), 'connection closed');
  return c.out();
}

describe('non-interactive mode', () => {
  it('answers one line then closes, each answer ending with an empty line', () => {
    const rt = runtime();
    const c = conv(rt);
    c.s.feed('show version\nshow version\n');
    assert.equal(c.out(), `${processVersion()}\n\n`);
    assert.ok(c.ended());
  });

  it('runs ;-separated commands of the line', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'echo a;echo b\n'), 'a\n\nb\n\n');
    assert.equal(talk(rt, 'echo a;\n'), 'a\n\n\n', 'an empty command answers an empty line');
  });

  it('keeps escaped separators in words', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'echo a\\;b\\ c   d;echo x\n'), 'a;b c d\n\nx\n\n');
    assert.equal(talk(rt, 'echo a\\\\;echo b\n'), 'a\\\n\nb\n\n');
  });

  it('waits for the end of the line and drops an unterminated one at EOF', () => {
    const rt = runtime();
    const c = conv(rt);
    c.s.feed('show ver');
    assert.equal(c.out(), '');
    c.s.feed('sion\r\n');
    assert.equal(c.out(), `${processVersion()}\n\n`);
    assert.equal(talk(rt, 'show version'), '');
  });

  it('closes on oversized commands', () => {
    const rt = runtime();
    const c = conv(rt, 'admin', { max: 64 });
    c.s.feed('x'.repeat(100));
    assert.equal(c.out(), `${TOO_BIG_MSG}\n`);
    assert.ok(c.ended());
  });
});

describe('prompt and interactive modes', () => {
  it('prompt shows "> " after each answer until quit', () => {
    const rt = runtime();
    const c = conv(rt);
    c.s.feed('prompt\n');
    assert.equal(c.out(), '\n> ');
    c.s.feed('show version\n');
    assert.equal(c.out(), `\n> ${processVersion()}\n\n> `);
    c.s.feed('\n');
    assert.equal(c.out(), `\n> ${processVersion()}\n\n> \n> `);
    assert.ok(!c.ended());
    c.s.feed('quit\n');
    assert.ok(c.ended());
    assert.equal(c.out(), `\n> ${processVersion()}\n\n> \n> `);
  });

  it('prompt toggles back to non-interactive mode, which closes after the line', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'prompt;echo 1\nprompt\necho 2\n'), '\n> 1\n\n> \n');
    assert.equal(talk(rt, 'prompt\nprompt;echo 2\necho 3\n'), '\n> \n2\n\n');
  });

  it('prompt i / p / n select the modes explicitly', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'prompt i\necho a\necho b\nprompt p\necho c\nprompt n;echo d\necho e\n'),
      '\na\n\nb\n\n\n> c\n\n> \nd\n\n');
    const c = conv(rt);
    c.s.feed('prompt i\necho a\n');
    assert.ok(!c.ended(), 'interactive mode waits for more');
    c.s.feed('quit\n');
    assert.ok(c.ended());
  });

  it('prompt timed shows the uptime', () => {
    const rt = runtime();
    const c = conv(rt);
    c.s.feed('prompt timed\n');
    assert.match(c.out(), /^\n\[0:00:00:0\d\]> $/);
    c.s.feed('prompt help\n');
    assert.match(c.out(), /Usage: prompt/);
    c.s.feed('prompt bogus\n');
    assert.match(c.out(), /'prompt' only supports/);
  });

  it('collects a payload, with "+ " prompts in prompt mode', () => {
    const rt = runtime();
    const seen: (string | undefined)[] = [];
    const kws: CliKeyword[] = [...cliKeywords, {
      words: ['test', 'payload'], usage: 'test payload', help: 'x', level: 'user',
      run(args, ctx, payload) { seen.push(payload); ctx.out(`${args.join(',')}|${payload ?? ''}\n`); },
    }];
    const c = conv(rt, 'admin', { keywords: kws });
    c.s.feed('prompt\ntest payload a <<\nline1\n');
    c.s.feed('line2\n\n');
    assert.equal(c.out(), '\n> + + + test,payload,a|line1\nline2\n\n> ');
    c.s.feed('test payload <<%E\nx\n\ny\n%E\nquit\n');
    assert.deepEqual(seen, ['line1\nline2', 'x\n\ny']);
    assert.ok(c.ended());
  });

  it('runs asynchronous commands in order', async () => {
    const rt = runtime();
    const kws: CliKeyword[] = [...cliKeywords, {
      words: ['slow'], usage: 'slow', help: 'x', level: 'user',
      async run(_a, ctx) { await new Promise((r) => setTimeout(r, 20)); ctx.out('slow done\n'); },
    }];
    const c = conv(rt, 'admin', { keywords: kws });
    c.s.feed('slow;echo after\n');
    assert.equal(c.out(), '');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(c.out(), 'slow done\n\nafter\n\n');
    assert.ok(c.ended());
  });
});

describe('levels, errors and severities', () => {
  it('denies commands above the session level', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'set server be/s1 state maint\n', 'user'), 'Permission denied\n\n');
    assert.equal(talk(rt, 'show env HOME\n', 'user'), 'Permission denied\n\n');
    assert.equal(talk(rt, 'set maxconn global 5\n', 'operator'), 'Permission denied\n\n');
    assert.equal(rt.findProxy('be')!.findServer('s1')!.admin, 'ready');
  });

  it('lowers the level with operator/user', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'show cli level;operator;show cli level;user;show cli level;operator\n'),
      'admin\n\n\noperator\n\n\nuser\n\nPermission denied\n\n');
  });

  it('prints the usage screen for unknown commands', () => {
    const rt = runtime();
    const out = talk(rt, 'foo bar\n', 'user');
    assert.ok(out.startsWith("Unknown command: 'foo', but maybe one of the following ones is a better match:\n"));
    assert.ok(out.endsWith('  quit                                    : close this connection\n\n'));
    const help = talk(rt, 'help\n', 'user');
    assert.ok(help.startsWith('The following commands are valid at this level:\n'));
    assert.match(help, /\n {2}show info \[desc\|json\|typed\|float\]\* +: /);
    assert.match(help, /\n {2}set server <bk>\/<srv> \[opts\] +: /);
  });

  it('prefixes feedback with its severity when asked, never data', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'set severity-output string;get weight be/nope;echo hi;get weight be/s1\n'),
      '\n[err]: No such server.\n\n[info]: hi\n\n10 (initial 10)\n\n');
    assert.equal(talk(rt, 'set severity-output number;get weight nope/x\n'), '\n[3]: No such backend.\n\n');
    assert.equal(talk(rt, 'set severity-output\n'), "one of 'none', 'number', 'string' is a required argument\n\n");
  });
});

describe('commands acting on the runtime', () => {
  it('sets and reads weights', () => {
    const rt = runtime();
    assert.equal(talk(rt, 'set weight be/s1 20;get weight be/s1;set weight be/s1 50%;get weight be/s1\n'),
      '\n20 (initial 10)\n\n\n5 (initial 10)\n\n');
    assert.equal(talk(rt, 'set server be/s1 weight 300\n'), 'Absolute weight can only be between 0 and 256 inclusive.\n\n');
    assert.equal(talk(rt, 'set weight be/s1\n'), 'Require <weight> or <weight%>.\n\n');
    assert.equal(talk(rt, 'set weight st/a 2\n'), "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n");
    assert.equal(talk(rt, 'get weight #2/#1\n'), '5 (initial 10)\n\n');
    assert.equal(talk(rt, 'get weight be\n'), "Require 'backend/server'.\n\n");
    assert.equal(talk(rt, 'get weight be/\n'), "Require 'backend/server'.\n\n");
    assert.equal(talk(rt, 'get weight /s1\n'), 'No such backend.\n\n');
    assert.equal(talk(rt, 'get weight fe/s1\n'), 'No such backend.\n\n');
    assert.equal(talk(rt, 'get weight be/zz\n'), 'No such server.\n\n');
  });

  it('changes administrative states', () => {
    const rt = runtime();
    const s1 = rt.findProxy('be')!.findServer('s1')!;
    assert.equal(talk(rt, 'set server be/s1 state maint\n'), '\n');
    assert.equal(s1.admin, 'maint');
    assert.match(talk(rt, 'show servers state be\n'), /\n2 be 1 s1 127\.0\.0\.1 0 1 10 10 0 /);
    assert.equal(talk(rt, 'set server be/s1 state drain\n'), '\n');
    assert.equal(s1.admin, 'drain');
    assert.equal(talk(rt, 'enable server be/s1\n'), '\n');
    assert.equal(s1.admin, 'ready');
    assert.equal(talk(rt, 'disable server be/s1\n'), '\n');
    assert.equal(s1.admin, 'maint');
    assert.equal(talk(rt, 'set server be/s1 state bogus\n'), "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
    assert.match(talk(rt, 'set server be/s1\n'), /^usage: set server <backend>\/<server> /);
    assert.equal(talk(rt, 'show servers state nope\n'), "Can't find backend.\n\n");
  });

  it('changes connection limits', () => {
    const rt = runtime();
    let woke = 0;
    const orig = rt.wakeHeld.bind(rt);
    rt.wakeHeld = () => { woke++; orig(); };
    assert.equal(talk(rt, 'set maxconn global 100\n'), '\n');
    assert.equal(rt.maxconn, 100);
    assert.equal(woke, 1);
    assert.equal(talk(rt, 'set maxconn global 301\n'), 'Value out of range.\n\n');
    assert.equal(talk(rt, 'set maxconn global 0\n'), '\n');
    assert.equal(rt.maxconn, 300, '0 restores the initial limit');
    assert.equal(talk(rt, 'set maxconn global\n'), 'Expects an integer value.\n\n');
    assert.equal(talk(rt, 'set maxconn frontend fe 7\n'), '\n');
    assert.equal(rt.findProxy('fe')!.maxconn, 7);
    assert.equal(talk(rt, 'set maxconn frontend be 7\n'), 'No such frontend.\n\n');
    assert.equal(talk(rt, 'set maxconn frontend fe -1\n'), 'Value out of range.\n\n');
    assert.equal(talk(rt, 'set maxconn frontend fe\n'), 'Integer value expected.\n\n');
    assert.equal(talk(rt, 'set maxconn frontend\n'), 'A frontend name is expected.\n\n');
    assert.equal(talk(rt, 'set maxconn server be/s2 4\n'), '\n');
    assert.equal(rt.findProxy('be')!.findServer('s2')!.maxconn, 4);
    assert.equal(talk(rt, 'set maxconn server be/s2 4x\n'), 'Trailing garbage in maxconn string\n\n');
    assert.equal(talk(rt, 'set maxconn server be/s2\n'), 'Require <maxconn>.\n\n');
  });

  it('shows the environment', () => {
    const rt = runtime();
    process.env.HTS_CLI_TEST = 'v1';
    assert.equal(talk(rt, 'show env HTS_CLI_TEST\n', 'operator'), 'HTS_CLI_TEST=v1\n\n');
    assert.equal(talk(rt, 'show env HTS_NO_SUCH_VAR\n'), 'Variable not found\n\n');
    assert.match(talk(rt, 'show env\n'), /\nHTS_CLI_TEST=v1\n/);
  });

  it('exposes the runtime to commands through the context', () => {
    const rt = runtime();
    let got: Runtime | undefined;
    const kws: CliKeyword[] = [{ words: ['peek'], usage: 'peek', help: 'x', level: 'user', run(_a, ctx) { got = (ctx as CliSessionContext).rt; } }];
    const c = conv(rt, 'user', { keywords: kws });
    c.s.feed('peek\n');
    assert.equal(got, rt);
  });
});
