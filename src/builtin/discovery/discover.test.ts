// Discovery on real repositories in real local sandboxes: the generated test_script.sh and
// test_parser.py are run there, and every test id they print is located in the test files.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../../test/support/fixture-repos.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import type { Sandbox, SandboxBackend, SandboxView } from "../../ports/sandbox.js";
import { openSandboxes } from "../../sandbox/index.js";
import { analyzeSources, locateTest } from "../code-model/index.js";
import { detectRust } from "./detect-go-rust.js";
import { parseTestCommand, resolveTestCommand } from "./detect-javascript.js";
import { globMatcher } from "./glob.js";
import { type DiscoveryResult, discoverTests } from "./index.js";
import { createProbe } from "./probe.js";

let temp: { path: string; remove(): void };
let sandboxes: SandboxBackend;
const open: Sandbox[] = [];

beforeAll(() => {
  temp = makeTempDir("swe-selfplay-discovery-");
  sandboxes = openSandboxes();
});

afterAll(async () => {
  for (const sandbox of open) await sandbox.destroy();
  await sandboxes.close();
  temp.remove();
});

function makeRepo(name: string, files: Record<string, string>): string {
  const root = join(temp.path, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd: root,
      stdio: "pipe",
    });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return root;
}

async function sandboxOf(path: string): Promise<Sandbox> {
  const sandbox = await sandboxes.create({ environment: { kind: "dir", path }, label: "test:discovery" });
  open.push(sandbox);
  return sandbox;
}

/** Runs the discovered script and parser inside the sandbox, as validation would. */
async function runDiscovered(sandbox: SandboxView, found: Extract<DiscoveryResult, { status: "found" }>) {
  await sandbox.writeFile("/tmp/test_script.sh", found.testScript, { mode: 0o755 });
  await sandbox.writeFile("/tmp/test_parser.py", found.testParser);
  const run = await sandbox.run({
    command:
      "bash /tmp/test_script.sh > /tmp/test_output.txt; python3 /tmp/test_parser.py < /tmp/test_output.txt",
    timeoutMs: 300_000,
  });
  expect(run.status).toBe("exited");
  expect(run.exitCode, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, string>;
}

async function expectAllLocated(
  sandbox: SandboxView,
  found: Extract<DiscoveryResult, { status: "found" }>,
  ids: string[],
) {
  const sources = await Promise.all(
    found.testFiles.map(async (path) => ({ path, text: (await sandbox.readFile(path)).toString("utf8") })),
  );
  const analyses = await analyzeSources(sources);
  const missing = ids.filter((id) => locateTest(id, found.framework, analyses) === null);
  expect(missing).toEqual([]);
}

describe("discoverTests in a local sandbox", () => {
  it("finds pytest in the Python fixture; its script and parser report every test passing; ids map to code", async () => {
    const sandbox = await sandboxOf(await makePythonFixtureRepo(temp.path));
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("pytest");
    expect(found.language).toBe("python");
    expect(found.testFiles.length).toBeGreaterThanOrEqual(3);
    expect(found.testFiles.every((file) => /^tests\/test_\w+\.py$/.test(file))).toBe(true);
    expect(found.testScript).toContain("cd /testbed");
    const results = await runDiscovered(sandbox, found);
    const ids = Object.keys(results);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(Object.values(results).every((status) => status === "passed")).toBe(true);
    expect(new Set(ids.map((id) => id.split("::")[0]))).toEqual(new Set(found.testFiles));
    await expectAllLocated(sandbox, found, ids);
    // Running tests leaves nothing behind that a diff would show.
    expect(await sandbox.diff()).toBe("");
  });

  it("finds node --test in the JavaScript fixture; ids name file, suites and tests", async () => {
    const sandbox = await sandboxOf(await makeNodeFixtureRepo(temp.path));
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("node-test");
    expect(found.language).toBe("javascript");
    expect(found.testFiles.every((file) => /^test\/[\w-]+\.test\.js$/.test(file))).toBe(true);
    const results = await runDiscovered(sandbox, found);
    const ids = Object.keys(results);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(Object.values(results).every((status) => status === "passed")).toBe(true);
    expect(ids.every((id) => found.testFiles.includes(id.split(" > ")[0]!))).toBe(true);
    await expectAllLocated(sandbox, found, ids);
  });

  it("says clearly when a repository has no tests, and what it looked at", async () => {
    const sandbox = await sandboxOf(
      makeRepo("no-tests", { "README.md": "# nothing\n", "src/tool.py": "def tool():\n    return 1\n" }),
    );
    const result = await discoverTests(sandbox);
    if (result.status !== "not-found") throw new Error(`unexpectedly found ${result.framework}`);
    expect(result.message).toMatch(
      /^could not find how to run the tests: none of package\.json .* was found/,
    );
    expect(result.lookedAt).toContain("listed 2 repository files");
  });

  it("explains a runner named in package.json whose dependencies are not installed", async () => {
    const sandbox = await sandboxOf(
      makeRepo("jest-missing", {
        "package.json": JSON.stringify({ scripts: { test: "jest" }, devDependencies: { jest: "^29.0.0" } }),
        "src/sum.js": "exports.sum = (a, b) => a + b;\n",
        "src/sum.test.js": "test('sums', () => expect(require('./sum').sum(1, 2)).toBe(3));\n",
      }),
    );
    const result = await discoverTests(sandbox);
    if (result.status !== "not-found") throw new Error("unexpectedly found");
    expect(result.message).toContain("node_modules/.bin/jest is missing (are the dependencies installed?)");
  });

  it("keeps the repository's own runner arguments and reads the runner's JSON report (jest-compatible runner)", async () => {
    // A stand-in for the jest executable (a third-party tool, not our code): it records its arguments
    // and writes a report in Jest's --json format to --outputFile.
    const runner = [
      "#!/usr/bin/env node",
      "const fs = require('node:fs');",
      "const args = process.argv.slice(2);",
      "fs.writeFileSync('/tmp/jest-args.json', JSON.stringify(args));",
      "const output = args.find((arg) => arg.startsWith('--outputFile=')).slice('--outputFile='.length);",
      "console.log('noise from the runner {');",
      "const file = process.cwd() + '/src/sum.test.js';",
      "fs.writeFileSync(output, JSON.stringify({ testResults: [{ name: file, status: 'failed', assertionResults: [",
      "  { ancestorTitles: ['sum'], title: 'adds', status: 'passed' },",
      "  { ancestorTitles: ['sum'], title: 'subtracts', status: 'failed' } ] }] }));",
    ].join("\n");
    const root = makeRepo("jest-present", {
      "package.json": JSON.stringify({
        scripts: { test: "NODE_ENV=test jest --config jest.config.js --coverage && echo done" },
        devDependencies: { jest: "^29.0.0" },
      }),
      "jest.config.js": "module.exports = {};\n",
      "src/sum.js": "exports.sum = (a, b) => a + b;\n",
      "src/sum.test.js":
        "describe('sum', () => {\n  it('adds', () => {});\n  it('subtracts', () => {});\n});\n",
      ".gitignore": "node_modules/\n",
    });
    mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
    writeFileSync(join(root, "node_modules/.bin/jest"), runner);
    chmodSync(join(root, "node_modules/.bin/jest"), 0o755);
    const sandbox = await sandboxOf(root);
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("jest");
    expect(found.testFiles).toEqual(["src/sum.test.js"]);
    expect(found.testScript).toContain("NODE_ENV=test node_modules/.bin/jest --config jest.config.js --ci");
    expect(found.testScript).not.toContain("--coverage");
    const results = await runDiscovered(sandbox, found);
    expect(results).toEqual({
      "src/sum.test.js > sum > adds": "passed",
      "src/sum.test.js > sum > subtracts": "failed",
    });
    const args = JSON.parse((await sandbox.readFile("/tmp/jest-args.json")).toString("utf8")) as string[];
    expect(args.slice(0, 5)).toEqual(["--config", "jest.config.js", "--ci", "--watchAll=false", "--json"]);
    await expectAllLocated(sandbox, found, Object.keys(results));
  });

  it("reads Mocha's spec from .mocharc and its JSON report from the reporter's output file", async () => {
    // A stand-in for the mocha executable (a third-party tool, not our code) writing Mocha's JSON report.
    const runner = [
      "#!/usr/bin/env node",
      "const fs = require('node:fs');",
      "const args = process.argv.slice(2);",
      "const output = args[args.indexOf('--reporter-option') + 1].slice('output='.length);",
      "const file = process.cwd() + '/spec/unit/sum.spec.js';",
      "const passes = [{ title: 'adds', fullTitle: 'sum adds', file }];",
      "const failures = [{ title: 'carries', fullTitle: 'sum carries', file }];",
      "fs.writeFileSync(output, JSON.stringify({ stats: {}, tests: [...passes, ...failures], passes, failures, pending: [] }));",
    ].join("\n");
    const root = makeRepo("mocha-rc", {
      "package.json": JSON.stringify({ scripts: { test: "mocha" }, devDependencies: { mocha: "^10.0.0" } }),
      ".mocharc.yml": "spec: 'spec/**/*.spec.js'\ntimeout: 5000\n",
      "spec/unit/sum.spec.js":
        "describe('sum', () => {\n  it('adds', () => {});\n  it('carries', () => {});\n});\n",
      "spec/support.js": "module.exports = {};\n",
      "test/legacy.js": "// not part of the configured spec\n",
      ".gitignore": "node_modules/\n",
    });
    mkdirSync(join(root, "node_modules/.bin"), { recursive: true });
    writeFileSync(join(root, "node_modules/.bin/mocha"), runner);
    chmodSync(join(root, "node_modules/.bin/mocha"), 0o755);
    const sandbox = await sandboxOf(root);
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("mocha");
    expect(found.testFiles).toEqual(["spec/unit/sum.spec.js"]);
    const results = await runDiscovered(sandbox, found);
    expect(results).toEqual({
      "spec/unit/sum.spec.js > sum adds": "passed",
      "spec/unit/sum.spec.js > sum carries": "failed",
    });
    await expectAllLocated(sandbox, found, Object.keys(results));
  });

  it("names a runner it does not support instead of saying no test script was found", async () => {
    const sandbox = await sandboxOf(
      makeRepo("ava-suite", {
        "package.json": JSON.stringify({
          scripts: { test: "eslint . && nyc --reporter=text ava test/*.js" },
          devDependencies: { ava: "^6.0.0" },
        }),
        "index.js": "module.exports = (a, b) => a + b;\n",
        "test/index.js": "require('ava')('adds', (t) => { t.is(require('../')(1, 2), 3); });\n",
      }),
    );
    const result = await discoverTests(sandbox);
    if (result.status !== "not-found") throw new Error(`unexpectedly found ${result.framework}`);
    expect(result.message).toContain(
      "ava is not supported yet: package.json's test script is `eslint . && nyc --reporter=text ava test/*.js` (supported runners: vitest, jest, mocha, tape, node --test)",
    );
    expect(result.message).not.toContain("none of package.json");
  });

  it("runs a tape suite file by file with the real tape, its flags kept, and reads each test's result", async () => {
    const root = makeRepo("tape-suite", {
      "package.json": JSON.stringify({
        scripts: { test: "eslint . && nyc --reporter=text tape -r ./test/setup.js 'test/*.test.js'" },
        devDependencies: { tape: "^5.0.0" },
      }),
      "index.js": "module.exports = { add: (a, b) => a + b, sub: (a, b) => a + b };\n",
      "test/setup.js": "globalThis.SETUP = 1;\n",
      "test/add.test.js":
        "const test = require('tape');\nconst { add } = require('../');\n\ntest('adds', (t) => {\n  t.equal(add(1, 2), 3);\n  t.equal(globalThis.SETUP, 1);\n  t.end();\n});\n",
      "test/sub.test.js":
        "const test = require('tape');\nconst { sub } = require('../');\n\ntest('subtracts', (t) => {\n  t.equal(sub(3, 1), 2);\n  t.end();\n});\n\ntest('keeps zero', (t) => {\n  t.equal(sub(0, 0), 0);\n  t.end();\n});\n",
      ".gitignore": "node_modules/\n",
    });
    // The real tape from npm: the project's own devDependency, so the package manager's cache has it.
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: root,
      stdio: "pipe",
    });
    const sandbox = await sandboxOf(root);
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("tape");
    expect(found.testFiles).toEqual(["test/add.test.js", "test/sub.test.js"]);
    expect(found.testScript).toContain('node_modules/.bin/tape -r ./test/setup.js "$file"');
    const results = await runDiscovered(sandbox, found);
    expect(results).toEqual({
      "test/add.test.js > adds": "passed",
      "test/sub.test.js > keeps zero": "passed",
      "test/sub.test.js > subtracts": "failed",
    });
    await expectAllLocated(sandbox, found, Object.keys(results));
  });

  it("finds go test for a Go module when the go tool is there, and says so when it is not", async () => {
    const sandbox = await sandboxOf(
      makeRepo("go-module", {
        "go.mod": "module example.com/calc\n\ngo 1.21\n",
        "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
        "calc_test.go":
          'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal("bad")\n\t}\n}\n',
      }),
    );
    const probe = await sandbox.run({ command: "go version" });
    const result = await discoverTests(sandbox);
    if (probe.exitCode !== 0) {
      if (result.status !== "not-found") throw new Error("found go without a go tool");
      expect(result.message).toContain(
        "the repository has Go tests but the go tool is not installed (not on the sandbox's PATH /usr/local/sbin:",
      );
      return;
    }
    if (result.status !== "found") throw new Error(result.message);
    expect(result.framework).toBe("go");
    expect(result.testFiles).toEqual(["calc_test.go"]);
    expect(await runDiscovered(sandbox, result)).toEqual({ ".::TestAdd": "passed" });
    // A fresh sandbox has a cold Go build cache: the run compiles the standard library first.
  }, 600_000);

  it("keeps code modules out of the test files when pytest also collects their doctests", async () => {
    const sandbox = await sandboxOf(
      makeRepo("doctest-modules", {
        "pytest.ini": "[pytest]\naddopts = --doctest-modules\n",
        "calc.py": 'def add(a, b):\n    """\n    >>> add(1, 2)\n    3\n    """\n    return a + b\n',
        "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        "tests/conftest.py":
          "import sys, os\nsys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\n",
      }),
    );
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.testFiles).toEqual(["tests/test_calc.py"]);
    expect(await runDiscovered(sandbox, found)).toEqual({
      "calc.py::calc.add": "passed",
      "tests/test_calc.py::test_add": "passed",
    });
  });

  it("recognises node:test files without a test script, and Rust unit tests by their attributes", async () => {
    const sandbox = await sandboxOf(
      makeRepo("mixed-node-rust", {
        "package.json": JSON.stringify({ name: "tools", type: "module" }),
        "test/math.test.js":
          'import { test } from "node:test";\nimport assert from "node:assert";\ntest("adds", () => assert.equal(1 + 1, 2));\n',
        "test/fixtures/data.js": "export const data = 1;\n",
        "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": "pub mod ops;\n",
        "src/ops.rs":
          "pub fn add(a: i32, b: i32) -> i32 { a + b }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(1, 2), 3); }\n}\n",
        "src/plain.rs": "// #[cfg(test)] only, no tests\npub fn nothing() {}\n",
        "tests/it.rs": "#[tokio::test]\nasync fn works() {}\n",
      }),
    );
    const probe = await createProbe(sandbox, {});
    expect(
      await probe.filesContaining("[\"']node:test[\"']", ["test/math.test.js", "test/fixtures/data.js"]),
    ).toEqual(["test/math.test.js"]);
    const rust = await detectRust(probe);
    const cargo = await sandbox.run({ command: "cargo --version" });
    if (cargo.exitCode === 0)
      expect(rust?.status === "usable" && rust.testFiles).toEqual(["src/ops.rs", "tests/it.rs"]);
    else
      expect(rust).toEqual({
        status: "unusable",
        framework: "cargo",
        reason: expect.stringMatching(
          /^the repository has Rust tests but cargo is not installed \(not on the sandbox's PATH \/usr\/local\/sbin:.*\/bin\)$/,
        ),
      });
    // Node's runner treats every .js file under test/ as a test file: fixtures included, as node would run them.
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    // Two test files each: the tie goes to the first detector, JavaScript.
    expect(found.framework).toBe("node-test");
    expect(found.testFiles).toEqual(["test/fixtures/data.js", "test/math.test.js"]);
    expect(await runDiscovered(sandbox, found)).toEqual({ "test/math.test.js > adds": "passed" });
  });

  it("runs a unittest suite with unittest's own discovery, package and plain test directories alike", async () => {
    const sandbox = await sandboxOf(
      makeRepo("unittest-suite", {
        "calc.py": "def add(a, b):\n    return a + b\n",
        "tests/test_calc.py":
          "import unittest\nfrom calc import add\n\n\nclass TestCalc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n\n    def test_broken(self):\n        self.assertEqual(add(1, 1), 3)\n",
        "pkg/__init__.py": "",
        "pkg/tests/__init__.py": "",
        "pkg/tests/test_inner.py":
          "import unittest\n\n\nclass TestInner(unittest.TestCase):\n    def test_inner(self):\n        print('noise ... FAIL')\n",
        "tests/test_plain.py": "def test_pytest_style():\n    assert True\n",
      }),
    );
    // Restricting the runners stands in for an environment without pytest.
    const found = await discoverTests(sandbox, { frameworks: ["unittest"] });
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("unittest");
    expect(found.testFiles).toEqual(["pkg/tests/test_inner.py", "tests/test_calc.py"]);
    const results = await runDiscovered(sandbox, found);
    expect(results).toEqual({
      "pkg/tests/test_inner.py::TestInner::test_inner": "passed",
      "tests/test_calc.py::TestCalc::test_add": "passed",
      "tests/test_calc.py::TestCalc::test_broken": "failed",
    });
    await expectAllLocated(sandbox, found, Object.keys(results));
    expect(await sandbox.diff()).toBe("");
  });

  it("prefers the ecosystem with tests when several are present", async () => {
    const sandbox = await sandboxOf(
      makeRepo("python-with-package-json", {
        "package.json": JSON.stringify({ name: "docs", scripts: { build: "echo" } }),
        "calc.py": "def add(a, b):\n    return a + b\n",
        "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        "tests/conftest.py":
          "import sys, os\nsys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\n",
      }),
    );
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("pytest");
    expect(found.testFiles).toEqual(["tests/test_calc.py"]);
    expect(await runDiscovered(sandbox, found)).toEqual({ "tests/test_calc.py::test_add": "passed" });
    // Without asking pytest, file name patterns give the same answer here, and nothing runs pytest twice.
    const quick = await discoverTests(sandbox, { collect: false });
    if (quick.status !== "found") throw new Error(quick.message);
    expect(quick.testFiles).toEqual(["tests/test_calc.py"]);
    expect(quick.lookedAt.some((entry) => entry.includes("--collect-only"))).toBe(false);
  });
});

describe("reading package.json test commands", () => {
  it("finds the runner, its environment, kept flags and positional specs", () => {
    expect(
      parseTestCommand(
        "npm run lint && NODE_ENV=test mocha --reporter dot -r ts-node/register 'test/**/*.spec.ts'",
      ),
    ).toEqual({
      framework: "mocha",
      environment: ["NODE_ENV=test"],
      flags: ["-r", "ts-node/register"],
      positional: ["test/**/*.spec.ts"],
    });
    expect(parseTestCommand("vitest run --coverage --reporter=verbose")).toEqual({
      framework: "vitest",
      environment: [],
      flags: [],
      positional: [],
    });
    expect(parseTestCommand("node --import tsx --test test/")).toEqual({
      framework: "node-test",
      environment: [],
      flags: ["--import", "tsx"],
      positional: ["test/"],
    });
    expect(parseTestCommand('echo "Error: no test specified" && exit 1')).toBeNull();
    const scripts = {
      test: "npm run lint && npm run test:unit",
      "test:unit": "yarn jest:ci",
      "jest:ci": "jest --ci -i",
    };
    expect(resolveTestCommand(scripts, "test")).toEqual({
      framework: "jest",
      environment: [],
      flags: ["-i"],
      positional: [],
    });
  });

  it("matches test file globs as the runners do", () => {
    expect(globMatcher("**/?(*.)+(spec|test).[jt]s?(x)")("src/a/sum.test.tsx")).toBe(true);
    expect(globMatcher("**/?(*.)+(spec|test).[jt]s?(x)")("test.js")).toBe(true);
    expect(globMatcher("**/?(*.)+(spec|test).[jt]s?(x)")("src/contest.js")).toBe(false);
    expect(globMatcher("**/*.{test,spec}.?(c|m)[jt]s?(x)")("a/b.spec.mts")).toBe(true);
    expect(globMatcher("test/*.{js,cjs,mjs}")("test/deep/a.js")).toBe(false);
    expect(globMatcher("**/test/**/*.?(c|m)js")("test/a.mjs")).toBe(true);
  });
});
