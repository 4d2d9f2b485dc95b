import { describe, expect, it } from "vitest";
import { STRATEGIES } from "../ports/artifact.js";
import { DEFAULT_THRESHOLDS } from "../validation/index.js";
import { fillTemplate, loadPrompt, proposerPrompt, systemPrompt } from "./prompts.js";

describe("prompts", () => {
  it("fills every placeholder of each strategy's proposer prompt with the thresholds", () => {
    const prompts = STRATEGIES.map((strategy) =>
      proposerPrompt({
        strategy,
        thresholds: { ...DEFAULT_THRESHOLDS, minPassingTests: 17, minFailingTests: 3 },
        artifactDir: "/tmp/out",
      }),
    );
    for (const prompt of prompts) {
      expect(prompt).not.toMatch(/\{\{/);
      expect(prompt).toContain("at least 17 tests");
      expect(prompt).toContain("at least 3 previously passing test(s) fail");
      expect(prompt).toContain("`/tmp/out/`");
    }
    expect(new Set(prompts).size).toBe(STRATEGIES.length);
    expect(prompts[STRATEGIES.indexOf("removal")]).toContain("Remove functionality");
  });

  it("puts the workdir in the system prompt and refuses a missing placeholder value", () => {
    expect(systemPrompt("/testbed", loadPrompt("solver-system"))).toMatch(
      /at `\/testbed`[\s\S]*call `submit`/,
    );
    expect(() => fillTemplate("{{nope}}", {})).toThrow(/\{\{nope\}\} has no value/);
  });
});
