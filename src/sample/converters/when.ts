// The "when" converter: passes its input through only when a condition about the stream holds.
import { aclScope } from '../fetches/vars-acl.js';
import { AclResult } from '../../acl/acl.js';
import { registerConverter } from '../registry.js';
import type { SmpCtx } from '../context.js';

declare module '../context.js' {
  interface StreamInfo {
    /** an error was met while processing the request or stream (same rules as dontlog-normal) */
    txnError?: boolean;
    /** the request was forwarded to a backend server */
    forwarded?: boolean;
    /** the request was processed by an applet (stats, cache, http-request return ...) */
    toApplet?: boolean;
  }
}

type Cond = (ctx: SmpCtx) => boolean;

const CONDS: Record<string, Cond> = {
  error: (ctx) => ctx.stream?.txnError === true,
  normal: (ctx) => ctx.stream?.txnError !== true,
  forwarded: (ctx) => ctx.stream?.forwarded === true,
  toapplet: (ctx) => ctx.stream?.toApplet === true,
  processed: (ctx) => ctx.stream?.forwarded === true || ctx.stream?.toApplet === true,
  stopping: (ctx) => ctx.rt?.stopping === true,
};

export function registerWhen(): void {
  registerConverter('when', {
    check: (args) => {
      let name = String(args[0]);
      const neg = name.startsWith('!');
      if (neg) name = name.slice(1);
      if (name === 'acl') {
        // the named ACL of the proxy being parsed, evaluated inline
        const aclName = args[1] === undefined ? undefined : String(args[1]);
        if (!aclName) return `condition 'acl' expects an ACL name`;
        if (args.length > 2) return `condition 'acl' takes one argument`;
        const acl = aclScope.current?.get(aclName);
        if (!acl) return `ACL '${aclName}' not found`;
        const test = (ctx: SmpCtx) => acl.exec(ctx) === AclResult.PASS;
        args.length = 0;
        args.push(neg ? (ctx: SmpCtx) => !test(ctx) : test);
        return undefined;
      }
      const c = CONDS[name];
      if (!c) return `unknown condition '${name}'; expected one of 'error', 'forwarded', 'normal', 'processed', 'stopping', 'toapplet', 'acl'`;
      if (args.length > 1) return `condition '${name}' takes no argument`;
      args[0] = neg ? (ctx: SmpCtx) => !c(ctx) : c;
      return undefined;
    },
    fn: (s, args, ctx) => ((args[0] as Cond)(ctx) ? s : undefined),
  });
}
