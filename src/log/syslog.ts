// Syslog messages (configuration.txt "log" keyword, section 4.2): levels, facilities, the
// header of each format (local, rfc3164, rfc5424, short, timed, iso, priority, raw), length
// limits and sampling. A `Logger` is one parsed "log" line; `send()` builds the datagram and
// hands it to the logger's transport (transports.ts).

export const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LevelName = (typeof LEVELS)[number];
export const LOG_EMERG = 0, LOG_ALERT = 1, LOG_CRIT = 2, LOG_ERR = 3, LOG_WARNING = 4, LOG_NOTICE = 5, LOG_INFO = 6, LOG_DEBUG = 7;

export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

export type LogFormatName = 'local' | 'rfc3164' | 'rfc5424' | 'short' | 'timed' | 'iso' | 'priority' | 'raw';
export const LOG_FORMATS: readonly LogFormatName[] = ['local', 'rfc3164', 'rfc5424', 'short', 'timed', 'iso', 'priority', 'raw'];

export function levelIndex(name: string): number { return (LEVELS as readonly string[]).indexOf(name); }
export function facilityIndex(name: string): number { return (FACILITIES as readonly string[]).indexOf(name); }

/** Process-wide settings the headers use (global log-tag, log-send-hostname). */
export const logGlobals = {
  /** the tag: global log-tag, else the program's name as launched */
  tag: programName(),
  /** log-send-hostname: the host name to send, undefined when not set */
  sendHostname: undefined as string | undefined,
  pid: process.pid,
  /** logs that could not be sent (show info DroppedLogs) */
  dropped: 0,
};

function programName(): string {
  const a = process.argv[1] ?? 'haproxy';
  const slash = a.lastIndexOf('/');
  let n = slash >= 0 ? a.slice(slash + 1) : a;
  if (n.endsWith('.js')) n = n.slice(0, -3);
  return n || 'haproxy';
}

/* ------------------------------------------------------------------------------------------ */
/* dates                                                                                      */
/* ------------------------------------------------------------------------------------------ */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** microseconds since the epoch, as precisely as the clock gives them */
export function nowMicros(): number { return Math.floor((performance.timeOrigin + performance.now()) * 1000); }

let cached3164Sec = -1;
let cached3164 = '';
/** "Mmm dd hh:mm:ss" in local time, the day padded with a space (RFC3164) */
function date3164(sec: number): string {
  if (sec !== cached3164Sec) {
    const d = new Date(sec * 1000);
    const day = d.getDate();
    cached3164 = `${MONTHS[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    cached3164Sec = sec;
  }
  return cached3164;
}

let cachedIsoSec = -1;
let cachedIsoHead = '';
let cachedIsoTz = '';
/** "yyyy-mm-ddThh:mm:ss.uuuuuu+hh:mm" in local time (RFC5424 / ISO8601) */
export function dateIso(us: number): string {
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedIsoSec) {
    const d = new Date(sec * 1000);
    const off = -d.getTimezoneOffset();
    const a = Math.abs(off);
    cachedIsoHead = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.`;
    cachedIsoTz = `${off < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
    cachedIsoSec = sec;
  }
  return cachedIsoHead + String(us % 1e6).padStart(6, '0') + cachedIsoTz;
}

/* ------------------------------------------------------------------------------------------ */
/* loggers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** Where a logger's lines go (transports.ts implements them). */
export interface LogTransport {
  /** writes one complete line (ending with '\n'); returns false when it had to be dropped */
  write(line: Buffer | string): boolean;
  /** a description for messages (e.g. "udp@127.0.0.1:514") */
  readonly label: string;
  /** ring targets store the line in their own format and length */
  readonly ring?: { format: LogFormatName; maxlen: number };
}

export interface LoggerConfig {
  /** the target as written (for messages, "show ..." and for resolving at start-up) */
  target: string;
  where: { file: string; line: number };
  maxlen: number;
  format: LogFormatName;
  /** the format was given explicitly (else 'local', or rfc3164 with log-send-hostname) */
  formatSet: boolean;
  sample?: { ranges: [number, number][]; size: number };
  facility: number;
  /** messages more verbose than this are not sent */
  maxLevel: number;
  /** messages more severe than this are sent at this level */
  minLevel: number;
  /** "profile <name>": a log-profile section (profile.ts) */
  profile?: string;
}

export class Logger {
  readonly cfg: LoggerConfig;
  transport: LogTransport | undefined;
  /** the log-profile's overrides (profile.ts), resolved at start-up */
  profile?: import('./profile.js').LogProfileConfig;
  private sampleCounter = 0;

  constructor(cfg: LoggerConfig, transport?: LogTransport) {
    this.cfg = cfg;
    this.transport = transport;
  }

  /** the effective format: a ring's own format, else the configured one */
  get format(): LogFormatName {
    if (this.transport?.ring) return this.transport.ring.format;
    if (!this.cfg.formatSet && logGlobals.sendHostname !== undefined && this.cfg.format === 'local') return 'rfc3164';
    return this.cfg.format;
  }

  get maxlen(): number { return this.transport?.ring ? this.transport.ring.maxlen : this.cfg.maxlen; }

  /** Whether this logger takes a message of this level (level filter and sampling). */
  accepts(level: number): boolean {
    if (level > this.cfg.maxLevel) return false;
    const s = this.cfg.sample;
    if (s) {
      const n = (this.sampleCounter++ % s.size) + 1;
      let ok = false;
      for (const [lo, hi] of s.ranges) if (n >= lo && n <= hi) { ok = true; break; }
      if (!ok) return false;
    }
    return true;
  }

  /**
   * Sends one message. `tag` is the proxy's log-tag or the global one, `sd` the RFC5424
   * structured data (rfc5424 only; "-" when empty).
   */
  send(level: number, msg: string, tag = logGlobals.tag, sd?: string): void {
    const t = this.transport;
    if (!t || !this.accepts(level)) return;
    if (level < this.cfg.minLevel) level = this.cfg.minLevel;
    if (this.profile?.tag !== undefined) tag = this.profile.tag;
    const line = buildLine(this.format, this.cfg.facility, level, tag, msg, this.maxlen, sd);
    if (!t.write(line)) logGlobals.dropped++;
  }
}

/** The header of a message in a given format (everything before the structured data / text). */
export function buildHeader(format: LogFormatName, facility: number, level: number, tag: string, us = nowMicros()): string {
  const pri = facility * 8 + level;
  switch (format) {
    case 'raw': return '';
    case 'short': return `<${level}>`;
    case 'priority': return `<${pri}>`;
    case 'iso': return dateIso(us) + ' ';
    case 'timed': return `<${level}>${dateIso(us)} `;
    case 'rfc5424': return `<${pri}>1 ${dateIso(us)} ${logGlobals.sendHostname || '-'} ${tag} ${logGlobals.pid} - `;
    case 'rfc3164': return `<${pri}>${date3164(Math.floor(us / 1e6))} ${logGlobals.sendHostname || 'localhost'} ${tag}[${logGlobals.pid}]: `;
    default: return `<${pri}>${date3164(Math.floor(us / 1e6))} ${tag}[${logGlobals.pid}]: `;
  }
}

/**
 * The complete line, truncated as HAProxy does: at most `maxlen` bytes before the final '\n';
 * the RFC5424 structured data is kept whole or dropped, the text is cut where the limit falls.
 */
export function buildLine(format: LogFormatName, facility: number, level: number, tag: string, msg: string, maxlen: number, sd?: string, us?: number): string {
  let line = buildHeader(format, facility, level, tag, us);
  if (format === 'rfc5424') {
    const s = sd && sd.length ? sd : '-';
    if (line.length + s.length < maxlen) {
      line += s;
      if (msg.length && line.length + 1 < maxlen) line += ' ' + msg;
    }
  } else {
    line += msg;
  }
  if (line.length > maxlen) line = line.slice(0, maxlen);
  return line + '\n';
}

/** Parses `sample <ranges>:<size>` ("1,3-4:5"). */
export function parseSample(spec: string): { ranges: [number, number][]; size: number } | string {
  const c = spec.lastIndexOf(':');
  if (c <= 0) return `invalid sample '${spec}' (expected <ranges>:<size>)`;
  const size = Number(spec.slice(c + 1));
  if (!Number.isInteger(size) || size <= 0) return `invalid sample size '${spec.slice(c + 1)}'`;
  const ranges: [number, number][] = [];
  for (const part of spec.slice(0, c).split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return `invalid sample range '${part}'`;
    const lo = Number(m[1]), hi = m[2] !== undefined ? Number(m[2]) : lo;
    if (lo < 1 || hi < lo) return `invalid sample range '${part}'`;
    if (hi > size) return `sample range '${part}' exceeds the sample size ${size}`;
    ranges.push([lo, hi]);
  }
  return { ranges, size };
}
