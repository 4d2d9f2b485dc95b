import { describe, expect, it } from "vitest";
import { runCli } from "../../test/support/cli.js";

describe("swe-selfplay CLI", () => {
  it("prints help and exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toContain("swe-selfplay");
  });

  it("exits 2 on an unknown command", async () => {
    const result = await runCli(["no-such-command"]);
    expect(result.code).toBe(2);
  });
});
