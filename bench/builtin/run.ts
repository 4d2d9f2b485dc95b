// Benchmark of the built-in policy on toolz: proposer yield per strategy, test runs per valid artifact,
// validated artifacts per hour, and the solve-rate distribution over artifacts with G solver attempts each.
// Usage: npx tsx bench/builtin/run.ts [--artifacts 20] [--group 8] [--backend docker|local]
//        [--strategies removal,history,direct] [--concurrency 2] [--seed 1]
import { parseArgs } from "node:util";
import { createBuiltinPolicy } from "../../src/builtin/index.js";
import { createLogger } from "../../src/log.js";
import type { BugArtifact, Strategy } from "../../src/ports/artifact.js";
import { type Environment, type SandboxBackend, viewOf } from "../../src/ports/sandbox.js";
import type { ValidationReport } from "../../src/ports/validation.js";
import { createDockerBackend } from "../../src/sandbox/docker/backend.js";
import { createLocalBackend } from "../../src/sandbox/local/backend.js";
import { createSolverTask, createValidator, grade } from "../../src/validation/index.js";
import { dockerStatus } from "../../test/support/docker.js";
import { ensureToolzDir, ensureToolzImage } from "../../test/support/toolz.js";

const { values } = parseArgs({
  options: {
    artifacts: { type: "string", default: "20" },
    group: { type: "string", default: "8" },
    backend: { type: "string" },
    strategies: { type: "string", default: "removal,history,direct" },
    concurrency: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
  },
});
const targetArtifacts = Number(values.artifacts);
const group = Number(values.group);
const concurrency = Math.max(1, Number(values.concurrency));
const firstSeed = Number(values.seed);
const strategies = values.strategies
  .split(",")
  .filter((name): name is Strategy => ["removal", "history", "direct"].includes(name));
const backendKind = values.backend ?? (dockerStatus().available ? "docker" : "local");
const log = createLogger("bench.builtin");

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

function describe(trajectory: unknown[]): string {
  const steps = trajectory as { step?: string; candidate?: string }[];
  return steps.filter((step) => step.step === "validate").pop()?.candidate ?? "";
}

interface Attempt {
  strategy: Strategy;
  seed: number;
  artifact: BugArtifact | null;
  reason: string | null;
  testRuns: number;
  wallMs: number;
  /** What the bug is, from the episode's last validation step. */
  description: string;
}

async function main(): Promise<void> {
  const backend: SandboxBackend = backendKind === "docker" ? createDockerBackend() : createLocalBackend();
  const environment: Environment =
    backendKind === "docker"
      ? { kind: "image", image: await ensureToolzImage() }
      : { kind: "dir", path: await ensureToolzDir() };
  const validator = createValidator({ sandboxes: backend, concurrency });
  const policy = createBuiltinPolicy();
  process.stdout.write(
    `builtin benchmark on toolz (${backendKind}): target ${targetArtifacts} artifacts over strategies ${strategies.join(", ")}, G = ${group}, concurrency ${concurrency}\n`,
  );
  try {
    // Proposals: round-robin over strategies until enough valid artifacts (or 3× as many attempts).
    const attempts: Attempt[] = [];
    const proposeStarted = performance.now();
    let seed = firstSeed;
    const maxAttempts = targetArtifacts * 3;
    while (
      attempts.filter((attempt) => attempt.artifact).length < targetArtifacts &&
      attempts.length < maxAttempts
    ) {
      const needed = targetArtifacts - attempts.filter((attempt) => attempt.artifact).length;
      const batch = Array.from({ length: Math.min(concurrency, needed) }, () => {
        const current = seed++;
        return { seed: current, strategy: strategies[current % strategies.length]! };
      });
      attempts.push(
        ...(await pool(batch, concurrency, async ({ seed: attemptSeed, strategy }): Promise<Attempt> => {
          const started = performance.now();
          const sandbox = await backend.create({ environment, label: `bench:propose:${strategy}` });
          try {
            const outcome = await policy.propose({
              sandbox: viewOf(sandbox),
              environmentName: "toolz",
              strategy,
              seed: attemptSeed,
              thresholds: validator.thresholds,
              validate: (artifact) => validator.validate(environment, artifact),
            });
            const stats = outcome.episode.stats;
            const attempt: Attempt = {
              strategy,
              seed: attemptSeed,
              artifact: outcome.status === "submitted" ? outcome.artifact : null,
              reason: outcome.status === "failed" ? outcome.reason : null,
              testRuns: (stats.testRuns ?? 0) + (stats.validationTestRuns ?? 0),
              description: describe(outcome.episode.trajectory),
              wallMs: performance.now() - started,
            };
            log.info("proposal", {
              strategy,
              seed: attemptSeed,
              valid: attempt.artifact !== null,
              reason: attempt.reason,
            });
            return attempt;
          } finally {
            await sandbox.destroy();
          }
        })),
      );
    }
    const proposeHours = (performance.now() - proposeStarted) / 3_600_000;
    const valid = attempts.filter((attempt) => attempt.artifact);

    process.stdout.write("\nproposer yield (valid artifacts per attempt):\n");
    for (const strategy of strategies) {
      const mine = attempts.filter((attempt) => attempt.strategy === strategy);
      const ok = mine.filter((attempt) => attempt.artifact);
      const runs = mine.reduce((sum, attempt) => sum + attempt.testRuns, 0);
      process.stdout.write(
        `  ${strategy.padEnd(8)} ${ok.length}/${mine.length} = ${mine.length ? (ok.length / mine.length).toFixed(2) : "n/a"}; test runs per valid artifact ${ok.length ? (runs / ok.length).toFixed(1) : "n/a"}; mean episode ${mine.length ? (mine.reduce((sum, attempt) => sum + attempt.wallMs, 0) / mine.length / 1000).toFixed(1) : "n/a"} s\n`,
      );
    }
    const allRuns = attempts.reduce((sum, attempt) => sum + attempt.testRuns, 0);
    process.stdout.write(
      `  overall  ${valid.length}/${attempts.length}; test runs per valid artifact ${valid.length ? (allRuns / valid.length).toFixed(1) : "n/a"}\n`,
    );
    process.stdout.write(
      `validated artifacts per hour: ${(valid.length / proposeHours).toFixed(1)} (${valid.length} in ${(proposeHours * 60).toFixed(1)} min, concurrency ${concurrency})\n`,
    );
    for (const failed of attempts.filter((attempt) => !attempt.artifact)) {
      process.stdout.write(`  no artifact: ${failed.strategy} seed ${failed.seed}: ${failed.reason}\n`);
    }

    // Solve rates: G attempts per artifact with different seeds, each graded.
    if (group > 0 && valid.length > 0) {
      const solveStarted = performance.now();
      const reports = new Map<BugArtifact, ValidationReport>();
      for (const attempt of valid)
        reports.set(attempt.artifact!, await validator.validate(environment, attempt.artifact!));
      const jobs = valid.flatMap((attempt) =>
        Array.from({ length: group }, (_, index) => ({ attempt, seed: index + 1 })),
      );
      const outcomes = await pool(jobs, concurrency, async ({ attempt, seed: solveSeed }) => {
        const artifact = attempt.artifact!;
        const task = await createSolverTask({ sandboxes: backend, environment, artifact });
        try {
          const solved = await policy.solve({
            sandbox: viewOf(task.sandbox),
            specification: task.specification,
            prompt: task.prompt,
            seed: solveSeed,
          });
          const result = await grade({
            sandboxes: backend,
            environment,
            artifact,
            report: reports.get(artifact)!,
            patch: solved.patch,
          });
          return { attempt, resolved: result.resolved, testRuns: solved.episode.stats.testRuns ?? 0 };
        } finally {
          await task.sandbox.destroy();
        }
      });
      process.stdout.write(
        `\nsolve rates (G = ${group}, ${valid.length} artifacts, ${((performance.now() - solveStarted) / 60_000).toFixed(1)} min):\n`,
      );
      const histogram = new Map<string, number>();
      let learnable = 0;
      for (const attempt of valid) {
        const mine = outcomes.filter((outcome) => outcome.attempt === attempt);
        const passes = mine.filter((outcome) => outcome.resolved).length;
        const rate = passes / group;
        if (rate > 0 && rate < 1) learnable++;
        histogram.set(`${passes}/${group}`, (histogram.get(`${passes}/${group}`) ?? 0) + 1);
        const runs = mine.reduce((sum, outcome) => sum + outcome.testRuns, 0) / mine.length;
        process.stdout.write(
          `  ${attempt.strategy.padEnd(8)} seed ${String(attempt.seed).padEnd(3)} s = ${rate.toFixed(3)} (mean solver test runs ${runs.toFixed(1)}): ${attempt.description.slice(0, 100)}\n`,
        );
      }
      process.stdout.write(
        `  distribution: ${[...histogram.entries()]
          .sort()
          .map(([key, count]) => `${key}: ${count}`)
          .join(", ")}\n`,
      );
      process.stdout.write(
        `  learnable band 0 < s < 1: ${learnable}/${valid.length} = ${(learnable / valid.length).toFixed(2)}\n`,
      );
    }
  } finally {
    await validator.close();
    await backend.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
