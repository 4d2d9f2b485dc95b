// The solver's starting point (DESIGN §4): the buggy state with its history replaced by one fresh commit,
// nothing of the original left behind, snapshotted so that diff() is the predicted patch; plus the prompt.
import { reverseDiff, unwrapDiff } from "../artifact/index.js";
import { InfrastructureError } from "../errors.js";
import { createLogger } from "../log.js";
import type { Sandbox } from "../ports/sandbox.js";
import { applyBuggyState } from "./buggy-state.js";
import { diffParts } from "./diff-parts.js";
import type { SolverTask, SolverTaskOptions } from "./options.js";
import { shippedFile } from "./sandbox-work.js";

const log = createLogger("validation.solver-task");

export const SOLVER_PROMPT_VERSION = "solver-task.v1";

/** The fixed solver prompt around a specification. */
export function renderSolverPrompt(specification: string, workdir: string): string {
  return shippedFile(`prompts/${SOLVER_PROMPT_VERSION}.md`)
    .replaceAll("{{workdir}}", workdir)
    .replace("{{specification}}", () => specification.replace(/\n$/, ""));
}

/** Runs a shipped script from the workdir; its failure means the environment lacks a basic tool. */
async function runScript(sandbox: Sandbox, script: string, stdin: string): Promise<string> {
  const result = await sandbox.run({
    command: shippedFile(script),
    cwd: sandbox.workdir,
    stdin,
    timeoutMs: 300_000,
    maxOutputBytes: 16 * 1024 * 1024,
  });
  if (result.status !== "exited" || result.exitCode !== 0) {
    throw new InfrastructureError(
      "solver-task-failed",
      `${script} failed in sandbox ${sandbox.id} (${result.status}, exit ${result.exitCode}): ${result.stderr.trim().slice(-500)}; are git, find and sha256sum installed in the environment?`,
    );
  }
  return result.stdout;
}

export async function createSolverTask(options: SolverTaskOptions): Promise<SolverTask> {
  const sandbox = await options.sandboxes.create({
    environment: options.environment,
    label: options.label ?? "solver-task",
  });
  try {
    const changed = [options.artifact.bugInjectDiff, options.extraPatch ?? ""].flatMap((diff) => {
      const parts = diffParts(diff);
      return parts.status === "ok" ? parts.parts.flatMap((part) => part.paths) : [];
    });
    const originals = await runScript(sandbox, "scripts/hash-files.sh", changed.join("\n"));
    await applyBuggyState(sandbox, options.artifact, options.extraPatch);
    const removed = await runScript(sandbox, "scripts/remove-original-copies.sh", originals);
    if (removed.trim() !== "")
      log.info("removed copies of the original code", { files: removed.trim().split("\n") });
    await runScript(sandbox, "scripts/strip-history.sh", "");
    await sandbox.snapshot();
    const specification = unwrapDiff(reverseDiff(options.artifact.testWeakenDiff), "test_weaken.diff");
    return { sandbox, specification, prompt: renderSolverPrompt(specification, sandbox.workdir) };
  } catch (error) {
    await sandbox.destroy();
    throw error;
  }
}
