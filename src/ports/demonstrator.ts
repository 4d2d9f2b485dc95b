// A demonstrator plays the model's part of an agent episode from a plan it makes before the episode starts
// (the built-in policy's search, replayed as tool calls that the real loop executes). No imports from adapters.
import type { ModelClient } from "./model.js";
import type { ProposeRequest, SolveRequest } from "./policy.js";

/** One planned episode: the client whose replies play the plan, and what the plan rests on (for the record). */
export interface DemonstrationPlan {
  client: ModelClient;
  /** JSON-serialisable facts of the plan, e.g. whether the search found a repair. */
  summary: Record<string, unknown>;
  /** Set when the plan leaves nothing to play (no proposer can make an artifact here): the failure to report. */
  failure?: { reason: string; scope?: "episode" | "environment"; strategyUnavailable?: boolean };
}

export interface Demonstrator {
  /** Plans a solver episode in the request's sandbox and leaves the sandbox as it found it. */
  solver(request: SolveRequest): Promise<DemonstrationPlan>;
  /** Plans a proposer episode whose five files go to `artifactDir`; the sandbox is left as it was found. */
  proposer(request: ProposeRequest, artifactDir: string): Promise<DemonstrationPlan>;
}
