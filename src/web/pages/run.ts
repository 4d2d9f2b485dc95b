// The Run page: live totals (server-sent events), plots, trainer iterations when a trainer recorded any,
// and the run's steps with filters and pages.
import type { EnvironmentRecord, RunRecord } from "../../ports/store.js";
import { html, jsonForScript } from "../html.js";
import type { RunPlots } from "../queries/plots.js";
import type { RunTotals } from "../queries/runs.js";
import { type FilterChoices, type StepFilters, type StepRow, VERDICTS } from "../queries/steps.js";
import type { Page } from "../queries/values.js";
import { artifactHref, episodeHref, formatNumber, page, pager, runHref } from "./layout.js";

export interface RunPageData {
  run: RunRecord;
  totals: RunTotals;
  environments: EnvironmentRecord[];
  plots: RunPlots;
  steps: Page<StepRow>;
  filters: StepFilters;
  choices: FilterChoices;
  /** The query string of the filters, for page links. */
  query: URLSearchParams;
}

function totalsTable(run: RunRecord, totals: RunTotals) {
  const cell = (key: string, value: string | number) => html`<td data-key="${key}">${value}</td>`;
  return html`<table class="facts" id="totals"><tbody>
<tr><th>status</th>${cell("status", run.status)}<th>steps</th>${cell("steps", totals.steps)}
<th>finished</th>${cell("finished", totals.finished)}<th>in flight</th>${cell("inFlight", totals.steps - totals.finished)}</tr>
<tr><th>valid</th>${cell("valid", totals.valid)}<th>invalid</th>${cell("invalid", totals.invalid)}
<th>no artifact</th>${cell("noArtifact", totals.noArtifact)}<th>errors</th>${cell("error", totals.error)}</tr>
<tr><th>graded groups</th>${cell("gradedGroups", totals.gradedGroups)}<th>mean solve rate</th>${cell("meanSolveRate", formatNumber(totals.meanSolveRate))}
<th>attempts</th>${cell("attempts", totals.attempts)}<th>resolved</th>${cell("resolved", totals.resolved)}</tr>
<tr><th>proposer reward</th>${cell("proposerReward", formatNumber(totals.proposerReward))}<th>solver reward</th>${cell("solverReward", formatNumber(totals.solverReward))}
<th>steps/hour</th>${cell("stepsPerHour", formatNumber(totals.stepsPerHour, 1))}<th>started</th>${cell("starts", run.starts)}</tr>
</tbody></table>`;
}

function select(name: string, label: string, choices: readonly string[], selected: string | undefined) {
  return html`<label>${label} <select name="${name}"><option value="">all</option>${choices.map(
    (choice) =>
      html`<option value="${choice}"${choice === selected ? html` selected` : ""}>${choice}</option>`,
  )}</select></label>`;
}

function filterForm(data: RunPageData) {
  const { filters, choices } = data;
  return html`<form class="filters" method="get" action="${runHref(data.run.id)}#steps">
${select("environment", "environment", choices.environments, filters.environment)}
${select("strategy", "strategy", choices.strategies, filters.strategy)}
${select("verdict", "verdict", VERDICTS, filters.verdict)}
${select("check", "failed check", choices.failedChecks, filters.failedCheck)}
${select("policy", "policy version", choices.policyVersions, filters.policyVersion)}
<label>solve rate <input name="minRate" size="4" inputmode="decimal" value="${filters.minSolveRate ?? ""}"> to
<input name="maxRate" size="4" inputmode="decimal" value="${filters.maxSolveRate ?? ""}"></label>
<label>search <input name="q" size="16" value="${filters.search ?? ""}" placeholder="artifact id, error…"></label>
<button type="submit">filter</button> <a href="${runHref(data.run.id)}#steps">clear</a>
</form>`;
}

function stepRows(rows: StepRow[]) {
  if (rows.length === 0) return html`<tr><td colspan="9" class="muted">No steps match.</td></tr>`;
  return rows.map(
    (step) => html`<tr data-step="${step.stepIndex}">
<td class="num">${step.stepIndex}</td><td>${step.environment}</td><td>${step.strategy}</td>
<td><span class="verdict verdict-${step.outcome ?? step.state}">${step.outcome ?? step.state}</span>${
      step.failedCheck ? html` <span class="muted">(${step.failedCheck})</span>` : ""
    }</td>
<td class="num">${step.solveRate === null ? "–" : `${formatNumber(step.solveRate, 2)} (G=${step.groupSize ?? "?"})`}</td>
<td class="num">${formatNumber(step.proposerReward)}</td>
<td>${step.artifactId ? html`<a class="artifact-link" href="${artifactHref(step.artifactId)}">${step.artifactId.slice(0, 12)}</a>` : "–"}</td>
<td>${step.episodeId ? html`<a href="${episodeHref(step.episodeId)}">proposer</a>` : "–"}</td>
<td class="clip">${step.error ?? step.policyVersion ?? ""}</td>
</tr>`,
  );
}

/** The trainer metrics RL engineers read first, per iteration: [metric name in the store, column label]. */
const TRAINER_HEALTH: readonly (readonly [string, string])[] = [
  ["reward_mean.solver", "solver reward"],
  ["kl_to_previous", "KL to previous"],
  ["entropy", "entropy"],
  ["clip_fraction", "clip fraction"],
  ["grad_norm", "grad norm"],
  ["ratio.min", "ratio min"],
  ["ratio.max", "ratio max"],
  ["rollout_vs_trainer.max_abs", "rollout vs trainer logprob"],
  ["response_length.mean", "response length"],
  ["tool_call_validity", "tool-call validity"],
  ["stale_samples", "stale samples"],
  ["dropped_samples", "dropped samples"],
];

function trainerHealth(plots: RunPlots) {
  const columns = TRAINER_HEALTH.filter(([name]) => plots.trainer.some((row) => name in row.metrics));
  if (columns.length === 0) return "";
  return html`<h3>Health per iteration</h3>
<table class="grid" id="trainer-health"><thead><tr><th>iteration</th><th>policy version</th>${columns.map(
    ([, label]) => html`<th>${label}</th>`,
  )}</tr></thead>
<tbody>${plots.trainer.map(
    (row) =>
      html`<tr><td class="num">${row.iteration}</td><td>${row.policyVersion}</td>${columns.map(
        ([name]) => html`<td class="num">${formatNumber(row.metrics[name])}</td>`,
      )}</tr>`,
  )}</tbody></table>`;
}

function trainerSection(plots: RunPlots) {
  if (plots.trainer.length === 0) return "";
  const names = [...new Set(plots.trainer.flatMap((row) => Object.keys(row.metrics)))].sort();
  const versions = new Map<string, Record<string, number[]>>();
  for (const row of plots.trainer) {
    const entry = versions.get(row.policyVersion) ?? {};
    for (const [name, value] of Object.entries(row.metrics)) entry[name] = [...(entry[name] ?? []), value];
    versions.set(row.policyVersion, entry);
  }
  const mean = (values: number[] | undefined) =>
    values && values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : null;
  return html`<section id="trainer"><h2>Trainer iterations</h2>
<div class="plot wide"><div class="chart"><canvas id="plot-trainer" aria-label="trainer metrics per iteration"></canvas></div></div>
${trainerHealth(plots)}
<h3>Per policy version (mean over its iterations)</h3>
<table class="grid"><thead><tr><th>policy version</th><th>iterations</th>${names.map((name) => html`<th>${name}</th>`)}</tr></thead>
<tbody>${[...versions].map(
    ([version, metrics]) =>
      html`<tr><td>${version}</td><td class="num">${
        plots.trainer.filter((row) => row.policyVersion === version).length
      }</td>${names.map((name) => html`<td class="num">${formatNumber(mean(metrics[name]))}</td>`)}</tr>`,
  )}</tbody></table></section>`;
}

export function runPage(data: RunPageData) {
  const { run } = data;
  const pageHref = (target: number) => {
    const query = new URLSearchParams(data.query);
    query.set("page", String(target));
    return `${runHref(run.id)}?${query}#steps`;
  };
  const disabled = data.environments.filter((environment) => environment.status !== "active");
  return page({
    title: `Run ${run.id}`,
    trail: [{ label: run.id }],
    scripts: ["chart.umd.min.js", "run.js"],
    body: html`<section id="live" data-events="${runHref(run.id)}/events" data-plots="${runHref(run.id)}/plots.json">
${totalsTable(run, data.totals)}
<p class="muted" id="live-status">${run.status === "running" ? "live: waiting for updates…" : `run ${run.status}`}</p>
${disabled.map((environment) => html`<p class="warning">environment ${environment.name} ${environment.status}: ${environment.disabledReason ?? ""}</p>`)}
</section>
<section id="plots"><h2>Plots</h2>
<div class="plots">
<figure class="plot"><div class="chart"><canvas id="plot-solve-rates" aria-label="solve-rate histogram"></canvas></div><figcaption>Solve rate of graded groups</figcaption></figure>
<figure class="plot"><div class="chart"><canvas id="plot-rewards" aria-label="rewards over steps"></canvas></div><figcaption>Mean proposer and solver reward over steps</figcaption></figure>
<figure class="plot"><div class="chart"><canvas id="plot-strategies" aria-label="valid share per strategy"></canvas></div><figcaption>Valid share of finished steps per strategy</figcaption></figure>
<figure class="plot"><div class="chart"><canvas id="plot-rejections" aria-label="rejections by failed check"></canvas></div><figcaption>Rejected artifacts by failed check</figcaption></figure>
</div>
<script type="application/json" id="plot-data">${jsonForScript(data.plots)}</script>
</section>
${trainerSection(data.plots)}
<section id="steps"><h2>Steps</h2>
${filterForm(data)}
<table class="grid" id="step-table"><thead><tr><th>step</th><th>environment</th><th>strategy</th><th>verdict</th>
<th>solve rate</th><th>proposer reward</th><th>artifact</th><th>episode</th><th>error / policy</th></tr></thead>
<tbody>${stepRows(data.steps.rows)}</tbody></table>
${pager({ ...data.steps, href: pageHref })}
</section>
<details><summary>Configuration</summary><pre class="text">${JSON.stringify(run.config, null, 2)}</pre></details>`,
  });
}
