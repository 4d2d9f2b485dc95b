// The `validate`, `grade` and `task` commands: consistency checks of an artifact directory, grading of a
// predicted patch, and writing out a solver's starting tree with its prompt. The composition root and the
// validation layer load once the inputs are read, so a missing artifact or a bad flag is refused at once.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { readArtifactDir } from "../../artifact-io/index.js";
import { InfrastructureError, InputError } from "../../errors.js";
import type { Environment, SandboxBackend } from "../../ports/sandbox.js";
import { resolveThresholds } from "../../validation/thresholds.js";
import type { CheckFlags, EnvironmentFlags, TaskFlags } from "../definitions/validate.js";
import { EXIT_NEGATIVE, EXIT_OK } from "../exit-codes.js";
import { integerFlag } from "../flags.js";

function environmentFrom(flags: EnvironmentFlags): Environment {
  if (flags.repo && flags.image)
    throw new InputError("usage", "give either --repo DIR or --image NAME, not both");
  if (flags.repo) return { kind: "dir", path: resolve(flags.repo) };
  if (flags.image)
    return { kind: "image", image: flags.image, ...(flags.workdir ? { workdir: flags.workdir } : {}) };
  throw new InputError(
    "usage",
    "say where the repository is: --repo DIR (a directory) or --image NAME (a Docker image)",
  );
}

function thresholdsFrom(flags: CheckFlags) {
  const seconds = flags.testTimeout === undefined ? undefined : Number(flags.testTimeout);
  if (seconds !== undefined && !(seconds > 0)) {
    throw new InputError(
      "usage",
      `--test-timeout needs a positive number of seconds, got ${flags.testTimeout}`,
    );
  }
  try {
    return resolveThresholds({
      minPassingTests: integerFlag(flags.minPassingTests, "--min-passing-tests"),
      minFailingTests: integerFlag(flags.minFailingTests, "--min-failing-tests"),
      minChangedFiles: integerFlag(flags.minChangedFiles, "--min-changed-files"),
      baselineRuns: integerFlag(flags.baselineRuns, "--baseline-runs"),
      testTimeoutMs: seconds === undefined ? undefined : seconds * 1000,
    });
  } catch (error) {
    throw new InputError("usage", (error as Error).message);
  }
}

async function withBackend<T>(work: (sandboxes: SandboxBackend) => Promise<T>): Promise<T> {
  const { openConfiguredSandboxes } = await import("../../compose/index.js");
  const sandboxes = openConfiguredSandboxes();
  try {
    return await work(sandboxes);
  } finally {
    await sandboxes.close();
  }
}

function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort(new InputError("interrupted", "interrupted by SIGINT")));
  process.once("SIGTERM", () => controller.abort(new InputError("interrupted", "interrupted by SIGTERM")));
  return controller.signal;
}

export async function validateCommand(artifactDir: string, flags: CheckFlags): Promise<void> {
  const environment = environmentFrom(flags);
  const artifact = await readArtifactDir(resolve(artifactDir));
  const thresholds = thresholdsFrom(flags);
  const { configuredValidator } = await import("../../compose/index.js");
  const { formatReport } = await import("../../validation/index.js");
  const report = await withBackend(async (sandboxes) => {
    const validator = configuredValidator({
      sandboxes,
      thresholds,
      concurrency: integerFlag(flags.concurrency, "--concurrency") || undefined,
    });
    try {
      return await validator.validate(environment, artifact, { abortSignal: interruptSignal() });
    } finally {
      await validator.close();
    }
  });
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  process.exitCode = report.verdict === "valid" ? EXIT_OK : EXIT_NEGATIVE;
}

export async function gradeCommand(artifactDir: string, patchFile: string, flags: CheckFlags): Promise<void> {
  const environment = environmentFrom(flags);
  const artifact = await readArtifactDir(resolve(artifactDir));
  let patch: string;
  try {
    patch = readFileSync(resolve(patchFile), "utf8");
  } catch (error) {
    throw new InputError("usage", `cannot read the patch file ${patchFile}: ${(error as Error).message}`);
  }
  const thresholds = thresholdsFrom(flags);
  const { configuredValidator } = await import("../../compose/index.js");
  const { formatGrade, formatReport, grade } = await import("../../validation/index.js");
  const abortSignal = interruptSignal();
  const outcome = await withBackend(async (sandboxes) => {
    const validator = configuredValidator({ sandboxes, thresholds });
    try {
      const report = await validator.validate(environment, artifact, { abortSignal });
      if (report.verdict !== "valid") return { report, grade: null };
      const result = await grade({
        sandboxes,
        environment,
        artifact,
        report,
        patch,
        timeoutMs: thresholds.testTimeoutMs,
        abortSignal,
      });
      return { report, grade: result };
    } finally {
      await validator.close();
    }
  });
  if (flags.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  else if (outcome.grade === null) {
    process.stdout.write(
      `the artifact is not valid, so there is nothing to grade against\n\n${formatReport(outcome.report)}`,
    );
  } else process.stdout.write(formatGrade(outcome.grade));
  if (outcome.grade === null)
    throw new InputError(
      "invalid-artifact",
      `artifact ${outcome.report.artifactId} is invalid (${outcome.report.reason}); grading needs a valid artifact`,
    );
  process.exitCode = outcome.grade.resolved ? EXIT_OK : EXIT_NEGATIVE;
}

export async function taskCommand(artifactDir: string, flags: TaskFlags): Promise<void> {
  const environment = environmentFrom(flags);
  const artifact = await readArtifactDir(resolve(artifactDir));
  const out = resolve(flags.out);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    if (!flags.overwrite)
      throw new InputError(
        "out-exists",
        `--out ${flags.out} already exists and is not empty: choose another directory, or pass --overwrite to replace it`,
      );
    rmSync(out, { recursive: true, force: true });
  }
  const { createSolverTask } = await import("../../validation/index.js");
  const repo = join(out, "repo");
  mkdirSync(repo, { recursive: true });
  await withBackend(async (sandboxes) => {
    const task = await createSolverTask({ sandboxes, environment, artifact, label: "cli:task" });
    try {
      // The tree travels as base64 text, since command output is text.
      const packed = await task.sandbox.run({
        command: "tar -cf - . | gzip -1 | base64 -w 0",
        cwd: task.sandbox.workdir,
        timeoutMs: 300_000,
        maxOutputBytes: 1024 * 1024 * 1024,
      });
      if (packed.status !== "exited" || packed.exitCode !== 0 || packed.truncated) {
        throw new InfrastructureError(
          "task-export-failed",
          `could not pack the buggy tree in sandbox ${task.sandbox.id}: ${packed.status} ${packed.stderr.trim()}`,
        );
      }
      execFileSync("tar", ["-xzf", "-", "-C", repo], { input: Buffer.from(packed.stdout, "base64") });
      writeFileSync(join(out, "prompt.md"), task.prompt);
      writeFileSync(join(out, "specification.diff"), task.specification);
    } finally {
      await task.sandbox.destroy();
    }
  });
  const written = { repo, prompt: join(out, "prompt.md"), specification: join(out, "specification.diff") };
  process.stdout.write(
    flags.json ? `${JSON.stringify(written, null, 2)}\n` : `${Object.values(written).join("\n")}\n`,
  );
}
