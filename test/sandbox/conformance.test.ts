// One behavioural contract for every sandbox backend: isolation, limits, timeouts, output caps, and
// exact change tracking (diff in one sandbox, apply in a fresh one, same tree).

import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.js";
import type { Environment, Sandbox, SandboxBackend, SandboxSpec } from "../../src/ports/sandbox.js";
import { projectRoot } from "../support/cli.js";
import { dockerRequired } from "../support/docker.js";
import { makeTempDir } from "../support/tmp.js";
import { backendsUnderTest, seedPatch } from "./backends.js";

/** Host processes whose command line contains `marker`. */
function hostProcessesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const commandLine = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (commandLine.includes(marker)) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Forks sleeping children until the kernel refuses, then prints how many it got. */
const FORK_COUNTER = [
  "import os, time",
  "count = 0",
  "try:",
  "    while count < 300:",
  "        if os.fork() == 0:",
  "            time.sleep(3)",
  "            os._exit(0)",
  "        count += 1",
  "except OSError:",
  "    pass",
  "print(count)",
].join("\n");

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

/** Sorted "mode sha256 path" of every file (and link target) below the workdir, .git excluded. */
async function treeListing(sandbox: Sandbox): Promise<string> {
  const result = await sandbox.run({
    command:
      "find . -path ./.git -prune -o \\( -type f -printf '%m %p ' -exec sh -c 'sha256sum < \"$1\"' _ {} \\; \\) -o \\( -type l -printf '%m %p -> %l\\n' \\) | sort",
    timeoutMs: 60_000,
  });
  expect(result.exitCode).toBe(0);
  return result.stdout;
}

for (const backend of backendsUnderTest()) {
  if (backend.unavailable) {
    if (backend.name === "docker" && dockerRequired)
      throw new Error(`REQUIRE_DOCKER=1 but ${backend.unavailable}`);
    process.stderr.write(`skipped, why: ${backend.name} backend: ${backend.unavailable}\n`);
  }

  describe.skipIf(backend.unavailable !== undefined)(`sandbox conformance: ${backend.name}`, () => {
    const scratch = makeTempDir("swe-selfplay-conformance-");
    /** A check of isolation or limits: only for backends that isolate (not the test-only copy backend). */
    const isolation = it.skipIf(!backend.isolated);
    let sandboxes: SandboxBackend;
    let environment: Environment;
    let seed: string;
    const create = (extra: Partial<SandboxSpec> = {}) =>
      sandboxes.create({
        environment,
        patches: [seed, ...(extra.patches ?? [])],
        limits: extra.limits,
        label: "conformance",
      });

    beforeAll(async () => {
      sandboxes = await backend.open();
      environment = await backend.environment(scratch.path);
      seed = seedPatch(scratch.path);
    });

    afterAll(async () => {
      await sandboxes?.close();
      scratch.remove();
    });

    it("runs commands in the workdir with a scrubbed environment; failures are data", async () => {
      const sandbox = await create();
      process.env.SWE_SELFPLAY_CONFORMANCE_SECRET = "leaked";
      try {
        const result = await sandbox.run({
          command: "pwd; env; cat README.md; echo oops >&2; exit 3",
          env: { EXTRA: "yes" },
        });
        expect(result).toMatchObject({ status: "exited", exitCode: 3, truncated: false, stderr: "oops\n" });
        expect(result.stdout.split("\n")[0]).toBe(sandbox.workdir);
        // Every isolating backend shows the repository at /testbed; the test-only copy backend cannot.
        const workdir = backend.isolated ? "/testbed" : sandbox.workdir;
        expect(sandbox.workdir).toBe(workdir);
        expect(result.stdout).toContain("A tiny calculator.");
        expect(result.stdout).toContain("EXTRA=yes");
        expect(result.stdout).toContain("LANG=C.UTF-8");
        expect(result.stdout).not.toContain("SWE_SELFPLAY_CONFORMANCE_SECRET");
        const piped = await sandbox.run({ command: "tr a-z A-Z", stdin: "shout", cwd: "src" });
        expect(piped.stdout).toBe("SHOUT");
        const where = await sandbox.run({ command: "pwd", cwd: "src" });
        expect(where.stdout.trim()).toBe(`${workdir}/src`);
      } finally {
        delete process.env.SWE_SELFPLAY_CONFORMANCE_SECRET;
        await sandbox.destroy();
      }
    });

    isolation("cannot write outside the repository or see the host's home and files", async () => {
      const hostFile = join(scratch.path, `host-${randomBytes(4).toString("hex")}.txt`);
      writeFileSync(hostFile, "host content\n");
      const homeFile = join(homedir(), `.swe-selfplay-conformance-${randomBytes(4).toString("hex")}`);
      writeFileSync(homeFile, "secret\n");
      const sandbox = await create();
      try {
        for (const target of [
          "/usr/bin/swe-selfplay-probe",
          "/etc/swe-selfplay-probe",
          "/swe-selfplay-probe",
        ]) {
          const result = await sandbox.run({ command: `echo x > ${target}` });
          expect(result.exitCode, `writing ${target}`).not.toBe(0);
        }
        await sandbox.run({ command: `mkdir -p ${scratch.path}; echo changed > ${hostFile}` });
        expect(readFileSync(hostFile, "utf8")).toBe("host content\n");
        const home = await sandbox.run({ command: `cat ${homeFile}` });
        expect(home.exitCode).not.toBe(0);
        expect(home.stdout).not.toContain("secret");
        const shadow = await sandbox.run({ command: "cat /etc/shadow" });
        expect(shadow.exitCode).not.toBe(0);
        const project = await sandbox.run({ command: `cat ${join(projectRoot, "package.json")}` });
        expect(project.exitCode).not.toBe(0);
        const other = await create();
        try {
          await other.run({
            command: "echo other > /tmp/other-sandbox.txt && echo other > /testbed/other.txt",
          });
          const seen = await sandbox.run({ command: "cat /tmp/other-sandbox.txt /testbed/other.txt" });
          expect(seen.exitCode).not.toBe(0);
          expect(seen.stdout).toBe("");
        } finally {
          await other.destroy();
        }
        const inside = await sandbox.run({
          command: "echo fine > /testbed/ok.txt && echo tmp > /tmp/t && cat /tmp/t",
        });
        expect(inside).toMatchObject({ exitCode: 0, stdout: "tmp\n" });
      } finally {
        rmSync(homeFile, { force: true });
        await sandbox.destroy();
      }
    });

    isolation("has no network, not even to a server on the host's loopback", async () => {
      let connections = 0;
      const server: Server = createServer((socket) => {
        connections++;
        socket.end("hello\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const sandbox = await create();
      try {
        const result = await sandbox.run({
          command: `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected; python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=3); print('python connected')"`,
          timeoutMs: 20_000,
        });
        expect(result.status).toBe("exited");
        expect(result.stdout).not.toContain("connected");
        expect(connections).toBe(0);
      } finally {
        server.close();
        await sandbox.destroy();
      }
    });

    it("kills the whole process tree when a command times out", async () => {
      const marker = `loop-${randomBytes(6).toString("hex")}`;
      const sandbox = await create();
      try {
        const started = Date.now();
        const result = await sandbox.run({
          command: `sh -c 'sleep 1000 & sleep 1000 & while :; do :; done' ${marker}`,
          timeoutMs: 1500,
        });
        expect(result).toMatchObject({ status: "timed-out", exitCode: null });
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(await eventually(() => hostProcessesWith(marker).length === 0)).toBe(true);
      } finally {
        await sandbox.destroy();
      }
    });

    isolation("contains a fork bomb and keeps the host responsive", async () => {
      const marker = `bomb-${randomBytes(6).toString("hex")}`;
      const sandbox = await create({ limits: { pids: 64 } });
      let worstLag = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        worstLag = Math.max(worstLag, now - last - 20);
        last = now;
      }, 20);
      try {
        const result = await sandbox.run({
          command: `bash -c 'bomb() { bomb | bomb & }; bomb; sleep 3' ${marker}`,
          timeoutMs: 6000,
        });
        expect(["exited", "timed-out"]).toContain(result.status);
        expect(await eventually(() => hostProcessesWith(marker).length === 0, 10_000)).toBe(true);
        const after = await sandbox.run({ command: "echo alive" });
        expect(after.stdout).toBe("alive\n");
        const forks = await sandbox.run({
          command: `python3 -c '${FORK_COUNTER}'`,
          timeoutMs: 30_000,
        });
        expect(Number(forks.stdout.trim())).toBeGreaterThan(0);
        expect(Number(forks.stdout.trim())).toBeLessThan(64);
        expect(worstLag).toBeLessThan(3000);
      } finally {
        clearInterval(ticker);
        await sandbox.destroy();
      }
    });

    isolation("stops a memory hog at the memory cap", async () => {
      const sandbox = await create({ limits: { memoryBytes: 128 * 1024 * 1024 } });
      try {
        const result = await sandbox.run({
          command: `python3 -c "b = bytearray(768 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('survived')"`,
          timeoutMs: 60_000,
        });
        expect(result.stdout).not.toContain("survived");
        expect(result.exitCode).not.toBe(0);
        const after = await sandbox.run({ command: "echo alive" });
        expect(after.stdout).toBe("alive\n");
      } finally {
        await sandbox.destroy();
      }
    });

    it("caps 100 MB of output and flags it truncated", async () => {
      const sandbox = await create();
      try {
        const result = await sandbox.run({
          command: "head -c 100000000 /dev/zero | tr '\\0' x; echo done >&2",
        });
        expect(result.status).toBe("exited");
        expect(result.truncated).toBe(true);
        expect(result.stdout.length).toBeLessThanOrEqual(1024 * 1024);
        expect(result.stdout.length).toBeGreaterThan(1000);
        expect(result.stderr).toBe("done\n");
        const small = await sandbox.run({ command: "echo 0123456789 >&2", maxOutputBytes: 4 });
        expect(small).toMatchObject({ stderr: "0123", truncated: true });
      } finally {
        await sandbox.destroy();
      }
    });

    it("round-trips new, deleted, renamed, binary and executable-bit changes through diff and applyPatch", async () => {
      const first = await create();
      const second = await create();
      try {
        expect(await first.diff()).toBe("");
        const binary = randomBytes(2048);
        await first.writeFile("assets/blob.bin", binary);
        await first.writeFile("src/new_module.py", "VALUE = 42\n");
        const edits = await first.run({
          command: [
            "rm README.md",
            "git mv -f tests/test_calc.py tests/test_renamed.py 2>/dev/null || mv tests/test_calc.py tests/test_renamed.py",
            "chmod +x src/calc.py",
            "chmod -x run.sh",
            "printf 'def mul(a, b):\\n    return a * b\\n' >> src/calc.py",
          ].join(" && "),
        });
        expect(edits.exitCode, edits.stderr).toBe(0);
        const diff = await first.diff();
        expect(diff).toContain("GIT binary patch");
        expect(diff).toContain("rename from tests/test_calc.py");
        expect(diff).toContain("deleted file mode 100644");
        expect(diff).toContain("new file mode 100644");
        expect(diff).toMatch(/old mode 100644\nnew mode 100755/);
        expect(diff).not.toContain(".git/");
        const applied = await second.applyPatch(diff);
        expect(applied).toMatchObject({ status: "applied" });
        if (applied.status === "applied") {
          expect(applied.files).toEqual(
            expect.arrayContaining(["README.md", "assets/blob.bin", "tests/test_renamed.py"]),
          );
        }
        expect(await treeListing(second)).toBe(await treeListing(first));
        expect(Buffer.compare(await second.readFile("assets/blob.bin"), binary)).toBe(0);
        expect(await second.diff()).toBe(diff);
      } finally {
        await first.destroy();
        await second.destroy();
      }
    });

    it("reports a patch that does not apply as data naming the file and hunk", async () => {
      const sandbox = await create();
      try {
        const bad = [
          "diff --git a/src/calc.py b/src/calc.py",
          "--- a/src/calc.py",
          "+++ b/src/calc.py",
          "@@ -1,3 +1,3 @@",
          " def add(a, b):",
          "-    return a + b",
          "+    return a - b",
          " ",
          "@@ -5,2 +5,2 @@",
          " def sub(a, b):",
          "-    return a * b",
          "+    return a + b",
          "",
        ].join("\n");
        const result = await sandbox.applyPatch(bad);
        expect(result).toMatchObject({ status: "rejected", file: "src/calc.py", hunk: 2 });
        if (result.status === "rejected") expect(result.message).toContain("src/calc.py: hunk #2");
        // Atomic: the first hunk did not land either.
        expect((await sandbox.readFile("src/calc.py")).toString()).toContain("return a + b");
        expect(await sandbox.diff()).toBe("");
        expect(await sandbox.applyPatch("")).toEqual({ status: "applied", files: [] });
      } finally {
        await sandbox.destroy();
      }
    });

    it("starts from the environment plus its patches, and snapshot() moves the diff base", async () => {
      const change = [
        "diff --git a/README.md b/README.md",
        "--- a/README.md",
        "+++ b/README.md",
        "@@ -1,3 +1,3 @@",
        " # calc",
        " ",
        "-A tiny calculator.",
        "+A patched calculator.",
        "",
      ].join("\n");
      const sandbox = await create({ patches: [change] });
      try {
        expect((await sandbox.readFile("README.md")).toString()).toContain("A patched calculator.");
        expect(await sandbox.diff()).toBe("");
        await sandbox.writeFile("README.md", "changed\n");
        expect(await sandbox.diff()).toContain("+changed");
        await sandbox.snapshot();
        expect(await sandbox.diff()).toBe("");
        await sandbox.writeFile("notes.txt", "later\n");
        const after = await sandbox.diff();
        expect(after).toContain("notes.txt");
        expect(after).not.toContain("README.md");
      } finally {
        await sandbox.destroy();
      }
    });

    it("rejects creation when a patch does not apply", async () => {
      const broken =
        "diff --git a/missing.txt b/missing.txt\n--- a/missing.txt\n+++ b/missing.txt\n@@ -1 +1 @@\n-a\n+b\n";
      await expect(create({ patches: [broken] })).rejects.toBeInstanceOf(InputError);
    });

    it("aborts a running command", async () => {
      const sandbox = await create();
      try {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 300);
        const started = Date.now();
        const result = await sandbox.run({ command: "sleep 100", abortSignal: controller.signal });
        expect(result).toMatchObject({ status: "aborted", exitCode: null });
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        await sandbox.destroy();
      }
    });

    isolation("reads and writes files, with modes, and never follows a link to the host", async () => {
      const sandbox = await create();
      const hostSecret = join(scratch.path, "host-secret.txt");
      mkdirSync(scratch.path, { recursive: true });
      writeFileSync(hostSecret, "host secret\n");
      try {
        await sandbox.writeFile("bin/tool.sh", "#!/bin/sh\necho tool\n", { mode: 0o755 });
        const ran = await sandbox.run({ command: "./bin/tool.sh && stat -c %a bin/tool.sh" });
        expect(ran.stdout).toBe("tool\n755\n");
        await sandbox.writeFile("/tmp/absolute.txt", "in tmp\n");
        expect((await sandbox.readFile("/tmp/absolute.txt")).toString()).toBe("in tmp\n");
        await expect(sandbox.readFile("does/not/exist")).rejects.toBeInstanceOf(InputError);
        await sandbox.run({
          command: `ln -s ${hostSecret} link-to-host && ln -s /testbed/README.md readme-link`,
        });
        await expect(sandbox.readFile("link-to-host")).rejects.toBeInstanceOf(InputError);
        expect((await sandbox.readFile("readme-link")).toString()).toContain("A tiny calculator.");
        await sandbox.writeFile("link-to-host", "overwritten\n").catch(() => undefined);
        expect(readFileSync(hostSecret, "utf8")).toBe("host secret\n");
      } finally {
        await sandbox.destroy();
      }
    });

    it("destroy() is idempotent and the sandbox is unusable afterwards", async () => {
      const sandbox = await create();
      await sandbox.destroy();
      await sandbox.destroy();
      await expect(sandbox.run({ command: "true" })).rejects.toThrow(/destroyed/);
    });
  });
}
