// Benchmark of `run` with the built-in policy: self-play steps per hour and the share of sandbox time spent
// in test runs (target ≥ 90 %). On toolz in Docker by default; --repo DIR uses a local directory instead.
// Usage: npx tsx bench/run/builtin.ts [--steps 3] [--group-size 2] [--image swe-selfplay/toolz:latest | --repo DIR] [--json]
import { join } from "node:path";
import { createBuiltinPolicy } from "../../src/builtin/index.js";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { sandboxShares, timedSandboxes } from "./timed-sandboxes.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const steps = Number(option("steps") ?? 3);
const groupSize = Number(option("group-size") ?? 2);
const repo = option("repo");
const image = option("image") ?? "swe-selfplay/toolz:latest";
const json = process.argv.includes("--json");

const temp = makeTempDir("swe-selfplay-bench-run-");
const sandboxes = timedSandboxes(openSandboxes());
try {
  const config = parseConfig({
    environments: [repo ? { name: "repo", path: repo } : { name: "toolz", image }],
    groupSize,
    limits: { steps },
    store: join(temp.path, "store.db"),
  });
  const cpuBefore = process.cpuUsage();
  const result = await runConfiguredSelfPlay(config, {
    policy: createBuiltinPolicy(),
    sandboxes: sandboxes.backend,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const shares = sandboxShares(sandboxes.times);
  const figures = {
    environment: repo ?? image,
    steps: result.summary.steps.total,
    validArtifacts: result.summary.artifacts.valid,
    invalidArtifacts: result.summary.artifacts.invalid,
    noArtifact: result.summary.artifacts.noArtifact,
    attempts: result.summary.attempts.graded,
    wallTimeS: result.summary.wallTimeMs / 1000,
    stepsPerHour: result.summary.stepsPerHour,
    sandboxTimeS: shares.totalMs / 1000,
    testRunShareOfSandboxTime: shares.testShare,
    testRuns: sandboxes.times.testRuns,
    sandboxesCreated: sandboxes.times.sandboxes,
    createS: sandboxes.times.createMs / 1000,
    parserRunsS: sandboxes.times.parserRunMs / 1000,
    otherCommandsS: sandboxes.times.otherRunMs / 1000,
    otherByProgramS: Object.fromEntries(
      Object.entries(sandboxes.times.otherByProgram)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([program, ms]) => [program, Math.round(ms) / 1000]),
    ),
    fileOpsS: sandboxes.times.fileMs / 1000,
    orchestratorCpuS: (cpu.user + cpu.system) / 1e6,
  };
  if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else
    process.stdout.write(
      [
        `environment                 ${figures.environment}`,
        `steps                       ${figures.steps} (valid ${figures.validArtifacts}, invalid ${figures.invalidArtifacts}, none ${figures.noArtifact}), attempts ${figures.attempts}`,
        `wall time                   ${figures.wallTimeS.toFixed(1)} s  → ${figures.stepsPerHour?.toFixed(1)} steps/hour`,
        `sandbox time                ${figures.sandboxTimeS.toFixed(1)} s in ${figures.sandboxesCreated} sandboxes`,
        `  test runs                 ${(figures.testRunShareOfSandboxTime * 100).toFixed(1)} % (${figures.testRuns} runs; target ≥ 90 %)`,
        `  create / parser / files   ${figures.createS.toFixed(1)} s / ${figures.parserRunsS.toFixed(1)} s / ${figures.fileOpsS.toFixed(1)} s`,
        `  other commands            ${figures.otherCommandsS.toFixed(1)} s: ${JSON.stringify(figures.otherByProgramS)}`,
        `orchestrator process CPU    ${figures.orchestratorCpuS.toFixed(1)} s`,
        "",
      ].join("\n"),
    );
} finally {
  await sandboxes.backend.close();
  temp.remove();
}
