// The Artifact page: one bug followed from the proposer's five files through validation to every solver
// attempt, with its second-order parent and children.
import type { CheckResult, ValidationReport } from "../../ports/validation.js";
import { renderDiff } from "../diff-view.js";
import { html } from "../html.js";
import type { ArtifactView, GroupView } from "../queries/artifact.js";
import { artifactHref, episodeHref, formatMs, formatNumber, page, runHref } from "./layout.js";

/** Evidence values: lists of test ids become lists, everything else compact JSON. */
function evidence(values: Record<string, unknown>) {
  const entries = Object.entries(values);
  if (entries.length === 0) return "";
  return html`<dl class="evidence">${entries.map(([key, value]) => {
    if (Array.isArray(value) && value.every((item) => typeof item === "string"))
      return html`<dt>${key} (${value.length})</dt><dd>${
        value.length === 0
          ? html`<span class="muted">none</span>`
          : html`<ul class="ids">${value.map((id) => html`<li><code>${id}</code></li>`)}</ul>`
      }</dd>`;
    return html`<dt>${key}</dt><dd><code>${typeof value === "string" ? value : JSON.stringify(value)}</code></dd>`;
  })}</dl>`;
}

function checkRow(check: CheckResult) {
  return html`<tr class="check check-${check.verdict}"><td>${check.check}</td>
<td><span class="verdict verdict-${check.verdict}">${check.verdict}</span></td>
<td>${check.reason ?? ""}${evidence(check.evidence)}</td></tr>`;
}

function idList(label: string, ids: string[]) {
  return html`<details${ids.length <= 12 ? html` open` : ""}><summary>${label} (${ids.length})</summary>${
    ids.length === 0
      ? html`<p class="muted">none</p>`
      : html`<ul class="ids">${ids.map((id) => html`<li><code>${id}</code></li>`)}</ul>`
  }</details>`;
}

function reportSection(environment: string, report: ValidationReport) {
  return html`<section class="report" id="validation-${environment}">
<h3>Validation on ${environment}: <span class="verdict verdict-${report.verdict}">${report.verdict}</span>${
    report.failedCheck ? html` at <code>${report.failedCheck}</code>` : ""
  }</h3>
${report.reason ? html`<p class="reason">${report.reason}</p>` : ""}
<table class="grid checks"><thead><tr><th>check</th><th>verdict</th><th>reason and evidence</th></tr></thead>
<tbody>${report.checks.map(checkRow)}</tbody></table>
<div class="columns">${idList("F2P", report.f2p)}${idList("P2P", report.p2p)}${idList("flaky", report.flaky)}</div>
${
  report.fileContributions.length > 0
    ? html`<h4>Inverse mutation</h4><table class="grid"><thead><tr><th>reverted file</th><th>F2P tests passing again</th></tr></thead><tbody>${report.fileContributions.map(
        (entry) =>
          html`<tr><td><code>${entry.file}</code></td><td>${entry.restoredTests.length === 0 ? html`<span class="muted">none</span>` : entry.restoredTests.map((id) => html`<code>${id}</code> `)}</td></tr>`,
      )}</tbody></table>`
    : ""
}
<h4>Test runs: ${report.testRuns.length}, wall time ${formatMs(report.wallTimeMs)}, critical path ${formatMs(report.criticalPathMs)}</h4>
<table class="grid"><thead><tr><th>run</th><th>status</th><th>time</th><th>cached</th></tr></thead><tbody>${report.testRuns.map(
    (run) =>
      html`<tr><td>${run.label}</td><td>${run.status}</td><td class="num">${formatMs(run.durationMs)}</td><td>${run.cached ? "yes" : ""}</td></tr>`,
  )}</tbody></table></section>`;
}

function groupSection(view: GroupView, children: ArtifactView["children"]) {
  const { group } = view;
  const candidateOf = new Map(view.candidates.map((candidate) => [candidate.attemptId, candidate]));
  return html`<section class="group" id="group-${group.id}">
<h3>Solver group (order ${group.order}) in <a href="${runHref(group.runId)}">${group.runId}</a>, step ${group.stepIndex}:
solve rate ${group.solveRate === null ? group.state : formatNumber(group.solveRate, 2)}</h3>
<table class="grid attempts"><thead><tr><th>attempt</th><th>seed</th><th>grade</th><th>reason</th><th>failed F2P / P2P</th>
<th>grading time</th><th>reward</th><th>episode</th><th>second order</th></tr></thead><tbody>${view.attempts.map(
    (attempt) => {
      const candidate = candidateOf.get(attempt.id);
      const child = candidate?.artifactId
        ? children.find((entry) => entry.id === candidate.artifactId)
        : undefined;
      return html`<tr class="attempt">
<td class="num">${attempt.attemptIndex}</td><td class="num">${attempt.seed}</td>
<td><span class="verdict verdict-${attempt.grade?.status ?? attempt.state}">${attempt.grade?.status ?? attempt.state}</span></td>
<td class="clip">${attempt.grade?.reason ?? ""}</td>
<td>${attempt.grade ? `${attempt.grade.failedF2P.length} / ${attempt.grade.failedP2P.length}` : "–"}</td>
<td class="num">${formatMs(attempt.grade?.durationMs)}</td>
<td class="num">${formatNumber(attempt.reward?.value)}</td>
<td>${attempt.episodeId ? html`<a class="episode-link" href="${episodeHref(attempt.episodeId)}">trajectory</a>` : "–"}</td>
<td>${
        candidate
          ? html`${candidate.outcome ?? candidate.state}${
              candidate.artifactId
                ? html` <a href="${artifactHref(candidate.artifactId)}">${candidate.artifactId.slice(0, 12)}</a>`
                : ""
            }${child?.failedCheck ? html` (${child.failedCheck})` : ""}`
          : ""
      }</td>
</tr>
<tr class="patch-row"><td colspan="9"><details><summary>predicted patch (${attempt.patch ? `${attempt.patch.split("\n").length} lines` : "none"})${
        attempt.grade && (attempt.grade.failedF2P.length > 0 || attempt.grade.failedP2P.length > 0)
          ? html` · failing: ${[...attempt.grade.failedF2P, ...attempt.grade.failedP2P].slice(0, 6).map((id) => html`<code>${id}</code> `)}`
          : ""
      }</summary>${renderDiff(attempt.patch)}</details></td></tr>`;
    },
  )}</tbody></table></section>`;
}

export function artifactPage(view: ArtifactView) {
  const { stored } = view;
  const { artifact, meta } = stored;
  return page({
    title: `Artifact ${stored.id.slice(0, 12)}`,
    trail: [
      ...view.steps.slice(0, 1).map((step) => ({ label: step.runId, href: runHref(step.runId) })),
      { label: `artifact ${stored.id.slice(0, 12)}` },
    ],
    body: html`<table class="facts"><tbody>
<tr><th>id</th><td><code>${stored.id}</code></td><th>environment</th><td>${meta.environment}</td></tr>
<tr><th>strategy</th><td>${meta.strategy}</td><th>order</th><td>${meta.order}</td></tr>
<tr><th>policy</th><td>${meta.policy}</td><th>created</th><td>${meta.createdAt}</td></tr>
<tr><th>parent</th><td>${view.parent ? html`<a href="${artifactHref(view.parent.id)}">${view.parent.id.slice(0, 12)}</a>` : meta.parentId ? meta.parentId : "–"}</td>
<th>proposed in</th><td>${view.steps.map(
      (step) =>
        html`<a href="${runHref(step.runId)}">${step.runId}</a> step ${step.stepIndex}${
          step.episodeId ? html` (<a href="${episodeHref(step.episodeId)}">proposer episode</a>)` : ""
        } `,
    )}</td></tr>
</tbody></table>
<section id="files"><h2>The five files</h2>
<h3><code>bug_inject.diff</code></h3><div class="diff" id="bug-diff">${renderDiff(artifact.bugInjectDiff)}</div>
<h3><code>test_weaken.diff</code></h3><div class="diff" id="weaken-diff">${renderDiff(artifact.testWeakenDiff)}</div>
<h3><code>test_files.txt</code></h3><pre class="text">${artifact.testFiles.join("\n")}</pre>
<details><summary><code>test_script.sh</code></summary><pre class="text">${artifact.testScript}</pre></details>
<details><summary><code>test_parser.py</code></summary><pre class="text">${artifact.testParser}</pre></details>
</section>
<section id="specification"><h2>The solver's specification, as the solver saw it</h2>${
      view.solverPrompt.status === "rebuilt"
        ? html`<pre class="text prompt">${view.solverPrompt.text}</pre>`
        : html`<p class="warning">The prompt cannot be rebuilt: ${view.solverPrompt.error}</p>`
    }</section>
<section id="validation"><h2>Validation</h2>${
      view.validations.length === 0
        ? html`<p class="muted">Not validated yet.</p>`
        : view.validations.map((validation) => reportSection(validation.environment, validation.report))
    }</section>
<section id="attempts"><h2>Solver attempts</h2>${
      view.groups.length === 0
        ? html`<p class="muted">No solver group for this artifact.</p>`
        : view.groups.map((group) => groupSection(group, view.children))
    }</section>
<section id="second-order"><h2>Second-order bugs made from failed attempts</h2>${
      view.children.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<ul>${view.children.map(
            (child) =>
              html`<li><a href="${artifactHref(child.id)}">${child.id.slice(0, 12)}</a> ${child.verdict ?? "not validated"}${
                child.failedCheck ? html` at ${child.failedCheck}` : ""
              }</li>`,
          )}</ul>`
    }</section>`,
  });
}
