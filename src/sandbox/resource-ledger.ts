// A backend's account of what it started and has not freed yet (the resources port): each thing is counted
// when it is made and released once when it is gone, so the counts say what a crash or a bug would leave.

import { noResources, type ResourceKind, type SandboxResources } from "../ports/sandbox.js";

export class ResourceLedger {
  private readonly counts = noResources();

  /** Counts `amount` of a kind as held; the returned release frees them, once however often it is called. */
  hold(kind: ResourceKind, amount = 1): () => void {
    this.counts[kind] += amount;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.counts[kind] -= amount;
    };
  }

  /** The counts right now (a copy). */
  snapshot(): SandboxResources {
    return { ...this.counts };
  }
}
