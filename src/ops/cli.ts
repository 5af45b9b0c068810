// Runtime API (stats socket). Temporary placeholder while the real implementation lands.
import type { Runtime } from '../proxy/runtime.js';

export async function startStatsSockets(_rt: Runtime): Promise<void> { /* not yet */ }
