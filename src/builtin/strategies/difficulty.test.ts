import { describe, expect, it } from "vitest";
import { analyzeSource, type SourceAnalysis } from "../code-model/index.js";
import type { Candidate } from "./candidate.js";
import { mayHaveDifficulty, screenedDifficulty, staticDifficulty } from "./difficulty.js";
import { directCandidates } from "./direct.js";
import { removalCandidates } from "./removal.js";
import { createSeededRandom } from "./seeded-random.js";

const CODE = `def clamp(value, low, high):
    if value < low:
        return low
    return min(value, high)


def report(rows):
    lines = []
    for row in rows:
        if row:
            lines.append(str(row))
    total = len(lines)
    if total > 10:
        lines = lines[:10]
    header = "rows: " + str(total)
    footer = "end"
    width = max(len(line) for line in lines) if lines else 0
    rule = "-" * width
    body = "\\n".join(lines)
    text = header + "\\n" + rule + "\\n" + body
    text = text + "\\n" + footer
    return text
`;

const TESTS = `from lib import clamp, report


def test_clamp_low():
    assert clamp(-1, 0, 5) == 0


def test_report():
    assert report([1]).startswith("rows")
`;

async function parsed(path: string, text: string): Promise<SourceAnalysis> {
  const analysis = await analyzeSource({ path, text });
  if (!analysis || analysis.hasSyntaxErrors) throw new Error(`${path} does not parse`);
  return analysis;
}

describe("difficulty levels of built-in candidates", () => {
  it("grades a one-token flip in a short named function 1 only when a broken test calls it", async () => {
    const code = await parsed("lib.py", CODE);
    const tests = await parsed("test_lib.py", TESTS);
    const codeBase = { code: [code], tests: [tests], testIdentifiers: new Set(["clamp", "report", "lib"]) };
    const random = createSeededRandom(1);
    const direct = directCandidates(codeBase, random);
    const flip = direct.find(
      (candidate) => candidate.site?.name === "clamp" && candidate.operators[0] === "comparison-flip",
    )!;
    expect(staticDifficulty(flip)).toBe(1);
    const suite = { framework: "pytest" as const, files: [tests] };
    expect(screenedDifficulty(flip, ["test_lib.py::test_clamp_low"], suite)).toBe(1);
    // Broken only through a test that never names clamp: the solver must find the culprit itself.
    expect(screenedDifficulty(flip, ["test_lib.py::test_report"], suite)).toBe(2);
    // A flip in a long function is level 2 whatever breaks.
    const long = direct.find(
      (candidate) => candidate.site?.name === "report" && candidate.operators[0] === "comparison-flip",
    )!;
    expect(staticDifficulty(long)).toBe(2);
    expect(mayHaveDifficulty(long, 1)).toBe(false);
    expect(mayHaveDifficulty(flip, 2)).toBe(true);

    const removal = removalCandidates(codeBase, random);
    const levels = (wanted: string) =>
      removal.filter((candidate) => candidate.operators.includes(wanted)).map(staticDifficulty);
    expect(new Set(levels("remove-block"))).toEqual(new Set([3]));
    expect(new Set([...levels("stub-raise"), ...levels("stub-neutral")])).toEqual(new Set([4]));
  });

  it("puts reverted commits and two-file bugs at the hardest level", () => {
    const patch: Candidate = {
      strategy: "history",
      description: "reverted",
      change: { kind: "patch", diff: "", files: ["a.py"] },
      operators: ["revert-commit"],
    };
    expect(staticDifficulty(patch)).toBe(4);
    const twoFiles: Candidate = {
      strategy: "direct",
      description: "two",
      change: {
        kind: "files",
        files: [
          { file: "a.py", original: "", edits: [] },
          { file: "b.py", original: "", edits: [] },
        ],
      },
      operators: ["comparison-flip", "comparison-flip"],
    };
    expect(staticDifficulty(twoFiles)).toBe(4);
  });
});
