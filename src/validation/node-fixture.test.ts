// Validation and grading on the JavaScript fixture (node:test, TAP) with the known artifact and its broken
// variants from test/support/fixture-artifacts.ts, in local bubblewrap sandboxes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NODE_FIXTURE_EXPECTATION,
  nodeFixtureArtifact,
  withAbsolutePath,
  withEmptyParser,
  withExtraIrrelevantFile,
  withNonJsonParser,
  withSymlinkEscape,
  withUnrelatedWeakening,
  withWeakeningTouchingCode,
} from "../../test/support/fixture-artifacts.js";
import { makeNodeFixtureRepo } from "../../test/support/fixture-repos.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { reverseDiff, unwrapDiff } from "../artifact/index.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment, SandboxBackend } from "../ports/sandbox.js";
import type { CheckName } from "../ports/validation.js";
import { openSandboxes } from "../sandbox/index.js";
import { grade } from "./grade.js";
import { createValidator } from "./validator.js";

let temp: { path: string; remove(): void };
let environment: Environment;
let sandboxes: SandboxBackend;
let validator: ReturnType<typeof createValidator>;
const valid = nodeFixtureArtifact();

beforeAll(async () => {
  temp = makeTempDir("node-fixture-test-");
  environment = { kind: "dir", path: await makeNodeFixtureRepo(temp.path) };
  sandboxes = openSandboxes();
  validator = createValidator({ sandboxes });
});

afterAll(async () => {
  await validator?.close();
  await sandboxes?.close();
  temp?.remove();
});

describe("the JavaScript fixture", () => {
  it("accepts the known artifact with the expected F2P tests and file contributions, and grades its fix", async () => {
    const report = await validator.validate(environment, valid);
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.f2p).toEqual([...NODE_FIXTURE_EXPECTATION.f2p].sort());
    expect(report.fileContributions).toEqual(NODE_FIXTURE_EXPECTATION.fileContributions);
    expect(report.p2p.length + report.f2p.length + report.flaky.length).toBeLessThanOrEqual(
      NODE_FIXTURE_EXPECTATION.baselineTests,
    );
    const fixed = await grade({
      sandboxes,
      environment,
      artifact: valid,
      report,
      patch: unwrapDiff(reverseDiff(valid.bugInjectDiff)),
    });
    expect(fixed.status, fixed.reason ?? "").toBe("resolved");
    const unfixed = await grade({ sandboxes, environment, artifact: valid, report, patch: "" });
    expect(unfixed.status).toBe("unresolved");
    expect(unfixed.failedF2P).toEqual(report.f2p);
  });

  it.each([
    ["an irrelevant extra file in the bug", withExtraIrrelevantFile, "inverse-mutation", /NOTES\.txt/],
    ["a weakening of an unrelated test", withUnrelatedWeakening, "weakening", /hides nothing/],
    ["a weakening that touches code", withWeakeningTouchingCode, "shape", /weakening_helper\.txt/],
    ["a symlink out of the repository", withSymlinkEscape, "shape", /symlink/],
    ["an absolute path", withAbsolutePath, "shape", /absolute|cannot be read/],
    ["a parser printing text", withNonJsonParser, "parser", /not-json/],
    ["a parser printing {}", withEmptyParser, "parser", /empty/],
  ] as [string, (artifact: BugArtifact) => BugArtifact, CheckName, RegExp][])(
    "rejects %s",
    async (_name, breakIt, check, reason) => {
      const report = await validator.validate(environment, breakIt(valid));
      expect(report.failedCheck, report.reason ?? "").toBe(check);
      expect(report.reason).toMatch(reason);
    },
  );
});
