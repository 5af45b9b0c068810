// HAProxy-style messages on stderr: "[ALERT]    (pid) : <text>".
let quiet = false;
let pidForMessages = process.pid;

export function setQuiet(q: boolean): void { quiet = q; }
export function setMessagePid(pid: number): void { pidForMessages = pid; }

function emit(level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG', text: string, force = false): void {
  if (quiet && !force) return;
  const tag = `[${level}]`.padEnd(10, ' ');
  process.stderr.write(`${tag} (${pidForMessages}) : ${text}\n`);
}

export function logAlert(text: string): void { emit('ALERT', text, true); }
export function logWarning(text: string): void { emit('WARNING', text); }
export function logNotice(text: string): void { emit('NOTICE', text); }
export function logDiag(text: string): void { emit('DIAG', text); }
export function formatMessage(level: 'ALERT' | 'WARNING' | 'NOTICE' | 'DIAG', text: string): string {
  return `${`[${level}]`.padEnd(10, ' ')} (${pidForMessages}) : ${text}`;
}
