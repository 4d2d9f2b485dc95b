// The Runs page: every run in the store with its status, steps, outcomes, solve rate, rewards, throughput.
import { html } from "../html.js";
import type { RunOverview } from "../queries/runs.js";
import type { Page } from "../queries/values.js";
import { formatNumber, page, pager, runHref } from "./layout.js";

export function runsPage(runs: Page<RunOverview>, storePath: string) {
  const rows = runs.rows.map(
    ({ run, totals }) => html`<tr>
      <td><a href="${runHref(run.id)}">${run.id}</a></td>
      <td><span class="status status-${run.status}">${run.status}</span></td>
      <td>${run.createdAt}</td>
      <td class="num">${totals.steps}</td>
      <td class="num">${totals.valid}</td>
      <td class="num">${totals.invalid}</td>
      <td class="num">${totals.noArtifact}</td>
      <td class="num">${formatNumber(totals.meanSolveRate)}</td>
      <td class="num">${formatNumber(totals.proposerReward)}</td>
      <td class="num">${formatNumber(totals.solverReward)}</td>
      <td class="num">${formatNumber(totals.stepsPerHour, 1)}</td>
    </tr>`,
  );
  return page({
    title: "Runs",
    body: html`<p class="muted">Store <code>${storePath}</code>, read-only.</p>
<table class="grid" id="runs">
<thead><tr><th>run</th><th>status</th><th>created</th><th>steps</th><th>valid</th><th>invalid</th><th>none</th>
<th>mean solve rate</th><th>proposer reward</th><th>solver reward</th><th>steps/hour</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="11" class="muted">No runs in this store yet.</td></tr>`}</tbody>
</table>
${pager({ ...runs, href: (target) => `/?page=${target}` })}`,
  });
}
