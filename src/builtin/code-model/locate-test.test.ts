import { describe, expect, it } from "vitest";
import { analyzeSources, locateTest, parseTestId } from "./index.js";

describe("parseTestId", () => {
  it("splits pytest ids, keeping parameters that contain separators apart", () => {
    expect(parseTestId("tests/test_x.py::TestA::test_b[a::b/c-1]", "pytest")).toEqual({
      file: "tests/test_x.py",
      path: ["TestA", "test_b"],
      parameters: "a::b/c-1",
    });
    expect(parseTestId("tests/test_x.py", "pytest")).toEqual({
      file: null,
      path: ["tests/test_x.py"],
      parameters: null,
    });
  });

  it("splits go and cargo ids", () => {
    expect(parseTestId("pkg/calc::TestAdd/one_plus_one", "go")).toEqual({
      file: "pkg/calc",
      path: ["TestAdd", "one_plus_one"],
      parameters: null,
    });
    expect(parseTestId("src/lib.rs::tests::adds", "cargo")).toEqual({
      file: "src/lib.rs",
      path: ["tests", "adds"],
      parameters: null,
    });
  });
});

const PYTHON_BASE = `class BaseChecks:
    def test_shared(self):
        assert True


class TestConcrete(BaseChecks):
    def test_own(self):
        assert True
`;

const JAVASCRIPT = `describe("a > b", () => {
  it("keeps > in titles", () => {});
  it(\`uses template \${name}\`, () => {});
  test.each([[1, 2]])("adds %i and %i", () => {});
});
`;

describe("locateTest", () => {
  it("finds pytest methods, and inherited ones through a unique name in the file", async () => {
    const files = await analyzeSources([{ path: "tests/test_base.py", text: PYTHON_BASE }]);
    expect(locateTest("tests/test_base.py::TestConcrete::test_own", "pytest", files)?.span.startLine).toBe(7);
    // pytest reports an inherited test under the subclass that collected it.
    expect(locateTest("tests/test_base.py::TestConcrete::test_shared", "pytest", files)?.span.startLine).toBe(
      2,
    );
    expect(locateTest("tests/test_base.py::TestConcrete::test_missing", "pytest", files)).toBeNull();
    expect(locateTest("tests/test_other.py::TestConcrete::test_own", "pytest", files)).toBeNull();
    // Ids relative to a different rootdir still match by path suffix.
    expect(locateTest("pkg/tests/test_base.py::TestConcrete::test_own", "pytest", files)?.file).toBe(
      "tests/test_base.py",
    );
  });

  it("matches JavaScript titles containing the separator, template literals and .each placeholders", async () => {
    const files = await analyzeSources([{ path: "test/a.test.js", text: JAVASCRIPT }]);
    expect(locateTest("test/a.test.js > a > b > keeps > in titles", "jest", files)?.span.startLine).toBe(2);
    expect(locateTest("test/a.test.js > a > b > uses template Ada", "vitest", files)?.span.startLine).toBe(3);
    expect(locateTest("test/a.test.js > a > b > adds 1 and 2", "jest", files)?.span.startLine).toBe(4);
    expect(locateTest("test/a.test.js > a > b keeps > in titles", "mocha", files)?.span.startLine).toBe(2);
    // Ids without the file part (plain TAP parsers) are matched against every file.
    expect(locateTest("a > b > keeps > in titles", "node-test", files)?.file).toBe("test/a.test.js");
    expect(locateTest("test/a.test.js > a > b > absent", "jest", files)).toBeNull();
  });

  it("falls back to the enclosing Go test when a subtest name is computed", async () => {
    const text = `package calc\n\nimport "testing"\n\nfunc TestTable(t *testing.T) {\n\tfor _, name := range []string{"x"} {\n\t\tt.Run(name, func(t *testing.T) {})\n\t}\n}\n`;
    const files = await analyzeSources([{ path: "calc/table_test.go", text }]);
    expect(locateTest("calc::TestTable/x", "go", files)?.testCase.path).toEqual(["TestTable"]);
    expect(locateTest("other::TestTable", "go", files)).toBeNull();
  });

  it("maps cargo ids to modules in nested files", async () => {
    const files = await analyzeSources([
      { path: "src/lib.rs", text: "pub mod net;\n" },
      {
        path: "src/net/mod.rs",
        text: "pub mod tcp;\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn connects() {}\n}\n",
      },
      { path: "src/net/tcp.rs", text: "#[cfg(test)]\nmod tests {\n    #[test]\n    fn connects() {}\n}\n" },
    ]);
    expect(locateTest("src/lib.rs::net::tests::connects", "cargo", files)?.file).toBe("src/net/mod.rs");
    expect(locateTest("src/lib.rs::net::tcp::tests::connects", "cargo", files)?.file).toBe("src/net/tcp.rs");
  });
});
