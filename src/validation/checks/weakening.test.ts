import { describe, expect, it } from "vitest";
import { judgeWeakening, testFunctionKey } from "./weakening.js";

describe("judgeWeakening", () => {
  it("lets parametrised cases and Go subtests go with their F2P function, nothing else", () => {
    expect(testFunctionKey("tests/test_x.py::test_a[1-2]")).toBe("tests/test_x.py::test_a");
    expect(testFunctionKey("tests/test_x.py::TestA::test_b")).toBe("tests/test_x.py::TestA::test_b");
    expect(testFunctionKey(".::TestParse/empty")).toBe(".::TestParse");
    const verdict = judgeWeakening({
      f2p: ["t.py::test_a[1]", ".::TestParse/bad"],
      p2p: ["t.py::test_a[2]", ".::TestParse/good", "t.py::test_b"],
      bugResults: { "t.py::test_a[1]": "failed", ".::TestParse/bad": "failed" },
      weakenedResults: { "t.py::test_b": "passed" },
      weakenedFiles: ["t.py", "parse_test.go"],
    });
    expect(verdict).toEqual({
      status: "passed",
      evidence: {
        hidden: ["t.py::test_a[1]", ".::TestParse/bad"],
        stillFailing: [],
        removedWithF2pFunction: ["t.py::test_a[2]", ".::TestParse/good"],
      },
    });
  });

  it("rejects a weakening that breaks a P2P test or whose file no longer compiles, naming them", () => {
    const broken = judgeWeakening({
      f2p: ["a.test.js > adds"],
      p2p: ["a.test.js > subtracts", "b.test.js > b"],
      bugResults: {
        "a.test.js > adds": "failed",
        "a.test.js > subtracts": "passed",
        "b.test.js > b": "passed",
      },
      weakenedResults: { "a.test.js": "error", "b.test.js > b": "passed" },
      weakenedFiles: ["a.test.js"],
    });
    expect(broken.status).toBe("failed");
    if (broken.status === "passed") return;
    expect(broken.reason).toBe(
      "with bug + weakening the weakened oracle file(s) a.test.js no longer parse or collect (none of their tests ran); 1 P2P test(s) the bug does not break are missing: a.test.js > subtracts; a weakening may only hide F2P tests",
    );
    const failing = judgeWeakening({
      f2p: ["t.py::test_a"],
      p2p: ["t.py::test_b"],
      bugResults: { "t.py::test_a": "failed", "t.py::test_b": "passed" },
      weakenedResults: { "t.py::test_b": "failed" },
      weakenedFiles: ["t.py"],
    });
    expect(failing.status === "failed" && failing.reason).toContain(
      "1 P2P test(s) no longer pass: t.py::test_b (failed)",
    );
  });

  it("still rejects a weakening that hides nothing, with the run's failure", () => {
    const verdict = judgeWeakening({
      f2p: ["t.py::test_a"],
      p2p: ["t.py::test_b"],
      bugResults: { "t.py::test_a": "failed" },
      weakenedResults: null,
      weakenedFiles: ["t.py"],
      runFailure: "timed-out: after 30 s",
    });
    expect(verdict.status === "failed" && verdict.reason).toBe(
      "with bug + weakening all 1 F2P test(s) still fail (the test run timed-out: after 30 s); the weakening hides nothing",
    );
  });
});

describe("judgeWeakening on a second-order artifact", () => {
  it("lets the inherited weakening keep removing the parent's F2P tests, not break a file", () => {
    const input = {
      f2p: ["t.py::test_a"],
      p2p: ["t.py::test_b", "t.py::test_c"],
      bugResults: { "t.py::test_a": "failed", "t.py::test_b": "passed", "t.py::test_c": "passed" } as const,
      weakenedResults: { "t.py::test_c": "passed" } as const,
      weakenedFiles: ["t.py"],
    };
    expect(judgeWeakening(input).status).toBe("failed");
    expect(judgeWeakening({ ...input, inheritedWeakening: true })).toMatchObject({
      status: "passed",
      evidence: { removedByInheritedWeakening: ["t.py::test_b"] },
    });
    const uncollected = judgeWeakening({
      ...input,
      weakenedResults: { t: "passed" },
      inheritedWeakening: true,
    });
    expect(uncollected.status === "failed" && uncollected.reason).toContain(
      "t.py no longer parse or collect",
    );
  });
});
