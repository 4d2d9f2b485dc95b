// Bounds how many test runs are in flight at once; waiting work leaves the queue when its signal aborts.

export interface Limiter {
  /** Runs `work` once a slot is free, in FIFO order; rejects with the signal's reason if aborted while queued. */
  run<T>(work: () => Promise<T>, abortSignal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly queued: number;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  let active = 0;
  const queue: { start: () => void; abortSignal?: AbortSignal }[] = [];

  const next = () => {
    while (active < concurrency && queue.length > 0) {
      const entry = queue.shift()!;
      if (entry.abortSignal?.aborted) continue;
      active++;
      entry.start();
    }
  };

  return {
    get active() {
      return active;
    },
    get queued() {
      return queue.length;
    },
    run<T>(work: () => Promise<T>, abortSignal?: AbortSignal): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (abortSignal?.aborted) {
          reject(abortSignal.reason);
          return;
        }
        const onAbort = () => {
          const index = queue.indexOf(entry);
          if (index >= 0) {
            queue.splice(index, 1);
            reject(abortSignal?.reason);
          }
        };
        const entry = {
          abortSignal,
          start: () => {
            abortSignal?.removeEventListener("abort", onAbort);
            work()
              .then(resolve, reject)
              .finally(() => {
                active--;
                next();
              });
          },
        };
        abortSignal?.addEventListener("abort", onAbort, { once: true });
        queue.push(entry);
        next();
      });
    },
  };
}
