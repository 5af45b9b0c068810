// The HTTP statistics page (configuration.txt 4.2 `stats ...`, management.txt 9.1): the HTML
// report laid out as HAProxy's (same tables, columns, row classes and colours), the `;csv`,
// `;json` and `;json-schema` exports, the `;up`, `;no-maint`, `;norefresh` and `?scope=` URL
// options, access control (`stats auth`, `stats http-request`), and the admin POST form.
// Values come from the statistics field table (stats-fields.ts), the same as `show stat`.
//
// The HTTP stream calls matchStatsRequest() for the proxy handling the request and, when it
// matches, handleStatsRequest() with the request's body; conditions (`stats admin`,
// `stats http-request`) are evaluated through the stream's callback.
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';
import type { Cond } from '../acl/acl.js';
import { STAT_FIELDS, statValues, serverStatus, trackRef, type StatEnv, type StatObject, type StatValue } from './stats-fields.js';
import { statObjects, csvHeader, csvRow, jsonItems, STATS_JSON_SCHEMA } from './stats-cli.js';
import { collectInfo, processVersion } from './cli-format.js';
import { defaultErrorMessage } from '../http/errors.js';
import { STATUS_TEXT } from '../checks/engine.js';
import { statsConfigOf, DEFAULT_STATS_REALM, type StatsConfig } from './stats-config.js';
import { processAdminPost, type AdminStatus } from './stats-admin.js';

export interface StatsHttpRequest { method: string; uri: string; headers: [string, string][]; body: Buffer; srcAddr: string }
export interface StatsHttpReply { status: number; headers: [string, string][]; body: Buffer }
export interface StatsOpts {
  /** forces the admin level (otherwise the `stats admin` conditions decide through evalCond) */
  adminAllowed?: boolean;
  /** evaluates an ACL condition (`if`/`unless` included) with the request's sample context */
  evalCond?: (cond: Cond) => boolean;
}

/** The request's path and query (an absolute URI loses its scheme and authority). */
function pathOf(uri: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
  if (!m) return uri;
  const rest = uri.slice(m[0].length);
  return rest === '' ? '/' : rest;
}

/** Whether the request is for the stats page of this proxy (URI prefix, GET/HEAD/POST). */
export function matchStatsRequest(px: Proxy, req: { method: string; uri: string }): boolean {
  const st = statsConfigOf(px.cfg);
  if (!st) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return false;
  return pathOf(req.uri).startsWith(st.uri);
}

// ---- URL options ------------------------------------------------------------------------------

export interface StatsUriOpts {
  csv: boolean; json: boolean; jsonSchema: boolean; up: boolean; noMaint: boolean; norefresh: boolean;
  st?: string;
  /** `scope=` from the query string ('' when none) */
  scope: string;
}

/** The options following the stats URI prefix. */
export function parseStatsUri(st: StatsConfig, uri: string): StatsUriOpts {
  const rest = pathOf(uri).slice(st.uri.length);
  const has = (w: string): boolean => rest.includes(w);
  const o: StatsUriOpts = {
    csv: has(';csv'), json: has(';json') && !has(';json-schema'), jsonSchema: has(';json-schema'),
    up: has(';up'), noMaint: has(';no-maint'), norefresh: has(';norefresh'), scope: '',
  };
  const m = /;st=([A-Z]+)/.exec(rest);
  if (m) o.st = m[1];
  const sm = /scope=([^&;#]*)/.exec(rest);
  if (sm) o.scope = decodeForm(sm[1]!).slice(0, 20);
  return o;
}

export function decodeForm(s: string): string {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
}

// ---- access control ---------------------------------------------------------------------------

export type StatsAuthResult = { action: 'allow' } | { action: 'deny' } | { action: 'auth'; realm: string };

function basicCredentials(headers: [string, string][]): { user: string; pass: string } | undefined {
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'authorization') continue;
    const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(v);
    if (!m) return undefined;
    const dec = Buffer.from(m[1]!, 'base64').toString('latin1');
    const i = dec.indexOf(':');
    if (i < 0) return undefined;
    return { user: dec.slice(0, i), pass: dec.slice(i + 1) };
  }
  return undefined;
}

/**
 * `stats http-request` rules (first match wins, no match allows), or the `stats auth` accounts:
 * missing or wrong credentials ask for authentication in the configured realm.
 */
export function statsAuthorize(px: Proxy, req: Pick<StatsHttpRequest, 'headers'>, evalCond: (c: Cond) => boolean = () => true): StatsAuthResult {
  const st = statsConfigOf(px.cfg);
  if (!st) return { action: 'deny' };
  const realm = st.realm ?? DEFAULT_STATS_REALM;
  for (const r of st.rules) {
    if (r.cond && !evalCond(r.cond)) continue;
    if (r.action === 'auth') return { action: 'auth', realm: r.realm ?? realm };
    return { action: r.action };
  }
  if (st.users.length) {
    const c = basicCredentials(req.headers);
    if (!c || !st.users.some((u) => u.user === c.user && u.pass === c.pass)) return { action: 'auth', realm };
  }
  return { action: 'allow' };
}

/** Whether a `stats admin` condition grants the admin level. */
export function statsAdminAllowed(px: Proxy, evalCond: (c: Cond) => boolean = () => false): boolean {
  const st = statsConfigOf(px.cfg);
  return !!st && st.admin.some((c) => evalCond(c));
}

// ---- entry point ------------------------------------------------------------------------------

function errorReply(status: number, extra: [string, string][] = []): StatsHttpReply {
  const e = defaultErrorMessage(status);
  const headers: [string, string][] = [];
  for (const h of e.headers.list) headers.push([h.lname, h.value]);
  return { status, headers: [...headers, ...extra], body: e.body };
}

export function handleStatsRequest(rt: Runtime, px: Proxy, req: StatsHttpRequest, opts: StatsOpts = {}): StatsHttpReply {
  const st = statsConfigOf(px.cfg);
  if (!st) return errorReply(503);
  const evalCond = opts.evalCond ?? (() => true);
  const auth = statsAuthorize(px, req, evalCond);
  if (auth.action === 'deny') return errorReply(403);
  if (auth.action === 'auth') return errorReply(401, [['www-authenticate', `Basic realm="${auth.realm}"`]]);
  const admin = opts.adminAllowed ?? statsAdminAllowed(px, opts.evalCond);
  const o = parseStatsUri(st, req.uri);
  const suffix = `${o.up ? ';up' : ''}${o.norefresh ? ';norefresh' : ''}${o.scope ? `?scope=${o.scope}` : ''}`;
  if (req.method === 'POST') {
    let code: AdminStatus;
    if (!admin) code = 'DENY';
    else code = processAdminPost(rt, req.body);
    return {
      status: 303,
      headers: [['cache-control', 'no-cache'], ['content-type', 'text/plain'], ['content-length', '0'], ['location', `${st.uri};st=${code}${suffix}`]],
      body: Buffer.alloc(0),
    };
  }
  const headers: [string, string][] = [['cache-control', 'no-cache']];
  let body: string;
  const env: StatEnv = { rt, now: Date.now(), legends: st.showLegends };
  if (o.jsonSchema) {
    headers.push(['content-type', 'application/json']);
    body = `${STATS_JSON_SCHEMA}\n`;
  } else if (o.csv || o.json) {
    const objs = pageObjects(rt, px, st, o);
    if (o.json) {
      headers.push(['content-type', 'application/json']);
      body = `${JSON.stringify(objs.map((x) => jsonItems(x, statValues(x, env))))}\n`;
    } else {
      headers.push(['content-type', 'text/plain']);
      body = csvHeader();
      for (const x of objs) body += csvRow(statValues(x, env));
    }
  } else {
    headers.push(['content-type', 'text/html']);
    body = renderStatsHtml(rt, px, st, o, admin);
  }
  if (st.refresh > 0 && !o.norefresh) headers.push(['refresh', String(st.refresh)]);
  const buf = Buffer.from(body, 'latin1');
  headers.push(['content-length', String(buf.length)]);
  return { status: 200, headers, body: req.method === 'HEAD' ? Buffer.alloc(0) : buf };
}

// ---- object selection -------------------------------------------------------------------------

/** Whether a proxy is shown: `stats scope` list ('.' = the stats proxy) and the `scope=` text. */
function inScope(p: Proxy, statsPx: Proxy, st: StatsConfig, scope: string): boolean {
  if (st.scope.length && !st.scope.some((n) => (n === '.' ? p === statsPx : n === p.name))) return false;
  if (scope && !p.name.toLowerCase().includes(scope.toLowerCase())) return false;
  return true;
}

function pageObjects(rt: Runtime, statsPx: Proxy, st: StatsConfig, o: StatsUriOpts): StatObject[] {
  return statObjects(rt, { iid: -1, type: -1, sid: -1, up: o.up, noMaint: o.noMaint }).filter((x) => {
    const p = x.kind === 'S' ? x.server.backend : x.kind === 'L' ? x.listener.proxy : x.proxy;
    return inScope(p, statsPx, st, o.scope);
  });
}

// ---- HTML -------------------------------------------------------------------------------------

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** A number with its thousands set apart as HAProxy's page does (spans with letter spacing). */
export function groupNum(v: StatValue): string {
  if (v === undefined) return '';
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1000) return esc(String(v));
  const s = String(v);
  const head = s.length % 3 || 3;
  let out = `<span class="rls">${s.slice(0, head)}</span>`;
  for (let i = head; i < s.length - 3; i += 3) out += `<span class="rls">${s.slice(i, i + 3)}</span>`;
  return out + s.slice(-3);
}

/** Seconds as a short human duration: 5s, 3m20s, 2h05m, 4d3h. */
export function humanTime(sec: number): string {
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${sec % 60}s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(sec / 86400)}d${Math.floor((sec % 86400) / 3600)}h`;
}

const STYLE_COLOURS: [string, string, string][] = [
  // class, light background, dark background
  ['active_down', '#ff9090', '#760000'], ['active_going_up', '#ffd020', '#b99200'], ['active_going_down', '#ffffa0', '#6c6c00'],
  ['active_up', '#c0ffc0', '#165900'], ['active_nolb', '#20a0ff', '#006ab9'], ['active_draining', '#20a0FF', '#006ab9'],
  ['active_no_check', '#e0e0e0', '#2a2d2f'], ['backup_down', '#ff9090', '#760000'], ['backup_going_up', '#ff80ff', '#7f007f'],
  ['backup_going_down', '#c060ff', '#580092'], ['backup_up', '#b0d0ff', '#2e3234'], ['backup_nolb', '#90b0e0', '#1e3c6a'],
  ['backup_draining', '#cc9900', '#a37a00'], ['backup_no_check', '#e0e0e0', '#2a2d2f'], ['maintain', '#c07820', '#9a601a'],
];

function styleSheet(): string {
  const light = STYLE_COLOURS.map(([c, l]) => `.${c} {background: ${l};}`).join('\n');
  const dark = STYLE_COLOURS.map(([c, , d]) => ` .${c} {background: ${d};}`).join('\n');
  return `<style type="text/css"><!--
body { font-family: arial, helvetica, sans-serif; font-size: 12px; font-weight: normal; color: black; background: white;}
th,td { font-size: 10px;}
h1 { font-size: x-large; margin-bottom: 0.5em;}
h2 { font-family: helvetica, arial; font-size: x-large; font-weight: bold; font-style: italic; color: #6020a0; margin-top: 0em; margin-bottom: 0em;}
h3 { font-family: helvetica, arial; font-size: 16px; font-weight: bold; color: #b00040; background: #e8e8d0; margin-top: 0em; margin-bottom: 0em;}
li { margin-top: 0.25em; margin-right: 2em;}
.hr {margin-top: 0.25em; border-color: black; border-bottom-style: solid;}
.titre {background: #20D0D0; color: #000000; font-weight: bold; text-align: center;}
.total {background: #20D0D0; color: #ffff80;}
.frontend {background: #e8e8d0;}
.socket {background: #d0d0d0;}
.backend {background: #e8e8d0;}
${light}
.rls {letter-spacing: 0.2em; margin-right: 1px;}
a.px:link, a.px:visited {color: #ffff40; text-decoration: none;}
a.px:hover {color: #ffffff; text-decoration: none;}
a.lfsb:link, a.lfsb:visited {color: #000000; text-decoration: none;}
a.lfsb:hover {color: #505050; text-decoration: none;}
table.tbl { border-collapse: collapse; border-style: none;}
table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px; white-space: nowrap;}
table.tbl td.ac { text-align: center;}
table.tbl th { border: 1px solid gray;}
table.tbl th.pxname { background: #b00040; color: #ffff40; font-weight: bold; border-style: solid solid none solid; padding: 2px 3px; white-space: nowrap;}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white;}
table.tbl th.desc { background: white; border-style: solid solid none solid; text-align: left; padding: 2px 3px;}
table.lgd { border-collapse: collapse; border-width: 1px; border-style: none none none solid; border-color: black;}
table.lgd td { border: 1px solid gray; padding: 2px;}
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap;}
table.det { border-collapse: collapse; border-style: none;}
table.det th { text-align: left; border-width: 0px; padding: 0px 1px 0px 0px; font-style: normal; font-size: 11px; font-weight: bold; font-family: sans-serif;}
table.det td { text-align: right; border-width: 0px; padding: 0px 0px 0px 4px; white-space: nowrap; font-style: normal; font-size: 11px; font-weight: normal;}
u {text-decoration: none; border-bottom: 1px dotted black;}
div.tips { display: block; visibility: hidden; z-index: 2147483647; position: absolute; padding: 2px 4px 3px; background: #f0f060; color: #000000;
 border: 1px solid #7040c0; white-space: nowrap; font-style: normal; font-size: 11px; font-weight: normal; border-radius: 3px; box-shadow: gray 2px 2px 3px;}
u:hover div.tips {visibility: visible;}
@media (prefers-color-scheme: dark) {
 body { color: #e8e6e3; background: #131516;}
 h1 { color: #a265e0!important; }
 h2 { color: #a265e0; }
 h3 { color: #ff5190; background-color: #3e3e1f; }
 a { color: #3391ff; }
 input { background-color: #2f3437; }
 .hr { border-color: #8c8273; }
 .titre { background-color: #1aa6a6; color: #e8e6e3; }
 .frontend {background: #2f3437;}
 .socket {background: #2a2d2f;}
 .backend {background: #2f3437;}
${dark}
 a.px:link, a.px:visited {color: #d8d83b; text-decoration: none;}
 a.px:hover {color: #ffffff; text-decoration: none;}
 a.lfsb:link, a.lfsb:visited {color: #e8e6e3; text-decoration: none;}
 a.lfsb:hover {color: #b5afa6; text-decoration: none;}
 table.tbl th.empty { background-color: #181a1b; }
 table.tbl th.desc { background: #181a1b; }
 table.tbl th.pxname { background-color: #8d0033; color: #ffff46; }
 table.tbl th, table.tbl td { border-color: #808080; }
 u {text-decoration: none; border-bottom: 1px dotted #e8e6e3;}
 div.tips { background: #8e8e0d; color: #e8e6e3; border-color: #4e2c86; box-shadow: #60686c 2px 2px 3px; }
}
-->
</style>`;
}

/** The row class of a server: its state and whether it is a backup. */
export function serverRowClass(s: Server): string {
  if (s.admin === 'maint' || serverStatus(s).startsWith('MAINT')) return 'maintain';
  const pre = s.backup ? 'backup' : 'active';
  const ref = trackRef(s);
  const hc = ref.healthCheck?.enabled ? ref.healthCheck : undefined;
  const checked = !!hc || !!(ref.agentCheck && ref.agentCheck.enabled);
  if (s.up) {
    if (s.admin === 'drain') return `${pre}_draining`;
    if (s.stopping || s.checkNolb || (s.eweight === 0 && s.uweight === 0)) return `${pre}_nolb`;
    if (!checked) return `${pre}_no_check`;
    if (hc && hc.health < hc.opts.rise + hc.opts.fall - 1) return `${pre}_going_down`;
    return `${pre}_up`;
  }
  if (hc && hc.health > 0) return `${pre}_going_up`;
  return `${pre}_down`;
}

const ADMIN_ACTIONS: [string, string][] = [
  ['', ''], ['ready', 'Set state to READY'], ['drain', 'Set state to DRAIN'], ['maint', 'Set state to MAINT'],
  ['dhlth', 'Health: disable checks'], ['ehlth', 'Health: enable checks'], ['hrunn', 'Health: force UP'],
  ['hnolb', 'Health: force NOLB'], ['hdown', 'Health: force DOWN'], ['dagent', 'Agent: disable checks'],
  ['eagent', 'Agent: enable checks'], ['arunn', 'Agent: force UP'], ['adown', 'Agent: force DOWN'], ['shutdown', 'Kill Sessions'],
];

const STATUS_MESSAGES: Record<string, [string, string]> = {
  DONE: ['active_up', 'Action processed successfully.'],
  PART: ['active_going_down', 'Action partially processed.<br>Some server names are probably unknown or ambiguous (duplicated names in the backend).'],
  NONE: ['active_going_down', 'Nothing has changed.'],
  ERRP: ['active_down', 'Action not processed because of invalid parameters.<ul><li>The action is maybe unknown.</li><li>Invalid key parameter (empty or too long).</li><li>The backend name is probably unknown or ambiguous (duplicated names).</li><li>Some server names are probably unknown or ambiguous (duplicated names in the backend).</li></ul>'],
  DENY: ['active_down', '<b>Action denied.</b>'],
  EXCD: ['active_down', "<b>Action not processed : the buffer couldn't store all the data.<br>You should retry with less servers at a time.</b>"],
};

const F = Object.fromEntries(STAT_FIELDS.map((f, i) => [f.name, i])) as Record<string, number>;

interface RowCtx { admin: boolean; legends: boolean; now: number; env: StatEnv }

function td(v: StatValue, dash = false): string {
  return `<td>${v === undefined || v === '' ? (dash ? '-' : '') : groupNum(v)}</td>`;
}

/* ---- the detail tooltips of the rate, session and error cells (the page's <u> hover boxes) ---- */

const num = (x: StatValue): string => (x === undefined || x === '' ? '0' : groupNum(x));
const pct = (part: StatValue, whole: StatValue): string => {
  const w = Number(whole ?? 0);
  return `(${w > 0 ? Math.floor((Number(part ?? 0) * 100) / w) : 0}%)`;
};
/** one line of a tooltip table: a label, a value, and an optional third column */
function tipRow(label: string, value: string, extra?: string): string {
  return `<tr><th>${label}:</th><td>${value}</td>${extra !== undefined ? `<td>${extra}</td>` : ''}</tr>`;
}
/** a cell showing `value`, with a table of details on hover */
function tipCell(value: StatValue, rows: string): string {
  return `<td><u>${num(value)}<div class=tips><table class=det>${rows}</table></div></u></td>`;
}
/** HTTP responses by class; with `ofReq`, each as a share of the requests */
function httpRows(v: StatValue[], ofReq: boolean, compressed: boolean): string {
  const tot = v[F.req_tot!];
  let r = '';
  for (const [k, label] of [['hrsp_1xx', '1xx'], ['hrsp_2xx', '2xx'], ['hrsp_3xx', '3xx'], ['hrsp_4xx', '4xx'], ['hrsp_5xx', '5xx']] as const) {
    r += tipRow(`- HTTP ${label} responses`, num(v[F[k]!]), ofReq ? pct(v[F[k]!], tot) : undefined);
    if (label === '2xx' && compressed) r += tipRow('&nbsp;&nbsp;Compressed 2xx', num(v[F.comp_rsp!]), pct(v[F.comp_rsp!], v[F.hrsp_2xx!]));
  }
  return r + tipRow('- other responses', num(v[F.hrsp_other!]), ofReq ? pct(v[F.hrsp_other!], tot) : undefined);
}
/** max / average of the last 1024 connections: queue, connect, response and total times */
function timeRows(v: StatValue[]): string {
  return '<tr><th colspan=3>Max / Avg over last 1024 success. conn.</th></tr>'
    + tipRow('- Queue time', `${num(v[F.qtime_max!])} / ${num(v[F.qtime!])}`, 'ms')
    + tipRow('- Connect time', `${num(v[F.ctime_max!])} / ${num(v[F.ctime!])}`, 'ms')
    + tipRow('- Responses time', `${num(v[F.rtime_max!])} / ${num(v[F.rtime!])}`, 'ms')
    + tipRow('- Total time', `${num(v[F.ttime_max!])} / ${num(v[F.ttime!])}`, 'ms');
}
/** the cumulated sessions of a backend or server, with its connections and responses */
function beTotalCell(v: StatValue[], http: boolean, server: boolean): string {
  let r = tipRow('Cum. sessions', num(v[F.stot!]))
    + tipRow('New connections', num(v[F.connect!]))
    + tipRow('Reused connections', num(v[F.reuse!]), pct(v[F.reuse!], Number(v[F.connect!] ?? 0) + Number(v[F.reuse!] ?? 0)));
  if (http) {
    r += tipRow('Cum. HTTP requests', num(v[F.req_tot!])) + httpRows(v, server, !server);
    if (!server) r += tipRow('Cache lookups', num(v[F.cache_lookups!])) + tipRow('Cache hits', num(v[F.cache_hits!]), pct(v[F.cache_hits!], v[F.cache_lookups!]));
    r += tipRow('Failed hdr rewrites', num(v[F.wrew!])) + tipRow(server ? 'Internal error' : 'Internal errors', num(v[F.eint!]));
  }
  return tipCell(v[F.stot!], r + timeRows(v));
}
/** a response error cell: the resets seen while data was transferred */
function resetsCell(v: StatValue[]): string {
  return `<td><u>${num(v[F.eresp!])}<div class=tips>Connection resets during transfers: ${num(v[F.cli_abrt!])} client, ${num(v[F.srv_abrt!])} server</div></u></td>`;
}

function frontendRow(p: Proxy, v: StatValue[], c: RowCtx): string {
  const n = esc(p.name);
  const http = p.mode === 'http';
  const rateCell = tipCell(v[F.rate!], tipRow('Current connection rate', `${num(v[F.conn_rate!])}/s`)
    + tipRow('Current session rate', `${num(v[F.rate!])}/s`)
    + (http ? tipRow('Current request rate', `${num(v[F.req_rate!])}/s`) : ''));
  const maxCell = tipCell(v[F.rate_max!], tipRow('Max connection rate', `${num(v[F.conn_rate_max!])}/s`)
    + tipRow('Max session rate', `${num(v[F.rate_max!])}/s`)
    + (http ? tipRow('Max request rate', `${num(v[F.req_rate_max!])}/s`) : ''));
  const totCell = tipCell(v[F.stot!], tipRow('Cum. connections', num(v[F.conn_tot!]))
    + tipRow('Cum. sessions', num(v[F.stot!]))
    + (http ? tipRow('Cum. HTTP requests', num(v[F.req_tot!])) + httpRows(v, false, true)
      + tipRow('Intercepted requests', num(v[F.intercepted!]))
      + tipRow('Cache lookups', num(v[F.cache_lookups!])) + tipRow('Cache hits', num(v[F.cache_hits!]), pct(v[F.cache_hits!], v[F.cache_lookups!]))
      + tipRow('Failed hdr rewrites', num(v[F.wrew!])) + tipRow('Internal errors', num(v[F.eint!])) : ''));
  return `<tr class="frontend">${c.admin ? '<td></td>' : ''}<td class=ac><a name="${n}/Frontend"></a><a class=lfsb href="#${n}/Frontend">Frontend</a></td>`
    + '<td colspan=3></td>'
    + rateCell + maxCell + td(v[F.rate_lim!] || undefined, true)
    + td(v[F.scur!]) + td(v[F.smax!]) + td(v[F.slim!]) + totCell + '<td></td><td></td>'
    + td(v[F.bin!]) + td(v[F.bout!]) + td(v[F.dreq!]) + td(v[F.dresp!]) + td(v[F.ereq!]) + '<td></td><td></td><td></td><td></td>'
    + `<td class=ac>${esc(String(v[F.status!] ?? ''))}</td><td class=ac colspan=8></td></tr>\n`;
}

function listenerRow(l: { name: string; proxy: Proxy }, v: StatValue[], c: RowCtx): string {
  const n = `${esc(l.proxy.name)}/+${esc(l.name)}`;
  return `<tr class=socket>${c.admin ? '<td></td>' : ''}<td class=ac><a name="${n}"></a><a class=lfsb href="#${n}">${esc(l.name)}</a></td>`
    + '<td colspan=3></td><td colspan=3></td>'
    + td(v[F.scur!]) + td(v[F.smax!]) + td(v[F.slim!]) + td(v[F.stot!]) + '<td></td><td></td>'
    + td(v[F.bin!]) + td(v[F.bout!]) + td(v[F.dreq!]) + td(v[F.dresp!]) + td(v[F.ereq!]) + '<td></td><td></td><td></td><td></td>'
    + `<td class=ac>${esc(String(v[F.status!] ?? ''))}</td><td class=ac colspan=8></td></tr>\n`;
}

function lastSessCell(v: StatValue): string {
  return `<td>${typeof v === 'number' && v >= 0 ? humanTime(v) : '?'}</td>`;
}

function serverRow(s: Server, v: StatValue[], c: RowCtx): string {
  const p = esc(s.backend.name);
  const n = esc(s.name);
  const tips = c.legends
    ? `<div class=tips>${s.isUnix ? 'unix' : s.host.includes(':') ? 'IPv6' : 'IPv4'}: ${esc(String(v[F.addr!] ?? ''))}, id: ${s.puid}${s.tracked ? `, tracking ${esc(s.tracked.backend.name)}/${esc(s.tracked.name)}` : ''}</div>`
    : '';
  const ref = trackRef(s);
  const hc = ref.healthCheck?.enabled && s.admin !== 'maint' ? ref.healthCheck : undefined;
  const status = serverStatus(s);
  const checked = !!ref.healthCheck || !!ref.agentCheck || s.tracked || s.admin !== 'ready';
  const statusCell = checked || status !== 'no check'
    ? (status === 'no check' ? '<td class=ac><i>no check</i></td>' : `<td class=ac>${humanTime(Number(v[F.lastchg!] ?? 0))} ${esc(status)}</td>`)
    : '<td class=ac><i>no check</i></td>';
  let lastChk = '<td></td>';
  if (s.tracked) lastChk = `<td class=ac>via ${esc(s.tracked.backend.name)}/${esc(s.tracked.name)}</td>`;
  else if (hc) {
    const r = hc.last;
    if (r) {
      const desc = STATUS_TEXT[r.status] + (r.info ? `: ${r.info}` : '');
      lastChk = `<td class=ac><u> ${hc.running ? '* ' : ''}${r.status}${r.code !== undefined ? `/${r.code}` : ''} in ${r.duration}ms<div class=tips>${esc(desc)}</div></u></td>`;
    } else {
      lastChk = `<td class=ac><u> ${hc.running ? '* ' : ''}INI<div class=tips>Initializing</div></u></td>`;
    }
  }
  const own = !!s.healthCheck && !s.tracked;
  const chk = own
    ? `<td><u>${groupNum(v[F.chkfail!])}<div class=tips>Failed Health Checks</div></u></td>${td(v[F.chkdown!])}<td>${humanTime(Number(v[F.downtime!] ?? 0))}</td>`
    : '<td colspan=3></td>';
  const thr = v[F.throttle!];
  return `<tr class="${serverRowClass(s)}">`
    + (c.admin ? `<td><input class='${p}-checkbox' type="checkbox" name="s" value="${n}"></td>` : '')
    + `<td class=ac><a name="${p}/${n}"></a><u><a class=lfsb href="#${p}/${n}">${n}</a>${tips}</u></td>`
    + td(v[F.qcur!]) + td(v[F.qmax!]) + td(v[F.qlimit!], true)
    + td(v[F.rate!]) + td(v[F.rate_max!]) + '<td></td>'
    + tipCell(v[F.scur!], tipRow('Current active connections', num(v[F.scur!]))
      + tipRow('Current used connections', num(v[F.used_conn_cur!]))
      + tipRow('Current idle connections', num(v[F.srv_icur!]))
      + tipRow('- unsafe', num(v[F.idle_conn_cur!])) + tipRow('- safe', num(v[F.safe_conn_cur!]))
      + tipRow('Estimated need of connections', num(v[F.need_conn_est!]))
      + tipRow('Active connections limit', v[F.slim!] ? num(v[F.slim!]) : '-')
      + tipRow('Idle connections limit', v[F.src_ilim!] ? num(v[F.src_ilim!]) : '-'))
    + td(v[F.smax!]) + td(v[F.slim!], true) + beTotalCell(v, s.backend.mode === 'http', true) + td(v[F.lbtot!]) + lastSessCell(v[F.lastsess!])
    + td(v[F.bin!]) + td(v[F.bout!]) + '<td></td>' + td(v[F.dresp!])
    + '<td></td>' + td(v[F.econ!]) + resetsCell(v) + td(v[F.wretr!]) + td(v[F.wredis!])
    + statusCell + lastChk
    + `<td class=ac>${s.eweight}/${s.uweight}</td><td class=ac>${s.backup ? '-' : 'Y'}</td><td class=ac>${s.backup ? 'Y' : '-'}</td>`
    + chk + `<td class=ac>${thr === undefined ? '-' : `${thr} %`}</td></tr>\n`;
}

function backendRow(p: Proxy, v: StatValue[], c: RowCtx): string {
  const n = esc(p.name);
  const algo = v[F.algo!];
  return `<tr class="backend">${c.admin ? '<td></td>' : ''}<td class=ac><u><a name="${n}/Backend"></a><a class=lfsb href="#${n}/Backend">Backend</a>`
    + `${algo ? `<div class=tips>balancing: ${esc(String(algo))}</div>` : ''}</u></td>`
    + td(v[F.qcur!]) + td(v[F.qmax!]) + '<td></td>'
    + td(v[F.rate!]) + td(v[F.rate_max!]) + '<td></td>'
    + td(v[F.scur!]) + td(v[F.smax!]) + td(v[F.slim!]) + beTotalCell(v, p.mode === 'http', false) + td(v[F.lbtot!]) + lastSessCell(v[F.lastsess!])
    + td(v[F.bin!]) + td(v[F.bout!]) + td(v[F.dreq!]) + td(v[F.dresp!])
    + '<td></td>' + td(v[F.econ!]) + resetsCell(v) + td(v[F.wretr!]) + td(v[F.wredis!])
    + `<td class=ac>${humanTime(Number(v[F.lastchg!] ?? 0))} ${esc(String(v[F.status!] ?? ''))}</td><td class=ac>&nbsp;</td>`
    + `<td class=ac>${v[F.weight!] ?? 0}/${v[F.uweight!] ?? 0}</td><td class=ac>${v[F.act!] ?? 0}</td><td class=ac>${v[F.bck!] ?? 0}</td>`
    + `<td class=ac>&nbsp;</td>${td(v[F.chkdown!])}<td>${v[F.downtime!] === undefined ? '' : humanTime(Number(v[F.downtime!]))}</td><td></td></tr>`;
}

const HEAD_ROWS = '<th colspan=3>Queue</th><th colspan=3>Session rate</th><th colspan=6>Sessions</th><th colspan=2>Bytes</th>'
  + '<th colspan=2>Denied</th><th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n'
  + '<tr class="titre">' + ['Cur', 'Max', 'Limit', 'Cur', 'Max', 'Limit', 'Cur', 'Max', 'Limit', 'Total', 'LbTot', 'Last', 'In', 'Out',
    'Req', 'Resp', 'Req', 'Conn', 'Resp', 'Retr', 'Redis', 'Status', 'LastChk', 'Wght', 'Act', 'Bck', 'Chk', 'Dwn', 'Dwntme', 'Thrtle']
    .map((h) => `<th>${h}</th>`).join('') + '\n</tr>';

function proxyBlock(rt: Runtime, p: Proxy, objs: StatObject[], c: RowCtx): string {
  const n = esc(p.name);
  const form = c.admin && p.isBackend;
  const cap = p.isFrontend && p.isBackend ? 'proxy' : p.isFrontend ? 'FE' : 'BE';
  const title = c.legends
    ? `<u><a class=px href="#${n}">${n}</a><div class=tips>cap: ${cap}, mode: ${p.mode}, id: ${p.id}</div></u>`
    : `<a class=px href="#${n}">${n}</a>`;
  const desc = p.cfg.description;
  let out = `${form ? '<form method="post">' : ''}<table class="tbl" width="100%">\n`
    + `<tr class="titre"><th class="pxname" width="10%"><a name="${n}"></a>${title}</th>`
    + (desc ? `<th class="desc" width="90%">${esc(desc)}</th></tr>\n` : '<th class="empty" width="90%"></th></tr>\n')
    + '</table>\n<table class="tbl" width="100%">\n<tr class="titre">'
    + (form ? `<th rowspan=2 width=1><input type="checkbox" onclick="for(c in document.getElementsByClassName('${n}-checkbox')) document.getElementsByClassName('${n}-checkbox').item(c).checked = this.checked"></th>` : '')
    + '<th rowspan=2></th>' + HEAD_ROWS;
  void rt;
  const rc: RowCtx = { ...c, admin: form };
  for (const o of objs) {
    const v = statValues(o, c.env);
    if (o.kind === 'F') out += frontendRow(o.proxy, v, rc);
    else if (o.kind === 'L') out += listenerRow(o.listener, v, rc);
    else if (o.kind === 'S') out += serverRow(o.server, v, rc);
    else out += backendRow(o.proxy, v, rc);
  }
  out += '</table>';
  if (form) {
    out += 'Choose the action to perform on the checked servers : <select name=action>'
      + ADMIN_ACTIONS.map(([k, t]) => `<option value="${k}">${t}</option>`).join('')
      + `</select><input type="hidden" name="b" value="#${p.id}">&nbsp;<input type="submit" value="Apply"></form>`;
  }
  return `${out}<p>\n`;
}

function legendBlock(): string {
  const cell = (cls: string, text: string, fill = false, span = false): string =>
    `<td class="${cls}">${fill ? '&nbsp;' : ''}</td><td class="noborder"${span ? ' colspan="3"' : ''}>${text}</td>`;
  return '<table class="lgd"><tr>\n'
    + cell('active_up', 'active UP ', true) + cell('backup_up', 'backup UP ', true) + '</tr><tr>\n'
    + cell('active_going_down', 'active UP, going down ') + cell('backup_going_down', 'backup UP, going down ') + '</tr><tr>\n'
    + cell('active_going_up', 'active DOWN, going up ') + cell('backup_going_up', 'backup DOWN, going up ') + '</tr><tr>\n'
    + cell('active_down', 'active or backup DOWN &nbsp;') + cell('active_no_check', 'not checked ') + '</tr><tr>\n'
    + cell('maintain', 'active or backup DOWN for maintenance (MAINT) &nbsp;', false, true) + '</tr><tr>\n'
    + cell('active_draining', 'active or backup SOFT STOPPED for maintenance &nbsp;', false, true) + '</tr></table>\n'
    + 'Note: "NOLB"/"DRAIN" = UP with load-balancing disabled.';
}

/** The whole HTML page. */
export function renderStatsHtml(rt: Runtime, statsPx: Proxy, st: StatsConfig, o: StatsUriOpts, admin: boolean): string {
  const info = new Map(collectInfo(rt).map((x) => [x.field.name, x.value]));
  const node = st.showNode !== undefined ? (st.showNode || String(info.get('node') ?? '')) : '';
  const desc = st.showDesc !== undefined ? (st.showDesc || rt.global.description || '') : '';
  const uri = esc(st.uri);
  const scopeQ = o.scope ? `?scope=${esc(o.scope)}` : '';
  const keep = `${o.up ? ';up' : ''}${o.norefresh ? ';norefresh' : ''}${scopeQ}`;
  const version = processVersion();
  const major = /^(\d+\.\d+)/.exec(version)?.[1] ?? '';
  let out = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"\n"http://www.w3.org/TR/html4/loose.dtd">\n'
    + `<html><head><title>Statistics Report for HAProxy${node ? ` on ${esc(node)}` : ''}</title>\n`
    + '<link rel="icon" href="data:,">\n<meta http-equiv="content-type" content="text/html; charset=iso-8859-1">\n'
    + styleSheet() + '</head>\n'
    + `<body><h1><a href="http://www.haproxy.org/" style="text-decoration: none;">HAProxy${st.hideVersion ? '' : ` version ${esc(version)}`}</a></h1>\n`
    + `<h2>Statistics Report for pid ${process.pid}${node ? ` on ${esc(node)}` : ''}${desc ? `: ${esc(desc)}` : ''}</h2>\n`
    + '<hr width="100%" class="hr">\n<h3>&gt; General process information</h3>\n<table border=0><tr><td align="left" nowrap width="1%">\n'
    + `<p><b>pid = </b> ${process.pid} (process #1, nbproc = 1, nbthread = 1)<br>\n`
    + `<b>uptime = </b> ${info.get('Uptime')}<br>\n`
    + `<b>system limits:</b> memmax = unlimited; ulimit-n = ${info.get('Ulimit-n')}<br>\n`
    + `<b>maxsock = </b> ${info.get('Maxsock')}; <b>maxconn = </b> ${info.get('Maxconn')}; <b>maxpipes = </b> 0<br>\n`
    + `current conns = ${info.get('CurrConns')}; current pipes = 0/0; conn rate = ${info.get('ConnRate')}/sec; bit rate = 0.000 kbps<br>\n`
    + `Running tasks: ${info.get('Run_queue')}/${info.get('Tasks')}; idle = ${info.get('Idle_pct')} %<br>\n`
    + '</td><td align="center" nowrap>\n' + legendBlock()
    + '</td><td align="left" valign="top" nowrap width="1%"><b>Display option:</b><ul style="margin-top: 0.25em;">'
    + `<li><form method="GET">Scope : <input value="${esc(o.scope)}" name="scope" size="8" maxlength="20" tabindex="1"/></form>\n`
    + `<li><a href="${uri}${o.up ? '' : ';up'}${o.norefresh ? ';norefresh' : ''}${scopeQ}">${o.up ? 'Show all servers' : "Hide 'DOWN' servers"}</a><br>\n`;
  if (st.refresh > 0) {
    out += o.norefresh
      ? `<li><a href="${uri}${o.up ? ';up' : ''}${scopeQ}">Enable refresh</a><br>\n`
      : `<li><a href="${uri}${o.up ? ';up' : ''};norefresh${scopeQ}">Disable refresh</a><br>\n`;
  }
  const nr = st.refresh > 0 ? ';norefresh' : '';
  out += `<li><a href="${uri}${keep}">Refresh now</a><br>\n`
    + `<li><a href="${uri};csv${nr}${scopeQ}">CSV export</a><br>\n`
    + `<li><a href="${uri};json${nr}${scopeQ}">JSON export</a> (<a href="${uri};json-schema">schema</a>)<br>\n`
    + '</ul></td><td align="left" valign="top" nowrap width="1%"><b>External resources:</b><ul style="margin-top: 0.25em;">\n'
    + '<li><a href="http://www.haproxy.org/">Primary site</a><br>\n'
    + `<li><a href="http://www.haproxy.org/#down">Updates (v${major})</a><br>\n`
    + '<li><a href="http://www.haproxy.org/#docs">Online manual</a><br>\n'
    + '</ul></td></tr></table>\n';
  if (o.st) {
    const [cls, text] = STATUS_MESSAGES[o.st] ?? ['active_no_check', 'Unexpected result.'];
    out += `<p><div class=${cls}><a class=lfsb href="${uri}${keep}" title="Remove this message">[X]</a> ${text}</div>\n`;
  }
  out += '<p>\n';
  const env: StatEnv = { rt, now: Date.now(), legends: st.showLegends };
  const c: RowCtx = { admin, legends: st.showLegends, now: env.now, env };
  const objs = pageObjects(rt, statsPx, st, o);
  for (const p of rt.proxies) {
    const mine = objs.filter((x) => (x.kind === 'S' ? x.server.backend : x.kind === 'L' ? x.listener.proxy : x.proxy) === p);
    if (!mine.length) continue;
    out += proxyBlock(rt, p, mine, c);
  }
  return `${out}</body></html>\n`;
}
