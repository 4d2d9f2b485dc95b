import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipDocker } from "../../../test/support/docker.js";
import { GIT_INIT_SETUP, imageWithFiles, smallPythonFiles } from "../../../test/support/docker-images.js";
import { runContainers } from "../../../test/support/system-resources.js";
import { ensureToolzImage } from "../../../test/support/toolz.js";
import { InfrastructureError, InputError } from "../../errors.js";
import { noResources } from "../../ports/sandbox.js";
import { createDockerBackend, type DockerBackend } from "./backend.js";
import { LABELS, reapLeakedContainers } from "./ownership.js";
import { PREPARED_LABELS, pruneStalePreparedImages } from "./prepared-image.js";

const SMALL_IMAGE = "swe-selfplay/test-small:latest";

describe.skipIf(skipDocker())("Docker backend", () => {
  const docker = new Docker();
  let backend: DockerBackend;
  let image: string;

  beforeAll(async () => {
    await ensureToolzImage();
    image = await imageWithFiles({ tag: SMALL_IMAGE, files: smallPythonFiles(), setup: GIT_INIT_SETUP });
    backend = createDockerBackend({ runId: "docker-backend-test" });
  });

  afterAll(async () => {
    await backend?.close();
  });

  it("counts its containers and commands as Docker lists them, and none after destroy", async () => {
    const runId = `docker-resources-${process.pid}`;
    // No warm spare: one is counted once the engine has made it, which a listing may see earlier.
    const counted = createDockerBackend({ runId, warmContainers: 0 });
    try {
      const sandbox = await counted.create({ environment: { kind: "image", image } });
      const controller = new AbortController();
      const running = sandbox.run({ command: "sleep 1000", abortSignal: controller.signal });
      expect(counted.resources()).toEqual({ ...noResources(), sandboxes: 1, processes: 1, containers: 1 });
      expect(await runContainers(docker, runId)).toEqual([sandbox.containerId]);
      controller.abort();
      expect((await running).status).toBe("aborted");
      await sandbox.destroy();
      expect(counted.resources()).toEqual(noResources());
      expect(await runContainers(docker, runId)).toEqual([]);
    } finally {
      await counted.close();
    }
  });

  it("runs commands with exit codes, both streams, stdin, cwd and env", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image }, label: "test:run" });
    try {
      expect(sandbox.workdir).toBe("/testbed");
      const result = await sandbox.run({
        command: 'echo out; echo err >&2; pwd; echo "$GREETING"; exit 3',
        env: { GREETING: "hello" },
      });
      expect(result).toMatchObject({
        status: "exited",
        exitCode: 3,
        stdout: "out\n/testbed\nhello\n",
        stderr: "err\n",
        truncated: false,
      });
      const input = await sandbox.run({ command: "tr a-z A-Z", stdin: "some input\n" });
      expect(input.stdout).toBe("SOME INPUT\n");
      const nested = await sandbox.run({ command: "pwd", cwd: "calc" });
      expect(nested.stdout).toBe("/testbed/calc\n");
      const tests = await sandbox.run({ command: "python3 -m pytest -q -p no:cacheprovider" });
      expect(tests.stdout).toContain("2 passed");
    } finally {
      await sandbox.destroy();
    }
  });

  it("kills the whole process tree on timeout and on abort, and leaves nothing behind after a normal exit", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image } });
    try {
      const survivors = "ps -eo args= | grep -c '^sleep 3[0-9][0-9]' || true";
      const timedOut = await sandbox.run({
        command: "sleep 301 & setsid sleep 302 & (trap '' TERM; sleep 303) & echo started; sleep 304",
        timeoutMs: 1_000,
      });
      expect(timedOut.status).toBe("timed-out");
      expect(timedOut.exitCode).toBeNull();
      expect(timedOut.stdout).toBe("started\n");
      expect(timedOut.stderr).toBe("");
      expect((await sandbox.run({ command: survivors })).stdout.trim()).toBe("0");

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 500);
      const aborted = await sandbox.run({ command: "sleep 305 & sleep 306", abortSignal: controller.signal });
      expect(aborted.status).toBe("aborted");
      expect((await sandbox.run({ command: survivors })).stdout.trim()).toBe("0");

      // A daemon that closed its output would keep running: it is killed when its command ends.
      const daemon = await sandbox.run({
        command: "setsid sleep 307 >/dev/null 2>&1 < /dev/null & echo done",
      });
      expect(daemon).toMatchObject({ status: "exited", exitCode: 0, stdout: "done\n" });
      expect((await sandbox.run({ command: survivors })).stdout.trim()).toBe("0");
    } finally {
      await sandbox.destroy();
    }
  });

  it("ends a fork bomb at its timeout even when no process slot is left for the outside killer", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image }, limits: { pids: 48 } });
    try {
      const result = await sandbox.run({
        command: "bash -c 'bomb() { bomb | bomb & }; bomb; sleep 300' forkbomb",
        timeoutMs: 2_000,
      });
      expect(result.status).toBe("timed-out");
      let survivors = -1;
      for (let attempt = 0; attempt < 50 && survivors !== 0; attempt++) {
        const count = await sandbox.run({ command: "ps -eo args= | grep -c '^bash -c bomb' || true" });
        survivors = Number(count.stdout.trim());
        if (survivors !== 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(survivors).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  });

  it("caps each output stream and drains the rest", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image } });
    try {
      const result = await sandbox.run({
        command:
          "head -c 3000000 /dev/zero | tr '\\0' a; head -c 10 /dev/zero | tr '\\0' b >&2; echo end >&2",
        maxOutputBytes: 1000,
      });
      expect(result.status).toBe("exited");
      expect(result.exitCode).toBe(0);
      expect(result.truncated).toBe(true);
      expect(result.stdout).toBe("a".repeat(1000));
      expect(result.stderr).toBe("bbbbbbbbbbend\n");
    } finally {
      await sandbox.destroy();
    }
  });

  it("reads and writes files through the archive API and diffs against the starting state", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image } });
    try {
      expect(await sandbox.diff()).toBe("");
      expect((await sandbox.readFile("calc/ops.py")).toString()).toContain("def add");
      await sandbox.writeFile(
        "calc/ops.py",
        "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
      );
      await sandbox.writeFile("new/deep/tool.sh", "#!/bin/sh\necho tool\n", { mode: 0o755 });
      expect((await sandbox.run({ command: "./new/deep/tool.sh" })).stdout).toBe("tool\n");
      // Commands run unprivileged, yet own what the archive API wrote.
      const owner = await sandbox.run({
        command: "id -u; echo more >> new/deep/tool.sh && tail -n 1 new/deep/tool.sh",
      });
      expect(owner.stdout).toBe("1000\nmore\n");
      await sandbox.run({ command: "python3 -m pytest -q" });
      const diff = await sandbox.diff();
      expect(diff).toContain("diff --git a/calc/ops.py b/calc/ops.py");
      expect(diff).toContain("-    return a + b\n+    return a - b");
      expect(diff).toContain("new file mode 100755");
      expect(diff).not.toContain("__pycache__");
      expect(diff).not.toContain(".git/");
      await expect(sandbox.readFile("missing.txt")).rejects.toBeInstanceOf(InputError);
      await sandbox.run({ command: "ln -s calc/ops.py link.py" });
      expect((await sandbox.readFile("link.py")).toString()).toContain("return a - b");

      await sandbox.snapshot();
      expect(await sandbox.diff()).toBe("");
    } finally {
      await sandbox.destroy();
    }
  });

  it("applies patches at creation as the starting state, and rejects a patch that does not apply", async () => {
    const first = await backend.create({ environment: { kind: "image", image } });
    let patch: string;
    try {
      await first.writeFile(
        "calc/ops.py",
        "def add(a, b):\n    return a + b + 1\n\n\ndef mul(a, b):\n    return a * b\n",
      );
      patch = await first.diff();
    } finally {
      await first.destroy();
    }
    const patched = await backend.create({ environment: { kind: "image", image }, patches: [patch] });
    try {
      expect(await patched.diff()).toBe("");
      expect((await patched.readFile("calc/ops.py")).toString()).toContain("a + b + 1");
      const editable = await patched.run({
        command: "echo '# edited' >> calc/ops.py && tail -n 1 calc/ops.py",
      });
      expect(editable.stdout).toBe("# edited\n");
      const again = await patched.applyPatch(patch);
      expect(again.status).toBe("rejected");
    } finally {
      await patched.destroy();
    }
    await expect(
      backend.create({ environment: { kind: "image", image }, patches: [patch, patch] }),
    ).rejects.toMatchObject({
      code: "patch-rejected",
    });
  });

  it("has no network, applies limits and labels the container with its run and owner", async () => {
    const sandbox = await backend.create({
      environment: { kind: "image", image },
      limits: { pids: 64, memoryBytes: 256 * 1024 ** 2, cpus: 0.5 },
      label: "test:limits",
    });
    try {
      const interfaces = await sandbox.run({ command: "ls /sys/class/net" });
      expect(interfaces.stdout.trim()).toBe("lo");
      const info = await docker.getContainer(sandbox.containerId).inspect();
      expect(info.HostConfig.NetworkMode).toBe("none");
      expect(info.HostConfig.PidsLimit).toBe(64);
      expect(info.HostConfig.Memory).toBe(256 * 1024 ** 2);
      expect(info.HostConfig.NanoCpus).toBe(500_000_000);
      expect(info.Config.Labels[LABELS.run]).toBe("docker-backend-test");
      expect(info.Config.Labels[LABELS.owner]).toContain(`/${process.pid}/`);
      expect(info.Config.Labels[LABELS.label]).toBe("test:limits");
      const forks = await sandbox.run({
        command: "for i in $(seq 200); do sleep 2 & done; wait",
        timeoutMs: 20_000,
      });
      expect(forks.stderr).toMatch(/fork|resource|retry/i);
    } finally {
      await sandbox.destroy();
    }
    await expect(docker.getContainer(sandbox.containerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    await sandbox.destroy();
    await expect(sandbox.run({ command: "true" })).rejects.toBeInstanceOf(InfrastructureError);
  });

  it("runs the toolz test suite in the toolz image", async () => {
    const sandbox = await backend.create({ environment: { kind: "image", image: await ensureToolzImage() } });
    try {
      const result = await sandbox.run({ command: "python3 -m pytest -q -x", timeoutMs: 120_000 });
      expect(result.stdout).toMatch(/\d+ passed/);
      expect(result.exitCode).toBe(0);
    } finally {
      await sandbox.destroy();
    }
  });

  it("reaps containers whose owning process is gone, and leaves live owners alone", async () => {
    const dead = await docker.createContainer({
      Image: image,
      Entrypoint: [],
      Cmd: ["sleep", "infinity"],
      Labels: {
        [LABELS.run]: "dead-run",
        [LABELS.owner]: `${(await import("node:os")).hostname()}/999999999/1`,
      },
      HostConfig: { NetworkMode: "none" },
    });
    await dead.start();
    const alive = await backend.create({ environment: { kind: "image", image } });
    try {
      const removed = await reapLeakedContainers(docker);
      expect(removed).toContain(dead.id);
      expect(removed).not.toContain(alive.containerId);
      await expect(dead.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await alive.run({ command: "echo alive" })).stdout).toBe("alive\n");
    } finally {
      await alive.destroy();
      await dead.remove({ force: true }).catch(() => undefined);
    }
  });

  it("keeps a started spare container ready for the next sandbox, and removes spares on close", async () => {
    const pooled = createDockerBackend({ runId: "docker-pool-test", warmContainers: 1 });
    const spares = async () =>
      (
        await docker.listContainers({
          all: true,
          filters: { label: [`${LABELS.run}=docker-pool-test`, `${LABELS.label}=warm spare`] },
        })
      ).map((info) => info.Id);
    const first = await pooled.create({ environment: { kind: "image", image } });
    await first.destroy();
    let waiting: string[] = [];
    for (let attempt = 0; attempt < 100 && waiting.length === 0; attempt++) {
      waiting = await spares();
      if (waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(waiting).toHaveLength(1);
    const second = await pooled.create({ environment: { kind: "image", image } });
    expect(second.containerId).toBe(waiting[0]);
    expect((await second.run({ command: "echo warm" })).stdout).toBe("warm\n");
    expect(await second.diff()).toBe("");
    await pooled.close();
    expect(await spares()).toEqual([]);
    await expect(docker.getContainer(second.containerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("prunes prepared images of rebuilt environments and keeps current ones", async () => {
    const files = [{ path: "a.txt", content: `version ${Date.now()}\n` }];
    const tag = "swe-selfplay/test-prune:latest";
    await imageWithFiles({ tag, files, setup: GIT_INIT_SETUP });
    // No spare: a waiting spare container would keep the prepared image in use.
    const unpooled = createDockerBackend({ runId: "docker-prune-test", warmContainers: 0 });
    const first = await unpooled.create({ environment: { kind: "image", image: tag } });
    await first.destroy();
    await unpooled.close();
    const preparedOf = async () =>
      (
        await docker.listImages({
          filters: { label: [`${PREPARED_LABELS.from}=${(await docker.getImage(tag).inspect()).Id}`] },
        })
      ).map((info) => info.Id);
    const old = await preparedOf();
    expect(old).toHaveLength(1);
    expect(await pruneStalePreparedImages(docker)).not.toContain(old[0]);
    // Rebuilding moves the tag: the old prepared image can never be asked for again.
    await imageWithFiles({ tag, files: [{ path: "a.txt", content: "rebuilt\n" }], setup: GIT_INIT_SETUP });
    expect(await pruneStalePreparedImages(docker)).toContain(old[0]);
    await expect(docker.getImage(old[0]!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("says how to build a missing image", async () => {
    const error = await backend
      .create({ environment: { kind: "image", image: "swe-selfplay/base:does-not-exist" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe("docker-image-missing");
    expect((error as Error).message).toContain("swe-selfplay images build-base");
  });
});

describe("Docker backend without an engine", () => {
  it("says how to start one", async () => {
    const backend = createDockerBackend({ socketPath: "/nonexistent/docker.sock" });
    const error = await backend
      .create({ environment: { kind: "image", image: "swe-selfplay/base:bookworm" } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe("docker-unreachable");
    expect((error as Error).message).toContain("/nonexistent/docker.sock");
    expect((error as Error).message).toContain("dockerd");
  });

  it("refuses directory environments with a pointer to the router", async () => {
    const backend = createDockerBackend({ socketPath: "/nonexistent/docker.sock" });
    await expect(backend.create({ environment: { kind: "dir", path: "/tmp" } })).rejects.toBeInstanceOf(
      InputError,
    );
  });
});
