// One runtime API conversation (management.txt 9.3): commands cut at unescaped ';' or LF,
// optional payloads, the three modes (non-interactive, interactive, prompt), one empty line
// after each answer, levels and severity prefixes. The session does not know about sockets:
// it reads text through feed()/endInput() and writes through a CliTransport, so that tests can
// drive it directly.
import { cliKeywords, type CliContext, type CliKeyword, type CliLevel } from '../registry/registry.js';
import type { Runtime } from '../proxy/runtime.js';
import {
  findCommandEnd, stripCR, splitWords, detectPayload, buildUsage, findKeyword, levelAllows,
} from './cli-parse.js';
import { formatPromptUptime } from './cli-format.js';
import type { SeverityOutput } from './cli-state.js';

export interface CliTransport {
  write(text: string): void;
  /** no more output: flush and close */
  end(): void;
  /** idle timeout for this connection, in milliseconds */
  setTimeout?(ms: number): void;
}

/** Interaction modes: one line then close, several commands, several commands with a prompt. */
export type CliMode = 'n' | 'i' | 'p';

/** What every command receives. Commands registered elsewhere may rely on `out` and `level`
 *  only (the registry's CliContext); the rest is for the commands of this module. */
export interface CliSessionContext extends CliContext {
  readonly rt: Runtime;
  readonly session: CliSession;
  /** informational feedback (gets the severity prefix when enabled); 6 = info */
  msg(text: string, severity?: number): void;
  /** error feedback (severity 3) */
  err(text: string): void;
}

/** syslog severity names (RFC 5424) for `severity-output string` */
const SEVERITY_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
export const SEV_ERR = 3;
export const SEV_INFO = 6;

export const TOO_BIG_MSG = 'The command is too big for the buffer size. Please change tune.bufsize in the configuration to use a bigger command.';
export const PERMISSION_DENIED = 'Permission denied';

interface PendingCommand {
  args: string[];
  payload?: string;
  /** ended by a line feed (not a semicolon) */
  lf: boolean;
}

interface PayloadState {
  args: string[];
  pattern: string;
  lines: string[];
}

export interface CliSessionOptions {
  level: CliLevel;
  severityOutput?: SeverityOutput;
  timeoutMs: number;
  /** longest command accepted without a delimiter */
  maxCommandBytes?: number;
  /** keywords to use (defaults to the registry) */
  keywords?: readonly CliKeyword[];
}

export class CliSession {
  readonly rt: Runtime;
  level: CliLevel;
  mode: CliMode = 'n';
  timed = false;
  severityOutput: SeverityOutput;
  timeoutMs: number;
  private readonly transport: CliTransport;
  private readonly keywords: readonly CliKeyword[];
  private readonly maxCommandBytes: number;
  private buf = '';
  private payload: PayloadState | undefined;
  private running = false;
  private closed = false;
  private inputEnded = false;
  private quitRequested = false;
  /** called once when the session closes */
  onClose: (() => void) | undefined;
  /** commands waiting for any input or the end of the session (show events -w) */
  private readonly interrupters = new Set<() => void>();

  /** Resolves on the next input from the client, or when the session ends ("any key to stop"). */
  waitInterrupt(): Promise<void> {
    if (this.closed || this.inputEnded) return Promise.resolve();
    return new Promise((resolve) => { this.interrupters.add(resolve); });
  }

  private interrupt(): void {
    if (!this.interrupters.size) return;
    const list = [...this.interrupters];
    this.interrupters.clear();
    for (const f of list) f();
  }

  /** Output for a command that goes on writing after it started (show events -w). */
  writeLive(text: string): void { this.write(text); }

  constructor(rt: Runtime, transport: CliTransport, opts: CliSessionOptions) {
    this.rt = rt;
    this.transport = transport;
    this.level = opts.level;
    this.severityOutput = opts.severityOutput ?? 'none';
    this.timeoutMs = opts.timeoutMs;
    this.keywords = opts.keywords ?? cliKeywords;
    this.maxCommandBytes = opts.maxCommandBytes ?? 16384;
  }

  get isClosed(): boolean { return this.closed; }

  /** Input from the client. Never throws. */
  feed(text: string): void {
    if (this.closed || !text) return;
    if (this.interrupters.size) { this.interrupt(); return; } // the key that stops a live dump
    this.buf += text;
    this.pump();
  }

  /** The client will send nothing more: answer what is complete, then close. */
  endInput(): void {
    if (this.closed) return;
    this.inputEnded = true;
    this.interrupt();
    this.pump();
  }

  /** `quit`: close without a prompt once the current command returns. */
  requestQuit(): void { this.quitRequested = true; }

  /** Switches mode as `prompt` does. In non-interactive mode the connection closes once the
   *  command ending the current line is answered. */
  setMode(m: CliMode): void {
    this.mode = m;
  }

  setTimeoutMs(ms: number): void {
    this.timeoutMs = ms;
    this.transport.setTimeout?.(ms);
  }

  /** Closes now (output written so far is still delivered). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.interrupt();
    this.buf = '';
    this.payload = undefined;
    try { this.transport.end(); } catch { /* already gone */ }
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.();
  }

  private write(text: string): void {
    if (this.closed || !text) return;
    try { this.transport.write(text); } catch { /* socket gone */ }
  }

  /** Feedback text: one trailing LF, optional "[severity]: " prefix. */
  private feedback(text: string, severity: number): void {
    let t = text.replace(/\n+$/, '');
    if (this.severityOutput === 'number') t = `[${severity}]: ${t}`;
    else if (this.severityOutput === 'string') t = `[${SEVERITY_NAMES[severity] ?? String(severity)}]: ${t}`;
    this.write(`${t}\n`);
  }

  private prompt(): string {
    if (this.mode !== 'p') return '\n';
    if (this.timed) return `\n[${formatPromptUptime((Date.now() - this.rt.startedAt) / 1000)}]> `;
    return '\n> ';
  }

  /** Runs complete commands in order; an asynchronous command holds the next ones back. */
  private pump(): void {
    if (this.running || this.closed) return;
    this.running = true;
    let async = false;
    try {
      while (!this.closed) {
        const cmd = this.nextCommand();
        if (!cmd) break;
        const p = this.execute(cmd);
        if (p) {
          async = true;
          p.then(() => {
            this.running = false;
            this.pump();
          }, () => {
            this.running = false;
            this.close();
          });
          return;
        }
      }
      if (!this.closed && this.inputEnded) this.close();
    } catch {
      this.close();
    } finally {
      if (!async) this.running = false;
    }
  }

  /** Extracts the next complete command from the input, or undefined when more is needed. */
  private nextCommand(): PendingCommand | undefined {
    for (;;) {
      if (this.payload) {
        const nl = this.buf.indexOf('\n');
        if (nl < 0) {
          if (this.buf.length > this.maxCommandBytes) this.tooBig();
          return undefined;
        }
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const p = this.payload;
        if (stripCR(line) === p.pattern) {
          this.payload = undefined;
          return { args: p.args, payload: p.lines.join('\n'), lf: true };
        }
        p.lines.push(line);
        if (p.lines.reduce((n, l) => n + l.length + 1, 0) > this.maxCommandBytes) { this.tooBig(); return undefined; }
        if (this.mode === 'p') this.write('+ ');
        continue;
      }
      const end = findCommandEnd(this.buf);
      if (end < 0) {
        if (this.buf.length > this.maxCommandBytes) this.tooBig();
        return undefined;
      }
      const text = stripCR(this.buf.slice(0, end));
      const lf = this.buf[end] === '\n';
      this.buf = this.buf.slice(end + 1);
      const pl = detectPayload(text);
      if (pl) {
        this.payload = { args: splitWords(pl.command), pattern: pl.pattern, lines: [] };
        if (this.mode === 'p') this.write('+ ');
        continue;
      }
      return { args: splitWords(text), lf };
    }
  }

  private tooBig(): void {
    this.feedback(TOO_BIG_MSG, SEV_ERR);
    this.close();
  }

  private context(): CliSessionContext {
    const self = this;
    return {
      get level() { return self.level; },
      set level(l: CliLevel) { self.level = l; },
      rt: this.rt,
      session: this,
      out: (text: string) => this.write(text),
      msg: (text: string, severity = SEV_INFO) => this.feedback(text, severity),
      err: (text: string) => this.feedback(text, SEV_ERR),
    };
  }

  /** Runs one command; returns a promise when the command is asynchronous. */
  private execute(cmd: PendingCommand): Promise<void> | undefined {
    const ctx = this.context();
    if (cmd.args.length > 0) {
      const kw = findKeyword(this.keywords, cmd.args);
      if (!kw) {
        ctx.msg(buildUsage(this.keywords, cmd.args, false));
      } else if (!levelAllows(this.level, kw.level)) {
        ctx.err(PERMISSION_DENIED);
      } else {
        let r: void | Promise<void> = undefined;
        try {
          r = kw.run(cmd.args, ctx, cmd.payload);
        } catch (e) {
          ctx.err(`Internal error: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (r instanceof Promise) {
          return r.then(
            () => this.finish(cmd),
            (e: unknown) => { ctx.err(`Internal error: ${e instanceof Error ? e.message : String(e)}`); this.finish(cmd); },
          );
        }
      }
    }
    this.finish(cmd);
    return undefined;
  }

  /** After an answer: the prompt (or the empty line), then maybe the end of the connection. */
  private finish(cmd: PendingCommand): void {
    if (this.closed) return;
    if (this.quitRequested) { this.close(); return; }
    this.write(this.prompt());
    if (cmd.lf && this.mode === 'n') this.close();
  }
}
