import { describe, expect, it } from "vitest";
import { parseStackFrames, relativeToRepository, suspiciousLines } from "./localisation.js";

// Outputs captured from pytest 9 and Node 20's test runner on a two-function module, paths moved to /testbed.
const PYTEST_OUTPUT =
  "===================================\n______________________________ test_compute_zero _______________________________\n\n    def test_compute_zero():\n>       assert compute([0]) == 0\n               ^^^^^^^^^^^^\n\ntests/test_calc.py:4: \n_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \npkg/calc.py:7: in compute\n    total += helper(v)\n             ^^^^^^^^^\n_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ \n\nx = 0\n\n    def helper(x):\n>       return 10 // x\n               ^^^^^^^\nE       ZeroDivisionError: integer division or modulo by zero\n\npkg/calc.py:2: ZeroDivisionError\n______________________________ test_compute_value ______________________________\n\n    def test_compute_value():\n>       assert compute([5]) == 3\nE       assert 2 == 3\nE        +  where 2 = compute([5])\n\ntests/test_calc.py:7: AssertionError\n=========================== short test summary info ============================\nFAILED tests/test_calc.py::test_compute_zero - ZeroDivisionError: integer div...\nFAILED tests/test_calc.py::test_compute_value - assert 2 == 3\n============================== 2 failed in 0.03s ===============================\n";
const NODE_TAP_OUTPUT =
  "TAP version 13\n# Subtest: compute\n    # Subtest: zero\n    not ok 1 - zero\n      ---\n      duration_ms: 6.943082\n      location: '/testbed/test/calc.test.js:5:3'\n      failureType: 'testCodeFailure'\n      error: 'zero'\n      code: 'ERR_TEST_FAILURE'\n      stack: |-\n        helper (file:///testbed/src/calc.js:2:22)\n        compute (file:///testbed/src/calc.js:7:36)\n        TestContext.<anonymous> (file:///testbed/test/calc.test.js:6:18)\n        Test.runInAsyncScope (node:async_hooks:206:9)\n        Test.run (node:internal/test_runner/test:796:25)\n        Test.start (node:internal/test_runner/test:702:17)\n        node:internal/test_runner/test:1133:71\n        node:internal/per_context/primordials:482:82\n        new Promise (<anonymous>)\n        new SafePromise (node:internal/per_context/primordials:450:29)\n      ...\n";
const NODE_SPEC_OUTPUT =
  "  \u2716 zero (0.889779ms)\n    Error: zero\n        at helper (file:///testbed/src/calc.js:2:22)\n        at compute (file:///testbed/src/calc.js:7:36)\n        at TestContext.<anonymous> (file:///testbed/test/calc.test.js:6:18)\n        at Test.runInAsyncScope (node:async_hooks:206:9)\n        at Test.run (node:internal/test_runner/test:796:25)\n        at Test.start (node:internal/test_runner/test:702:17)\n        at node:internal/test_runner/test:1133:71\n        at node:internal/per_context/primordials:482:82\n        at new Promise (<anonymous>)\n        at new SafePromise (node:internal/per_context/primordials:450:29)\n\n";

const isCodeFile = (path: string) => !path.startsWith("test");

describe("relativeToRepository", () => {
  it("keeps paths inside the workdir and drops the rest", () => {
    expect(relativeToRepository("/testbed/pkg/a.py", "/testbed")).toBe("pkg/a.py");
    expect(relativeToRepository("file:///testbed/src/a.js", "/testbed")).toBe("src/a.js");
    expect(relativeToRepository("pkg/a.py", "/testbed")).toBe("pkg/a.py");
    expect(relativeToRepository("/usr/lib/python3/dist-packages/x.py", "/testbed")).toBeNull();
    expect(relativeToRepository("node:internal/test_runner/test", "/testbed")).toBeNull();
    expect(relativeToRepository("/testbed/node_modules/x/index.js", "/testbed")).toBeNull();
  });
});

describe("parseStackFrames", () => {
  it("reads pytest tracebacks innermost first", () => {
    const traces = parseStackFrames(PYTEST_OUTPUT, "/testbed");
    expect(traces[0]).toEqual([
      { file: "pkg/calc.py", line: 2, depth: 0 },
      { file: "pkg/calc.py", line: 7, depth: 1 },
      { file: "tests/test_calc.py", line: 4, depth: 2 },
    ]);
    expect(traces[1]).toEqual([{ file: "tests/test_calc.py", line: 7, depth: 0 }]);
  });

  it("reads Node TAP and spec stacks", () => {
    for (const output of [NODE_TAP_OUTPUT, NODE_SPEC_OUTPUT]) {
      const traces = parseStackFrames(output, "/testbed");
      const withCode = traces.find((trace) => trace.some((frame) => frame.file === "src/calc.js"));
      expect(withCode?.slice(0, 3)).toEqual([
        { file: "src/calc.js", line: 2, depth: 0 },
        { file: "src/calc.js", line: 7, depth: 1 },
        { file: "test/calc.test.js", line: 6, depth: 2 },
      ]);
    }
  });
});

describe("suspiciousLines", () => {
  it("ranks the innermost code frame first and ignores test files", () => {
    for (const output of [PYTEST_OUTPUT, NODE_TAP_OUTPUT, NODE_SPEC_OUTPUT]) {
      const lines = suspiciousLines(output, { workdir: "/testbed", isCodeFile });
      expect(lines.map((line) => line.line)).toEqual([2, 7]);
      expect(lines[0]!.score).toBeGreaterThan(lines[1]!.score);
      expect(lines.every((line) => !line.file.startsWith("test"))).toBe(true);
    }
  });

  it("finds nothing in output without traces", () => {
    expect(suspiciousLines("1 passed in 0.01s\n", { workdir: "/testbed", isCodeFile })).toEqual([]);
  });
});
