// Exports every validated artifact of a run as one SWE-bench-style JSON line (toSweBenchInstance): `patch`
// is the fix, `test_patch` restores the oracle tests, the problem statement is the solver's specification
// prompt; our additions say how the buggy state is made and how the task fared in the run.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { reverseDiff, type SweBenchInstance, semanticKey, unwrapDiff } from "../../artifact/index.js";
import { toSweBenchInstance } from "../../artifact-io/index.js";
import { DEFAULT_WORKDIR } from "../../ports/sandbox.js";
import type { RunId, Store } from "../../ports/store.js";
import { renderSolverPrompt } from "../../validation/solver-task.js";
import { writeFileAtomic } from "./atomic-write.js";

export interface SweBenchLine extends SweBenchInstance {
  /** The environment as configured (directory or image). */
  environment: unknown;
  /** The buggy state is the original + bug_patch + weaken_patch. */
  bug_patch: string;
  weaken_patch: string;
  artifact_id: string;
  /** The bug's semantic key: lines with equal keys are the same bug written differently. */
  semantic_key: string | null;
  /** The earlier step whose bug this one repeats (same semantic key), when it was solved anyway. */
  duplicate_of_step: number | null;
  order: 1 | 2;
  parent_id: string | null;
  /** Solve rate of the artifact's solver group in the run. */
  solve_rate: number | null;
}

export function sweBenchLines(store: Store, runId: RunId): SweBenchLine[] {
  const environments = new Map(
    store.listEnvironments(runId).map((environment) => [environment.name, environment.spec]),
  );
  const lines: SweBenchLine[] = [];
  const seen = new Set<string>();
  for (const group of store.listGroups(runId)) {
    const key = `${group.environment}/${group.artifactId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const stored = store.getArtifact(group.artifactId);
    const validation = store.getValidation(group.artifactId, group.environment);
    if (!stored || validation?.report.verdict !== "valid") continue;
    const { artifact } = stored;
    const specification = unwrapDiff(
      reverseDiff(artifact.testWeakenDiff),
      `test_weaken.diff of ${group.artifactId}`,
    );
    const instance = toSweBenchInstance({
      artifact,
      repo: group.environment,
      failToPass: validation.report.f2p,
      passToPass: validation.report.p2p,
      problemStatement: renderSolverPrompt(specification, DEFAULT_WORKDIR),
      version: "swe-selfplay",
    });
    lines.push({
      ...instance,
      environment: environments.get(group.environment) ?? null,
      bug_patch: artifact.bugInjectDiff,
      weaken_patch: artifact.testWeakenDiff,
      artifact_id: group.artifactId,
      semantic_key: semanticKey(artifact.bugInjectDiff),
      duplicate_of_step:
        group.order === 1 ? (store.getStep(runId, group.stepIndex)?.duplicateOf ?? null) : null,
      order: group.order,
      parent_id: stored.meta.parentId,
      solve_rate: group.solveRate,
    });
  }
  return lines;
}

/** Writes `swebench.jsonl` in `outDir` (atomically); returns its path and the number of lines. */
export function exportSweBench(options: { store: Store; runId: RunId; outDir: string }): {
  path: string;
  count: number;
} {
  mkdirSync(options.outDir, { recursive: true });
  const lines = sweBenchLines(options.store, options.runId);
  const path = join(options.outDir, "swebench.jsonl");
  writeFileAtomic(path, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
  return { path, count: lines.length };
}
