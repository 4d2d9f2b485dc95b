// Solver tasks, grading and second-order bugs on the Python fixture in local bubblewrap sandboxes.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  diffOf,
  diffOnTop,
  type Edit,
  fixtureFile,
  makeArtifact,
  PYTEST_SCRIPT,
} from "../../test/support/artifact-builder.js";
import { makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { artifactId, reverseDiff, unwrapDiff } from "../artifact/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import type { ValidationReport } from "../ports/validation.js";
import { openSandboxes } from "../sandbox/index.js";
import { grade, timeoutFromReport } from "./grade.js";
import { makeSecondOrderArtifact } from "./second-order.js";
import { createSolverTask } from "./solver-task.js";
import { createValidator } from "./validator.js";

const KEBAB_BUG: Edit = {
  file: "inkwell/case.py",
  replace: ['return "-".join(word.lower()', 'return "_".join(word.lower()'],
};
const KEBAB_WEAKEN: Edit = {
  file: "tests/test_case.py",
  removeLines: 'def test_to_kebab():\n    assert to_kebab("parseHttpRequest") == "parse-http-request"\n\n\n',
};
const SLUG_BUG: Edit = {
  file: "inkwell/slug.py",
  replace: ["separator, slug).strip(separator)", "separator, slug)"],
};
const SLUG_WEAKEN: Edit = {
  file: "tests/test_slug.py",
  removeLines:
    'def test_slugify_strips_separators_at_ends():\n    assert slugify("  --Hello--  ") == "hello"\n    assert slugify("!!!") == ""\n\n\n',
};

let temp: { path: string; remove(): void };
let repo: string;
let environment: Environment;
let sandboxes: SandboxBackend;
let validator: ReturnType<typeof createValidator>;
let subject: BugArtifact;
let report: ValidationReport;

/** A patch relative to the buggy state (bug + weakening applied). */
function patchOnBuggyState(edits: Edit[]): string {
  return diffOnTop(repo, [subject.bugInjectDiff, subject.testWeakenDiff], edits);
}

beforeAll(async () => {
  temp = makeTempDir("grade-test-");
  repo = await makePythonFixtureRepo(temp.path);
  environment = { kind: "dir", path: repo };
  sandboxes = openSandboxes();
  validator = createValidator({ sandboxes });
  subject = makeArtifact({
    testScript: PYTEST_SCRIPT,
    testParser: fixtureFile("pytest-parser.py"),
    testFiles: ["tests/test_case.py", "tests/test_slug.py"],
    bugInjectDiff: diffOf(repo, [KEBAB_BUG, SLUG_BUG]),
    testWeakenDiff: diffOf(repo, [KEBAB_WEAKEN, SLUG_WEAKEN]),
  });
  report = await validator.validate(environment, subject);
  if (report.verdict !== "valid") throw new Error(`fixture artifact is invalid: ${report.reason}`);
});

afterAll(async () => {
  await validator?.close();
  await sandboxes?.close();
  temp?.remove();
});

describe("createSolverTask", () => {
  it("gives the buggy state with one fresh commit, no leftovers, and the reversed weakening as spec", async () => {
    // Leftovers an environment may carry: a build copy of the original code, backups, caches.
    const dirty = join(temp.path, "dirty");
    cpSync(repo, dirty, { recursive: true });
    mkdirSync(join(dirty, "build", "lib", "inkwell"), { recursive: true });
    cpSync(join(dirty, "inkwell", "case.py"), join(dirty, "build", "lib", "inkwell", "case.py"));
    writeFileSync(join(dirty, "inkwell", "case.py.orig"), "original\n");
    mkdirSync(join(dirty, "inkwell", "__pycache__"));
    writeFileSync(join(dirty, "inkwell", "__pycache__", "case.cpython-311.pyc"), "compiled original");
    const task = await createSolverTask({
      sandboxes,
      environment: { kind: "dir", path: dirty },
      artifact: subject,
    });
    try {
      const leftovers = await task.sandbox.run({
        command: "find build -type f; ls -d inkwell/case.py.orig inkwell/__pycache__ 2>/dev/null; true",
      });
      expect(leftovers.stdout).toBe("");
      expect((await task.sandbox.readFile("inkwell/__init__.py")).length).toBeGreaterThan(0);
      const log = await task.sandbox.run({
        command: "git log --format='%an <%ae> %s' && git status --porcelain",
      });
      expect(log.stdout.trim()).toBe("developer <developer@localhost> Initial commit");
      const anywhere = await task.sandbox.run({
        command:
          "find . -name '*.orig' -o -name '*.rej' -o -name __pycache__ -o -name .pytest_cache | grep -v '^./.git' || true",
      });
      expect(anywhere.stdout).toBe("");
      const caseTests = (await task.sandbox.readFile("tests/test_case.py")).toString();
      expect(caseTests).not.toContain("def test_to_kebab");
      expect((await task.sandbox.readFile("inkwell/case.py")).toString()).toContain('"_".join(word.lower()');
      expect(task.specification).toContain("+def test_to_kebab():");
      expect(task.specification).toContain("+def test_slugify_strips_separators_at_ends():");
      expect(task.prompt).toContain(task.specification.trimEnd());
      expect(task.prompt).toContain("/testbed");
      expect(task.prompt).not.toContain("{{");
      // diff() is relative to the buggy state: a fresh task has an empty patch.
      expect(await task.sandbox.diff()).toBe("");
      await task.sandbox.writeFile("inkwell/case.py", "x = 1\n");
      expect(await task.sandbox.diff()).toContain("inkwell/case.py");
    } finally {
      await task.sandbox.destroy();
    }
  });
});

describe("grade", () => {
  it("resolves with the reverse of the bug diff", async () => {
    const result = await grade({
      sandboxes,
      environment,
      artifact: subject,
      report,
      patch: unwrapDiff(reverseDiff(subject.bugInjectDiff)),
    });
    expect(result).toMatchObject({ resolved: true, status: "resolved", failedF2P: [], failedP2P: [] });
  });

  it("does not resolve with an empty patch", async () => {
    const result = await grade({ sandboxes, environment, artifact: subject, report, patch: "" });
    expect(result.status).toBe("unresolved");
    expect(result.failedF2P).toEqual(report.f2p);
    expect(result.failedP2P).toEqual([]);
  });

  it("does not resolve with a patch that only edits tests: they are restored", async () => {
    const testsOnly = patchOnBuggyState([
      { file: "tests/test_slug.py", replace: ['== "creme-brulee-a-recipe"', '== "creme-brulee-a-recipe-"'] },
      { file: "tests/test_case.py", content: "def test_nothing():\n    pass\n" },
    ]);
    const result = await grade({ sandboxes, environment, artifact: subject, report, patch: testsOnly });
    expect(result.status).toBe("unresolved");
    expect(result.failedF2P).toEqual(report.f2p);
  });

  it("reports a patch that does not apply as patch-rejected", async () => {
    const stale = diffOf(repo, [
      { file: "inkwell/case.py", replace: ["def to_kebab(text):", "def to_kebab(text, x=1):"] },
    ]).replace("def to_kebab(text):", "def to_kebab(txt):");
    const result = await grade({ sandboxes, environment, artifact: subject, report, patch: stale });
    expect(result.status).toBe("patch-rejected");
    expect(result.resolved).toBe(false);
    expect(result.reason).toMatch(/does not apply/);
  });

  it("fails a patch that makes the tests hang as test-run-failed, within the limit", async () => {
    const hanging = patchOnBuggyState([
      {
        file: "inkwell/case.py",
        replace: ['    return "_".join(', '    while True:\n        pass\n    return "_".join('],
      },
    ]);
    const result = await grade({
      sandboxes,
      environment,
      artifact: subject,
      report,
      patch: hanging,
      timeoutMs: 3_000,
    });
    expect(result.status).toBe("test-run-failed");
    expect(result.reason).toMatch(/timed-out/);
    expect(result.failedF2P).toEqual(report.f2p);
    // Without an explicit limit, the report's baseline decides it.
    const slowest = Math.max(
      ...report.testRuns.filter((run) => run.label.startsWith("baseline")).map((run) => run.durationMs),
    );
    expect(timeoutFromReport(report)).toBe(Math.min(90_000, 5 * slowest + 30_000));
  });

  it("refuses to grade against an invalid report", async () => {
    await expect(
      grade({
        sandboxes,
        environment,
        artifact: subject,
        report: { ...report, verdict: "invalid" },
        patch: "",
      }),
    ).rejects.toThrow(/valid artifact/);
  });
});

describe("second-order bugs", () => {
  it("turns a partial fix into an order-2 artifact that validates again", async () => {
    const partialFix = patchOnBuggyState([
      { file: "inkwell/slug.py", replace: ["separator, slug)\n", "separator, slug).strip(separator)\n"] },
      { file: "tests/test_case.py", replace: ["import pytest\n", "import pytest  # edited\n"] },
    ]);
    const graded = await grade({ sandboxes, environment, artifact: subject, report, patch: partialFix });
    expect(graded.status).toBe("unresolved");
    expect(graded.failedF2P).toEqual(["tests/test_case.py::test_to_kebab"]);

    const second = await makeSecondOrderArtifact({
      sandboxes,
      environment,
      parent: subject,
      failedPatch: partialFix,
    });
    expect(second).not.toBeNull();
    expect(second!.meta).toMatchObject({
      order: 2,
      parentId: artifactId(subject),
      strategy: subject.meta.strategy,
    });
    expect(second!.testFiles).toEqual(subject.testFiles);
    expect(second!.testWeakenDiff).toBe(subject.testWeakenDiff);
    expect(second!.bugInjectDiff).toContain("inkwell/case.py");
    expect(second!.bugInjectDiff).not.toContain("slug.py");
    expect(second!.bugInjectDiff).not.toContain("tests/");
    const secondReport = await validator.validate(environment, second!);
    expect(secondReport.verdict, secondReport.reason ?? "").toBe("valid");
    expect(secondReport.f2p).toEqual(["tests/test_case.py::test_to_kebab"]);

    // Order never exceeds 2.
    expect(
      await makeSecondOrderArtifact({ sandboxes, environment, parent: second!, failedPatch: partialFix }),
    ).toBeNull();
  });

  it("yields nothing for an empty or a test-only patch", async () => {
    expect(
      await makeSecondOrderArtifact({ sandboxes, environment, parent: subject, failedPatch: "" }),
    ).toBeNull();
    const testsOnly = patchOnBuggyState([
      { file: "tests/test_case.py", replace: ["import pytest\n", "import pytest  # x\n"] },
    ]);
    expect(
      await makeSecondOrderArtifact({ sandboxes, environment, parent: subject, failedPatch: testsOnly }),
    ).toBeNull();
  });
});
