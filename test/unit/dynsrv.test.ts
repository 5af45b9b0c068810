// Dynamic servers (src/ops/cli-dynsrv.ts) on a backend built from a parsed configuration:
// `add server`, `del server` and `set server addr` answers, ids, and the balancer seeing the
// added servers. Expected texts are haproxy 2.6's answers to the same commands (socat on its
// stats socket).
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../helpers/config.js';
import { Proxy } from '../../src/proxy/proxy.js';
import type { Runtime } from '../../src/proxy/runtime.js';
import type { Server } from '../../src/proxy/server.js';
import '../../src/ops/cli.js';
import { addServer, delServer, setServerAddress, setServerFqdn, type DynOut } from '../../src/ops/cli-dynsrv.js';

const CFG = `
defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
backend be
  balance roundrobin
  default-server weight 7
  server s1 127.0.0.1:8001
backend bst
  balance static-rr
  server s1 127.0.0.1:8001
backend bsrc
  balance source
  server s1 127.0.0.1:8001
backend bcons
  balance source
  hash-type consistent
  server s1 127.0.0.1:8001
backend blc
  balance leastconn
  server s1 127.0.0.1:8001
`;

let made: Proxy[] = [];
afterEach(() => { for (const p of made) p.dispose(); made = []; });

function setup(): { rt: Runtime; be: (n: string) => Proxy } {
  const r = parseConfigText(CFG);
  assert.equal(r.fatal, false);
  const proxies = r.config.proxies.map((pc) => new Proxy(pc, 100));
  for (const p of proxies) p.initBalancer();
  made = proxies;
  const rt = { findProxy: (n: string) => proxies.find((p) => p.name === n && p.isBackend), proxies } as unknown as Runtime;
  return { rt, be: (n) => proxies.find((p) => p.name === n)! };
}

/** Collects an answer as the socket would carry it: msg/err get an empty line, bare does not. */
function recorder(): DynOut & { text: () => string } {
  let t = '';
  return {
    msg: (m) => { t += `${m}\n\n`; },
    err: (m) => { t += `${m}\n\n`; },
    bare: (m) => { t += `${m}\n`; },
    text: () => t,
  };
}

function add(rt: Runtime, line: string): string {
  const o = recorder();
  addServer(rt, line.split(' '), o);
  return o.text();
}
function del(rt: Runtime, line: string): string {
  const o = recorder();
  delServer(rt, line.split(' '), o);
  return o.text();
}

describe('add server', () => {
  it('registers a server in maintenance, without default-server settings, with the next free id', () => {
    const { rt, be } = setup();
    assert.equal(add(rt, 'add server be/s2 127.0.0.1:8002'), 'New server registered.\n\n');
    const s = be('be').findServer('s2')!;
    assert.equal(s.admin, 'maint');
    assert.equal(s.uweight, 1);          // not the default-server's 7
    assert.equal(s.puid, 2);
    assert.equal(s.port, 8002);
    assert.equal(be('be').servers.length, 2);
  });

  it('accepts dynamic algorithms only', () => {
    const { rt } = setup();
    const refused = 'Backend must use a dynamic load balancing to support dynamic servers.\n';
    assert.equal(add(rt, 'add server bst/s2 127.0.0.1:8002'), refused);
    assert.equal(add(rt, 'add server bsrc/s2 127.0.0.1:8002'), refused);
    assert.equal(add(rt, 'add server bcons/s2 127.0.0.1:8002'), 'New server registered.\n\n');
    assert.equal(add(rt, 'add server blc/s2 127.0.0.1:8002'), 'New server registered.\n\n');
  });

  it('gives HAProxy\'s errors', () => {
    const { rt } = setup();
    assert.equal(add(rt, 'add server nob/s2 127.0.0.1:8002'), 'No such backend.\n');
    assert.equal(add(rt, 'add server be'), "Require 'backend/server'.\n");
    assert.equal(add(rt, 'add server be/'), "Require 'backend/server'.\n");
    assert.equal(add(rt, 'add server be/s3'), "'server' expects <name> and <addr>[:<port>] as arguments.\n\n");
    assert.equal(add(rt, 'add server be/s1 127.0.0.1:8002'), 'Already exists a server with the same name in backend.\n\n');
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 id 0'), "'id' : custom id has to be > 0.\n\n");
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 id abc'), "'id' : custom id has to be > 0.\n\n");
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 cookie abc'), "'cookie' option is not accepted for dynamic server\n\n");
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 init-addr none'), "'init-addr' option is not accepted for dynamic server\n\n");
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 weight 300'), 'weight of server s3 is not within 0 and 256 (300)..\n\n');
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 agent-check'), 'server s3 does not have agent port. Agent check has been disabled.\n\n');
    assert.equal(add(rt, 'add server be/s3 127.0.0.1:8002 id 5'), 'New server registered.\n\n');
    assert.equal(add(rt, 'add server be/s4 127.0.0.1:8002 id 5'), "'id' : custom id 5 already used at (null):0 ('server s3').\n\n");
    assert.match(add(rt, 'add server be/s4 127.0.0.1:8002 id 1'), /^'id' : custom id 1 already used at .*h\.cfg:10 \('server s1'\)\.\n\n$/);
    // s4 takes the lowest free id
    assert.equal(add(rt, 'add server be/s4 127.0.0.1:8002'), 'New server registered.\n\n');
  });

  it('`enabled` puts the server in service; `disabled` keeps it in configured maintenance', () => {
    const { rt, be } = setup();
    add(rt, 'add server be/s2 127.0.0.1:8002 enabled');
    add(rt, 'add server be/s3 127.0.0.1:8002 disabled');
    assert.equal(be('be').findServer('s2')!.admin, 'ready');
    assert.equal(be('be').findServer('s3')!.admin, 'maint');
  });

  it('an added server takes traffic once ready, and the balancer forgets it once deleted', () => {
    const { rt, be } = setup();
    const b = be('be');
    add(rt, 'add server be/s2 127.0.0.1:8002 weight 7');
    const picks = (n: number): string[] => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((b.balancer!.pick({}) as Server).name);
      return out;
    };
    assert.deepEqual(new Set(picks(4)), new Set(['s1']));
    b.findServer('s2')!.setAdmin('ready');
    const seen = picks(4);
    assert.equal(seen.filter((x) => x === 's2').length, 2);
    assert.equal(del(rt, 'del server be/s2'), 'Only servers in maintenance mode can be deleted.\n');
    b.findServer('s2')!.setAdmin('maint');
    assert.equal(del(rt, 'del server be/s2'), 'Server deleted.\n');
    assert.equal(b.findServer('s2'), undefined);
    assert.deepEqual(new Set(picks(4)), new Set(['s1']));
    // the id is free again
    add(rt, 'add server be/s9 127.0.0.1:8002');
    assert.equal(b.findServer('s9')!.puid, 2);
  });
});

describe('checks of dynamic servers', () => {
  it('are created disabled, and stopped when the server is deleted', () => {
    const { rt, be } = setup();
    assert.equal(add(rt, 'add server be/s2 127.0.0.1:8002 check inter 100 rise 1 fall 1 agent-check agent-port 9'), 'New server registered.\n\n');
    const s = be('be').findServer('s2')!;
    assert.ok(s.healthCheck);
    assert.equal(s.healthCheck.enabled, false);
    assert.equal(s.healthCheck.opts.inter, 100);
    assert.ok(s.agentCheck);
    assert.equal(s.agentCheck.enabled, false);
    assert.equal(s.agentCheck.opts.port, 9);
    // disabled checks do not hold the server down once it leaves maintenance
    s.setAdmin('ready');
    assert.equal(s.usable(), true);
    s.setAdmin('maint');
    const hc = s.healthCheck as unknown as { stopped: boolean };
    const ac = s.agentCheck as unknown as { stopped: boolean };
    assert.equal(del(rt, 'del server be/s2'), 'Server deleted.\n');
    assert.equal(hc.stopped, true);
    assert.equal(ac.stopped, true);
  });
});

describe('del server', () => {
  it('refuses a server with connections or queued streams', () => {
    const { rt, be } = setup();
    add(rt, 'add server be/s2 127.0.0.1:8002');
    const s = be('be').findServer('s2')!;
    s.cur = 1;
    assert.equal(del(rt, 'del server be/s2'), 'Server still has connections attached to it, cannot remove it.\n');
    s.cur = 0;
    s.queue.push({ grant: () => {}, queuedAt: 0 } as never);
    assert.equal(del(rt, 'del server be/s2'), 'Server still has connections attached to it, cannot remove it.\n');
    s.queue.drain();
    assert.equal(del(rt, 'del server be/s2'), 'Server deleted.\n');
    assert.equal(del(rt, 'del server be/s2'), 'No such server.\n');
    assert.equal(del(rt, 'del server nob/s2'), 'No such backend.\n');
    assert.equal(del(rt, 'del server be'), "Require 'backend/server'.\n");
  });

  it('may delete a server from the configuration once in maintenance', () => {
    const { rt, be } = setup();
    be('be').findServer('s1')!.setAdmin('maint');
    assert.equal(del(rt, 'del server be/s1'), 'Server deleted.\n');
    assert.equal(be('be').servers.length, 0);
  });
});

describe('set server addr / fqdn', () => {
  function srv(): Server {
    const { rt, be } = setup();
    add(rt, 'add server be/s2 127.0.0.1:38082');
    return be('be').findServer('s2')!;
  }
  function run(s: Server, line: string, f = setServerAddress): string {
    const o = recorder();
    f(s, line.split(' '), o);
    return o.text();
  }
  const BY = " by 'stats socket command'\n\n";

  it('answers as haproxy 2.6 does', () => {
    const s = srv();
    const c = (l: string): string => run(s, `set server be/s2 ${l}`);
    assert.equal(c('addr 127.0.0.1'), `no need to change the addr${BY}`);
    assert.equal(c('addr 127.0.0.2'), `IP changed from '127.0.0.1' to '127.0.0.2'${BY}`);
    assert.equal(s.host, '127.0.0.2');
    assert.equal(c('addr 127.0.0.1 port 38081'), `IP changed from '127.0.0.2' to '127.0.0.1', port changed from '38082' to '38081'${BY}`);
    assert.equal(s.port, 38081);
    assert.equal(c('addr 127.0.0.1 port 38081'), `no need to change the addr, no need to change the port${BY}`);
    assert.equal(c('addr 127.0.0.1 port 38082'), `no need to change the addr, port changed from '38081' to '38082'${BY}`);
    assert.equal(c('addr ::1 port 38082'), `IP changed from '127.0.0.1' to '::1', no need to change the port${BY}`);
    assert.equal(c('addr 127.0.0.1 port 38082'), `IP changed from '::1' to '127.0.0.1', no need to change the port${BY}`);
    assert.equal(c('addr'), 'set server <b>/<s> addr requires an address and optionally a port.\n\n');
    assert.equal(c('addr foo.bar'), `Invalid addr 'foo.bar'${BY}`);
    assert.equal(c('addr 127.0.0.01'), `Invalid addr '127.0.0.01'${BY}`);
    assert.equal(c('addr 1.2.3'), `Invalid addr '1.2.3'${BY}`);
    assert.equal(c('addr 127.0.0.1 port abc'), `no need to change the addr, problem converting port 'abc' to an int${BY}`);
    assert.equal(c('addr 127.0.0.1 port 99999'), `no need to change the addr, port changed from '38082' to '34463'${BY}`);
    assert.equal(c('addr 127.0.0.1 port +5'), `no need to change the addr, can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.${BY}`);
    assert.equal(c('addr 127.0.0.1 port 0'), `no need to change the addr, port changed from '34463' to '0'${BY}`);
    assert.equal(c('addr 127.0.0.1 foo 3'), `no need to change the addr${BY}`);
  });

  it('a port map is shown with its sign', () => {
    const { rt, be } = setup();
    add(rt, 'add server be/s13 127.0.0.1');
    add(rt, 'add server be/s14 127.0.0.1:+1');
    assert.equal(run(be('be').findServer('s13')!, 'set server be/s13 addr 127.0.0.1 port 5'), `no need to change the addr, port changed from '+0' to '5'${BY}`);
    assert.equal(run(be('be').findServer('s14')!, 'set server be/s14 addr 127.0.0.1 port 38082'), `no need to change the addr, port changed from '+1' to '38082'${BY}`);
  });

  it('fqdn needs resolvers', () => {
    const s = srv();
    assert.equal(run(s, 'set server be/s2 fqdn', setServerFqdn), 'set server <b>/<s> fqdn requires a FQDN.\n\n');
    assert.equal(run(s, 'set server be/s2 fqdn foo.example', setServerFqdn), 'set server <b>/<s> fqdn failed because no resolution is configured.\n\n');
  });
});
