// Date formatting and parsing for the time converters: a strftime with the C locale's
// conversions (utime/ltime families, plus %N for the ms/us variants), the HTTP date format,
// and the parser of the three HTTP date forms (IMF-fixdate, RFC 850, asctime).

export interface Tm {
  year: number; mon: number; mday: number; hour: number; min: number; sec: number;
  wday: number; yday: number;
  /** seconds east of UTC */
  gmtoff: number;
  /** epoch seconds */
  epoch: number;
  local: boolean;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY3 = DAYS.map((d) => d.slice(0, 3));
const MON3 = MONTHS.map((m) => m.slice(0, 3));

/** Days since 1970-01-01 of a civil date (proleptic Gregorian). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean { return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0; }

/** Broken-down UTC time of epoch seconds shifted by `gmtoff`. */
function breakDown(epoch: number, gmtoff: number, local: boolean): Tm {
  const t = epoch + gmtoff;
  const days = Math.floor(t / 86400);
  let rem = t - days * 86400;
  const hour = Math.floor(rem / 3600); rem -= hour * 3600;
  const min = Math.floor(rem / 60);
  const sec = rem - min * 60;
  // civil from days (H. Hinnant's algorithm)
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const mday = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mon = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
  const wday = ((days % 7) + 11) % 7; // 1970-01-01 was a Thursday
  const yday = days - daysFromCivil(year, 1, 1);
  return { year, mon: mon - 1, mday, hour, min, sec, wday, yday, gmtoff, epoch, local };
}

/** UTC broken-down time, or undefined when out of the supported range. */
export function gmTime(epoch: number): Tm | undefined {
  if (!Number.isSafeInteger(epoch) || Math.abs(epoch) > 67767976233316800) return undefined;
  return breakDown(epoch, 0, false);
}

/** Local broken-down time (process time zone), or undefined when out of range. */
export function localTime(epoch: number): Tm | undefined {
  if (!Number.isSafeInteger(epoch) || Math.abs(epoch) > 8.64e12) return undefined;
  const off = -new Date(epoch * 1000).getTimezoneOffset() * 60;
  return breakDown(epoch, off, true);
}

let zoneFmt: Intl.DateTimeFormat | undefined;
function zoneName(tm: Tm): string {
  if (!tm.local) return 'GMT';
  zoneFmt ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  const p = zoneFmt.formatToParts(new Date(tm.epoch * 1000)).find((x) => x.type === 'timeZoneName');
  return p ? p.value : '';
}

/** ISO 8601 week-based year and week number. */
function isoWeek(tm: Tm): { year: number; week: number } {
  const wdayMon = (tm.wday + 6) % 7; // Monday = 0
  let year = tm.year;
  // Thursday of the current week decides the year
  let yday = tm.yday - wdayMon + 3;
  if (yday < 0) {
    year--;
    yday += isLeap(year) ? 366 : 365;
  } else {
    const ylen = isLeap(year) ? 366 : 365;
    if (yday >= ylen) { yday -= ylen; year++; }
  }
  return { year, week: Math.floor(yday / 7) + 1 };
}

function pad(v: number, width: number, ch: string): string {
  const neg = v < 0;
  let s = String(Math.abs(v));
  while (s.length < width - (neg ? 1 : 0)) s = ch + s;
  return neg ? '-' + s : s;
}

/**
 * strftime(3) in the C locale. `ns`, when given, enables %N (nanoseconds, with an optional
 * width 1..9 giving the number of leading digits).
 */
export function strftime(fmt: string, tm: Tm, ns?: number): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') { out += c; continue; }
    const start = i;
    let flag = '';
    let j = i + 1;
    while (j < fmt.length && '_-0^#'.includes(fmt[j]!)) flag = flag || fmt[j]!, j++;
    let width = -1;
    while (j < fmt.length && fmt[j]! >= '0' && fmt[j]! <= '9') width = (width < 0 ? 0 : width * 10) + Number(fmt[j]), j++;
    while (j < fmt.length && (fmt[j] === 'E' || fmt[j] === 'O')) j++;
    if (j >= fmt.length) { out += fmt.slice(start); break; }
    const conv = fmt[j]!;
    i = j;
    const num = (v: number, w: number, ch = '0'): string => {
      const padCh = flag === '_' ? ' ' : flag === '0' ? '0' : ch;
      if (flag === '-') return String(v);
      return pad(v, width >= 0 ? width : w, padCh);
    };
    const str = (s: string): string => {
      if (flag === '^') s = s.toUpperCase();
      else if (flag === '#') s = s === s.toUpperCase() ? s.toLowerCase() : s.toUpperCase();
      if (width > s.length) s = (flag === '0' ? '0' : ' ').repeat(width - s.length) + s;
      return s;
    };
    const h12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
    switch (conv) {
      case '%': out += '%'; break;
      case 'a': out += str(DAY3[tm.wday]!); break;
      case 'A': out += str(DAYS[tm.wday]!); break;
      case 'b': case 'h': out += str(MON3[tm.mon]!); break;
      case 'B': out += str(MONTHS[tm.mon]!); break;
      case 'c': out += str(strftime('%a %b %e %H:%M:%S %Y', tm)); break;
      case 'C': out += num(Math.floor(tm.year / 100), 2); break;
      case 'd': out += num(tm.mday, 2); break;
      case 'D': case 'x': out += str(strftime('%m/%d/%y', tm)); break;
      case 'e': out += num(tm.mday, 2, ' '); break;
      case 'F': out += str(strftime('%Y-%m-%d', tm)); break;
      case 'g': out += num(((isoWeek(tm).year % 100) + 100) % 100, 2); break;
      case 'G': out += num(isoWeek(tm).year, 1); break;
      case 'H': out += num(tm.hour, 2); break;
      case 'I': out += num(h12, 2); break;
      case 'j': out += num(tm.yday + 1, 3); break;
      case 'k': out += num(tm.hour, 2, ' '); break;
      case 'l': out += num(h12, 2, ' '); break;
      case 'm': out += num(tm.mon + 1, 2); break;
      case 'M': out += num(tm.min, 2); break;
      case 'n': out += '\n'; break;
      case 'N':
        if (ns === undefined) { out += fmt.slice(start, i + 1); break; }
        out += String(ns).padStart(9, '0').slice(0, width > 0 && width < 9 ? width : 9);
        break;
      case 'p': out += str(tm.hour < 12 ? 'AM' : 'PM'); break;
      case 'P': out += str(tm.hour < 12 ? 'am' : 'pm'); break;
      case 'r': out += str(strftime('%I:%M:%S %p', tm)); break;
      case 'R': out += str(strftime('%H:%M', tm)); break;
      case 's': out += num(tm.epoch, 1); break;
      case 'S': out += num(tm.sec, 2); break;
      case 't': out += '\t'; break;
      case 'T': case 'X': out += str(strftime('%H:%M:%S', tm)); break;
      case 'u': out += num(tm.wday === 0 ? 7 : tm.wday, 1); break;
      case 'U': out += num(Math.floor((tm.yday + 7 - tm.wday) / 7), 2); break;
      case 'V': out += num(isoWeek(tm).week, 2); break;
      case 'w': out += num(tm.wday, 1); break;
      case 'W': out += num(Math.floor((tm.yday + 7 - ((tm.wday + 6) % 7)) / 7), 2); break;
      case 'y': out += num(((tm.year % 100) + 100) % 100, 2); break;
      case 'Y': out += num(tm.year, 1); break;
      case 'z': {
        const o = Math.abs(tm.gmtoff);
        const v = Math.floor(o / 3600) * 100 + Math.floor((o % 3600) / 60);
        out += (tm.gmtoff < 0 ? '-' : '+') + pad(v, width > 1 ? width - 1 : 4, '0');
        break;
      }
      case 'Z': out += str(zoneName(tm)); break;
      default: out += fmt.slice(start, i + 1);
    }
  }
  return out;
}

/** IMF-fixdate of epoch seconds, with a fraction of `fracDigits` digits when given. */
export function httpDate(epoch: number, frac?: string): string | undefined {
  const tm = gmTime(epoch);
  if (!tm) return undefined;
  return `${DAY3[tm.wday]}, ${pad(tm.mday, 2, '0')} ${MON3[tm.mon]} ${pad(tm.year, 4, '0')} ${pad(tm.hour, 2, '0')}:${pad(tm.min, 2, '0')}:${pad(tm.sec, 2, '0')}${frac ?? ''} GMT`;
}

const IMF = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$/;
const RFC850 = /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), ([0-9]{2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$/;
const ASCTIME = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 0-9][0-9]) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{4})$/;

/** Parses an HTTP date in any of its three forms into epoch seconds. */
export function parseHttpDate(s: string): number | undefined {
  let y: number, mon: string, d: number, h: number, mi: number, se: number;
  let m = IMF.exec(s);
  if (m) { d = +m[2]!; mon = m[3]!; y = +m[4]!; h = +m[5]!; mi = +m[6]!; se = +m[7]!; }
  else if ((m = RFC850.exec(s))) {
    d = +m[2]!; mon = m[3]!; y = +m[4]!; h = +m[5]!; mi = +m[6]!; se = +m[7]!;
    y += y < 70 ? 2000 : 1900;
  } else if ((m = ASCTIME.exec(s))) {
    mon = m[2]!; d = +m[3]!.trim(); h = +m[4]!; mi = +m[5]!; se = +m[6]!; y = +m[7]!;
  } else return undefined;
  if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  const mo = MON3.indexOf(mon) + 1;
  return daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
}
