// SWE-bench-style task instances from artifacts: the fix is the reverse of the bug, the test patch
// restores the oracle tests (reverse of the weakening), test lists are JSON-encoded like SWE-bench's.
import type { BugArtifact } from "../ports/artifact.js";
import { artifactId } from "./artifact-id.js";
import { unwrapDiff } from "./diff-result.js";
import { reverseDiff } from "./diff-reverse.js";

export interface SweBenchInstance {
  instance_id: string;
  /** Repository or environment name, e.g. "owner/name" or an image name. */
  repo: string;
  /** Commit of the original state, when the environment is a git repository and it is known. */
  base_commit?: string;
  /** SWE-bench's commit for building the environment: the base commit here, when known. */
  environment_setup_commit?: string;
  /** The gold fix: reverse of bug_inject.diff. */
  patch: string;
  /** Restores the oracle tests: reverse of test_weaken.diff. */
  test_patch: string;
  problem_statement: string;
  hints_text: string;
  created_at: string;
  version: string;
  /** JSON-encoded list of test ids, as in SWE-bench. */
  FAIL_TO_PASS: string;
  /** JSON-encoded list of test ids, as in SWE-bench. */
  PASS_TO_PASS: string;
  /** Ours: how to run and parse the tests (SWE-bench keeps these in its harness). */
  test_script: string;
  test_parser: string;
  test_files: string[];
}

export interface SweBenchInput {
  artifact: BugArtifact;
  repo: string;
  /** Tests that fail with the bug and pass with the fix (a validation report's f2p). */
  failToPass: readonly string[];
  /** Tests that pass both ways (a validation report's p2p). */
  passToPass: readonly string[];
  baseCommit?: string;
  instanceId?: string;
  /** Defaults to a fixed text around the test patch. */
  problemStatement?: string;
  version?: string;
}

/** Fills a problem-statement template's {{test_patch}} with the diff that restores the tests. */
export function renderProblemStatement(template: string, testPatch: string): string {
  return template.replace("{{test_patch}}", testPatch.replace(/\n$/, ""));
}

/**
 * The instance for an artifact; `defaultStatement` writes the problem statement from the test patch when
 * the input brings none.
 */
export function sweBenchInstance(
  input: SweBenchInput,
  defaultStatement: (testPatch: string) => string,
): SweBenchInstance {
  const { artifact } = input;
  const id = artifactId(artifact);
  const testPatch = unwrapDiff(reverseDiff(artifact.testWeakenDiff), "test_weaken.diff");
  const instance: SweBenchInstance = {
    instance_id: input.instanceId ?? `${input.repo.replace(/[^A-Za-z0-9._-]+/g, "__")}-${id.slice(0, 12)}`,
    repo: input.repo,
    patch: unwrapDiff(reverseDiff(artifact.bugInjectDiff), "bug_inject.diff"),
    test_patch: testPatch,
    problem_statement: input.problemStatement ?? defaultStatement(testPatch),
    hints_text: "",
    created_at: artifact.meta.createdAt,
    version: input.version ?? "",
    FAIL_TO_PASS: JSON.stringify([...input.failToPass]),
    PASS_TO_PASS: JSON.stringify([...input.passToPass]),
    test_script: artifact.testScript,
    test_parser: artifact.testParser,
    test_files: [...artifact.testFiles],
  };
  if (input.baseCommit !== undefined) {
    instance.base_commit = input.baseCommit;
    instance.environment_setup_commit = input.baseCommit;
  }
  return instance;
}
