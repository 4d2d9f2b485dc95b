import { describe, expect, it } from "vitest";
import type { EvaluationRow } from "../queries/evaluations.js";
import { plotLabel } from "./evaluations.js";

function row(policyName: string, sampling: string): EvaluationRow {
  return {
    evaluation: { policyKind: "openai", policyName, policyVersion: "v1", sampling, attempts: 8 },
  } as unknown as EvaluationRow;
}

describe("the interval plot's labels", () => {
  it("keeps a short label whole", () => {
    expect(plotLabel(row("qwen", "{}")).text).toBe("openai:qwen@v1 {} · k=8");
  });

  it("fits a long policy and sampling into the label column, both ends of the policy kept, the whole as title", () => {
    const sampling = JSON.stringify({
      callFormat: "json",
      contextWindow: 4096,
      maxTurns: 10,
      sampling: { t: 1 },
    });
    const label = plotLabel(row("qwen2.5-coder-0.5b-instruct-with-a-long-adapter-name", sampling));
    expect(label.text.length).toBeLessThanOrEqual(64);
    expect(label.text.startsWith("openai:qwen2.5-coder")).toBe(true);
    expect(label.text).toContain("name@v1");
    expect(label.text.endsWith(" · k=8")).toBe(true);
    expect(label.title).toBe(
      `openai:qwen2.5-coder-0.5b-instruct-with-a-long-adapter-name@v1 ${sampling} · k=8`,
    );
  });
});
