// The pure judges of checks 1–5 and 7 on hand-made results; checks 0 and 6 have their own test files, and
// validator.test.ts drives every judge through real runs.
import { describe, expect, it } from "vitest";
import type { TestResults, TestRun } from "../../ports/validation.js";
import { judgeBaseline } from "./baseline.js";
import { judgeBug } from "./bug.js";
import { judgeInverseMutation, judgeInverseRun, originalAsInverse } from "./inverse-mutation.js";
import { judgeOracleFiles } from "./oracle-files.js";
import { judgeParser } from "./parser.js";
import { judgeScope } from "./scope.js";

const ok = (results: TestResults, durationMs = 10): TestRun => ({
  status: "ok",
  results,
  durationMs,
  truncated: false,
});
const failed = (status: Exclude<TestRun["status"], "ok">, message: string): TestRun => ({
  status,
  message,
  durationMs: 10,
  outputTail: "tail",
});
const passing = (...ids: string[]): TestResults => Object.fromEntries(ids.map((id) => [id, "passed"]));

describe("judgeOracleFiles", () => {
  const summary = {
    oracleFiles: ["t/a.py"],
    weakenFiles: ["t/a.py"],
    bugFiles: [],
    bugPaths: [],
    bugFileDiffs: [],
    weakenFileDiffs: [],
  };
  it("passes when every listed file exists and names a missing one otherwise", () => {
    expect(judgeOracleFiles(summary, [])).toEqual({
      status: "passed",
      evidence: { oracleFiles: ["t/a.py"], weakenFiles: ["t/a.py"] },
    });
    const verdict = judgeOracleFiles(summary, ["t/gone.py"]);
    expect(verdict.status).toBe("failed");
    expect(verdict.status === "failed" && verdict.reason).toMatch(
      /do not exist in the original repository: t\/gone\.py$/,
    );
  });
});

describe("judgeParser", () => {
  const results = passing("a", "b");
  it("passes a parser that answers the same twice", () => {
    expect(judgeParser({ run: ok(results), results, reparsed: { status: "ok", results } })).toEqual({
      status: "passed",
      evidence: { tests: 2, deterministic: true },
    });
  });

  it("names the tests a second parse answers differently, and a second parse that failed", () => {
    const differing = judgeParser({
      run: ok(results),
      results,
      reparsed: { status: "ok", results: { a: "passed", b: "failed" } },
    });
    expect(differing).toMatchObject({
      status: "failed",
      evidence: { deterministic: false, differing: ["b"] },
    });
    const crashed = judgeParser({
      run: ok(results),
      results,
      reparsed: { status: "parser-crashed", message: "exit 1" },
    });
    expect(crashed.status === "failed" && crashed.reason).toMatch(
      /second run over the same output \(parser-crashed: exit 1\)/,
    );
  });

  it("says why there was nothing to parse: a timeout, or the parse itself failing", () => {
    const timedOut = judgeParser({ run: failed("timed-out", "after 2 s"), results: null, reparsed: null });
    expect(timedOut.status === "failed" && timedOut.reason).toMatch(
      /timed out \(after 2 s\), so the parser had no output/,
    );
    const notJson = judgeParser({
      run: failed("not-json", "it printed text"),
      results: null,
      reparsed: null,
    });
    expect(notJson.status === "failed" && notJson.reason).toBe(
      "on the original code not-json: it printed text",
    );
  });
});

describe("judgeBaseline", () => {
  it("leaves flaky tests out of the passing ones and requires enough passing tests", () => {
    const runs = [ok({ ...passing("a", "b"), c: "failed" }), ok(passing("a", "b", "c"))];
    const results = runs.map((run) => (run.status === "ok" ? run.results : null));
    const enough = judgeBaseline({ runs, results, minPassingTests: 2 });
    expect(enough.verdict.status).toBe("passed");
    expect(enough.sets).toMatchObject({ passing: ["a", "b"], flaky: ["c"] });
    const tooFew = judgeBaseline({ runs, results, minPassingTests: 3 });
    expect(tooFew.verdict.status === "failed" && tooFew.verdict.reason).toMatch(
      /passes 2 test\(s\) in every baseline run/,
    );
    expect(tooFew.sets?.flaky).toEqual(["c"]);
  });

  it("rejects a run without results before anything else, and a tampered run after the counts", () => {
    const broken = judgeBaseline({
      runs: [ok(passing("a")), failed("empty", "no tests")],
      results: [passing("a"), null],
      minPassingTests: 1,
    });
    expect(broken.verdict.status === "failed" && broken.verdict.reason).toBe(
      "baseline run #2 on the original code failed: empty: no tests",
    );
    expect(broken.sets).toBeNull();
    const tampered = judgeBaseline({
      runs: [ok(passing("a")), failed("tampered", "a canary lied")],
      results: [passing("a"), passing("a")],
      minPassingTests: 1,
    });
    expect(tampered.verdict).toMatchObject({
      status: "failed",
      evidence: { tampered: true, run: "baseline#2" },
    });
  });
});

describe("judgeScope", () => {
  it("counts the files the bug changes", () => {
    expect(judgeScope(["a.py"], 1).status).toBe("passed");
    const verdict = judgeScope(["a.py"], 2);
    expect(verdict.status === "failed" && verdict.reason).toBe(
      "bug_inject.diff changes 1 file(s); at least 2 are required",
    );
  });
});

describe("judgeBug", () => {
  it("splits baseline-passing tests into F2P (a vanished test among them) and P2P", () => {
    const judged = judgeBug({
      passing: ["a", "b", "c"],
      run: ok({ a: "failed", b: "passed" }),
      minFailingTests: 1,
    });
    expect(judged).toMatchObject({ verdict: { status: "passed" }, f2p: ["a", "c"], p2p: ["b"] });
  });

  it("rejects a bug that breaks nothing, one that breaks everything, and a tampered run", () => {
    const harmless = judgeBug({ passing: ["a"], run: ok(passing("a")), minFailingTests: 1 });
    expect(harmless.verdict.status === "failed" && harmless.verdict.reason).toMatch(
      /0 baseline-passing test\(s\) fail/,
    );
    const everything = judgeBug({
      passing: ["a"],
      run: failed("timed-out", "after 3 s"),
      minFailingTests: 1,
    });
    expect(everything.verdict.status === "failed" && everything.verdict.reason).toMatch(
      /no baseline-passing test passes any more \(the test run timed-out: after 3 s\)/,
    );
    const tampered = judgeBug({ passing: ["a"], run: failed("tampered", "lied"), minFailingTests: 1 });
    expect(tampered).toMatchObject({ verdict: { evidence: { tampered: true } }, f2p: [], p2p: [] });
  });
});

describe("inverse mutation", () => {
  it("keeps a file whose reversal restores an F2P test and rejects one that restores none", () => {
    const f2p = ["t::one", "t::two"];
    const restoring = judgeInverseRun("src/a.py", ok({ "t::one": "passed", "t::two": "failed" }), f2p);
    const idle = judgeInverseRun("src/b.py", ok({ "t::one": "failed" }), f2p);
    if (restoring.status === "tampered" || idle.status === "tampered") throw new Error("no run was tampered");
    expect(restoring.contribution).toEqual({ file: "src/a.py", restoredTests: ["t::one"] });
    expect(judgeInverseMutation([restoring.contribution]).status).toBe("passed");
    const verdict = judgeInverseMutation([restoring.contribution, idle.contribution]);
    expect(verdict.status === "failed" && verdict.reason).toBe(
      "reverting this bug file alone makes no F2P test pass again, so it does not contribute to the bug: src/b.py",
    );
    expect(verdict.evidence).toMatchObject({ nonContributing: ["src/b.py"] });
  });

  it("takes the original as the inverse of a one-file bug and fails on a tampered run", () => {
    expect(originalAsInverse("src/a.py", ["t::one"])).toEqual({
      file: "src/a.py",
      restoredTests: ["t::one"],
    });
    const tampered = judgeInverseRun("src/a.py", failed("tampered", "lied"), ["t::one"]);
    expect(tampered).toMatchObject({
      status: "tampered",
      failure: { evidence: { tampered: true, run: "inverse:src/a.py" } },
    });
  });
});
