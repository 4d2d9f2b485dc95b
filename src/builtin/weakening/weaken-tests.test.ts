import { describe, expect, it } from "vitest";
import { analyzeSource, type SourceAnalysis } from "../code-model/index.js";
import { weakenTests } from "./weaken-tests.js";

const PYTEST_FILE = `import pytest
from pkg import clamp


def helper():
    return 3


def test_low():
    assert clamp(0, 1, 5) == 1


class TestHigh:
    def test_high(self):
        assert clamp(9, 1, 5) == 5


@pytest.mark.parametrize("value", [2, 3])
def test_inside(value):
    assert clamp(value, 1, 5) == value


def test_helper():
    assert helper() == 3
`;

const NODE_FILE = `import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { within } from "../src/within.js";

describe("within", () => {
  it("accepts inside", () => {
    assert.equal(within(1, 2, true), true);
  });
  it("rejects outside", () => {
    assert.equal(within(3, 2, true), false);
  });
});
`;

async function analyse(path: string, text: string): Promise<SourceAnalysis> {
  return (await analyzeSource({ path, text }))!;
}

describe("weakenTests", () => {
  it("removes whole pytest functions, methods and parametrized tests, leaving helpers", async () => {
    const file = await analyse("tests/test_clamp.py", PYTEST_FILE);
    const weakening = await weakenTests({
      brokenTests: [
        "tests/test_clamp.py::test_low",
        "tests/test_clamp.py::test_inside[2]",
        "tests/test_clamp.py::test_inside[3]",
      ],
      framework: "pytest",
      testFiles: [file],
    });
    expect(weakening.unlocated).toEqual([]);
    expect(weakening.files).toHaveLength(1);
    const changed = weakening.files[0]!.changed;
    expect(changed).not.toContain("def test_low");
    expect(changed).not.toContain("test_inside");
    expect(changed).not.toContain("parametrize");
    expect(changed).toContain("def helper()");
    expect(changed).toContain("def test_high");
    expect(changed).toContain("def test_helper");
    expect((await analyse("tests/test_clamp.py", changed)).hasSyntaxErrors).toBe(false);
  });

  it("keeps a class parseable when its only test goes", async () => {
    const file = await analyse("tests/test_clamp.py", PYTEST_FILE);
    const weakening = await weakenTests({
      brokenTests: ["tests/test_clamp.py::TestHigh::test_high"],
      framework: "pytest",
      testFiles: [file],
    });
    const changed = weakening.files[0]!.changed;
    expect(changed).not.toContain("def test_high");
    expect(changed).toContain("class TestHigh:\n    pass\n");
    expect((await analyse("tests/test_clamp.py", changed)).hasSyntaxErrors).toBe(false);
  });

  it("removes one `it` case of a node:test suite and reports ids it cannot find", async () => {
    const file = await analyse("test/within.test.js", NODE_FILE);
    const weakening = await weakenTests({
      brokenTests: ["test/within.test.js > within > rejects outside", "test/within.test.js > nothing > here"],
      framework: "node-test",
      testFiles: [file],
    });
    expect(weakening.removed).toEqual(["test/within.test.js > within > rejects outside"]);
    expect(weakening.unlocated).toEqual(["test/within.test.js > nothing > here"]);
    const changed = weakening.files[0]!.changed;
    expect(changed).toBe(NODE_FILE.replace(/ {2}it\("rejects outside"[\s\S]*?\}\);\n/, ""));
  });

  it("changes nothing when no broken test is defined in the files", async () => {
    const file = await analyse("tests/test_clamp.py", PYTEST_FILE);
    const weakening = await weakenTests({
      brokenTests: ["tests/other.py::test_x"],
      framework: "pytest",
      testFiles: [file],
    });
    expect(weakening.files).toEqual([]);
    expect(weakening.unlocated).toEqual(["tests/other.py::test_x"]);
  });
});
