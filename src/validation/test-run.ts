// One test run: test_script.sh in a sandbox, its output captured (capped), test_parser.py on that output in
// the same sandbox (the parser is untrusted code too), the result turned into a typed TestRun.
import type { RunResult, SandboxView } from "../ports/sandbox.js";
import type { TestResults, TestRun, TestStatus } from "../ports/validation.js";
import type { RunTestSuiteOptions } from "./options.js";

/** Outside the repository tree, so the script and parser never show up in diffs or test collection. */
export const PRIVATE_DIR = "/tmp/.swe-selfplay";
const SCRIPT_PATH = `${PRIVATE_DIR}/test_script.sh`;
const PARSER_PATH = `${PRIVATE_DIR}/test_parser.py`;
export const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const PARSER_TIMEOUT_MS = 60_000;
const PARSER_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
const TAIL_CHARS = 2_000;
const STATUSES: ReadonlySet<string> = new Set<TestStatus>(["passed", "failed", "skipped", "error"]);

export type ParsedOutput =
  | { status: "ok"; results: TestResults }
  | { status: "not-json" | "wrong-shape" | "empty"; message: string };

/** Checks what a parser printed: exactly one JSON object mapping test ids to one of the four statuses. */
export function interpretParserOutput(stdout: string): ParsedOutput {
  const text = stdout.trim();
  if (text === "") return { status: "not-json", message: "the parser printed nothing" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      status: "not-json",
      message: `the parser output is not one JSON value (${(error as Error).message}); it starts with ${JSON.stringify(text.slice(0, 120))}`,
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return {
      status: "wrong-shape",
      message: `the parser printed ${kind}, expected an object {test_id: status}`,
    };
  }
  const results: TestResults = {};
  for (const [id, status] of Object.entries(value)) {
    if (id.trim() === "") return { status: "wrong-shape", message: "the parser printed an empty test id" };
    if (typeof status !== "string" || !STATUSES.has(status)) {
      return {
        status: "wrong-shape",
        message: `test ${JSON.stringify(id)} has status ${JSON.stringify(status)}; expected "passed", "failed", "skipped" or "error"`,
      };
    }
    results[id] = status as TestStatus;
  }
  if (Object.keys(results).length === 0)
    return { status: "empty", message: "the parser found no tests ({})" };
  return { status: "ok", results };
}

function tail(text: string): string {
  return text.length <= TAIL_CHARS ? text : text.slice(text.length - TAIL_CHARS);
}

/** The captured output of one execution of test_script.sh, kept so the parser can be run on it again. */
export interface ScriptExecution {
  run: RunResult;
  output: string;
}

/** Writes the script and parser to the private directory of the sandbox. */
export async function installTestFiles(
  sandbox: SandboxView,
  files: { testScript: string; testParser: string },
): Promise<void> {
  await sandbox.writeFile(SCRIPT_PATH, files.testScript, { mode: 0o755 });
  await sandbox.writeFile(PARSER_PATH, files.testParser, { mode: 0o644 });
}

/** Runs the installed test_script.sh from the workdir; stderr is merged into stdout as a terminal would show. */
export async function executeTestScript(
  sandbox: SandboxView,
  options: { timeoutMs: number; abortSignal?: AbortSignal; maxOutputBytes?: number },
): Promise<ScriptExecution> {
  const run = await sandbox.run({
    command: `bash ${SCRIPT_PATH} 2>&1`,
    cwd: sandbox.workdir,
    stdin: "",
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    abortSignal: options.abortSignal,
  });
  return { run, output: run.stdout + run.stderr };
}

/** Runs the installed parser on captured output; the duration covers only the parser. */
export async function parseTestOutput(
  sandbox: SandboxView,
  output: string,
  abortSignal?: AbortSignal,
): Promise<{
  parsed: ParsedOutput | { status: "parser-crashed" | "aborted"; message: string };
  durationMs: number;
}> {
  const run = await sandbox.run({
    command: `if command -v python3 >/dev/null 2>&1; then exec python3 ${PARSER_PATH}; else exec python ${PARSER_PATH}; fi`,
    cwd: PRIVATE_DIR,
    stdin: output,
    timeoutMs: PARSER_TIMEOUT_MS,
    maxOutputBytes: PARSER_MAX_OUTPUT_BYTES,
    abortSignal,
  });
  if (run.status === "aborted")
    return { parsed: { status: "aborted", message: "aborted" }, durationMs: run.durationMs };
  if (run.status === "timed-out") {
    return {
      parsed: {
        status: "parser-crashed",
        message: `test_parser.py did not finish within ${PARSER_TIMEOUT_MS / 1000} s`,
      },
      durationMs: run.durationMs,
    };
  }
  if (run.exitCode !== 0) {
    const lastLine = run.stderr.trim().split("\n").pop() ?? "";
    return {
      parsed: {
        status: "parser-crashed",
        message: `test_parser.py exited with code ${run.exitCode}${lastLine ? `: ${lastLine}` : ""}`,
      },
      durationMs: run.durationMs,
    };
  }
  if (run.truncated) {
    return {
      parsed: {
        status: "not-json",
        message: `the parser printed more than ${PARSER_MAX_OUTPUT_BYTES} bytes`,
      },
      durationMs: run.durationMs,
    };
  }
  return { parsed: interpretParserOutput(run.stdout), durationMs: run.durationMs };
}

/** Turns a script execution and its parse into a TestRun. */
export function toTestRun(
  execution: ScriptExecution,
  parse: Awaited<ReturnType<typeof parseTestOutput>> | null,
  timeoutMs: number,
): TestRun {
  const { run, output } = execution;
  if (run.status === "timed-out") {
    return {
      status: "timed-out",
      message: `test_script.sh did not finish within ${Math.round(timeoutMs / 1000)} s`,
      durationMs: run.durationMs,
      outputTail: tail(output),
    };
  }
  if (run.status === "aborted" || parse === null) {
    return {
      status: "aborted",
      message: "the test run was aborted",
      durationMs: run.durationMs,
      outputTail: tail(output),
    };
  }
  const durationMs = run.durationMs + parse.durationMs;
  if (parse.parsed.status === "ok") {
    return { status: "ok", results: parse.parsed.results, durationMs, truncated: run.truncated };
  }
  return { status: parse.parsed.status, message: parse.parsed.message, durationMs, outputTail: tail(output) };
}

/** Runs the test script and its parser in `sandbox`; every failure is a TestRun status, never an exception. */
export async function runTestSuite(sandbox: SandboxView, options: RunTestSuiteOptions): Promise<TestRun> {
  return (await runTestSuiteKeepingOutput(sandbox, options)).testRun;
}

/** Like runTestSuite, also returning the captured output (the parser check runs the parser on it again). */
export async function runTestSuiteKeepingOutput(
  sandbox: SandboxView,
  options: RunTestSuiteOptions,
): Promise<{ testRun: TestRun; execution: ScriptExecution }> {
  await installTestFiles(sandbox, options);
  const execution = await executeTestScript(sandbox, options);
  const parse =
    execution.run.status === "exited"
      ? await parseTestOutput(sandbox, execution.output, options.abortSignal)
      : null;
  return { testRun: toTestRun(execution, parse, options.timeoutMs), execution };
}
