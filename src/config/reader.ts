// Configuration reader: files -> logical lines (tokenized words), with the
// conditional blocks (.if/.elif/.else/.endif) resolved and the reporting
// directives (.diag/.notice/.warning/.alert) turned into diagnostics
// (configuration.txt 2.1 to 2.4, management.txt "-f").
//
// Lines are produced lazily: a line is only tokenized when the consumer asks
// for it, so that environment changes made while handling a previous line
// (e.g. the "setenv" global keyword) are visible to the following ones.

import * as fs from 'node:fs';

import { evalCondition, CondError, type CondContext } from './cond.js';
import { excerptForError, tokenizeLine, type EnvMap } from './lexer.js';

export interface CfgLine {
  file: string;
  line: number;
  words: string[];
  raw: string;
}

export interface CfgDiag {
  level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG';
  file: string;
  line: number;
  msg: string;
}

export interface ReadConfigOptions {
  /**
   * Keywords starting a section; used to keep the ".SECTION" pseudo-variable
   * up to date (it takes the section's name, or its keyword when unnamed).
   */
  sectionKeywords?: readonly string[];
  /** Overrides the internal section tracking for ".SECTION". */
  getSection?: () => string;
}

/** Section keywords of HAProxy 3.2. */
export const SECTION_KEYWORDS: readonly string[] = [
  'global',
  'defaults',
  'frontend',
  'backend',
  'listen',
  'peers',
  'resolvers',
  'userlist',
  'mailers',
  'http-errors',
  'ring',
  'log-forward',
  'cache',
  'fcgi-app',
  'program',
  'crt-store',
  'traces',
  'acme',
];

/** Maximum nesting level of .if blocks. */
export const MAX_NESTED_CONDS = 128;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  EIO: 'Input/output error',
};

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && ERRNO_TEXT[err.code]) return ERRNO_TEXT[err.code]!;
  return err && typeof err.message === 'string' ? err.message : String(e);
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Expand the "-f" arguments into the list of files to load, in order. A
 * directory contributes its non-hidden regular "*.cfg" files (symlinks are
 * followed), sorted in byte order (LC_COLLATE=C). Throws an Error for a path
 * that cannot be found or read.
 */
export function listConfigFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw new Error(`Cannot open configuration file/directory ${p} : ${errnoText(e)}`);
    }
    if (!st.isDirectory()) {
      out.push(p);
      continue;
    }
    let names: string[];
    try {
      names = fs.readdirSync(p);
    } catch (e) {
      throw new Error(`Cannot open configuration directory ${p} : ${errnoText(e)}`);
    }
    names.sort(byteCompare);
    for (const name of names) {
      // hidden files are ignored, and the first ".cfg" must end the name
      if (name.startsWith('.')) continue;
      const ext = name.indexOf('.cfg');
      if (ext < 0 || ext + 4 !== name.length) continue;
      const full = `${p}/${name}`;
      let fst: fs.Stats;
      try {
        fst = fs.statSync(full);
      } catch (e) {
        throw new Error(`Cannot open configuration file ${full} : ${errnoText(e)}`);
      }
      if (!fst.isFile()) continue;
      out.push(full);
    }
  }
  return out;
}

/** State of one .if level. */
const enum Cond {
  IfTake,
  IfDrop, // condition false, an .elif/.else may still be taken
  IfSkip, // inside a masked block: nothing at this level is taken
  ElifTake,
  ElifDrop,
  ElifSkip,
  ElseTake,
  ElseDrop,
}

function isMasked(s: Cond): boolean {
  return s !== Cond.IfTake && s !== Cond.ElifTake && s !== Cond.ElseTake;
}

/** What to do after a line. */
const enum Flow {
  Next, // go on with the next line
  Stop, // stop this file (end-of-file checks still done), go on with the next file
  StopAll, // stop this file (end-of-file checks still done) and all the following ones
  Abort, // stop immediately, no end-of-file checks
}

const STRUCTURAL = new Set(['.if', '.elif', '.else', '.endif']);

function rawFirstWord(text: string): string {
  const m = /^[ \t\v\f]*([^ \t\v\f\r\n#]*)/.exec(text);
  return m ? m[1]! : '';
}

/**
 * Read the configuration files in order and yield their logical lines.
 * Diagnostics are reported through <onDiag>; the caller must treat any ALERT
 * as fatal. Throws an Error if a file cannot be read (all files are loaded
 * before the first line is produced).
 */
export function* readConfig(
  files: string[],
  ctx: CondContext,
  onDiag: (d: CfgDiag) => void,
  opts: ReadConfigOptions = {},
): Generator<CfgLine> {
  // load everything first, as a missing file must fail before any parsing
  const contents: string[] = [];
  for (const file of files) {
    try {
      contents.push(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`Could not open configuration file ${file} : ${errnoText(e)}`);
    }
  }

  const sectionKeywords = new Set(opts.sectionKeywords ?? SECTION_KEYWORDS);
  let section = '';
  const currentSection = (): string => (opts.getSection ? opts.getSection() : section);

  for (let f = 0; f < files.length; f++) {
    const file = files[f]!;
    const content = contents[f]!;
    const lines = content.split('\n');
    // a trailing LF leaves an empty last piece which is not a line
    const lastHasLF = lines.length > 0 && lines[lines.length - 1] === '';
    if (lastHasLF) lines.pop();

    const stack: Cond[] = [];
    let linenum = 0;
    let missingLF = -1; // length of an unterminated last line
    let flow: Flow = Flow.Next;

    const alert = (msg: string, line = linenum): void => onDiag({ level: 'ALERT', file, line, msg });

    const evalCond = (directive: string, words: string[]): boolean | null => {
      try {
        return evalCondition(words.slice(1), ctx);
      } catch (e) {
        if (!(e instanceof CondError)) throw e;
        const expr = words.slice(1).join(' ');
        const ex = excerptForError(expr, e.pos, 80 - directive.length - 1);
        alert(
          `${e.message} in '${directive}' at position ${e.pos + 1}:\n` +
            `  ${directive} ${ex.text}\n` +
            `  ${' '.repeat(directive.length + 1 + ex.pos)}^`,
        );
        return null;
      }
    };

    const tokenize = (text: string): string[] | null => {
      const env: EnvMap = ctx.env ?? process.env;
      const tok = tokenizeLine(text, env, { file, line: linenum, section: currentSection() });
      if (tok.error === undefined) return tok.words;
      if (tok.errorPos === undefined) {
        alert(`${tok.error}.`);
      } else {
        // show the line without its indentation, with a caret under the error
        let indent = 0;
        while (indent < text.length && /[ \t\v\f]/.test(text[indent]!)) indent++;
        const shown = text.slice(indent).replace(/[\r\n].*$/s, '');
        const ex = excerptForError(shown, tok.errorPos - indent);
        alert(`${tok.error}:\n  ${ex.text}\n  ${' '.repeat(ex.pos)}^`);
      }
      return null;
    };

    // .if/.elif/.else/.endif handling, shared by taken and masked blocks
    const structural = (words: string[]): Flow => {
      const kw = words[0]!;
      const top = stack.length > 0 ? stack[stack.length - 1]! : undefined;
      switch (kw) {
        case '.if': {
          if (stack.length + 1 >= MAX_NESTED_CONDS) {
            alert(`too many nested '.if', max is ${MAX_NESTED_CONDS}.`);
            return Flow.Abort;
          }
          if (top !== undefined && isMasked(top)) {
            stack.push(Cond.IfSkip);
            return Flow.Next;
          }
          const r = evalCond('.if', words);
          if (r === null) return Flow.Abort;
          stack.push(r ? Cond.IfTake : Cond.IfDrop);
          return Flow.Next;
        }
        case '.elif': {
          if (top === undefined) {
            alert(`lone '.elif' with no matching '.if'.`);
            return Flow.Abort;
          }
          if (top === Cond.ElseTake || top === Cond.ElseDrop) {
            alert(`'.elif' after '.else' is not permitted.`);
            return Flow.Abort;
          }
          if (top !== Cond.IfDrop && top !== Cond.ElifDrop) {
            stack[stack.length - 1] = Cond.ElifSkip;
            return Flow.Next;
          }
          const r = evalCond('.elif', words);
          if (r === null) return Flow.Abort;
          stack[stack.length - 1] = r ? Cond.ElifTake : Cond.ElifDrop;
          return Flow.Next;
        }
        case '.else': {
          if (words[1]) {
            alert(`Unexpected argument '${words[1]}' for '${kw}'.`);
            return Flow.StopAll;
          }
          if (top === undefined) {
            alert(`lone '.else' with no matching '.if'.`);
            return Flow.Abort;
          }
          if (top === Cond.ElseTake || top === Cond.ElseDrop) {
            alert(`'.else' after '.else' is not permitted.`);
            return Flow.Abort;
          }
          stack[stack.length - 1] = top === Cond.IfDrop || top === Cond.ElifDrop ? Cond.ElseTake : Cond.ElseDrop;
          return Flow.Next;
        }
        default: {
          // .endif
          if (words[1]) {
            alert(`Unexpected argument '${words[1]}' for '${kw}'.`);
            return Flow.StopAll;
          }
          if (top === undefined) {
            alert(`lone '.endif' with no matching '.if'.`);
            return Flow.StopAll;
          }
          stack.pop();
          return Flow.Next;
        }
      }
    };

    // .alert/.warning/.notice/.diag and unknown directives (taken blocks only)
    const reporting = (words: string[]): Flow => {
      const kw = words[0]!;
      const level =
        kw === '.alert'
          ? 'ALERT'
          : kw === '.warning'
            ? 'WARNING'
            : kw === '.notice'
              ? 'NOTICE'
              : kw === '.diag'
                ? 'DIAG'
                : null;
      if (level === null) {
        alert(`unknown directive '${kw}'.`);
        return Flow.Stop;
      }
      if (words[2]) {
        alert(`Unexpected argument '${words[2]}' for '${kw}'. Use quotes if the message should contain spaces.`);
        return Flow.Next;
      }
      onDiag({ level, file, line: linenum, msg: `'${words[1] ?? ''}'.` });
      return level === 'ALERT' ? Flow.Abort : Flow.Next;
    };

    let strayNul = -1; // position of a NUL byte found on the previous line

    for (let idx = 0; idx < lines.length; idx++) {
      if (strayNul >= 0) {
        // a NUL byte truncated the previous line: the file is not trusted further
        alert(`Stray NUL character at position ${strayNul + 1}.`);
        missingLF = -1;
        flow = Flow.Stop;
        break;
      }

      let text = lines[idx]!;
      linenum++;

      const nul = text.indexOf('\0');
      if (nul >= 0) {
        text = text.slice(0, nul);
        strayNul = nul;
        missingLF = nul;
      } else if (idx === lines.length - 1 && !lastHasLF) {
        missingLF = text.length;
      }

      const raw = text.endsWith('\r') ? text.slice(0, -1) : text;
      const top = stack.length > 0 ? stack[stack.length - 1]! : undefined;

      if (top !== undefined && isMasked(top)) {
        // masked block: only the block structure is followed, and lines are
        // tokenized only when really needed
        const first = rawFirstWord(text);
        if (!STRUCTURAL.has(first)) continue;
        let words: string[] | null;
        if (first === '.if' || (first === '.elif' && top !== Cond.IfDrop && top !== Cond.ElifDrop)) {
          words = [first];
        } else {
          words = tokenize(text);
          if (words === null || words.length === 0 || words[0] !== first) continue;
        }
        flow = structural(words);
        if (flow !== Flow.Next) break;
        continue;
      }

      const words = tokenize(text);
      if (words === null || words.length === 0 || words[0] === '') continue;

      if (words[0]!.startsWith('.')) {
        flow = STRUCTURAL.has(words[0]!) ? structural(words) : reporting(words);
        if (flow !== Flow.Next) break;
        continue;
      }

      yield { file, line: linenum, words, raw };

      if (sectionKeywords.has(words[0]!)) section = words[1] ? words[1] : words[0]!;
    }

    if (flow === Flow.Abort) return;

    if (missingLF >= 0) {
      alert(`Missing LF on last line, file might have been truncated at position ${missingLF + 1}.`);
    }
    if (stack.length > 0) {
      alert(`non-terminated '.if' block.`);
      return;
    }
    if (flow === Flow.StopAll) return;
  }
}
