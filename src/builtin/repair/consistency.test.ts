import { describe, expect, it } from "vitest";
import { consistencyGain, lineShape, shapeCounts } from "./consistency.js";

const SOURCE = `const total =
  Number(weeks ?? 0) * WEEK +
  Number(days ?? 0) * DAY +
  Number(minutes ?? 1) * MINUTE +
  Number(seconds ?? 0) * SECOND;
`;

describe("consistencyGain", () => {
  it("abstracts identifiers but keeps operators, literals and keywords", () => {
    expect(lineShape("  Number(days ?? 0) * DAY +")).toBe("ID(ID ?? 0) * ID +");
    expect(lineShape("if not value:")).toBe("if not ID:");
  });

  it("favours the repair that makes a line look like its siblings", () => {
    const counts = shapeCounts(SOURCE);
    const odd = SOURCE.indexOf("?? 1") + 3;
    expect(consistencyGain(SOURCE, counts, { start: odd, end: odd + 1, replacement: "0" })).toBe(1);
    expect(consistencyGain(SOURCE, counts, { start: odd, end: odd + 1, replacement: "2" })).toBe(0);
    const usual = SOURCE.indexOf("?? 0") + 3;
    expect(consistencyGain(SOURCE, counts, { start: usual, end: usual + 1, replacement: "1" })).toBe(0);
  });
});
