// The live dashboard (haproxy-ts extension, `stats dashboard-uri <uri>`): served by the proxy
// holding the stats page settings, under the same access rules (`stats auth`/`realm`,
// `stats http-request`) and admin level (`stats admin`).
//   GET <uri>            the page: self-contained HTML, charts drawn as inline SVG by plain JS
//                        that polls <uri>/data.json every second
//   GET <uri>/data.json  the series of the sampler (dashboard-sampler.ts); `?since=<ms>` gives
//                        only the samples taken after that time
//   POST <uri>/action    b=<backend>&s=<server>&action=ready|drain|maint, admin only, with the
//                        header `x-dashboard: 1` (a cross-site form cannot send it); JSON reply
// The HTTP stream calls matchDashboardRequest() before matchStatsRequest(), then
// handleDashboardRequest() with the request's body.
import type { Runtime } from '../proxy/runtime.js';
import type { Proxy } from '../proxy/proxy.js';
import { statsConfigOf, dashboardCovers, type StatsConfig } from './stats-config.js';
import { statsAuthorize, statsAdminAllowed, type StatsHttpRequest, type StatsHttpReply, type StatsOpts } from './stats-page.js';
import { processAdminPost, parseForm, ADMIN_MAX_BODY } from './stats-admin.js';
import { startDashboardSampler, dashboardJson } from './dashboard-sampler.js';
import { defaultErrorMessage } from '../http/errors.js';

const DASH_ACTIONS = new Set(['ready', 'drain', 'maint']);

/** The request's path, without scheme/authority and query. */
function pathOf(uri: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(uri);
  const rest = m ? uri.slice(m[0].length) || '/' : uri;
  const q = rest.search(/[?#]/);
  return q < 0 ? rest : rest.slice(0, q);
}
function queryOf(uri: string): string {
  const q = uri.indexOf('?');
  if (q < 0) return '';
  const h = uri.indexOf('#', q);
  return uri.slice(q + 1, h < 0 ? undefined : h);
}

function dashConfig(px: Proxy): (StatsConfig & { dashboard: string }) | undefined {
  const st = statsConfigOf(px.cfg);
  return st && st.dashboard !== undefined ? (st as StatsConfig & { dashboard: string }) : undefined;
}

/** Whether the request is for this proxy's dashboard (GET/HEAD/POST under the dashboard path). */
export function matchDashboardRequest(px: Proxy, req: { method: string; uri: string }): boolean {
  const st = dashConfig(px);
  if (!st) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return false;
  return dashboardCovers(st.dashboard, pathOf(req.uri));
}

function errorReply(status: number, extra: [string, string][] = []): StatsHttpReply {
  const e = defaultErrorMessage(status);
  const headers: [string, string][] = [];
  for (const h of e.headers.list) headers.push([h.lname, h.value]);
  return { status, headers: [...headers, ...extra], body: e.body };
}

function reply(status: number, type: string, body: string, head: boolean, extra: [string, string][] = []): StatsHttpReply {
  const buf = Buffer.from(body, 'utf8');
  return {
    status,
    headers: [['cache-control', 'no-cache'], ['content-type', type], ['content-length', String(buf.length)], ...extra],
    body: head ? Buffer.alloc(0) : buf,
  };
}
const json = (status: number, v: unknown, head = false): StatsHttpReply => reply(status, 'application/json', `${JSON.stringify(v)}\n`, head);

export function handleDashboardRequest(rt: Runtime, px: Proxy, req: StatsHttpRequest, opts: StatsOpts = {}): StatsHttpReply {
  try {
    return dashboardReply(rt, px, req, opts);
  } catch {
    return errorReply(500);
  }
}

function dashboardReply(rt: Runtime, px: Proxy, req: StatsHttpRequest, opts: StatsOpts): StatsHttpReply {
  const st = dashConfig(px);
  if (!st) return errorReply(503);
  const evalCond = opts.evalCond ?? (() => true);
  const auth = statsAuthorize(px, req, evalCond);
  if (auth.action === 'deny') return errorReply(403);
  if (auth.action === 'auth') return errorReply(401, [['www-authenticate', `Basic realm="${auth.realm}"`]]);
  const admin = opts.adminAllowed ?? statsAdminAllowed(px, opts.evalCond);
  const base = st.dashboard === '/' ? '' : st.dashboard;
  const sub = pathOf(req.uri).slice(base.length);
  const head = req.method === 'HEAD';
  const sampler = startDashboardSampler(rt);
  const inScope = (p: Proxy): boolean => !st.scope.length || st.scope.some((n) => (n === '.' ? p === px : n === p.name));

  if (sub === '/action') {
    if (req.method !== 'POST') return { ...errorReply(405), headers: [...errorReply(405).headers, ['allow', 'POST']] };
    if (!admin) return json(403, { status: 'DENY' });
    const marker = req.headers.find(([n]) => n.toLowerCase() === 'x-dashboard');
    if (!marker || marker[1].trim() !== '1') return json(403, { status: 'DENY', reason: 'missing x-dashboard header' });
    if (req.body.length > ADMIN_MAX_BODY) return json(413, { status: 'EXCD' });
    const form = parseForm(req.body.toString('latin1'));
    const action = form.find(([k]) => k === 'action')?.[1];
    const beName = form.find(([k]) => k === 'b')?.[1];
    const be = rt.proxies.find((p) => p.isBackend && p.name === beName);
    if (!action || !DASH_ACTIONS.has(action) || !be || !inScope(be)) return json(400, { status: 'ERRP' });
    const code = processAdminPost(rt, req.body);
    return json(code === 'DONE' || code === 'PART' ? 200 : 400, { status: code });
  }
  if (req.method === 'POST') return { ...errorReply(405), headers: [...errorReply(405).headers, ['allow', 'GET, HEAD']] };
  if (sub === '/data.json') {
    const m = /(?:^|&)since=(\d+)/.exec(queryOf(req.uri));
    return json(200, dashboardJson(sampler, { admin, since: m ? Number(m[1]) : undefined, inScope }), head);
  }
  if (sub === '' || sub === '/') return reply(200, 'text/html; charset=utf-8', renderDashboardHtml(base, admin), head);
  return errorReply(404);
}

// ---- the page -------------------------------------------------------------------------------

const PAGE_STYLE = `
body{font-family:system-ui,arial,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#20303f;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}
#status{font-size:12px;opacity:.8}
main{padding:8px 16px}
section{background:#fff;border:1px solid #d5d9e0;border-radius:4px;margin:10px 0;padding:6px 10px}
section h2{font-size:15px;margin:4px 0 6px}
.row{display:grid;grid-template-columns:200px 110px repeat(3,250px) auto;gap:8px;align-items:center;border-top:1px solid #eef0f3;padding:3px 0}
.row .name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row.server .name{padding-left:14px;font-weight:normal}
.st{font-size:11px;padding:1px 6px;border-radius:8px;background:#e0e0e0;white-space:nowrap}
.st.up{background:#c0ffc0}.st.down{background:#ff9090}.st.maint{background:#c07820;color:#fff}.st.drain{background:#20a0ff;color:#fff}
.chart{display:flex;flex-direction:column;font-size:10px;color:#555}
.chart svg{background:#fafbfc;border:1px solid #e3e6ea}
.btns button{font-size:11px;margin-right:3px;cursor:pointer}
.hdr{font-size:11px;color:#666;border-top:none}
`;

/** The page's script: polls data.json, keeps the last `window` samples, draws SVG charts. */
const PAGE_SCRIPT = `
(function(){
var BASE=document.body.getAttribute('data-base');
var W=240,H=44,SVGNS='http://www.w3.org/2000/svg';
var times=[],objs={},order=[],admin=false,win=300,interval=1,failures=0;
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
function merge(d){
  admin=!!d.admin;win=d.window;interval=d.interval;
  if(d.full){times=[];for(var k in objs)objs[k].dead=true;}
  var n=times.length;times=times.concat(d.times);
  var cut=Math.max(0,times.length-win);times=times.slice(cut);
  order=[];
  d.objects.forEach(function(o){
    var cur=objs[o.key];
    if(!cur||d.full){cur={req:[],err:[],lat:[],cur:[]};objs[o.key]=cur;pad(cur,d.full?0:n);}
    cur.dead=false;cur.info=o;
    cur.req=cur.req.concat(o.req).slice(cut);cur.err=cur.err.concat(o.err).slice(cut);
    cur.lat=cur.lat.concat(o.rt||o.req.map(function(){return null;})).slice(cut);
    cur.cur=cur.cur.concat(o.cur).slice(cut);
    order.push(o.key);
  });
  for(var k2 in objs)if(order.indexOf(k2)<0){delete objs[k2];var r=document.querySelector('[data-key="'+CSS.escape(k2)+'"]');if(r)r.remove();}
}
function pad(o,n){for(var i=0;i<n;i++){o.req.push(null);o.err.push(null);o.lat.push(null);o.cur.push(null);}}
function fmt(v){return v===null||v===undefined?'-':(Math.round(v*100)/100).toString();}
function lastVal(a){for(var i=a.length-1;i>=0;i--)if(a[i]!==null)return a[i];return null;}
function chart(label,unit,series){
  var box=el('div','chart');var cap=el('span',null,label);box.appendChild(cap);
  var svg=document.createElementNS(SVGNS,'svg');svg.setAttribute('width',W);svg.setAttribute('height',H);svg.setAttribute('viewBox','0 0 '+W+' '+H);svg.setAttribute('data-series',series);
  var p=document.createElementNS(SVGNS,'path');p.setAttribute('fill','none');p.setAttribute('stroke-width','1.5');svg.appendChild(p);
  box.appendChild(svg);box._cap=cap;box._label=label;box._unit=unit;box._svg=svg;box._path=p;return box;
}
function draw(box,vals,color){
  var now=times.length?times[times.length-1]:Date.now(),full=win*interval*1000,span=Math.min(full,Math.max(60000,times.length?now-times[0]:0)),t0=now-span;
  var max=0,pts=0,d='',pen=false;
  for(var i=0;i<vals.length;i++)if(vals[i]!==null&&vals[i]>max)max=vals[i];
  var top=max>0?max:1;
  for(var j=0;j<vals.length;j++){
    var v=vals[j];if(v===null||times[j]===undefined){pen=false;continue;}
    var x=((times[j]-t0)/span)*W,y=H-2-(v/top)*(H-4);
    d+=(pen?'L':'M')+x.toFixed(1)+' '+y.toFixed(1);pen=true;pts++;
  }
  box._path.setAttribute('d',d||'M0 '+(H-2));box._path.setAttribute('stroke',color);
  box._svg.setAttribute('data-points',pts);box._svg.setAttribute('data-max',max);
  var lv=lastVal(vals);box._svg.setAttribute('data-last',lv===null?'':lv);
  box._cap.textContent=box._label+': '+fmt(lv)+box._unit+' (max '+fmt(max)+')';
}
function stClass(s){s=s.toUpperCase();if(s.indexOf('MAINT')==0)return 'st maint';if(s.indexOf('DRAIN')==0||s.indexOf('NOLB')==0)return 'st drain';if(s.indexOf('DOWN')==0||s=='STOP')return 'st down';if(s.indexOf('UP')==0||s=='OPEN'||s=='NO CHECK')return 'st up';return 'st';}
function act(o,a){
  var body='b='+encodeURIComponent(o.proxy)+'&s='+encodeURIComponent(o.server)+'&action='+a;
  fetch(BASE+'/action',{method:'POST',credentials:'same-origin',headers:{'content-type':'application/x-www-form-urlencoded','x-dashboard':'1'},body:body})
   .then(function(r){return r.json();}).then(function(j){document.getElementById('status').textContent=a+' '+o.proxy+'/'+o.server+': '+j.status;poll(true);})
   .catch(function(e){document.getElementById('status').textContent='action failed: '+e;});
}
function section(o){
  var id='px-'+o.proxy;var s=document.getElementById(id);
  if(!s){s=el('section');s.id=id;s.setAttribute('data-proxy',o.proxy);s.appendChild(el('h2',null,o.proxy+' ('+o.mode+')'));
    var h=el('div','row hdr');['object','state','requests/s','errors/s','response time','current'].forEach(function(t){h.appendChild(el('span',null,t));});s.appendChild(h);
    document.getElementById('main').appendChild(s);}
  return s;
}
function row(o){
  var r=document.querySelector('[data-key="'+CSS.escape(o.key)+'"]');
  if(r)return r;
  r=el('div','row '+o.kind);r.setAttribute('data-key',o.key);r.setAttribute('data-kind',o.kind);
  r.appendChild(el('span','name',o.kind=='server'?o.server:(o.kind=='frontend'?'Frontend':'Backend')));
  var st=el('span','st');st.setAttribute('data-role','status');r.appendChild(st);
  r._req=chart('req/s','','req');r._err=chart('err/s','','err');r._lat=chart(o.kind=='frontend'?'(no timing on frontends)':'resp. time',' ms','rt');
  r.appendChild(r._req);r.appendChild(r._err);r.appendChild(r._lat);
  var tail=el('span','btns');r._cur=el('span','cur');tail.appendChild(r._cur);
  if(o.kind=='server'&&admin){['ready','drain','maint'].forEach(function(a){var b=el('button',null,a);b.setAttribute('data-action',a);b.onclick=function(){act(r._o,a);};tail.appendChild(b);});}
  r.appendChild(tail);section(o).appendChild(r);return r;
}
function render(){
  order.forEach(function(k){
    var s=objs[k],o=s.info,r=row(o);r._o=o;
    var st=r.querySelector('[data-role=status]');st.textContent=o.status;st.className=stClass(o.status);
    draw(r._req,s.req,'#2060c0');draw(r._err,s.err,'#c02020');draw(r._lat,s.lat,'#208040');
    r._cur.textContent=' cur '+fmt(lastVal(s.cur))+' ';
  });
}
var busy=false;
function poll(force){
  if(busy&&!force)return;busy=true;
  var url=BASE+'/data.json'+(times.length&&!force?'?since='+times[times.length-1]:'');
  fetch(url,{credentials:'same-origin',cache:'no-store'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);return r.json();})
   .then(function(d){merge(d);render();failures=0;document.body.setAttribute('data-updated',String(d.now));
     document.getElementById('updated').textContent='updated '+new Date(d.now).toLocaleTimeString()+(admin?' (admin)':'');})
   .catch(function(e){failures++;document.getElementById('updated').textContent='update failed: '+e.message;})
   .then(function(){busy=false;});
}
poll();setInterval(poll,1000);
})();
`;

function escAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** The page itself; `base` is the dashboard path ('' for '/'). */
export function renderDashboardHtml(base: string, admin: boolean): string {
  return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>haproxy-ts dashboard</title>\n'
    + '<link rel="icon" href="data:,">\n'
    + `<style>${PAGE_STYLE}</style></head>\n`
    + `<body data-base="${escAttr(base)}" data-admin="${admin ? '1' : '0'}">`
    + '<header><h1>haproxy-ts live dashboard</h1><span id="updated">loading...</span><span id="status"></span></header>\n'
    + '<main id="main"></main>\n'
    + `<script>${PAGE_SCRIPT}</script></body></html>\n`;
}
