// The bytes sent to a client for a status HAProxy answers itself (errors, monitor-uri): the
// proxy's configured reply (errorfile, errorloc, http-errors, http-error) or HAProxy's built-in
// page (src/http/errors.ts).
import type { ProxyConfig } from '../config/model.js';
import { errorReplyFor, h1ErrorMessage } from './errors.js';

export { h1ErrorMessage };

/**
 * Reply for `status`, looked up in `px` (the backend once one is chosen), then `fe`, then the
 * built-in pages; undefined means "close without a reply" (an empty errorfile).
 */
export function errorReply(px: ProxyConfig, status: number, fe?: ProxyConfig, keepAlive = true): Buffer | undefined {
  const b = errorReplyFor(px, status, fe && fe !== px ? fe : undefined, { keepAlive });
  return b.length ? b : undefined;
}
