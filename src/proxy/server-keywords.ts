// `server` / `default-server` options owned by the foundation (configuration.txt 5.2).
import { registerServer, type ParseCtx } from '../registry/registry.js';
import type { ProxyV2Options } from '../config/model.js';
import { parseTime, parseUint } from '../util/units.js';
import { parseSource } from './keywords.js';

function uintArg(name: string, v: string | undefined, ctx: ParseCtx, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const n = parseUint(v);
  if (n === undefined || n < min || n > max) { ctx.alert(`'${name}' expects an integer argument${max < Number.MAX_SAFE_INTEGER ? ` between ${min} and ${max}` : ''} (got '${v ?? ''}').`); return undefined; }
  return n;
}

const PP2_OPTS: Record<string, keyof ProxyV2Options> = {
  ssl: 'ssl', 'cert-cn': 'certCn', 'ssl-cipher': 'sslCipher', 'cert-sig': 'certSig', 'cert-key': 'certKey',
  authority: 'authority', crc32c: 'crc32c', 'unique-id': 'uniqueId',
};

registerServer(
  {
    name: 'weight', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const n = uintArg('weight', a[1], ctx, 0, 256); if (n !== undefined) s.weight = n; },
  },
  { name: 'maxconn', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = uintArg('maxconn', a[1], ctx); if (n !== undefined) s.maxconn = n; } },
  { name: 'maxqueue', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = uintArg('maxqueue', a[1], ctx); if (n !== undefined) s.maxqueue = n; } },
  { name: 'minconn', args: 1, inDefaultServer: true, parse(a, s, ctx) { const n = uintArg('minconn', a[1], ctx); if (n !== undefined) s.minconn = n; } },
  { name: 'backup', args: 0, inDefaultServer: true, parse(_a, s) { s.backup = true; } },
  { name: 'no-backup', args: 0, inDefaultServer: true, parse(_a, s) { s.backup = false; } },
  { name: 'disabled', args: 0, inDefaultServer: true, parse(_a, s) { s.disabled = true; } },
  { name: 'enabled', args: 0, inDefaultServer: true, parse(_a, s) { s.disabled = false; } },
  { name: 'id', args: 1, inDefaultServer: false, parse(a, s, ctx) { const n = uintArg('id', a[1], ctx, 1); if (n !== undefined) s.id = n; } },
  {
    name: 'slowstart', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const t = parseTime(a[1] ?? '');
      if (typeof t === 'string') { ctx.alert(`'slowstart' : ${t}`); return; }
      s.slowstart = t;
    },
  },
  { name: 'send-proxy', args: 0, inDefaultServer: true, parse(_a, s) { s.sendProxy = 1; } },
  { name: 'send-proxy-v2', args: 0, inDefaultServer: true, parse(_a, s) { s.sendProxy = 2; } },
  { name: 'no-send-proxy', args: 0, inDefaultServer: true, parse(_a, s) { if (s.sendProxy === 1) s.sendProxy = 0; } },
  { name: 'no-send-proxy-v2', args: 0, inDefaultServer: true, parse(_a, s) { if (s.sendProxy === 2) s.sendProxy = 0; } },
  {
    name: 'proxy-v2-options', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const opts: ProxyV2Options = { ssl: false, certCn: false, sslCipher: false, certSig: false, certKey: false, authority: false, crc32c: false, uniqueId: false };
      for (const o of (a[1] ?? '').split(',')) {
        const f = PP2_OPTS[o];
        if (!f) { ctx.alert(`'proxy-v2-options' : unknown option '${o}'.`); return; }
        if (f === 'ssl' || f === 'certCn' || f === 'sslCipher' || f === 'certSig' || f === 'certKey') {
          ctx.alert(`'proxy-v2-options ${o}' is not supported yet by haproxy-ts (needs TLS).`);
          return;
        }
        if (f === 'uniqueId' || f === 'authority') {
          ctx.alert(`'proxy-v2-options ${o}' is not supported yet by haproxy-ts (needs HTTP mode).`);
          return;
        }
        opts[f] = true;
      }
      s.proxyV2Options = opts;
      s.sendProxy = 2;
    },
  },
  {
    name: 'source', args: 1, inDefaultServer: true,
    parse(a, s, ctx) { const src = parseSource(a.slice(1), ctx); if (src) s.source = src; },
  },
  {
    name: 'hash-key', args: 1, inDefaultServer: true,
    parse(a, s, ctx) {
      const v = a[1];
      if (v !== 'id' && v !== 'addr' && v !== 'addr-port') { ctx.alert(`'hash-key' expects 'id', 'addr', or 'addr-port' (got '${v ?? ''}').`); return; }
      s.hashKey = v;
    },
  },
);
