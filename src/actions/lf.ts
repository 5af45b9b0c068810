// Formatted strings for actions (header values, redirect locations, return bodies, backend names):
// the one entry point rules use to compile a log-format string (configuration.txt 8.2.6) in the
// "http" style of src/log/format.ts (spaces kept, a missing sample prints nothing).
import type { SmpCtx } from '../sample/context.js';
import { compileFormat } from '../log/format.js';

export interface Lf {
  render(ctx: SmpCtx): string;
  /** the text has no directive: its value never changes */
  readonly isConst: boolean;
  readonly text: string;
}

export interface LfCtx {
  where: string;
  file?: string;
  proxyName?: string;
  use?: number;
  useLabel?: string;
  proxyMode?: 'tcp' | 'http';
}

/** Compiles a formatted string; throws an Error with the message on a syntax error. */
export function compileLf(text: string, cx: LfCtx, warn?: (m: string) => void): Lf {
  const r = compileFormat(text, { ...cx, style: 'http' });
  if (warn) for (const w of r.warnings) warn(w);
  if (r.error !== undefined) throw new Error(r.error);
  const fmt = r.fmt;
  return { text, isConst: fmt.isConstant, render: (ctx: SmpCtx) => fmt.render(ctx) };
}
