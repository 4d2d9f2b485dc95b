// The test_parser.py scripts on outputs captured from real runs of each framework (testdata/, paths
// rewritten to /testbed), and every parsed id located back in the captured test sources.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { analyzeSources, locateTest } from "../code-model/index.js";
import { parserSource } from "./index.js";
import type { TestFramework } from "./types.js";

function testdata(name: string): string {
  return readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");
}

function parse(framework: TestFramework, output: string): Record<string, string> {
  const result = spawnSync("python3", ["-c", parserSource(framework)], {
    input: output,
    encoding: "utf8",
    cwd: "/",
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`parser for ${framework} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

async function locateAll(framework: TestFramework, ids: string[], sources: [string, string][]) {
  const analyses = await analyzeSources(
    sources.map(([path, fixture]) => ({ path, text: testdata(`sources/${fixture}`) })),
  );
  return Object.fromEntries(
    ids.map((id) => {
      const location = locateTest(id, framework, analyses);
      return [id, location ? `${location.file}:${location.span.startLine}` : null];
    }),
  );
}

describe("test parsers on captured outputs", () => {
  it("pytest -rA -v: passes, failures, skips, xfail, setup/teardown errors, parameters, collection errors", async () => {
    const results = parse("pytest", testdata("pytest.out"));
    expect(results).toEqual({
      "tests/test_a.py::TestK::test_m": "passed",
      "tests/test_a.py::test_error": "error",
      "tests/test_a.py::test_fail": "failed",
      "tests/test_a.py::test_param[1-2]": "passed",
      "tests/test_a.py::test_param[x y-- z]": "passed",
      "tests/test_a.py::test_pass": "passed",
      "tests/test_a.py::test_skip": "skipped",
      "tests/test_a.py::test_teardown": "error",
      "tests/test_a.py::test_xfail": "skipped",
      "tests/test_bad.py": "error",
    });
    const ids = Object.keys(results).filter((id) => id.includes("::"));
    const located = await locateAll("pytest", ids, [["tests/test_a.py", "test_a.py.fixture"]]);
    expect(located).toEqual({
      "tests/test_a.py::TestK::test_m": "tests/test_a.py:24",
      "tests/test_a.py::test_error": "tests/test_a.py:18",
      "tests/test_a.py::test_fail": "tests/test_a.py:13",
      "tests/test_a.py::test_param[1-2]": "tests/test_a.py:20",
      "tests/test_a.py::test_param[x y-- z]": "tests/test_a.py:20",
      "tests/test_a.py::test_pass": "tests/test_a.py:12",
      "tests/test_a.py::test_skip": "tests/test_a.py:14",
      "tests/test_a.py::test_teardown": "tests/test_a.py:19",
      "tests/test_a.py::test_xfail": "tests/test_a.py:16",
    });
  });

  it("pytest with pytest-xdist: worker-prefixed verbose lines", () => {
    const output = [
      "[gw0] [ 50%] PASSED tests/test_a.py::test_x ",
      "[gw1] [100%] FAILED tests/test_a.py::test_y[a b] ",
    ].join("\n");
    expect(parse("pytest", output)).toEqual({
      "tests/test_a.py::test_x": "passed",
      "tests/test_a.py::test_y[a b]": "failed",
    });
  });

  it("python -m unittest -v per top directory: docstrings, subtests, skips, expected failures, import errors", async () => {
    const results = parse("unittest", testdata("unittest.out"));
    expect(results).toEqual({
      "pkg/tests/test_inner.py::TestInner::test_inner": "passed",
      "tests/test_broken.py": "error",
      "tests/test_calc.py::TestCalc::test_add": "passed",
      "tests/test_calc.py::TestCalc::test_doc": "passed",
      "tests/test_calc.py::TestCalc::test_error": "error",
      "tests/test_calc.py::TestCalc::test_fail": "failed",
      "tests/test_calc.py::TestCalc::test_prints": "passed",
      "tests/test_calc.py::TestCalc::test_skip": "skipped",
      "tests/test_calc.py::TestCalc::test_sub": "failed",
      "tests/test_calc.py::TestCalc::test_xfail": "skipped",
    });
    const ids = Object.keys(results).filter((id) => id.startsWith("tests/test_calc.py::"));
    const located = await locateAll("unittest", ids, [["tests/test_calc.py", "unittest_calc.py.fixture"]]);
    expect(Object.values(located)).toEqual([
      "tests/test_calc.py:5",
      "tests/test_calc.py:7",
      "tests/test_calc.py:12",
      "tests/test_calc.py:10",
      "tests/test_calc.py:24",
      "tests/test_calc.py:14",
      "tests/test_calc.py:20",
      "tests/test_calc.py:17",
    ]);
  });

  it("python -m unittest -v from Python 3.10 and older, which leave the method out of the location", () => {
    const output =
      "@@swe-selfplay unittest-top .\ntest_add (tests.test_calc.TestCalc) ... ok\ntest_sub (tests.test_calc.TestCalc) ... FAIL\n";
    expect(parse("unittest", output)).toEqual({
      "tests/test_calc.py::TestCalc::test_add": "passed",
      "tests/test_calc.py::TestCalc::test_sub": "failed",
    });
  });

  it("node --test TAP per file: nested suites dropped, subtests kept, skip and todo", async () => {
    const results = parse("node-test", testdata("node-tap.out"));
    expect(results).toEqual({
      "test/math.test.js > math > ops > adds": "passed",
      "test/math.test.js > math > ops > fails": "failed",
      "test/math.test.js > math > ops > nested > deep": "passed",
      "test/math.test.js > math > ops > skipped one": "skipped",
      "test/math.test.js > math > ops > todo one": "skipped",
      "test/math.test.js > plain": "passed",
      "test/math.test.js > top": "failed",
      "test/math.test.js > top > sub a": "passed",
      "test/math.test.js > top > sub b": "failed",
      "test/other.test.mjs > other passes": "passed",
    });
    const located = await locateAll("node-test", Object.keys(results), [
      ["test/math.test.js", "node-math.test.js.fixture"],
    ]);
    expect(located).toEqual({
      "test/math.test.js > math > ops > adds": "test/math.test.js:4",
      "test/math.test.js > math > ops > fails": "test/math.test.js:5",
      "test/math.test.js > math > ops > nested > deep": "test/math.test.js:8",
      "test/math.test.js > math > ops > skipped one": "test/math.test.js:6",
      "test/math.test.js > math > ops > todo one": "test/math.test.js:7",
      "test/math.test.js > plain": "test/math.test.js:14",
      "test/math.test.js > top": "test/math.test.js:10",
      "test/math.test.js > top > sub a": "test/math.test.js:11",
      "test/math.test.js > top > sub b": "test/math.test.js:12",
      "test/other.test.mjs > other passes": null,
    });
  });

  it("tape's TAP, one file at a time: failed assertions, tests that never end or throw, totals that are not tests", async () => {
    const results = parse("tape", testdata("tape.out"));
    expect(results).toEqual({
      "test/a.js > adds": "passed",
      "test/a.js > inner": "passed",
      "test/a.js > nested": "passed",
      "test/a.js > never ends": "failed",
      "test/a.js > no assertions": "passed",
      "test/a.js > subtracts": "failed",
      "test/b.js > fine": "passed",
      // The process died inside it (an uncaught exception), so the tests after it are missing.
      "test/b.js > throws": "failed",
    });
    const located = await locateAll("tape", Object.keys(results), [
      ["test/a.js", "tape-a.js.fixture"],
      ["test/b.js", "tape-b.js.fixture"],
    ]);
    expect(located).toEqual({
      "test/a.js > adds": "test/a.js:3",
      // tape prints a subtest's name alone, so it is not found under its parent.
      "test/a.js > inner": null,
      "test/a.js > nested": "test/a.js:5",
      "test/a.js > never ends": "test/a.js:8",
      "test/a.js > no assertions": "test/a.js:6",
      "test/a.js > subtracts": "test/a.js:4",
      "test/b.js > fine": "test/b.js:2",
      "test/b.js > throws": "test/b.js:3",
    });
  });

  it("node --test TAP from older runners that wrap each file in a subtest named by its path", () => {
    const output = [
      "@@swe-selfplay file test/a.test.js",
      "TAP version 13",
      "# Subtest: /testbed/test/a.test.js",
      "    # Subtest: works",
      "    ok 1 - works",
      "      ---",
      "      duration_ms: 1",
      "      ...",
      "    # Subtest: has \\# hash",
      "    not ok 2 - has \\# hash",
      "    1..2",
      "not ok 1 - /testbed/test/a.test.js",
      "1..1",
    ].join("\n");
    expect(parse("node-test", output)).toEqual({
      "test/a.test.js > works": "passed",
      "test/a.test.js > has # hash": "failed",
    });
  });

  it("jest --json: describe paths, each-tables, skip/todo and a file that fails to load", async () => {
    const results = parse("jest", testdata("jest.out"));
    expect(results).toEqual({
      "test/broken.test.js": "error",
      "test/math.test.js > math > ops > adds": "passed",
      "test/math.test.js > math > ops > fails": "failed",
      "test/math.test.js > math > ops > nested > deep 1": "passed",
      "test/math.test.js > math > ops > nested > deep 2": "passed",
      "test/math.test.js > math > ops > skipped one": "skipped",
      "test/math.test.js > math > ops > todo one": "skipped",
      "test/math.test.js > top level": "passed",
    });
    const ids = Object.keys(results).filter((id) => id.includes(" > "));
    const located = await locateAll("jest", ids, [["test/math.test.js", "jest-math.test.js.fixture"]]);
    expect(Object.values(located)).toEqual([
      "test/math.test.js:3",
      "test/math.test.js:4",
      "test/math.test.js:7",
      "test/math.test.js:7",
      "test/math.test.js:5",
      "test/math.test.js:6",
      "test/math.test.js:9",
    ]);
  });

  it("vitest --reporter=json: same shape as jest", async () => {
    const results = parse("vitest", testdata("vitest.out"));
    expect(results["vt/broken.test.mjs"]).toBe("error");
    expect(results["vt/math.test.mjs > math > ops > nested > deep 2"]).toBe("passed");
    expect(results["vt/math.test.mjs > math > ops > fails"]).toBe("failed");
    expect(results["vt/math.test.mjs > math > ops > todo one"]).toBe("skipped");
    expect(Object.keys(results)).toHaveLength(8);
    const located = await locateAll(
      "vitest",
      ["vt/math.test.mjs > math > ops > nested > deep 2", "vt/math.test.mjs > top level"],
      [["vt/math.test.mjs", "vitest-math.test.mjs.fixture"]],
    );
    expect(Object.values(located)).toEqual(["vt/math.test.mjs:7", "vt/math.test.mjs:9"]);
  });

  it("mocha --reporter json: space-joined titles, pending, failing hooks", async () => {
    const results = parse("mocha", testdata("mocha.out"));
    expect(results).toEqual({
      'mt/math.spec.js > hooks "before all" hook for "never runs"': "failed",
      "mt/math.spec.js > math > ops adds": "passed",
      "mt/math.spec.js > math > ops fails": "failed",
      "mt/math.spec.js > math > ops nested deep": "passed",
      "mt/math.spec.js > math > ops pending one": "skipped",
      "mt/math.spec.js > math > ops skipped one": "skipped",
      "mt/math.spec.js > top level": "passed",
    });
    const located = await locateAll("mocha", Object.keys(results), [
      ["mt/math.spec.js", "mocha-math.spec.js.fixture"],
    ]);
    expect(Object.values(located)).toEqual([
      null,
      "mt/math.spec.js:3",
      "mt/math.spec.js:4",
      "mt/math.spec.js:7",
      "mt/math.spec.js:6",
      "mt/math.spec.js:5",
      "mt/math.spec.js:10",
    ]);
  });

  it("go test -json: package directories relative to the module, subtests, skips; build failures vanish", async () => {
    const results = parse("go", testdata("go-test.out"));
    expect(results).toEqual({
      ".::TestRoot": "passed",
      "calc::TestAdd": "passed",
      "calc::TestFails": "failed",
      "calc::TestSkip": "skipped",
      "calc::TestTable": "failed",
      "calc::TestTable/breaks": "failed",
      "calc::TestTable/one_plus_one": "passed",
    });
    const located = await locateAll("go", Object.keys(results), [
      ["calc/calc_test.go", "calc_test.go.fixture"],
      ["root_test.go", "root_test.go.fixture"],
    ]);
    expect(located).toEqual({
      ".::TestRoot": "root_test.go:5",
      "calc::TestAdd": "calc/calc_test.go:5",
      "calc::TestFails": "calc/calc_test.go:11",
      "calc::TestSkip": "calc/calc_test.go:13",
      "calc::TestTable": "calc/calc_test.go:15",
      "calc::TestTable/breaks": "calc/calc_test.go:17",
      "calc::TestTable/one_plus_one": "calc/calc_test.go:16",
    });
  });

  it("cargo test: unit tests per target, module paths, ignored, should_panic, integration and doc tests", async () => {
    const results = parse("cargo", testdata("cargo-test.out"));
    expect(results).toEqual({
      "doc::src/lib.rs - add (line 6)": "passed",
      "src/lib.rs::tests::adds": "passed",
      "src/lib.rs::tests::fails": "failed",
      "src/lib.rs::tests::ignored": "skipped",
      "src/lib.rs::tests::panics": "passed",
      "src/lib.rs::util::tests::doubles": "passed",
      "tests/integration.rs::integrates": "passed",
    });
    const located = await locateAll("cargo", Object.keys(results), [
      ["src/lib.rs", "lib.rs.fixture"],
      ["src/util.rs", "util.rs.fixture"],
      ["tests/integration.rs", "integration.rs.fixture"],
    ]);
    expect(located).toEqual({
      "doc::src/lib.rs - add (line 6)": null,
      "src/lib.rs::tests::adds": "src/lib.rs:14",
      "src/lib.rs::tests::fails": "src/lib.rs:16",
      "src/lib.rs::tests::ignored": "src/lib.rs:18",
      "src/lib.rs::tests::panics": "src/lib.rs:21",
      "src/lib.rs::util::tests::doubles": "src/util.rs:4",
      "tests/integration.rs::integrates": "tests/integration.rs:1",
    });
  });

  it("every parser prints an empty object for empty input and is deterministic", () => {
    for (const framework of [
      "pytest",
      "unittest",
      "node-test",
      "jest",
      "vitest",
      "mocha",
      "go",
      "cargo",
    ] as const) {
      expect(parse(framework, "")).toEqual({});
    }
    const output = testdata("pytest.out");
    expect(parse("pytest", output)).toEqual(parse("pytest", output));
  });
});
