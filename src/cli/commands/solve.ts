// `swe-selfplay solve`: validates an artifact, then runs G solver attempts, each in a fresh solver-task
// sandbox, grades each and prints the solve rate. Exit 0 when at least one attempt resolves the bug.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { artifactId } from "../../artifact/index.js";
import { readArtifactDir } from "../../artifact-io/index.js";
import { errorMessage } from "../../errors.js";
import { createLogger } from "../../log.js";
import type { BugArtifact } from "../../ports/artifact.js";
import type { Policy } from "../../ports/policy.js";
import { type Environment, type SandboxBackend, viewOf } from "../../ports/sandbox.js";
import type { GradeResult, ValidationReport } from "../../ports/validation.js";
import type { SolveFlags } from "../definitions/solve.js";
import { episodeProgress, probeAndReport, timed } from "../episode-progress.js";
import { EXIT_NEGATIVE, EXIT_OK } from "../exit-codes.js";
import { agentExtrasFrom, policyConfigFrom } from "../policy-flags.js";
import { environmentFrom, integerFlag, summary, thresholdsFrom } from "./propose.js";

type AttemptResult = {
  attempt: number;
  seed: number;
  grade: GradeResult;
  episode: ReturnType<typeof summary>;
};

export async function solve(artifactDir: string, flags: SolveFlags): Promise<number> {
  const { environment } = environmentFrom(flags);
  const attempts = integerFlag(flags.attempts, "--attempts", 1);
  const seed = integerFlag(flags.seed, "--seed", 0);
  const artifact = await readArtifactDir(resolve(artifactDir));
  const trajectoryDir = flags.trajectories ? resolve(flags.trajectories) : undefined;
  if (trajectoryDir) mkdirSync(trajectoryDir, { recursive: true });
  const policyConfig = policyConfigFrom(flags);
  const extras = { ...agentExtrasFrom(flags), trajectoryDir };
  const { configuredValidator, createPolicy, openConfiguredSandboxes } = await import(
    "../../compose/index.js"
  );
  const policy = createPolicy(policyConfig, extras);
  // Before anything costs time: what the server can do (token ids, logprobs, native tool calls).
  await probeAndReport(policy, {
    callFormat: extras.callFormat ?? (policyConfig.kind === "openai" ? policyConfig.callFormat : undefined),
  });
  const sandboxes = openConfiguredSandboxes();
  try {
    const validator = configuredValidator({ sandboxes, thresholds: thresholdsFrom(flags) });
    const report = await timed(
      "validating the artifact",
      () => validator.validate(environment, artifact),
      (report) => `${report.verdict}, ${report.testRuns.length} test runs`,
    );
    const id = artifactId(artifact);
    if (report.verdict !== "valid") return reportInvalid(id, report, flags);
    const results: AttemptResult[] = [];
    const print = (text: string) => {
      if (!flags.json) process.stdout.write(text);
    };
    for (let attempt = 0; attempt < attempts; attempt++) {
      const label = `attempt ${attempt + 1}/${attempts}`;
      try {
        const graded = await solveAttempt(
          { sandboxes, environment, artifact, report, policy },
          attempt,
          seed,
          label,
        );
        results.push(graded);
        print(`${label}: ${graded.grade.status}${graded.grade.reason ? ` (${graded.grade.reason})` : ""}\n`);
      } catch (error) {
        // The attempts already graded are still the user's result: print them; the error follows on one line.
        const resolved = results.filter((result) => result.grade.resolved).length;
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify({ artifactId: id, verdict: "valid", attempts: results, resolved, error: { attempt, message: errorMessage(error) } })}\n`,
          );
        else
          print(
            `${label}: error\nresolved ${resolved} of the ${results.length} attempts finished before it\n`,
          );
        throw error;
      }
    }
    const resolved = results.filter((result) => result.grade.resolved).length;
    const solveRate = attempts === 0 ? 0 : resolved / attempts;
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ artifactId: id, verdict: "valid", attempts: results, resolved, solveRate })}\n`,
      );
    else process.stdout.write(`solve rate: ${resolved}/${attempts} = ${solveRate.toFixed(2)}\n`);
    return resolved > 0 ? EXIT_OK : EXIT_NEGATIVE;
  } finally {
    await sandboxes.close();
  }
}

function reportInvalid(id: string, report: ValidationReport, flags: SolveFlags): number {
  const result = {
    artifactId: id,
    verdict: "invalid",
    failedCheck: report.failedCheck,
    reason: report.reason,
  };
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(result)}\n`
      : `artifact ${id} is invalid: ${report.failedCheck}: ${report.reason}\n`,
  );
  return EXIT_NEGATIVE;
}

interface AttemptParts {
  sandboxes: SandboxBackend;
  environment: Environment;
  artifact: BugArtifact;
  report: ValidationReport;
  policy: Policy;
}

/** One solver episode in a fresh solver-task sandbox, then its grade. */
async function solveAttempt(
  { sandboxes, environment, artifact, report, policy }: AttemptParts,
  attempt: number,
  seed: number,
  label: string,
): Promise<AttemptResult> {
  const { createSolverTask, grade } = await import("../../validation/index.js");
  const task = await createSolverTask({ sandboxes, environment, artifact, label: `solve#${attempt}` });
  let outcome: Awaited<ReturnType<typeof policy.solve>>;
  try {
    outcome = await policy.solve({
      sandbox: viewOf(task.sandbox),
      specification: task.specification,
      prompt: task.prompt,
      seed: seed + attempt,
      onStep: episodeProgress(label),
    });
  } finally {
    await task.sandbox.destroy();
  }
  const graded = await timed(
    `${label}: grading`,
    () => grade({ sandboxes, environment, artifact, report, patch: outcome.patch }),
    (graded) => graded.status,
  );
  createLogger("solve").info("attempt graded", {
    attempt,
    status: graded.status,
    exitReason: outcome.episode.exitReason,
  });
  return { attempt, seed: seed + attempt, grade: graded, episode: summary(outcome.episode) };
}
