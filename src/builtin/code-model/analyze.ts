// Parses source text with tree-sitter (grammars loaded once, then cached) into a SourceAnalysis: one
// language-neutral walk that asks the per-language rules (function-, statement- and expression-rules.ts)
// what each node is.

import { expressionsAt } from "./expression-rules.js";
import {
  type FunctionMatch,
  isInClassBody,
  matchFunction,
  matchScope,
  parametersOf,
} from "./function-rules.js";
import { parserFor, type SyntaxNode } from "./grammars.js";
import { languageOfPath } from "./language.js";
import { rememberSource, spanBetween, spanOf } from "./spans.js";
import { statementKind } from "./statement-rules.js";
import { type Ancestors, familyOf, type StatementFamily } from "./syntax-basics.js";
import { matchGoSubtest, matchJavascriptTestCall } from "./test-calls.js";
import type {
  FunctionInfo,
  SourceAnalysis,
  SourceFile,
  SourceLanguage,
  SourceSpan,
  TestCase,
  TestSuite,
} from "./types.js";

/** Functions, statements, expressions and test cases of one file; null when no grammar reads its language. */
export async function analyzeSource(file: SourceFile): Promise<SourceAnalysis | null> {
  const language = file.language ?? languageOfPath(file.path);
  if (!language) return null;
  const parser = await parserFor(language);
  const tree = parser.parse(file.text);
  rememberSource(tree, file.text);
  try {
    const walk = new Walk(file.path, language, file.text);
    walk.visit(tree.rootNode, rootContext());
    return {
      path: file.path,
      language,
      text: file.text,
      hasSyntaxErrors: tree.rootNode.hasError,
      functions: walk.functions,
      testCases: walk.testCases,
      testSuites: walk.testSuites,
    };
  } finally {
    // Trees live in wasm memory that the garbage collector does not see.
    tree.delete();
  }
}

/** analyzeSource over many files, skipping those no grammar reads. */
export async function analyzeSources(files: readonly SourceFile[]): Promise<SourceAnalysis[]> {
  const analyses: SourceAnalysis[] = [];
  for (const file of files) {
    const analysis = await analyzeSource(file);
    if (analysis) analyses.push(analysis);
  }
  return analyses;
}

interface Context {
  /** Names that qualify a function defined here (classes, modules, enclosing functions). */
  scope: string[];
  className: string | null;
  /** The function whose statements and expressions are being collected. */
  current: FunctionInfo | null;
  depth: number;
  /** Suite and test names enclosing this point, outermost first. */
  testPath: string[];
  /** Python: tests may be collected here (module level or inside test classes only). */
  collectTests: boolean;
  insideTest: boolean;
}

function rootContext(): Context {
  return {
    scope: [],
    className: null,
    current: null,
    depth: 0,
    testPath: [],
    collectTests: true,
    insideTest: false,
  };
}

interface CallbackRole {
  title: string;
  path: string[];
  role: "suite" | "test";
}

const MAX_DEPTH = 1000;
/**
 * Nodes with nothing worth collecting below them: names, literal parts, comments, imports, type
 * annotations. Not asking for their children saves a call into wasm per node.
 */
const NOTHING_INSIDE = new Set([
  "identifier",
  "property_identifier",
  "field_identifier",
  "type_identifier",
  "shorthand_property_identifier",
  "private_property_identifier",
  "package_identifier",
  "string_content",
  "string_fragment",
  "escape_sequence",
  "comment",
  "line_comment",
  "block_comment",
  "integer",
  "float",
  "number",
  "int_literal",
  "float_literal",
  "integer_literal",
  "interpreted_string_literal",
  "raw_string_literal",
  "rune_literal",
  "true",
  "false",
  "none",
  "null",
  "nil",
  "import_statement",
  "import_from_statement",
  "future_import_statement",
  "import_declaration",
  "use_declaration",
  "type_annotation",
  "type_arguments",
  "type_parameters",
  "predefined_type",
]);
const PYTHON_TEST_FILE = /(^|\/)(test_[^/]*|[^/]*_test)\.py$/;
const GO_TEST_NAME = /^Test($|[^a-z])/;

class Walk {
  readonly functions: FunctionInfo[] = [];
  readonly testCases: TestCase[] = [];
  readonly testSuites: TestSuite[] = [];
  private readonly family: StatementFamily;
  /** Callbacks of JS test calls and Go subtests, by node id: their body belongs to that suite or test. */
  private readonly callbacks = new Map<number, CallbackRole>();
  /** Nodes above the one being visited, outermost first. */
  private readonly ancestors: SyntaxNode[] = [];

  constructor(
    private readonly file: string,
    private readonly language: SourceLanguage,
    private readonly source: string,
  ) {
    this.family = familyOf(language);
  }

  visit(node: SyntaxNode, context: Context): void {
    const parent = this.ancestors.at(-1);
    let childContext = context;
    if (context.current) {
      const kind =
        parent?.type === "decorated_definition" ? null : statementKind(node, this.family, this.ancestors);
      if (kind) {
        context.current.statements.push({ kind, span: spanOf(node), depth: context.depth });
        childContext = { ...context, depth: context.depth + 1 };
      }
    }

    const callback = this.callbacks.get(node.id);
    const match =
      matchFunction(node, this.family, isInClassBody(this.ancestors, this.family), this.ancestors) ??
      this.callbackFunction(node, callback);
    if (match) {
      this.visitFunction(node, match, childContext, callback);
      return;
    }
    if (callback) {
      // A Go subtest's func literal stays part of its test function; only the test path changes.
      childContext = { ...childContext, testPath: callback.path, insideTest: true };
    }

    const scope = matchScope(node, this.family, this.ancestors);
    if (scope) {
      this.visitScope(node, scope.name, scope.isClass, childContext);
      return;
    }

    this.matchTestCall(node, childContext);
    if (context.current) {
      const expressions = context.current.expressions;
      expressionsAt(node, this.family, this.source, (expression) => expressions.push(expression), parent);
    }
    this.visitChildren(node, childContext);
  }

  private visitChildren(node: SyntaxNode, context: Context): void {
    // Machine-made code can nest thousands of levels deep; past this depth nothing is worth mutating
    // and the recursion would exhaust the stack.
    if (this.ancestors.length >= MAX_DEPTH || NOTHING_INSIDE.has(node.type)) return;
    this.ancestors.push(node);
    for (const child of node.namedChildren) this.visit(child, context);
    this.ancestors.pop();
  }

  private callbackFunction(node: SyntaxNode, callback: CallbackRole | undefined): FunctionMatch | null {
    if (!callback || this.family !== "javascript") return null;
    const body = node.childForFieldName("body");
    if (!body) return null;
    const parameters = node.childForFieldName("parameters") ?? node.childForFieldName("parameter");
    return {
      name: callback.title,
      nameNode: node,
      kind: node.type === "arrow_function" ? "arrow" : "closure",
      parameters,
      body,
      leading: [],
    };
  }

  private visitScope(node: SyntaxNode, name: string, isClass: boolean, context: Context): void {
    let collectTests = false;
    let testPath = context.testPath;
    if (
      this.family === "python" &&
      context.collectTests &&
      !context.current &&
      PYTHON_TEST_FILE.test(this.file)
    ) {
      const superclasses = node.childForFieldName("superclasses")?.text ?? "";
      if (name.startsWith("Test") || /TestCase\b/.test(superclasses)) {
        collectTests = true;
        testPath = [...context.testPath, name];
        this.testSuites.push({
          file: this.file,
          name,
          path: testPath,
          span: spanOf(node),
          body: spanOf(node.childForFieldName("body") ?? node),
        });
      }
    }
    if (this.family === "rust" && !isClass) testPath = [...context.testPath, name];
    const inner: Context = {
      ...context,
      scope: [...context.scope, name],
      className: isClass ? name : null,
      testPath,
      collectTests,
    };
    this.visitChildren(node, inner);
  }

  private visitFunction(
    node: SyntaxNode,
    match: FunctionMatch,
    context: Context,
    callback: CallbackRole | undefined,
  ): void {
    const first = match.leading[0] ?? node;
    const span = spanBetween(first, node);
    const className = match.receiverType ?? (match.kind === "method" ? context.className : null);
    const qualifiedName = match.receiverType
      ? `${match.receiverType}.${match.name}`
      : [...context.scope, match.name].join(".");
    const isTest = callback ? callback.role === "test" : this.isTestFunction(match, context);
    const kind = context.current && !callback && match.kind === "function" ? "closure" : match.kind;
    const info: FunctionInfo = {
      name: match.name,
      qualifiedName,
      file: this.file,
      language: this.language,
      kind,
      className,
      span,
      nameSpan: spanOf(match.nameNode),
      body: spanOf(match.body),
      parameters: parametersOf(match.parameters, this.family),
      isTest,
      statements: [],
      expressions: [],
    };
    this.functions.push(info);
    let testPath = callback ? callback.path : context.testPath;
    if (isTest && !callback) {
      testPath = [...context.testPath, match.name];
      this.testCases.push({
        file: this.file,
        language: this.language,
        name: match.name,
        path: testPath,
        kind: match.kind === "method" ? "method" : "function",
        span,
        body: info.body,
        parametrized: match.leading.some((decorator) => decorator.text.includes("parametrize")),
      });
    }
    const inner: Context = {
      scope: [...context.scope, match.name],
      className: null,
      current: info,
      depth: 0,
      testPath,
      collectTests: false,
      insideTest: context.insideTest || isTest,
    };
    this.ancestors.push(node);
    this.visitBody(match.body, inner);
    this.ancestors.pop();
  }

  /** A body's own statements start at depth 0; an expression body (arrow function) is visited as is. */
  private visitBody(body: SyntaxNode, context: Context): void {
    const isBlock = body.type === "block" || body.type === "statement_block";
    if (!isBlock) {
      this.visit(body, context);
      return;
    }
    this.visitChildren(body, context);
  }

  private isTestFunction(match: FunctionMatch, context: Context): boolean {
    switch (this.family) {
      case "python":
        return (
          context.collectTests &&
          !context.current &&
          match.name.startsWith("test") &&
          PYTHON_TEST_FILE.test(this.file)
        );
      case "go":
        return this.file.endsWith("_test.go") && match.kind === "function" && GO_TEST_NAME.test(match.name);
      case "rust":
        return match.leading.some((item) => item.type === "attribute_item" && isRustTestAttribute(item.text));
      default:
        return false;
    }
  }

  private matchTestCall(node: SyntaxNode, context: Context): void {
    if (node.type !== "call_expression") return;
    const call =
      this.family === "javascript"
        ? matchJavascriptTestCall(node, context.insideTest)
        : this.family === "go" && context.insideTest
          ? matchGoSubtest(node)
          : null;
    if (!call) return;
    const path = [...context.testPath, call.title];
    const span = statementSpan(node, this.ancestors);
    const body = call.callback ? spanOf(call.callback.childForFieldName("body") ?? call.callback) : span;
    if (call.role === "suite") this.testSuites.push({ file: this.file, name: call.title, path, span, body });
    else {
      this.testCases.push({
        file: this.file,
        language: this.language,
        name: call.title,
        path,
        kind: "call",
        span,
        body,
        parametrized: call.parametrized,
      });
    }
    if (call.callback) this.callbacks.set(call.callback.id, { title: call.title, path, role: call.role });
  }
}

/** `#[test]`, `#[tokio::test]`, `#[test_case(...)]`-style attributes mark tests; `#[cfg(test)]` does not. */
function isRustTestAttribute(text: string): boolean {
  const inner = text.replace(/^#\[/, "").replace(/\]$/, "").trim();
  return /^([\w:]+::)?test$/.test(inner) || /^([\w:]+::)?test\s*\(/.test(inner) || /^rstest\b/.test(inner);
}

/** A test call's span as a statement (with `await` and the semicolon), so that removing it leaves valid code. */
function statementSpan(call: SyntaxNode, ancestors: Ancestors): SourceSpan {
  let node = call;
  let index = ancestors.length - 1;
  if (ancestors[index]?.type === "await_expression") node = ancestors[index--]!;
  if (ancestors[index]?.type === "expression_statement") node = ancestors[index]!;
  return spanOf(node);
}
