// What `propose`, `solve` and `run` tell the user while a model works: the server's capabilities, probed once
// before an episode batch, and one stderr line per turn, validation and grading.
import type { ServerCapabilities } from "../ports/model.js";
import type { Policy, PolicyEpisode } from "../ports/policy.js";

export interface Writable {
  write(text: string): unknown;
}

const clock = () => new Date().toISOString().slice(11, 19);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A line on stderr with the time in front, as run's progress lines have. */
export function progressLine(text: string, stream: Writable = process.stderr): void {
  stream.write(`${clock()} ${text}\n`);
}

/** The capabilities as one line: what the server has, and the evidence for what it lacks. */
export function formatCapabilities(capabilities: ServerCapabilities): string {
  const finding = (name: string, found: { supported: boolean; detail: string }) =>
    `${name}: ${found.supported ? "yes" : `no (${found.detail})`}`;
  const listed =
    capabilities.listedModels === null
      ? "no model list"
      : capabilities.listedModels.includes(capabilities.model)
        ? "listed"
        : `not listed (server lists ${capabilities.listedModels.join(", ") || "none"})`;
  return [
    `model server ${capabilities.url}, model "${capabilities.model}" ${listed}`,
    finding("token ids", capabilities.tokenIds),
    finding("logprobs", capabilities.logprobs),
    finding("native tool calls", capabilities.nativeToolCalls),
    finding("tool results in the prompt", capabilities.toolResults),
  ].join("; ");
}

/** Why episodes from this server give no trainable samples, or null when they can. */
export function untrainableReason(capabilities: ServerCapabilities): string | null {
  if (!capabilities.tokenIds.supported)
    return `the server returns no token ids (${capabilities.tokenIds.detail})`;
  if (!capabilities.logprobs.supported)
    return `the server returns no logprobs (${capabilities.logprobs.detail})`;
  return null;
}

/**
 * Probes a model policy's server once and reports it on stderr; null for policies without a server.
 * Warns when episodes will not be trainable or native tool calls will not work.
 */
export async function probeAndReport(
  policy: Policy,
  options: { callFormat?: string; stream?: Writable; abortSignal?: AbortSignal } = {},
): Promise<ServerCapabilities | null> {
  if (!policy.probe) return null;
  const stream = options.stream ?? process.stderr;
  const capabilities = await policy.probe(options.abortSignal);
  progressLine(formatCapabilities(capabilities), stream);
  const untrainable = untrainableReason(capabilities);
  if (untrainable)
    progressLine(`episodes against this server give no trainable samples: ${untrainable}`, stream);
  if (options.callFormat !== "text" && !capabilities.nativeToolCalls.supported)
    progressLine(
      `native tool calls do not work here (${capabilities.nativeToolCalls.detail}); try --call-format text or another --tool-choice`,
      stream,
    );
  return capabilities;
}

interface ModelStep {
  turn: number;
  modelMs: number;
  toolMs: number;
  contextTokens: number;
  formatError: string | null;
  observations: { tool: string; status: string }[];
}

function isModelStep(entry: unknown): entry is ModelStep {
  const step = entry as Partial<ModelStep> | null;
  return (
    typeof step?.turn === "number" && typeof step.modelMs === "number" && Array.isArray(step.observations)
  );
}

/** One line for a finished turn: model time, each tool call and its status, tool time, context size. */
export function formatStep(step: ModelStep): string {
  const calls = step.observations
    .map((observation) => `${observation.tool} ${observation.status}`)
    .join(", ");
  const action = calls !== "" ? calls : step.formatError ? "no usable tool call" : "no tool call";
  return `turn ${step.turn + 1}: model ${seconds(step.modelMs)}, ${action} (${seconds(step.toolMs)}), ${step.contextTokens} context tokens`;
}

/** An `onStep` handler that prints each new model turn of an episode, prefixed with `label`. */
export function episodeProgress(
  label: string,
  stream: Writable = process.stderr,
): (episode: PolicyEpisode) => void {
  let printed = -1;
  return (episode) => {
    const last = episode.trajectory.at(-1);
    if (!isModelStep(last) || last.turn <= printed) return;
    printed = last.turn;
    progressLine(`${label} ${formatStep(last)}`, stream);
  };
}

/** Runs `work`, printing a start line and its duration with the line `done` makes of its result. */
export async function timed<T>(
  label: string,
  work: () => Promise<T>,
  done: (result: T) => string,
  stream: Writable = process.stderr,
): Promise<T> {
  progressLine(`${label}…`, stream);
  const started = performance.now();
  const result = await work();
  progressLine(`${label}: ${done(result)} in ${seconds(performance.now() - started)}`, stream);
  return result;
}
