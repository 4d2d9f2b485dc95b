// One test run: test_script.sh in a sandbox, its output captured (capped), test_parser.py on that output in
// the same sandbox (the parser is untrusted code too), the result turned into a typed TestRun. Validation,
// grading and the builtin proposer all run suites this way.
import { randomBytes } from "node:crypto";
import type { RunResult, SandboxView } from "../ports/sandbox.js";
import type { TestRun } from "../ports/validation.js";
import { shellQuote } from "../shell-quote.js";
import type { RunObserver, RunTestSuiteOptions } from "./options.js";
import { interpretParserOutput, type ParsedOutput } from "./parser-output.js";

/** Outside the repository tree, so the script and parser never show up in diffs or test collection. */
export const PRIVATE_DIR = "/tmp/.swe-selfplay";
const SCRIPT_PATH = `${PRIVATE_DIR}/test_script.sh`;
const PARSER_PATH = `${PRIVATE_DIR}/test_parser.py`;
export const DEFAULT_MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const PARSER_TIMEOUT_MS = 60_000;
const PARSER_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
const TAIL_CHARS = 2_000;

/** The last part of a test output, kept in failed runs for their reports. */
export function tail(text: string): string {
  return text.length <= TAIL_CHARS ? text : text.slice(text.length - TAIL_CHARS);
}

/** The captured output of one execution of test_script.sh, kept so the parser can be run on it again. */
export interface ScriptExecution {
  run: RunResult;
  output: string;
  /**
   * What the observer's after-snippet printed; null when it was asked for and did not print (the run timed
   * out, or something stopped it); absent without an observer.
   */
  observed?: string | null;
}

/**
 * A shell script that writes the test script and parser (base64, so bytes stay exact) to the private
 * directory. It travels on the standard input of the test run itself: no extra round trip per run.
 */
export function installBundle(
  files: Pick<RunTestSuiteOptions, "testScript" | "testParser" | "prepare" | "observe">,
): string {
  const write = (path: string, content: string | Buffer, append = false) => {
    const encoded = Buffer.from(content)
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n");
    return `base64 -d ${append ? ">>" : ">"} ${path} <<'SWE_SELFPLAY_END'\n${encoded}SWE_SELFPLAY_END\n`;
  };
  const lines = [`set -e\n${write(SCRIPT_PATH, files.testScript)}${write(PARSER_PATH, files.testParser)}`];
  for (const file of files.observe?.files ?? []) {
    lines.push(`mkdir -p -- ${shellQuote(file.path.slice(0, file.path.lastIndexOf("/")))}\n`);
    lines.push(write(shellQuote(file.path), file.content));
  }
  const prepare = files.prepare;
  if (prepare) {
    // Relative paths: install.sh runs from the repository root. Whatever a patch left at a path that is
    // written whole (a directory, a symlink) goes first, so the write lands in the repository.
    const cleared = [
      ...prepare.remove,
      ...prepare.write.filter((file) => !file.append).map((file) => file.path),
    ];
    if (cleared.length > 0) lines.push(`rm -rf -- ${cleared.map(shellQuote).join(" ")}\n`);
    for (const file of prepare.write) {
      const slash = file.path.lastIndexOf("/");
      if (slash > 0) lines.push(`mkdir -p -- ${shellQuote(file.path.slice(0, slash))}\n`);
      lines.push(write(shellQuote(file.path), file.content, file.append));
      if (file.mode !== undefined) lines.push(`chmod ${file.mode.toString(8)} -- ${shellQuote(file.path)}\n`);
    }
  }
  return lines.join("");
}

/**
 * Installs the script and parser from stdin (and makes the tree edits of `prepare`), then runs test_script.sh from the workdir with an empty stdin;
 * stderr is merged into stdout as a terminal would show it.
 */
export async function executeTestScript(
  sandbox: SandboxView,
  options: RunTestSuiteOptions,
): Promise<ScriptExecution> {
  const observe = options.observe;
  const fence = observe ? `SWE_SELFPLAY_OBSERVED_${randomBytes(9).toString("hex")}` : "";
  // The installer is removed before the script runs: the code under test cannot read the run's plan in it.
  const install = `mkdir -p ${PRIVATE_DIR} && cat > ${PRIVATE_DIR}/install.sh && bash ${PRIVATE_DIR}/install.sh && rm -f ${PRIVATE_DIR}/install.sh`;
  const command = observe
    ? `${install} && { ${OBSERVER_SETUP}; bash ${SCRIPT_PATH} </dev/null 2>&1; echo ${fence} >&2; bash ${AFTER_PATH} >&2; echo ${fence} >&2; }`
    : `${install} && exec bash ${SCRIPT_PATH} </dev/null 2>&1`;
  const run = await sandbox.run({
    command,
    cwd: sandbox.workdir,
    stdin: installBundle(observe ? { ...options, observe: withObserverFiles(observe) } : options),
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    abortSignal: options.abortSignal,
  });
  if (!observe) return { run, output: run.stdout + run.stderr };
  const end = run.stderr.lastIndexOf(`${fence}\n`);
  const start = end < 0 ? -1 : run.stderr.lastIndexOf(`${fence}\n`, end - 1);
  if (start < 0) return { run, output: run.stdout + run.stderr, observed: null };
  const observed = run.stderr.slice(start + fence.length + 1, end);
  return { run, output: run.stdout + run.stderr.slice(0, start), observed };
}

const SETUP_PATH = `${PRIVATE_DIR}/setup.sh`;
const AFTER_PATH = `${PRIVATE_DIR}/after.sh`;
/** Sourced in the shell that starts the script, so its exports reach it. */
const OBSERVER_SETUP = `. ${SETUP_PATH}`;

function withObserverFiles(observe: RunObserver): RunObserver {
  return {
    ...observe,
    files: [
      ...observe.files,
      { path: SETUP_PATH, content: observe.setup },
      { path: AFTER_PATH, content: observe.after },
    ],
  };
}

/** What running the parser gave: its checked output, or why there is none. */
export type ParserOutcome = ParsedOutput | { status: "parser-crashed" | "aborted"; message: string };

/** Runs the installed parser on captured output; the duration covers only the parser. */
export async function parseTestOutput(
  sandbox: SandboxView,
  output: string,
  abortSignal?: AbortSignal,
): Promise<{ parsed: ParserOutcome; durationMs: number; graceMs?: number }> {
  const run = await sandbox.run({
    command: `if command -v python3 >/dev/null 2>&1; then exec python3 ${PARSER_PATH}; else exec python ${PARSER_PATH}; fi`,
    cwd: PRIVATE_DIR,
    stdin: output,
    timeoutMs: PARSER_TIMEOUT_MS,
    maxOutputBytes: PARSER_MAX_OUTPUT_BYTES,
    abortSignal,
  });
  const parsed = parserOutcome(run);
  return run.graceMs === undefined ? parsed : { ...parsed, graceMs: run.graceMs };
}

function parserOutcome(run: RunResult): { parsed: ParserOutcome; durationMs: number } {
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
  const testRun = toTestRunWithoutGrace(execution, parse, timeoutMs);
  const graceMs = (execution.run.graceMs ?? 0) + (parse?.graceMs ?? 0);
  return graceMs > 0 ? { ...testRun, graceMs } : testRun;
}

function toTestRunWithoutGrace(
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
  const execution = await executeTestScript(sandbox, options);
  const parse =
    execution.run.status === "exited"
      ? await parseTestOutput(sandbox, execution.output, options.abortSignal)
      : null;
  return { testRun: toTestRun(execution, parse, options.timeoutMs), execution };
}
