// Queue order with set-priority-class / set-priority-offset: lower class first, then the queueing
// date plus the offset; equal keys keep their arrival order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitQueue, servedBefore, type Waiter } from '../../src/proxy/queue.js';

interface W extends Waiter { id: string }
const w = (id: string, queuedAt: number, prioClass = 0, prioOffset = 0): W => ({ id, queuedAt, prioClass, prioOffset, dequeued: false });

test('servedBefore: class first, then date plus offset', () => {
  assert.equal(servedBefore(w('a', 100, -1), w('b', 0, 0)), true);
  assert.equal(servedBefore(w('a', 100, 0, -200), w('b', 0)), true);
  assert.equal(servedBefore(w('a', 100), w('b', 100)), false, 'equal keys: not before (arrival order kept)');
});

test('WaitQueue serves by priority and keeps FIFO among equals, also after removals', () => {
  const q = new WaitQueue<W>();
  q.push(w('a', 1));
  q.push(w('b', 2));
  const gone = w('x', 3);
  q.push(gone);
  q.push(w('c', 4, 0, -10));  // offset: as if queued at -6
  q.push(w('d', 5, -5));      // better class
  q.push(w('e', 6, 5));       // worse class
  q.push(w('f', 7));
  q.remove(gone);
  const order: string[] = [];
  for (let x = q.shift(); x; x = q.shift()) order.push(x.id);
  assert.deepEqual(order, ['d', 'c', 'a', 'b', 'f', 'e']);
  assert.equal(q.length, 0);
});
