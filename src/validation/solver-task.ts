// The solver's starting point (DESIGN §4): the buggy state with its history replaced by one fresh commit,
// nothing of the original left behind, snapshotted so that diff() is the predicted patch; plus the prompt.
import { reverseDiff, unwrapDiff } from "../artifact/index.js";
import { InfrastructureError } from "../errors.js";
import { applyBuggyState } from "./buggy-state.js";
import type { SolverTask, SolverTaskOptions } from "./options.js";
import { shippedFile } from "./sandbox-work.js";

export const SOLVER_PROMPT_VERSION = "solver-task.v1";

/** The fixed solver prompt around a specification. */
export function renderSolverPrompt(specification: string, workdir: string): string {
  return shippedFile(`prompts/${SOLVER_PROMPT_VERSION}.md`)
    .replaceAll("{{workdir}}", workdir)
    .replace("{{specification}}", () => specification.replace(/\n$/, ""));
}

export async function createSolverTask(options: SolverTaskOptions): Promise<SolverTask> {
  const sandbox = await options.sandboxes.create({
    environment: options.environment,
    label: options.label ?? "solver-task",
  });
  try {
    await applyBuggyState(sandbox, options.artifact, options.extraPatch);
    const stripped = await sandbox.run({
      command: shippedFile("scripts/strip-history.sh"),
      cwd: sandbox.workdir,
      timeoutMs: 120_000,
    });
    if (stripped.status !== "exited" || stripped.exitCode !== 0) {
      throw new InfrastructureError(
        "solver-task-failed",
        `could not replace the repository history in sandbox ${sandbox.id} (${stripped.status}, exit ${stripped.exitCode}): ${stripped.stderr.trim().slice(-500)}; is git installed in the environment?`,
      );
    }
    await sandbox.snapshot();
    const specification = unwrapDiff(reverseDiff(options.artifact.testWeakenDiff), "test_weaken.diff");
    return { sandbox, specification, prompt: renderSolverPrompt(specification, sandbox.workdir) };
  } catch (error) {
    await sandbox.destroy();
    throw error;
  }
}
