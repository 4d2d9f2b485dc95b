// Benchmark of the orchestrator's own CPU per self-play step: the agent policy against the scripted model
// server (in a separate process) on the Python fixture in local sandboxes, and the same run with a scripted
// policy (no model, no agent loop) to separate the orchestrator from the agent.
// Usage: npx tsx bench/run/model-cpu.ts [--steps 4] [--group-size 4] [--json]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createAgentPolicy } from "../../src/agent/index.js";
import { runConfiguredSelfPlay } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { createModelClient } from "../../src/model/index.js";
import type { Policy } from "../../src/ports/policy.js";
import { createScriptedPolicy } from "../../test/e2e/scripted-policy.js";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { makeTempDir } from "../../test/support/tmp.js";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}
const steps = option("steps", 4);
const groupSize = option("group-size", 4);
const json = process.argv.includes("--json");

const temp = makeTempDir("swe-selfplay-bench-cpu-");
const server = spawn(
  process.execPath,
  ["--import", "tsx", fileURLToPath(new URL("./scripted-server-process.ts", import.meta.url))],
  { stdio: ["pipe", "pipe", "inherit"] },
);
try {
  const [baseUrl] = (await once(createInterface({ input: server.stdout! }), "line")) as [string];
  const repo = await makePythonFixtureRepo(temp.path);

  async function measure(name: string, policy: Policy) {
    const config = parseConfig({
      environments: [{ name: "inkwell", path: repo }],
      groupSize,
      limits: { steps },
      secondOrder: { enabled: false },
      store: join(temp.path, `${name}.db`),
    });
    const before = process.cpuUsage();
    const result = await runConfiguredSelfPlay(config, { policy });
    const cpu = process.cpuUsage(before);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      policy: name,
      steps: result.summary.steps.total,
      attempts: result.summary.attempts.graded,
      wallTimeS: result.summary.wallTimeMs / 1000,
      cpuMsPerStep: cpuMs / Math.max(1, result.summary.steps.total),
      cpuMsPerEpisode: cpuMs / Math.max(1, result.summary.steps.total + result.summary.attempts.graded),
    };
  }

  const agent = await measure(
    "agent+scripted-server",
    createAgentPolicy({ client: createModelClient({ baseUrl, model: "scripted" }), modelName: "scripted" }),
  );
  const scripted = await measure("scripted", createScriptedPolicy({ artifact: pythonFixtureArtifact() }));
  const figures = { steps, groupSize, runs: [agent, scripted] };
  if (json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  else
    for (const run of figures.runs)
      process.stdout.write(
        `${run.policy.padEnd(24)} ${run.steps} steps, ${run.attempts} attempts, wall ${run.wallTimeS.toFixed(1)} s, ` +
          `process CPU ${run.cpuMsPerStep.toFixed(0)} ms/step (${run.cpuMsPerEpisode.toFixed(0)} ms/episode)\n`,
      );
} finally {
  server.stdin?.end();
  temp.remove();
}
