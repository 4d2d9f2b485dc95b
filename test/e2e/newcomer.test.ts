// The newcomer's path: the README's first command on a clean clone gives validated artifacts whatever
// python3 comes first on PATH, and a run that cannot work stops early with a non-zero exit and the reason.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { makeTempDir } from "../support/tmp.js";

/** The whole first run (set-up included) is minutes long: CI runs it, elsewhere it is asked for. */
const newcomerRun = process.env.CI === "true" || process.env.SWE_SELFPLAY_NEWCOMER_TEST === "1";
if (!newcomerRun)
  process.stderr.write(
    "skipped, why: the newcomer run (clean clone + scripts/run.sh) runs in CI or with SWE_SELFPLAY_NEWCOMER_TEST=1\n",
  );

function git(args: string[], cwd?: string): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" });
}

describe("the newcomer path", () => {
  const temp = makeTempDir("swe-selfplay-newcomer-");
  afterAll(() => temp.remove());

  it("stops a run whose tests cannot be found early, with a non-zero exit and the reason", async () => {
    const repo = join(temp.path, "no-tests");
    mkdirSync(repo);
    writeFileSync(join(repo, "main.py"), "def answer():\n    return 42\n");
    git(["init", "-q"], repo);
    git(["add", "."], repo);
    git(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init"], repo);
    // Through the bin entry, which finds tsx from the package wherever the working directory is.
    const result = await runProgram(
      process.execPath,
      [
        join(projectRoot, "bin/swe-selfplay.js"),
        "run",
        "--repo",
        `lib=${repo}`,
        "--steps",
        "20",
        "--store",
        join(temp.path, "store.db"),
        "--no-progress",
      ],
      { cwd: temp.path, env: { ...process.env, SWE_SELFPLAY_LOG: "warn" }, timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /the run cannot work on environment "lib": could not find how to run the tests/,
    );
    expect(result.stdout).toMatch(/\(failed, started 1×\)/);
    // Stopped early: far fewer than the 20 steps asked for.
    const steps = Number(/^steps\s+(\d+)/m.exec(result.stdout)?.[1]);
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(steps).toBeLessThan(10);
  });

  it.runIf(newcomerRun)(
    "gives validated artifacts from a clean clone with a python3 on PATH that is not the system's",
    async () => {
      const clone = join(temp.path, "clone");
      git(["clone", "--quiet", projectRoot, clone]);
      // A python3 first on PATH that records its use and fails: nothing may ask it instead of the
      // sandbox's system interpreter.
      const shims = join(temp.path, "shims");
      const used = join(temp.path, "shim-used");
      mkdirSync(shims);
      for (const name of ["python3", "python"]) {
        writeFileSync(join(shims, name), `#!/bin/sh\necho "$0 $*" >> '${used}'\nexit 1\n`);
        chmodSync(join(shims, name), 0o755);
      }
      const result = await runProgram("bash", ["scripts/run.sh"], {
        cwd: clone,
        env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, SWE_SELFPLAY_LOG: "warn" },
        timeoutMs: 900_000,
      });
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      const valid = Number(/^artifacts\s+valid (\d+)/m.exec(result.stdout)?.[1]);
      expect(valid, result.stdout).toBeGreaterThanOrEqual(3);
      expect(result.stdout).toContain("(completed, started 1×)");
      expect(result.stderr).toMatch(/\[setup\] sandbox interpreters ready/);
      expect(result.stdout).toContain("npx swe-selfplay export --format artifacts");
      expect(existsSync(used), "PATH's python3 was run").toBe(false);
      // Both README commands leave the checkout as it was.
      expect(git(["status", "--porcelain"], clone)).toBe("");
    },
    1_000_000,
  );
});
