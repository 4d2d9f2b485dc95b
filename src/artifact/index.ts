// The bug artifact format: files and ids, diff parsing, reversing, splitting and safety, and
// SWE-bench-style instances. Pure code: reading and writing artifact directories is src/artifact-io/.
export {
  ALTERNATIVE_FILE_NAMES,
  ARTIFACT_FILE_NAMES,
  type ArtifactFileName,
  type ArtifactSizeLimits,
  DEFAULT_SIZE_LIMITS,
  limitFor,
  META_FILE_NAME,
  parseMeta,
  parseTestFiles,
  serializeArtifactFiles,
} from "./artifact-files.js";
export { artifactId } from "./artifact-id.js";
export {
  type ArtifactSafetyOptions,
  type ArtifactSafetyResult,
  checkArtifactSafety,
} from "./artifact-safety.js";
export {
  type BinaryPatch,
  type DiffLine,
  type DiffLineKind,
  type FileChange,
  type FileDiff,
  type Hunk,
  type ParseDiffResult,
  type PathMention,
  parseDiff,
} from "./diff-parse.js";
export { type DiffResult, unwrapDiff } from "./diff-result.js";
export { reverseDiff } from "./diff-reverse.js";
export {
  checkDiffSafety,
  type DiffSafetyLimits,
  type DiffSafetyOptions,
  type DiffSafetyResult,
  type DiffViolation,
  type DiffViolationRule,
  type TreeSymlinks,
} from "./diff-safety.js";
export {
  type DiffFilesResult,
  type DiffPart,
  diffFiles,
  type SplitDiffResult,
  splitDiffByFile,
} from "./diff-split.js";
export { semanticKey } from "./semantic-key.js";
export {
  renderProblemStatement,
  type SweBenchInput,
  type SweBenchInstance,
  sweBenchInstance,
} from "./swebench.js";
