// The CLI's start loads no heavy adapter library: dockerode, Fastify, undici and diff2html load when
// a command first needs a Docker engine, an HTTP server or client or a rendered diff; and a command's
// implementation, with the composition root and the adapters, loads only when the command runs, so --help,
// a bad flag and a missing input do not pay for them.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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

/** Source folders a command's work needs and its help and input errors must not load. */
const HEAVY = [
  "compose",
  "store",
  "sandbox",
  "model",
  "agent",
  "builtin",
  "selfplay",
  "serve",
  "eval",
  "web",
];

/** The project's modules (under src/, relative) a CLI invocation loads, recorded by a module loader hook. */
async function modulesLoaded(
  args: string[],
  temp: string,
): Promise<{ code: number | null; modules: string[] }> {
  const record = join(temp, `loaded-${args.join("-").replace(/[^\w-]/g, "_")}.txt`);
  // The hook runs on the loader's own thread; it appends every module's URL to the record file.
  const hook = join(temp, "record-hook.mjs");
  writeFileSync(
    hook,
    'import { appendFileSync } from "node:fs";\n' +
      "export async function load(url, context, next) {\n" +
      `  appendFileSync(${JSON.stringify(record)}, url + "\\n");\n` +
      "  return next(url, context);\n}\n",
  );
  const register = join(temp, "record.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
  const result = await runProgram(
    process.execPath,
    ["--import", pathToFileURL(register).href, "--import", "tsx", `${projectRoot}src/cli/main.ts`, ...args],
    {
      cwd: projectRoot,
      env: { ...process.env, SWE_SELFPLAY_LOG: "warn", SWE_SELFPLAY_BASE_URL: "", SWE_SELFPLAY_MODEL: "" },
      timeoutMs: 120_000,
    },
  );
  if (!existsSync(record)) throw new Error(`nothing recorded: ${result.stderr}`);
  const source = `${pathToFileURL(projectRoot).href}src/`;
  const modules = readFileSync(record, "utf8")
    .split("\n")
    .filter((url) => url.startsWith(source))
    .map((url) => url.slice(source.length));
  return { code: result.code, modules };
}

describe("the CLI's help and input errors", () => {
  const temp = makeTempDir("swe-selfplay-cli-start-");
  afterAll(() => temp.remove());

  it.each([
    { args: ["--help"], code: 0 },
    { args: ["run", "--help"], code: 0 },
    { args: ["run", "--no-such-flag"], code: 2 },
    { args: ["run", "--temperature", "hot"], code: 2 },
    { args: ["solve", "missing-artifact", "--repo", "."], code: 2 },
    { args: ["validate", "missing-artifact", "--repo", "."], code: 2 },
  ])("%j loads no command implementation, composition root or adapter", async ({ args, code }) => {
    const { code: exit, modules } = await modulesLoaded(args, temp.path);
    expect(exit).toBe(code);
    // The recording works: the program itself was loaded through the hook.
    expect(modules).toContain("cli/program.ts");
    const heavy = modules.filter((path) => HEAVY.includes(path.split("/")[0]!) && path !== "web/address.ts");
    expect(heavy).toEqual([]);
  });

  it("a command that runs loads its implementation and the composition root", async () => {
    const { modules } = await modulesLoaded(["run", "--print-config"], temp.path);
    expect(modules).toContain("cli/commands/run.ts");
    expect(modules.filter((path) => path.startsWith("selfplay/")).length).toBeGreaterThan(0);
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
