// Small helpers shared by the runtime API command modules (cli-sessions, cli-proxies, cli-misc).
import type { CliContext } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import type { CliSession, CliSessionContext } from './cli-session.js';
import { cliRuntime } from './cli-state.js';

export function sessionCtx(ctx: CliContext): CliSessionContext | undefined {
  return 'session' in ctx ? (ctx as CliSessionContext) : undefined;
}

/** Feedback message (severity info), one trailing LF. */
export function ctxMsg(ctx: CliContext, text: string): void {
  const s = sessionCtx(ctx);
  if (s) s.msg(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}

/** Error feedback (severity err), one trailing LF. */
export function ctxErr(ctx: CliContext, text: string): void {
  const s = sessionCtx(ctx);
  if (s) s.err(text); else ctx.out(text.endsWith('\n') ? text : `${text}\n`);
}

/** The Runtime, or undefined after printing why there is none. */
export function ctxRuntime(ctx: CliContext): Runtime | undefined {
  const rt = sessionCtx(ctx)?.rt ?? cliRuntime();
  if (!rt) ctxErr(ctx, 'No running process to act on.');
  return rt;
}

/** Per-connection modes toggled by `expert-mode` and `experimental-mode`. */
export interface SessionModes { expert: boolean; experimental: boolean }
const modes = new WeakMap<object, SessionModes>();

export function modesOf(ctx: CliContext): SessionModes {
  const key: object = sessionCtx(ctx)?.session ?? ctx;
  let m = modes.get(key);
  if (!m) { m = { expert: false, experimental: false }; modes.set(key, m); }
  return m;
}

/** Lowering the level drops both modes (management.txt, `operator` and `user`). */
export function dropModes(session: CliSession | undefined): void {
  if (!session) return;
  const m = modes.get(session);
  if (m) { m.expert = false; m.experimental = false; }
}
