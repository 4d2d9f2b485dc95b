// Per-language rules for functions, the scopes that qualify their names (classes, impls, traits,
// modules), and their parameters.
import type { SyntaxNode } from "./grammars.js";
import { spanOf } from "./spans.js";
import { type Ancestors, field, type StatementFamily, unquote } from "./syntax-basics.js";
import type { FunctionKind, Parameter } from "./types.js";

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

interface ScopeMatch {
  name: string;
  /** Classes, impls and traits make methods; Rust modules only qualify names. */
  isClass: boolean;
  body: SyntaxNode | null;
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

/** The function that `node` defines, if any, by the rules of its language family. */
export function matchFunction(
  node: SyntaxNode,
  family: StatementFamily,
  insideClassBody: boolean,
  ancestors: Ancestors,
): FunctionMatch | null {
  switch (family) {
    case "python":
      return pythonFunction(node, insideClassBody, ancestors.at(-1));
    case "javascript":
      return javascriptFunction(node, insideClassBody, ancestors.at(-1));
    case "go":
      return goFunction(node, ancestors);
    case "rust":
      return rustFunction(node, insideClassBody);
  }
}

/** A definition with `name`, `parameters` and `body` fields; null when the name or body is missing. */
function namedDefinition(
  node: SyntaxNode,
  kind: FunctionKind,
  leading: SyntaxNode[] = [],
): FunctionMatch | null {
  const nameNode = field(node, "name");
  const body = field(node, "body");
  if (!nameNode || !body) return null;
  return { name: nameNode.text, nameNode, kind, parameters: field(node, "parameters"), body, leading };
}

function pythonFunction(
  node: SyntaxNode,
  insideClassBody: boolean,
  parent: SyntaxNode | undefined,
): FunctionMatch | null {
  if (node.type === "lambda") return pythonAssignedLambda(node, parent);
  if (node.type !== "function_definition") return null;
  const leading =
    parent?.type === "decorated_definition"
      ? parent.namedChildren.filter((child) => child.type === "decorator")
      : [];
  return namedDefinition(node, insideClassBody ? "method" : "function", leading);
}

const JAVASCRIPT_FUNCTION_VALUES = new Set([
  "arrow_function",
  "function_expression",
  "function",
  "generator_function",
]);

function javascriptFunction(
  node: SyntaxNode,
  insideClassBody: boolean,
  parent: SyntaxNode | undefined,
): FunctionMatch | null {
  if (node.type === "function_declaration" || node.type === "generator_function_declaration")
    return namedDefinition(node, "function");
  if (node.type === "method_definition") return namedDefinition(node, "method");
  if (!JAVASCRIPT_FUNCTION_VALUES.has(node.type)) return null;
  const body = field(node, "body");
  const nameNode = field(node, "name") ?? javascriptAssignedName(parent);
  if (!body || !nameNode) return null;
  const parameters = field(node, "parameters") ?? field(node, "parameter");
  const kind: FunctionKind =
    node.type === "arrow_function" ? "arrow" : insideClassBody ? "method" : "function";
  return { name: unquote(nameNode.text), nameNode, kind, parameters, body, leading: [] };
}

function goFunction(node: SyntaxNode, ancestors: Ancestors): FunctionMatch | null {
  if (node.type === "func_literal") return goPackageFunctionValue(node, ancestors);
  if (node.type !== "function_declaration" && node.type !== "method_declaration") return null;
  const match = namedDefinition(node, node.type === "method_declaration" ? "method" : "function");
  const receiver = field(node, "receiver");
  if (match && receiver)
    match.receiverType = receiver.descendantsOfType("type_identifier")[0]?.text ?? undefined;
  return match;
}

function rustFunction(node: SyntaxNode, insideClassBody: boolean): FunctionMatch | null {
  if (node.type !== "function_item") return null;
  return namedDefinition(node, insideClassBody ? "method" : "function", leadingRustItems(node));
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
