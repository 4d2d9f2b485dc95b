// Recognises test-defining calls in JavaScript/TypeScript (`describe`, `it`, `test`, `.each`, node's
// `t.test`) and Go subtests (`t.Run`), with their titles and callbacks.
import type { SyntaxNode } from "./grammars.js";
import { unquote } from "./syntax-basics.js";

const SUITE_NAMES = new Set(["describe", "suite", "context", "fdescribe", "xdescribe", "xcontext"]);
const TEST_NAMES = new Set(["it", "test", "specify", "fit", "xit", "xtest", "xspecify"]);
const MODIFIERS = new Set([
  "only",
  "skip",
  "todo",
  "concurrent",
  "failing",
  "sequential",
  "serial",
  "fails",
  "skipIf",
  "runIf",
]);

interface TestCall {
  role: "suite" | "test";
  title: string;
  /** The function that holds the suite's or test's body, when the call has one. */
  callback: SyntaxNode | null;
  parametrized: boolean;
}

function isCallback(node: SyntaxNode): boolean {
  return (
    node.type === "arrow_function" ||
    node.type === "function_expression" ||
    node.type === "function" ||
    node.type === "func_literal"
  );
}

/** The title text of a test call's first argument (string contents; other expressions as written). */
function titleOf(node: SyntaxNode): string {
  if (
    node.type === "string" ||
    node.type === "interpreted_string_literal" ||
    node.type === "raw_string_literal"
  ) {
    return unescapeTitle(unquote(node.text));
  }
  if (node.type === "template_string") return unquote(node.text);
  return node.text;
}

function unescapeTitle(text: string): string {
  return text.replace(/\\(["'\\`nt])/g, (_match, character: string) =>
    character === "n" ? "\n" : character === "t" ? "\t" : character,
  );
}

/** Walks a callee like `describe.only.each(table)` down to its base name, noting modifiers and `.each`. */
function baseOf(callee: SyntaxNode): { base: SyntaxNode | null; each: boolean; viaMember: string | null } {
  let each = false;
  let current: SyntaxNode | null = callee;
  let viaMember: string | null = null;
  while (current) {
    if (current.type === "identifier") return { base: current, each, viaMember };
    if (current.type === "call_expression") {
      current = current.childForFieldName("function");
      continue;
    }
    if (current.type === "member_expression") {
      const property = current.childForFieldName("property")?.text ?? "";
      const object = current.childForFieldName("object");
      if (property === "each") each = true;
      else if (property === "test" || property === "it" || property === "describe") {
        // `t.test(...)` (node subtests) or `suite.test`: the property names the role.
        if (object?.type === "identifier" && !SUITE_NAMES.has(object.text) && !TEST_NAMES.has(object.text)) {
          viaMember = property;
          return { base: null, each, viaMember };
        }
      } else if (!MODIFIERS.has(property)) return { base: null, each, viaMember };
      current = object;
      continue;
    }
    return { base: null, each, viaMember };
  }
  return { base: null, each, viaMember };
}

/**
 * The test call `node` is, or null. `insideTest` allows node's `t.test(...)` subtests, which are only
 * meaningful inside another test (elsewhere `pattern.test(text)` is a regular expression match).
 */
export function matchJavascriptTestCall(node: SyntaxNode, insideTest: boolean): TestCall | null {
  if (node.type !== "call_expression") return null;
  const callee = node.childForFieldName("function");
  const list = node.childForFieldName("arguments");
  if (!callee || !list || list.type !== "arguments") return null;
  const args = list.namedChildren.filter((child) => child.type !== "comment");
  const first = args[0];
  if (!first) return null;
  const { base, each, viaMember } = baseOf(callee);
  let role: "suite" | "test" | null = null;
  if (base) role = SUITE_NAMES.has(base.text) ? "suite" : TEST_NAMES.has(base.text) ? "test" : null;
  else if (viaMember && insideTest) role = viaMember === "describe" ? "suite" : "test";
  if (!role) return null;
  const titled = first.type === "string" || first.type === "template_string";
  const callback = args.slice(1).reverse().find(isCallback) ?? null;
  // `foo.test(x)` or `test(fn)` without a title and callback is not a test definition.
  if (
    !titled &&
    (viaMember || !callback || (first.type !== "identifier" && first.type !== "member_expression"))
  ) {
    return null;
  }
  return { role, title: titleOf(first), callback, parametrized: each };
}

/** A Go subtest `t.Run("name", func(t *testing.T) {...})`, or null. */
export function matchGoSubtest(node: SyntaxNode): TestCall | null {
  if (node.type !== "call_expression") return null;
  const callee = node.childForFieldName("function");
  if (callee?.type !== "selector_expression" || callee.childForFieldName("field")?.text !== "Run")
    return null;
  const list = node.childForFieldName("arguments");
  const args = list?.namedChildren.filter((child) => child.type !== "comment") ?? [];
  const first = args[0];
  const callback = args[1];
  if (!first || !callback || !isCallback(callback)) return null;
  const literal = first.type === "interpreted_string_literal" || first.type === "raw_string_literal";
  return { role: "test", title: literal ? titleOf(first) : first.text, callback, parametrized: !literal };
}
