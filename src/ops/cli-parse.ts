// Runtime API text handling that needs no socket: cutting the input stream into commands,
// splitting a command into words, payload markers, access levels and the help/usage screen
// (management.txt 9.3). Everything here is pure so that it can be unit-tested directly.
import type { CliLevel } from '../registry/registry.js';

/** HAProxy limits a command to this many words; extra words are ignored. */
export const MAX_CLI_ARGS = 64;
/** A payload pattern is "<<" followed by at most this many characters. */
export const MAX_PAYLOAD_PATTERN = 7;
/** Usage lines are laid out as "<syntax padded to this width>: <description>". */
export const USAGE_COLUMN = 40;

const RANK: Record<CliLevel, number> = { user: 1, operator: 2, admin: 3 };

/** True when a session at level `have` may run a command requiring `need`. */
export function levelAllows(have: CliLevel, need: CliLevel): boolean {
  return RANK[have] >= RANK[need];
}

export function isCliLevel(s: string | undefined): s is CliLevel {
  return s === 'user' || s === 'operator' || s === 'admin';
}

/**
 * Position of the first delimiter (';' or LF) not protected by a backslash, at or after
 * `from`, or -1 when the buffer holds no complete command yet. A backslash protects the
 * character that follows it, whatever it is (so "\\;" ends a command after a backslash).
 */
export function findCommandEnd(buf: string, from = 0): number {
  for (let i = from; i < buf.length; i++) {
    const c = buf.charCodeAt(i);
    if (c === 0x5c /* \ */) { i++; continue; }
    if (c === 0x3b /* ; */ || c === 0x0a /* LF */) return i;
  }
  return -1;
}

export interface SplitCommand {
  /** command text without its delimiter */
  text: string;
  /** the delimiter: ';', '\n', or '' when the input ended without one */
  delim: ';' | '\n' | '';
}

/**
 * Cuts a whole input text into commands (used by tests and tools; the live session cuts its
 * stream incrementally with findCommandEnd). A trailing fragment without delimiter is kept
 * with delim ''.
 */
export function splitCommands(input: string): SplitCommand[] {
  const out: SplitCommand[] = [];
  let pos = 0;
  while (pos < input.length) {
    const end = findCommandEnd(input, pos);
    if (end < 0) { out.push({ text: stripCR(input.slice(pos)), delim: '' }); break; }
    out.push({ text: stripCR(input.slice(pos, end)), delim: input[end] as ';' | '\n' });
    pos = end + 1;
  }
  return out;
}

/** Drops one trailing CR (commands typed from a CRLF terminal). */
export function stripCR(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/**
 * Splits a command into words on blanks (spaces and tabs). A backslash makes the next
 * character literal (so "\ " keeps a space inside a word and "\;" a semicolon); a double
 * backslash gives one backslash; a lone trailing backslash disappears.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n && words.length < MAX_CLI_ARGS) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    let w = '';
    while (i < n && text[i] !== ' ' && text[i] !== '\t') {
      if (text[i] === '\\') {
        if (i + 1 < n) w += text[i + 1];
        i += 2;
        continue;
      }
      w += text[i];
      i++;
    }
    words.push(w);
  }
  return words;
}

/**
 * When the last blank-separated token of a command starts with "<<" and the rest is at most
 * MAX_PAYLOAD_PATTERN characters, the command takes a payload ending with a line equal to
 * that rest (an empty line for a bare "<<"). Returns the command without the marker.
 */
export function detectPayload(text: string): { command: string; pattern: string } | undefined {
  let cut = text.length;
  while (cut > 0 && text[cut - 1] !== ' ' && text[cut - 1] !== '\t') cut--;
  const last = text.slice(cut);
  if (!last.startsWith('<<')) return undefined;
  const pattern = last.slice(2);
  if (pattern.length > MAX_PAYLOAD_PATTERN) return undefined;
  return { command: text.slice(0, cut), pattern };
}

// ---- help and usage ------------------------------------------------------------------------

/** What the usage screen needs to know about a command. */
export interface UsageEntry {
  words: string[];
  /** syntax; an empty string hides the command from the lists */
  usage: string;
  /** one-line description */
  help: string;
}

/** The three commands every usage screen ends with (they have no usage line of their own). */
export const ALWAYS_LISTED: readonly UsageEntry[] = [
  { words: ['help'], usage: 'help [<command>]', help: 'list all commands, or those starting with <command>' },
  { words: ['prompt'], usage: 'prompt [help | n | i | p | timed ]*', help: 'switch between one-shot, interactive and prompt modes' },
  { words: ['quit'], usage: 'quit', help: 'close this connection' },
];

/** "  <syntax padded>: <description>" */
export function formatUsageLine(e: UsageEntry): string {
  if (!e.help) return `  ${e.usage}`;
  return `  ${e.usage.padEnd(USAGE_COLUMN)}: ${e.help}`;
}

/** Character class used by the word fingerprints: 1..26 letters, 27 digits, 28 word edge, 31 others. */
function charClass(code: number): number {
  if (code >= 0x61 && code <= 0x7a) return code - 0x60;
  if (code >= 0x41 && code <= 0x5a) return code - 0x40;
  if (code >= 0x30 && code <= 0x39) return 27;
  return 31;
}
const EDGE = 28;

/** Adds the transitions between consecutive character classes of `word` to `fp` (32x32 cells). */
export function addFingerprint(fp: Uint16Array, word: string): void {
  let prev = EDGE;
  for (let i = 0; i < word.length; i++) {
    const cur = charClass(word.charCodeAt(i));
    fp[prev * 32 + cur]!++;
    prev = cur;
  }
  fp[prev * 32 + EDGE]!++;
}

/** Sum of the absolute differences between two fingerprints: 0 for anagram-like twins. */
export function fingerprintDistance(a: Uint16Array, b: Uint16Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d;
}

/** Number of leading words shared by the command line and the keyword. */
function commonPrefix(kw: string[], args: string[]): number {
  let i = 0;
  while (i < kw.length && i < args.length && kw[i] === args[i]) i++;
  return i;
}

/** How many closest commands an unknown command may be compared to. */
const MAX_MATCHES = 5;
/** Only the first words count when comparing a command line with the keywords. */
const PREFIX_WORDS = 5;

/**
 * The answer to `help [<words>]` (isHelp) or to an unknown command line `args`.
 * The leading words that exactly match some keyword narrow the list; when the next word
 * matches nothing, the few keywords whose remaining words look closest are proposed,
 * otherwise every keyword under the matched prefix is listed. Lines are sorted, and the
 * help/prompt/quit lines always close the list.
 */
export function buildUsage(entries: readonly UsageEntry[], args: string[], isHelp: boolean): string {
  const visible = entries.filter((e) => e.usage !== '');
  let matched = 0;
  for (const e of entries) matched = Math.max(matched, Math.min(commonPrefix(e.words, args), PREFIX_WORDS));
  let head: string;
  if (isHelp) head = 'The following commands are valid at this level:\n';
  else if (matched === 0 && (args.length === 0 || args[0] === '')) head = `Unknown command: '${args[0] ?? ''}'. Please enter one of the following commands only:\n`;
  else head = `Unknown command: '${args[0] ?? ''}', but maybe one of the following ones is a better match:\n`;

  const picked: UsageEntry[] = [];
  const next = args[matched];
  if (next !== undefined && next !== '') {
    const best: { e: UsageEntry; d: number }[] = [];
    for (const e of visible) {
      if (commonPrefix(e.words, args) < matched) continue;
      const a = new Uint16Array(1024);
      const b = new Uint16Array(1024);
      let total = 0;
      for (let i = matched; i < PREFIX_WORDS && i < args.length && args[i] !== ''; i++) { addFingerprint(a, args[i]!); total += args[i]!.length; }
      for (let i = matched; i < PREFIX_WORDS && i < e.words.length; i++) { addFingerprint(b, e.words[i]!); total += e.words[i]!.length; }
      const d = fingerprintDistance(a, b);
      if (d >= (5 * total) / 2) continue;
      if (best.length === MAX_MATCHES && d >= best[MAX_MATCHES - 1]!.d) continue;
      best.push({ e, d });
      best.sort((x, y) => x.d - y.d);
      if (best.length > MAX_MATCHES) best.pop();
    }
    if (best.length) {
      const limit = (5 * best[0]!.d) / 2;
      for (const m of best) { if (m.d > limit) break; picked.push(m.e); }
    }
  }
  if (!picked.length) {
    for (const e of visible) if (commonPrefix(e.words, args) >= matched) picked.push(e);
  }
  const lines = picked.map(formatUsageLine).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return head + lines.map((l) => `${l}\n`).join('') + ALWAYS_LISTED.map((e) => `${formatUsageLine(e)}\n`).join('');
}

/** Finds the keyword whose words all match the start of `args`, preferring the longest. */
export function findKeyword<T extends { words: string[] }>(kws: readonly T[], args: string[]): T | undefined {
  let best: T | undefined;
  for (const k of kws) {
    if (k.words.length > args.length) continue;
    if (commonPrefix(k.words, args) !== k.words.length) continue;
    if (!best || k.words.length > best.words.length) best = k;
  }
  return best;
}

// ---- small number parsers mirroring the C library ones HAProxy relies on -------------------

/** C atoi(): optional blanks and sign, then digits; 0 when nothing numeric leads. */
export function atoi(s: string | undefined): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s ?? '');
  if (!m) return 0;
  const n = Number(m[1]);
  return Math.max(-2147483648, Math.min(2147483647, n));
}

/** C strtol() base 10: the number and what follows it; `rest === s` when nothing was read. */
export function strtol(s: string): { value: number; rest: string } {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return { value: 0, rest: s };
  return { value: Number(m[1]), rest: s.slice(m[0].length) };
}
