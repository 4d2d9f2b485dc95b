// Per-language tables of statement node types, and which nodes are statements of their block.
import type { SyntaxNode } from "./grammars.js";
import { type Ancestors, field, type StatementFamily } from "./syntax-basics.js";
import type { StatementKind } from "./types.js";

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
