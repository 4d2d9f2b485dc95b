// What the weakener leaves behind still compiles, checked with each language's real compiler: Python's
// py_compile, `go vet` (which type-checks test files, so an unused import fails), `node --check`.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import { analyzeSource, type SourceAnalysis, type TestFramework } from "../code-model/index.js";
import { weakenTests } from "./weaken-tests.js";

const temp = makeTempDir("swe-selfplay-weaken-compile-");
afterAll(() => temp.remove());

const PATH = `${process.env.PATH ?? ""}:/usr/local/go/bin`;
const goVersion = spawnSync("go", ["version"], { env: { ...process.env, PATH } });
const hasGo = goVersion.status === 0;
if (!hasGo)
  process.stderr.write(
    "skipped, why: the Go compile check needs the go tool (not on PATH or /usr/local/go/bin)\n",
  );

async function weaken(path: string, text: string, framework: TestFramework, brokenTests: string[]) {
  const analysis = (await analyzeSource({ path, text })) as SourceAnalysis;
  const weakening = await weakenTests({ brokenTests, framework, testFiles: [analysis] });
  return { weakening, changed: weakening.files[0]?.changed ?? text };
}

function compile(directory: string, files: Record<string, string>, command: string[]) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
  const result = spawnSync(command[0]!, command.slice(1), {
    cwd: directory,
    encoding: "utf8",
    // The machine's own Go build cache: the standard library compiles once, not on every test run.
    env: { ...process.env, PATH, GOFLAGS: "-mod=mod" },
  });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

const PYTHON_NESTED = `import sys
import pytest
from calc import add


if sys.version_info >= (3, 0):
    # only on Python 3
    def test_add_three():
        assert add(1, 2) == 3


class TestAdd:
    """Adding."""

    def test_zero(self):
        assert add(0, 0) == 0


class TestOnly:
    # the one test
    @pytest.mark.slow
    def test_only(self):
        assert add(2, 2) == 4


def test_left():
    assert add(1, 1) == 2
`;

const GO_TEST = `package calc

import (
\t"strings"
\t"testing"
)

func TestAdd(t *testing.T) {
\tif Add(1, 2) != 3 {
\t\tt.Fatal("bad")
\t}
}

func TestUpper(t *testing.T) {
\tif strings.ToUpper(Name()) != "CALC" {
\t\tt.Fatal("bad")
\t}
}
`;

const MOCHA_TEST = `var assert = require('assert');
var add = require('..');

describe('add', function () {
  it('adds', function () {
    assert.strictEqual(add(1, 2), 3);
  });
  it('adds zero', () => assert.strictEqual(add(0, 0), 0));
});
`;

describe("weakened test files compile", () => {
  it("Python: a test in an `if` block and a class's only (decorated) method leave a `pass`", async () => {
    const { weakening, changed } = await weaken("test_calc.py", PYTHON_NESTED, "pytest", [
      "test_calc.py::test_add_three",
      "test_calc.py::TestOnly::test_only",
    ]);
    expect(weakening.removed).toHaveLength(2);
    expect(changed).not.toContain("def test_add_three");
    expect(changed).not.toContain("def test_only");
    expect(changed).toContain("def test_zero");
    const result = compile(join(temp.path, "python"), { "test_calc.py": changed }, [
      "python3",
      "-m",
      "py_compile",
      "test_calc.py",
    ]);
    expect(result.ok, `${result.output}\n${changed}`).toBe(true);
    // Without the fillers the file does not compile.
    const bare = PYTHON_NESTED.replace(/ {4}def test_add_three[\s\S]*?== 3\n/, "");
    expect(
      compile(join(temp.path, "python-bare"), { "test_calc.py": bare }, [
        "python3",
        "-m",
        "py_compile",
        "test_calc.py",
      ]).ok,
    ).toBe(false);
  });

  it.skipIf(!hasGo)("Go: an import only the removed test used goes with it", async () => {
    const { weakening, changed } = await weaken("calc_test.go", GO_TEST, "go", [".::TestUpper"]);
    expect(weakening.removed).toEqual([".::TestUpper"]);
    expect(changed).not.toContain('"strings"');
    const files = {
      "go.mod": "module example.com/calc\n\ngo 1.21\n",
      "calc.go":
        'package calc\n\nfunc Add(a, b int) int { return a + b }\n\nfunc Name() string { return "calc" }\n',
    };
    const result = compile(join(temp.path, "go"), { ...files, "calc_test.go": changed }, ["go", "vet", "."]);
    expect(result.ok, `${result.output}\n${changed}`).toBe(true);
    // Removing the function alone leaves an unused import, which does not compile.
    const bare = GO_TEST.replace(/func TestUpper[\s\S]*$/, "");
    const unused = compile(join(temp.path, "go-bare"), { ...files, "calc_test.go": bare }, [
      "go",
      "vet",
      ".",
    ]);
    expect(unused.output).toContain('"strings" imported and not used');
  });

  it("JavaScript: removed `it` calls, block and expression bodies alike, leave a file node accepts", async () => {
    const { weakening, changed } = await weaken("test/index.js", MOCHA_TEST, "mocha", [
      "test/index.js > add adds",
      "test/index.js > add adds zero",
    ]);
    expect(weakening.removed).toHaveLength(2);
    const result = compile(join(temp.path, "js"), { "test/index.js": changed }, [
      "node",
      "--check",
      "test/index.js",
    ]);
    expect(result.ok, `${result.output}\n${changed}`).toBe(true);
  });
});
