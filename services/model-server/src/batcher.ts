// Dynamic batching: requests that arrive while the model is busy (or within the same event-loop turn) are
// coalesced into one model run of at most `maxItems` items, then the results are split back per request.
// One ONNX run per request would pay the fixed per-run cost (tensor creation, session dispatch) every time.

export interface BatchRunner<I, O> {
  /** Runs many items at once; must return exactly one output per item, in order. */
  (items: I[]): Promise<O[]>;
}

export interface Batcher<I, O> {
  /** Queues the items of one request; resolves with their outputs in order. */
  submit(items: I[]): Promise<O[]>;
  /** Items waiting or running. */
  readonly pending: number;
}

interface Job<I, O> {
  items: I[];
  resolve(out: O[]): void;
  reject(err: unknown): void;
}

/**
 * `maxItems` caps a coalesced run; a single request larger than the cap runs alone. `maxItems` 0 disables
 * coalescing (every request is its own run, still one at a time so runs never interleave).
 */
export function createBatcher<I, O>(run: BatchRunner<I, O>, opts: { maxItems: number }): Batcher<I, O> {
  const queue: Job<I, O>[] = [];
  let running = false;
  let scheduled = false;
  let pending = 0;

  const take = (): Job<I, O>[] => {
    const batch = [queue.shift()!];
    let n = batch[0]!.items.length;
    while (queue.length > 0 && opts.maxItems > 0 && n + queue[0]!.items.length <= opts.maxItems) {
      const job = queue.shift()!;
      n += job.items.length;
      batch.push(job);
    }
    return batch;
  };

  const runOnce = async (): Promise<void> => {
    scheduled = false;
    if (running || queue.length === 0) return;
    running = true;
    const batch = take();
    const items = batch.length === 1 ? batch[0]!.items : batch.flatMap((j) => j.items);
    try {
      const out = await run(items);
      if (out.length !== items.length) throw new Error(`batch runner returned ${out.length} results for ${items.length} items`);
      let offset = 0;
      for (const job of batch) {
        job.resolve(batch.length === 1 ? out : out.slice(offset, offset + job.items.length));
        offset += job.items.length;
      }
    } catch (err) {
      for (const job of batch) job.reject(err);
    } finally {
      pending -= items.length;
      running = false;
      if (queue.length > 0) schedule();
    }
  };

  // setImmediate (not a microtask): requests whose bytes arrived in the same poll phase join the same run.
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(runOnce);
  };

  return {
    submit(items) {
      return new Promise<O[]>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        pending += items.length;
        if (!running) schedule();
      });
    },
    get pending() {
      return pending;
    },
  };
}
