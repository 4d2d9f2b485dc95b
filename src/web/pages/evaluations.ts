// The Evaluations pages: per task set, resolve rate per policy version with its Wilson 95 % interval (an SVG
// drawn here, so no script is needed) and a table of the evaluations; one evaluation's attempts, each linked
// to its artifact and its episode.
import { type Html, html } from "../html.js";
import type { EvaluationAttemptView, EvaluationRow, TaskSetEvaluations } from "../queries/evaluations.js";
import { artifactHref, episodeHref, page, runHref } from "./layout.js";

export const evaluationHref = (id: string) => `/evaluations/${encodeURIComponent(id)}`;
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const policyOf = ({ evaluation }: EvaluationRow) =>
  `${evaluation.policyKind}:${evaluation.policyName}@${evaluation.policyVersion}`;
/** The sampling key, shortened for a label: two evaluations of one version differ by it. */
const samplingOf = ({ evaluation }: EvaluationRow) =>
  evaluation.sampling.length > 40 ? `${evaluation.sampling.slice(0, 39)}…` : evaluation.sampling;

const PLOT = { width: 1160, labelWidth: 490, right: 230, row: 30, top: 30, bottom: 30 };
/** Characters of a plot label that fit the label column at its font size. */
const LABEL_CHARS = 64;

/** `text` cut to `room` characters in its middle, so both ends (kind and version) stay readable. */
function middleCut(text: string, room: number): string {
  if (text.length <= room) return text;
  const head = Math.ceil((room - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (room - 1 - head))}`;
}

/** A plot row's label: policy, sampling and k, shortened to fit the label column (the whole text as its title). */
export function plotLabel(row: EvaluationRow): { text: string; title: string } {
  const tail = ` · k=${row.evaluation.attempts}`;
  const policy = middleCut(policyOf(row), 40);
  const room = LABEL_CHARS - policy.length - tail.length - 1;
  const sampling = row.evaluation.sampling;
  const shown = sampling.length > room ? `${sampling.slice(0, Math.max(room - 1, 0))}…` : sampling;
  return { text: `${policy} ${shown}${tail}`, title: `${policyOf(row)} ${sampling}${tail}` };
}

/** Resolve rate per evaluation (policy version) of one set: a point and its interval on a 0–100 % axis. */
export function intervalPlot(rows: readonly EvaluationRow[]): Html {
  const axis = PLOT.width - PLOT.labelWidth - PLOT.right;
  const x = (value: number) => (PLOT.labelWidth + value * axis).toFixed(1);
  const height = PLOT.top + rows.length * PLOT.row + PLOT.bottom;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (
      tick,
    ) => html`<line x1="${x(tick)}" x2="${x(tick)}" y1="${PLOT.top - 8}" y2="${height - PLOT.bottom}" stroke="#ddd"/>
<text x="${x(tick)}" y="${height - PLOT.bottom + 16}" text-anchor="middle" font-size="12" fill="#555">${percent(tick)}</text>`,
  );
  const marks = rows.map((row, index) => {
    const y = (PLOT.top + index * PLOT.row + PLOT.row / 2).toFixed(1);
    const { text, title } = plotLabel(row);
    const label = html`<text x="${PLOT.labelWidth - 10}" y="${y}" dy="4" text-anchor="end" font-size="13" fill="#222"><title>${title}</title>${text}</text>`;
    if (!row.figures)
      return html`${label}<text x="${x(0)}" y="${y}" dy="4" font-size="12" fill="#888">${row.evaluation.status}: ${row.done} of ${row.total} attempts done</text>`;
    const { interval, resolveRate, resolved, attempts } = row.figures;
    return html`${label}<g class="interval"><line x1="${x(interval.low)}" x2="${x(interval.high)}" y1="${y}" y2="${y}" stroke="#1f5fa8" stroke-width="2"/>
<line x1="${x(interval.low)}" x2="${x(interval.low)}" y1="${Number(y) - 6}" y2="${Number(y) + 6}" stroke="#1f5fa8" stroke-width="2"/>
<line x1="${x(interval.high)}" x2="${x(interval.high)}" y1="${Number(y) - 6}" y2="${Number(y) + 6}" stroke="#1f5fa8" stroke-width="2"/>
<circle cx="${x(resolveRate)}" cy="${y}" r="5" fill="#1f5fa8"/></g>
<text x="${PLOT.width - PLOT.right + 10}" y="${y}" dy="4" font-size="12" fill="#222">${percent(resolveRate)} (${resolved}/${attempts}) [${percent(interval.low)}, ${percent(interval.high)}]</text>`;
  });
  return html`<svg class="interval-plot" role="img" aria-label="resolve rate per policy version with Wilson 95% intervals" viewBox="0 0 ${PLOT.width} ${height}" width="${PLOT.width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<text x="${PLOT.labelWidth}" y="16" font-size="12" fill="#555">resolve rate, Wilson 95% interval</text>
${ticks}${marks}</svg>`;
}

export function evaluationsPage(sets: readonly TaskSetEvaluations[], storePath: string): Html {
  const sections = sets.map(
    (set) => html`<section class="task-set">
<h2>Task set ${set.taskSetName} <span class="muted">(${set.taskSetId})</span></h2>
${intervalPlot(set.rows)}
<table class="grid evaluations">
<thead><tr><th>evaluation</th><th>policy</th><th>sampling</th><th>k</th><th>status</th><th>attempts done</th><th>resolve rate</th><th>Wilson 95%</th><th>pass@k</th></tr></thead>
<tbody>${set.rows.map(
      (row) => html`<tr>
<td><a href="${evaluationHref(row.evaluation.id)}">${row.evaluation.id}</a></td>
<td>${policyOf(row)}</td>
<td><code>${samplingOf(row)}</code></td>
<td class="num">${row.evaluation.attempts}</td>
<td><span class="status status-${row.evaluation.status}">${row.evaluation.status}</span></td>
<td class="num">${row.done} / ${row.total}</td>
<td class="num">${row.figures ? percent(row.figures.resolveRate) : "–"}</td>
<td class="num">${row.figures ? `[${percent(row.figures.interval.low)}, ${percent(row.figures.interval.high)}]` : "–"}</td>
<td>${
        row.figures
          ? Object.entries(row.figures.passAtK)
              .map(([k, value]) => `pass@${k} ${percent(value)}`)
              .join(", ")
          : "–"
      }</td>
</tr>`,
    )}</tbody></table></section>`,
  );
  return page({
    title: "Evaluations",
    trail: [{ label: "Evaluations" }],
    body: html`<p class="muted">Store <code>${storePath}</code>, read-only. Each evaluation runs k solver attempts per task of a frozen set through self-play's episodes, sandboxes and grading.</p>
${sections.length > 0 ? sections : html`<p class="muted">No evaluations in this store yet: <code>swe-selfplay eval --tasks SET</code>.</p>`}`,
  });
}

export function evaluationPage(row: EvaluationRow, attempts: readonly EvaluationAttemptView[]): Html {
  const { evaluation } = row;
  const rows = attempts.map(
    (attempt) => html`<tr class="attempt">
<td class="num">${attempt.taskIndex}</td>
<td><a href="${artifactHref(attempt.artifactId)}">${attempt.artifactId.slice(0, 12)}</a></td>
<td>${attempt.environment}</td><td>${attempt.strategy}</td>
<td class="num">${attempt.attemptIndex}</td>
<td>${attempt.state === "done" ? (attempt.gradeStatus ?? (attempt.resolved ? "resolved" : "unresolved")) : "pending"}</td>
<td>${attempt.exitReason ?? "–"}</td>
<td>${attempt.episodeId ? html`<a href="${episodeHref(attempt.episodeId)}">${attempt.episodeId}</a>` : "–"}</td>
</tr>`,
  );
  return page({
    title: `Evaluation ${evaluation.id}`,
    trail: [{ label: "Evaluations", href: "/evaluations" }, { label: evaluation.id }],
    body: html`<p>${policyOf(row)} on task set ${evaluation.taskSetName} (${evaluation.taskSetId}), k=${evaluation.attempts}, sampling <code>${evaluation.sampling}</code>; run <a href="${runHref(evaluation.runId)}">${evaluation.runId}</a>; ${evaluation.status}, ${row.done} of ${row.total} attempts done${evaluation.error ? html`; <span class="muted">${evaluation.error}</span>` : ""}.</p>
${intervalPlot([row])}
<table class="grid" id="attempts">
<thead><tr><th>task</th><th>artifact</th><th>environment</th><th>strategy</th><th>attempt</th><th>grade</th><th>episode ended</th><th>episode</th></tr></thead>
<tbody>${rows}</tbody></table>`,
  });
}
