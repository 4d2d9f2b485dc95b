// The CLI's start loads no heavy adapter library: dockerode, Fastify, undici and diff2html load when
// a command first needs a Docker engine, an HTTP server or client or a rendered diff, so --help and
// error paths do not pay for them.
import { describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";

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
