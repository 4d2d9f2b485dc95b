import { describe, expect, it } from "vitest";
import { runCli } from "../../../test/support/cli.js";
import { skipDocker } from "../../../test/support/docker.js";
import { ensureToolzImage } from "../../../test/support/toolz.js";

describe.skipIf(skipDocker())("swe-selfplay images", () => {
  it("reports the images with ids and content keys, and skips a build that is up to date", async () => {
    await ensureToolzImage();
    const status = await runCli(["images", "status", "--json"]);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout) as {
      image: string;
      present: boolean;
      id?: string;
      contentKey?: string;
    }[];
    expect(rows.map((row) => row.image)).toEqual(["swe-selfplay/base:bookworm", "swe-selfplay/toolz:latest"]);
    for (const row of rows) {
      expect(row.present).toBe(true);
      expect(row.id).toMatch(/^sha256:/);
      expect(row.contentKey).toMatch(/^[0-9a-f]{32}$/);
    }

    const build = await runCli(["images", "build-toolz", "--json"]);
    expect(build.code).toBe(0);
    const result = JSON.parse(build.stdout) as { image: string; id: string; contentKey: string };
    expect(result.image).toBe("swe-selfplay/toolz:latest");
    expect(result.id).toBe(rows[1]!.id);
    expect(build.stderr).toContain("up to date");
  });
});
