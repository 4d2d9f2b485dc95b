import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { InputError } from "../errors.js";
import { loadConfig, parseConfig, parseDuration } from "./load.js";
import { configSchema } from "./schema.js";

const temps: { remove(): void }[] = [];
afterEach(() => {
  for (const temp of temps.splice(0)) temp.remove();
});

function tempDir(): string {
  const temp = makeTempDir();
  temps.push(temp);
  return temp.path;
}

describe("configuration", () => {
  it("fills the documented defaults", () => {
    const config = parseConfig({}, "test", "/srv");
    expect(config.groupSize).toBe(8);
    expect(config.alpha).toBe(0.8);
    expect(config.strategies).toEqual({ removal: 0.5, history: 0.5 });
    expect(config.strategyAdaptation).toEqual({ floor: 0.1 });
    expect(config.duplicates).toEqual({ semantic: "penalise" });
    expect(config.policy).toEqual({ kind: "builtin" });
    expect(config.secondOrder).toEqual({ enabled: true, maxPerGroup: 1 });
    expect(config.thresholds.minPassingTests).toBe(10);
    expect(config.store).toBe("/srv/.swe-selfplay/store.db");
  });

  it("takes a difficulty level from --set and refuses one no weighted strategy makes", () => {
    expect(parseConfig({}, "test").difficulty).toBe("any");
    expect(loadConfig({ assignments: ["difficulty=1"] }).difficulty).toBe(1);
    expect(() => loadConfig({ assignments: ["difficulty=5"] })).toThrow(/difficulty/);
    expect(() => parseConfig({ difficulty: 1, strategies: { direct: 0 } }, "test")).toThrow(
      /difficulty 1 is made by direct, whose weight is 0: set strategies.direct above 0/,
    );
    // A model policy's direct weight defaults to 0, so level 1 needs it set.
    const model = { kind: "openai", baseUrl: "http://127.0.0.1:1/v1", model: "m" };
    expect(() => parseConfig({ difficulty: 2, policy: model }, "test")).toThrow(/strategies.direct/);
    expect(parseConfig({ difficulty: 4, policy: model }, "test").difficulty).toBe(4);
  });

  it("reports unknown keys with their full path", () => {
    let caught: unknown;
    try {
      parseConfig({
        concurrency: { solverz: 3 },
        extra: true,
        environments: [{ name: "a", path: "x", bogus: 1 }],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    const message = (caught as Error).message;
    expect(message).toContain("concurrency.solverz: unknown key");
    expect(message).toContain("extra: unknown key");
    expect(message).toMatch(/environments\.0/);
  });

  it("rejects duplicate environment names and bad values", () => {
    expect(() =>
      parseConfig({
        environments: [
          { name: "a", path: "/x" },
          { name: "a", image: "img" },
        ],
      }),
    ).toThrow(/environments\.1\.name: duplicate environment name "a"/);
    expect(() => parseConfig({ groupSize: 0 })).toThrow(/groupSize/);
    expect(() => parseConfig({ policy: { kind: "openai" } })).toThrow(/policy\.baseUrl/);
  });

  it("reads YAML, resolves paths against the file and applies command-line overrides last", () => {
    const dir = tempDir();
    const file = join(dir, "run.yaml");
    writeFileSync(
      file,
      [
        "environments:",
        "  - name: fixture",
        "    path: repo",
        "  - name: toolz",
        "    image: swe-selfplay/toolz:latest",
        "groupSize: 4",
        "concurrency:",
        "  solvers: 3",
        "policy:",
        "  kind: openai",
        "  baseUrl: http://127.0.0.1:9/v1",
        "  model: tiny",
      ].join("\n"),
    );
    const config = loadConfig({
      file,
      cwd: dir,
      overrides: { groupSize: 2, "limits.steps": 5, seed: undefined },
      assignments: ["concurrency.validations=2", "secondOrder.enabled=false"],
    });
    expect(config.environments[0]).toEqual({ name: "fixture", path: join(dir, "repo") });
    expect(config.environments[1]).toEqual({ name: "toolz", image: "swe-selfplay/toolz:latest" });
    expect(config.groupSize).toBe(2);
    expect(config.limits.steps).toBe(5);
    expect(config.concurrency).toMatchObject({ solvers: 3, validations: 2, proposers: 1 });
    expect(config.secondOrder.enabled).toBe(false);
    expect(config.policy).toMatchObject({
      kind: "openai",
      model: "tiny",
      toolChoice: "auto",
      sampling: { temperature: 1, topP: 0.95, maxTokens: 4096 },
    });
  });

  it("names the file in YAML errors", () => {
    const dir = tempDir();
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "groupSize: [\n");
    expect(() => loadConfig({ file })).toThrow(/bad\.yaml: not valid YAML/);
    writeFileSync(file, "groupsize: 3\n");
    expect(() => loadConfig({ file })).toThrow(
      /bad\.yaml: invalid configuration:\n {2}groupsize: unknown key/,
    );
  });

  it("documents every field", () => {
    const undocumented: string[] = [];
    const visit = (schema: unknown, path: string) => {
      const node = schema as {
        description?: string;
        shape?: Record<string, unknown>;
        def?: Record<string, unknown>;
      };
      const shape =
        (node.def?.innerType as { shape?: Record<string, unknown> } | undefined)?.shape ?? node.shape;
      if (!shape) return;
      for (const [key, child] of Object.entries(shape)) {
        const childNode = child as { description?: string };
        if (!childNode.description) undocumented.push(`${path}${key}`);
        visit(child, `${path}${key}.`);
      }
    };
    visit(configSchema, "");
    expect(undocumented).toEqual([]);
  });

  it("parses durations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("2")).toBe(2000);
    expect(() => parseDuration("soon")).toThrow(/cannot read duration/);
  });
});
