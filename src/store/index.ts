// SQLite persistence (WAL, numbered migrations, idempotent transactional writes) and its branded id types.
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
export {
  attemptIdOf,
  type NewGroup,
  openStore,
  type RewardInput,
  type SampleContext,
  Store,
} from "./store.js";
export {
  listTrainerIterations,
  recordTrainerIteration,
  type TrainerIteration,
} from "./trainer-iterations.js";
export type * from "./types.js";
