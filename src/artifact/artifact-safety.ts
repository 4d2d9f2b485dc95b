// Static checks of a whole artifact: size caps per file, safe oracle paths, and each diff's safety in
// its role (the bug stays off oracle files, the weakening stays on them).
import type { BugArtifact } from "../ports/artifact.js";
import { type ArtifactSizeLimits, DEFAULT_SIZE_LIMITS, serializeArtifactFiles } from "./artifact-files.js";
import {
  checkDiffSafety,
  type DiffSafetyLimits,
  type DiffViolation,
  type TreeSymlinks,
  unsafePath,
} from "./diff-safety.js";

export interface ArtifactSafetyOptions {
  symlinks?: TreeSymlinks;
  sizeLimits?: Partial<ArtifactSizeLimits>;
  diffLimits?: Partial<DiffSafetyLimits>;
}

export type ArtifactSafetyResult =
  | { status: "safe"; bugFiles: string[]; weakenFiles: string[] }
  | { status: "unsafe"; violations: DiffViolation[] };

export function checkArtifactSafety(
  artifact: BugArtifact,
  options: ArtifactSafetyOptions = {},
): ArtifactSafetyResult {
  const sizes = { ...DEFAULT_SIZE_LIMITS, ...options.sizeLimits };
  const files = serializeArtifactFiles(artifact);
  const violations: DiffViolation[] = [];
  const caps: [keyof typeof files, number][] = [
    ["test_script.sh", sizes.testScript],
    ["test_files.txt", sizes.testFiles],
    ["test_parser.py", sizes.testParser],
    ["bug_inject.diff", sizes.diff],
    ["test_weaken.diff", sizes.diff],
  ];
  for (const [name, cap] of caps) {
    const size = Buffer.byteLength(files[name]);
    if (size > cap) {
      violations.push({
        rule: "too-large",
        artifactFile: name,
        line: 1,
        path: null,
        message: `${name} is ${size} bytes, over the cap of ${cap}`,
      });
    }
  }
  if (violations.length > 0) return { status: "unsafe", violations };

  artifact.testFiles.forEach((path, index) => {
    const problem = unsafePath(path);
    if (problem) {
      violations.push({
        rule: problem.rule,
        artifactFile: "test_files.txt",
        line: index + 1,
        path,
        message: `test_files.txt line ${index + 1}: ${path}: ${problem.reason}`,
      });
    }
  });
  const common = { symlinks: options.symlinks, limits: { maxDiffBytes: sizes.diff, ...options.diffLimits } };
  const bug = checkDiffSafety(artifact.bugInjectDiff, {
    ...common,
    artifactFile: "bug_inject.diff",
    role: { kind: "code", oracleFiles: artifact.testFiles },
  });
  const weaken = checkDiffSafety(artifact.testWeakenDiff, {
    ...common,
    artifactFile: "test_weaken.diff",
    role: { kind: "oracle", oracleFiles: artifact.testFiles },
  });
  if (bug.status === "unsafe") violations.push(...bug.violations);
  if (weaken.status === "unsafe") violations.push(...weaken.violations);
  if (violations.length > 0 || bug.status !== "safe" || weaken.status !== "safe") {
    return { status: "unsafe", violations };
  }
  return { status: "safe", bugFiles: bug.files, weakenFiles: weaken.files };
}
