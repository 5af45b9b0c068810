// DNS message encoding/decoding and the configuration of run-time resolution (src/dns/).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQuery, decodeMessage, interpretAnswer, QTYPE, DnsParseError } from '../../src/dns/message.js';
import { parseNameserverAddress, resolvConfNameservers, applyInitAddr, type ResolversConfig } from '../../src/dns/config.js';
import { pickAddress, Resolvers } from '../../src/dns/resolver.js';
import { parseConfigText } from '../helpers/config.js';
import '../../src/dns/config.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

describe('DNS query encoding', () => {
  it('matches the queries HAProxy 2.6 sends (captured with a UDP listener)', () => {
    // captured from /usr/sbin/haproxy 2.6 resolving "app.test" (id 0xeb22 AAAA, then A): header
    // with RD, 1 question, 1 additional (EDNS0 OPT, UDP payload size 512)
    assert.deepEqual(encodeQuery(0xeb22, 'app.test', QTYPE.AAAA, 512),
      hex('eb22 0100 0001 0000 0000 0001 03 617070 04 74657374 00 001c 0001 00 0029 0200 00000000 0000'));
    assert.deepEqual(encodeQuery(0xeb22, 'app.test', QTYPE.A, 512),
      hex('eb22 0100 0001 0000 0000 0001 03 617070 04 74657374 00 0001 0001 00 0029 0200 00000000 0000'));
  });
  it('announces accepted_payload_size, accepts a trailing dot, omits OPT with size 0', () => {
    const q = encodeQuery(1, 'a.b.', QTYPE.A, 4096);
    // 4096 = 0x1000 in the OPT record's class field
    assert.deepEqual(q, hex('0001 0100 0001 0000 0000 0001 01 61 01 62 00 0001 0001 00 0029 1000 00000000 0000'));
    assert.deepEqual(encodeQuery(2, 'x', QTYPE.A, 0), hex('0002 0100 0001 0000 0000 0000 01 78 00 0001 0001'));
  });
  it('refuses labels over 63 bytes and names over 255', () => {
    assert.throws(() => encodeQuery(1, `${'a'.repeat(64)}.com`, QTYPE.A));
    assert.throws(() => encodeQuery(1, Array(60).fill('abcd').join('.'), QTYPE.A));
  });
});

// A response to id 0x1234 "www.ex" type A, built by hand (RFC 1035 4.1):
//   header: id 1234, flags 8180 (QR, RD, RA, NOERROR), qd 1, an 3, ns 0, ar 0
//   question: 03 www 02 ex 00, type 1 class 1           (name at offset 12)
//   an1: c00c CNAME IN ttl 60, rdata "web" + pointer to "ex" (offset 16) -> web.ex
//   an2: name = pointer to an1's rdata (web.ex) A 10.0.0.1
//   an3: same name A 10.0.0.2
function cnameResponse(flags = '8180', ancount = 3): Buffer {
  const head = hex(`1234 ${flags} 0001 ${ancount.toString(16).padStart(4, '0')} 0000 0000`);
  const question = hex('03 777777 02 6578 00 0001 0001'); // offsets 12..23 ("ex" at 16)
  // an1 starts at 24: name c00c (2) type(2) class(2) ttl(4) rdlen(2) = 12 bytes, rdata at 36
  const an1 = hex('c00c 0005 0001 0000003c 0006 03 776562 c010');
  // rdata at 36 is "web" + pointer to 16 ("ex"), so web.ex is at offset 36 = 0x24
  const an2 = hex('c024 0001 0001 0000003c 0004 0a000001');
  const an3 = hex('c024 0001 0001 0000003c 0004 0a000002');
  return Buffer.concat([head, question, an1, an2, an3].slice(0, 2 + ancount));
}

describe('DNS answer decoding', () => {
  it('decodes header, question, compressed names, CNAME and A records', () => {
    const m = decodeMessage(cnameResponse());
    assert.equal(m.id, 0x1234);
    assert.equal(m.qr, true);
    assert.equal(m.tc, false);
    assert.equal(m.rcode, 0);
    assert.deepEqual(m.questions, [{ name: 'www.ex', type: 1, cls: 1 }]);
    assert.deepEqual(m.answers.map((r) => [r.name, r.type, r.data, r.ttl]), [
      ['www.ex', 5, 'web.ex', 60], ['web.ex', 1, '10.0.0.1', 60], ['web.ex', 1, '10.0.0.2', 60],
    ]);
  });
  it('follows the CNAME chain to the addresses', () => {
    const r = interpretAnswer(cnameResponse(), 0x1234, 'WWW.ex.', QTYPE.A);
    assert.deepEqual(r, { status: 'valid', addresses: ['10.0.0.1', '10.0.0.2'], cname: true, srv: [], additional: [] });
  });
  it('rejects an answer to another id, name or type, and a query (QR clear)', () => {
    assert.equal(interpretAnswer(cnameResponse(), 0x1235, 'www.ex', QTYPE.A).status, 'invalid');
    assert.equal(interpretAnswer(cnameResponse(), 0x1234, 'www.ey', QTYPE.A).status, 'invalid');
    assert.equal(interpretAnswer(cnameResponse(), 0x1234, 'www.ex', QTYPE.AAAA).status, 'invalid');
    assert.equal(interpretAnswer(cnameResponse('0100'), 0x1234, 'www.ex', QTYPE.A).status, 'invalid');
  });
  it('maps response codes and the truncation bit', () => {
    // 8183: NXDOMAIN, 8185: REFUSED, 8182: SERVFAIL, 8380: TC set
    assert.equal(interpretAnswer(cnameResponse('8183', 0), 0x1234, 'www.ex', QTYPE.A).status, 'nx');
    assert.equal(interpretAnswer(cnameResponse('8185', 0), 0x1234, 'www.ex', QTYPE.A).status, 'refused');
    assert.equal(interpretAnswer(cnameResponse('8182', 0), 0x1234, 'www.ex', QTYPE.A).status, 'other');
    assert.equal(interpretAnswer(cnameResponse('8380', 1), 0x1234, 'www.ex', QTYPE.A).status, 'truncated');
  });
  it('an answer without records for the name is empty; a CNAME loop is an error', () => {
    assert.equal(interpretAnswer(cnameResponse('8180', 0), 0x1234, 'www.ex', QTYPE.A).status, 'empty');
    // only the CNAME: the chain ends on web.ex without addresses
    assert.equal(interpretAnswer(cnameResponse('8180', 1), 0x1234, 'www.ex', QTYPE.A).status, 'empty');
    // www.ex CNAME www.ex (rdata is a pointer to the question name)
    const loop = Buffer.concat([hex('1234 8180 0001 0001 0000 0000'), hex('03 777777 02 6578 00 0001 0001'), hex('c00c 0005 0001 0000003c 0002 c00c')]);
    assert.equal(interpretAnswer(loop, 0x1234, 'www.ex', QTYPE.A).status, 'cname_error');
  });
  it('decodes AAAA records in canonical text (RFC 5952)', () => {
    const m = Buffer.concat([hex('0007 8180 0001 0002 0000 0000'), hex('01 61 00 001c 0001'),
      hex('c00c 001c 0001 00000001 0010 20010db8000000000000000000000001'),
      hex('c00c 001c 0001 00000001 0010 fe800000000000000001000000000000')]);
    // 2001:0db8:0:0:0:0:0:1 -> 2001:db8::1; fe80:0:0:0:1:0:0:0 -> fe80::1:0:0:0 (first longest run)
    assert.deepEqual(interpretAnswer(m, 7, 'a', QTYPE.AAAA).addresses, ['2001:db8::1', 'fe80::1:0:0:0']);
  });
  it('decodes SRV records', () => {
    const m = Buffer.concat([hex('0008 8180 0001 0001 0000 0000'), hex('04 5f783132 00 0021 0001'),
      // priority 10, weight 20, port 8080 (0x1f90), target "b" + root
      hex('c00c 0021 0001 0000000a 0009 000a 0014 1f90 01 62 00')]);
    const r = interpretAnswer(m, 8, '_x12', QTYPE.SRV);
    assert.equal(r.status, 'valid');
    assert.deepEqual(r.srv.map((x) => [x.priority, x.weight, x.port, x.data]), [[10, 20, 8080, 'b']]);
  });
  it('throws on malformed messages: short, out-of-bounds label, pointer loop, bad A length', () => {
    assert.throws(() => decodeMessage(hex('1234 8180')), DnsParseError);
    assert.throws(() => decodeMessage(hex('1234 8180 0001 0000 0000 0000 05 6162')), DnsParseError);
    assert.throws(() => decodeMessage(hex('1234 8180 0001 0000 0000 0000 c00c')), DnsParseError);
    assert.throws(() => decodeMessage(Buffer.concat([hex('1234 8180 0001 0001 0000 0000 01 61 00 0001 0001'), hex('c00c 0001 0001 00000001 0003 010203')])), DnsParseError);
    assert.equal(interpretAnswer(hex('1234 8180 0001'), 0x1234, 'a', QTYPE.A).status, 'invalid');
  });
});

describe('resolvers configuration', () => {
  const base = (extra: string, server = 'server s app.test:80 resolvers dns init-addr none'): string => `
resolvers dns
  nameserver ns1 127.0.0.1:5353
  nameserver ns2 [::1]:53
${extra}
backend b
  ${server}
`;
  it('parses the section with its defaults and settings', () => {
    const r = parseConfigText(base('  resolve_retries 5\n  timeout resolve 2s\n  timeout retry 300\n  hold nx 3s\n  hold valid 1s\n  hold obsolete 5s\n  accepted_payload_size 8192'));
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    const rc = r.config.resolvers!.get('dns')!;
    assert.deepEqual(rc.nameservers.map((n) => [n.name, n.host, n.port]), [['ns1', '127.0.0.1', 5353], ['ns2', '::1', 53]]);
    assert.equal(rc.resolveRetries, 5);
    assert.equal(rc.timeoutResolve, 2000);
    assert.equal(rc.timeoutRetry, 300);
    assert.deepEqual(rc.hold, { valid: 1000, nx: 3000, other: 30000, refused: 30000, timeout: 30000, obsolete: 5000 });
    assert.equal(rc.acceptedPayloadSize, 8192);
    const s = r.config.proxies[0]!.servers[0]!;
    assert.deepEqual(s.dns, { resolvers: 'dns', initAddr: [{ kind: 'none' }] });
  });
  it('documented defaults: retries 3, timeouts 1s, hold 10s valid / 0 obsolete / 30s others, payload 512', () => {
    const rc = parseConfigText(base('')).config.resolvers!.get('dns')!;
    assert.equal(rc.resolveRetries, 3);
    assert.equal(rc.timeoutResolve, 1000);
    assert.equal(rc.timeoutRetry, 1000);
    assert.deepEqual(rc.hold, { valid: 10000, nx: 30000, other: 30000, refused: 30000, timeout: 30000, obsolete: 0 });
    assert.equal(rc.acceptedPayloadSize, 512);
  });
  it('rejects bad lines with their position', () => {
    const bad = (extra: string, re: RegExp): void => {
      const r = parseConfigText(base(extra));
      assert.equal(r.fatal, true, extra);
      assert.ok(r.diags.some((d) => d.level === 'ALERT' && re.test(d.msg) && /h\.cfg:5\]/.test(d.msg)), `${extra}: ${JSON.stringify(r.diags)}`);
    };
    bad('  foo bar', /unknown keyword 'foo' in 'resolvers' section/);
    bad('  hold forever 1s', /'hold' expects one of/);
    bad('  timeout connect 1s', /'timeout' supports 'resolve' and 'retry'/);
    bad('  timeout retry 1x', /unexpected character/);
    bad('  accepted_payload_size 100', /between 512 and 65535/);
    bad('  resolve_retries 0', /positive integer/);
    bad('  nameserver ns3 ssl@127.0.0.1:53', /not supported yet/);
    bad('  nameserver ns3 tcp6@127.0.0.1:53', /does not match the family/);
    bad('  nameserver ns1 127.0.0.1:53', /same name as another nameserver/);
    bad('  nameserver ns3 not-an-ip:53', /invalid address/);
  });
  it('server keywords: resolve-prefer, resolve-net, resolve-opts, init-addr; bad values rejected', () => {
    const r = parseConfigText(base('', 'server s app.test:80 resolvers dns resolve-prefer ipv4 resolve-net 10.0.0.0/8,192.168.0.0/255.255.0.0 resolve-opts allow-dup-ip,ignore-weight init-addr last,libc,10.1.2.3'));
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    assert.deepEqual(r.config.proxies[0]!.servers[0]!.dns, {
      resolvers: 'dns', prefer: 'ipv4', nets: [['10.0.0.0', 8], ['192.168.0.0', 16]], allowDupIp: true, ignoreWeight: true,
      initAddr: [{ kind: 'last' }, { kind: 'libc' }, { kind: 'ip', ip: '10.1.2.3' }],
    });
    for (const [kw, re] of [
      ['resolve-prefer ipv5', /unsupported family/], ['resolve-net 10.0.0.0/33', /invalid network/],
      ['resolve-opts foo', /unknown option 'foo'/], ['init-addr libc,first', /unknown method 'first'/],
    ] as const) {
      const x = parseConfigText(base('', `server s app.test:80 ${kw}`));
      assert.ok(x.fatal && x.diags.some((d) => re.test(d.msg)), `${kw}: ${JSON.stringify(x.diags)}`);
    }
  });
  it('default-server passes the settings on; unknown resolvers and empty sections are refused', () => {
    const r = parseConfigText(base('', 'default-server resolvers dns resolve-prefer ipv4\n  server s app.test:80'));
    assert.equal(r.fatal, false, JSON.stringify(r.diags));
    assert.deepEqual(r.config.proxies[0]!.servers[0]!.dns, { resolvers: 'dns', prefer: 'ipv4' });
    const u = parseConfigText(base('', 'server s app.test:80 resolvers nope'));
    assert.ok(u.fatal && u.diags.some((d) => /unable to find required resolvers 'nope'/.test(d.msg)));
    const srv = parseConfigText(base('', 'server-template s 1-3 _http._tcp.app.test resolvers dns init-addr none'));
    // SRV labels are accepted on servers (resolved at run time)
    assert.equal(srv.fatal, false, JSON.stringify(srv.diags));
    assert.deepEqual(srv.config.proxies[0]!.servers.map((x) => `${x.name} ${x.address.host} ${x.address.isHostname}`),
      ['s1 _http._tcp.app.test true', 's2 _http._tcp.app.test true', 's3 _http._tcp.app.test true']);
    assert.ok(parseConfigText(base('', 'server s _bad_:80 resolvers dns init-addr none')).fatal);
    const e = parseConfigText('resolvers empty\n  timeout retry 1s\n');
    assert.ok(e.fatal && e.diags.some((d) => /no nameserver/.test(d.msg)));
    const dup = parseConfigText(`${base('')}resolvers dns\n  nameserver x 127.0.0.1:53\n`);
    assert.ok(dup.fatal && dup.diags.some((d) => /same name as another resolvers section/.test(d.msg)));
  });
  it('nameserver addresses and resolv.conf', () => {
    assert.deepEqual(parseNameserverAddress('10.0.0.1'), { host: '10.0.0.1', port: 53 });
    assert.deepEqual(parseNameserverAddress('udp@10.0.0.1:54'), { host: '10.0.0.1', port: 54 });
    assert.deepEqual(parseNameserverAddress('[2001:db8::1]:5353'), { host: '2001:db8::1', port: 5353 });
    assert.deepEqual(parseNameserverAddress('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(parseNameserverAddress('tcp@10.0.0.1:5353'), { host: '10.0.0.1', port: 5353, tcp: true });
    assert.deepEqual(parseNameserverAddress('tcp6@[::1]'), { host: '::1', port: 53, tcp: true });
    assert.equal(typeof parseNameserverAddress('10.0.0.1:70000'), 'string');
    assert.deepEqual(resolvConfNameservers('# c\nnameserver 10.0.0.1\nsearch x\n nameserver ::1\nnameserver bogus\n'), ['10.0.0.1', '::1']);
  });
});

describe('init-addr', () => {
  const srv = (init?: string[]): Parameters<typeof applyInitAddr>[0] => ({
    address: { host: 'h.test', family: 'ipv4' },
    dns: init ? { initAddr: init.map((k) => (k.includes('.') ? { kind: 'ip' as const, ip: k } : { kind: k as 'last' | 'libc' | 'none' })) } : undefined,
  });
  const ok = async (h: string): Promise<string> => (h === 'h.test' ? '10.9.9.9' : Promise.reject(new Error('nx')));
  const fail = async (): Promise<string> => { throw new Error('nx'); };
  it('default last,libc: the libc answer', async () => {
    const s = srv();
    assert.equal(await applyInitAddr(s, ok), true);
    assert.equal(s.resolved, '10.9.9.9');
    assert.equal(await applyInitAddr(srv(), fail), false);
  });
  it('falls through the list: none, then an address', async () => {
    const s = srv(['last', 'libc', 'none']);
    assert.equal(await applyInitAddr(s, fail), true);
    assert.equal(s.noInitAddr, true);
    assert.equal(s.resolved, undefined);
    const t = srv(['libc', '192.0.2.7']);
    assert.equal(await applyInitAddr(t, fail), true);
    assert.equal(t.resolved, '192.0.2.7');
    assert.equal(await applyInitAddr(srv(['last']), ok), false);
  });
});

describe('address choice', () => {
  interface Fake { name: string; dns?: unknown; backend: { servers: Fake[] }; cfg: { address: { host: string } } }
  const mk = (opts: object, addr?: string): { sd: Parameters<typeof pickAddress>[0]; be: { servers: Fake[] } } => {
    const be = { servers: [] as Fake[] };
    const server: Fake = { name: 's', backend: be, cfg: { address: { host: 'app.test' } } };
    const sd = { server, opts, addr, maint: false, fqdn: 'app.test' } as unknown as Parameters<typeof pickAddress>[0];
    server.dns = sd;
    be.servers.push(server);
    return { sd, be };
  };
  it('keeps the current address while it is listed, otherwise takes the first', () => {
    assert.equal(pickAddress(mk({}, '10.0.0.2').sd, ['10.0.0.1', '10.0.0.2']), '10.0.0.2');
    assert.equal(pickAddress(mk({}, '10.0.0.9').sd, ['10.0.0.1', '10.0.0.2']), '10.0.0.1');
  });
  it('prefers resolve-net matches', () => {
    assert.equal(pickAddress(mk({ nets: [['192.168.0.0', 16]] }).sd, ['10.0.0.1', '192.168.4.4']), '192.168.4.4');
    assert.equal(pickAddress(mk({ nets: [['172.16.0.0', 12]] }).sd, ['10.0.0.1', '192.168.4.4']), '10.0.0.1');
  });
  it('skips addresses of servers resolving the same name unless allow-dup-ip', () => {
    const { sd, be } = mk({});
    const other: Fake = { name: 't', backend: be, cfg: { address: { host: 'APP.test' } } };
    other.dns = { server: other, opts: {}, addr: '10.0.0.1', maint: false, fqdn: 'APP.test' };
    be.servers.push(other);
    assert.equal(pickAddress(sd, ['10.0.0.1', '10.0.0.2']), '10.0.0.2');
    assert.equal(pickAddress(sd, ['10.0.0.1']), undefined);
    sd.opts.allowDupIp = true;
    assert.equal(pickAddress(sd, ['10.0.0.1']), '10.0.0.1');
  });
});

describe('show resolvers layout', () => {
  it('prints the counters per nameserver as HAProxy 2.6 does', () => {
    const cfg = { name: 'mydns', nameservers: [{ name: 'ns1', host: '127.0.0.1', port: 53, where: { file: '', line: 0 } }] } as unknown as ResolversConfig;
    const r = new Resolvers(cfg);
    r.nameservers[0]!.counters.sent = 9;
    r.nameservers[0]!.counters.valid = 4;
    // layout copied from `echo "show resolvers" | socat - <haproxy 2.6 socket>`
    assert.equal(r.render(), [
      'Resolvers section mydns', ' nameserver ns1:',
      '  sent:        9', '  snd_error:   0', '  valid:       4', '  update:      0', '  cname:       0',
      '  cname_error: 0', '  any_err:     0', '  nx:          0', '  timeout:     0', '  refused:     0',
      '  other:       0', '  invalid:     0', '  too_big:     0', '  truncated:   0', '  outdated:    0', '',
    ].join('\n'));
  });
});
