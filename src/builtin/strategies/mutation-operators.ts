// Mutation operators over the code model's expressions and statements: each yields exact text edits.
// The repair solver uses the inverse table (src/builtin/repair/repair-operators.ts).
import type { Expression, FunctionInfo, SourceLanguage, SourceSpan, Statement } from "../code-model/index.js";

export type OperatorName =
  | "comparison-flip"
  | "boolean-flip"
  | "arithmetic-swap"
  | "off-by-one"
  | "boolean-literal"
  | "swap-arguments"
  | "remove-negation"
  | "negate-condition"
  | "remove-condition"
  | "neutral-return"
  | "remove-statement";

/** One edit of one function's text, with the line it sits on (1-based) for reports and localisation. */
export interface Mutation {
  operator: OperatorName;
  start: number;
  end: number;
  replacement: string;
  line: number;
  /** Human-readable, e.g. "`<` → `<=` at line 12". */
  description: string;
}

/** Operators whose effect the repair solver can undo (it cannot guess removed code). */
export const INVERTIBLE_OPERATORS: ReadonlySet<OperatorName> = new Set([
  "comparison-flip",
  "boolean-flip",
  "arithmetic-swap",
  "off-by-one",
  "boolean-literal",
  "swap-arguments",
  "remove-negation",
  "negate-condition",
]);

const COMPARISON_MUTATIONS: Record<string, readonly string[]> = {
  "<": ["<=", ">="],
  "<=": ["<", ">"],
  ">": [">=", "<="],
  ">=": [">", "<"],
  "==": ["!="],
  "!=": ["=="],
  "===": ["!=="],
  "!==": ["==="],
  in: ["not in"],
  "not in": ["in"],
  is: ["is not"],
  "is not": ["is"],
};

const BOOLEAN_MUTATIONS: Record<string, readonly string[]> = {
  and: ["or"],
  or: ["and"],
  "&&": ["||"],
  "||": ["&&"],
};

function arithmeticMutations(language: SourceLanguage): Record<string, readonly string[]> {
  return language === "python"
    ? { "+": ["-"], "-": ["+"], "*": ["//"], "//": ["*"], "/": ["*"], "%": ["//"] }
    : { "+": ["-"], "-": ["+"], "*": ["/"], "/": ["*"], "%": ["/"] };
}

/** The table of operator replacements for a mutation kind, keyed by normalised operator text. */
export function operatorTable(
  kind: "comparison" | "boolean" | "arithmetic",
  language: SourceLanguage,
): Record<string, readonly string[]> {
  if (kind === "comparison") return COMPARISON_MUTATIONS;
  if (kind === "boolean") return BOOLEAN_MUTATIONS;
  return arithmeticMutations(language);
}

export function normaliseOperator(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}

const INTEGER = /^\d+$/;

export function isPython(language: SourceLanguage): boolean {
  return language === "python";
}

function booleanLiteralFlip(text: string, language: SourceLanguage): string | null {
  if (isPython(language)) return text === "True" ? "False" : text === "False" ? "True" : null;
  return text === "true" ? "false" : text === "false" ? "true" : null;
}

/** Wraps a condition in a negation that stays valid whether or not the span carries its own parentheses. */
export function negated(text: string, language: SourceLanguage): string {
  if (isPython(language)) return `not (${text})`;
  if (hasOuterParentheses(text)) return `(!${text})`;
  return `!(${text})`;
}

function hasOuterParentheses(text: string): boolean {
  if (!text.startsWith("(") || !text.endsWith(")")) return false;
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === "(") depth++;
    else if (character === ")") {
      depth--;
      if (depth === 0 && index < text.length - 1) return false;
    }
  }
  return depth === 0;
}

function edit(
  operator: OperatorName,
  span: { start: number; end: number; startLine: number; text?: string },
  replacement: string,
  description: string,
): Mutation {
  return {
    operator,
    start: span.start,
    end: span.end,
    replacement,
    line: span.startLine,
    description: `${description} at line ${span.startLine}`,
  };
}

function operatorSwaps(
  operator: OperatorName,
  span: SourceSpan,
  table: Record<string, readonly string[]>,
): Mutation[] {
  const current = normaliseOperator(span.text);
  return (table[current] ?? []).map((replacement) =>
    edit(operator, span, replacement, `\`${current}\` → \`${replacement}\``),
  );
}

type ExpressionOf<Kind extends Expression["kind"]> = Extract<Expression, { kind: Kind }>;

/** Mutations of one expression. */
export function mutationsOfExpression(expression: Expression, language: SourceLanguage): Mutation[] {
  switch (expression.kind) {
    case "comparison":
      return operatorSwaps("comparison-flip", expression.operator, operatorTable("comparison", language));
    case "boolean":
      return operatorSwaps("boolean-flip", expression.operator, operatorTable("boolean", language));
    case "arithmetic":
      return operatorSwaps("arithmetic-swap", expression.operator, operatorTable("arithmetic", language));
    case "unary": {
      const operator = normaliseOperator(expression.operator.text);
      if (operator !== "not" && operator !== "!") return [];
      return [edit("remove-negation", expression.span, expression.operand.text, `\`${operator}\` removed`)];
    }
    case "literal":
      return literalMutations(expression, language);
    case "call":
      return argumentSwaps(expression);
    case "return":
      return neutralReturns(expression, language);
    case "condition":
      return conditionMutations(expression, language);
  }
}

/** Integers one up and one down (not below zero); boolean literals flipped. */
function literalMutations(expression: ExpressionOf<"literal">, language: SourceLanguage): Mutation[] {
  const text = expression.span.text;
  if (expression.literalType === "number" && INTEGER.test(text)) {
    const value = Number.parseInt(text, 10);
    const results = [edit("off-by-one", expression.span, String(value + 1), `${text} → ${value + 1}`)];
    if (value > 0)
      results.push(edit("off-by-one", expression.span, String(value - 1), `${text} → ${value - 1}`));
    return results;
  }
  if (expression.literalType === "boolean") {
    const flipped = booleanLiteralFlip(text, language);
    return flipped ? [edit("boolean-literal", expression.span, flipped, `${text} → ${flipped}`)] : [];
  }
  return [];
}

/** Neighbouring positional arguments that differ, swapped (keyword and spread arguments left alone). */
function argumentSwaps(expression: ExpressionOf<"call">): Mutation[] {
  const results: Mutation[] = [];
  const args = expression.arguments;
  for (let index = 0; index + 1 < args.length; index++) {
    const first = args[index]!;
    const second = args[index + 1]!;
    if (first.text === second.text || isKeywordArgument(first.text) || isKeywordArgument(second.text))
      continue;
    if (first.text.startsWith("*") || second.text.startsWith("*") || first.text.startsWith("..")) continue;
    const between = expression.argumentList.text.slice(
      first.end - expression.argumentList.start,
      second.start - expression.argumentList.start,
    );
    results.push({
      operator: "swap-arguments",
      start: first.start,
      end: second.end,
      replacement: `${second.text}${between}${first.text}`,
      line: first.startLine,
      description: `arguments \`${abbreviate(first.text)}\` and \`${abbreviate(second.text)}\` swapped at line ${first.startLine}`,
    });
  }
  return results;
}

/** A returned value replaced by the language's neutral value (none in Go and Rust, whose types forbid it). */
function neutralReturns(expression: ExpressionOf<"return">, language: SourceLanguage): Mutation[] {
  if (!expression.value) return [];
  const neutral = isPython(language) ? "None" : language === "go" || language === "rust" ? null : "undefined";
  if (!neutral || expression.value.text === neutral) return [];
  return [
    edit(
      "neutral-return",
      expression.value,
      neutral,
      `return value \`${abbreviate(expression.value.text)}\` → ${neutral}`,
    ),
  ];
}

/** Conditions of if, while and ternaries negated; an if's condition also made always true. */
function conditionMutations(expression: ExpressionOf<"condition">, language: SourceLanguage): Mutation[] {
  if (expression.owner !== "if" && expression.owner !== "while" && expression.owner !== "ternary") return [];
  const text = expression.span.text;
  const results = [
    edit(
      "negate-condition",
      expression.span,
      negated(text, language),
      `condition \`${abbreviate(text)}\` negated`,
    ),
  ];
  if (expression.owner === "if") {
    const always = isPython(language) ? "True" : hasOuterParentheses(text) ? "(true)" : "true";
    results.push(
      edit("remove-condition", expression.span, always, `condition \`${abbreviate(text)}\` removed`),
    );
  }
  return results;
}

function isKeywordArgument(text: string): boolean {
  return /^[A-Za-z_]\w*\s*=[^=]/.test(text);
}

export function abbreviate(text: string, length = 40): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= length ? flat : `${flat.slice(0, length - 1)}…`;
}

/** A statement removed in a way that keeps the file parseable (`pass` in Python, `;` elsewhere). */
export function removalOfStatement(statement: Statement, language: SourceLanguage): Mutation | null {
  if (
    statement.kind !== "assignment" &&
    statement.kind !== "expression" &&
    statement.kind !== "if" &&
    statement.kind !== "loop"
  )
    return null;
  if (isPython(language) && /^("""|'''|"|')/.test(statement.span.text)) return null; // docstrings
  // `;` rather than nothing, so an unbraced `if (x) call();` keeps its shape.
  const replacement = isPython(language) ? "pass" : ";";
  return edit(
    "remove-statement",
    statement.span,
    replacement,
    `${statement.kind} statement \`${abbreviate(statement.span.text)}\` removed`,
  );
}

/** Every direct mutation of a function body: expressions, then removable statements. */
export function mutationsOfFunction(fn: FunctionInfo): Mutation[] {
  const results: Mutation[] = [];
  for (const expression of fn.expressions) results.push(...mutationsOfExpression(expression, fn.language));
  for (const statement of fn.statements) {
    if (statement.kind === "if" || statement.kind === "loop") continue; // block removal belongs to the removal strategy
    const removal = removalOfStatement(statement, fn.language);
    if (removal) results.push(removal);
  }
  return results;
}
