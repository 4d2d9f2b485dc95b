// openSandboxes(): directories go to the local backend, images to Docker (loaded on first use only), and an
// environment that names a backend goes to that one, which may come from configuration alone.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openConfiguredSandboxes } from "../../src/compose/index.js";
import { parseConfig } from "../../src/config/index.js";
import { InputError } from "../../src/errors.js";
import { noResources, type SandboxBackend } from "../../src/ports/sandbox.js";
import { openSandboxes, type SandboxBackendEntry } from "../../src/sandbox/index.js";
import { environmentSpec } from "../../src/selfplay/step-context.js";
import { projectRoot, runProgram } from "../support/cli.js";
import { makeTempDir } from "../support/tmp.js";
import { backendsUnderTest, CONFORMANCE_IMAGE, copyBackendConfig } from "./backends.js";

describe("sandbox router", () => {
  const scratch = makeTempDir("swe-selfplay-router-");
  afterAll(() => scratch.remove());

  it("routes directories to the local backend and closes what it opened", async () => {
    const repo = join(scratch.path, "repo");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "a.txt"), "a\n");
    const sandboxes = openSandboxes();
    expect(sandboxes.resources?.()).toEqual(noResources());
    const sandbox = await sandboxes.create({ environment: { kind: "dir", path: repo } });
    expect(sandbox.id).toMatch(/^local-/);
    // What its backends hold, summed: the local sandbox and its state directory.
    expect(sandboxes.resources?.()).toMatchObject({ sandboxes: 1, temporaryDirectories: 1, processes: 0 });
    expect((await sandboxes.backendFor("dir")).kind).toBe("local");
    expect((await sandbox.run({ command: "cat a.txt" })).stdout).toBe("a\n");
    await sandboxes.close();
    expect(sandboxes.resources?.()).toEqual(noResources());
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

  it("routes an environment to the backend it names, loading only the backends used", async () => {
    const repo = join(scratch.path, "named");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "b.txt"), "b\n");
    const loads: string[] = [];
    const local = await import("../../src/sandbox/local/backend.js");
    const recorded: SandboxBackendEntry = {
      kind: "recorded",
      serves: ["dir"],
      load: async () => {
        loads.push("recorded");
        const inner = local.createLocalBackend();
        return { kind: "recorded", create: (spec) => inner.create(spec), close: () => inner.close() };
      },
    };
    const sandboxes = openSandboxes({ backends: [recorded] });
    try {
      expect(sandboxes.backendKinds).toEqual(["local", "docker", "recorded"]);
      const sandbox = await sandboxes.create({
        environment: { kind: "dir", path: repo, backend: "recorded" },
      });
      expect((await sandbox.run({ command: "cat b.txt" })).stdout).toBe("b\n");
      await sandboxes.create({ environment: { kind: "dir", path: repo, backend: "recorded" } });
      expect(loads).toEqual(["recorded"]);
      expect((await sandboxes.backendFor({ kind: "dir", path: repo, backend: "recorded" })).kind).toBe(
        "recorded",
      );
      await expect(
        sandboxes.create({ environment: { kind: "dir", path: repo, backend: "nowhere" } }),
      ).rejects.toThrow(/no sandbox backend "nowhere" \(known: local, docker, recorded\)/);
      await expect(
        sandboxes.create({ environment: { kind: "image", image: "x", backend: "recorded" } }),
      ).rejects.toThrow(/backend "recorded" does not run image environments/);
      await expect(
        sandboxes.create({ environment: { kind: "image", image: "x", backend: "local" } }),
      ).rejects.toThrow(InputError);
    } finally {
      await sandboxes.close();
    }
    expect(() => openSandboxes({ backends: [{ ...recorded, kind: "docker" }] })).toThrow(/declared twice/);
  });

  it("reaches a backend declared in configuration alone, and says so when its module is wrong", async () => {
    const repo = join(scratch.path, "configured");
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "c.txt"), "c\n");
    const config = copyBackendConfig([{ name: "configured", path: repo, backend: "copy" }]);
    const sandboxes: SandboxBackend = openConfiguredSandboxes(config);
    try {
      const sandbox = await sandboxes.create({ environment: environmentSpec(config.environments[0]!) });
      expect(sandbox.id).toMatch(/^copy-/);
      expect((await sandbox.run({ command: "cat c.txt" })).stdout).toBe("c\n");
    } finally {
      await sandboxes.close();
    }
    const broken = openSandboxes({
      configured: [
        { kind: "wrong", serves: ["dir"], module: join(scratch.path, "configured", "c.txt") },
        { kind: "missing", serves: ["dir"], module: join(scratch.path, "no-such-module.js") },
      ],
    });
    await expect(
      broken.create({ environment: { kind: "dir", path: repo, backend: "wrong" } }),
    ).rejects.toThrow(/sandbox backend "wrong": module .* exports no createSandboxBackend function/);
    await expect(
      broken.create({ environment: { kind: "dir", path: repo, backend: "missing" } }),
    ).rejects.toThrow(/cannot load the "missing" sandbox backend/);
    await broken.close();
  });

  it("rejects a configuration whose environment names an undeclared backend, or redeclares a built-in one", () => {
    expect(() =>
      parseConfig({ environments: [{ name: "a", path: "/x", backend: "k8s" }] }, "bad.yaml"),
    ).toThrow(/environments\.0\.backend: no sandbox backend "k8s" \(known: local, docker\)/);
    expect(() =>
      parseConfig({ sandboxBackends: [{ kind: "docker", serves: ["image"], module: "./d.js" }] }, "bad.yaml"),
    ).toThrow(/sandboxBackends\.0\.kind: sandbox backend "docker" is already declared/);
    const config = parseConfig(
      { sandboxBackends: [{ kind: "k8s", serves: ["image"], module: "./plugins/k8s.js" }] },
      "ok.yaml",
      "/srv/project",
    );
    expect(config.sandboxBackends?.[0]?.module).toBe("/srv/project/plugins/k8s.js");
    expect(parseConfig({}, "default.yaml").sandboxBackends).toBeUndefined();
  });

  it("does not load the Docker client unless an image environment is used", async () => {
    const repo = join(scratch.path, "lazy");
    mkdirSync(repo, { recursive: true });
    const script = [
      'import { createRequire } from "node:module";',
      'import { openSandboxes } from "./src/sandbox/index.ts";',
      "const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/dockerode/'));",
      "const sandboxes = openSandboxes();",
      `const sandbox = await sandboxes.create({ environment: { kind: "dir", path: ${JSON.stringify(repo)} } });`,
      'await sandbox.run({ command: "true" });',
      "const afterLocal = loaded();",
      'await sandboxes.backendFor("image");',
      "console.log(JSON.stringify({ afterLocal, afterImage: loaded() }));",
      "await sandboxes.close();",
    ].join("\n");
    const result = await runProgram(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: projectRoot,
        env: { ...process.env, SWE_SELFPLAY_LOG: "warn" },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!)).toEqual({
      afterLocal: false,
      afterImage: true,
    });
  }, 60_000);
});
