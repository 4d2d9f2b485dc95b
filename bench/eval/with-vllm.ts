// Runs `swe-selfplay eval` against the real small model on a local vLLM (CPU build, as scripts/prepare-vllm.sh
// prepares it), started the way the tests start it (one vLLM on the machine at a time: the same lock), for at
// most --minutes M; then the evaluation is interrupted (SIGTERM: it stops, resumable with --resume) and vLLM stops.
// Usage: npx tsx bench/eval/with-vllm.ts [--minutes M] -- <eval arguments without --base-url and --model>
import { spawn } from "node:child_process";
import { projectRoot } from "../../test/support/cli.js";
import { findVllm, startVllm } from "../../test/support/vllm-server.js";
import { positiveOption } from "../support/options.js";

const args = process.argv.slice(2);
const separator = args.indexOf("--");
if (separator < 0) throw new Error("usage: with-vllm.ts [--minutes M] -- <eval arguments>");
const minutes = positiveOption(args.slice(0, separator), "--minutes", 30);
const evalArgs = args.slice(separator + 1);
const installation = findVllm();
if (typeof installation === "string") throw new Error(installation);
process.stderr.write("starting vLLM (waits for another user's vLLM to stop first)\n");
// Seeded requests need chunked prefill off on vLLM's CPU worker.
const vllm = await startVllm(installation, { acceptSeeds: true });
process.stderr.write(`vLLM serving ${vllm.model} at ${vllm.baseUrl}\n`);
try {
  const child = spawn(
    process.execPath,
    [
      // tsx resolved from this checkout: the evaluation may run in any directory.
      "--import",
      import.meta.resolve("tsx"),
      `${projectRoot}src/cli/main.ts`,
      "eval",
      ...evalArgs,
      "--policy",
      "openai",
      "--base-url",
      vllm.baseUrl,
      "--model",
      vllm.model,
    ],
    { stdio: "inherit", cwd: process.cwd() },
  );
  const deadline = setTimeout(() => {
    process.stderr.write(`${minutes} min reached: interrupting the evaluation (continue it with --resume)\n`);
    child.kill("SIGTERM");
  }, minutes * 60_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(deadline);
  process.exitCode = code ?? 2;
} finally {
  await vllm.stop();
}
