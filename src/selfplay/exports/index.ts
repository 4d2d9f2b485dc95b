// Exports of what a run produced: rollout records for trainers, SWE-bench-style tasks, artifact directories,
// supervised fine-tuning lines (messages, or token ids through the model's chat template).
export { exportArtifacts } from "./artifacts.js";
export {
  exportRollouts,
  type RolloutExportResult,
  type RolloutManifest,
  readRolloutStep,
  rolloutRecordProblems,
  stepDirectoryName,
} from "./rollouts.js";
export { exportSft, exportSftTokens, type SftExportResult, sftEpisodes } from "./sft.js";
export {
  type SftEpisode,
  type SftFilters,
  type SftLine,
  type SftMessage,
  type SftMeta,
  type SftSelection,
  type SftTool,
  type SftToolCall,
  selectSftLines,
  sftLine,
} from "./sft-lines.js";
export { type ChatRenderer, IGNORED_LABEL, SftTokenizer, type SftTokenLine } from "./sft-tokens.js";
export { exportSweBench, type SweBenchLine, sweBenchLines } from "./swebench.js";
