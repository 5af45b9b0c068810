// ServerPool (src/proxy/conn-pool.ts): which released server connections stay idle, and what
// each purge closes, by HAProxy's rules (estimated need, pool-low-conn, pool-max-conn).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerPool, type SrvConn } from '../../src/proxy/conn-pool.js';

/** A stand-in idle connection: destroy() takes it out of the pool, as SrvConn.destroy does. */
function fakeConn(pool: ServerPool, closed: string[], name: string): SrvConn {
  const c = { idleIn: undefined, idlePrev: undefined, idleNext: undefined, destroy() { pool.remove(c as unknown as SrvConn); closed.push(name); } };
  return c as unknown as SrvConn;
}

/** `n` connections in use, then released one by one; returns how many the pool kept. */
function useThenRelease(pool: ServerPool, n: number, lowConn: number, closed: string[]): number {
  for (let i = 0; i < n; i++) pool.use();
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (pool.admits(-1, lowConn)) { pool.used--; pool.push(fakeConn(pool, closed, `c${kept}`)); kept++; }
    else pool.used--;
  }
  return kept;
}

test('an empty pool keeps a released connection; the pool keeps up to the estimated need', () => {
  const pool = new ServerPool();
  const closed: string[] = [];
  assert.equal(useThenRelease(pool, 3, 0, closed), 3, 'three were needed at once: three are kept');
  assert.equal(pool.size, 3);
  assert.equal(pool.estNeed, 3);
});

test('beyond the estimated need only pool-low-conn more are kept', () => {
  const pool = new ServerPool();
  const closed: string[] = [];
  pool.use(); // need 1
  pool.used--; pool.push(fakeConn(pool, closed, 'a'));
  pool.use(); // a second connection in use while one is idle: need 1 → 1 (used 1)
  assert.equal(pool.admits(-1, 0), false, 'used 1 + idle 1 > need 1');
  assert.equal(pool.admits(-1, 1), true, 'pool-low-conn 1 allows one more');
  assert.equal(pool.admits(1, 1), false, 'pool-max-conn 1 is reached');
  assert.equal(pool.admits(0, 5), false, 'pool-max-conn 0 keeps nothing');
});

test('each purge closes half of the excess, oldest first, and the need decays towards recent use', () => {
  const pool = new ServerPool();
  const closed: string[] = [];
  assert.equal(useThenRelease(pool, 4, 0, closed), 4);
  // nothing in use since: maxUsed 4, need 4 → no excess at the first purge, need stays 4, maxUsed 0
  pool.purge();
  assert.deepEqual(closed, []);
  assert.equal(pool.estNeed, 4);
  // second purge: excess 4 - max(0, 4) = 0; need → max(floor(4/2), 0) = 2
  pool.purge();
  assert.deepEqual(closed, []);
  assert.equal(pool.estNeed, 2);
  // third: excess 4 - 2 = 2 → one closed (half, rounded up), the oldest; need → 1
  pool.purge();
  assert.deepEqual(closed, ['c0']);
  assert.equal(pool.estNeed, 1);
  // fourth: excess 3 - 1 = 2 → one closed; need → 0
  pool.purge();
  assert.deepEqual(closed, ['c0', 'c1']);
  // fifth: excess 2 - 0 = 2 → one closed
  pool.purge();
  assert.deepEqual(closed, ['c0', 'c1', 'c2']);
  assert.equal(pool.size, 1);
  pool.purge();
  assert.equal(pool.size, 0, 'the last one goes at the next purge');
});
