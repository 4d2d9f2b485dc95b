// The names the README's "As a library" section promises, shared by the API test (src/index.ts) and the
// installed-package test (what `import("swe-selfplay")` gives a user).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.js";

/** Every name in backticks in the section's list. */
export function promisedNames(): string[] {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const section = readme.split("\n## As a library\n")[1]?.split("\n## ")[0];
  if (!section) throw new Error('README.md has no "## As a library" section');
  const list = section.slice(section.indexOf("\n- "));
  return [...list.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)].map((match) => match[1]!);
}

/** Types the section names; they vanish at run time, so a typecheck stands for them. */
export const TYPE_NAMES = new Set([
  "SelfPlayConfig",
  "SelfPlayResult",
  "SelfPlayEvent",
  "RunSummary",
  "Policy",
  "Sandbox",
  "SandboxView",
  "SandboxBackend",
  "BugArtifact",
  "RolloutSample",
]);

/** The promised values: functions and classes, and the config schema (a zod object). */
export function promisedValues(): { name: string; kind: "function" | "object" }[] {
  return promisedNames()
    .filter((name) => !TYPE_NAMES.has(name))
    .map((name) => ({ name, kind: name === "configSchema" ? "object" : "function" }));
}
