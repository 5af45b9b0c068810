// Email alerts on server state changes: the `mailers` section (`mailer`, `timeout mail`) and the
// proxy keywords `email-alert mailers|from|to|level|myhostname` (configuration.txt 4.2 and 12.3).
//
// When a health check changes a server's state (serverEvents 'change', src/checks/health.ts) and
// the backend has email alerts configured, a mail is sent over SMTP to every mailer of the
// section. The dialogue, headers and body are the ones HAProxy 2.6 sends (captured against a
// test SMTP listener):
//   HELO <myhostname> / MAIL FROM:<from> / RCPT TO:<to> / DATA /
//   From, To, Date, Subject: [HAProxy Alert] <message>, blank line, <message>, blank line, "." / QUIT
// where <message> is the state change message without its final dot. Each reply must carry the
// expected code (220, 250, 250, 250, 354, 250, 221); anything else, a connection error or the
// mailers' `timeout mail` (default 10s) ends that mail silently: alerts never affect the proxy.
import net from 'node:net';
import os from 'node:os';
import { registerProxy, registerSection, registerPostParse, ALL, type ParseCtx } from '../registry/registry.js';
import type { Config, ProxyConfig, Where } from '../config/model.js';
import { parseTime } from '../util/units.js';
import { serverEvents, type ServerChangeEvent } from './health.js';

// ---- configuration model ------------------------------------------------------------------

export interface Mailer { name: string; host: string; port: number; where: Where }

export interface MailersSection {
  name: string;
  where: Where;
  mailers: Mailer[];
  /** `timeout mail`, ms (default 10s) */
  timeout: number;
}

/** Syslog levels, in HAProxy's order (0 = emerg). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export const LOG_ALERT = 1;
export const LOG_NOTICE = 5;

export interface EmailAlertConfig {
  mailers?: string;
  from?: string;
  to?: string;
  /** highest level (numerically) that is mailed; default alert */
  level?: number;
  myhostname?: string;
  /** set after parsing when the proxy's email alerts are complete and valid */
  section?: MailersSection;
}

declare module '../config/model.js' {
  interface Config {
    /** `mailers` sections by name (src/checks/mailers.ts) */
    mailers?: Map<string, MailersSection>;
  }
  interface ProxyOptions {
    /** `email-alert` settings (src/checks/mailers.ts); replaced, never mutated, so defaults stay intact */
    emailAlert?: EmailAlertConfig;
  }
}

export const DEFAULT_MAIL_TIMEOUT = 10_000;

function sections(config: Config): Map<string, MailersSection> {
  if (!config.mailers) config.mailers = new Map();
  return config.mailers;
}

// ---- the mailers section ------------------------------------------------------------------

const currentByConfig = new WeakMap<Config, MailersSection>();

/** Parses "<ip>:<port>" (IPv4, [IPv6] or bare IPv6 with the last colon as separator). */
export function parseMailerAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|(.*)):(\d+)$/.exec(text);
  if (!m) return undefined;
  let host = m[1] ?? m[2] ?? '';
  if (host.startsWith('ipv4@') || host.startsWith('ipv6@')) host = host.slice(5);
  const port = Number(m[3]);
  if (!net.isIP(host) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

registerSection({
  name: 'mailers',
  start(args, ctx, config) {
    currentByConfig.delete(config);
    const name = args[1];
    if (!name) { ctx.alert(`missing name for mailers section.`); return false; }
    const bad = [...name].find((c) => !/[A-Za-z0-9_.:-]/.test(c));
    if (bad !== undefined) { ctx.alert(`character '${bad}' is not permitted in 'mailers' name '${name}'.`); return false; }
    const all = sections(config);
    const prev = all.get(name);
    if (prev) {
      ctx.alert(`Parsing [${ctx.where.file}:${ctx.where.line}]: mailers section '${name}' has the same name as another mailers section declared at ${prev.where.file}:${prev.where.line}.`);
      return false;
    }
    const sec: MailersSection = { name, where: ctx.where, mailers: [], timeout: DEFAULT_MAIL_TIMEOUT };
    all.set(name, sec);
    currentByConfig.set(config, sec);
    return true;
  },
  line(args, ctx, config) {
    const sec = currentByConfig.get(config);
    if (!sec) return;
    const kw = args[0]!;
    if (kw === 'mailer') {
      if (args[1] === undefined || args[2] === undefined) {
        ctx.alert(`'mailer' expects <name> and <addr>[:<port>] as arguments.`);
        return;
      }
      const a = parseMailerAddress(args[2]);
      if (!a) { ctx.alert(`'mailer ${args[1]}' : invalid address '${args[2]}', an IP address and a port are expected.`); return; }
      sec.mailers.push({ name: args[1], host: a.host, port: a.port, where: ctx.where });
      return;
    }
    if (kw === 'timeout') {
      if (args[1] !== 'mail') {
        ctx.alert(`'timeout' expects 'mail' and <time> as arguments got '${args[1] ?? ''}'.`);
        return;
      }
      if (args[2] === undefined) { ctx.alert(`'timeout mail' expects <time> as argument.`); return; }
      const t = parseTime(args[2]);
      if (typeof t === 'string') { ctx.alert(`'timeout mail' : ${t}.`); return; }
      sec.timeout = t;
      return;
    }
    ctx.alert(`unknown keyword '${kw}' in 'mailers' section`);
  },
});

// ---- the email-alert proxy keywords ---------------------------------------------------------

function parseEmailAlert(args: string[], px: ProxyConfig, ctx: ParseCtx): void {
  const sub = args[1];
  if (sub === undefined) { ctx.alert(`missing argument after '${args[0]}'.`); return; }
  const known = ['from', 'mailers', 'myhostname', 'to', 'level'];
  if (!known.includes(sub)) { ctx.alert(`email-alert: unknown argument '${sub}'.`); return; }
  const val = args[2];
  if (val === undefined) { ctx.alert(`missing argument after '${args[0]}'.`); return; }
  const next: EmailAlertConfig = { ...px.options.emailAlert };
  delete next.section;
  switch (sub) {
    case 'from': next.from = val; break;
    case 'to': next.to = val; break;
    case 'mailers': next.mailers = val; break;
    case 'myhostname': next.myhostname = val; break;
    case 'level': {
      const lvl = (LOG_LEVELS as readonly string[]).indexOf(val);
      // HAProxy 2.6 names the two words the other way round in this message
      if (lvl < 0) { ctx.alert(`unknown log level '${args[1]}' after '${val}'`); return; }
      next.level = lvl;
      break;
    }
  }
  px.options = { ...px.options, emailAlert: next };
}

registerProxy({ name: 'email-alert', caps: ALL, parse: parseEmailAlert });

function proxyTypeWord(px: ProxyConfig): string {
  return px.kind === 'listen' ? 'proxy' : px.kind;
}

/**
 * After parsing: a proxy with any email-alert setting needs from, mailers and to (else they are
 * ignored with a warning), and the mailers section must exist.
 */
export function resolveEmailAlerts(config: Config, ctx: Pick<ParseCtx, 'alert' | 'warn'>): void {
  for (const px of config.proxies) {
    const ea = px.options.emailAlert;
    if (!ea) continue;
    if (ea.from === undefined || ea.mailers === undefined || ea.to === undefined) {
      ctx.warn(`'email-alert' will be ignored for ${proxyTypeWord(px)} '${px.name}' (the presence any of 'email-alert from', 'email-alert level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).`);
      px.options = { ...px.options, emailAlert: undefined };
      continue;
    }
    const sec = config.mailers?.get(ea.mailers);
    if (!sec) {
      ctx.alert(`Proxy '${px.name}': unable to find mailers '${ea.mailers}'.`);
      continue;
    }
    px.options = { ...px.options, emailAlert: { ...ea, section: sec } };
  }
}

registerPostParse((config, ctx) => resolveEmailAlerts(config, ctx));

// ---- the mail ---------------------------------------------------------------------------

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** The local time zone's abbreviation ("UTC", "CET"...), or "GMT+1"-like text when unknown. */
function zoneName(d: Date): string {
  let name = '';
  for (const loc of ['en-US', 'en-GB']) {
    try {
      name = new Intl.DateTimeFormat(loc, { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
    } catch { name = ''; }
    if (name && !/^GMT[+-]/.test(name)) return name;
  }
  return name || 'UTC';
}

/** The Date header's value as HAProxy writes it: "Tue, 01 Dec 2026 03:17:19 +0100 (CET)", local time. */
export function mailDate(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${DAYS[d.getDay()]}, ${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)} (${zoneName(d)})`;
}

export interface MailContent { myhostname: string; from: string; to: string; message: string; date?: string }

/** The SMTP commands (each with the reply code expected after it; the first is the banner). */
export function smtpDialogue(m: MailContent): { send: string | undefined; expect: number }[] {
  const data = `From: ${m.from}\r\nTo: ${m.to}\r\nDate: ${m.date ?? mailDate()}\r\n` +
    `Subject: [HAProxy Alert] ${m.message}\r\n\r\n${m.message}\r\n\r\n.\r\n`;
  return [
    { send: undefined, expect: 220 },
    { send: `HELO ${m.myhostname}\r\n`, expect: 250 },
    { send: `MAIL FROM:<${m.from}>\r\n`, expect: 250 },
    { send: `RCPT TO:<${m.to}>\r\n`, expect: 250 },
    { send: 'DATA\r\n', expect: 354 },
    { send: data, expect: 250 },
    { send: 'QUIT\r\n', expect: 221 },
  ];
}

/**
 * Sends one mail to one mailer. Resolves true when every step got its expected reply, false on
 * any failure (refused, closed, unexpected reply, timeout). Never throws.
 */
export function sendMail(host: string, port: number, timeout: number, m: MailContent): Promise<boolean> {
  const steps = smtpDialogue(m);
  return new Promise((resolve) => {
    let step = 0;
    let buf = '';
    let done = false;
    const sock = net.connect({ host, port });
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) sock.end(); else sock.destroy();
      resolve(ok);
    };
    // `timeout mail 0`: no limit (a zero timer means "never" in HAProxy)
    const timer = timeout > 0 ? setTimeout(() => finish(false), timeout) : undefined;
    timer?.unref();
    sock.setNoDelay(true);
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      // a reply is complete at its last line: "NNN text" (continuation lines are "NNN-text")
      for (;;) {
        const lines = buf.split('\r\n');
        let end = -1;
        for (let i = 0; i < lines.length - 1; i++) {
          if (!/^\d{3}-/.test(lines[i]!)) { end = i; break; }
        }
        if (end < 0) return;
        const last = lines[end]!;
        buf = lines.slice(end + 1).join('\r\n');
        const code = /^\d{3}/.test(last) ? Number(last.slice(0, 3)) : -1;
        if (code !== steps[step]!.expect) { finish(false); return; }
        step++;
        if (step >= steps.length) { finish(true); return; }
        sock.write(steps[step]!.send!);
      }
    });
  });
}

/** The level of a state change: a server going down is an alert, unless it was soft-stopping. */
export function changeLevel(ev: Pick<ServerChangeEvent, 'up'> & { wasStopping?: boolean }): number {
  if (ev.up) return LOG_NOTICE;
  return ev.wasStopping ? LOG_NOTICE : LOG_ALERT;
}

/** Mails wait per mailer and go one at a time, in order. */
const queues = new WeakMap<Mailer, Promise<unknown>>();

/** Sends the alert to every mailer of the section, each in its own queue. */
export function sendAlert(ea: EmailAlertConfig, message: string): Promise<boolean[]> {
  const sec = ea.section;
  if (!sec || ea.from === undefined || ea.to === undefined) return Promise.resolve([]);
  const m: MailContent = { myhostname: ea.myhostname ?? os.hostname(), from: ea.from, to: ea.to, message, date: mailDate() };
  return Promise.all(sec.mailers.map((mailer) => {
    const prev = queues.get(mailer) ?? Promise.resolve();
    const p = prev.then(() => sendMail(mailer.host, mailer.port, sec.timeout, m));
    queues.set(mailer, p);
    return p;
  }));
}

/** The mail's text: the change message without its final dot. */
export function alertText(message: string): string {
  return message.endsWith('.') ? message.slice(0, -1) : message;
}

serverEvents.on('change', (ev: ServerChangeEvent) => {
  try {
    const ea = ev.backend.cfg.options.emailAlert;
    if (!ea?.section) return;
    // a server that was soft-stopping (disable-on-404) keeps that flag until a check passes
    const level = changeLevel({ up: ev.up, wasStopping: !ev.up && ev.server.checkNolb === true });
    if (level > (ea.level ?? LOG_ALERT)) return;
    void sendAlert(ea, alertText(ev.message)).catch(() => undefined);
  } catch { /* alerts never affect the proxy */ }
});
