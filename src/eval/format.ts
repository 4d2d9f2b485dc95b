// An evaluation's figures as text: one headline with the interval, then pass@k, the breakdowns, endings,
// tool-call validity, and tokens and wall time per attempt.
import type { Interval } from "./figures.js";
import type { EvaluationFigures, RateFigures } from "./summary.js";

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const range = (interval: Interval) => `[${percent(interval.low)}, ${percent(interval.high)}]`;

function rateLine(name: string, figures: RateFigures): string {
  return `  ${name}: ${figures.resolved}/${figures.attempts} = ${percent(figures.resolveRate)} ${range(figures.interval)} over ${figures.tasks} task(s)`;
}

export function formatFigures(id: string, figures: EvaluationFigures): string {
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([, a], [, b]) => b - a)
      .map(([key, value]) => `${key} ${value}`)
      .join(", ");
  const lines = [
    `evaluation ${id}: ${figures.setTasks} task(s) × ${figures.attemptsPerTask} attempt(s)${figures.invalidTasks > 0 ? `, ${figures.invalidTasks} task(s) not valid here (no attempts)` : ""}`,
    `resolve rate: ${figures.resolved}/${figures.attempts} = ${percent(figures.resolveRate)}, Wilson 95% ${range(figures.interval)}`,
    `pass@k: ${Object.entries(figures.passAtK)
      .map(([k, value]) => `pass@${k} ${percent(value)}`)
      .join(", ")}`,
    "by environment:",
    ...Object.entries(figures.byEnvironment).map(([name, rate]) => rateLine(name, rate)),
    "by strategy:",
    ...Object.entries(figures.byStrategy).map(([name, rate]) => rateLine(name, rate)),
    "by difficulty:",
    ...Object.entries(figures.byDifficulty ?? {}).map(([name, rate]) => rateLine(name, rate)),
    `episodes ended: ${counts(figures.endings)}`,
    `grades: ${counts(figures.grades)}`,
    figures.toolCalls.validityRate === null
      ? "tool calls: none (a policy without tool calls)"
      : `tool calls: ${figures.toolCalls.valid}/${figures.toolCalls.total} valid (${percent(figures.toolCalls.validityRate)})`,
    `per attempt: ${figures.perAttempt.sampledTokens.toFixed(0)} sampled tokens, ${figures.perAttempt.contextTokens.toFixed(0)} context tokens, ${(figures.perAttempt.wallMs / 1000).toFixed(1)} s wall time`,
    "",
  ];
  return lines.join("\n");
}
