import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { promisedNames, TYPE_NAMES } from "../test/support/library-names.js";
import * as api from "./index.js";

const root = join(import.meta.dirname, "..");

describe("the public API (src/index.ts)", () => {
  it("exports every value the README promises", () => {
    const names = promisedNames();
    expect(names.length).toBeGreaterThan(30);
    const values = names.filter((name) => !TYPE_NAMES.has(name));
    const missing = values.filter((name) => !(name in api));
    expect(missing).toEqual([]);
    for (const name of values) {
      // Functions and classes, and the config schema (a zod object).
      const kind = name === "configSchema" ? "object" : "function";
      expect(typeof (api as Record<string, unknown>)[name], name).toBe(kind);
    }
    // Every name the README shows is either a value above or a type the compile check below names.
    expect(names.filter((name) => TYPE_NAMES.has(name)).sort()).toEqual([...TYPE_NAMES].sort());
  });

  it("exports the types a library user needs", () => {
    // Compiles only while each type is exported; typecheck fails otherwise.
    type Exported = [
      api.SelfPlayConfig,
      api.SelfPlayResult,
      api.SelfPlayEvent,
      api.RunSummary,
      api.Policy,
      api.Sandbox,
      api.SandboxView,
      api.SandboxBackend,
      api.BugArtifact,
      api.RolloutSample,
      api.ValidationReport,
      api.GradeResult,
      api.ProposeRequest,
      api.SolveRequest,
      api.ModelClient,
      api.Store,
    ];
    const sample: Exported[8] = {
      testScript: "",
      testFiles: [],
      testParser: "",
      bugInjectDiff: "",
      testWeakenDiff: "",
      meta: {
        environment: "e",
        strategy: "direct",
        order: 1,
        parentId: null,
        policy: "p",
        createdAt: "2026-01-01T00:00:00Z",
      },
    };
    expect(api.artifactId(sample)).toMatch(/^[0-9a-f]{64}$/);
    expect(api.STRATEGIES).toContain(sample.meta.strategy);
  });

  it("is what package.json points at", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      main: string;
      types: string;
      exports: Record<string, { types?: string; default?: string } | string>;
    };
    expect(manifest.main).toBe("dist/index.js");
    expect(manifest.types).toBe("dist/index.d.ts");
    expect(manifest.exports["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
    // tsconfig.build.json compiles src/ into dist/, so src/index.ts becomes dist/index.js.
    const build = JSON.parse(readFileSync(join(root, "tsconfig.build.json"), "utf8")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
  });
});
