import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { projectRoot } from "../../../test/support/cli.js";
import { makeTempDir } from "../../../test/support/tmp.js";

/** The CLI through its bin entry, which finds tsx from the package even when cwd is elsewhere. */
function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const result = spawnSync(process.execPath, [`${projectRoot}bin/swe-selfplay.js`, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: { ...process.env, SWE_SELFPLAY_LOG: "warn", ...options.env },
    timeout: 60_000,
  });
  return Promise.resolve({ code: result.status, stdout: result.stdout, stderr: result.stderr });
}

describe("swe-selfplay run and export (configuration and usage)", () => {
  const temp = makeTempDir("swe-selfplay-run-cli-");
  afterAll(() => temp.remove());

  it("prints the effective configuration: flags over defaults, the small default job when nothing is configured", async () => {
    const defaults = await runCli(["run", "--print-config"], { cwd: temp.path });
    expect(defaults.code, defaults.stderr).toBe(0);
    const config = parseYaml(defaults.stdout);
    expect(config).toMatchObject({
      groupSize: 4,
      limits: { steps: 4 },
      policy: { kind: "builtin", testRunBudget: 10 },
    });
    expect(config.store).toBe(join(temp.path, ".swe-selfplay/store.db"));

    const flagged = await runCli(
      [
        "run",
        "--print-config",
        "--repo",
        `lib=${temp.path}`,
        "--steps",
        "7",
        "--group-size",
        "3",
        "--solvers",
        "5",
      ],
      { cwd: temp.path },
    );
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(parseYaml(flagged.stdout)).toMatchObject({
      environments: [{ name: "lib", path: temp.path }],
      groupSize: 3,
      limits: { steps: 7 },
      concurrency: { solvers: 5 },
    });
  });

  it("documents the default job's group size in --help as the default job uses it, and what --config applies", async () => {
    const help = await runCli(["run", "--help"], { cwd: temp.path });
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, " ");
    const job = parseYaml((await runCli(["run", "--print-config"], { cwd: temp.path })).stdout);
    const configured = parseYaml(
      (await runCli(["run", "--print-config", "--repo", `x=${temp.path}`], { cwd: temp.path })).stdout,
    );
    expect(text).toContain(`(G) [${configured.groupSize}; ${job.groupSize} in the default job]`);
    expect(text).toContain(`[${job.limits.steps} in the default job;`);
    expect(text).toContain("the run goes on until Ctrl-C");
    expect(text).toContain("YAML config file: every section applies");
    expect(text).not.toContain("its policy and thresholds sections apply");
  });

  it("prints the defaults that depend on the policy: direct weight and the learnability bandit", async () => {
    const builtin = parseYaml((await runCli(["run", "--print-config"], { cwd: temp.path })).stdout);
    expect(builtin.strategies).toMatchObject({ direct: 1 });
    expect(builtin.strategyAdaptation).toMatchObject({ learnability: true });
    const model = await runCli(
      ["run", "--print-config", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
      { cwd: temp.path },
    );
    expect(model.code, model.stderr).toBe(0);
    const printed = parseYaml(model.stdout);
    expect(printed.policy).toMatchObject({ kind: "openai", model: "m" });
    expect(printed.strategies).toMatchObject({ direct: 0 });
    expect(printed.strategyAdaptation).toMatchObject({ learnability: false });
  });

  it("never plays the builtin policy when model flags are given: conflicts and bad values are refused", async () => {
    const env = { SWE_SELFPLAY_BASE_URL: "", SWE_SELFPLAY_MODEL: "" };
    const hot = await runCli(["run", "--temperature", "hot"], { cwd: temp.path, env });
    expect(hot.code).toBe(2);
    expect(hot.stderr).toContain('--temperature expects a number, got "hot"');
    const conflict = await runCli(["run", "--policy", "builtin", "--model", "m"], { cwd: temp.path, env });
    expect(conflict.code).toBe(2);
    expect(conflict.stderr.trim().split("\n")).toEqual([
      "swe-selfplay: --model is a model setting, but --policy builtin plays without a model: pass --policy openai (with --base-url and --model) to use a model, or drop it",
    ]);
    const fromEnv = await runCli(["run", "--print-config"], {
      cwd: temp.path,
      env: { SWE_SELFPLAY_MODEL: "m", SWE_SELFPLAY_BASE_URL: "" },
    });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain(
      "the openai policy (chosen by SWE_SELFPLAY_MODEL) needs a server and a model",
    );
    expect(existsSync(join(temp.path, ".swe-selfplay"))).toBe(false);
  });

  it("plays the shipped example when a config file names no environment", async () => {
    const file = join(temp.path, "no-environments.yaml");
    writeFileSync(file, "environments: []\nlimits: { durationMs: 1 }\nstore: no-env/store.db\n");
    const result = await runCli(["run", "--config", file, "--no-progress"], { cwd: temp.path });
    expect(result.stderr).not.toContain("names no environment");
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(temp.path, "no-env", "examples", "inkwell", ".git"))).toBe(true);
  });

  it("reports an unknown key by its path and exits 2", async () => {
    const result = await runCli(["run", "--print-config", "--set", "concurrency.solverz=3"], {
      cwd: temp.path,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("concurrency.solverz: unknown key");
  });

  it("refuses a missing, non-directory or non-git repository before the run starts (exit 2)", async () => {
    const store = join(temp.path, "refused", "store.db");
    const missing = await runCli(
      ["run", "--store", store, "--repo", "x=/nonexistent/checkout", "--steps", "1"],
      {
        cwd: temp.path,
      },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("environment x: /nonexistent/checkout does not exist");
    const file = join(temp.path, "plain-file");
    writeFileSync(file, "not a directory\n");
    const notDirectory = await runCli(["run", "--store", store, "--repo", `f=${file}`], { cwd: temp.path });
    expect(notDirectory.code).toBe(2);
    expect(notDirectory.stderr).toContain(`environment f: ${file} is not a directory`);
    const plain = join(temp.path, "plain-dir");
    mkdirSync(plain);
    const notGit = await runCli(["run", "--store", store, "--repo", `p=${plain}`], { cwd: temp.path });
    expect(notGit.code).toBe(2);
    expect(notGit.stderr).toContain(`environment p: ${plain} is not a git checkout (no .git)`);
    expect(existsSync(store)).toBe(false);
  });

  it("prints the documented JSON Schema of the configuration", async () => {
    const result = await runCli(["run", "--config-schema"], { cwd: temp.path });
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.properties.groupSize).toMatchObject({
      default: 8,
      description: expect.stringContaining("(G)"),
    });
    expect(schema.additionalProperties).toBe(false);
  });

  it("export refuses a missing store and an unknown format", async () => {
    const missing = await runCli(
      ["export", "--store", join(temp.path, "none.db"), "--format", "rollouts", "--out", temp.path],
      { cwd: temp.path },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no store at/);
    const format = await runCli(["export", "--format", "parquet", "--out", temp.path], { cwd: temp.path });
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format expects one of rollouts, swebench, artifacts/);
  });
});
