// The pure parts of the defences: which paths are harness, how package.json is pinned, what canaries look like
// and how a run is judged by them, and the runners' own totals on outputs captured from real runs.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parserSource } from "../../builtin/discovery/index.js";
import type { TestFramework } from "../../builtin/discovery/types.js";
import type { TestResults } from "../../ports/validation.js";
import { canarySites, judgeCanaries, planCanaries, siblingsToRead, withoutCanaries } from "./canaries.js";
import { mergePackageJson } from "./guarded-run.js";
import { harnessGroupsOf, harnessPaths } from "./harness-files.js";
import { crossCheckTotals, runnerTotals } from "./runner-totals.js";

describe("harness files", () => {
  it("knows each framework's configuration, plugins, bootstrap and shadowing modules", () => {
    const harness = [
      "conftest.py",
      "tests/unit/conftest.py",
      "pytest.ini",
      "tox.ini",
      "setup.cfg",
      "pyproject.toml",
      "pytest.py",
      "_pytest/runner.py",
      "unittest/__init__.py",
      "sitecustomize.py",
      "src/usercustomize.py",
      "evil.pth",
      ".venv/lib/python3.11/site-packages/_pytest/runner.py",
      "jest.config.ts",
      "packages/a/jest.config.js",
      "vitest.config.mts",
      "vite.config.js",
      ".mocharc.yml",
      "node_modules/.bin/jest",
      "package.json",
      "babel.config.js",
      "tsconfig.json",
      "pkg/helpers_test.go",
      "go.mod",
      "vendor/github.com/stretchr/testify/assert/assertions.go",
      "build.rs",
      "crates/a/Cargo.toml",
      ".cargo/config.toml",
      "Makefile",
    ];
    for (const path of harness) expect(harnessGroupsOf(path), path).not.toEqual([]);
    const code = [
      "src/app.py",
      "inkwell/__init__.py",
      "tests/test_case.py",
      "src/pytest_helpers.py",
      "lib/unittest_utils.py",
      "src/index.js",
      "test/format.test.js",
      "pkg/calc.go",
      "src/lib.rs",
      "docs/Makefile.md",
      "src/vendor/code.js",
    ];
    for (const path of code) expect(harnessGroupsOf(path), path).toEqual([]);
  });

  it("leaves oracle files to their own rule", () => {
    expect(harnessPaths(["conftest.py", "a_test.go", "b_test.go", "src/x.py"], ["a_test.go"])).toEqual([
      "b_test.go",
      "conftest.py",
    ]);
  });

  it("pins package.json key by key, keeping the rest of the patch", () => {
    const original = '{\n    "name": "x",\n    "scripts": { "test": "node --test" }\n}\n';
    const patched =
      '{\n    "name": "x",\n    "type": "module",\n    "scripts": { "test": "echo ok" },\n    "jest": {}\n}\n';
    const merged = mergePackageJson(original, patched);
    expect(merged?.keys).toEqual(["scripts", "jest"]);
    expect(JSON.parse(merged!.text)).toEqual({ name: "x", type: "module", scripts: { test: "node --test" } });
    expect(merged!.text.startsWith('{\n    "name"')).toBe(true);
    expect(mergePackageJson(original, original.replace("x", "y"))?.keys).toEqual([]);
    expect(mergePackageJson(original, "{ not json")).toBeNull();
  });
});

const tokens = (...values: string[]) => {
  let index = 0;
  return () => values[index++ % values.length]!;
};

describe("canaries", () => {
  it("plants a fresh file per Python or Go directory and appends to every JavaScript or Rust file", () => {
    const sites = canarySites([
      "tests/helpers.py",
      "tests/test_b.py",
      "tests/test_a.py",
      "tests/data.json",
      "tests/conftest.py",
      "test/a.test.js",
      "test/b.test.js",
      "pkg/calc_test.go",
      "src/lib.rs",
    ]);
    expect(sites).toEqual([
      { language: "go", directory: "pkg", sibling: "pkg/calc_test.go" },
      { language: "rust", directory: "src", sibling: "src/lib.rs" },
      { language: "javascript", directory: "test", sibling: "test/a.test.js" },
      { language: "javascript", directory: "test", sibling: "test/b.test.js" },
      { language: "python", directory: "tests", sibling: "tests/test_a.py" },
    ]);
    expect(siblingsToRead(sites)).toEqual(["pkg/calc_test.go", "test/a.test.js", "test/b.test.js"]);
  });

  it("writes each language's canaries the way its sibling is written", () => {
    const contents = new Map([
      ["pkg/calc_test.go", 'package calc_test\n\nimport "testing"\n'],
      ["test/esm.test.js", 'import assert from "node:assert/strict";\nimport { it } from "node:test";\n'],
      [
        "test/cjs.spec.js",
        'const { expect } = require("@jest/globals");\ntest("x", () => expect(1).toBe(1));\n',
      ],
      ["test/vi.test.ts", 'import { describe, expect, it } from "vitest";\nexpect(1).toBe(1);\n'],
      ["test/tape.js", 'const test = require("tape");\ntest("x", (t) => { t.ok(1); t.end(); });\n'],
    ]);
    const sites = canarySites([
      "pkg/calc_test.go",
      "src/lib.rs",
      "tests/calc_test.py",
      ...[...contents.keys()].slice(1),
    ]);
    const plan = planCanaries(sites, contents, tokens("failing1", "passing1", "stem1"));
    const file = (path: string) => plan.files.find((entry) => entry.path === path);
    expect(file("pkg/stem1_test.go")?.content).toContain("package calc_test");
    expect(file("pkg/stem1_test.go")?.content).toContain("func TestFailing1(t *testing.T)");
    expect(file("src/lib.rs")).toMatchObject({ append: true });
    expect(file("src/lib.rs")?.content).toContain("#[test]\nfn passing1()");
    expect(file("tests/stem1_test.py")?.content).toContain("class TestStem1(unittest.TestCase):");
    const esm = file("test/esm.test.js")!;
    expect(esm.append).toBe(true);
    expect(esm.content).toContain('import { test as canary_stem1_test } from "node:test";');
    expect(esm.content).toContain('import canary_stem1_assert from "node:assert/strict";');
    expect(esm.content).toContain('canary_stem1_test("failing1", () => {');
    expect(file("test/cjs.spec.js")?.content).toContain(
      'const { expect: canary_stem1_expect } = require("@jest/globals");',
    );
    expect(file("test/vi.test.ts")?.content).toContain(
      'import { expect as canary_stem1_expect } from "vitest";',
    );
    const tape = file("test/tape.js")?.content;
    expect(tape).toContain('const canary_stem1_test = require("tape");');
    expect(tape).toContain('canary_stem1_test("failing1", (t) => {');
    expect(tape).toContain("t.equal(got, ");
    expect(plan.planted.map((canary) => canary.file)).toEqual(plan.files.map((entry) => entry.path));
  });

  it("finds lies, unvouched runs and truthful ones, and strips canary ids", () => {
    const plan = planCanaries(canarySites(["tests/test_a.py"]), new Map(), tokens("fail1", "pass1", "stem1"));
    const id = (name: string) => `tests/test_stem1.py::TestStem1::test_${name}`;
    const real: TestResults = { "tests/test_a.py::test_x": "passed" };
    const truthful = { ...real, [id("fail1")]: "failed", [id("pass1")]: "passed" } satisfies TestResults;
    expect(judgeCanaries(truthful, plan)).toEqual({ status: "vouched", sites: 1 });
    expect(judgeCanaries({ ...truthful, [id("fail1")]: "passed" }, plan).status).toBe("lying");
    expect(judgeCanaries({ ...truthful, [id("fail1")]: "skipped" }, plan).status).toBe("lying");
    expect(judgeCanaries(real, plan)).toMatchObject({ status: "unvouched" });
    expect(judgeCanaries({ ...truthful, [id("pass1")]: "error" }, plan).status).toBe("unvouched");
    expect(withoutCanaries(truthful, plan)).toEqual(real);
    expect(judgeCanaries(real, { planted: [], files: [] })).toEqual({ status: "none" });
  });
});

function testdata(name: string): string {
  return readFileSync(new URL(`../../builtin/discovery/testdata/${name}`, import.meta.url), "utf8");
}

function parse(framework: TestFramework, output: string): TestResults {
  const result = spawnSync("python3", ["-c", parserSource(framework)], { input: output, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`parser for ${framework} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as TestResults;
}

describe("the runners' own totals", () => {
  const captured: [TestFramework, string, string | null][] = [
    ["pytest", "pytest.out", "pytest"],
    ["unittest", "unittest.out", "unittest"],
    ["node-test", "node-tap.out", "tap"],
    ["tape", "tape.out", "tap"],
    ["go", "go-test.out", "go"],
    ["cargo", "cargo-test.out", "cargo"],
    ["jest", "jest.out", null],
    ["mocha", "mocha.out", null],
    ["vitest", "vitest.out", null],
  ];
  for (const [framework, file, runner] of captured) {
    it(`agree with the built-in ${framework} parser on a real run${runner ? "" : " (no summary printed)"}`, () => {
      const output = testdata(file);
      const results = parse(framework, output);
      expect(runnerTotals(output)?.runners ?? null).toEqual(runner === null ? null : [runner]);
      expect(crossCheckTotals(results, output, false)).toBeNull();
      if (runner === null || runner === "unittest") return;
      // Failed tests reported passed are more passes than the runner counted.
      const lying = Object.fromEntries(Object.keys(results).map((id) => [id, "passed" as const]));
      expect(crossCheckTotals(lying, output, false)).toMatch(
        new RegExp(`runner's own summary \\(${runner}\\)`),
      );
      expect(crossCheckTotals(lying, output, true)).toBeNull();
    });
  }

  it("reads Jest's and Vitest's summary lines and pytest's quiet closing line", () => {
    expect(runnerTotals("Tests:       1 failed, 2 skipped, 52 passed, 55 total\n")?.passes).toBe(52);
    expect(runnerTotals("      Tests  52 passed | 1 failed (53)\n Test Files  2 passed (2)\n")?.passes).toBe(
      52,
    );
    expect(runnerTotals("3 failed, 87 passed, 1 xpassed, 2 warnings in 1.20s\n")?.passes).toBe(88);
    expect(runnerTotals("all good\n")).toBeNull();
  });
});
