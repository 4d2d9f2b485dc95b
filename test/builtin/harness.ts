// Shared set-up of the built-in policy's tests: real local sandboxes, a real validator, and helpers that
// run one proposer episode or one solver attempt (graded) the way the orchestrator does.
import { diffFiles } from "../../src/artifact/index.js";
import type { BuiltinPolicyOptions } from "../../src/builtin/index.js";
import { createBuiltinPolicy } from "../../src/builtin/index.js";
import type { BugArtifact, Difficulty, Strategy } from "../../src/ports/artifact.js";
import type { Policy, ProposeOutcome, SolveOutcome } from "../../src/ports/policy.js";
import { type Environment, type SandboxBackend, viewOf } from "../../src/ports/sandbox.js";
import type { GradeResult } from "../../src/ports/validation.js";
import { createLocalBackend } from "../../src/sandbox/local/backend.js";
import { createSolverTask, createValidator, grade } from "../../src/validation/index.js";
import { makeTempDir } from "../support/tmp.js";

export interface BuiltinHarness {
  backend: SandboxBackend;
  validator: ReturnType<typeof createValidator>;
  temp: ReturnType<typeof makeTempDir>;
  close(): Promise<void>;
}

export function openHarness(backend: SandboxBackend = createLocalBackend()): BuiltinHarness {
  const temp = makeTempDir("builtin-policy-");
  const validator = createValidator({ sandboxes: backend, concurrency: 2 });
  return {
    backend,
    validator,
    temp,
    async close() {
      await validator.close();
      await backend.close();
      temp.remove();
    },
  };
}

export async function proposeOn(
  harness: BuiltinHarness,
  environment: Environment,
  strategy: Strategy,
  seed: number,
  policy: Policy = createBuiltinPolicy(),
  difficulty?: Difficulty,
): Promise<ProposeOutcome> {
  const sandbox = await harness.backend.create({ environment, label: `test:propose:${strategy}` });
  try {
    return await policy.propose({
      sandbox: viewOf(sandbox),
      environmentName: environment.kind === "dir" ? "fixture" : environment.image,
      strategy,
      ...(difficulty === undefined ? {} : { difficulty }),
      seed,
      thresholds: harness.validator.thresholds,
      validate: (artifact) => harness.validator.validate(environment, artifact),
    });
  } finally {
    await sandbox.destroy();
  }
}

export function submitted(outcome: ProposeOutcome): BugArtifact {
  if (outcome.status !== "submitted") throw new Error(`expected an artifact, got: ${outcome.reason}`);
  return outcome.artifact;
}

/** One solver attempt on the artifact's task, graded against its validation report. */
export async function solveAndGrade(
  harness: BuiltinHarness,
  environment: Environment,
  artifact: BugArtifact,
  seed: number,
  options: BuiltinPolicyOptions = {},
): Promise<{ solved: SolveOutcome; result: GradeResult }> {
  const report = await harness.validator.validate(environment, artifact);
  const task = await createSolverTask({ sandboxes: harness.backend, environment, artifact });
  try {
    const solved = await createBuiltinPolicy(options).solve({
      sandbox: viewOf(task.sandbox),
      specification: task.specification,
      prompt: task.prompt,
      seed,
    });
    const result = await grade({
      sandboxes: harness.backend,
      environment,
      artifact,
      report,
      patch: solved.patch,
    });
    return { solved, result };
  } finally {
    await task.sandbox.destroy();
  }
}

/** The paths a diff touches; a diff that does not parse fails the test. */
export function filesOf(diff: string): string[] {
  const result = diffFiles(diff);
  if (result.status !== "ok")
    throw new Error(`diff does not parse at line ${result.line}: ${result.message}`);
  return result.files;
}
