// Public API of validation: consistency checks, solver tasks, grading, second-order bugs, rewards (running a
// test suite itself is src/test-run/).

export { environmentKey } from "./environment-key.js";
export { grade } from "./grade.js";
export type {
  GradeOptions,
  SecondOrderOptions,
  SolverTask,
  SolverTaskOptions,
  Validator,
  ValidatorOptions,
} from "./options.js";
export { formatGrade, formatReport } from "./report-text.js";
export { DEFAULT_ALPHA, proposerReward, solveRate, solverReward } from "./rewards.js";
export { makeSecondOrderArtifact } from "./second-order.js";
export { createSolverTask, renderSolverPrompt, SOLVER_PROMPT_VERSION } from "./solver-task.js";
export { DEFAULT_THRESHOLDS, resolveThresholds } from "./thresholds.js";
export { createValidator } from "./validator.js";
