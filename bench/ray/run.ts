// Benchmark of swe_selfplay.ray (bench/ray/bench.py with the trainer's Python, where Ray is installed by
// scripts/prepare-trainer.sh): deploy and teardown time of N replicas on a Ray cluster on this machine,
// per-step overhead through the deployment's pool vs a direct ReplicaPool (goal ≤ 1 %), memory per idle
// node. This file starts the scripted model server and the Python fixture repository the replicas play on.
// Usage: npx tsx bench/ray/run.ts [--replicas 3] [--rounds 2] [--steps 6]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { startRayModel } from "../../test/ray/model.js";
import { projectRoot } from "../../test/support/cli.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { findTrainerPython } from "../../test/support/trainer-python.js";
import { positiveOption } from "../support/options.js";

const args = process.argv.slice(2);
const python = findTrainerPython();
if (typeof python !== "string") throw new Error(python.missing);
const defaults = { "--replicas": 3, "--rounds": 2, "--steps": 6 };
const options = Object.entries(defaults).flatMap(([name, fallback]) => [
  name,
  String(positiveOption(args, name, fallback)),
]);
const temp = makeTempDir("swe-selfplay-bench-ray-");
const model = await startRayModel();
try {
  const repo = await makePythonFixtureRepo(temp.path);
  // Asynchronous, so this process keeps answering as the replicas' model server.
  const child = spawn(python, [join(projectRoot, "bench/ray/bench.py"), ...options], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      RAY_USAGE_STATS_ENABLED: "0",
      // The supervising actors import swe_selfplay on every node.
      PYTHONPATH: join(projectRoot, "python"),
      SWE_SELFPLAY_RAY_MODEL_URL: model.baseUrl,
      SWE_SELFPLAY_RAY_REPO: repo,
      SWE_SELFPLAY_RAY_CLI: JSON.stringify([process.execPath, join(projectRoot, "bin/swe-selfplay.js")]),
    },
  });
  process.exitCode = await new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
} finally {
  await model.close();
  temp.remove();
}
