// The library's public API (package.json `main`/`exports`): the ports a user implements or calls, the
// self-play entry point and its configuration, the policies, validation and grading, the artifact
// format and the export writers. The `swe-selfplay` command is built from the same pieces (src/cli/).

// Policies: the built-in offline one and the agent over any OpenAI-compatible server.
export { type AgentPolicyOptions, createAgentPolicy } from "./agent/index.js";
// Artifacts: the five-file format, ids, diffs, safety, SWE-bench instances; directories on disk.
export {
  ARTIFACT_FILE_NAMES,
  type ArtifactFileName,
  artifactId,
  checkArtifactSafety,
  checkDiffSafety,
  type DiffPart,
  parseDiff,
  reverseDiff,
  type SweBenchInput,
  type SweBenchInstance,
  semanticKey,
  splitDiffByFile,
} from "./artifact/index.js";
export {
  type ReadArtifactOptions,
  readArtifactDir,
  toSweBenchInstance,
  writeArtifactDir,
} from "./artifact-io/index.js";
export { type BuiltinPolicyOptions, createBuiltinPolicy } from "./builtin/index.js";
// Self-play with the adapters a configuration names (store, sandboxes, policies), as the `run` command does.
export { type ConfiguredRunOptions, runConfiguredSelfPlay } from "./compose/index.js";
// Configuration: one schema that is also the type, loaded from YAML plus overrides.
export {
  configSchema,
  type EnvironmentConfig,
  type LoadConfigOptions,
  loadConfig,
  type PolicyConfig,
  parseConfig,
  type SelfPlayConfig,
  type SelfPlayConfigInput,
} from "./config/index.js";
export { errorMessage, InfrastructureError, InputError, SweSelfplayError } from "./errors.js";
// Model clients that record exact token ids and logprobs.
export {
  createModelClient,
  createTitoClient,
  type ModelClientOptions,
  type TitoClientOptions,
} from "./model/index.js";
// Ports: Policy, Sandbox/SandboxBackend, ModelClient, the artifact, test-run and validation vocabulary,
// the rollout.v1 sample.
export * from "./ports/index.js";
// Sandboxes: directories in bubblewrap, images in Docker, behind one router.
export {
  type ConfiguredBackend,
  createLocalBackend,
  type LocalBackendOptions,
  type OpenSandboxesOptions,
  openSandboxes,
  type SandboxBackendEntry,
  type SandboxRouter,
} from "./sandbox/index.js";
// Self-play: the run, its events and summary, and what a run's store exports.
export {
  createStepRunner,
  exportArtifacts,
  exportRollouts,
  exportSft,
  exportSftTokens,
  exportSweBench,
  formatSummary,
  type RolloutExportResult,
  type RolloutManifest,
  type RunSelfPlayOptions,
  type RunSummary,
  readRolloutStep,
  runSelfPlay,
  type SelfPlayEvent,
  type SelfPlayResult,
  type SftFilters,
  type SftLine,
  type SftTokenLine,
  type SweBenchLine,
} from "./selfplay/index.js";
export { openStore, Store } from "./store/index.js";
// Running a test suite in a sandbox (test_script.sh, then test_parser.py), shared by validation and the builtin policy.
export { type RunTestSuiteOptions, runTestSuite } from "./test-run/index.js";
// Validation: test runs, the consistency checks, solver tasks, grading, second-order bugs, rewards.
export {
  createSolverTask,
  createValidator,
  DEFAULT_THRESHOLDS,
  formatGrade,
  formatReport,
  type GradeOptions,
  grade,
  makeSecondOrderArtifact,
  proposerReward,
  type SolverTask,
  type SolverTaskOptions,
  solveRate,
  solverReward,
  type Validator,
  type ValidatorOptions,
} from "./validation/index.js";
