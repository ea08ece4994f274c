import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapBounded } from '../../../src/lib/concurrency.js';

describe('mapBounded', () => {
  it('keeps item order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (item) => {
      running += 1;
      peak = Math.max(peak, running);
      // Yield a few times so tasks overlap; no wall-clock timing.
      for (let i = 0; i < item; i += 1) await Promise.resolve();
      running -= 1;
      return item * 10;
    });
    assert.deepEqual(results, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });
  it('runs every task even when one fails, then rethrows the first failure', async () => {
    const ran: number[] = [];
    await assert.rejects(
      mapBounded([1, 2, 3], 1, async (item) => {
        ran.push(item);
        if (item === 2) throw new Error('two failed');
        return item;
      }),
      /two failed/,
    );
    assert.deepEqual(ran, [1, 2, 3]);
  });
  it('handles no items and a nonsense limit', async () => {
    assert.deepEqual(await mapBounded([], 5, async () => 1), []);
    assert.deepEqual(await mapBounded([1, 2], 0, async (x) => x), [1, 2]);
  });
});
