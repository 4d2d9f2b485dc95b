// Loads the versioned prompt files that ship next to this module and fills in their {{placeholders}}.
import { assetText } from "../assets.js";
import { InputError } from "../errors.js";
import type { Strategy } from "../ports/artifact.js";
import type { Thresholds } from "../ports/validation.js";

export const PROMPT_VERSION = "v2";

export function loadPrompt(name: string): string {
  return assetText(import.meta.url, `prompts/${name}.${PROMPT_VERSION}.md`).trim();
}

export function fillTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined)
      throw new InputError("prompt-placeholder", `prompt placeholder ${whole} has no value`);
    return String(value);
  });
}

export function systemPrompt(workdir: string, roleAddendum?: string): string {
  const base = fillTemplate(loadPrompt("system"), { workdir });
  return roleAddendum ? `${base}\n\n${roleAddendum}` : base;
}

export function proposerPrompt(options: {
  strategy: Strategy;
  thresholds: Thresholds;
  artifactDir: string;
}): string {
  const values = {
    artifact_dir: options.artifactDir,
    min_passing_tests: options.thresholds.minPassingTests,
    min_changed_files: options.thresholds.minChangedFiles,
    min_failing_tests: options.thresholds.minFailingTests,
  };
  const strategyStep = fillTemplate(loadPrompt(`proposer-${options.strategy}`), values);
  return fillTemplate(loadPrompt("proposer-common"), { ...values, strategy_step: strategyStep });
}
