// Per-frontend HTTP request rate (fe_req_rate). The proxy counters already measure session
// rates (Counters.sessRate); requests are counted here, with the same one-second sliding
// window, without adding a member to Proxy. The HTTP stream calls countFrontendRequest()
// once per request received by a frontend.
import { RateCounter } from '../proxy/counters.js';
import type { Proxy } from '../proxy/proxy.js';

const reqRates = new WeakMap<Proxy, RateCounter>();

/** The request-rate counter of a frontend (created on first use). */
export function frontendReqRate(p: Proxy): RateCounter {
  let r = reqRates.get(p);
  if (!r) { r = new RateCounter(); reqRates.set(p, r); }
  return r;
}

/** One more HTTP request received by frontend `p`. */
export function countFrontendRequest(p: Proxy): void {
  frontendReqRate(p).hit();
}

/** Requests per second currently seen by frontend `p`. */
export function readFrontendReqRate(p: Proxy, now = Date.now()): number {
  const r = reqRates.get(p);
  return r ? r.rate(now) : 0;
}
