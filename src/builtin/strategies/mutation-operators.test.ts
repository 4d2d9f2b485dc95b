import { describe, expect, it } from "vitest";
import { analyzeSource, type FunctionInfo } from "../code-model/index.js";
import { repairsOfFunction } from "../repair/repair-operators.js";
import { mutationsOfFunction } from "./mutation-operators.js";
import { stubbedBody } from "./removal.js";
import { applyTextEdits } from "./text-edits.js";

const PYTHON = `def clamp(value, low, high):
    """Limit value to [low, high]."""
    if value < low and low <= high:
        return low
    total = value + 1
    return min(total, high)
`;

const JAVASCRIPT = `export function within(a, b, strict) {
  if (a < b) {
    return strict === true;
  }
  return Math.max(a, b) - 1;
}
`;

async function onlyFunction(path: string, text: string): Promise<FunctionInfo> {
  const analysis = await analyzeSource({ path, text });
  expect(analysis?.hasSyntaxErrors).toBe(false);
  return analysis!.functions[0]!;
}

async function parses(path: string, text: string): Promise<boolean> {
  const analysis = await analyzeSource({ path, text });
  return analysis !== null && !analysis.hasSyntaxErrors;
}

describe("mutationsOfFunction", () => {
  it("produces parseable Python mutants of every operator family", async () => {
    const fn = await onlyFunction("pkg/clamp.py", PYTHON);
    const mutations = mutationsOfFunction(fn);
    const operators = new Set(mutations.map((mutation) => mutation.operator));
    for (const operator of [
      "comparison-flip",
      "boolean-flip",
      "arithmetic-swap",
      "off-by-one",
      "swap-arguments",
      "negate-condition",
      "remove-condition",
      "neutral-return",
      "remove-statement",
    ]) {
      expect(operators).toContain(operator);
    }
    for (const mutation of mutations) {
      const mutant = applyTextEdits(PYTHON, [mutation]);
      expect(mutant).not.toBe(PYTHON);
      expect(await parses("pkg/clamp.py", mutant), mutation.description).toBe(true);
    }
    const texts = mutations.map((mutation) => applyTextEdits(PYTHON, [mutation]));
    expect(texts).toContain(PYTHON.replace("value < low", "value <= low"));
    expect(texts).toContain(PYTHON.replace(" and ", " or "));
    expect(texts).toContain(PYTHON.replace("min(total, high)", "min(high, total)"));
    expect(texts).toContain(
      PYTHON.replace("if value < low and low <= high:", "if not (value < low and low <= high):"),
    );
  });

  it("produces parseable JavaScript mutants, negations wrapped correctly", async () => {
    const fn = await onlyFunction("src/within.js", JAVASCRIPT);
    const mutations = mutationsOfFunction(fn);
    for (const mutation of mutations) {
      expect(
        await parses("src/within.js", applyTextEdits(JAVASCRIPT, [mutation])),
        mutation.description,
      ).toBe(true);
    }
    const texts = mutations.map((mutation) => applyTextEdits(JAVASCRIPT, [mutation]));
    expect(texts).toContain(JAVASCRIPT.replace("strict === true", "strict !== true"));
    expect(texts).toContain(JAVASCRIPT.replace("strict === true", "strict === false"));
    expect(texts.some((text) => text.includes("if (!(a < b))") || text.includes("if ((!(a < b)))"))).toBe(
      true,
    );
    expect(texts).toContain(JAVASCRIPT.replace("- 1", "- 2"));
  });
});

describe("repairsOfFunction", () => {
  it("contains the inverse of every invertible mutation", async () => {
    for (const [path, text] of [
      ["pkg/clamp.py", PYTHON],
      ["src/within.js", JAVASCRIPT],
    ] as const) {
      const fn = await onlyFunction(path, text);
      for (const mutation of mutationsOfFunction(fn)) {
        if (["remove-condition", "neutral-return", "remove-statement"].includes(mutation.operator)) continue;
        const mutant = applyTextEdits(text, [mutation]);
        const analysis = await analyzeSource({ path, text: mutant });
        const repaired = repairsOfFunction(analysis!.functions[0]!).map((repair) =>
          applyTextEdits(mutant, [repair]),
        );
        // Negating a condition is undone by dropping the added `not`, which keeps harmless parentheses.
        const normalise = (source: string) =>
          source.replace(/\(\((.*)\)\)/g, "($1)").replace(/if \((.*)\):/g, "if $1:");
        expect(repaired.map(normalise), `${path}: ${mutation.description}`).toContain(normalise(text));
      }
    }
  });
});

describe("stubbedBody", () => {
  it("keeps the docstring and the module parseable", async () => {
    const fn = await onlyFunction("pkg/clamp.py", PYTHON);
    const stubbed = applyTextEdits(PYTHON, [stubbedBody(fn, PYTHON, "raise")!]);
    expect(stubbed).toBe(
      'def clamp(value, low, high):\n    """Limit value to [low, high]."""\n    raise NotImplementedError\n',
    );
    const js = await onlyFunction("src/within.js", JAVASCRIPT);
    const neutral = applyTextEdits(JAVASCRIPT, [stubbedBody(js, JAVASCRIPT, "neutral")!]);
    expect(neutral).toBe("export function within(a, b, strict) {\n  return undefined;\n}\n");
    expect(await parses("src/within.js", neutral)).toBe(true);
  });
});

describe("repairsOfFunction on a dropped negation inside a boolean", () => {
  it("negates the operand back", async () => {
    const buggy =
      "def merge(dicts):\n    if len(dicts) == 1 and isinstance(dicts[0], dict):\n        return 1\n    return 2\n";
    const fn = await onlyFunction("pkg/merge.py", buggy);
    const repaired = repairsOfFunction(fn).map((repair) => applyTextEdits(buggy, [repair]));
    expect(repaired).toContain(buggy.replace("and isinstance", "and not isinstance"));
    for (const text of repaired) expect(await parses("pkg/merge.py", text)).toBe(true);
  });
});
