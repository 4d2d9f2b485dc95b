// The orchestrator of self-play: runs, events, summary and exports of what a run produced.
export type { SelfPlayEvent, SelfPlayEventType } from "./events.js";
export {
  exportArtifacts,
  exportRollouts,
  exportSft,
  exportSftTokens,
  exportSweBench,
  IGNORED_LABEL,
  type RolloutExportResult,
  type RolloutManifest,
  readRolloutStep,
  rolloutRecordProblems,
  type SftEpisode,
  type SftExportResult,
  type SftFilters,
  type SftLine,
  SftTokenizer,
  type SftTokenLine,
  type SweBenchLine,
  selectSftLines,
  sftEpisodes,
  sftLine,
  sweBenchLines,
} from "./exports/index.js";
export { runInvariantViolations } from "./invariants.js";
export { type OrchestratorOptions, type OrchestratorResult, orchestrate } from "./orchestrator.js";
export { type RunSelfPlayOptions, runSelfPlay, type SelfPlayResult } from "./run.js";
export { type OpenedRun, openRun, type RunToOpen } from "./run-lifecycle.js";
export { holdingSandbox, limitSandboxes } from "./sandbox-limit.js";
export { chooseStrategy, deriveSeed } from "./seeds.js";
export { NextSteps, type StepChoice } from "./step-choice.js";
export {
  createStepRunner,
  type StepRequest,
  type StepRunner,
  type StepRunnerDeps,
  type StepRunOptions,
  type StepRunResult,
} from "./step-runner.js";
export { configuredWeights, learnabilityEnabled } from "./strategy-weights.js";
export {
  formatSummary,
  formatTrainable,
  type RunSummary,
  solveRateHistogram,
  summarizeRun,
  whyNoArtifacts,
  whyNoRollouts,
} from "./summary.js";
