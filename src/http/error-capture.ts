// The last invalid request (per frontend) and invalid response (per backend), kept with the
// position of the error, and the runtime API's `show errors` that dumps them (management.txt).
import { registerCli, type CliContext } from '../registry/registry.js';
import { cliRuntime } from '../ops/cli-state.js';
import type { Proxy } from '../proxy/proxy.js';
import type { Server } from '../proxy/server.js';

export interface CapturedError {
  when: number;
  kind: 'request' | 'response';
  /** the proxy that caught it (frontend for requests, backend for responses) */
  proxy: Proxy;
  /** the other side: backend for requests, frontend for responses */
  other: Proxy | undefined;
  server: Server | undefined;
  event: number;
  src: string;
  srcPort: number;
  /** a copy of the message as it was when the error was found, bounded */
  buf: Buffer;
  len: number;
  pos: number;
}

/** The stream fields a capture needs (HttpStream provides them). */
export interface CaptureSource {
  fe: Proxy;
  be: Proxy | undefined;
  server: Server | undefined;
  src: string;
  srcPort: number;
}

const MAX_CAPTURE = 16384;
const captures = new Map<string, CapturedError>();
let events = 0;

export function captureError(st: CaptureSource, kind: 'request' | 'response', buf: Buffer | undefined, pos: number): void {
  const proxy = kind === 'request' ? st.fe : st.be;
  if (!proxy) return;
  const b = buf ?? Buffer.alloc(0);
  captures.set(`${proxy.id}:${kind}`, {
    when: Date.now(), kind, proxy, other: kind === 'request' ? st.be : st.fe, server: st.server,
    event: events++, src: st.src, srcPort: st.srcPort,
    buf: Buffer.from(b.subarray(0, MAX_CAPTURE)), len: b.length, pos,
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** "[30/Nov/2026:20:42:49.739]" in local time, as HAProxy prints dates. */
export function bracketDate(ms: number): string {
  const d = new Date(ms);
  return `[${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}]`;
}

/** One byte for the dump: printable as is, \t \n \r \e \\ as letters, others as \xNN. */
function escByte(c: number): string {
  if (c === 9) return '\\t';
  if (c === 10) return '\\n';
  if (c === 13) return '\\r';
  if (c === 27) return '\\e';
  if (c === 92) return '\\\\';
  if (c >= 32 && c < 127) return String.fromCharCode(c);
  return `\\x${c.toString(16).padStart(2, '0')}`;
}

/**
 * The buffer dump: one input line per output line, prefixed with its offset; lines too long for
 * 79 columns continue on the next output line with a '+' after the offset.
 */
export function dumpBuffer(buf: Buffer): string {
  const WIDTH = 79 - 2 - 5 - 2; // indent, offset, separator
  let out = '';
  let i = 0;
  let cont = false;
  while (i < buf.length) {
    let line = '';
    const start = i;
    while (i < buf.length) {
      const e = escByte(buf[i]!);
      if (line.length + e.length > WIDTH) break;
      line += e;
      i++;
      if (buf[i - 1] === 10) break;
    }
    out += `  ${String(start).padStart(5, '0')}${cont ? '+' : ' '} ${line}\n`;
    cont = i < buf.length && buf[i - 1] !== 10;
  }
  return out;
}

function describe(c: CapturedError): string {
  const name = (p: Proxy | undefined): string => (p ? `${p.name} (#${p.id})` : '<NONE> (#-1)');
  const srv = c.server ? `${c.server.name} (#${c.server.puid})` : '<NONE> (#-1)';
  const head = c.kind === 'request'
    ? `${bracketDate(c.when)} frontend ${name(c.proxy)}: invalid request\n  backend ${name(c.other)}, server ${srv}, event #${c.event}, src ${c.src}:${c.srcPort}\n`
    : `${bracketDate(c.when)} backend ${name(c.proxy)}: invalid response\n  frontend ${name(c.other)}, server ${srv}, event #${c.event}, src ${c.src}:${c.srcPort}\n`;
  return head +
    `  buffer starts at 0 (including 0 out), ${Math.max(0, MAX_CAPTURE - c.len)} free,\n` +
    `  len ${c.len}, wraps at ${MAX_CAPTURE}, error at position ${c.pos}\n` +
    '  \n' + dumpBuffer(c.buf);
}

/** The text of `show errors [<iid>|<proxy>] [request|response]`, or an error message. */
export function showErrors(proxies: readonly Proxy[], args: string[]): { text: string } | { error: string } {
  let id = -1;
  let kind: 'request' | 'response' | undefined;
  let rest = args;
  if (rest[0] !== undefined && rest[0] !== 'request' && rest[0] !== 'response') {
    const w = rest[0]!;
    if (/^-?\d+$/.test(w)) id = Number(w);
    else {
      const px = proxies.find((p) => p.name === w);
      if (!px) return { error: 'No such proxy.' };
      id = px.id;
    }
    rest = rest.slice(1);
  }
  if (rest[0] === 'request' || rest[0] === 'response') kind = rest[0];
  const list = [...captures.values()]
    .filter((c) => (id === -1 || c.proxy.id === id) && (!kind || c.kind === kind))
    .sort((a, b) => a.event - b.event);
  let text = `Total events captured on ${bracketDate(Date.now())} : ${events}\n`;
  for (const c of list) text += ' \n' + describe(c);
  return { text: text + '\n' };
}

registerCli({
  words: ['show', 'errors'],
  usage: 'show errors [<px>] [request|response]',
  help: 'report last request and/or response errors for each proxy',
  level: 'operator',
  run(args: string[], ctx: CliContext) {
    const rt = cliRuntime();
    const r = showErrors(rt ? rt.proxies : [], args.slice(2));
    ctx.out('error' in r ? `${r.error}\n` : r.text);
  },
});
