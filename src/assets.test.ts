import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { assetBytes, assetPath, assetText } from "./assets.js";
import { InfrastructureError } from "./errors.js";

const root = join(import.meta.dirname, "..");
const moduleUrl = (path: string) => pathToFileURL(join(root, path)).href;

describe("assets", () => {
  it("resolves a file relative to the module that names it and reads it once", () => {
    const base = moduleUrl("src/artifact-io/swebench.ts");
    expect(assetPath(base, "problem-statement.md")).toBe(join(root, "src/artifact-io/problem-statement.md"));
    const text = assetText(base, "problem-statement.md");
    expect(text).toContain("{{test_patch}}");
    expect(assetText(base, "./problem-statement.md")).toBe(text);
    expect(assetBytes(base, "problem-statement.md").toString("utf8")).toBe(text);
  });

  it("finds a built module's file under src/ when the build did not copy it beside the module", () => {
    const built = moduleUrl("dist/artifact-io/no-such-module.js");
    expect(existsSync(join(root, "dist/artifact-io/problem-statement.md.absent"))).toBe(false);
    expect(assetPath(built, "problem-statement.md")).toMatch(
      /[\\/](src|dist)[\\/]artifact-io[\\/]problem-statement\.md$/,
    );
  });

  it("names the missing file in its error", () => {
    const base = moduleUrl("src/artifact-io/swebench.ts");
    let caught: unknown;
    try {
      assetText(base, "prompts/absent.md");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InfrastructureError);
    expect((caught as InfrastructureError).code).toBe("asset-missing");
    expect((caught as Error).message).toContain(join(root, "src/artifact-io/prompts/absent.md"));
    expect(() => assetText(moduleUrl("dist/artifact-io/x.js"), "absent.md")).toThrow(/absent\.md/);
  });
});
