// Sandboxes' containers started ahead of demand: after a sandbox is created from some configuration, one more
// of that configuration is started in the background, so the next create() finds it running. Spares are
// tracked like sandboxes: removed on close and at exit. The pool knows nothing of Docker: the backend tells
// it how to remove a spare (asynchronously, and synchronously at exit), so any container backend can reuse it.

import { track } from "../registry.js";

/** How the pool gets rid of a spare it no longer holds. */
export interface SpareRemoval<Spare> {
  remove(spare: Spare): Promise<void>;
  /** Best effort at process exit, where nothing asynchronous runs. */
  removeSync(spare: Spare): void;
}

interface Waiting<Spare> {
  spare: Promise<Spare>;
  untrack: () => void;
}

export class WarmPool<Spare> {
  private readonly spares = new Map<string, Waiting<Spare>>();
  private counter = 0;

  constructor(
    /** Most spares kept at once (over all configurations); 0 disables the pool. */
    private readonly capacity: number,
    private readonly removal: SpareRemoval<Spare>,
  ) {}

  /** A started spare of this configuration, if one is waiting; the caller now owns it. */
  take(key: string): Promise<Spare> | undefined {
    const waiting = this.spares.get(key);
    if (!waiting) return undefined;
    this.spares.delete(key);
    waiting.untrack();
    return waiting.spare;
  }

  /** Starts a spare for this configuration unless one is waiting; evicts the oldest beyond capacity. */
  fill(key: string, start: () => Promise<Spare>): void {
    if (this.capacity <= 0 || this.spares.has(key)) return;
    const spare = start();
    let started: Spare | undefined;
    const remove = async () => {
      const ready = await spare.catch(() => undefined);
      if (ready !== undefined) await this.removal.remove(ready).catch(() => undefined);
    };
    const untrack = track({
      id: `docker-spare-${++this.counter}`,
      destroy: remove,
      destroySync: () => {
        if (started !== undefined) this.removal.removeSync(started);
      },
    });
    spare.then(
      (ready) => {
        started = ready;
      },
      () => {
        // A spare that failed to start is simply not there; create() makes a fresh one.
        if (this.spares.get(key)?.spare === spare) this.spares.delete(key);
        untrack();
      },
    );
    this.spares.set(key, { spare, untrack });
    while (this.spares.size > this.capacity) {
      const [oldestKey, oldest] = this.spares.entries().next().value as [string, Waiting<Spare>];
      this.spares.delete(oldestKey);
      oldest.untrack();
      void oldest.spare.then((ready) => this.removal.remove(ready)).catch(() => undefined);
    }
  }

  /** Removes every waiting spare. */
  async drain(): Promise<void> {
    const spares = [...this.spares.values()];
    this.spares.clear();
    await Promise.allSettled(
      spares.map(async (waiting) => {
        waiting.untrack();
        const ready = await waiting.spare.catch(() => undefined);
        if (ready !== undefined) await this.removal.remove(ready).catch(() => undefined);
      }),
    );
  }
}
