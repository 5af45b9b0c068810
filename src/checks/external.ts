// External checks (configuration.txt `option external-check`, `external-check command|path`, the
// global `external-check [preserve-env]` and `insecure-fork-wanted`): a program run per check with
// HAProxy's arguments and environment; exit status 0 passes. Results as HAProxy reports them:
// "External check passed", "External check error, code: <exit status>", "External check timeout".
import { spawn } from 'node:child_process';
import { registerGlobal, registerProxy, registerOption, registerPostParse, BE } from '../registry/registry.js';
import type { Config, ProxyConfig } from '../config/model.js';
import type { Server } from '../proxy/server.js';
import type { Proxy } from '../proxy/proxy.js';
import type { CheckResult } from './engine.js';

export interface ExternalCheckConfig { command?: string; path?: string }

declare module '../config/model.js' {
  interface ProxyConfig {
    /** option external-check with its command and PATH (src/checks/external.ts) */
    externalCheck?: ExternalCheckConfig & { enabled: boolean };
  }
}

/** Global switches, reset for each configuration. */
export const externalGlobal = { allowed: false, preserveEnv: false, forkWanted: false };

function ext(px: ProxyConfig): ExternalCheckConfig & { enabled: boolean } {
  if (!px.externalCheck) px.externalCheck = { enabled: false };
  return px.externalCheck;
}

registerGlobal(
  {
    name: 'external-check',
    parse(args, _g, ctx) {
      if (args.length > 2 || (args[1] !== undefined && args[1] !== 'preserve-env')) { ctx.alert(`'external-check' only supports 'preserve-env' as an argument, found '${args[1]}'.`); return; }
      externalGlobal.allowed = true;
      externalGlobal.preserveEnv = args[1] === 'preserve-env';
    },
  },
  {
    name: 'insecure-fork-wanted',
    parse(args, _g, ctx) {
      if (args.length > 1) { ctx.alert(`'insecure-fork-wanted' takes no argument.`); return; }
      externalGlobal.forkWanted = true;
    },
  },
);

registerOption({
  name: 'external-check', caps: BE, negatable: false,
  set(px) { ext(px).enabled = true; },
});

registerProxy({
  name: 'external-check', caps: BE,
  parse(args, px, ctx) {
    const sub = args[1];
    if (sub === 'command' || sub === 'path') {
      if (args[2] === undefined || args.length > 3) { ctx.alert(`'external-check ${sub}' expects one argument.`); return; }
      ext(px)[sub] = args[2];
      return;
    }
    ctx.alert(`'external-check' expects 'command' or 'path', but got '${sub ?? ''}'.`);
  },
});

/** Post-parse: option external-check needs a command and the global `external-check`. */
function checkExternal(config: Config, ctx: { alert(m: string): void }): void {
  for (const px of config.proxies) {
    const e = px.externalCheck;
    if (!e?.enabled || !px.servers.some((s) => s.check?.enabled)) continue;
    if (!externalGlobal.allowed) ctx.alert(`Proxy '${px.name}' : option external-check requires the global 'external-check' keyword.`);
    else if (!e.command) ctx.alert(`Proxy '${px.name}' : 'option external-check' requires 'external-check command' to be set.`);
  }
}
registerPostParse(checkExternal);

/** Runs the command for one check of `s`; never throws. */
export function runExternalCheck(s: Server, be: Proxy, timeoutMs: number): Promise<CheckResult> {
  const e = be.cfg.externalCheck!;
  const start = Date.now();
  const bind = be.isFrontend ? be.cfg.binds.find((b) => b.address.family === 'ipv4' || b.address.family === 'ipv6' || b.address.family === 'unix') : undefined;
  const proxyAddr = bind ? bind.address.host : '';
  const proxyPort = bind && bind.address.family !== 'unix' ? String(bind.address.port) : '';
  const env: NodeJS.ProcessEnv = externalGlobal.preserveEnv ? { ...process.env } : {};
  Object.assign(env, {
    PATH: e.path ?? '',
    HAPROXY_PROXY_ADDR: proxyAddr,
    HAPROXY_PROXY_ID: String(be.cfg.id ?? ''),
    HAPROXY_PROXY_NAME: be.name,
    HAPROXY_PROXY_PORT: proxyPort,
    HAPROXY_SERVER_ADDR: s.host,
    HAPROXY_SERVER_CURCONN: String(s.cur),
    HAPROXY_SERVER_ID: String(s.puid),
    HAPROXY_SERVER_MAXCONN: String(s.maxconn),
    HAPROXY_SERVER_NAME: s.name,
    HAPROXY_SERVER_PORT: s.isUnix ? '' : String(s.port),
    HAPROXY_SERVER_SSL: '0',
    HAPROXY_SERVER_PROTO: be.cfg.mode === 'http' ? 'h1' : 'tcp',
  });
  const args = [bind ? proxyAddr : 'NOT_USED', bind && proxyPort ? proxyPort : 'NOT_USED', s.host, s.isUnix ? 'NOT_USED' : String(s.port)];
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Omit<CheckResult, 'duration'>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, duration: Date.now() - start });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(e.command!, args, { env, stdio: 'ignore' });
    } catch {
      resolve({ status: 'PROCERR', code: 127, duration: Date.now() - start });
      return;
    }
    const timer = setTimeout(() => { child.kill('SIGKILL'); finish({ status: 'PROCTOUT', code: 0 }); }, Math.max(1, timeoutMs));
    child.on('error', () => finish({ status: 'PROCERR', code: 127 }));
    child.on('exit', (code, signal) => {
      if (code === 0) finish({ status: 'PROCOK', code: 0 });
      else finish({ status: 'PROCERR', code: code ?? (signal ? 128 : 1) });
    });
  });
}
