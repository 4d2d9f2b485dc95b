// The CLI's start loads no heavy adapter library: dockerode, Fastify, undici and diff2html load when
// a command first needs a Docker engine, an HTTP server or client or a rendered diff, so --help and
// error paths do not pay for them.
import { copyFileSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { makeTempDir } from "../support/tmp.js";

describe("the CLI's start", () => {
  it("registers every command without loading dockerode, fastify, undici or diff2html", async () => {
    const script = [
      'import { createRequire } from "node:module";',
      'const { Command } = await import("commander");',
      `const { registerCommands } = await import(${JSON.stringify(`${projectRoot}src/cli/commands/index.ts`)});`,
      "registerCommands(new Command());",
      "const loaded = Object.keys(createRequire(import.meta.url).cache);",
      'const heavy = ["dockerode", "fastify", "undici", "diff2html"].filter((name) => loaded.some((path) => path.includes("/node_modules/" + name + "/")));',
      "process.stdout.write(JSON.stringify({ heavy, modules: loaded.length }));",
    ].join("\n");
    const result = await runProgram(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: projectRoot, env: process.env, timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const { heavy, modules } = JSON.parse(result.stdout) as { heavy: string[]; modules: number };
    expect(modules).toBeGreaterThan(0);
    expect(heavy).toEqual([]);
  });
});

describe("the bin entry", () => {
  const temp = makeTempDir("swe-selfplay-bin-");
  afterAll(() => temp.remove());

  it("runs dist/ only when a whole build is newer than every source, else the sources", async () => {
    // A checkout in miniature: each entry prints which one ran.
    const root = temp.path;
    mkdirSync(join(root, "bin"));
    copyFileSync(join(projectRoot, "bin", "swe-selfplay.js"), join(root, "bin", "swe-selfplay.js"));
    symlinkSync(join(projectRoot, "node_modules"), join(root, "node_modules"));
    writeFileSync(join(root, "package.json"), '{ "type": "module" }\n');
    mkdirSync(join(root, "src", "cli"), { recursive: true });
    writeFileSync(
      join(root, "src", "cli", "main.ts"),
      'const from: string = "sources";\nconsole.log(from);\n',
    );
    mkdirSync(join(root, "dist", "cli"), { recursive: true });
    writeFileSync(join(root, "dist", "cli", "main.js"), 'console.log("dist");\n');
    const which = async () => {
      const result = await runProgram(process.execPath, [join(root, "bin", "swe-selfplay.js")], {
        cwd: root,
        env: process.env,
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);
    for (const path of ["src", "src/cli", "src/cli/main.ts"]) at(join(root, path), 1_000);
    // No mark of a finished build: the sources.
    expect(await which()).toBe("sources");
    writeFileSync(join(root, "dist", ".complete"), "");
    at(join(root, "dist", ".complete"), 2_000);
    expect(await which()).toBe("dist");
    // A source edited after the build: the sources again.
    at(join(root, "src", "cli", "main.ts"), 3_000);
    expect(await which()).toBe("sources");
  });
});
