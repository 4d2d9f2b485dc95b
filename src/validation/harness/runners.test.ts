// Canaries through a real run of every runner they are written for: small Go, cargo, Jest, Vitest, Mocha and
// tape projects (Mocha twice: node:assert, and a file that sets expect.js as a global the way node-ms's suite
// does), each with its canaries planted, run by the builtin test script and parsed by the builtin parser. Every
// planted site must vouch: its failing canary fails and its passing canary passes, beside the project's tests.
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import { parserSource, testScriptFor } from "../../builtin/discovery/scripts.js";
import type { TestFramework } from "../../builtin/discovery/types.js";
import type { TestResults } from "../../ports/validation.js";
import { canarySites, judgeCanaries, planCanaries, siblingsToRead, withoutCanaries } from "./canaries.js";

interface RunnerProject {
  framework: TestFramework;
  files: Record<string, string>;
  /** The oracle test files, where canaries are planted. */
  oracle: string[];
  binary?: string;
  arguments?: string[];
}

const SUM = "module.exports = (a, b) => a + b;\n";

const PROJECTS: Record<string, RunnerProject> = {
  go: {
    framework: "go",
    files: {
      "go.mod": "module example.com/calc\n\ngo 1.18\n",
      "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
      "calc_test.go":
        'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("add")\n\t}\n}\n',
    },
    oracle: ["calc_test.go"],
  },
  cargo: {
    framework: "cargo",
    files: {
      "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
      "src/lib.rs":
        "pub fn add(a: u64, b: u64) -> u64 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n",
    },
    oracle: ["src/lib.rs"],
  },
  jest: {
    framework: "jest",
    files: {
      "package.json": '{ "name": "sum", "private": true }\n',
      "sum.js": SUM,
      "sum.test.js":
        'const sum = require("./sum");\n\ntest("adds", () => {\n  expect(sum(2, 3)).toBe(5);\n});\n',
    },
    oracle: ["sum.test.js"],
    binary: "node_modules/.bin/jest",
  },
  vitest: {
    framework: "vitest",
    files: {
      "sum.mjs": "export const sum = (a, b) => a + b;\n",
      "sum.test.mjs":
        'import { expect, test } from "vitest";\nimport { sum } from "./sum.mjs";\n\ntest("adds", () => {\n  expect(sum(2, 3)).toBe(5);\n});\n',
    },
    oracle: ["sum.test.mjs"],
    binary: "node_modules/.bin/vitest",
  },
  mocha: {
    framework: "mocha",
    files: {
      "sum.js": SUM,
      "test/assert.js":
        'const assert = require("node:assert");\nconst sum = require("../sum");\n\ndescribe("sum", () => {\n  it("adds", () => {\n    assert.strictEqual(sum(2, 3), 5);\n  });\n});\n',
      // As node-ms's suite: expect.js as a global set by the file, asserting with expect(x).to.be(y).
      "test/global-expect.js":
        'expect = require("expect.js");\nconst sum = require("../sum");\n\ndescribe("sum()", () => {\n  it("adds", () => {\n    expect(sum(2, 3)).to.be(5);\n  });\n});\n',
    },
    oracle: ["test/assert.js", "test/global-expect.js"],
    binary: "node_modules/.bin/mocha",
  },
  tape: {
    framework: "tape",
    files: {
      "sum.js": SUM,
      "test/sum.js":
        'const test = require("tape");\nconst sum = require("../sum");\n\ntest("adds", (t) => {\n  t.equal(sum(2, 3), 5);\n  t.end();\n});\n',
    },
    oracle: ["test/sum.js"],
    binary: "node_modules/.bin/tape",
  },
};

/** Go and cargo come from scripts/setup.sh; outside CI a machine without them skips their projects. */
function missingTool(framework: TestFramework): boolean {
  if (framework !== "go" && framework !== "cargo") return false;
  const found = spawnSync(framework, ["version"]).status === 0;
  if (!found && process.env.CI) throw new Error(`${framework} is missing: scripts/setup.sh installs it`);
  if (!found) process.stderr.write(`${framework} project skipped, why: no ${framework} on PATH\n`);
  return !found;
}

const NODE_MODULES = new URL("../../../node_modules", import.meta.url).pathname;
let temp: { path: string; remove(): void };

beforeAll(() => {
  temp = makeTempDir("canary-runners-");
});

afterAll(() => temp?.remove());

/** Plants canaries in the project, runs it with the builtin script and parser, returns what was planted. */
function runWithCanaries(name: string, project: RunnerProject) {
  const root = join(temp.path, name);
  for (const [path, content] of Object.entries(project.files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  if (project.binary) symlinkSync(NODE_MODULES, join(root, "node_modules"));
  execFileSync("git", ["init", "-q", root]);
  const sites = canarySites(project.oracle);
  const contents = new Map(
    siblingsToRead(sites).map((path) => [path, readFileSync(join(root, path), "utf8")]),
  );
  const plan = planCanaries(sites, contents);
  for (const file of plan.files) {
    if (file.append) appendFileSync(join(root, file.path), file.content);
    else writeFileSync(join(root, file.path), file.content);
  }
  const script = testScriptFor({
    framework: project.framework,
    workdir: root,
    ...(project.binary ? { binary: project.binary } : {}),
    ...(project.framework === "tape" ? { files: project.oracle } : {}),
  });
  const output = execFileSync("bash", ["-c", `${script}\ntrue`], { encoding: "utf8", maxBuffer: 64 << 20 });
  const parsed = execFileSync("python3", ["-c", parserSource(project.framework)], {
    input: output,
    encoding: "utf8",
  });
  const results = JSON.parse(parsed) as TestResults;
  return { plan, results, output };
}

describe("canaries through every runner for real", () => {
  for (const [name, project] of Object.entries(PROJECTS)) {
    it.skipIf(missingTool(project.framework))(
      `vouch for a ${name} run`,
      () => {
        const { plan, results, output } = runWithCanaries(name, project);
        expect(plan.planted.length, "every oracle site got canaries").toBe(
          project.framework === "go" ? 1 : project.oracle.length,
        );
        expect(judgeCanaries(results, plan), output.slice(-3000)).toEqual({
          status: "vouched",
          sites: plan.planted.length,
        });
        const own = withoutCanaries(results, plan);
        expect(Object.values(own).length, JSON.stringify(results)).toBeGreaterThan(0);
        expect(
          Object.values(own).every((status) => status === "passed"),
          JSON.stringify(own),
        ).toBe(true);
      },
      180_000,
    );
  }
});
