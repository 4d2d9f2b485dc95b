// The Episode page: an episode's trajectory turn by turn (messages, tool calls, commands, outputs), its exit
// reason, counts and reward, and for token-level samples the loss-masked spans a trainer trains on.
import type { RolloutSample } from "../../ports/rollout.js";
import { html } from "../html.js";
import type { EpisodeView } from "../queries/episode.js";
import { artifactHref, formatNumber, page, runHref } from "./layout.js";

type Entry = Record<string, unknown>;

const COMMAND_KEYS = new Set(["command", "cmd", "script"]);
const OUTPUT_KEYS = new Set(["output", "stdout", "stderr", "outputTail", "observation"]);

function isAgentTurn(entry: Entry): boolean {
  return typeof entry.turn === "number" && Array.isArray(entry.toolCalls);
}

function field(key: string, value: unknown) {
  if (typeof value === "string" && COMMAND_KEYS.has(key))
    return html`<dt>${key}</dt><dd><pre class="command">${value}</pre></dd>`;
  if (typeof value === "string" && (OUTPUT_KEYS.has(key) || value.includes("\n") || value.length > 120))
    return html`<dt>${key}</dt><dd><pre class="output">${value}</pre></dd>`;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null)
    return html`<dt>${key}</dt><dd>${String(value)}</dd>`;
  const json = JSON.stringify(value, null, 1);
  return html`<dt>${key}</dt><dd>${json.length > 120 ? html`<pre class="output">${json}</pre>` : html`<code>${json}</code>`}</dd>`;
}

/** A tool call's arguments: the command of a bash call as a command, anything else as its raw JSON text. */
function toolCall(call: Entry) {
  const raw = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const command =
    parsed && typeof parsed === "object" && typeof (parsed as Entry).command === "string"
      ? String((parsed as Entry).command)
      : null;
  return html`<div class="tool-call"><span class="tool-name">${String(call.name ?? "?")}</span>${
    command === null ? html`<pre class="arguments">${raw}</pre>` : html`<pre class="command">${command}</pre>`
  }</div>`;
}

function agentTurn(entry: Entry) {
  const calls = (entry.toolCalls as Entry[]) ?? [];
  const observations = Array.isArray(entry.observations) ? (entry.observations as Entry[]) : [];
  return html`<li class="turn"><h3>Turn ${String(entry.turn)} <span class="muted">${String(entry.finishReason ?? "")}${
    typeof entry.contextTokens === "number" ? ` · ${entry.contextTokens} context tokens` : ""
  }</span></h3>
${typeof entry.content === "string" && entry.content !== "" ? html`<div class="message"><h4>assistant</h4><pre class="text">${entry.content}</pre></div>` : ""}
${calls.map(toolCall)}
${typeof entry.formatError === "string" ? html`<p class="warning">format error: ${entry.formatError}</p>` : ""}
${observations.map(
  (observation) =>
    html`<div class="observation"><h4>${String(observation.tool ?? "tool")} → ${String(observation.status ?? "")}</h4><pre class="output">${String(observation.output ?? "")}</pre></div>`,
)}</li>`;
}

function genericStep(entry: Entry, index: number) {
  const title = [entry.kind, entry.action, entry.step, entry.type, entry.phase, entry.stage].find(
    (value) => typeof value === "string",
  );
  const fields = Object.entries(entry).filter(
    ([key]) => !["kind", "action", "step", "type", "phase", "stage"].includes(key),
  );
  return html`<li class="turn"><h3>Step ${index + 1}${title ? html`: ${String(title)}` : ""}</h3><dl class="fields">${fields.map(([key, value]) => field(key, value))}</dl></li>`;
}

export interface Span {
  start: number;
  end: number;
  kind: "prompt" | "sampled" | "observation";
  meanLogprob: number | null;
}

/** Contiguous spans of a sample: the prompt, then runs of sampled (mask 1) and observed (mask 0) tokens. */
export function lossMaskSpans(sample: RolloutSample): Span[] {
  const spans: Span[] = [];
  if (sample.prompt_len > 0)
    spans.push({ start: 0, end: sample.prompt_len, kind: "prompt", meanLogprob: null });
  let index = sample.prompt_len;
  while (index < sample.tokens.length) {
    const mask = sample.loss_mask[index] ?? 0;
    const start = index;
    let logprobs = 0;
    while (index < sample.tokens.length && (sample.loss_mask[index] ?? 0) === mask) {
      logprobs += sample.logprobs[index] ?? 0;
      index++;
    }
    spans.push({
      start,
      end: index,
      kind: mask === 1 ? "sampled" : "observation",
      meanLogprob: mask === 1 ? logprobs / (index - start) : null,
    });
  }
  return spans;
}

function sampleSection(sample: RolloutSample) {
  const spans = lossMaskSpans(sample);
  const sampled = sample.loss_mask.reduce((sum, mask) => sum + mask, 0);
  return html`<section class="sample"><h3>Sample <code>${sample.sample_id}</code> · ${sample.status} · policy ${sample.policy_version}</h3>
<p>${sample.tokens.length} tokens: prompt ${sample.prompt_len}, sampled (loss mask 1) ${sampled}, observed ${sample.tokens.length - sample.prompt_len - sampled}; reward ${formatNumber(sample.reward)}</p>
<table class="grid spans"><thead><tr><th>span</th><th>tokens</th><th>length</th><th>loss mask</th><th>mean logprob</th><th>token ids</th></tr></thead><tbody>${spans.map(
    (
      span,
      index,
    ) => html`<tr class="span-${span.kind}"><td>${index + 1}. ${span.kind}</td><td class="num">${span.start}–${span.end - 1}</td>
<td class="num">${span.end - span.start}</td><td>${span.kind === "sampled" ? "1" : "0"}</td><td class="num">${formatNumber(span.meanLogprob)}</td>
<td class="clip"><code>${sample.tokens.slice(span.start, Math.min(span.end, span.start + 24)).join(" ")}${span.end - span.start > 24 ? " …" : ""}</code></td></tr>`,
  )}</tbody></table></section>`;
}

export function episodePage(view: EpisodeView) {
  const { episode } = view;
  const policy = episode.policy as { kind?: string; name?: string; version?: string } | null;
  const trajectory = episode.trajectory.filter(
    (entry): entry is Entry => typeof entry === "object" && entry !== null,
  );
  const stats = Object.entries(episode.stats);
  const artifactId = view.attempt?.artifactId ?? view.step?.artifactId ?? null;
  return page({
    title: `${episode.role === "proposer" ? "Proposer" : "Solver"} episode`,
    trail: [
      { label: episode.runId, href: runHref(episode.runId) },
      ...(artifactId
        ? [{ label: `artifact ${artifactId.slice(0, 12)}`, href: artifactHref(artifactId) }]
        : []),
      { label: `episode ${episode.id.split("/").pop()}` },
    ],
    body: html`<table class="facts" id="episode-facts"><tbody>
<tr><th>id</th><td><code>${episode.id}</code></td><th>role</th><td>${episode.role}</td></tr>
<tr><th>policy</th><td>${policy ? `${policy.kind ?? ""} ${policy.name ?? ""} ${policy.version ?? ""}` : "–"}</td><th>step</th><td>${episode.stepIndex}${
      view.attempt ? `, attempt ${view.attempt.attemptIndex}` : ""
    }</td></tr>
<tr><th>state</th><td>${episode.state}</td><th>status</th><td>${episode.status ?? "–"}</td></tr>
<tr><th>exit reason</th><td id="exit-reason">${episode.exitReason ?? "–"}</td><th>reward</th><td>${
      view.reward
        ? html`${formatNumber(view.reward.value)} <span class="muted">(${view.reward.reason})</span>`
        : "–"
    }</td></tr>
<tr><th>turns</th><td>${trajectory.length}</td><th>result</th><td>${
      view.attempt
        ? view.attempt.resolved === null
          ? "not graded"
          : view.attempt.resolved
            ? "resolved"
            : "not resolved"
        : view.step?.artifactId
          ? "artifact submitted"
          : "no artifact"
    }</td></tr>
<tr><th>started</th><td>${episode.startedAt}</td><th>ended</th><td>${episode.endedAt ?? "–"}</td></tr>
</tbody></table>
${stats.length > 0 ? html`<table class="facts" id="episode-stats"><tbody><tr>${stats.map(([key, value]) => html`<th>${key}</th><td class="num">${value}</td>`)}</tr></tbody></table>` : ""}
<section id="trajectory"><h2>Trajectory (${trajectory.length} steps)</h2>${
      trajectory.length === 0
        ? html`<p class="muted">Nothing recorded.</p>`
        : html`<ol class="trajectory">${trajectory.map((entry, index) => (isAgentTurn(entry) ? agentTurn(entry) : genericStep(entry, index)))}</ol>`
    }</section>
<section id="samples"><h2>Token-level samples</h2>${
      view.samples.length === 0
        ? html`<p class="muted">None: this policy samples no tokens (the built-in policy) or the episode recorded none.</p>`
        : view.samples.map(sampleSection)
    }</section>`,
  });
}
