// Actions of the TCP rule sets (configuration.txt 4.4) that the common and HTTP modules do not
// provide: `expect-proxy layer4` (tcp-request connection), and the client-socket marks
// `set-fc-tos`, `set-fc-mark` with their deprecated aliases `set-tos`, `set-mark`.
// `switch-mode http [proto h1]` (tcp-request content) upgrades a TCP stream to HTTP.
// `expect-netscaler-cip layer4` is not registered: the NetScaler Client IP header format is not
// documented in full in configuration.txt.
import './common-actions.js';
import './http-actions.js';
import { registerAction, Act, type ActionParseCtx, type RuleSetKind, type RuleHost } from './rules.js';
import { parseSampleExpr } from '../sample/expr.js';
import { canCast, cast, intNum } from '../sample/types.js';
import type { SmpCtx } from '../sample/context.js';

declare module './rules.js' {
  interface RuleHost {
    /**
     * expect-proxy layer4: the connection must start with a PROXY protocol header, read before
     * anything else (as with accept-proxy on the bind line).
     */
    expectProxy?(): void;
    /**
     * switch-mode http: the TCP stream becomes an HTTP one once this rule set stops (the
     * following tcp-request content rules are not evaluated). `proto` is the forced protocol.
     */
    switchMode?(proto: 'h1' | undefined): void;
  }
}

/** Where set-fc-tos / set-fc-mark / set-tos / set-mark are allowed (action matrix, 4.3). */
const FC_SETS: readonly RuleSetKind[] = [
  'tcp-request connection', 'tcp-request session', 'tcp-request content', 'tcp-response content',
  'http-request', 'http-response',
];

registerAction({
  name: 'expect-proxy', sets: ['tcp-request connection'],
  parse(words) {
    if (words[1] !== 'layer4') return `expects 'layer4'`;
    if (words.length > 2) return `unexpected argument '${words[2]}'`;
    return {
      name: 'expect-proxy',
      run(h: RuleHost) { h.expectProxy?.(); return Act.CONT; },
    };
  },
});

/** A decimal, hexadecimal (0x) or octal (leading 0) integer, as strtol with base 0 reads it. */
function parseCInt(w: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(w)) return parseInt(w.slice(2), 16);
  if (/^0[0-7]*$/.test(w)) return parseInt(w, 8);
  if (/^[1-9][0-9]*$/.test(w)) return Number(w);
  return undefined;
}

/** `<value> | <expr>`: a constant or an expression of integer type, evaluated per stream. */
function intOrExpr(word: string, pc: ActionParseCtx): ((ctx: SmpCtx) => number | undefined) | string {
  const n = parseCInt(word);
  if (n !== undefined) return () => n;
  const e = parseSampleExpr(word, { where: pc.where, proxyName: pc.px.name, file: pc.file, use: pc.use, useLabel: pc.useLabel });
  if (!canCast(e.out, 'sint')) return `expression '${word}' does not return an integer`;
  return (ctx) => {
    const s = e.eval(ctx);
    const c = s && cast(s, 'sint');
    if (!c) return undefined;
    const v = intNum(c.v);
    return Number.isFinite(v) ? v : undefined;
  };
}

function sockOptAction(name: 'set-fc-tos' | 'set-fc-mark' | 'set-tos' | 'set-mark' | 'set-bc-tos' | 'set-bc-mark'): void {
  const bc = name.startsWith('set-bc-');
  const what = bc ? (name.endsWith('tos') ? 'bc-tos' : 'bc-mark') : (name.endsWith('tos') ? 'fc-tos' : 'fc-mark');
  registerAction({
    // the backend connection's options: tcp-request content and http-request only (4.3)
    name, sets: bc ? ['tcp-request content', 'http-request'] : FC_SETS,
    parse(words, pc) {
      if (words.length !== 2) return `expects exactly one argument (a value or an expression)`;
      const get = intOrExpr(words[1]!, pc);
      if (typeof get === 'string') return get;
      return {
        name,
        run(h) {
          const v = get(h.ctx);
          // TOS is one byte of the IP header, a mark an unsigned 32-bit value: wider values wrap
          if (v !== undefined) h.setSockOpt?.(what, what.endsWith('tos') ? v & 0xff : v >>> 0);
          return Act.CONT;
        },
      };
    },
  });
}
sockOptAction('set-fc-tos');
sockOptAction('set-fc-mark');
sockOptAction('set-tos');
sockOptAction('set-mark');
sockOptAction('set-bc-tos');
sockOptAction('set-bc-mark');

registerAction({
  name: 'switch-mode', sets: ['tcp-request content'],
  parse(words, pc) {
    const mode = words[1];
    if (mode === undefined) return `expects a mode as argument`;
    if (mode !== 'http') return `expects a valid mode (got '${mode}')`;
    let proto: 'h1' | undefined;
    let i = 2;
    if (words[i] === 'proto') {
      const p = words[i + 1];
      if (p === undefined) return `'proto' expects a protocol as argument`;
      if (p === 'h2') return `'proto h2' is not supported yet`;
      if (p !== 'h1') return `'proto' expects a valid MUX protocol, if specified (got '${p}')`;
      proto = 'h1';
      i += 2;
    }
    if (words.length > i) return `unexpected argument '${words[i]}' (only 'if' or 'unless' may follow)`;
    if (pc.px.kind === 'backend') return `not allowed because backend '${pc.px.name}' has no frontend capability`;
    return {
      name: 'switch-mode',
      run(h: RuleHost) {
        // on an HTTP stream there is nothing to upgrade: the content rules just stop here
        if (!h.http) h.switchMode?.(proto);
        return Act.STOP;
      },
    };
  },
});
