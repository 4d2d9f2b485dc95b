import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { InputError } from "../errors.js";
import { buildExampleRepo, getExample, listExamples } from "./build.js";

const temp = makeTempDir("swe-selfplay-examples-");
afterAll(() => temp.remove());

function git(repo: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
}

describe("listExamples", () => {
  it("lists the Python and JavaScript examples with their histories", () => {
    const examples = listExamples();
    expect(examples.map((example) => [example.name, example.language])).toEqual([
      ["inkwell", "python"],
      ["timespan", "javascript"],
    ]);
    for (const example of examples) {
      expect(example.patches.length).toBeGreaterThanOrEqual(5);
      expect(example.patches[0]).toMatch(/^0001-/);
      expect(example.testCommand).not.toBe("");
    }
  });

  it("names the known examples when asked for an unknown one", () => {
    expect(() => getExample("nope")).toThrow(InputError);
    expect(() => getExample("nope")).toThrow(/inkwell, timespan/);
  });
});

describe("buildExampleRepo", () => {
  it("gives the same commit ids on every build", async () => {
    const first = await buildExampleRepo("inkwell", join(temp.path, "a"));
    const second = await buildExampleRepo("inkwell", join(temp.path, "b"));
    expect(git(first, "rev-parse", "HEAD")).toBe(git(second, "rev-parse", "HEAD"));
    expect(git(first, "status", "--porcelain")).toBe("");
    const subjects = git(first, "log", "--format=%s").split("\n");
    expect(subjects).toHaveLength(getExample("inkwell").patches.length);
    expect(subjects.filter((subject) => subject.startsWith("Fix ")).length).toBeGreaterThanOrEqual(3);
  });

  it("refuses a destination that is not empty and accepts an empty one", async () => {
    const repo = await buildExampleRepo("timespan", join(temp.path, "c"));
    await expect(buildExampleRepo("timespan", repo)).rejects.toThrow(/not empty/);
    const empty = join(temp.path, "empty");
    mkdirSync(empty);
    expect(await buildExampleRepo("timespan", empty)).toBe(empty);
    expect(readdirSync(temp.path).filter((entry) => entry.includes(".building-"))).toEqual([]);
  });

  it("builds a Python example whose test suite passes", async () => {
    const repo = await buildExampleRepo("inkwell", join(temp.path, "python"));
    const output = execFileSync("bash", ["-c", getExample("inkwell").testCommand], {
      cwd: repo,
      encoding: "utf8",
    });
    const passed = Number(/(\d+) passed/.exec(output)?.[1]);
    expect(passed).toBeGreaterThanOrEqual(50);
    expect(output).not.toMatch(/failed/);
  });

  it("builds a JavaScript example whose test suite passes", async () => {
    const repo = await buildExampleRepo("timespan", join(temp.path, "node"));
    expect(JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).type).toBe("module");
    const output = execFileSync("bash", ["-c", getExample("timespan").testCommand], {
      cwd: repo,
      encoding: "utf8",
    });
    expect(Number(/^# pass (\d+)$/m.exec(output)?.[1])).toBeGreaterThanOrEqual(30);
    expect(/^# fail (\d+)$/m.exec(output)?.[1]).toBe("0");
  });

  it("keeps fix commits whose reversal makes tests fail", async () => {
    const repo = await buildExampleRepo("inkwell", join(temp.path, "history"));
    const fix = git(repo, "log", "--format=%H", "--grep=^Fix wrap");
    const codeChange = execFileSync("git", ["show", fix, "--", "inkwell/"], { cwd: repo, encoding: "utf8" });
    execFileSync("git", ["apply", "-R"], { cwd: repo, input: codeChange });
    let output = "";
    try {
      execFileSync("python3", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], {
        cwd: repo,
        encoding: "utf8",
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toMatch(/[1-9]\d* failed/);
  });
});
