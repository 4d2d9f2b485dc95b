import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { configDefault, modelPolicyDefault } from "./defaults.js";
import { layerFromPaths, mergeLayers, replacing } from "./layers.js";
import { loadConfig } from "./load.js";

const temp = makeTempDir("config-layers-");
afterAll(() => temp.remove());

describe("mergeLayers", () => {
  it("merges mappings key by key, later layers winning; values and lists replace; undefined leaves", () => {
    const file = { concurrency: { solvers: 3, proposers: 2 }, environments: [{ name: "a" }], seed: 1 };
    const flags = { concurrency: { solvers: 5 }, environments: [{ name: "b" }], seed: undefined };
    expect(mergeLayers(file, flags)).toEqual({
      concurrency: { solvers: 5, proposers: 2 },
      environments: [{ name: "b" }],
      seed: 1,
    });
    // The layers themselves are left as they were.
    expect(file.concurrency).toEqual({ solvers: 3, proposers: 2 });
  });

  it("a value marked replacing takes the place of a whole mapping below it", () => {
    const file = { policy: { kind: "openai", baseUrl: "http://x/v1", model: "m", temperature: 0.5 } };
    expect(mergeLayers(file, { policy: replacing({ kind: "builtin" }) })).toEqual({
      policy: { kind: "builtin" },
    });
    expect(layerFromPaths({ "concurrency.solvers": 4, seed: undefined })).toEqual({
      concurrency: { solvers: expect.anything() },
    });
  });
});

describe("a configuration's layers", () => {
  it("are the file, then the flags, then --set, over the schema's defaults", () => {
    const file = join(temp.path, "run.yaml");
    writeFileSync(file, "seed: 1\nalpha: 0.5\nconcurrency:\n  solvers: 3\n  proposers: 2\n");
    const config = loadConfig({
      file,
      overrides: { seed: 2, "concurrency.solvers": 4 },
      assignments: ["seed=3"],
    });
    expect(config.seed).toBe(3); // --set over the flag over the file
    expect(config.concurrency.solvers).toBe(4); // the flag over the file
    expect(config.concurrency.proposers).toBe(2); // the file's, untouched by a flag beside it
    expect(config.alpha).toBe(0.5); // the file's
    expect(config.groupSize).toBe(configDefault("groupSize")); // the schema's
  });

  it("help texts read the defaults back from the schema", () => {
    expect(configDefault("concurrency.sandboxes")).toBe(6);
    expect(modelPolicyDefault("contextWindow")).toBe(32_768);
    expect(modelPolicyDefault("sampling.maxTokens")).toBe(4096);
    expect(() => configDefault("concurrency.nothing")).toThrow(/no default at concurrency.nothing/);
  });
});
