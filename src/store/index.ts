// SQLite persistence (WAL, numbered migrations, idempotent transactional writes) behind the Store port.
// `openStore` gives the port; `openSqliteStore` the SQLite store itself, for readers of its tables.
export type {
  NewGroup,
  RewardInput,
  SampleContext,
  Store,
  TrainerIteration,
} from "../ports/store.js";
export {
  type EvaluationAttemptRow,
  type EvaluationKey,
  type EvaluationRecord,
  type EvaluationStatus,
  type EvaluationTaskRow,
  evaluationAttempts,
  evaluationProgress,
  evaluationTasks,
  getEvaluation,
  insertEvaluation,
  listEvaluations,
  type NewEvaluation,
  reopenFailedSteps,
  setEvaluationStatus,
  validArtifactRows,
} from "./evaluations.js";
export { MIGRATIONS, type Migration } from "./migrations.js";
export {
  abortStepEpisodes,
  ackServiceStep,
  endServiceStep,
  getServiceStep,
  getServiceStepByRequest,
  insertRepairStep,
  insertServiceStep,
  listServiceSteps,
  type NewServiceStep,
  nextStepIndex,
  pruneServiceSteps,
  type ServiceStepRecord,
  type ServiceStepStatus,
  type StepEpisode,
  serviceState,
  serviceStepCounts,
  setServiceState,
  startServiceStep,
  stepEpisodes,
} from "./service-steps.js";
export { attemptIdOf, openSqliteStore, openStore, type SqliteStore } from "./store.js";
export { listTrainerIterations, recordTrainerIteration } from "./trainer-iterations.js";
export type * from "./types.js";
