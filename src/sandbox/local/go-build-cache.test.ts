// The Go build cache of the local backend on a real Go module with the real go tool: warmed once per
// environment, so a sandbox's `go test` compiles only the module's own packages, and never writable from a
// sandbox: what one sandbox does to its cache reaches neither the shared cache nor the next sandbox.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import { createLocalBackend, type LocalBackend } from "./backend.js";
import { GO_CACHE_PATH, sandboxGoTool } from "./go-build-cache.js";

const goTool = sandboxGoTool();
let temp: { path: string; remove(): void };
let backend: LocalBackend;
let module: string;

function makeGoModule(root: string): string {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "go.mod"), "module example.com/calc\n\ngo 1.19\n");
  writeFileSync(
    join(root, "calc.go"),
    'package calc\n\nimport "strings"\n\nfunc Shout(s string) string { return strings.ToUpper(s) + "!" }\n',
  );
  writeFileSync(
    join(root, "calc_test.go"),
    'package calc\n\nimport "testing"\n\nfunc TestShout(t *testing.T) {\n\tif Shout("a") != "A!" {\n\t\tt.Fatal(Shout("a"))\n\t}\n}\n',
  );
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: root });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "initial");
  return root;
}

/** The shared caches on the host: one directory per warmed environment. */
function sharedCaches(): string[] {
  const directory = join(temp.path, "runtime", "go-caches");
  return existsSync(directory) ? readdirSync(directory).map((name) => join(directory, name)) : [];
}

beforeAll(() => {
  temp = makeTempDir("swe-selfplay-go-cache-");
  backend = createLocalBackend({ runtimeDirectory: join(temp.path, "runtime") });
  module = makeGoModule(join(temp.path, "calc"));
});

afterAll(async () => {
  await backend?.close();
  temp?.remove();
});

describe.skipIf(goTool === null)(
  "the local backend's Go build cache (skipped: no go tool on the sandbox's PATH)",
  () => {
    it("is warmed once per environment, so a sandbox's go test compiles only the module's packages", async () => {
      const sandbox = await backend.create({ environment: { kind: "dir", path: module }, label: "test:go" });
      try {
        expect(sharedCaches()).toHaveLength(1);
        const cache = await sandbox.run({ command: "go env GOCACHE", timeoutMs: 60_000 });
        expect(cache.stdout.trim()).toBe(GO_CACHE_PATH);
        const run = await sandbox.run({
          // A changed source file (as a bug makes one) must compile again; the standard library must not.
          command: "echo '// changed' >> calc.go && GOPROXY=off go test -count=1 -x ./... 2>&1",
          timeoutMs: 300_000,
        });
        expect(run.status === "exited" && run.exitCode, run.stdout.slice(-2000)).toBe(0);
        expect(run.stdout).toContain("ok  \texample.com/calc");
        // Cold, `testing` and its dependencies would compile dozens of standard packages.
        const compiled = run.stdout.split("\n").filter((line) => /\/compile\b.* -p (\S+)/.test(line));
        const packages = compiled.map((line) => /-p (\S+)/.exec(line)![1]!);
        expect(packages).toContain("example.com/calc");
        expect(packages.filter((name) => !name.startsWith("example.com/") && name !== "main")).toEqual([]);
      } finally {
        await sandbox.destroy();
      }
    }, 600_000);

    it("is never written from a sandbox: the shared cache and the next sandbox stay pristine", async () => {
      const [shared] = sharedCaches();
      const before = execFileSync("sh", ["-c", "find . -type f | sort | xargs sha256sum"], {
        cwd: shared!,
        encoding: "utf8",
      });
      const entry = before.split("\n")[0]!.split(/\s+/)[1]!; // e.g. ./00/00...-a
      const first = await backend.create({
        environment: { kind: "dir", path: module },
        label: "test:go-poison",
      });
      try {
        const poison = await first.run({
          command: `echo poisoned > ${GO_CACHE_PATH}/${entry} && rm -rf ${GO_CACHE_PATH}/[0-9a-f][0-9a-f] && echo planted > ${GO_CACHE_PATH}/planted && ls ${GO_CACHE_PATH}`,
          timeoutMs: 60_000,
        });
        // The sandbox may change its own view as it likes; nothing of it reaches the host's cache.
        expect(poison.exitCode, poison.stderr).toBe(0);
        expect(poison.stdout).toContain("planted");
        // The shared cache itself is not in the sandbox's view at all, so writing it fails.
        const direct = await first.run({ command: `echo x > ${shared}/planted`, timeoutMs: 60_000 });
        expect(direct.exitCode).not.toBe(0);
      } finally {
        await first.destroy();
      }
      const after = execFileSync("sh", ["-c", "find . -type f | sort | xargs sha256sum"], {
        cwd: shared!,
        encoding: "utf8",
      });
      expect(after).toBe(before);
      expect(readFileSync(join(shared!, entry), "utf8")).not.toBe("poisoned\n");
      const next = await backend.create({
        environment: { kind: "dir", path: module },
        label: "test:go-next",
      });
      try {
        const seen = await next.run({
          command: `test ! -e ${GO_CACHE_PATH}/planted && sha256sum ${GO_CACHE_PATH}/${entry}`,
          timeoutMs: 60_000,
        });
        expect(seen.exitCode).toBe(0);
        expect(seen.stdout.split(/\s+/)[0]).toBe(before.split("\n")[0]!.split(/\s+/)[0]);
      } finally {
        await next.destroy();
      }
    }, 600_000);
  },
);
