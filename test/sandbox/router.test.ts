// openSandboxes(): directories go to the local backend, images to Docker (loaded on first use only).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSandboxes } from "../../src/sandbox/index.js";
import { makeTempDir } from "../support/tmp.js";
import { backendsUnderTest, CONFORMANCE_IMAGE } from "./backends.js";

describe("sandbox router", () => {
  const scratch = makeTempDir("swe-selfplay-router-");
  afterAll(() => scratch.remove());

  it("routes directories to the local backend and closes what it opened", async () => {
    const repo = join(scratch.path, "repo");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "a.txt"), "a\n");
    const sandboxes = openSandboxes();
    const sandbox = await sandboxes.create({ environment: { kind: "dir", path: repo } });
    expect(sandbox.id).toMatch(/^local-/);
    expect((await sandboxes.backendFor("dir")).kind).toBe("local");
    expect((await sandbox.run({ command: "cat a.txt" })).stdout).toBe("a\n");
    await sandboxes.close();
    await expect(sandbox.run({ command: "true" })).rejects.toThrow(/destroyed/);
    await expect(sandboxes.create({ environment: { kind: "dir", path: repo } })).rejects.toThrow(/closed/);
  });

  const docker = backendsUnderTest().find((backend) => backend.name === "docker")!;
  it.skipIf(docker.unavailable !== undefined)("routes images to the Docker backend", async () => {
    const sandboxes = openSandboxes({ runId: "router-test" });
    try {
      const sandbox = await sandboxes.create({ environment: { kind: "image", image: CONFORMANCE_IMAGE } });
      expect((await sandboxes.backendFor("image")).kind).toBe("docker");
      expect(sandbox.id).not.toMatch(/^local-/);
      expect((await sandbox.run({ command: "pwd" })).stdout).toBe("/testbed\n");
    } finally {
      await sandboxes.close();
    }
  });
});
