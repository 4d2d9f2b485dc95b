import { describe, expect, it } from "vitest";
import { analyzeSource, analyzeSources, languageOfPath } from "./index.js";
import type { Expression, FunctionInfo, SourceAnalysis, SourceSpan } from "./types.js";

async function analyze(path: string, text: string): Promise<SourceAnalysis> {
  const analysis = await analyzeSource({ path, text });
  if (!analysis) throw new Error(`no analysis for ${path}`);
  return analysis;
}

function fn(analysis: SourceAnalysis, qualifiedName: string): FunctionInfo {
  const found = analysis.functions.find((candidate) => candidate.qualifiedName === qualifiedName);
  if (!found)
    throw new Error(`${qualifiedName} not in ${analysis.functions.map((f) => f.qualifiedName).join(", ")}`);
  return found;
}

function expectExact(source: string, span: SourceSpan): void {
  expect(source.slice(span.start, span.end)).toBe(span.text);
  expect(source.slice(0, span.start).split("\n").length).toBe(span.startLine);
}

function operators(expressions: Expression[], kind: Expression["kind"]): string[] {
  return expressions.flatMap((expression) =>
    expression.kind === kind && "operator" in expression ? [expression.operator.text] : [],
  );
}

const PYTHON = `import pytest

def clamp(value, low=0, *rest, high=10, **options):
    """Keeps value within bounds."""
    if value < low or not options:
        return low
    elif low <= value < high:
        return value + 1 if value > 0 else -value
    return high


class Stack:
    def push(self, item):
        self.items.append(item)


class TestStack:
    @pytest.mark.parametrize("item", [1, 2])
    def test_push(self, item):
        assert Stack().push(item) is None

    class TestNested:
        def test_deep(self):
            assert "é" not in "ü"


def test_clamp():
    def three():
        return 3
    assert clamp(three(), high=2) == 2
`;

describe("code model: Python", () => {
  it("finds functions, methods and nested functions with their parameters and ranges", async () => {
    const analysis = await analyze("tests/test_stack.py", PYTHON);
    expect(analysis.hasSyntaxErrors).toBe(false);
    expect(analysis.functions.map((f) => [f.qualifiedName, f.kind, f.className, f.isTest])).toEqual([
      ["clamp", "function", null, false],
      ["Stack.push", "method", "Stack", false],
      ["TestStack.test_push", "method", "TestStack", true],
      ["TestStack.TestNested.test_deep", "method", "TestNested", true],
      ["test_clamp", "function", null, true],
      ["test_clamp.three", "closure", null, false],
    ]);
    const clamp = fn(analysis, "clamp");
    expect(clamp.parameters.map((p) => p.name)).toEqual(["value", "low", "rest", "high", "options"]);
    expect(clamp.span.startLine).toBe(3);
    expect(clamp.span.endLine).toBe(9);
    expect(clamp.body.text.startsWith('"""Keeps')).toBe(true);
    expectExact(PYTHON, clamp.span);
    expectExact(PYTHON, clamp.nameSpan);
    // Decorators belong to the definition, so removing the span removes them too.
    expect(fn(analysis, "TestStack.test_push").span.text.startsWith("@pytest.mark.parametrize")).toBe(true);
  });

  it("lists statements with nesting depth and mutable expressions with exact operator ranges", async () => {
    const analysis = await analyze("src/clamp.py", PYTHON);
    const clamp = fn(analysis, "clamp");
    expect(clamp.statements.map((s) => [s.kind, s.depth])).toEqual([
      ["other", 0],
      ["if", 0],
      ["return", 1],
      ["return", 1],
      ["return", 0],
    ]);
    expect(operators(clamp.expressions, "comparison")).toEqual(["<", "<=", "<", ">"]);
    expect(operators(clamp.expressions, "boolean")).toEqual(["or"]);
    expect(operators(clamp.expressions, "arithmetic")).toEqual(["+"]);
    expect(operators(clamp.expressions, "unary")).toEqual(["not", "-"]);
    const conditions = clamp.expressions.filter((e) => e.kind === "condition");
    expect(conditions.map((c) => [c.span.text, c.kind === "condition" && c.owner])).toEqual([
      ["value < low or not options", "if"],
      ["low <= value < high", "if"],
      ["value > 0", "ternary"],
    ]);
    const returns = clamp.expressions.filter((e) => e.kind === "return");
    expect(returns.map((r) => r.kind === "return" && r.value?.text)).toEqual([
      "low",
      "value + 1 if value > 0 else -value",
      "high",
    ]);
    // The docstring is not a literal worth mutating; numbers are.
    const literals = clamp.expressions.filter((e) => e.kind === "literal").map((e) => e.span.text);
    expect(literals).toEqual(["1", "0"]);
    for (const expression of clamp.expressions) {
      expectExact(PYTHON, expression.span);
      if ("operator" in expression) expectExact(PYTHON, expression.operator);
    }
    // Swapping an operator is one edit of its range.
    const lessThan = clamp.expressions.find((e) => e.kind === "comparison")!;
    if (lessThan.kind !== "comparison") throw new Error("unreachable");
    const edited = PYTHON.slice(0, lessThan.operator.start) + ">=" + PYTHON.slice(lessThan.operator.end);
    expect(edited).toContain("if value >= low or not options:");
  });

  it("finds test functions, methods in Test classes (nested too) and parametrized tests", async () => {
    const analysis = await analyze("tests/test_stack.py", PYTHON);
    expect(analysis.testCases.map((t) => [t.path.join("::"), t.kind, t.parametrized])).toEqual([
      ["TestStack::test_push", "method", true],
      ["TestStack::TestNested::test_deep", "method", false],
      ["test_clamp", "function", false],
    ]);
    expect(analysis.testSuites.map((s) => s.path.join("::"))).toEqual(["TestStack", "TestStack::TestNested"]);
    // Outside test files, pytest collects nothing.
    const plain = await analyze("src/stack.py", PYTHON);
    expect(plain.testCases).toEqual([]);
  });

  it("measures offsets in JavaScript string units, so slices stay exact after non-ASCII text", async () => {
    const analysis = await analyze("tests/test_stack.py", PYTHON);
    const deep = fn(analysis, "TestStack.TestNested.test_deep");
    const comparison = deep.expressions.find((e) => e.kind === "comparison");
    if (comparison?.kind !== "comparison") throw new Error("no comparison");
    expect(comparison.operator.text).toBe("not in");
    expect(comparison.right.text).toBe('"ü"');
    expectExact(PYTHON, comparison.right);
  });
});

const TYPESCRIPT = `import { describe, expect, it, test } from "vitest";

export const add = (a: number, b = 1): number => a + b;

export class Counter {
  private count = 0;
  increment(step: number): number {
    for (let i = 0; i < step; i++) {
      this.count += 1;
    }
    return this.count ?? -1;
  }
}

describe("Counter", () => {
  it("starts at zero", () => {
    expect(new Counter().increment(0)).toBe(0);
  });
  describe.each([[1], [2]])("with step %i", (step) => {
    test("counts", () => {
      expect(add(step, 0) === step && !false).toBe(true);
    });
  });
  it.todo("resets");
});

test("top level", async (t) => {
  await t.test("subtest", () => {
    if (/x/.test("y")) throw new Error("no");
  });
});
`;

describe("code model: JavaScript and TypeScript", () => {
  it("finds declared, assigned and class functions", async () => {
    const analysis = await analyze("src/counter.test.ts", TYPESCRIPT);
    expect(analysis.language).toBe("typescript");
    expect(analysis.hasSyntaxErrors).toBe(false);
    const add = fn(analysis, "add");
    expect(add.kind).toBe("arrow");
    expect(add.parameters.map((p) => p.name)).toEqual(["a", "b"]);
    expect(operators(add.expressions, "arithmetic")).toEqual(["+"]);
    const increment = fn(analysis, "Counter.increment");
    expect(increment.kind).toBe("method");
    expect(increment.className).toBe("Counter");
    expect(increment.statements.map((s) => [s.kind, s.depth])).toEqual([
      ["loop", 0],
      ["assignment", 1],
      ["return", 0],
    ]);
    expect(operators(increment.expressions, "comparison")).toEqual(["<"]);
    expect(operators(increment.expressions, "boolean")).toEqual(["??"]);
    const condition = increment.expressions.find((e) => e.kind === "condition");
    expect(condition?.span.text).toBe("i < step");
  });

  it("finds nested describe/it/test cases, .each tables, todos and node subtests", async () => {
    const analysis = await analyze("src/counter.test.ts", TYPESCRIPT);
    expect(analysis.testCases.map((t) => [t.path.join(" > "), t.parametrized])).toEqual([
      ["Counter > starts at zero", false],
      ["Counter > with step %i > counts", false],
      ["Counter > resets", false],
      ["top level", false],
      ["top level > subtest", false],
    ]);
    expect(analysis.testSuites.map((s) => s.path.join(" > "))).toEqual(["Counter", "Counter > with step %i"]);
    const startsAtZero = analysis.testCases[0]!;
    // The span is the whole statement, so deleting it leaves valid code.
    expect(startsAtZero.span.text.endsWith("});")).toBe(true);
    expect(startsAtZero.body.text.startsWith("{")).toBe(true);
    const subtest = analysis.testCases[4]!;
    expect(subtest.span.text.startsWith("await t.test(")).toBe(true);
    // Test callbacks are functions whose statements and expressions can be edited.
    const counts = fn(analysis, "Counter.with step %i.counts");
    expect(counts.isTest).toBe(true);
    expect(operators(counts.expressions, "comparison")).toEqual(["==="]);
    expect(operators(counts.expressions, "unary")).toEqual(["!"]);
  });

  it("reads JavaScript files and ignores regular expression .test calls outside tests", async () => {
    const source =
      "const re = /a/;\nfunction check(s) { return re.test(s) ? 1 : 0; }\nmodule.exports = { check };\n";
    const analysis = await analyze("lib/check.js", source);
    expect(analysis.testCases).toEqual([]);
    const check = fn(analysis, "check");
    const call = check.expressions.find((e) => e.kind === "call");
    expect(call?.kind === "call" && call.arguments.map((a) => a.text)).toEqual(["s"]);
    expect(check.expressions.find((e) => e.kind === "condition")?.span.text).toBe("re.test(s)");
  });
});

const GO = `package stack

import "testing"

type Stack struct{ items []int }

// Push adds v.
func (s *Stack) Push(v int) {
	if v >= 0 && len(s.items) < 10 {
		s.items = append(s.items, v)
	}
}

func TestPush(t *testing.T) {
	s := &Stack{}
	s.Push(1)
	t.Run("one item", func(t *testing.T) {
		if len(s.items) != 1 {
			t.Fatalf("got %d", len(s.items))
		}
	})
}

func checkPush(t *testing.T) {}
`;

describe("code model: Go", () => {
  it("finds methods with receivers, TestXxx functions and t.Run subtests", async () => {
    const analysis = await analyze("stack/stack_test.go", GO);
    expect(analysis.functions.map((f) => [f.qualifiedName, f.kind, f.isTest])).toEqual([
      ["Stack.Push", "method", false],
      ["TestPush", "function", true],
      ["checkPush", "function", false],
    ]);
    const push = fn(analysis, "Stack.Push");
    expect(push.className).toBe("Stack");
    expect(push.parameters.map((p) => p.name)).toEqual(["v"]);
    expect(operators(push.expressions, "comparison")).toEqual([">=", "<"]);
    expect(operators(push.expressions, "boolean")).toEqual(["&&"]);
    expect(push.statements.map((s) => [s.kind, s.depth])).toEqual([
      ["if", 0],
      ["assignment", 1],
    ]);
    expect(analysis.testCases.map((t) => [t.path.join("/"), t.kind])).toEqual([
      ["TestPush", "function"],
      ["TestPush/one item", "call"],
    ]);
  });
});

const RUST = `pub struct Stack { items: Vec<i32> }

impl Stack {
    pub fn push(&mut self, value: i32) -> bool {
        if value < 0 || self.items.len() >= 10 {
            return false;
        }
        self.items.push(value);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushing one value.
    #[test]
    fn pushes() {
        let mut stack = Stack { items: vec![] };
        assert!(stack.push(1));
    }

    fn not_a_test() {}
}
`;

describe("code model: Rust", () => {
  it("finds impl methods, #[test] functions in modules, and the tail expression as a return", async () => {
    const analysis = await analyze("src/lib.rs", RUST);
    expect(analysis.functions.map((f) => [f.qualifiedName, f.kind, f.isTest])).toEqual([
      ["Stack.push", "method", false],
      ["tests.pushes", "function", true],
      ["tests.not_a_test", "function", false],
    ]);
    const push = fn(analysis, "Stack.push");
    expect(push.parameters.map((p) => p.name)).toEqual(["self", "value"]);
    expect(push.statements.map((s) => [s.kind, s.depth])).toEqual([
      ["if", 0],
      ["return", 1],
      ["expression", 0],
      ["return", 0],
    ]);
    expect(operators(push.expressions, "comparison")).toEqual(["<", ">="]);
    expect(push.expressions.filter((e) => e.kind === "literal").map((e) => e.span.text)).toEqual([
      "0",
      "10",
      "false",
      "true",
    ]);
    const [pushes] = analysis.testCases;
    expect(pushes?.path).toEqual(["tests", "pushes"]);
    expect(pushes?.span.text.startsWith("/// Pushing one value.\n    #[test]")).toBe(true);
  });
});

describe("code model: files", () => {
  it("maps extensions to grammars and skips what it cannot read", async () => {
    expect(languageOfPath("a/b.tsx")).toBe("tsx");
    expect(languageOfPath("a/b.d.ts")).toBeNull();
    expect(languageOfPath("a.mjs")).toBe("javascript");
    expect(languageOfPath("Makefile")).toBeNull();
    const analyses = await analyzeSources([
      { path: "README.md", text: "# hi" },
      { path: "a.py", text: "def f(:\n  return 1\n" },
    ]);
    expect(analyses.map((a) => [a.path, a.hasSyntaxErrors])).toEqual([["a.py", true]]);
  });

  it("analyses a 1,000-line file completely", async () => {
    const lines: string[] = [];
    for (let index = 0; lines.length < 1000; index++) {
      lines.push(
        `def function_${index}(a, b):`,
        `    if a > b and b != ${index}:`,
        "        return a - b",
        "    return a + b * 2",
        "",
      );
    }
    const analysis = await analyze("big.py", lines.join("\n"));
    expect(analysis.functions).toHaveLength(200);
    expect(analysis.functions[199]!.expressions.length).toBeGreaterThan(5);
  });
});

describe("code model: functions written as values", () => {
  it("treats Python lambdas assigned to a name as functions", async () => {
    const analysis = await analyze(
      "shapes.py",
      "square = lambda x: x * x\n\nclass Shape:\n    positive = lambda self, v: v > 0\n",
    );
    expect(analysis.functions.map((f) => [f.qualifiedName, f.kind, f.parameters.map((p) => p.name)])).toEqual(
      [
        ["square", "arrow", ["x"]],
        ["Shape.positive", "arrow", ["self", "v"]],
      ],
    );
    expect(operators(fn(analysis, "square").expressions, "arithmetic")).toEqual(["*"]);
    expect(operators(fn(analysis, "Shape.positive").expressions, "comparison")).toEqual([">"]);
  });

  it("treats Go package-level function values as functions, and keeps function values inside functions inline", async () => {
    const source =
      "package calc\n\nvar (\n\tadd, sub = func(a, b int) int { return a + b }, func(a, b int) int { return a - b }\n)\n\nfunc Twice() int {\n\tg := func() int { return 1 }\n\treturn g() + g()\n}\n";
    const analysis = await analyze("calc/ops.go", source);
    expect(analysis.functions.map((f) => f.qualifiedName)).toEqual(["add", "sub", "Twice"]);
    expect(operators(fn(analysis, "sub").expressions, "arithmetic")).toEqual(["-"]);
    expect(
      fn(analysis, "Twice")
        .expressions.filter((e) => e.kind === "return")
        .map((e) => e.span.text),
    ).toEqual(["return 1", "return g() + g()"]);
  });
});

describe("code model: TSX", () => {
  it("reads components with JSX and their tests", async () => {
    const source = `export function Badge({ count }: { count: number }) {
  if (count > 99) return <span className="badge">99+</span>;
  return <span className="badge">{count}</span>;
}

it("caps large counts", () => {
  expect(render(<Badge count={120} />).text).toBe("99+");
});
`;
    const analysis = await analyze("src/badge.test.tsx", source);
    expect(analysis.language).toBe("tsx");
    expect(analysis.hasSyntaxErrors).toBe(false);
    const badge = fn(analysis, "Badge");
    expect(operators(badge.expressions, "comparison")).toEqual([">"]);
    expect(badge.statements.map((s) => s.kind)).toEqual(["if", "return", "return"]);
    expect(analysis.testCases.map((t) => t.path)).toEqual([["caps large counts"]]);
  });
});

describe("code model: pathological input", () => {
  it("survives expressions nested far deeper than any person writes", async () => {
    const deep = `${"(".repeat(5000)}1${")".repeat(5000)}`;
    const analysis = await analyze(
      "deep.js",
      `function f() { return ${deep}; }\nfunction g(a) { return a + 1; }\n`,
    );
    expect(analysis.functions.map((f) => f.name)).toEqual(["f", "g"]);
    expect(operators(fn(analysis, "g").expressions, "arithmetic")).toEqual(["+"]);
  });
});
