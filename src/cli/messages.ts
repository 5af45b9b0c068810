// HAProxy-style messages on stderr: "[ALERT]    (pid) : <text>".
let quiet = false;
let pidForMessages = process.pid;

export function setQuiet(q: boolean): void { quiet = q; }
export function setMessagePid(pid: number): void { pidForMessages = pid; }

/** Messages emitted while starting, for the runtime API's `show startup-logs` (bounded). */
const startupLog: string[] = [];
let startupBytes = 0;
let recordingStartup = true;
const STARTUP_LOG_MAX = 64 * 1024;

/** Start-up is over: later messages are not kept for `show startup-logs`. */
export function endStartupLog(): void { recordingStartup = false; }
export function startupLogText(): string { return startupLog.join(''); }

function emit(level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG', text: string, force = false): void {
  const tag = `[${level}]`.padEnd(10, ' ');
  const line = `${tag} (${pidForMessages}) : ${text}\n`;
  if (recordingStartup && startupBytes + line.length <= STARTUP_LOG_MAX) { startupLog.push(line); startupBytes += line.length; }
  if (quiet && !force) return;
  process.stderr.write(line);
}

export function logAlert(text: string): void { emit('ALERT', text, true); }
export function logWarning(text: string): void { emit('WARNING', text); }
export function logNotice(text: string): void { emit('NOTICE', text); }
export function logDiag(text: string): void { emit('DIAG', text); }
export function formatMessage(level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG', text: string): string {
  return `${`[${level}]`.padEnd(10, ' ')} (${pidForMessages}) : ${text}`;
}
