// The generated go and cargo test scripts run for real where those toolchains are installed (the local
// sandbox does not show them, so these run in a temporary directory), then their parsers read the output.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import { parserSource, testScriptFor } from "./index.js";
import type { TestFramework } from "./types.js";

function available(tool: string): boolean {
  const probe = spawnSync(tool, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const works = probe.status === 0 || (tool === "go" && spawnSync("go", ["version"]).status === 0);
  if (!works) process.stderr.write(`skipped, why: ${tool} is not installed here\n`);
  return works;
}

const temp = makeTempDir("swe-selfplay-scripts-");
afterAll(() => temp.remove());

function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function runScript(framework: TestFramework, workdir: string, env: Record<string, string> = {}) {
  const script = testScriptFor({ framework, workdir });
  const run = spawnSync("bash", ["-c", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = spawnSync("python3", ["-c", parserSource(framework)], {
    input: run.stdout,
    encoding: "utf8",
  });
  expect(parsed.status, parsed.stderr).toBe(0);
  return JSON.parse(parsed.stdout) as Record<string, string>;
}

describe.skipIf(!available("go"))("go test script", () => {
  it("runs every package with -json and names tests by package directory", () => {
    const root = join(temp.path, "go-module");
    writeTree(root, {
      "go.mod": "module example.com/calc\n\ngo 1.21\n",
      "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
      "calc_test.go":
        'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tt.Run("small numbers", func(t *testing.T) {\n\t\tif Add(1, 2) != 3 {\n\t\t\tt.Fatal("bad")\n\t\t}\n\t})\n}\n',
      "inner/inner_test.go":
        'package inner\n\nimport "testing"\n\nfunc TestFails(t *testing.T) { t.Fatal("no") }\n',
    });
    expect(runScript("go", root)).toEqual({
      ".::TestAdd": "passed",
      ".::TestAdd/small_numbers": "passed",
      "inner::TestFails": "failed",
    });
  });
});

describe.skipIf(!available("cargo"))("cargo test script", () => {
  it("runs unit, integration and doc tests offline and names them by target source file", () => {
    const root = join(temp.path, "crate");
    writeTree(root, {
      "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
      "src/lib.rs":
        "/// ```\n/// assert_eq!(calc::add(1, 2), 3);\n/// ```\npub fn add(a: i32, b: i32) -> i32 { a + b }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() { assert_eq!(super::add(2, 2), 4); }\n    #[test]\n    fn fails() { assert_eq!(super::add(2, 2), 5); }\n}\n",
      "tests/api.rs": "#[test]\nfn public_api() { assert_eq!(calc::add(0, 0), 0); }\n",
    });
    const results = runScript("cargo", root, { CARGO_TARGET_DIR: join(temp.path, "cargo-target") });
    expect(results).toEqual({
      "doc::src/lib.rs - add (line 1)": "passed",
      "src/lib.rs::tests::adds": "passed",
      "src/lib.rs::tests::fails": "failed",
      "tests/api.rs::public_api": "passed",
    });
  });
});
