// Configuration line tokenizer (configuration.txt 2.2 "Quoting and escaping" and
// 2.3 "Environment variables").
//
// A line is cut into words on unquoted blanks. Backslash escapes are honoured
// outside single quotes, single quotes protect everything up to the next single
// quote, double quotes protect blanks, '#' and single quotes while still
// allowing escapes and "$NAME" / "${NAME}" environment expansion. Environment
// variables are only expanded inside double quotes.

/** Maximum number of words on a configuration line (HAProxy's MAX_LINE_ARGS). */
export const MAX_LINE_ARGS = 64;

export type EnvMap = Record<string, string | undefined>;

/** Values for the pseudo-variables ".FILE", ".LINE" and ".SECTION". */
export interface PseudoVars {
  file?: string;
  line?: number;
  section?: string;
}

export interface TokenizeResult {
  words: string[];
  /** Human readable error (e.g. "unmatched quote at position 7"); the line must then be ignored. */
  error?: string;
  /** 0-based offset in the input line of the offending character, when meaningful. */
  errorPos?: number;
  warnings: string[];
}

function isBlank(c: string | undefined): boolean {
  // isspace() minus the line terminators, which end the line before reaching here
  return c === ' ' || c === '\t' || c === '\v' || c === '\f';
}

function isAsciiAlpha(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return (k >= 0x41 && k <= 0x5a) || (k >= 0x61 && k <= 0x7a);
}

function isAsciiDigit(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return k >= 0x30 && k <= 0x39;
}

function isHexDigit(c: string | undefined): boolean {
  return c !== undefined && /^[0-9a-fA-F]$/.test(c);
}

function isNameChar(c: string | undefined): boolean {
  return isAsciiAlpha(c) || isAsciiDigit(c) || c === '_';
}

function lookupEnv(env: EnvMap, name: string): string | undefined {
  const v = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function fail(words: string[], msg: string, pos: number | undefined): TokenizeResult {
  const r: TokenizeResult = { words, error: msg, warnings: [] };
  if (pos !== undefined) r.errorPos = pos;
  return r;
}

/**
 * Split one configuration line into words.
 *
 * @param line   the line, without its trailing LF (a CR, LF or NUL ends it anyway)
 * @param env    environment used for "$VAR" expansion (defaults to process.env, read now)
 * @param pseudo values of the ".FILE", ".LINE" and ".SECTION" pseudo-variables
 */
export function tokenizeLine(line: string, env?: EnvMap, pseudo?: PseudoVars): TokenizeResult {
  const environ: EnvMap = env ?? process.env;
  const words: string[] = [];
  const n = line.length;

  let cur = '';
  // whether the current word contained a quote: a quoted empty string is a word
  let quoted = false;
  // whether the current word received a "${NAME[*]}" list expansion: an empty
  // list expansion does not create a word on its own
  let listExpanded = false;

  const endWord = (): void => {
    if (cur.length > 0 || (quoted && !listExpanded)) words.push(cur);
    cur = '';
    quoted = false;
    listExpanded = false;
  };

  let i = 0;
  while (i < n && isBlank(line[i])) i++;

  let squote = false;
  let dquote = false;
  let quotePos = -1;

  while (i < n) {
    const c = line[i]!;

    if (c === '\n' || c === '\r' || c === '\0') break; // end of line, even inside quotes

    if (squote) {
      if (c === "'") squote = false;
      else cur += c;
      i++;
      continue;
    }

    if (c === '#' && !dquote) break; // comment

    if (c === '"') {
      dquote = !dquote;
      if (dquote) quotePos = i;
      quoted = true;
      i++;
      continue;
    }

    if (c === "'" && !dquote) {
      squote = true;
      quotePos = i;
      quoted = true;
      i++;
      continue;
    }

    if (c === '\\') {
      const d = line[i + 1];
      switch (d) {
        case ' ':
        case '\t':
        case '\\':
        case '#':
        case "'":
        case '"':
          cur += d;
          i += 2;
          break;
        case 't':
          cur += '\t';
          i += 2;
          break;
        case 'n':
          cur += '\n';
          i += 2;
          break;
        case 'r':
          cur += '\r';
          i += 2;
          break;
        case '$':
          if (dquote) {
            cur += '$';
            i += 2;
          } else {
            // outside double quotes '$' is not special, so the backslash stays
            cur += '\\';
            i += 1;
          }
          break;
        case 'x': {
          const h1 = line[i + 2];
          const h2 = line[i + 3];
          if (!isHexDigit(h1) || !isHexDigit(h2)) {
            return fail([], `truncated or invalid hexadecimal sequence at position ${i + 1}`, i);
          }
          cur += String.fromCharCode(parseInt(h1! + h2!, 16));
          i += 4;
          break;
        }
        default:
          // not an escape sequence: the backslash is kept as-is (e.g. "\d" in a regex)
          cur += '\\';
          i += 1;
          break;
      }
      continue;
    }

    if (!dquote && isBlank(c)) {
      endWord();
      while (i < n && isBlank(line[i])) i++;
      continue;
    }

    if (c === '$' && dquote) {
      let j = i + 1;
      let brace = -1;
      if (line[j] === '{') {
        brace = j;
        j++;
      }
      const nameStart = j;
      const first = line[j];
      if (!isAsciiAlpha(first) && first !== '_' && first !== '.') {
        return fail([], `forbidden first char in environment variable name at position ${j + 1}`, j);
      }
      if (first === '.') j++;
      while (j < n && isNameChar(line[j])) j++;
      const name = line.slice(nameStart, j);

      let value: string | undefined;
      if (name.startsWith('.')) {
        if (name === '.LINE') value = pseudo?.line !== undefined ? String(pseudo.line) : undefined;
        else if (name === '.FILE') value = pseudo?.file;
        else if (name === '.SECTION') value = pseudo?.section;
        else {
          return fail([], `unsupported pseudo-variable '${name}' at position ${nameStart + 1}`, nameStart);
        }
      } else {
        value = lookupEnv(environ, name);
      }

      let asList = false;
      if (brace >= 0 && line[j] === '[') {
        if (line[j + 1] !== '*' || line[j + 2] !== ']') {
          return fail([], `truncated or invalid word expansion sequence at position ${j + 1}`, j);
        }
        asList = true;
        j += 3;
      }

      if (brace >= 0) {
        if (line[j] === '-') {
          // "${NAME-default}": the default only replaces an unset variable
          const close = line.indexOf('}', j + 1);
          if (close < 0) {
            return fail([], `unmatched brace in environment variable name at position ${brace + 1}`, brace);
          }
          if (value === undefined) value = line.slice(j + 1, close);
          j = close;
        } else if (line[j] !== '}') {
          return fail([], `unmatched brace in environment variable name at position ${brace + 1}`, brace);
        }
        j++; // skip '}'
      }
      i = j;

      const v = value ?? '';
      if (!asList) {
        cur += v;
      } else {
        const parts = v.split(/[ \t\n\v\f\r]+/);
        listExpanded = true;
        cur += parts[0]!;
        for (let k = 1; k < parts.length; k++) {
          endWord();
          listExpanded = true;
          cur += parts[k]!;
        }
      }
      continue;
    }

    cur += c;
    i++;
  }

  if (squote || dquote) {
    return fail([], `unmatched quote at position ${quotePos + 1}`, quotePos);
  }
  endWord();

  if (words.length > MAX_LINE_ARGS) {
    let pos = 1;
    for (let k = 0; k < MAX_LINE_ARGS - 1; k++) pos += words[k]!.length + 1;
    return fail(
      words.slice(0, MAX_LINE_ARGS),
      `too many words, truncating after word ${MAX_LINE_ARGS}, position ${pos}: <${words[MAX_LINE_ARGS - 1]}>`,
      undefined,
    );
  }

  return { words, warnings: [] };
}

/**
 * Make a line printable for an error report: non-printable characters become
 * '?', and lines longer than <width> are cut around <pos> with "..." marks.
 * Returns the text and the position of <pos> inside it.
 */
export function excerptForError(line: string, pos: number, width = 80): { text: string; pos: number } {
  const full = line.replace(/[^\x20-\x7e]/g, '?');
  const p = Math.max(0, Math.min(pos, full.length));
  if (full.length <= width) return { text: full, pos: p };
  let start = 0;
  if (p >= width - 3) start = p - Math.floor(width / 2);
  if (start + width > full.length) start = full.length - width;
  let text = full.slice(start, start + width);
  if (start > 0) text = '...' + text.slice(3);
  if (start + width < full.length) text = text.slice(0, -3) + '...';
  return { text, pos: p - start };
}
