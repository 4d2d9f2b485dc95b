// An evaluation's figures from its finished attempts: resolve rate with a Wilson interval (over attempts),
// unbiased pass@k for every k up to the attempts per task, the same per environment, strategy and difficulty, how
// episodes ended, grade outcomes, tool-call validity, and tokens and wall time per attempt.
import { type Interval, meanPassAtK, wilsonInterval } from "./figures.js";

/** What the figures read of one finished attempt. */
export interface AttemptOutcome {
  taskIndex: number;
  environment: string;
  strategy: string;
  /** The artifact's difficulty level (meta.difficulty), "unknown" when it records none. */
  difficulty: string;
  attemptIndex: number;
  resolved: boolean;
  gradeStatus: string;
  exitReason: string | null;
  /** Well-formed tool calls and all tool calls (a reply without a usable call counts as one bad call). */
  toolCalls: { total: number; valid: number };
  sampledTokens: number;
  contextTokens: number;
  /** Episode plus grading, milliseconds. */
  wallMs: number;
}

export interface RateFigures {
  tasks: number;
  attempts: number;
  resolved: number;
  resolveRate: number;
  interval: Interval;
  /** pass@k by k, over the tasks with at least k attempts. */
  passAtK: Record<string, number>;
}

export interface EvaluationFigures extends RateFigures {
  /** Tasks in the set, and those whose artifact was valid here (the others have no attempts). */
  setTasks: number;
  invalidTasks: number;
  attemptsPerTask: number;
  byEnvironment: Record<string, RateFigures>;
  byStrategy: Record<string, RateFigures>;
  /** Absent in figures stored before difficulty levels existed. */
  byDifficulty?: Record<string, RateFigures>;
  /** Episodes by exit reason: submitted, format-errors, max-turns, context-overflow, ... */
  endings: Record<string, number>;
  /** Attempts by grade: resolved, unresolved, patch-rejected, tampered, test-run-failed. */
  grades: Record<string, number>;
  toolCalls: { total: number; valid: number; validityRate: number | null };
  perAttempt: { sampledTokens: number; contextTokens: number; wallMs: number };
}

export function rateFigures(outcomes: readonly AttemptOutcome[], attemptsPerTask: number): RateFigures {
  const resolved = outcomes.filter((outcome) => outcome.resolved).length;
  const byTask = new Map<number, [number, number]>();
  for (const outcome of outcomes) {
    const counts = byTask.get(outcome.taskIndex) ?? [0, 0];
    counts[0]++;
    if (outcome.resolved) counts[1]++;
    byTask.set(outcome.taskIndex, counts);
  }
  const passAtK: Record<string, number> = {};
  for (let k = 1; k <= attemptsPerTask; k++) {
    const eligible = [...byTask.values()].filter(([n]) => n >= k);
    if (eligible.length > 0) passAtK[String(k)] = meanPassAtK(eligible, k);
  }
  return {
    tasks: byTask.size,
    attempts: outcomes.length,
    resolved,
    resolveRate: outcomes.length === 0 ? 0 : resolved / outcomes.length,
    interval: wilsonInterval(resolved, outcomes.length),
    passAtK,
  };
}

export function evaluationFigures(
  outcomes: readonly AttemptOutcome[],
  set: { tasks: number; invalidTasks: number; attemptsPerTask: number },
): EvaluationFigures {
  const n = outcomes.length;
  const mean = (value: (outcome: AttemptOutcome) => number) =>
    n === 0 ? 0 : outcomes.reduce((sum, outcome) => sum + value(outcome), 0) / n;
  const total = outcomes.reduce((sum, outcome) => sum + outcome.toolCalls.total, 0);
  const valid = outcomes.reduce((sum, outcome) => sum + outcome.toolCalls.valid, 0);
  return {
    ...rateFigures(outcomes, set.attemptsPerTask),
    setTasks: set.tasks,
    invalidTasks: set.invalidTasks,
    attemptsPerTask: set.attemptsPerTask,
    byEnvironment: groupedFigures(outcomes, (outcome) => outcome.environment, set.attemptsPerTask),
    byStrategy: groupedFigures(outcomes, (outcome) => outcome.strategy, set.attemptsPerTask),
    byDifficulty: groupedFigures(outcomes, (outcome) => outcome.difficulty, set.attemptsPerTask),
    endings: countBy(outcomes, (outcome) => outcome.exitReason ?? "unknown"),
    grades: countBy(outcomes, (outcome) => outcome.gradeStatus),
    toolCalls: { total, valid, validityRate: total === 0 ? null : valid / total },
    perAttempt: {
      sampledTokens: mean((outcome) => outcome.sampledTokens),
      contextTokens: mean((outcome) => outcome.contextTokens),
      wallMs: mean((outcome) => outcome.wallMs),
    },
  };
}

/** Tool calls of an agent trajectory: each call, and a reply whose format gave no usable call. */
export function toolCallCounts(trajectory: readonly unknown[]): { total: number; valid: number } {
  let total = 0;
  let valid = 0;
  for (const step of trajectory) {
    if (typeof step !== "object" || step === null || !("turn" in step)) continue;
    const { toolCalls, observations, formatError } = step as {
      toolCalls?: unknown[];
      observations?: { status?: string }[];
      formatError?: string | null;
    };
    const calls = toolCalls?.length ?? 0;
    const invalid = (observations ?? []).filter((observation) => observation.status === "invalid").length;
    if (calls === 0 && formatError) {
      total += 1;
      continue;
    }
    total += calls;
    valid += Math.max(0, calls - invalid);
  }
  return { total, valid };
}

function groupedFigures(
  outcomes: readonly AttemptOutcome[],
  key: (outcome: AttemptOutcome) => string,
  attemptsPerTask: number,
): Record<string, RateFigures> {
  const groups = new Map<string, AttemptOutcome[]>();
  for (const outcome of outcomes) groups.set(key(outcome), [...(groups.get(key(outcome)) ?? []), outcome]);
  return Object.fromEntries(
    [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, group]) => [name, rateFigures(group, attemptsPerTask)]),
  );
}

function countBy(outcomes: readonly AttemptOutcome[], key: (outcome: AttemptOutcome) => string) {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[key(outcome)] = (counts[key(outcome)] ?? 0) + 1;
  return counts;
}
