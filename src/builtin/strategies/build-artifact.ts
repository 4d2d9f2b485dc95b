// A screened candidate as an artifact: the bug diff and the weakening diff, read from the sandbox with
// both applied and restored right after.
import type { BugArtifact, Difficulty } from "../../ports/artifact.js";
import type { ProposeRequest } from "../../ports/policy.js";
import { weakenTests } from "../weakening/weaken-tests.js";
import { type Candidate, candidateFiles } from "./candidate.js";
import { filterDiff } from "./diff-sections.js";
import type { EnvironmentFacts } from "./environment-facts.js";
import { applyCandidate, dropBytecode } from "./screening.js";

interface BuiltArtifact {
  artifact: BugArtifact;
  /** Tests the weakening removed. */
  hidden: string[];
  /** Broken tests the weakening could not find in the test files. */
  unlocated: string[];
}

/** The artifact of a candidate of `difficulty` that breaks `broken`; null when no test was located or no diff remains. */
export async function buildArtifact(
  request: ProposeRequest,
  facts: EnvironmentFacts,
  candidate: Candidate,
  broken: readonly string[],
  policyVersion: string,
  difficulty: Difficulty,
): Promise<BuiltArtifact | null> {
  const { sandbox } = request;
  const weakening = await weakenTests({
    brokenTests: broken,
    framework: facts.discovery.framework,
    testFiles: facts.codeBase.tests,
  });
  if (weakening.files.length === 0) return null;
  const applied = await applyCandidate(sandbox, candidate);
  if (!applied) return null;
  let diff: string;
  try {
    for (const file of weakening.files) await sandbox.writeFile(file.file, file.changed);
    diff = await sandbox.diff();
  } finally {
    for (const file of weakening.files) await sandbox.writeFile(file.file, file.original);
    await dropBytecode(
      sandbox,
      weakening.files.map((file) => file.file),
    );
    await applied.restore();
  }
  const bugFiles = new Set(candidateFiles(candidate));
  const weakenedFiles = new Set(weakening.files.map((file) => file.file));
  const bugInjectDiff = filterDiff(diff, (path) => bugFiles.has(path));
  const testWeakenDiff = filterDiff(diff, (path) => weakenedFiles.has(path));
  if (bugInjectDiff === "" || testWeakenDiff === "") return null;
  return {
    artifact: {
      testScript: facts.discovery.testScript,
      testFiles: [...facts.discovery.testFiles],
      testParser: facts.discovery.testParser,
      bugInjectDiff,
      testWeakenDiff,
      meta: {
        environment: request.environmentName,
        strategy: request.strategy,
        order: 1,
        parentId: null,
        policy: `builtin@${policyVersion}`,
        createdAt: new Date().toISOString(),
        seed: request.seed,
        difficulty,
      },
    },
    hidden: weakening.removed,
    unlocated: weakening.unlocated,
  };
}
