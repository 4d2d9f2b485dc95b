// A counting semaphore with FIFO waiters and abortable waits. The orchestrator's stages use it for
// back-pressure (a stage holding all its permits makes the stage feeding it wait instead of queueing work);
// validation bounds its test runs in flight with it. Named, with peak use, for statistics and benchmarks.

export class Semaphore {
  readonly name: string;
  readonly capacity: number;
  private held = 0;
  private peak = 0;
  private readonly waiters: { grant: () => void; abortSignal?: AbortSignal }[] = [];

  constructor(name: string, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`semaphore ${name}: capacity must be a positive integer, got ${capacity}`);
    this.name = name;
    this.capacity = capacity;
  }

  /** Permits held right now. */
  get active(): number {
    return this.held;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Most permits ever held at once (tests check back-pressure with it). */
  get maxActive(): number {
    return this.peak;
  }

  /** Resolves with a release function once a permit is free; rejects with the signal's reason if aborted first. */
  acquire(abortSignal?: AbortSignal): Promise<() => void> {
    if (abortSignal?.aborted) return Promise.reject(abortSignal.reason);
    return new Promise((resolve, reject) => {
      const grant = () => {
        abortSignal?.removeEventListener("abort", onAbort);
        this.held++;
        this.peak = Math.max(this.peak, this.held);
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.held--;
          this.dispatch();
        });
      };
      const waiter = { grant, abortSignal };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(abortSignal!.reason);
      };
      abortSignal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.dispatch();
    });
  }

  /** Runs `work` holding one permit, in FIFO order; rejects with the signal's reason if aborted while waiting. */
  async run<T>(work: () => Promise<T>, abortSignal?: AbortSignal): Promise<T> {
    const release = await this.acquire(abortSignal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private dispatch(): void {
    while (this.held < this.capacity && this.waiters.length > 0) this.waiters.shift()!.grant();
  }
}
