// The `validate`, `grade` and `task` commands' flags and help; their implementation
// (src/cli/commands/validate.ts) loads when one runs.
import type { Command } from "commander";
import { configDefault } from "../../config/index.js";
import { DEFAULT_WORKDIR } from "../../ports/sandbox.js";
import { DEFAULT_TEST_RUN_CONCURRENCY } from "../../validation/thresholds.js";

export interface EnvironmentFlags {
  repo?: string;
  image?: string;
  workdir?: string;
}

export interface CheckFlags extends EnvironmentFlags {
  json?: boolean;
  concurrency?: string;
  minPassingTests?: string;
  minFailingTests?: string;
  minChangedFiles?: string;
  baselineRuns?: string;
  testTimeout?: string;
}

export type TaskFlags = EnvironmentFlags & { out: string; overwrite?: boolean; json?: boolean };

function addEnvironmentOptions(command: Command): Command {
  return command
    .option("--repo <dir>", "the repository as a directory (local bubblewrap sandboxes)")
    .option("--image <name>", "the repository inside a Docker image")
    .option("--workdir <path>", `where the repository is inside the image [${DEFAULT_WORKDIR}]`);
}

function addCheckOptions(command: Command): Command {
  const threshold = (key: string) => configDefault(`thresholds.${key}`);
  return addEnvironmentOptions(command)
    .option("--json", "print the result as JSON")
    .option("--concurrency <n>", `test runs in flight at once [${DEFAULT_TEST_RUN_CONCURRENCY}]`)
    .option("--min-passing-tests <n>", `threshold of the baseline check [${threshold("minPassingTests")}]`)
    .option("--min-failing-tests <n>", `threshold of the bug check [${threshold("minFailingTests")}]`)
    .option("--min-changed-files <n>", `threshold of the scope check [${threshold("minChangedFiles")}]`)
    .option("--baseline-runs <n>", `baseline runs, for flaky-test detection [${threshold("baselineRuns")}]`)
    .option(
      "--test-timeout <seconds>",
      `limit of one test-script run [${Number(threshold("testTimeoutMs")) / 1000}]`,
    );
}

export function register(program: Command): void {
  const load = () => import("../commands/validate.js");
  addCheckOptions(
    program
      .command("validate")
      .description(
        "Run the consistency checks on a bug artifact directory; exit 0 valid, 1 rejected, 2 error",
      )
      .argument("<artifact-dir>", "directory with the five artifact files (and meta.json)"),
  ).action(async (artifactDir: string, flags: CheckFlags) => {
    await (await load()).validateCommand(artifactDir, flags);
  });

  addCheckOptions(
    program
      .command("grade")
      .description(
        "Validate an artifact, then grade a predicted patch against it; exit 0 resolved, 1 not, 2 error",
      )
      .argument("<artifact-dir>", "directory with the five artifact files")
      .argument("<patch-file>", "the predicted patch (git diff relative to the buggy state)"),
  ).action(async (artifactDir: string, patchFile: string, flags: CheckFlags) => {
    await (await load()).gradeCommand(artifactDir, patchFile, flags);
  });

  addEnvironmentOptions(
    program
      .command("task")
      .description(
        "Write a solver's starting tree (buggy state, one fresh commit) and its prompt to a directory",
      )
      .argument("<artifact-dir>", "directory with the five artifact files")
      .requiredOption("--out <dir>", "where to write repo/, prompt.md and specification.diff")
      .option("--overwrite", "replace --out when it exists and is not empty")
      .option("--json", "print what was written as JSON"),
  ).action(async (artifactDir: string, flags: TaskFlags) => {
    await (await load()).taskCommand(artifactDir, flags);
  });
}
