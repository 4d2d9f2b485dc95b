// Exports of what a run produced: rollout records for trainers, SWE-bench-style tasks, artifact directories.
export { exportArtifacts } from "./artifacts.js";
export {
  exportRollouts,
  type RolloutExportResult,
  type RolloutManifest,
  readRolloutStep,
  rolloutRecordProblems,
  stepDirectoryName,
} from "./rollouts.js";
export { exportSweBench, type SweBenchLine, sweBenchLines } from "./swebench.js";
