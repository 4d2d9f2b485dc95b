// Containers started ahead of demand: after a sandbox is created from some configuration, one more container
// of that configuration is created and started in the background, so the next create() finds it running.
// Spares are ordinary labelled containers: destroyed on close and at exit, reaped if the process dies.

import type Docker from "dockerode";
import { track } from "../registry.js";
import { removeContainerSync } from "./engine.js";

interface Spare {
  container: Promise<Docker.Container>;
  untrack: () => void;
}

export class WarmPool {
  private readonly spares = new Map<string, Spare>();
  private counter = 0;

  constructor(
    /** Most spares kept at once (over all configurations); 0 disables the pool. */
    private readonly capacity: number,
    private readonly socketPath: string | undefined,
  ) {}

  /** A started container of this configuration, if one is waiting; the caller now owns it. */
  take(key: string): Promise<Docker.Container> | undefined {
    const spare = this.spares.get(key);
    if (!spare) return undefined;
    this.spares.delete(key);
    spare.untrack();
    return spare.container;
  }

  /** Starts a spare for this configuration unless one is waiting; evicts the oldest beyond capacity. */
  fill(key: string, start: () => Promise<Docker.Container>): void {
    if (this.capacity <= 0 || this.spares.has(key)) return;
    const container = start();
    let containerId: string | undefined;
    const remove = async () => {
      const started = await container.catch(() => undefined);
      await started?.remove({ force: true }).catch(() => undefined);
    };
    const untrack = track({
      id: `docker-spare-${++this.counter}`,
      destroy: remove,
      destroySync: () => {
        if (containerId !== undefined && this.socketPath !== undefined)
          removeContainerSync(this.socketPath, containerId);
      },
    });
    container.then(
      (started) => {
        containerId = started.id;
      },
      () => {
        // A spare that failed to start is simply not there; create() makes a fresh container.
        if (this.spares.get(key)?.container === container) this.spares.delete(key);
        untrack();
      },
    );
    this.spares.set(key, { container, untrack });
    while (this.spares.size > this.capacity) {
      const [oldestKey, oldest] = this.spares.entries().next().value as [string, Spare];
      this.spares.delete(oldestKey);
      oldest.untrack();
      void oldest.container.then((started) => started.remove({ force: true })).catch(() => undefined);
    }
  }

  /** Removes every waiting spare. */
  async drain(): Promise<void> {
    const spares = [...this.spares.values()];
    this.spares.clear();
    await Promise.allSettled(
      spares.map(async (spare) => {
        spare.untrack();
        const container = await spare.container.catch(() => undefined);
        await container?.remove({ force: true }).catch(() => undefined);
      }),
    );
  }
}
