// The built-in policy as users meet it: the clear error on a repository without tests, the propose and
// solve commands end to end (builtin is the default policy), and toolz in Docker.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltinHarness,
  openHarness,
  proposeOn,
  solveAndGrade,
  submitted,
} from "../../test/builtin/harness.js";
import { runCli } from "../../test/support/cli.js";
import { skipDocker } from "../../test/support/docker.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { ensureToolzImage } from "../../test/support/toolz.js";
import type { Environment } from "../ports/sandbox.js";
import { createDockerBackend } from "../sandbox/docker/backend.js";
import { createBuiltinPolicy, packageVersion } from "./index.js";

// Real sandboxes and test suites: generous on a loaded machine, a fraction of it on an idle one.
const SLOW = { timeout: 600_000 };
describe("builtin policy", SLOW, () => {
  let harness: BuiltinHarness;

  beforeAll(() => {
    harness = openHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it("names itself after the package version", () => {
    const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(createBuiltinPolicy().info).toEqual({
      kind: "builtin",
      name: "builtin",
      version: manifest.version,
    });
    expect(packageVersion()).toBe(manifest.version);
  });

  it("says clearly that a repository without tests cannot be used", async () => {
    const path = join(harness.temp.path, "no-tests");
    mkdirSync(path);
    writeFileSync(join(path, "main.py"), "def add(a, b):\n    return a + b\n");
    execFileSync("git", ["init", "-q"], { cwd: path });
    execFileSync("git", ["add", "."], { cwd: path });
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "init"], {
      cwd: path,
    });
    const outcome = await proposeOn(harness, { kind: "dir", path }, "direct", 1);
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.reason).toMatch(/could not find how to run the tests/);
    expect(outcome.episode).toMatchObject({ status: "failed", exitReason: "no-tests" });
  });

  it("runs through the propose and solve commands with --seed and --strategy", async () => {
    const repo = await makePythonFixtureRepo(harness.temp.path);
    const out = join(harness.temp.path, "artifact");
    const proposed = await runCli([
      "propose",
      "--repo",
      repo,
      "--strategy",
      "direct",
      "--seed",
      "3",
      "--out",
      out,
      "--json",
    ]);
    expect(proposed.code, proposed.stderr).toBe(0);
    const result = JSON.parse(proposed.stdout) as { status: string; verdict: string };
    expect(result).toMatchObject({ status: "submitted", verdict: "valid" });
    const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8")) as Record<string, unknown>;
    expect(JSON.stringify(meta)).toMatch(/"direct"/);
    expect(JSON.stringify(meta)).toMatch(/builtin@/);

    const solved = await runCli(["solve", out, "--repo", repo, "--attempts", "1", "--seed", "1", "--json"]);
    expect([0, 1], solved.stderr).toContain(solved.code);
    const solveResult = JSON.parse(solved.stdout) as { attempts: unknown[]; solveRate: number };
    expect(solveResult.attempts).toHaveLength(1);
    expect(solveResult.solveRate).toBeGreaterThanOrEqual(0);
  });
});

describe.skipIf(skipDocker())("builtin policy on toolz in Docker", SLOW, () => {
  let harness: BuiltinHarness;
  let toolz: Environment;

  beforeAll(async () => {
    harness = openHarness(createDockerBackend());
    toolz = { kind: "image", image: await ensureToolzImage() };
  });

  afterAll(async () => {
    await harness?.close();
  });

  it("proposes a valid direct bug and repairs it", async () => {
    const artifact = submitted(
      await proposeOn(harness, toolz, "direct", 7, createBuiltinPolicy({ multiFileRate: 0 })),
    );
    const report = await harness.validator.validate(toolz, artifact);
    expect(report.verdict, report.reason ?? "").toBe("valid");
    const { solved, result } = await solveAndGrade(harness, toolz, artifact, 1, { explorationRate: 0 });
    expect(result.status, JSON.stringify(solved.episode.trajectory.slice(-4))).toBe("resolved");
  });

  it("proposes a valid removal bug", async () => {
    const artifact = submitted(await proposeOn(harness, toolz, "removal", 7));
    const report = await harness.validator.validate(toolz, artifact);
    expect(report.verdict, report.reason ?? "").toBe("valid");
  });
});
