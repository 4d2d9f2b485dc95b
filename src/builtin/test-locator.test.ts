import { describe, expect, it } from "vitest";
import { codeModelTestLocator } from "./test-locator.js";

const PYTHON = `import pytest


class TestStack:
    def test_push(self):
        assert True

    if True:
        def test_pop(self):
            assert True


@pytest.mark.parametrize("n", [1, 2])
def test_n(n):
    assert n
`;

const JAVASCRIPT = `const test = require("tape");
describe("sum", () => {
  it("adds", () => {
    assert.equal(1 + 1, 2);
  });
});
test("tape style", (t) => {
  t.end();
});
`;

const GO = `package calc

import "testing"

func TestParse(t *testing.T) {
	t.Run("good case", func(t *testing.T) {
		_ = 1
	})
}
`;

describe("codeModelTestLocator", () => {
  it("maps pytest ids (classes, parametrised cases) to their definitions' lines", async () => {
    const found = await codeModelTestLocator.testDefinitions({ path: "tests/test_s.py", text: PYTHON }, [
      "tests/test_s.py::TestStack::test_push",
      "tests/test_s.py::TestStack::test_pop",
      "tests/test_s.py::test_n[1]",
      "tests/test_s.py::test_n[2]",
      "tests/other.py::test_n[1]",
    ]);
    expect(found?.parses).toBe(true);
    expect(found?.definitions).toEqual([
      {
        path: ["TestStack", "test_push"],
        startLine: 5,
        endLine: 6,
        testIds: ["tests/test_s.py::TestStack::test_push"],
      },
      {
        path: ["TestStack", "test_pop"],
        startLine: 9,
        endLine: 10,
        testIds: ["tests/test_s.py::TestStack::test_pop"],
      },
      {
        path: ["test_n"],
        startLine: 13,
        endLine: 15,
        testIds: ["tests/test_s.py::test_n[1]", "tests/test_s.py::test_n[2]"],
      },
    ]);
  });

  it("maps JavaScript ids with and without their describe blocks, and Go subtests", async () => {
    const js = await codeModelTestLocator.testDefinitions({ path: "test/a.test.js", text: JAVASCRIPT }, [
      "test/a.test.js > sum > adds",
      "test/a.test.js > tape style",
    ]);
    expect(
      js?.definitions.map(({ path, startLine, endLine, testIds }) => [path, startLine, endLine, testIds]),
    ).toEqual([
      [["sum", "adds"], 3, 5, ["test/a.test.js > sum > adds"]],
      [["tape style"], 7, 9, ["test/a.test.js > tape style"]],
    ]);
    const go = await codeModelTestLocator.testDefinitions({ path: "calc_test.go", text: GO }, [
      ".::TestParse",
      ".::TestParse/good_case",
    ]);
    expect(
      go?.definitions.map(({ path, startLine, endLine, testIds }) => [path, startLine, endLine, testIds]),
    ).toEqual([
      [["TestParse"], 5, 9, [".::TestParse"]],
      [["TestParse", "good case"], 6, 8, [".::TestParse/good_case"]],
    ]);
  });

  it("says null for a language it does not read", async () => {
    expect(
      await codeModelTestLocator.testDefinitions({ path: "spec/a_spec.rb", text: "it 'x' do\nend\n" }, []),
    ).toBe(null);
  });
});
