// Dynamic batching: concurrent submissions share one run, in order, within the cap; failures reach every caller.
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../services/model-server/src/batcher.js';

function recordingRunner() {
  const runs: number[][] = [];
  const run = async (items: number[]) => {
    runs.push(items);
    await new Promise((r) => setTimeout(r, 5));
    return items.map((x) => x * 10);
  };
  return { runs, run };
}

describe('createBatcher', () => {
  it('coalesces requests submitted in the same turn into one run and splits the results back in order', async () => {
    const { runs, run } = recordingRunner();
    const b = createBatcher(run, { maxItems: 100 });
    const out = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    expect(out).toEqual([[10, 20], [30], [40, 50, 60]]);
    expect(runs).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('queues submissions that arrive while a run is in flight and runs them together next', async () => {
    const { runs, run } = recordingRunner();
    const b = createBatcher(run, { maxItems: 100 });
    const first = b.submit([1]);
    await new Promise((r) => setImmediate(r)); // the first run has started
    const later = [b.submit([2]), b.submit([3])];
    expect(await first).toEqual([10]);
    expect(await Promise.all(later)).toEqual([[20], [30]]);
    expect(runs).toEqual([[1], [2, 3]]);
  });

  it('never puts more than maxItems into one run, but runs a single larger request whole', async () => {
    const { runs, run } = recordingRunner();
    const b = createBatcher(run, { maxItems: 3 });
    await Promise.all([b.submit([1, 2]), b.submit([3, 4]), b.submit([5, 6, 7, 8, 9])]);
    expect(runs).toEqual([[1, 2], [3, 4], [5, 6, 7, 8, 9]]);
  });

  it('with maxItems 0 runs every request on its own', async () => {
    const { runs, run } = recordingRunner();
    const b = createBatcher(run, { maxItems: 0 });
    await Promise.all([b.submit([1]), b.submit([2])]);
    expect(runs).toEqual([[1], [2]]);
  });

  it('rejects every request of a failed run and keeps serving later ones', async () => {
    let fail = true;
    const b = createBatcher(async (items: number[]) => {
      if (fail) throw new Error('onnx exploded');
      return items;
    }, { maxItems: 10 });
    const results = await Promise.allSettled([b.submit([1]), b.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await b.submit([7])).toEqual([7]);
    expect(b.pending).toBe(0);
  });
});
