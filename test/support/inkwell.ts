// The Python fixture (inkwell, pytest) as the validator's tests use it: the repository (with a symlink that
// leaves it, for the shape check) in local sandboxes, edits that make a valid artifact, and the assertion that
// a report fails exactly one check.
import { expect } from "vitest";
import type { BugArtifact } from "../../src/ports/artifact.js";
import type { Environment, SandboxBackend } from "../../src/ports/sandbox.js";
import type { CheckName, ValidationReport } from "../../src/ports/validation.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import {
  commitEscapingSymlink,
  diffOf,
  type Edit,
  fixtureFile,
  makeArtifact,
  PYTEST_SCRIPT,
} from "./artifact-builder.js";
import { makePythonFixtureRepo } from "./fixture-repos.js";
import { makeTempDir } from "./tmp.js";

export const KEBAB_BUG = {
  file: "inkwell/case.py",
  replace: ['return "-".join(word.lower()', 'return "_".join(word.lower()'],
} satisfies Edit;
export const KEBAB_WEAKEN = {
  file: "tests/test_case.py",
  removeLines: 'def test_to_kebab():\n    assert to_kebab("parseHttpRequest") == "parse-http-request"\n\n\n',
} satisfies Edit;
export const SLUG_BUG = {
  file: "inkwell/slug.py",
  replace: ["separator, slug).strip(separator)", "separator, slug)"],
} satisfies Edit;
export const SLUG_WEAKEN = {
  file: "tests/test_slug.py",
  removeLines:
    'def test_slugify_strips_separators_at_ends():\n    assert slugify("  --Hello--  ") == "hello"\n    assert slugify("!!!") == ""\n\n\n',
} satisfies Edit;

export interface Inkwell {
  repo: string;
  environment: Environment;
  sandboxes: SandboxBackend;
  /** An artifact of the fixture with the pytest script and parser, its diffs made from `bug` and `weaken`. */
  artifact(bug: Edit[], weaken: Edit[], overrides?: Partial<BugArtifact>): BugArtifact;
  close(): Promise<void>;
}

export async function openInkwell(prefix: string): Promise<Inkwell> {
  const temp = makeTempDir(prefix);
  const repo = await makePythonFixtureRepo(temp.path);
  // A symlink that leaves the repository, for the symlink-escape check; pytest never looks at it.
  commitEscapingSymlink(repo, "outside", "/opt/elsewhere");
  const parser = fixtureFile("pytest-parser.py");
  const sandboxes = openSandboxes();
  return {
    repo,
    environment: { kind: "dir", path: repo },
    sandboxes,
    artifact: (bug, weaken, overrides = {}) =>
      makeArtifact({
        testScript: PYTEST_SCRIPT,
        testParser: parser,
        testFiles: ["tests/test_case.py", "tests/test_slug.py"],
        bugInjectDiff: diffOf(repo, bug),
        testWeakenDiff: diffOf(repo, weaken),
        ...overrides,
      }),
    async close() {
      await sandboxes.close();
      temp.remove();
    },
  };
}

export function expectFailure(report: ValidationReport, check: CheckName, reason: RegExp): void {
  expect(report.verdict, JSON.stringify(report.checks, null, 1)).toBe("invalid");
  expect(report.failedCheck).toBe(check);
  expect(report.reason).toMatch(reason);
  const index = report.checks.findIndex((entry) => entry.check === check);
  expect(report.checks.slice(0, index).every((entry) => entry.verdict === "passed")).toBe(true);
  expect(report.checks.slice(index + 1).every((entry) => entry.verdict === "not-run")).toBe(true);
}
