import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STRATEGIES } from "../ports/artifact.js";
import { DEFAULT_THRESHOLDS } from "../validation/index.js";
import { fillTemplate, loadPrompt, PROMPT_VERSION, proposerPrompt, systemPrompt } from "./prompts.js";
import { createBashTool } from "./tools/bash.js";
import { createEditorTool } from "./tools/editor.js";
import { createProposerSubmitTool, createSolverSubmitTool } from "./tools/submit.js";

/**
 * The texts every agent episode starts from, per prompt version: a policy version names its prompts
 * (`agent-prompts-<version>`), so a changed prompt or tool description needs a new PROMPT_VERSION.
 */
const PROMPT_HASHES: Record<string, string> = {
  v2: "6ebfd18be3b57429",
};

function promptTextsHash(): string {
  const hash = createHash("sha256");
  const here = import.meta.dirname;
  const files = [
    ...readdirSync(join(here, "prompts"))
      .filter((name) => name.endsWith(`.${PROMPT_VERSION}.md`))
      .map((name) => join(here, "prompts", name)),
    ...readdirSync(join(here, "tools"))
      .filter((name) => name.endsWith(".md"))
      .map((name) => join(here, "tools", name)),
    join(here, "text-format.md"),
  ].sort();
  for (const file of files) hash.update(`${file.slice(here.length)}\0${readFileSync(file, "utf8")}\0`);
  const tools = [
    createBashTool({}),
    createEditorTool(),
    createSolverSubmitTool(),
    createProposerSubmitTool(async () => ({ status: "ok", output: "" })),
  ];
  hash.update(JSON.stringify(tools.map((tool) => tool.specification)));
  return hash.digest("hex").slice(0, 16);
}

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

  it("names its texts by version: changed prompts or tool descriptions need a new PROMPT_VERSION", () => {
    expect(
      promptTextsHash(),
      `the prompt texts changed: bump PROMPT_VERSION and record the new hash under it`,
    ).toBe(PROMPT_HASHES[PROMPT_VERSION]);
  });

  it("keeps the first request small for a 4096-token context (a small model's, on a CPU)", () => {
    // Characters as a proxy for tokens (about 3.5 per token for this English and JSON; the Qwen2.5
    // template's own count is what bench/agent/prompt-tokens.ts prints).
    const specifications = (submit: ReturnType<typeof createSolverSubmitTool>) =>
      JSON.stringify([createBashTool({}), createEditorTool(), submit].map((tool) => tool.specification))
        .length;
    const proposer = Math.max(
      ...STRATEGIES.map(
        (strategy) =>
          systemPrompt("/testbed").length +
          proposerPrompt({ strategy, thresholds: DEFAULT_THRESHOLDS, artifactDir: "/tmp/artifact" }).length,
      ),
    );
    const proposerTotal =
      proposer + specifications(createProposerSubmitTool(async () => ({ status: "ok", output: "" })));
    const solverTotal =
      systemPrompt("/testbed", loadPrompt("solver-system")).length + specifications(createSolverSubmitTool());
    expect(proposerTotal).toBeLessThan(4_500);
    expect(solverTotal).toBeLessThan(2_500);
  });
});
