// Candidate repairs: the inverses of the mutation operators (flip comparisons and booleans back, swap
// arithmetic, ±1 constants, negate or un-negate conditions, swap arguments). Removed code cannot be guessed.
import type { Expression, FunctionInfo, SourceLanguage, SourceSpan } from "../code-model/index.js";
import {
  abbreviate,
  type Mutation,
  mutationsOfExpression,
  negated,
  normaliseOperator,
  type OperatorName,
  operatorTable,
} from "../strategies/mutation-operators.js";

/** For each operator text, the operators whose mutation produces it. */
function inverseTable(table: Record<string, readonly string[]>): Record<string, string[]> {
  const inverse: Record<string, string[]> = {};
  for (const [source, targets] of Object.entries(table)) {
    for (const target of targets) inverse[target] = [...(inverse[target] ?? []), source];
  }
  return inverse;
}

function swaps(
  operator: OperatorName,
  span: SourceSpan,
  table: Record<string, readonly string[]>,
): Mutation[] {
  const current = normaliseOperator(span.text);
  return (table[current] ?? []).map((replacement) => ({
    operator,
    start: span.start,
    end: span.end,
    replacement,
    line: span.startLine,
    description: `\`${current}\` → \`${replacement}\` at line ${span.startLine}`,
  }));
}

function negateOperand(operand: SourceSpan, language: SourceLanguage): Mutation {
  const simple = /^[\w.$]+(\([^()]*(\([^()]*\))*[^()]*\))?$/.test(operand.text);
  const replacement =
    language === "python"
      ? simple
        ? `not ${operand.text}`
        : `not (${operand.text})`
      : simple
        ? `!${operand.text}`
        : negated(operand.text, language);
  return {
    operator: "negate-condition",
    start: operand.start,
    end: operand.end,
    replacement,
    line: operand.startLine,
    description: `operand \`${abbreviate(operand.text)}\` negated at line ${operand.startLine}`,
  };
}

/** Repairs of one expression. */
function repairsOfExpression(expression: Expression, language: SourceLanguage): Mutation[] {
  switch (expression.kind) {
    case "comparison":
      return swaps(
        "comparison-flip",
        expression.operator,
        inverseTable(operatorTable("comparison", language)),
      );
    case "boolean":
      // A dropped `not` inside `a and not b` is undone by negating that operand back.
      return [
        ...swaps("boolean-flip", expression.operator, inverseTable(operatorTable("boolean", language))),
        ...[expression.left, expression.right].map((operand) => negateOperand(operand, language)),
      ];
    case "arithmetic":
      return swaps(
        "arithmetic-swap",
        expression.operator,
        inverseTable(operatorTable("arithmetic", language)),
      );
    case "unary":
    case "literal":
    case "call":
      // Dropping a negation, ±1 and flipped literals, swapped arguments: these operators are their own inverse.
      return mutationsOfExpression(expression, language);
    case "condition": {
      if (expression.owner === "assert") return [];
      const text = expression.span.text;
      return [
        {
          operator: "negate-condition",
          start: expression.span.start,
          end: expression.span.end,
          replacement: negated(text, language),
          line: expression.span.startLine,
          description: `condition \`${abbreviate(text)}\` negated at line ${expression.span.startLine}`,
        },
      ];
    }
    case "return":
      return [];
  }
}

/** Every candidate repair inside one function, in source order. */
export function repairsOfFunction(fn: FunctionInfo): Mutation[] {
  return fn.expressions.flatMap((expression) => repairsOfExpression(expression, fn.language));
}
