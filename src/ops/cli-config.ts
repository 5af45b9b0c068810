// Global keywords of the runtime API: `stats socket`, `stats timeout`, `stats maxconn`
// (configuration.txt 3.1, with the bind options of 5.1 that apply to stats sockets).
import { registerGlobal, bindKeywords, type ParseCtx } from '../registry/registry.js';
import type { BindConfig } from '../config/model.js';
import { parseAddress } from '../net/address.js';
import { parseTime, suggest } from '../util/units.js';
import { KNOWN_BIND_KEYWORDS } from '../config/known-keywords.js';
import { isCliLevel } from './cli-parse.js';
import type { CliSocketConfig, SeverityOutput } from './cli-state.js';

/** Bind options handled by the bind-line parsers whose result a stats socket uses. */
const SHARED_BIND_OPTIONS = new Set(['name', 'id', 'maxconn', 'backlog', 'v4v6', 'v6only', 'mode', 'uid', 'gid', 'user', 'group']);
/** Bind options of features not built yet, missing from the shared list. */
const OTHER_KNOWN_BIND_OPTIONS = ['ssl', 'quic-cc-algo', 'quic-force-retry', 'quic-socket', 'ktls', 'ocsp-update', 'no-ca-names'];
/** Options only stats sockets have. */
const CLI_OPTIONS = ['level', 'expose-fd', 'severity-output'];

function parseStatsSocket(args: string[], sockets: CliSocketConfig[], ctx: ParseCtx): void {
  const kw = "'stats socket'";
  const addrText = args[2];
  if (addrText === undefined || addrText === '') {
    ctx.alert(`${kw} in global section expects an address or a path to a UNIX socket.`);
    return;
  }
  const address = parseAddress(addrText, { bind: true });
  if (typeof address === 'string') { ctx.alert(`${kw} : ${address}.`); return; }
  if (address.port !== address.portEnd) { ctx.alert(`${kw} : port ranges are not supported on stats sockets by haproxy-ts ('${addrText}').`); return; }
  if (address.isHostname) { ctx.alert(`${kw} : '${addrText}' is not an IP address or a path.`); return; }
  const sc: CliSocketConfig = {
    where: ctx.where,
    address,
    addressText: addrText,
    level: 'operator',
    exposeFdListeners: false,
  };
  // scratch bind line for the options shared with `bind`
  const bind: BindConfig = {
    where: ctx.where, addressText: addrText, address, maxconn: 0, backlog: 0,
    v4v6: false, v6only: false, acceptProxy: false, deferAccept: false, tfo: false,
  };
  let failed = false;
  const bctx: ParseCtx = {
    get where() { return ctx.where; },
    alert: (m) => { failed = true; ctx.alert(`${kw} : ${m}`); },
    warn: (m) => ctx.warn(`${kw} : ${m}`),
  };
  let i = 3;
  while (i < args.length) {
    const opt = args[i]!;
    const val = args[i + 1];
    if (opt === 'level') {
      if (val === undefined) { ctx.alert(`${kw} : 'level' : missing level.`); return; }
      if (!isCliLevel(val)) { ctx.alert(`${kw} : 'level' only supports 'user', 'operator', and 'admin' (got '${val}').`); return; }
      sc.level = val;
      i += 2;
      continue;
    }
    if (opt === 'expose-fd') {
      if (val === undefined) { ctx.alert(`${kw} : 'expose-fd' : missing fd type.`); return; }
      if (val !== 'listeners') { ctx.alert(`${kw} : 'expose-fd' only supports 'listeners' (got '${val}').`); return; }
      ctx.alert(`${kw} : 'expose-fd listeners' is not supported yet by haproxy-ts (handing listening sockets over a UNIX socket with SCM_RIGHTS is not available to it); use 'haproxy-ts -sf' reloads instead.`);
      return;
    }
    if (opt === 'severity-output') {
      if (val === undefined) { ctx.alert(`${kw} : 'severity-output' : missing severity format.`); return; }
      if (val !== 'none' && val !== 'number' && val !== 'string') { ctx.alert(`${kw} : 'severity-output' only supports 'none', 'number', and 'string' (got '${val}').`); return; }
      sc.severityOutput = val as SeverityOutput;
      i += 2;
      continue;
    }
    const bk = bindKeywords.get(opt);
    if (bk && SHARED_BIND_OPTIONS.has(opt)) {
      const kargs = args.slice(i, i + 1 + bk.args);
      if (kargs.length < 1 + bk.args) { ctx.alert(`${kw} : '${opt}' expects an argument.`); return; }
      bk.parse(kargs, bind, bctx);
      if (failed) return;
      i += 1 + bk.args;
      continue;
    }
    if (bk || KNOWN_BIND_KEYWORDS.includes(opt) || OTHER_KNOWN_BIND_OPTIONS.includes(opt)) {
      ctx.alert(`${kw} : '${opt}' option is not supported yet on stats sockets by haproxy-ts.`);
      return;
    }
    const cand = suggest(opt, [...CLI_OPTIONS, ...SHARED_BIND_OPTIONS, ...KNOWN_BIND_KEYWORDS]);
    ctx.alert(`${kw} : unknown keyword '${opt}'.${cand ? ` Did you mean '${cand}' maybe ?` : ''}`);
    return;
  }
  if (bind.name !== undefined) sc.name = bind.name;
  if (bind.maxconn) sc.maxconn = bind.maxconn;
  if (bind.backlog) sc.backlog = bind.backlog;
  if (bind.v4v6) sc.v4v6 = true;
  if (bind.v6only) sc.v6only = true;
  if (bind.mode !== undefined) sc.mode = bind.mode;
  if (bind.uid !== undefined) sc.uid = bind.uid;
  if (bind.gid !== undefined) sc.gid = bind.gid;
  if (bind.user !== undefined) sc.user = bind.user;
  if (bind.group !== undefined) sc.group = bind.group;
  sockets.push(sc);
}

registerGlobal(
  {
    name: 'stats socket',
    parse(args, g, ctx) { parseStatsSocket(args, g.statsSockets as CliSocketConfig[], ctx); },
  },
  {
    name: 'stats timeout',
    parse(args, g, ctx) {
      const v = args[2];
      if (v === undefined || v === '') { ctx.alert(`'stats timeout' expects a time value as argument.`); return; }
      if (args.length > 3) { ctx.alert(`'stats timeout' : too many arguments (expects 1).`); return; }
      const t = parseTime(v);
      if (typeof t === 'string') { ctx.alert(`'stats timeout' : ${t}.`); return; }
      if (t <= 0) { ctx.alert(`'stats timeout' expects a positive value.`); return; }
      g.statsTimeout = t;
    },
  },
  {
    name: 'stats maxconn',
    parse(args, g, ctx) {
      const v = args[2];
      if (args.length > 3) { ctx.alert(`'stats maxconn' : too many arguments (expects 1).`); return; }
      const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n <= 0) { ctx.alert(`'stats maxconn' expects a positive value${v === undefined ? '' : ` (got '${v}')`}.`); return; }
      g.statsMaxconn = n;
    },
  },
);
