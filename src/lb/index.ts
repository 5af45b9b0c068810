// Load balancing: public entry points.
export type { LbServer, LbRequest, Balancer } from './types.js';
export * from './config.js';
export { lbWeight, lbHash, WEIGHT_SCALE } from './balancers.js';
