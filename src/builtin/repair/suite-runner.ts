// Test runs for the repair solver, keeping the raw output: stack traces in it are what localisation reads.
import type { SandboxView } from "../../ports/sandbox.js";
import type { TestResults } from "../../ports/validation.js";
import { interpretParserOutput } from "../../test-run/index.js";

/** Outside the repository, so the script and parser never appear in the predicted patch. */
const PRIVATE_DIR = "/tmp/.swe-selfplay-repair";

export type SuiteRun =
  | { status: "ok"; results: TestResults; output: string; durationMs: number }
  | { status: "failed"; reason: string; output: string; durationMs: number };

export interface SuiteRunner {
  run(abortSignal?: AbortSignal): Promise<SuiteRun>;
}

export async function createSuiteRunner(
  sandbox: SandboxView,
  options: { testScript: string; testParser: string; timeoutMs: number },
): Promise<SuiteRunner> {
  await sandbox.writeFile(`${PRIVATE_DIR}/test_script.sh`, options.testScript, { mode: 0o755 });
  await sandbox.writeFile(`${PRIVATE_DIR}/test_parser.py`, options.testParser);
  return {
    async run(abortSignal) {
      const execution = await sandbox.run({
        command: `bash ${PRIVATE_DIR}/test_script.sh 2>&1`,
        cwd: sandbox.workdir,
        stdin: "",
        timeoutMs: options.timeoutMs,
        maxOutputBytes: 8 * 1024 * 1024,
        abortSignal,
      });
      const output = execution.stdout + execution.stderr;
      if (execution.status !== "exited") {
        return {
          status: "failed",
          reason: `test script ${execution.status}`,
          output,
          durationMs: execution.durationMs,
        };
      }
      const parse = await sandbox.run({
        command: `python3 ${PRIVATE_DIR}/test_parser.py`,
        cwd: PRIVATE_DIR,
        stdin: execution.stdout,
        timeoutMs: 60_000,
        maxOutputBytes: 32 * 1024 * 1024,
        abortSignal,
      });
      const durationMs = execution.durationMs + parse.durationMs;
      if (parse.status !== "exited" || parse.exitCode !== 0) {
        return {
          status: "failed",
          reason: `test parser failed: ${parse.stderr.trim().split("\n").pop() ?? ""}`,
          output,
          durationMs,
        };
      }
      const parsed = interpretParserOutput(parse.stdout);
      if (parsed.status !== "ok") return { status: "failed", reason: parsed.message, output, durationMs };
      return { status: "ok", results: parsed.results, output, durationMs };
    },
  };
}
