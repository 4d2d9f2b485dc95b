import { describe, expect, it } from "vitest";
import { analyzeSource } from "../code-model/index.js";
import { rankFunctions, unimplementedSuspect } from "./ranking.js";

const GO = `package uuid

// Parse decodes s.
func Parse(s string) (UUID, error) {
\tpanic("not implemented")
}

func Must(u UUID, err error) UUID {
\tif err != nil {
\t\tpanic(err)
\t}
\treturn u
}
`;

describe("unimplementedSuspect", () => {
  it("names a Go stub that only panics when a failing test calls it, with no trace into the code", async () => {
    const analysis = (await analyzeSource({ path: "uuid.go", text: GO }))!;
    const failingNames = [new Set(["TestParse", "Parse", "t", "Errorf"])];
    const ranked = rankFunctions({ code: [analysis], failingNames, lines: [] });
    expect(unimplementedSuspect(ranked, [], failingNames)?.name).toBe("Parse");
    // A function with real code is never such a suspect.
    const mustOnly = [new Set(["Must"])];
    expect(
      unimplementedSuspect(
        rankFunctions({ code: [analysis], failingNames: mustOnly, lines: [] }),
        [],
        mustOnly,
      ),
    ).toBeNull();
  });
});
