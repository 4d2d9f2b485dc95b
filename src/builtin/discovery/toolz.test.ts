// Discovery on a real open-source library: toolz from Debian's source packages, in its Docker image.
import { afterAll, describe, expect, it } from "vitest";
import { skipDocker } from "../../../test/support/docker.js";
import { ensureToolzImage } from "../../../test/support/toolz.js";
import type { Sandbox } from "../../ports/sandbox.js";
import { openSandboxes } from "../../sandbox/index.js";
import { analyzeSources, locateTest } from "../code-model/index.js";
import { discoverTests } from "./index.js";

describe.skipIf(skipDocker())("discoverTests on toolz (Docker)", () => {
  const sandboxes = openSandboxes({ runId: "test-discovery-toolz" });
  let sandbox: Sandbox | undefined;

  afterAll(async () => {
    await sandbox?.destroy();
    await sandboxes.close();
  });

  it("finds pytest, runs the suite with the generated script and parser, and maps ids to test code", async () => {
    const image = await ensureToolzImage();
    sandbox = await sandboxes.create({
      environment: { kind: "image", image },
      label: "test:discovery-toolz",
    });
    const found = await discoverTests(sandbox);
    if (found.status !== "found") throw new Error(found.message);
    expect(found.framework).toBe("pytest");
    expect(found.testFiles.length).toBeGreaterThanOrEqual(10);
    expect(found.testFiles.every((file) => file.endsWith(".py") && file.includes("test_"))).toBe(true);

    await sandbox.writeFile("/tmp/test_script.sh", found.testScript, { mode: 0o755 });
    await sandbox.writeFile("/tmp/test_parser.py", found.testParser);
    const run = await sandbox.run({
      command: "bash /tmp/test_script.sh > /tmp/out.txt; python3 /tmp/test_parser.py < /tmp/out.txt",
      timeoutMs: 600_000,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as Record<string, string>;
    const passed = Object.entries(results).filter(([, status]) => status === "passed");
    expect(passed.length).toBeGreaterThanOrEqual(100);

    const sources = await Promise.all(
      found.testFiles.map(async (path) => ({ path, text: (await sandbox!.readFile(path)).toString("utf8") })),
    );
    const analyses = await analyzeSources(sources);
    const unlocated = passed.map(([id]) => id).filter((id) => locateTest(id, "pytest", analyses) === null);
    // Tests generated at import time (e.g. loops over names) have no definition of their own.
    expect(unlocated.length).toBeLessThanOrEqual(passed.length * 0.05);
    expect(await sandbox.diff()).toBe("");
  });
});
