// `eval compare A B`: two evaluations of the same task set, paired task by task. The difference is B − A in
// resolve rate over the tasks both attempted (each task weighted once, its rate over its attempts), with a
// seeded paired-bootstrap 95 % interval; McNemar's exact test pairs attempt i of a task in A with attempt i in B.
import { InputError } from "../errors.js";
import { type Interval, mcnemarExact, pairedBootstrap, wilsonInterval } from "./figures.js";

export interface ComparedAttempt {
  taskIndex: number;
  attemptIndex: number;
  resolved: boolean;
}

export interface ComparedSide {
  id: string;
  taskSetId: string;
  policy: string;
  attempts: readonly ComparedAttempt[];
}

export interface Comparison {
  taskSetId: string;
  a: { id: string; policy: string; resolveRate: number; interval: Interval };
  b: { id: string; policy: string; resolveRate: number; interval: Interval };
  pairedTasks: number;
  /** B − A, mean over paired tasks of the difference of their resolve rates. */
  difference: number;
  interval: Interval;
  mcnemar: { pairs: number; onlyA: number; onlyB: number; both: number; neither: number; pValue: number };
}

export function compareEvaluations(a: ComparedSide, b: ComparedSide, seed = 0): Comparison {
  if (a.taskSetId !== b.taskSetId)
    throw new InputError(
      "different-task-sets",
      `evaluations ${a.id} and ${b.id} are on different task sets (${a.taskSetId}, ${b.taskSetId}): only the same set pairs`,
    );
  const byTaskA = byTask(a.attempts);
  const byTaskB = byTask(b.attempts);
  const paired = [...byTaskA.keys()].filter((task) => byTaskB.has(task)).sort((x, y) => x - y);
  const rate = (attempts: ComparedAttempt[]) =>
    attempts.filter((attempt) => attempt.resolved).length / attempts.length;
  const differences = paired.map((task) => rate(byTaskB.get(task)!) - rate(byTaskA.get(task)!));
  const counts = { pairs: 0, onlyA: 0, onlyB: 0, both: 0, neither: 0 };
  for (const task of paired) {
    const inB = new Map(byTaskB.get(task)!.map((attempt) => [attempt.attemptIndex, attempt.resolved]));
    for (const attempt of byTaskA.get(task)!) {
      const other = inB.get(attempt.attemptIndex);
      if (other === undefined) continue;
      counts.pairs++;
      if (attempt.resolved && other) counts.both++;
      else if (attempt.resolved) counts.onlyA++;
      else if (other) counts.onlyB++;
      else counts.neither++;
    }
  }
  return {
    taskSetId: a.taskSetId,
    a: side(a),
    b: side(b),
    pairedTasks: paired.length,
    difference:
      differences.length === 0 ? 0 : differences.reduce((sum, value) => sum + value, 0) / differences.length,
    interval: pairedBootstrap(differences, { seed }),
    mcnemar: { ...counts, pValue: mcnemarExact(counts.onlyA, counts.onlyB) },
  };
}

function side(evaluation: ComparedSide): Comparison["a"] {
  const resolved = evaluation.attempts.filter((attempt) => attempt.resolved).length;
  const total = evaluation.attempts.length;
  return {
    id: evaluation.id,
    policy: evaluation.policy,
    resolveRate: total === 0 ? 0 : resolved / total,
    interval: wilsonInterval(resolved, total),
  };
}

function byTask(attempts: readonly ComparedAttempt[]): Map<number, ComparedAttempt[]> {
  const map = new Map<number, ComparedAttempt[]>();
  for (const attempt of attempts)
    map.set(attempt.taskIndex, [...(map.get(attempt.taskIndex) ?? []), attempt]);
  return map;
}

/** The comparison as text, one figure a line. */
export function formatComparison(comparison: Comparison): string {
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  const range = (interval: Interval) => `[${percent(interval.low)}, ${percent(interval.high)}]`;
  const { a, b, mcnemar } = comparison;
  return [
    `task set ${comparison.taskSetId}: ${comparison.pairedTasks} paired tasks`,
    `A ${a.id} (${a.policy}): ${percent(a.resolveRate)} ${range(a.interval)}`,
    `B ${b.id} (${b.policy}): ${percent(b.resolveRate)} ${range(b.interval)}`,
    `B − A: ${comparison.difference >= 0 ? "+" : ""}${(comparison.difference * 100).toFixed(1)} points, paired bootstrap 95% ${range(comparison.interval)}`,
    `McNemar exact: ${mcnemar.pairs} paired attempts, only A ${mcnemar.onlyA}, only B ${mcnemar.onlyB}, both ${mcnemar.both}, neither ${mcnemar.neither}; p = ${mcnemar.pValue.toPrecision(3)}`,
    "",
  ].join("\n");
}
