// `swe-selfplay sandbox exec` through the real CLI: pass-through output, --json, exit codes.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { makeTempDir } from "../support/tmp.js";

describe("swe-selfplay sandbox exec", () => {
  const scratch = makeTempDir("swe-selfplay-cli-sandbox-");
  const repo = join(scratch.path, "repo");

  beforeAll(() => {
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "hello.txt"), "hello from the repo\n");
  });

  afterAll(() => scratch.remove());

  it("passes the command's output through and exits 0 whatever the command's exit code", async () => {
    const result = await runCli([
      "sandbox",
      "exec",
      "--repo",
      repo,
      "--",
      "cat hello.txt; pwd; echo problem >&2; exit 5",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("hello from the repo\n/testbed\n");
    expect(result.stderr).toContain("problem");
    expect(result.stderr).toContain("exited with code 5");
  });

  it("prints the run result as JSON, quoting several words", async () => {
    const result = await runCli([
      "sandbox",
      "exec",
      "--repo",
      repo,
      "--json",
      "--timeout",
      "1",
      "--",
      "sh",
      "-c",
      "echo 'a b'; sleep 30",
    ]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ status: "timed-out", exitCode: null, stdout: "a b\n", truncated: false });
  });

  it("exits 2 with the reason on stderr for usage and infrastructure errors", async () => {
    const neither = await runCli(["sandbox", "exec", "--", "true"]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("--repo");
    const missing = await runCli(["sandbox", "exec", "--repo", join(scratch.path, "absent"), "--", "true"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");
    const noBubblewrap = await runCli(["sandbox", "exec", "--repo", repo, "--", "true"], {
      env: { PATH: "/nonexistent" },
    });
    expect(noBubblewrap.code).toBe(2);
    expect(noBubblewrap.stderr).toContain("apt-get install bubblewrap");
  });
});
