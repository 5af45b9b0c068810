// Contract between the load-balancing algorithms and the proxy core.

/** What a balancer needs to know about a server. Implemented by the core's Server. */
export interface LbServer {
  readonly name: string;
  /** server numeric id (for hashing/consistent tree, as HAProxy uses puid) */
  readonly puid: number;
  readonly backup: boolean;
  /**
   * current effective weight, 0..256 (may be fractional during slow start).
   * A server whose effective weight is 0 does not take part in load balancing
   * at all (as in HAProxy), though the core may still reach it by persistence.
   */
  eweight: number;
  /** slowstart: the weight in the balancer's scaled units while it ramps */
  lbScaled?: number | undefined;
  /** connections currently served (for leastconn/first/hash-balance-factor) */
  cur: number;
  /** UP and not in maintenance and not draining */
  usable(): boolean;
  /** served >= dynamic maxconn (the core computes it) */
  isFull(): boolean;
  /** key to place the server on the consistent ring (default puid; `hash-key addr|addr-port` computed by core) */
  hashKey: number;
  /** private per-algorithm slot */
  lb: unknown;
}

export interface LbRequest {
  /** client address text, v4 or v6 */
  src?: string;
  /**
   * the already-extracted hashing input for uri/url_param/hdr/rdp-cookie/hash
   * (see the key helpers in ./keys.ts); null/undefined = absent → documented fallback.
   * For `source` it may also carry the 4 or 16 address bytes instead of `src`.
   */
  key?: Uint8Array | null;
}

export interface Balancer {
  /** null when no server can take it now (caller queues on the backend or returns 503) */
  pick(req: LbRequest, avoid?: LbServer | null): LbServer | null;
  /** a connection was assigned to s (cur already incremented by caller) */
  onTaken(s: LbServer): void;
  /** a connection of s ended (cur already decremented) */
  onReleased(s: LbServer): void;
  /** server state/weight/usable changed: recompute */
  rebuild(): void;
  readonly name: string;
}
