// The consistency checks on the Python fixture (pytest) in local bubblewrap sandboxes: one valid artifact
// per shape of bug, and for every check an artifact that fails exactly that check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffOf, type Edit, PYTEST_SCRIPT } from "../../test/support/artifact-builder.js";
import {
  expectFailure,
  type Inkwell,
  KEBAB_BUG,
  KEBAB_WEAKEN,
  openInkwell,
  SLUG_BUG,
  SLUG_WEAKEN,
} from "../../test/support/inkwell.js";
import { artifactId } from "../artifact/index.js";
import { codeModelTestLocator } from "../builtin/index.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import { createValidator } from "./validator.js";

let inkwell: Inkwell;
let repo: string;
let environment: Environment;
let sandboxes: SandboxBackend;
let artifact: Inkwell["artifact"];
let validator: ReturnType<typeof createValidator>;

beforeAll(async () => {
  inkwell = await openInkwell("validator-test-");
  ({ repo, environment, sandboxes, artifact } = inkwell);
  validator = createValidator({ sandboxes, concurrency: 4, testLocator: codeModelTestLocator });
});

afterAll(async () => {
  await validator?.close();
  await inkwell?.close();
});

describe("a valid artifact", () => {
  it("passes every check with a one-file bug, reusing the baseline for the inverse mutation", async () => {
    const valid = artifact([KEBAB_BUG], [KEBAB_WEAKEN]);
    const report = await validator.validate(environment, valid);
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.failedCheck).toBeNull();
    expect(report.checks.map((check) => check.verdict)).toEqual(Array(8).fill("passed"));
    expect(report.f2p).toEqual(["tests/test_case.py::test_to_kebab"]);
    expect(report.p2p).toHaveLength(91);
    expect(report.flaky).toEqual([]);
    expect(report.fileContributions).toEqual([
      { file: "inkwell/case.py", restoredTests: ["tests/test_case.py::test_to_kebab"] },
    ]);
    const labels = report.testRuns.map((run) => `${run.label}${run.cached ? " (cached)" : ""}`).sort();
    expect(labels).toEqual([
      "baseline#1",
      "baseline#2",
      "bug",
      "bug+weaken",
      "inverse:inkwell/case.py (cached)",
    ]);
    expect(report.criticalPathMs).toBeGreaterThan(0);
    expect(report.wallTimeMs).toBeGreaterThanOrEqual(report.criticalPathMs);
    expect(report.artifactId).toBe(artifactId(valid));
    // The whole report is cached by (environment, artifact id).
    expect(await validator.validate(environment, valid)).toBe(report);
  });

  it("runs one inverse mutation per file of a two-file bug, with the baseline from the cache", async () => {
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG, SLUG_BUG], [KEBAB_WEAKEN, SLUG_WEAKEN]),
    );
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.f2p).toEqual([
      "tests/test_case.py::test_to_kebab",
      "tests/test_slug.py::test_slugify_collapses_separators",
      "tests/test_slug.py::test_slugify_strips_separators_at_ends",
      "tests/test_slug.py::test_unique_slug_of_punctuation_only",
    ]);
    expect(report.fileContributions).toEqual([
      { file: "inkwell/case.py", restoredTests: ["tests/test_case.py::test_to_kebab"] },
      {
        file: "inkwell/slug.py",
        restoredTests: [
          "tests/test_slug.py::test_slugify_collapses_separators",
          "tests/test_slug.py::test_slugify_strips_separators_at_ends",
          "tests/test_slug.py::test_unique_slug_of_punctuation_only",
        ],
      },
    ]);
    const baselineRuns = report.testRuns.filter((run) => run.label.startsWith("baseline"));
    expect(baselineRuns.every((run) => run.cached)).toBe(true);
    expect(report.testRuns.filter((run) => run.label.startsWith("inverse:") && !run.cached)).toHaveLength(2);
  });
});

describe("each check rejects what it is for", () => {
  it("shape: a bug diff with a path that climbs out of the repository", async () => {
    const diff = diffOf(repo, [KEBAB_BUG]).replaceAll("inkwell/case.py", "../inkwell/case.py");
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { bugInjectDiff: diff }),
    );
    expectFailure(report, "shape", /\.\./);
    expect(report.testRuns).toEqual([]);
  });

  it("shape: a bug diff that edits an oracle test file", async () => {
    const report = await validator.validate(environment, artifact([KEBAB_BUG, KEBAB_WEAKEN], [SLUG_WEAKEN]));
    expectFailure(report, "shape", /tests\/test_case\.py/);
  });

  it("shape: a weakening outside the oracle files", async () => {
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testFiles: ["tests/test_slug.py"] }),
    );
    expectFailure(report, "shape", /tests\/test_case\.py: the weakening may only touch oracle test files/);
  });

  it("shape: a diff through a symlink that leaves the repository", async () => {
    const escaping = diffOf(repo, [KEBAB_BUG]).replaceAll("inkwell/case.py", "outside/case.py");
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { bugInjectDiff: escaping }),
    );
    expectFailure(
      report,
      "shape",
      /outside\/case\.py: goes through the symlink outside -> "\/opt\/elsewhere" out of the repository/,
    );
  });

  it("shape: a bug diff that does not apply", async () => {
    const stale = diffOf(repo, [KEBAB_BUG]).replace('"_".join', '"+".join').replace('"-".join', '"*".join');
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { bugInjectDiff: stale }),
    );
    expectFailure(report, "shape", /bug_inject\.diff does not apply/);
  });

  it("oracle-files: a listed test file that does not exist", async () => {
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testFiles: ["tests/test_case.py", "tests/test_nothing.py"] }),
    );
    expectFailure(report, "oracle-files", /tests\/test_nothing\.py/);
  });

  it("parser: a parser that crashes, and one that answers differently on the same output", async () => {
    const crashing = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testParser: "import sys\nraise SystemExit('cannot parse')\n" }),
    );
    expectFailure(crashing, "parser", /parser-crashed: test_parser.py exited with code 1: cannot parse/);
    const random = [
      "import json, random, sys",
      "ids = [line.split()[1] for line in sys.stdin if line.startswith('PASSED ')]",
      "print(json.dumps({i: random.choice(['passed', 'failed']) for i in ids}))",
      "",
    ].join("\n");
    const nondeterministic = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testParser: random }),
    );
    expectFailure(nondeterministic, "parser", /different answers on the same output/);
  });

  it("parser: a hanging test script times out with a clear reason", async () => {
    const impatient = createValidator({ sandboxes, thresholds: { testTimeoutMs: 2_000 } });
    try {
      const startedAt = Date.now();
      const report = await impatient.validate(
        environment,
        artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testScript: "#!/bin/bash\necho starting\nsleep 600\n" }),
      );
      expectFailure(report, "parser", /timed out/);
      expect(Date.now() - startedAt).toBeLessThan(30_000);
    } finally {
      await impatient.close();
    }
  });

  it("baseline: too few passing tests, and flaky tests are reported and left out", async () => {
    // Each run writes one extra test with a fresh random name: present in one baseline run only, so flaky.
    // (It is a real test the runner counts: a result line printed beside the runner would be a lie.)
    const randomTest = `printf 'def test_%s():\\n    pass\\n' "$(tr -d - < /proc/sys/kernel/random/uuid)" > tests/test_random.py\n`;
    const script = `#!/bin/bash\n${randomTest}${PYTEST_SCRIPT}`;
    const few = `${PYTEST_SCRIPT.replace(" tests", " tests/test_case.py -k kebab")}echo "PASSED tests/test_random.py::test_$(cat /proc/sys/kernel/random/uuid)"\n`;
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testScript: few }),
    );
    expectFailure(report, "baseline", /passes 1 test\(s\) in every baseline run; at least 10/);
    expect(report.flaky).toHaveLength(2);
    const flakyButValid = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testScript: script }),
    );
    expect(flakyButValid.verdict, flakyButValid.reason ?? "").toBe("valid");
    expect(flakyButValid.flaky).toHaveLength(2);
    expect(flakyButValid.p2p.some((id) => id.startsWith("tests/test_random.py"))).toBe(false);
  });

  it("scope: fewer changed files than required", async () => {
    const strict = createValidator({ sandboxes, thresholds: { minChangedFiles: 2 } });
    try {
      const report = await strict.validate(environment, artifact([KEBAB_BUG], [KEBAB_WEAKEN]));
      expectFailure(report, "scope", /changes 1 file\(s\); at least 2/);
    } finally {
      await strict.close();
    }
  });

  it("baseline: a parser that prints passed for everything is caught by the failing canary", async () => {
    const allPassed = [
      "import json, re, sys",
      "ids = [m.group(1) for m in (re.match(r'^(?:PASSED|FAILED|ERROR) (\\S+)', l) for l in sys.stdin) if m]",
      "print(json.dumps({i: 'passed' for i in ids}))",
      "",
    ].join("\n");
    const report = await validator.validate(
      environment,
      artifact([KEBAB_BUG], [KEBAB_WEAKEN], { testParser: allPassed }),
    );
    expectFailure(
      report,
      "baseline",
      /^the test run baseline#1 is tampered: the canary test planted to fail in tests\/test_\w+\.py was reported passed/,
    );
    expect(report.checks.find((check) => check.check === "baseline")?.evidence).toMatchObject({
      tampered: true,
    });
  });

  it("bug: a bug that breaks every test leaves P2P empty", async () => {
    const syntaxError: Edit = {
      file: "inkwell/__init__.py",
      replace: ["from inkwell import stats", "from inkwell import stats\ndef broken(:"],
    };
    const report = await validator.validate(environment, artifact([syntaxError], [KEBAB_WEAKEN]));
    expectFailure(report, "bug", /no baseline-passing test passes any more/);
    expect(report.p2p).toEqual([]);
  });

  it("bug: a bug that makes a test hang times out after a limit derived from the cached baseline", async () => {
    const derived = createValidator({ sandboxes, runTimeout: { factor: 2, fixedMs: 3_000 } });
    try {
      await derived.validate(environment, artifact([KEBAB_BUG], [KEBAB_WEAKEN]));
      const hanging: Edit = {
        file: "inkwell/case.py",
        replace: ['    return "-".join(', '    while True:\n        pass\n    return "-".join('],
      };
      const startedAt = Date.now();
      const report = await derived.validate(environment, artifact([hanging], [KEBAB_WEAKEN]));
      expectFailure(report, "bug", /timed-out/);
      expect(Date.now() - startedAt).toBeLessThan(45_000);
    } finally {
      await derived.close();
    }
  });

  it("weakening: a test change that hides nothing", async () => {
    const cosmetic: Edit = {
      file: "tests/test_case.py",
      replace: ["import pytest\n", "import pytest  # noqa\n"],
    };
    const report = await validator.validate(environment, artifact([KEBAB_BUG], [cosmetic]));
    expectFailure(report, "weakening", /all 1 F2P test\(s\) still fail/);
  });

  it("weakening: one that also removes a test the bug does not break", async () => {
    const alsoConstant: Edit = {
      file: "tests/test_case.py",
      transform: (text) =>
        text.replace(KEBAB_WEAKEN.removeLines, "").replace(/def test_to_constant\(\):\n( {4}.*\n)+\n\n/, ""),
    };
    const report = await validator.validate(environment, artifact([KEBAB_BUG], [alsoConstant]));
    expectFailure(
      report,
      "weakening",
      /1 P2P test\(s\) the bug does not break are missing: tests\/test_case\.py::test_to_constant;/,
    );
    const evidence = report.checks.find((entry) => entry.check === "weakening")?.evidence;
    expect(evidence).toMatchObject({
      hidden: ["tests/test_case.py::test_to_kebab"],
      missingP2p: ["tests/test_case.py::test_to_constant"],
      uncollectedFiles: [],
    });
  });

  it("weakening: one that also changes a P2P test, which still passes", async () => {
    const alsoLoosened: Edit = {
      file: "tests/test_case.py",
      transform: (text) =>
        text
          .replace(KEBAB_WEAKEN.removeLines, "")
          .replace('assert to_constant("max retries") == "MAX_RETRIES"', 'assert to_constant("max retries")'),
    };
    const report = await validator.validate(environment, artifact([KEBAB_BUG], [alsoLoosened]));
    expectFailure(
      report,
      "weakening",
      /edits 1 P2P test\(s\) the bug does not break: test_to_constant in tests\/test_case\.py \(tests\/test_case\.py::test_to_constant; hunk @@ -\d+,\d+ \+\d+,\d+ @@/,
    );
    const evidence = report.checks.find((entry) => entry.check === "weakening")?.evidence;
    expect(evidence).toMatchObject({
      hidden: ["tests/test_case.py::test_to_kebab"],
      touchedP2p: [{ file: "tests/test_case.py", test: "test_to_constant" }],
    });
    // Without the extra change the same weakening is valid, and says which F2P test it edited.
    const valid = await validator.validate(environment, artifact([KEBAB_BUG], [KEBAB_WEAKEN]));
    expect(valid.verdict).toBe("valid");
    expect(valid.checks.find((entry) => entry.check === "weakening")?.evidence).toMatchObject({
      touchedF2pDefinitions: 1,
    });
  });

  it("weakening: one that leaves the oracle file unparseable (an emptied block)", async () => {
    const emptied: Edit = {
      file: "tests/test_case.py",
      transform: (text) => text.replace(KEBAB_WEAKEN.removeLines, "if True:\n    # the test was here\n\n\n"),
    };
    const report = await validator.validate(environment, artifact([KEBAB_BUG], [emptied]));
    expectFailure(
      report,
      "weakening",
      /the weakened oracle file\(s\) tests\/test_case\.py no longer parse or collect/,
    );
    const evidence = report.checks.find((entry) => entry.check === "weakening")?.evidence as {
      missingP2p: string[];
    };
    expect(evidence.missingP2p).toContain("tests/test_case.py::test_to_constant");
  });

  it("inverse-mutation: an irrelevant extra file in the bug diff", async () => {
    const irrelevant: Edit = { file: "inkwell/wrap.py", replace: ['"""', '"""Wrapping.\n\n'] };
    const report = await validator.validate(environment, artifact([KEBAB_BUG, irrelevant], [KEBAB_WEAKEN]));
    expectFailure(report, "inverse-mutation", /inkwell\/wrap\.py/);
    expect(report.fileContributions).toContainEqual({ file: "inkwell/wrap.py", restoredTests: [] });
  });
});
