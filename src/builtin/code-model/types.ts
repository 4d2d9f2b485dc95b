// The code model's vocabulary: functions, statements, expressions and test cases found in source text,
// each with exact ranges so that callers can produce text edits.

export type SourceLanguage = "python" | "javascript" | "typescript" | "tsx" | "go" | "rust";

/** The test runners whose test ids the discovery parsers print and `locateTest` maps back to code. */
export type TestFramework =
  | "pytest"
  | "unittest"
  | "node-test"
  | "tape"
  | "jest"
  | "vitest"
  | "mocha"
  | "go"
  | "cargo";

/**
 * A stretch of source text. `start`/`end` are offsets into the source string as JavaScript indexes it
 * (UTF-16 code units, so `text.slice(start, end)` is the exact text; equal to bytes for ASCII);
 * `end` is exclusive. Lines are 1-based and inclusive.
 */
interface SourceRange {
  start: number;
  end: number;
  startLine: number;
  endLine: number;
}

/** A range together with the text it covers. */
export interface SourceSpan extends SourceRange {
  text: string;
}

export interface Parameter {
  name: string;
  span: SourceSpan;
}

export type StatementKind =
  | "return"
  | "if"
  | "loop"
  | "assignment"
  | "expression"
  | "raise"
  | "assert"
  | "declaration"
  | "other";

/** One statement of a function body, nested ones included (`depth` 0 = directly in the body). */
export interface Statement {
  kind: StatementKind;
  span: SourceSpan;
  depth: number;
}

export type LiteralType = "number" | "string" | "boolean" | "null";

/** Where a condition sits: `if`/`elif`/`else if`, a loop, a conditional expression or an assertion. */
export type ConditionOwner = "if" | "while" | "ternary" | "assert";

/**
 * An expression worth mutating. Operators carry their own span (e.g. `<` in `a < b`), so swapping an
 * operator is one edit of `operator.start..operator.end`.
 */
export type Expression =
  | { kind: "comparison"; span: SourceSpan; operator: SourceSpan; left: SourceSpan; right: SourceSpan }
  | { kind: "boolean"; span: SourceSpan; operator: SourceSpan; left: SourceSpan; right: SourceSpan }
  | { kind: "arithmetic"; span: SourceSpan; operator: SourceSpan; left: SourceSpan; right: SourceSpan }
  | { kind: "unary"; span: SourceSpan; operator: SourceSpan; operand: SourceSpan }
  | { kind: "literal"; span: SourceSpan; literalType: LiteralType }
  | { kind: "call"; span: SourceSpan; callee: SourceSpan; arguments: SourceSpan[]; argumentList: SourceSpan }
  | { kind: "return"; span: SourceSpan; value: SourceSpan | null }
  | { kind: "condition"; span: SourceSpan; owner: ConditionOwner };

export type FunctionKind = "function" | "method" | "arrow" | "closure";

export interface FunctionInfo {
  name: string;
  /** Enclosing classes/impls/functions joined with ".", e.g. "Stack.push" or "outer.inner"; Go methods as "Receiver.Name". */
  qualifiedName: string;
  file: string;
  language: SourceLanguage;
  kind: FunctionKind;
  /** Enclosing class, impl type or Go receiver type; null for free functions. */
  className: string | null;
  /** The whole definition including decorators/attributes/doc comments directly attached. */
  span: SourceSpan;
  nameSpan: SourceSpan;
  /** The body block (for an arrow function with an expression body: that expression). */
  body: SourceSpan;
  parameters: Parameter[];
  /** True when this function defines a test (pytest test_*, Go TestXxx, Rust #[test], JS test callbacks). */
  isTest: boolean;
  /** Statements of this function's own body (not of nested functions), in source order. */
  statements: Statement[];
  /** Mutable expressions of this function's own body (not of nested functions), in source order. */
  expressions: Expression[];
}

export type TestCaseKind = "function" | "method" | "call";

/** A test case definition: a test function/method, or a JS `test(...)`/`it(...)` call. */
export interface TestCase {
  file: string;
  language: SourceLanguage;
  /** The leaf name: function name, or the title string of `it("...")`. */
  name: string;
  /** Names from the outermost enclosing suite to the test itself: ["TestStack", "test_push"], ["Stack", "push", "adds an item"]. */
  path: string[];
  kind: TestCaseKind;
  /** Whole definition (decorators/attributes included; for calls the whole `it(...)` call expression). */
  span: SourceSpan;
  /** The test body (function body or callback body). */
  body: SourceSpan;
  /** True for pytest functions with `@pytest.mark.parametrize` and JS `test.each`/`it.each`. */
  parametrized: boolean;
}

/** A JS `describe(...)` block (or a pytest `Test*` class), kept so whole suites can be located. */
export interface TestSuite {
  file: string;
  name: string;
  path: string[];
  span: SourceSpan;
  body: SourceSpan;
}

export interface SourceAnalysis {
  path: string;
  language: SourceLanguage;
  text: string;
  /** True when tree-sitter found syntax errors; the rest is still best effort. */
  hasSyntaxErrors: boolean;
  functions: FunctionInfo[];
  testCases: TestCase[];
  testSuites: TestSuite[];
}

export interface SourceFile {
  path: string;
  text: string;
  /** Derived from the path when absent. */
  language?: SourceLanguage;
}

/** Where a test id (as printed by a discovery parser) is defined. */
export interface TestLocation {
  file: string;
  testCase: TestCase;
  span: SourceSpan;
}
