// Per-language knowledge of tree-sitter node types: what is a function, a scope, a statement, an
// expression worth mutating. The walker in analyze.ts is language-neutral and asks these rules.
import type { SyntaxNode } from "./grammars.js";
import { spanOf } from "./spans.js";
import type {
  Expression,
  FunctionKind,
  LiteralType,
  Parameter,
  SourceLanguage,
  SourceSpan,
  StatementKind,
} from "./types.js";

export interface FunctionMatch {
  name: string;
  nameNode: SyntaxNode;
  kind: FunctionKind;
  parameters: SyntaxNode | null;
  body: SyntaxNode;
  /** Decorators/attributes/doc comments attached before the definition, first one first. */
  leading: SyntaxNode[];
  /** Receiver type of a Go method. */
  receiverType?: string;
}

export interface ScopeMatch {
  name: string;
  /** Classes, impls and traits make methods; Rust modules only qualify names. */
  isClass: boolean;
  body: SyntaxNode | null;
}

export type StatementFamily = "python" | "javascript" | "go" | "rust";

export function familyOf(language: SourceLanguage): StatementFamily {
  if (language === "typescript" || language === "tsx" || language === "javascript") return "javascript";
  return language;
}

const COMPARISON_OPERATORS = new Set(["==", "!=", "===", "!==", "<", "<=", ">", ">=", "instanceof", "in"]);
const BOOLEAN_OPERATORS = new Set(["&&", "||", "??", "and", "or"]);
const MUTABLE_UNARY_OPERATORS = new Set(["!", "-", "+", "~", "not"]);

// ---------------------------------------------------------------- functions and scopes

function field(node: SyntaxNode, name: string): SyntaxNode | null {
  return node.childForFieldName(name);
}

function leadingRustItems(node: SyntaxNode): SyntaxNode[] {
  const leading: SyntaxNode[] = [];
  let previous = node.previousNamedSibling;
  while (previous && (previous.type === "attribute_item" || isRustDocComment(previous))) {
    leading.unshift(previous);
    previous = previous.previousNamedSibling;
  }
  return leading;
}

function isRustDocComment(node: SyntaxNode): boolean {
  return node.type === "line_comment" && node.text.startsWith("///");
}

/**
 * The chain of nodes above the one being looked at, outermost first (the walker keeps it, because
 * tree-sitter's `node.parent` searches down from the root and is slow on large files).
 */
export type Ancestors = readonly SyntaxNode[];

/** `name = lambda x: ...`: a function in all but syntax. Other lambdas stay part of their function. */
function pythonAssignedLambda(node: SyntaxNode, parent: SyntaxNode | undefined): FunctionMatch | null {
  if (parent?.type !== "assignment" || !field(parent, "right")?.equals(node)) return null;
  const nameNode = field(parent, "left");
  const body = field(node, "body");
  if (nameNode?.type !== "identifier" || !body) return null;
  return {
    name: nameNode.text,
    nameNode,
    kind: "arrow",
    parameters: field(node, "parameters"),
    body,
    leading: [],
  };
}

/** `var name = func(...) {...}` at package level; function values inside functions stay part of them. */
function goPackageFunctionValue(node: SyntaxNode, ancestors: Ancestors): FunctionMatch | null {
  const list = ancestors.at(-1);
  const spec = ancestors.at(-2);
  if (list?.type !== "expression_list" || spec?.type !== "var_spec") return null;
  if (
    ancestors.some(
      (ancestor) => ancestor.type === "function_declaration" || ancestor.type === "method_declaration",
    )
  )
    return null;
  const names = spec.childrenForFieldName("name").filter((name) => name.isNamed);
  const position = list.namedChildren.findIndex((child) => child.equals(node));
  const nameNode = names[position];
  const body = field(node, "body");
  if (!nameNode || !body) return null;
  return {
    name: nameNode.text,
    nameNode,
    kind: "closure",
    parameters: field(node, "parameters"),
    body,
    leading: [],
  };
}

/** Name given to an anonymous JS function by what it is assigned to. */
function javascriptAssignedName(parent: SyntaxNode | undefined): SyntaxNode | null {
  if (!parent) return null;
  switch (parent.type) {
    case "variable_declarator":
      return field(parent, "name");
    case "assignment_expression": {
      const left = field(parent, "left");
      if (left?.type === "member_expression") return field(left, "property");
      return left?.type === "identifier" ? left : null;
    }
    case "pair":
      return field(parent, "key");
    case "public_field_definition":
    case "field_definition":
      return field(parent, "name") ?? field(parent, "property");
    default:
      return null;
  }
}

export function matchFunction(
  node: SyntaxNode,
  family: StatementFamily,
  insideClassBody: boolean,
  ancestors: Ancestors,
): FunctionMatch | null {
  const parent = ancestors.at(-1);
  switch (family) {
    case "python": {
      if (node.type === "lambda") return pythonAssignedLambda(node, parent);
      if (node.type !== "function_definition") return null;
      const nameNode = field(node, "name");
      const body = field(node, "body");
      if (!nameNode || !body) return null;
      const leading =
        parent?.type === "decorated_definition"
          ? parent.namedChildren.filter((child) => child.type === "decorator")
          : [];
      return {
        name: nameNode.text,
        nameNode,
        kind: insideClassBody ? "method" : "function",
        parameters: field(node, "parameters"),
        body,
        leading,
      };
    }
    case "javascript": {
      const body = field(node, "body");
      if (!body) return null;
      if (node.type === "function_declaration" || node.type === "generator_function_declaration") {
        const nameNode = field(node, "name");
        if (!nameNode) return null;
        return {
          name: nameNode.text,
          nameNode,
          kind: "function",
          parameters: field(node, "parameters"),
          body,
          leading: [],
        };
      }
      if (node.type === "method_definition") {
        const nameNode = field(node, "name");
        if (!nameNode) return null;
        return {
          name: nameNode.text,
          nameNode,
          kind: "method",
          parameters: field(node, "parameters"),
          body,
          leading: [],
        };
      }
      if (
        node.type === "arrow_function" ||
        node.type === "function_expression" ||
        node.type === "function" ||
        node.type === "generator_function"
      ) {
        const nameNode = field(node, "name") ?? javascriptAssignedName(parent);
        if (!nameNode) return null;
        const parameters = field(node, "parameters") ?? field(node, "parameter");
        const kind: FunctionKind =
          node.type === "arrow_function" ? "arrow" : insideClassBody ? "method" : "function";
        return { name: unquote(nameNode.text), nameNode, kind, parameters, body, leading: [] };
      }
      return null;
    }
    case "go": {
      if (node.type === "func_literal") return goPackageFunctionValue(node, ancestors);
      if (node.type !== "function_declaration" && node.type !== "method_declaration") return null;
      const nameNode = field(node, "name");
      const body = field(node, "body");
      if (!nameNode || !body) return null;
      const receiver = field(node, "receiver");
      const receiverType = receiver
        ? (receiver.descendantsOfType("type_identifier")[0]?.text ?? undefined)
        : undefined;
      return {
        name: nameNode.text,
        nameNode,
        kind: node.type === "method_declaration" ? "method" : "function",
        parameters: field(node, "parameters"),
        body,
        leading: [],
        receiverType,
      };
    }
    case "rust": {
      if (node.type !== "function_item") return null;
      const nameNode = field(node, "name");
      const body = field(node, "body");
      if (!nameNode || !body) return null;
      return {
        name: nameNode.text,
        nameNode,
        kind: insideClassBody ? "method" : "function",
        parameters: field(node, "parameters"),
        body,
        leading: leadingRustItems(node),
      };
    }
  }
}

export function matchScope(
  node: SyntaxNode,
  family: StatementFamily,
  ancestors: Ancestors,
): ScopeMatch | null {
  const parent = ancestors.at(-1);
  switch (family) {
    case "python":
      if (node.type !== "class_definition") return null;
      return { name: field(node, "name")?.text ?? "<class>", isClass: true, body: field(node, "body") };
    case "javascript":
      if (
        node.type !== "class_declaration" &&
        node.type !== "class" &&
        node.type !== "abstract_class_declaration"
      )
        return null;
      return {
        name: field(node, "name")?.text ?? javascriptAssignedName(parent)?.text ?? "<class>",
        isClass: true,
        body: field(node, "body"),
      };
    case "go":
      return null;
    case "rust": {
      if (node.type === "impl_item") {
        const type = field(node, "type");
        const name =
          type?.type === "generic_type" ? (field(type, "type")?.text ?? type.text) : (type?.text ?? "<impl>");
        return { name, isClass: true, body: field(node, "body") };
      }
      if (node.type === "trait_item")
        return { name: field(node, "name")?.text ?? "<trait>", isClass: true, body: field(node, "body") };
      if (node.type === "mod_item") {
        const body = field(node, "body");
        return body ? { name: field(node, "name")?.text ?? "<mod>", isClass: false, body } : null;
      }
      return null;
    }
  }
}

/** True when a function whose ancestors these are sits directly in a class, impl or trait body. */
export function isInClassBody(ancestors: Ancestors, family: StatementFamily): boolean {
  let index = ancestors.length - 1;
  // A decorated Python method sits in a decorated_definition inside the class block.
  if (family === "python" && ancestors[index]?.type === "decorated_definition") index--;
  const body = ancestors[index];
  const owner = ancestors[index - 1];
  if (family === "python") return body?.type === "block" && owner?.type === "class_definition";
  if (family === "javascript") return body?.type === "class_body";
  if (family === "rust")
    return body?.type === "declaration_list" && (owner?.type === "impl_item" || owner?.type === "trait_item");
  return false;
}

// ---------------------------------------------------------------- parameters

function firstIdentifier(node: SyntaxNode): SyntaxNode | null {
  if (node.type === "identifier" || node.type === "self") return node;
  for (const child of node.namedChildren) {
    const found = firstIdentifier(child);
    if (found) return found;
  }
  return null;
}

export function parametersOf(list: SyntaxNode | null, family: StatementFamily): Parameter[] {
  if (!list) return [];
  // A single unparenthesised arrow-function parameter is the identifier itself.
  if (list.type === "identifier") return [{ name: list.text, span: spanOf(list) }];
  const parameters: Parameter[] = [];
  for (const child of list.namedChildren) {
    if (child.type === "comment" || child.type === "line_comment" || child.type === "block_comment") continue;
    if (
      family === "go" &&
      (child.type === "parameter_declaration" || child.type === "variadic_parameter_declaration")
    ) {
      const names = child.childrenForFieldName("name");
      for (const name of names) parameters.push({ name: name.text, span: spanOf(child) });
      if (names.length === 0) parameters.push({ name: "_", span: spanOf(child) });
      continue;
    }
    if (family === "python" && (child.type === "keyword_separator" || child.type === "positional_separator"))
      continue;
    if (family === "rust" && child.type === "self_parameter") {
      parameters.push({ name: "self", span: spanOf(child) });
      continue;
    }
    const named =
      field(child, "name") ?? field(child, "pattern") ?? field(child, "left") ?? firstIdentifier(child);
    parameters.push({ name: named?.text ?? child.text, span: spanOf(child) });
  }
  return parameters;
}

// ---------------------------------------------------------------- statements

const PYTHON_STATEMENTS: Record<string, StatementKind> = {
  return_statement: "return",
  if_statement: "if",
  for_statement: "loop",
  while_statement: "loop",
  raise_statement: "raise",
  assert_statement: "assert",
  pass_statement: "other",
  break_statement: "other",
  continue_statement: "other",
  with_statement: "other",
  try_statement: "other",
  match_statement: "other",
  delete_statement: "other",
  global_statement: "other",
  nonlocal_statement: "other",
  import_statement: "other",
  import_from_statement: "other",
  function_definition: "declaration",
  class_definition: "declaration",
  decorated_definition: "declaration",
};

const JAVASCRIPT_STATEMENTS: Record<string, StatementKind> = {
  return_statement: "return",
  if_statement: "if",
  for_statement: "loop",
  for_in_statement: "loop",
  for_of_statement: "loop",
  while_statement: "loop",
  do_statement: "loop",
  throw_statement: "raise",
  lexical_declaration: "declaration",
  variable_declaration: "declaration",
  function_declaration: "declaration",
  generator_function_declaration: "declaration",
  class_declaration: "declaration",
  try_statement: "other",
  switch_statement: "other",
  break_statement: "other",
  continue_statement: "other",
  labeled_statement: "other",
};

const GO_STATEMENTS: Record<string, StatementKind> = {
  return_statement: "return",
  if_statement: "if",
  for_statement: "loop",
  expression_statement: "expression",
  assignment_statement: "assignment",
  short_var_declaration: "assignment",
  inc_statement: "assignment",
  dec_statement: "assignment",
  var_declaration: "declaration",
  const_declaration: "declaration",
  type_declaration: "declaration",
  go_statement: "other",
  defer_statement: "other",
  expression_switch_statement: "other",
  type_switch_statement: "other",
  select_statement: "other",
  labeled_statement: "other",
  break_statement: "other",
  continue_statement: "other",
  send_statement: "other",
  fallthrough_statement: "other",
  goto_statement: "other",
};

function rustExpressionKind(node: SyntaxNode): StatementKind {
  switch (node.type) {
    case "return_expression":
      return "return";
    case "if_expression":
      return "if";
    case "loop_expression":
    case "while_expression":
    case "for_expression":
      return "loop";
    case "assignment_expression":
    case "compound_assignment_expr":
      return "assignment";
    case "macro_invocation": {
      const macro = field(node, "macro")?.text ?? "";
      if (macro.startsWith("assert") || macro.startsWith("debug_assert")) return "assert";
      if (macro === "panic" || macro === "unreachable" || macro === "todo" || macro === "unimplemented")
        return "raise";
      return "expression";
    }
    default:
      return "expression";
  }
}

const RUST_NON_STATEMENTS = new Set([
  "line_comment",
  "block_comment",
  "attribute_item",
  "inner_attribute_item",
]);

/** The kind of statement `node` is, or null when it is not a statement of its block. */
export function statementKind(
  node: SyntaxNode,
  family: StatementFamily,
  ancestors: Ancestors,
): StatementKind | null {
  const parent = ancestors.at(-1);
  switch (family) {
    case "python":
      if (node.type === "expression_statement") {
        const first = node.firstNamedChild;
        if (first?.type === "string" && node.namedChildCount === 1) return "other";
        return first?.type === "assignment" || first?.type === "augmented_assignment"
          ? "assignment"
          : "expression";
      }
      return PYTHON_STATEMENTS[node.type] ?? null;
    case "javascript":
      // A C-style for loop's initializer and condition are statements only to the grammar.
      if (parent?.type === "for_statement" && !parent.childForFieldName("body")?.equals(node)) return null;
      if (node.type === "expression_statement") {
        const first = node.firstNamedChild;
        return first?.type === "assignment_expression" || first?.type === "augmented_assignment_expression"
          ? "assignment"
          : "expression";
      }
      return JAVASCRIPT_STATEMENTS[node.type] ?? null;
    case "go":
      return GO_STATEMENTS[node.type] ?? null;
    case "rust": {
      if (parent?.type !== "block") return null;
      if (node.type === "let_declaration") return "declaration";
      if (node.type === "function_item" || node.type === "struct_item" || node.type === "use_declaration")
        return "declaration";
      if (node.type === "expression_statement")
        return node.firstNamedChild ? rustExpressionKind(node.firstNamedChild) : null;
      if (RUST_NON_STATEMENTS.has(node.type) || !node.isNamed) return null;
      // The block's tail expression: its value is the block's value, an implicit return in a function body.
      if (node.equals(parent.lastNamedChild!)) {
        const kind = rustExpressionKind(node);
        const isFunctionBody =
          ancestors.at(-2)?.type === "function_item" || ancestors.at(-2)?.type === "closure_expression";
        return kind === "expression" && isFunctionBody ? "return" : kind;
      }
      return null;
    }
  }
}

// ---------------------------------------------------------------- expressions

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
    case "not_operator": {
      const operator = node.firstChild;
      const operand = field(node, "argument");
      if (operator && operand)
        push({ kind: "unary", span: spanOf(node), operator: spanOf(operator), operand: spanOf(operand) });
      return;
    }
    case "unary_operator":
    case "unary_expression": {
      const operator = field(node, "operator") ?? node.firstChild;
      const operand = field(node, "argument") ?? field(node, "operand") ?? node.lastNamedChild;
      if (operator && operand && MUTABLE_UNARY_OPERATORS.has(operator.text)) {
        push({ kind: "unary", span: spanOf(node), operator: spanOf(operator), operand: spanOf(operand) });
      }
      return;
    }
    case "call":
    case "call_expression": {
      const callee = field(node, "function");
      const list = field(node, "arguments");
      if (
        callee &&
        list &&
        (list.type === "argument_list" || list.type === "arguments" || list.type === "generator_expression")
      ) {
        const args = list.type === "generator_expression" ? [spanOf(list)] : argumentsOf(list);
        push({
          kind: "call",
          span: spanOf(node),
          callee: spanOf(callee),
          arguments: args,
          argumentList: spanOf(list),
        });
      }
      return;
    }
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
      if (family === "javascript") condition(field(node, "condition"), "while", push);
      if (family === "go") {
        const clause = node.namedChildren.find((child) => child.type === "for_clause");
        if (clause) condition(field(clause, "condition"), "while", push);
        else {
          const bare = node.namedChildren.find(
            (child) =>
              child.type !== "block" && child.type !== "range_clause" && !child.type.endsWith("comment"),
          );
          if (bare) condition(bare, "while", push);
        }
      }
      return;
    case "for_clause":
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

export function unquote(text: string): string {
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'" || text[0] === "`") && text.at(-1) === text[0])
    return text.slice(1, -1);
  return text;
}
