// One solver episode of a policy on a fresh solver task (the buggy repository, no history, the reverse of
// the weakening as its specification); the task's sandbox is destroyed afterwards.
import { performance } from "node:perf_hooks";
import type { BugArtifact } from "../../src/ports/artifact.js";
import type { Policy, SolveOutcome } from "../../src/ports/policy.js";
import { type Environment, type SandboxBackend, viewOf } from "../../src/ports/sandbox.js";
import { createSolverTask } from "../../src/validation/index.js";

export interface SolveTaskOptions {
  sandboxes: SandboxBackend;
  environment: Environment;
  artifact: BugArtifact;
  seed: number;
}

/** The episode's outcome and the wall time of `policy.solve` alone (the task's set-up is not counted). */
export async function solveTask(
  policy: Policy,
  options: SolveTaskOptions,
): Promise<{ outcome: SolveOutcome; wallMs: number }> {
  const { sandboxes, environment, artifact, seed } = options;
  const task = await createSolverTask({ sandboxes, environment, artifact });
  try {
    const started = performance.now();
    const outcome = await policy.solve({
      sandbox: viewOf(task.sandbox),
      specification: task.specification,
      prompt: task.prompt,
      seed,
    });
    return { outcome, wallMs: performance.now() - started };
  } finally {
    await task.sandbox.destroy();
  }
}
