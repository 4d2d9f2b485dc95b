// Per-language rules for the expressions worth mutating: operators, literals, calls, returns and the
// conditions of ifs, loops, ternaries and asserts.
import type { SyntaxNode } from "./grammars.js";
import { spanOf } from "./spans.js";
import { field, type StatementFamily } from "./syntax-basics.js";
import type { Expression, LiteralType, SourceSpan } from "./types.js";

const COMPARISON_OPERATORS = new Set(["==", "!=", "===", "!==", "<", "<=", ">", ">=", "instanceof", "in"]);
const BOOLEAN_OPERATORS = new Set(["&&", "||", "??", "and", "or"]);
const MUTABLE_UNARY_OPERATORS = new Set(["!", "-", "+", "~", "not"]);

function binaryExpression(node: SyntaxNode): Expression | null {
  const left = field(node, "left");
  const right = field(node, "right");
  const operator = field(node, "operator");
  if (!left || !right || !operator) return null;
  const text = operator.text;
  const kind = COMPARISON_OPERATORS.has(text)
    ? "comparison"
    : BOOLEAN_OPERATORS.has(text)
      ? "boolean"
      : "arithmetic";
  return { kind, span: spanOf(node), operator: spanOf(operator), left: spanOf(left), right: spanOf(right) };
}

/** Python's chained comparisons `a < b <= c` give one comparison per operator. */
function pythonComparisons(node: SyntaxNode, source: string, push: (expression: Expression) => void): void {
  const children = node.children;
  let index = 0;
  while (index < children.length) {
    const left = children[index]!;
    let next = index + 1;
    while (next < children.length && !children[next]!.isNamed) next++;
    if (next >= children.length || next === index + 1) return;
    const firstOperator = children[index + 1]!;
    const lastOperator = children[next - 1]!;
    const right = children[next]!;
    push({
      kind: "comparison",
      span: spanOf(node),
      operator: {
        start: firstOperator.startIndex,
        end: lastOperator.endIndex,
        startLine: firstOperator.startPosition.row + 1,
        endLine: lastOperator.endPosition.row + 1,
        text: source.slice(firstOperator.startIndex, lastOperator.endIndex),
      },
      left: spanOf(left),
      right: spanOf(right),
    });
    index = next;
  }
}

function literalType(
  node: SyntaxNode,
  family: StatementFamily,
  parent: SyntaxNode | undefined,
): LiteralType | null {
  switch (node.type) {
    case "integer":
    case "float":
    case "number":
    case "int_literal":
    case "float_literal":
    case "integer_literal":
      return "number";
    case "string":
    case "template_string":
    case "interpreted_string_literal":
    case "raw_string_literal":
    case "rune_literal":
    case "string_literal":
    case "char_literal":
      // A bare string statement in Python is a docstring, not behaviour.
      if (family === "python" && parent?.type === "expression_statement") return null;
      if (family === "python" && parent?.type === "concatenated_string") return null;
      return "string";
    case "concatenated_string":
      return family === "python" && parent?.type === "expression_statement" ? null : "string";
    case "true":
    case "false":
    case "boolean_literal":
      return "boolean";
    case "none":
    case "null":
    case "nil":
      return "null";
    default:
      return null;
  }
}

function argumentsOf(list: SyntaxNode): SourceSpan[] {
  return list.namedChildren.filter((child) => !child.type.endsWith("comment")).map(spanOf);
}

function unwrapParentheses(node: SyntaxNode): SyntaxNode {
  let current = node;
  while (current.type === "parenthesized_expression" && current.namedChildCount === 1)
    current = current.firstNamedChild!;
  return current;
}

function condition(
  node: SyntaxNode | null,
  owner: "if" | "while" | "ternary" | "assert",
  push: (expression: Expression) => void,
): void {
  if (!node) return;
  let inner = unwrapParentheses(node);
  // A C-style for loop's condition is wrapped in an expression statement.
  if (inner.type === "expression_statement" && inner.firstNamedChild) inner = inner.firstNamedChild;
  if (inner.type === "empty_statement" || inner.type === "let_condition" || inner.type === "let_chain")
    return;
  push({ kind: "condition", span: spanOf(inner), owner });
}

/** Adds the mutable expressions that `node` itself is (not its descendants'). */
export function expressionsAt(
  node: SyntaxNode,
  family: StatementFamily,
  source: string,
  push: (expression: Expression) => void,
  parent: SyntaxNode | undefined,
): void {
  const literal = literalType(node, family, parent);
  if (literal) {
    push({ kind: "literal", span: spanOf(node), literalType: literal });
    return;
  }
  switch (node.type) {
    case "comparison_operator":
      if (family === "python") pythonComparisons(node, source, push);
      return;
    case "boolean_operator":
    case "binary_operator":
    case "binary_expression": {
      const expression = binaryExpression(node);
      if (expression) push(expression);
      return;
    }
    case "not_operator":
    case "unary_operator":
    case "unary_expression":
      unaryExpression(node, push);
      return;
    case "call":
    case "call_expression":
      callExpression(node, push);
      return;
    case "return_statement":
    case "return_expression": {
      const value = node.firstNamedChild;
      push({
        kind: "return",
        span: spanOf(node),
        value: value && !value.type.endsWith("comment") ? spanOf(value) : null,
      });
      return;
    }
    default:
      conditionsAt(node, family, push);
      return;
  }
}

function unaryExpression(node: SyntaxNode, push: (expression: Expression) => void): void {
  if (node.type === "not_operator") {
    const operator = node.firstChild;
    const operand = field(node, "argument");
    if (operator && operand)
      push({ kind: "unary", span: spanOf(node), operator: spanOf(operator), operand: spanOf(operand) });
    return;
  }
  const operator = field(node, "operator") ?? node.firstChild;
  const operand = field(node, "argument") ?? field(node, "operand") ?? node.lastNamedChild;
  if (operator && operand && MUTABLE_UNARY_OPERATORS.has(operator.text)) {
    push({ kind: "unary", span: spanOf(node), operator: spanOf(operator), operand: spanOf(operand) });
  }
}

function callExpression(node: SyntaxNode, push: (expression: Expression) => void): void {
  const callee = field(node, "function");
  const list = field(node, "arguments");
  if (
    !callee ||
    !list ||
    (list.type !== "argument_list" && list.type !== "arguments" && list.type !== "generator_expression")
  )
    return;
  const args = list.type === "generator_expression" ? [spanOf(list)] : argumentsOf(list);
  push({
    kind: "call",
    span: spanOf(node),
    callee: spanOf(callee),
    arguments: args,
    argumentList: spanOf(list),
  });
}

/** The conditions of ifs, loops, ternaries and asserts. */
function conditionsAt(
  node: SyntaxNode,
  family: StatementFamily,
  push: (expression: Expression) => void,
): void {
  switch (node.type) {
    case "if_statement":
    case "elif_clause":
    case "if_expression":
      condition(field(node, "condition"), "if", push);
      return;
    case "while_statement":
    case "do_statement":
    case "while_expression":
      condition(field(node, "condition"), "while", push);
      return;
    case "for_statement":
      forCondition(node, family, push);
      return;
    case "ternary_expression":
      condition(field(node, "condition"), "ternary", push);
      return;
    case "conditional_expression":
      if (family === "python") condition(node.namedChildren[1] ?? null, "ternary", push);
      return;
    case "assert_statement":
      condition(node.firstNamedChild, "assert", push);
      return;
    default:
      return;
  }
}

/** A C-style for loop's condition (JavaScript, Go's for clause), or Go's bare `for cond {`. */
function forCondition(
  node: SyntaxNode,
  family: StatementFamily,
  push: (expression: Expression) => void,
): void {
  if (family === "javascript") condition(field(node, "condition"), "while", push);
  if (family !== "go") return;
  const clause = node.namedChildren.find((child) => child.type === "for_clause");
  if (clause) {
    condition(field(clause, "condition"), "while", push);
    return;
  }
  const bare = node.namedChildren.find(
    (child) => child.type !== "block" && child.type !== "range_clause" && !child.type.endsWith("comment"),
  );
  if (bare) condition(bare, "while", push);
}
