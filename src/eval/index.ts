// Evaluation: a policy measured on a frozen task set through self-play's own episodes, sandboxes and
// grading, with confidence intervals, pass@k and paired comparisons of two evaluations.
export { type Comparison, compareEvaluations, formatComparison } from "./compare.js";
export {
  type Interval,
  mcnemarExact,
  meanPassAtK,
  pairedBootstrap,
  passAtK,
  wilsonInterval,
} from "./figures.js";
export { formatFigures } from "./format.js";
export {
  type Candidate,
  candidatesFromDirectory,
  candidatesFromStore,
  candidatesFromSweBench,
  chooseSet,
  filterCandidates,
  holdOutBugs,
  holdOutEnvironments,
  type SetFilters,
} from "./make-set.js";
export {
  attemptOutcomes,
  canonicalJson,
  checkEvaluation,
  type EvaluationDeps,
  type EvaluationRequest,
  type EvaluationResult,
  evaluationId,
  figuresOf,
  runEvaluation,
} from "./runner.js";
export { type AttemptOutcome, type EvaluationFigures, evaluationFigures, toolCallCounts } from "./summary.js";
export {
  type EvalTask,
  readTaskSet,
  resolveTasks,
  TASK_SET_SCHEMA,
  type TaskSetFile,
  taskEntry,
  taskSetId,
  taskSetSchema,
  writeTaskSet,
} from "./task-set.js";
