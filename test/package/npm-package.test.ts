// The npm package as a user gets it: build, `npm pack`, install the tarball into an empty project, and use it
// there as the README says: the command's help, a short run of the shipped example with the built-in policy,
// and the library entry's names (values at run time, types through a typecheck against the shipped .d.ts).
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { promisedValues, TYPE_NAMES } from "../support/library-names.js";
import { makeTempDir } from "../support/tmp.js";

const temp = makeTempDir("swe-selfplay-package-");
const project = join(temp.path, "project");
const env = { ...process.env, SWE_SELFPLAY_LOG: "warn", npm_config_update_notifier: "false" };

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function versionOf(root: string, name: string): string {
  const manifest = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8"));
  return (manifest as { version: string }).version;
}

beforeAll(() => {
  // A clean build: a stale file in dist/ from an older checkout must not make the package look whole.
  rmSync(join(projectRoot, "dist"), { recursive: true, force: true });
  npm(["run", "build"], projectRoot);
  npm(["pack", "--pack-destination", temp.path], projectRoot);
  const tarball = readdirSync(temp.path).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${temp.path}`);
  execFileSync("mkdir", [project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true }));
  // Install scripts are skipped: the only one that matters, better-sqlite3's native build, compiles SQLite for
  // minutes on a small machine; the checkout's own addon (built by `npm ci` for this Node) stands in for it
  // when the versions agree, else it is rebuilt here.
  npm(
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", join(temp.path, tarball)],
    project,
  );
  if (versionOf(project, "better-sqlite3") === versionOf(projectRoot, "better-sqlite3"))
    cpSync(
      join(projectRoot, "node_modules/better-sqlite3/build"),
      join(project, "node_modules/better-sqlite3/build"),
      { recursive: true },
    );
  else npm(["rebuild", "better-sqlite3"], project);
}, 600_000);

afterAll(() => temp.remove());

describe("the npm package, installed from its tarball into an empty project", () => {
  it("ships the compiled entry and no TypeScript sources or test support", () => {
    const installed = join(project, "node_modules/swe-selfplay");
    const files = execFileSync("find", [".", "-type", "f"], { cwd: installed, encoding: "utf8" }).split("\n");
    expect(files).toContain("./dist/index.js");
    expect(files).toContain("./dist/index.d.ts");
    expect(files).toContain("./dist/cli/main.js");
    expect(files.filter((file) => /\.ts$/.test(file) && !/\.d\.ts$/.test(file))).toEqual([]);
    expect(files.filter((file) => /(^|\/)(test|testing)\//.test(file) || /\.test\.js$/.test(file))).toEqual(
      [],
    );
  });

  it("answers `npx swe-selfplay --help`", async () => {
    const result = await runProgram("npx", ["--no", "--", "swe-selfplay", "--help"], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: swe-selfplay /m);
    expect(result.stdout).toMatch(/^ {2}run \[options\]/m);
  });

  it("runs the shipped example with the built-in policy: progress and summary on the terminal, detail in a log file", async () => {
    // As a newcomer runs it: no log level set.
    const { SWE_SELFPLAY_LOG: _level, ...userEnv } = env;
    const result = await runProgram(
      "npx",
      ["--no", "--", "swe-selfplay", "run", "--steps", "1", "--group-size", "2"],
      { cwd: project, env: userEnv, timeoutMs: 300_000 },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^steps\s+1 \(done 1, failed 0/m);
    expect(result.stdout).toMatch(/^attempts\s+2 graded/m);
    expect(result.stdout).toMatch(/^log\s+\.swe-selfplay\/run\.log$/m);
    expect(result.stderr).toMatch(/ progress step 0 finished/);
    expect(result.stderr).not.toMatch(/ info +\[/);
    const logged = readFileSync(join(project, ".swe-selfplay/run.log"), "utf8");
    expect(logged).toMatch(/ info +\[builtin\.repair\] repair finished/);
    expect(logged).toMatch(/ info +\[validation\.grade\] patch-graded/);
  });

  it("exposes the README's library names through import('swe-selfplay')", async () => {
    const script =
      "const api = await import('swe-selfplay'); console.log(JSON.stringify(Object.fromEntries(Object.entries(api).map(([k, v]) => [k, typeof v]))));";
    const result = await runProgram(process.execPath, ["--input-type=module", "-e", script], {
      cwd: project,
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    const kinds = JSON.parse(result.stdout) as Record<string, string>;
    const values = promisedValues();
    expect(values.length).toBeGreaterThan(30);
    expect(values.filter(({ name, kind }) => kinds[name] !== kind).map(({ name }) => name)).toEqual([]);
  });

  it("declares the README's library types for a TypeScript user", async () => {
    const names = [...TYPE_NAMES];
    writeFileSync(
      join(project, "types.ts"),
      `import type { ${names.join(", ")} } from "swe-selfplay";\nexport type All = [${names.join(", ")}];\n`,
    );
    const tsc = join(projectRoot, "node_modules/typescript/bin/tsc");
    const result = await runProgram(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--skipLibCheck",
        "--types",
        "node",
        "--typeRoots",
        join(projectRoot, "node_modules/@types"),
        "types.ts",
      ],
      { cwd: project, env },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  });
});
