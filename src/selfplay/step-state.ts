// When a step is over: the one definition every part of a run (scheduler, resume, summary, exports) uses.
import type { StepState } from "../ports/store.js";

const FINISHED: ReadonlySet<string> = new Set<StepState>(["done", "failed"]);

/** A step is finished once it is done or failed; every other state is still in flight. Takes a typed
 * record or a row read as text. */
export function isFinished(step: { state: string }): boolean {
  return FINISHED.has(step.state);
}
