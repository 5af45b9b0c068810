// Parsing of HAProxy's time and size units (configuration.txt 2.5).

/** Parses a time value; the default unit is `defUnit` ("ms" for most keywords).
 *  Returns milliseconds, or an error string. */
export function parseTime(text: string, defUnit: 'ms' | 's' = 'ms'): number | string {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!m) {
    if (/^\d+/.test(text)) return `unexpected character '${text.replace(/^\d+/, '')[0]}' in time value '${text}'`;
    return `'${text}' is not a valid time value`;
  }
  const n = Number(m[1]);
  const unit = m[2] ?? defUnit;
  let ms: number;
  switch (unit) {
    case 'us': ms = Math.ceil(n / 1000); break;
    case 'ms': ms = n; break;
    case 's': ms = n * 1000; break;
    case 'm': ms = n * 60_000; break;
    case 'h': ms = n * 3_600_000; break;
    default: ms = n * 86_400_000; break;
  }
  if (ms > 2147483647) return `timer overflow in argument '${text}' (maximum value is 2147483647 ms or ~24.8 days)`;
  return ms;
}

/** Parses a size with an optional k/m/g suffix (powers of 1024). */
export function parseSize(text: string): number | string {
  const m = /^(\d+)([kKmMgG])?$/.exec(text);
  if (!m) return `'${text}' is not a valid size`;
  let n = Number(m[1]);
  switch ((m[2] ?? '').toLowerCase()) {
    case 'k': n *= 1024; break;
    case 'm': n *= 1024 * 1024; break;
    case 'g': n *= 1024 * 1024 * 1024; break;
  }
  return n;
}

/** Strict unsigned integer parsing: digits only. */
export function parseUint(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Levenshtein distance, used for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Returns the closest candidate to `word` if it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) { bestD = d; best = c; }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}
