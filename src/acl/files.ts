// Pattern and map files (configuration.txt 2.7 and 7.1): one pattern per line, or for maps a key
// and a value separated by blanks. Leading blanks are skipped, empty lines and lines starting
// with '#' are comments.
import fs from 'node:fs';
import type { PatternRef } from './pattern.js';

/** Splits a map line into key and value; the value is the rest of the line after blanks. */
export function splitMapLine(line: string): { key: string; value: string } | undefined {
  let i = 0;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  if (i === line.length || line[i] === '#') return undefined;
  let j = i;
  while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
  const key = line.slice(i, j);
  let k = j;
  while (k < line.length && (line[k] === ' ' || line[k] === '\t')) k++;
  let end = line.length;
  while (end > k && (line[end - 1] === ' ' || line[end - 1] === '\t' || line[end - 1] === '\r')) end--;
  return { key, value: line.slice(k, end) };
}

/** Parses the text of a pattern file (isMap false) or map file into entries. */
export function parsePatternText(text: string, isMap: boolean): { key: string; value: string | undefined; line: number }[] {
  const out: { key: string; value: string | undefined; line: number }[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (isMap) {
      const kv = splitMapLine(line);
      if (kv) out.push({ key: kv.key, value: kv.value, line: n + 1 });
      continue;
    }
    let i = 0;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i === line.length || (i === 0 && line[0] === '#')) continue;
    // trailing blanks are kept: they are part of the pattern (a CR ends the line)
    const cr = line.indexOf('\r', i);
    const key = line.slice(i, cr >= 0 ? cr : line.length);
    if (key) out.push({ key, value: undefined, line: n + 1 });
  }
  return out;
}

/**
 * Loads a file into a ref (only when the ref is still empty: a file named twice is read once).
 * Throws an Error with HAProxy's wording when the file cannot be read.
 */
export function loadPatternFile(ref: PatternRef, path: string, isMap: boolean): void {
  if (ref.loaded) return;
  let text: string;
  try {
    text = fs.readFileSync(path, 'latin1');
  } catch (e) {
    throw new Error(`failed to open pattern file <${path}>`);
  }
  for (const e of parsePatternText(text, isMap)) ref.add(e.key, e.value);
  ref.loaded = true;
}
