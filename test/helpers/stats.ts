// Reading `show stat` CSV answers in the statistics tests.

/** Rows of a CSV answer as maps column -> value, keyed "pxname/svname". */
export function parseStatsCsv(text: string): { header: string[]; rows: Map<string, Record<string, string>> } {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = lines[0]!.slice(2).split(',');
  const rows = new Map<string, Record<string, string>>();
  for (const l of lines.slice(1)) {
    const cells = l.split(',');
    const r: Record<string, string> = {};
    header.forEach((h, i) => { r[h] = cells[i] ?? ''; });
    rows.set(`${r.pxname}/${r.svname}`, r);
  }
  return { header, rows };
}

/**
 * The start of the statistics test configurations: maxconn 100, an admin stats socket on `sock`,
 * http defaults, frontend "fe" on 127.0.0.1:`fePort` sending to backend "be", and the "backend be"
 * line (its servers follow). Starts and ends with a newline.
 */
export function statsTestHead(sock: string, fePort: number): string {
  return `
global
  maxconn 100
  stats socket ${sock} level admin
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:${fePort}
  default_backend be
backend be
`;
}
