import { describe, expect, it } from "vitest";
import type { RunResult } from "../ports/sandbox.js";
import { toTestRun } from "./run-test-suite.js";

function run(overrides: Partial<RunResult>): RunResult {
  return {
    status: "exited",
    exitCode: 0,
    stdout: "",
    stderr: "",
    truncated: false,
    durationMs: 10,
    ...overrides,
  };
}

describe("toTestRun", () => {
  it("carries the grace a command of the run needed, and nothing when none did", () => {
    const parse = { parsed: { status: "ok" as const, results: { a: "passed" as const } }, durationMs: 5 };
    expect(toTestRun({ run: run({}), output: "" }, parse, 1000).graceMs).toBeUndefined();
    expect(toTestRun({ run: run({ graceMs: 5000 }), output: "" }, parse, 1000)).toMatchObject({
      status: "ok",
      graceMs: 5000,
    });
    expect(
      toTestRun(
        { run: run({ status: "timed-out", exitCode: null, graceMs: 5001 }), output: "x" },
        null,
        1000,
      ),
    ).toMatchObject({ status: "timed-out", graceMs: 5001 });
    expect(toTestRun({ run: run({}), output: "" }, { ...parse, graceMs: 5002 }, 1000).graceMs).toBe(5002);
  });
});
