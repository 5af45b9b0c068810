// The haproxy-ts command line: HAProxy's flags (management.txt section 3), start-up, signals.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import '../config/global-keywords.js';
import '../proxy/keywords.js';
import '../http/keywords.js';
import { setPoolBudget } from '../proxy/conn-pool.js';
import '../http/errors.js';
import '../proxy/userlist.js';
import '../log/config.js';
import { startLogForwarders } from '../log/emit.js';
import '../log/cli-events.js';
import '../log/actions.js';
import '../checks/config.js';
import '../checks/protocols.js';
import '../checks/mailers.js';
import '../checks/observe.js';
import '../checks/track.js';
import '../checks/external.js';
import { applyServerStateFile } from '../checks/state-file.js';
import '../proxy/server-keywords.js';
import '../proxy/cookie.js';
import '../net/bind-keywords.js';
import '../ops/cli.js';
import '../actions/index.js';
import '../ops/prometheus.js';
import { parseConfigFiles, resolveServerNames, type Diagnostic } from '../config/parser.js';
import { listConfigFiles } from '../config/reader.js';
import { evalConditionText, CondError, type CondContext } from '../config/cond.js';
import { dumpKeywords } from '../registry/registry.js';
import { Runtime } from '../proxy/runtime.js';
import { sockopt } from '../net/sockopt.js';
import { startStatsSockets } from '../ops/cli.js';
import { HAPROXY_VERSION, hasFeature, ENABLED_OPTIONS, versionText, versionVerbose } from './version.js';
import { logAlert, logNotice, logWarning, setQuiet, formatMessage } from './messages.js';

export interface Options {
  files: string[];
  check: boolean;
  condition?: string;
  debug: boolean;
  daemon: boolean;
  foreground: boolean;
  pidfile?: string;
  quiet: boolean;
  verbose: boolean;
  dumpKeywords?: string;
  softStopPids: number[];
  hardStopPids: number[];
  masterWorker: boolean;
  masterCli: string[];
  maxconn?: number;
  zeroWarning: boolean;
  chdir?: string;
  localPeer?: string;
}

const USAGE = `Usage : haproxy-ts [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ]
        [ -p <pidfile> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -W master-worker mode (accepted; one process runs for now).
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections (uses ulimit -n)
        -dK{class[,...]} dump registered keywords (use 'help' for list)
        -dW fails if any warning is emitted
        -sf/-st [pid ]* finishes/terminates old pids.
`;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`[ALERT]    (${process.pid}) : ${msg}\n`);
  process.stderr.write(versionText() + USAGE);
  process.exit(1);
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    files: [], check: false, debug: false, daemon: false, foreground: false, quiet: false, verbose: false,
    softStopPids: [], hardStopPids: [], masterWorker: false, masterCli: [], zeroWarning: false,
  };
  let i = 0;
  const next = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) usage(`option '${flag}' requires an argument.`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { o.files.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('-') || a === '-') usage(`unexpected argument '${a}'.`);
    if (a === '-f') { o.files.push(next(a)); continue; }
    if (a.startsWith('-f') && a.length > 2) { o.files.push(a.slice(2)); continue; }
    if (a === '-c') { o.check = true; continue; }
    if (a === '-cc') { o.condition = argv.slice(i + 1).join(' '); break; }
    if (a === '-d') { o.debug = true; o.foreground = true; continue; }
    if (a === '-db') { o.foreground = true; continue; }
    if (a === '-dW') { o.zeroWarning = true; continue; }
    if (a.startsWith('-dK')) { o.dumpKeywords = a.slice(3) || 'help'; continue; }
    if (a === '-D') { o.daemon = true; continue; }
    if (a === '-p') { o.pidfile = next(a); continue; }
    if (a === '-q') { o.quiet = true; continue; }
    if (a === '-V') { o.verbose = true; o.quiet = false; continue; }
    if (a === '-v') { process.stdout.write(versionText()); process.exit(0); }
    if (a === '-vv') { process.stdout.write(versionVerbose()); process.exit(0); }
    if (a === '-W' || a === '-Ws') { o.masterWorker = true; continue; }
    if (a === '-S') { o.masterCli.push(next(a)); continue; }
    if (a === '-n') { const n = Number(next(a)); if (!Number.isInteger(n) || n < 1) usage(`-n expects a positive integer.`); o.maxconn = n; continue; }
    if (a === '-N') { next(a); continue; }
    if (a === '-C') { o.chdir = next(a); continue; }
    if (a === '-L') { o.localPeer = next(a); continue; }
    if (a === '-sf' || a === '-st') {
      const list = a === '-sf' ? o.softStopPids : o.hardStopPids;
      while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1]!)) list.push(Number(argv[++i]));
      continue;
    }
    if (a === '-x') usage(`'-x' (socket transfer from an old process) is not supported yet by haproxy-ts.`);
    usage(`unknown option '${a}'.`);
  }
  return o;
}

export function condContext(): CondContext {
  return { version: HAPROXY_VERSION, hasFeature, isEnabled: (opt) => ENABLED_OPTIONS.has(opt) };
}

function printDiag(d: Diagnostic): void {
  const text = d.where && d.where.file && !/^parsing \[|^Parsing \[/.test(d.msg)
    ? `config : parsing [${d.where.file}:${d.where.line}] : ${d.msg}`
    : `config : ${d.msg}`;
  if (d.level === 'ALERT') logAlert(text);
  else if (d.level === 'WARNING') logWarning(text);
  else if (d.level === 'NOTICE') logNotice(text);
  else process.stderr.write(formatMessage('DIAG', text) + '\n');
}

export async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  setQuiet(o.quiet);
  if (o.condition !== undefined) {
    try {
      process.exit(evalConditionText(o.condition, condContext()) ? 0 : 1);
    } catch (e) {
      logNotice(`haproxy-ts version is ${HAPROXY_VERSION}`);
      logAlert(`config : Failed to evaluate condition: ${e instanceof CondError ? e.message : String(e)}`);
      process.exit(2);
    }
  }
  if (o.dumpKeywords !== undefined) {
    const classes = o.dumpKeywords.split(',');
    if (classes.includes('help')) {
      process.stdout.write('The following classes are supported:\n  all: list all keywords\n  acl: ACL keywords\n  cfg: configuration keywords\n  cli: CLI keywords\n  cnv: sample converter keywords\n  flt: filter names\n  smp: sample fetch functions\n  svc: service names\n');
      process.exit(0);
    }
    process.stdout.write(dumpKeywords(classes));
    if (o.files.length === 0) process.exit(0);
  }
  if (o.chdir) process.chdir(o.chdir);
  if (o.files.length === 0) usage('No configuration file specified.');
  if (o.masterCli.length) logWarning(`'-S' master CLI is not available yet: haproxy-ts runs a single process; use 'stats socket' in the global section.`);

  let files: string[];
  try {
    files = listConfigFiles(o.files);
  } catch (e) {
    logNotice(`haproxy-ts version is ${HAPROXY_VERSION}`);
    logAlert(`config : ${(e as Error).message}`);
    logAlert(`config : Fatal errors found in configuration.`);
    process.exit(1);
  }
  const res = parseConfigFiles(files, condContext());
  let fatal = res.fatal;
  if (!fatal) fatal = !(await resolveServerNames(res.config, res.diags));
  if (fatal) logNotice(`haproxy version is ${HAPROXY_VERSION} (haproxy-ts)`);
  for (const d of res.diags) printDiag(d);
  const warned = res.diags.some((d) => d.level === 'WARNING');
  if (fatal) {
    logAlert(`config : Fatal errors found in configuration.`);
    process.exit(1);
  }
  if (o.zeroWarning && warned) {
    logAlert(`config : Some warnings were found and 'zero-warning' is set. Aborting.`);
    process.exit(1);
  }
  const config = res.config;
  const hasListener = config.proxies.some((p) => (p.kind === 'frontend' || p.kind === 'listen') && !p.disabled && p.binds.length > 0);
  if (!hasListener && config.global.statsSockets.length === 0 && !config.global.logForwards?.length) {
    if (!o.check) {
      logAlert(`[haproxy-ts.main()] No enabled listener found (check for 'bind' directives) ! Exiting.`);
      process.exit(1);
    }
  }
  if (o.check) {
    if (!o.quiet) process.stdout.write('Configuration file is valid\n');
    process.exit(0);
  }
  if (config.global.quiet) setQuiet(true);

  const daemon = (o.daemon || config.global.daemon) && !o.foreground;
  if (daemon && process.env.HAPROXY_TS_DAEMON_CHILD !== '1') {
    await daemonize(argv, o.pidfile ?? config.global.pidfile);
    return;
  }
  await run(o, config);
}

/** Re-launches this command detached, waits for it to report its start, then exits. */
async function daemonize(argv: string[], pidfile: string | undefined): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, HAPROXY_TS_DAEMON_CHILD: '1' },
  });
  let errText = '';
  child.stderr!.on('data', (d: Buffer) => { errText += d.toString(); process.stderr.write(d); });
  const code = await new Promise<number>((resolve) => {
    child.once('message', (m) => resolve(m === 'ready' ? 0 : 1));
    child.once('exit', (c) => resolve(c ?? 1));
  });
  if (code === 0) {
    if (pidfile) fs.writeFileSync(pidfile, `${child.pid}\n`);
    child.stderr!.destroy();
    child.disconnect();
    child.unref();
    process.exit(0);
  }
  if (!errText) logAlert('daemon failed to start.');
  process.exit(code || 1);
}

function signalPids(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try { process.kill(pid, sig); } catch { /* already gone */ }
  }
}

/** The file descriptor limit (soft, hard), from the addon or /proc. */
function fdLimits(): [number, number] | undefined {
  if (sockopt) { try { return sockopt.getNofileLimit(); } catch { /* fall through */ } }
  try {
    const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return [m[1] === 'unlimited' ? Infinity : Number(m[1]), m[2] === 'unlimited' ? Infinity : Number(m[2])];
  } catch { /* not Linux */ }
  return undefined;
}

/**
 * Makes sure the process may open the file descriptors its configuration needs (ulimit-n, or two
 * per connection of maxconn plus the listeners), as HAProxy does. With strict-limits (the
 * default) a limit that cannot be raised fails the start-up; otherwise it is a warning.
 */
function applyFdLimit(config: import('../config/model.js').Config, maxconn: number): void {
  const g = config.global;
  const listeners = config.proxies.reduce((n, p) => n + p.binds.length, 0) + g.statsSockets.length;
  const needed = g.ulimitN || maxconn * 2 + listeners + 10;
  const cur = fdLimits();
  if (cur && cur[0] >= needed && !g.ulimitN) return;
  let err: string | undefined;
  if (sockopt) {
    try { sockopt.setNofileLimit(needed); } catch (e) { err = (e as Error).message; }
  } else if (!cur || cur[0] < needed) {
    err = 'the native addon that sets it is not available';
  }
  if (err === undefined) return;
  const msg = `[haproxy-ts.main()] Cannot raise FD limit to ${needed}, limit is ${cur ? cur[0] : 'unknown'} (${err}).`;
  if (g.strictLimits) { logAlert(msg); process.exit(1); }
  logWarning(msg);
}

async function run(o: Options, config: import('../config/model.js').Config): Promise<void> {
  const rt = new Runtime(config, { maxconnOverride: o.maxconn, debug: o.debug });
  // server-state-file: saved states applied before any check runs or traffic comes
  applyServerStateFile(rt);
  applyFdLimit(config, rt.maxconn);
  const lim = fdLimits();
  if (lim && Number.isFinite(lim[0])) {
    setPoolBudget(lim[0], config.global.poolLowFdRatio, config.global.poolHighFdRatio,
      () => rt.curConns + rt.heldTotal + rt.listeners.length + 16);
  }
  const oldPids = [...o.softStopPids, ...o.hardStopPids];
  try {
    await rt.bindAll();
  } catch (e) {
    if (oldPids.length === 0) throw bindFailure(e);
    // The old process still holds the ports: ask it to release them (SIGTTOU), bind, and
    // give them back (SIGTTIN) if we fail (management.txt section 4).
    signalPids(oldPids, 'SIGTTOU');
    let ok = false;
    for (let attempt = 0; attempt < 20 && !ok; attempt++) {
      await new Promise((r) => setTimeout(r, 50));
      try { await rt.bindAll(); ok = true; } catch { /* retry */ }
    }
    if (!ok) {
      signalPids(oldPids, 'SIGTTIN');
      try { await rt.bindAll(); } catch (e2) { throw bindFailure(e2); }
    }
  }
  try {
    await startStatsSockets(rt);
    rt.addStopHook(await startLogForwarders());
  } catch (e) {
    throw bindFailure(e);
  }
  signalPids(o.softStopPids, 'SIGUSR1');
  signalPids(o.hardStopPids, 'SIGTERM');
  const pidfile = o.pidfile ?? config.global.pidfile;
  const isDaemonChild = process.env.HAPROXY_TS_DAEMON_CHILD === '1';
  if (pidfile && !isDaemonChild) {
    try { fs.writeFileSync(pidfile, `${process.pid}\n`); } catch (e) {
      logAlert(`[haproxy-ts.main()] Cannot create pidfile ${pidfile}: ${(e as Error).message}`);
      process.exit(1);
    }
  }
  if (config.global.chroot && sockopt) {
    try { sockopt.chrootTo(config.global.chroot); } catch (e) {
      logAlert(`[haproxy-ts.main()] Cannot chroot(${config.global.chroot}): ${(e as Error).message}`);
      process.exit(1);
    }
  }
  dropPrivileges(config);
  process.on('SIGUSR1', () => rt.softStop());
  process.on('SIGTERM', () => rt.hardStop());
  process.on('SIGINT', () => rt.hardStop());
  process.on('SIGTTOU', () => rt.pauseListeners());
  process.on('SIGTTIN', () => { void rt.resumeListeners(); });
  setInterval(() => { /* keeps the process alive while every listener is paused (SIGTTOU); exit is explicit */ }, 1 << 30);
  process.on('SIGHUP', () => { /* log rotation hook: nothing to reopen yet */ });
  process.on('uncaughtException', (e) => rt.internalError(e));
  process.on('unhandledRejection', (e) => rt.internalError(e));
  if (isDaemonChild && process.send) {
    process.send('ready');
    process.disconnect?.();
    process.stderr.write = (() => true) as typeof process.stderr.write;
  }
  if (o.debug) process.stderr.write(`haproxy-ts ${HAPROXY_VERSION} started, pid ${process.pid}, ${rt.listeners.length} listener(s)\n`);
}

function bindFailure(e: unknown): never {
  for (const line of String((e as Error).message ?? e).split('\n')) logAlert(line);
  process.exit(1);
}

function dropPrivileges(config: import('../config/model.js').Config): void {
  const g = config.global;
  try {
    if (g.gid !== undefined && process.setgid) process.setgid(g.gid);
    if (g.uid !== undefined && process.setuid) process.setuid(g.uid);
  } catch (e) {
    logAlert(`[haproxy-ts.main()] Cannot set uid/gid: ${(e as Error).message}`);
    process.exit(1);
  }
}

export const __test = { path };
