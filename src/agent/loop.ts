// The agent loop: messages → model → tool calls → observations, until a submission or a limit.
// Every step is handed to onStep (and appended to an optional JSONL file) before the next model call.
import { appendFileSync } from "node:fs";
import { RolloutAccumulator } from "../model/rollout-record.js";
import type { ChatMessage, Completion, ModelClient, ToolCall } from "../ports/model.js";
import type { SandboxView } from "../ports/sandbox.js";
import type { CallFormat, ToolObservation } from "./call-format.js";
import type { Tool } from "./tools/tool.js";

export interface LoopLimits {
  /** Model calls per episode. */
  maxTurns: number;
  /** Prompt + completion tokens the conversation may reach. */
  maxContextTokens: number;
  maxWallTimeMs: number;
  /** Replies in a row without a usable tool call. */
  maxConsecutiveFormatErrors: number;
  /** Characters of one observation kept (head and tail); the middle is replaced by a marker. */
  maxObservationChars: number;
}

export const DEFAULT_LIMITS: LoopLimits = {
  maxTurns: 64,
  maxContextTokens: 32_768,
  maxWallTimeMs: 3_600_000,
  maxConsecutiveFormatErrors: 5,
  maxObservationChars: 12_000,
};

export type ExitReason =
  | "submitted"
  | "max-turns"
  | "context-overflow"
  | "wall-time"
  | "format-errors"
  | "aborted";

export interface TrajectoryStep {
  turn: number;
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string;
  observations: { tool: string; status: string; output: string }[];
  formatError: string | null;
  contextTokens: number;
  modelMs: number;
  toolMs: number;
  /** Time of the step spent in the loop itself (neither model nor tools). */
  overheadMs: number;
}

export interface LoopOptions {
  model: ModelClient;
  tools: readonly Tool[];
  callFormat: CallFormat;
  sandbox: SandboxView;
  systemPrompt: string;
  userPrompt: string;
  limits?: Partial<LoopLimits>;
  seed?: number;
  abortSignal?: AbortSignal;
  onStep?(step: TrajectoryStep, state: LoopState): void | Promise<void>;
  /** A JSONL file that gets one line per step, written synchronously. */
  trajectoryFile?: string;
}

export interface LoopState {
  messages: ChatMessage[];
  steps: TrajectoryStep[];
  rollout: RolloutAccumulator;
  submission: unknown;
}

export interface LoopResult extends LoopState {
  exitReason: ExitReason;
  stats: Record<string, number>;
}

const OVERHEAD_FIELDS = [
  "turns",
  "formatErrors",
  "modelMs",
  "toolMs",
  "overheadMs",
  "contextTokens",
] as const;

export function truncateObservation(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const head = Math.floor(maxChars * 0.6);
  const tail = maxChars - head;
  const omitted = text.length - head - tail;
  return `${text.slice(0, head)}\n[... ${omitted} characters omitted; narrow the command (grep, head, tail, sed -n) to see them ...]\n${text.slice(text.length - tail)}`;
}

/** Rough token count (3 characters a token) of text not yet sent, so a limit is hit before the server refuses the prompt. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

export async function runAgentLoop(options: LoopOptions): Promise<LoopResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // A token-in/token-out client keeps this episode's tokens in a client of its own.
  const model = options.model.startEpisode?.() ?? options.model;
  const started = performance.now();
  const toolsByName = new Map(options.tools.map((tool) => [tool.specification.name, tool]));
  const specifications = options.tools.map((tool) => tool.specification);
  const addendum = options.callFormat.systemAddendum(specifications);
  const state: LoopState = {
    messages: [
      {
        role: "system",
        content: addendum === "" ? options.systemPrompt : `${options.systemPrompt}\n\n${addendum}`,
      },
      { role: "user", content: options.userPrompt },
    ],
    steps: [],
    rollout: new RolloutAccumulator(),
    submission: undefined,
  };
  const stats: Record<string, number> = Object.fromEntries(OVERHEAD_FIELDS.map((field) => [field, 0]));
  let consecutiveFormatErrors = 0;
  let contextTokens = state.messages.reduce((sum, message) => sum + estimateTokens(message.content ?? ""), 0);
  // The wall-time limit also interrupts a model call or command in flight.
  const wallTime = AbortSignal.timeout(limits.maxWallTimeMs);
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, wallTime]) : wallTime;
  const finish = (exitReason: ExitReason): LoopResult => ({ ...state, exitReason, stats });
  const interrupted = (): ExitReason | null =>
    options.abortSignal?.aborted ? "aborted" : wallTime.aborted ? "wall-time" : null;

  for (let turn = 0; ; turn++) {
    const stop = interrupted() ?? (performance.now() - started >= limits.maxWallTimeMs ? "wall-time" : null);
    if (stop) return finish(stop);
    if (turn >= limits.maxTurns) return finish("max-turns");
    if (contextTokens >= limits.maxContextTokens) return finish("context-overflow");
    const stepStarted = performance.now();
    const configuredMax = model.sampling.max_tokens;
    const room = limits.maxContextTokens - contextTokens;
    let completion: Completion;
    try {
      const result = await model.complete({
        messages: state.messages,
        tools: options.callFormat.offeredTools(specifications),
        seed: options.seed === undefined ? undefined : options.seed + turn,
        maxTokens: configuredMax === undefined ? undefined : Math.min(configuredMax, room),
        contextLimit: limits.maxContextTokens,
        abortSignal: signal,
      });
      if (result.status === "context-overflow") return finish("context-overflow");
      completion = result.completion;
    } catch (error) {
      const stop = interrupted();
      if (stop) return finish(stop);
      throw error;
    }
    const modelMs = performance.now() - stepStarted;
    state.rollout.add(turn, completion.tokens);
    state.messages.push(options.callFormat.assistantMessage(completion));
    // Exact counts when the server reports usage; otherwise keep estimating from the text.
    const reported = completion.usage.promptTokens + completion.usage.completionTokens;
    contextTokens =
      reported > 0
        ? reported
        : contextTokens +
          estimateTokens(completion.content ?? "") +
          completion.toolCalls.reduce((sum, call) => sum + estimateTokens(call.arguments), 0);

    let toolMs = 0;
    const observations: ToolObservation[] = [];
    const recorded: TrajectoryStep["observations"] = [];
    let formatError: string | null = null;
    let submitted = false;
    const parsed =
      completion.finishReason === "length"
        ? ({
            status: "format-error",
            message: "Your reply was cut off at the token limit; keep replies shorter.",
          } as const)
        : options.callFormat.parse(completion, turn);
    if (parsed.status === "format-error") formatError = parsed.message;
    else {
      let anyValid = false;
      for (const call of parsed.calls) {
        const tool = toolsByName.get(call.name);
        const toolStarted = performance.now();
        const outcome = submitted
          ? {
              status: "invalid" as const,
              output: "Not run: the episode ended with the submission before this call.",
            }
          : tool
            ? await tool.call(call.arguments, { sandbox: options.sandbox, abortSignal: signal })
            : {
                status: "invalid" as const,
                output: `There is no tool named "${call.name}". The tools are: ${[...toolsByName.keys()].join(", ")}.`,
              };
        toolMs += performance.now() - toolStarted;
        if (outcome.status !== "invalid") anyValid = true;
        if (outcome.status === "submitted") {
          submitted = true;
          state.submission = outcome.submission;
        }
        const output = truncateObservation(outcome.output, limits.maxObservationChars);
        observations.push({ call, output });
        recorded.push({ tool: call.name, status: outcome.status, output });
      }
      if (!anyValid) formatError = recorded.map((observation) => observation.output).join("\n");
    }
    consecutiveFormatErrors = formatError === null ? 0 : consecutiveFormatErrors + 1;
    stats.formatErrors! += formatError === null ? 0 : 1;

    const turnsLeft = limits.maxTurns - turn - 1;
    const pending = observations.reduce((sum, observation) => sum + observation.output.length, 0);
    const tokensLeft = Math.max(0, limits.maxContextTokens - contextTokens - Math.ceil(pending / 3));
    const budget = `[budget: ${turnsLeft} turns and about ${tokensLeft} context tokens left]`;
    const newMessages =
      parsed.status === "format-error"
        ? options.callFormat.formatErrorMessages(completion, parsed.message, budget)
        : options.callFormat.observationMessages(observations, budget);
    state.messages.push(...newMessages);
    for (const message of newMessages) contextTokens += estimateTokens(message.content ?? "");

    const step: TrajectoryStep = {
      turn,
      content: completion.content,
      toolCalls:
        completion.toolCalls.length > 0 || parsed.status !== "calls" ? completion.toolCalls : parsed.calls,
      finishReason: completion.finishReason,
      observations: recorded,
      formatError,
      contextTokens,
      modelMs,
      toolMs,
      overheadMs: 0,
    };
    step.overheadMs = Math.max(0, performance.now() - stepStarted - modelMs - toolMs);
    state.steps.push(step);
    stats.turns = turn + 1;
    stats.modelMs! += modelMs;
    stats.toolMs! += toolMs;
    stats.overheadMs! += step.overheadMs;
    stats.contextTokens = contextTokens;
    if (options.trajectoryFile) appendFileSync(options.trajectoryFile, `${JSON.stringify(step)}\n`);
    await options.onStep?.(step, state);
    if (submitted) return finish("submitted");
    if (consecutiveFormatErrors >= limits.maxConsecutiveFormatErrors) return finish("format-errors");
  }
}
