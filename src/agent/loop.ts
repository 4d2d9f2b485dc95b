// The agent loop: messages → model → tool calls → observations, until a submission or a limit.
// Every step is handed to onStep (and appended to an optional JSONL file) before the next model call.
import { appendFileSync } from "node:fs";
import type { ChatMessage, Completion, ModelClient, ToolCall, ToolSpecification } from "../ports/model.js";
import type { SandboxView } from "../ports/sandbox.js";
import { RolloutAccumulator } from "../rollout/index.js";
import type { CallFormat, ParsedReply, ToolObservation } from "./call-format.js";
import type { Tool, ToolOutcome } from "./tools/tool.js";

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

/** What one episode measured, turn by turn. */
export type LoopStats = {
  turns: number;
  formatErrors: number;
  modelMs: number;
  toolMs: number;
  /** Time spent in the loop itself (neither model nor tools). */
  overheadMs: number;
  /** Prompt + completion tokens of the conversation after the last step. */
  contextTokens: number;
};

export interface LoopResult extends LoopState {
  exitReason: ExitReason;
  stats: LoopStats;
}

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

/**
 * Runs one episode: each turn queries the model, executes the tool calls it made, hands the observations
 * back and records the step, until a submission or a limit ends it.
 */
export async function runAgentLoop(options: LoopOptions): Promise<LoopResult> {
  const episode = new Episode(options);
  for (let turn = 0; ; turn++) {
    const limit = episode.limitBefore(turn);
    if (limit) return episode.finish(limit);
    const stepStarted = performance.now();
    const queried = await episode.query(turn);
    if (queried.status === "exit") return episode.finish(queried.reason);
    const executed = await episode.execute(queried.completion, turn);
    episode.observe(queried.completion, executed, turn);
    await episode.record(turn, stepStarted, queried, executed);
    const exit = episode.exitAfter(executed);
    if (exit) return episode.finish(exit);
  }
}

type Answered = { status: "ok"; completion: Completion; modelMs: number };
type Queried = { status: "exit"; reason: ExitReason } | Answered;

/** What executing one reply's tool calls produced. */
interface Executed {
  parsed: ParsedReply;
  observations: ToolObservation[];
  recorded: TrajectoryStep["observations"];
  formatError: string | null;
  submitted: boolean;
  toolMs: number;
}

const NOT_RUN_AFTER_SUBMISSION = "Not run: the episode ended with the submission before this call.";
const CUT_OFF = "Your reply was cut off at the token limit; keep replies shorter.";

/** One episode's conversation, limits and measurements. */
class Episode {
  private readonly limits: LoopLimits;
  private readonly model: ModelClient;
  private readonly started = performance.now();
  private readonly toolsByName: Map<string, Tool>;
  private readonly specifications: ToolSpecification[];
  private readonly state: LoopState;
  private readonly stats: LoopStats = {
    turns: 0,
    formatErrors: 0,
    modelMs: 0,
    toolMs: 0,
    overheadMs: 0,
    contextTokens: 0,
  };
  private consecutiveFormatErrors = 0;
  private contextTokens: number;
  private readonly wallTime: AbortSignal;
  /** The caller's abort or the wall-time limit: either also interrupts a model call or command in flight. */
  private readonly signal: AbortSignal;

  constructor(private readonly options: LoopOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    // A token-in/token-out client keeps this episode's tokens in a client of its own.
    this.model = options.model.startEpisode?.() ?? options.model;
    this.toolsByName = new Map(options.tools.map((tool) => [tool.specification.name, tool]));
    this.specifications = options.tools.map((tool) => tool.specification);
    const addendum = options.callFormat.systemAddendum(this.specifications);
    const system = addendum === "" ? options.systemPrompt : `${options.systemPrompt}\n\n${addendum}`;
    this.state = {
      messages: [
        { role: "system", content: system },
        { role: "user", content: options.userPrompt },
      ],
      steps: [],
      rollout: new RolloutAccumulator(),
      submission: undefined,
    };
    this.contextTokens = this.state.messages.reduce(
      (sum, message) => sum + estimateTokens(message.content ?? ""),
      0,
    );
    this.wallTime = AbortSignal.timeout(this.limits.maxWallTimeMs);
    this.signal = options.abortSignal ? AbortSignal.any([options.abortSignal, this.wallTime]) : this.wallTime;
  }

  finish(exitReason: ExitReason): LoopResult {
    return { ...this.state, exitReason, stats: this.stats };
  }

  /** The limit that ends the episode before this turn's model call, if one does. */
  limitBefore(turn: number): ExitReason | null {
    const elapsed = performance.now() - this.started;
    const stop = this.interrupted() ?? (elapsed >= this.limits.maxWallTimeMs ? "wall-time" : null);
    if (stop) return stop;
    if (turn >= this.limits.maxTurns) return "max-turns";
    if (this.contextTokens >= this.limits.maxContextTokens) return "context-overflow";
    return null;
  }

  /** Query: one model call within the context budget; its reply joins the conversation and the rollout. */
  async query(turn: number): Promise<Queried> {
    const queryStarted = performance.now();
    const configuredMax = this.model.sampling.max_tokens;
    const room = this.limits.maxContextTokens - this.contextTokens;
    let completion: Completion;
    try {
      const result = await this.model.complete({
        messages: this.state.messages,
        tools: this.options.callFormat.offeredTools(this.specifications),
        seed: this.options.seed === undefined ? undefined : this.options.seed + turn,
        maxTokens: configuredMax === undefined ? undefined : Math.min(configuredMax, room),
        contextLimit: this.limits.maxContextTokens,
        abortSignal: this.signal,
      });
      if (result.status === "context-overflow") return { status: "exit", reason: "context-overflow" };
      completion = result.completion;
    } catch (error) {
      const stop = this.interrupted();
      if (stop) return { status: "exit", reason: stop };
      throw error;
    }
    const modelMs = performance.now() - queryStarted;
    this.state.rollout.add(turn, completion.tokens);
    this.state.messages.push(this.options.callFormat.assistantMessage(completion));
    // Exact counts when the server reports usage; otherwise keep estimating from the text.
    const reported = completion.usage.promptTokens + completion.usage.completionTokens;
    this.contextTokens =
      reported > 0
        ? reported
        : this.contextTokens +
          estimateTokens(completion.content ?? "") +
          completion.toolCalls.reduce((sum, call) => sum + estimateTokens(call.arguments), 0);
    return { status: "ok", completion, modelMs };
  }

  /** Execute: the reply's tool calls in order, none after a submission; a format error when none is usable. */
  async execute(completion: Completion, turn: number): Promise<Executed> {
    const parsed: ParsedReply =
      completion.finishReason === "length"
        ? { status: "format-error", message: CUT_OFF }
        : this.options.callFormat.parse(completion, turn);
    const executed: Executed = {
      parsed,
      observations: [],
      recorded: [],
      formatError: parsed.status === "format-error" ? parsed.message : null,
      submitted: false,
      toolMs: 0,
    };
    if (parsed.status === "format-error") return executed;
    let anyValid = false;
    for (const call of parsed.calls) {
      const toolStarted = performance.now();
      const outcome: ToolOutcome = executed.submitted
        ? { status: "invalid", output: NOT_RUN_AFTER_SUBMISSION }
        : await this.callTool(call);
      executed.toolMs += performance.now() - toolStarted;
      if (outcome.status !== "invalid") anyValid = true;
      if (outcome.status === "submitted") {
        executed.submitted = true;
        this.state.submission = outcome.submission;
      }
      const output = truncateObservation(outcome.output, this.limits.maxObservationChars);
      executed.observations.push({ call, output });
      executed.recorded.push({ tool: call.name, status: outcome.status, output });
    }
    if (!anyValid)
      executed.formatError = executed.recorded.map((observation) => observation.output).join("\n");
    return executed;
  }

  /** Observe: the tools' outputs (or the format error) go back to the model with the budget left. */
  observe(completion: Completion, executed: Executed, turn: number): void {
    this.consecutiveFormatErrors = executed.formatError === null ? 0 : this.consecutiveFormatErrors + 1;
    this.stats.formatErrors += executed.formatError === null ? 0 : 1;
    const turnsLeft = this.limits.maxTurns - turn - 1;
    const pending = executed.observations.reduce((sum, observation) => sum + observation.output.length, 0);
    const tokensLeft = Math.max(
      0,
      this.limits.maxContextTokens - this.contextTokens - Math.ceil(pending / 3),
    );
    const budget = `[budget: ${turnsLeft} turns and about ${tokensLeft} context tokens left]`;
    const newMessages =
      executed.parsed.status === "format-error"
        ? this.options.callFormat.formatErrorMessages(completion, executed.parsed.message, budget)
        : this.options.callFormat.observationMessages(executed.observations, budget);
    this.state.messages.push(...newMessages);
    for (const message of newMessages) this.contextTokens += estimateTokens(message.content ?? "");
  }

  /** Record: the step joins the trajectory, the stats and the trajectory file, then the caller's onStep. */
  async record(turn: number, stepStarted: number, answered: Answered, executed: Executed): Promise<void> {
    const { completion, modelMs } = answered;
    const { parsed, toolMs } = executed;
    const step: TrajectoryStep = {
      turn,
      content: completion.content,
      toolCalls:
        completion.toolCalls.length > 0 || parsed.status !== "calls" ? completion.toolCalls : parsed.calls,
      finishReason: completion.finishReason,
      observations: executed.recorded,
      formatError: executed.formatError,
      contextTokens: this.contextTokens,
      modelMs,
      toolMs,
      overheadMs: 0,
    };
    step.overheadMs = Math.max(0, performance.now() - stepStarted - modelMs - toolMs);
    this.state.steps.push(step);
    this.stats.turns = turn + 1;
    this.stats.modelMs += modelMs;
    this.stats.toolMs += toolMs;
    this.stats.overheadMs += step.overheadMs;
    this.stats.contextTokens = this.contextTokens;
    if (this.options.trajectoryFile) appendFileSync(this.options.trajectoryFile, `${JSON.stringify(step)}\n`);
    await this.options.onStep?.(step, this.state);
  }

  /** The exit a recorded step calls for: its submission, or one format error too many. */
  exitAfter(executed: Executed): ExitReason | null {
    if (executed.submitted) return "submitted";
    if (this.consecutiveFormatErrors >= this.limits.maxConsecutiveFormatErrors) return "format-errors";
    return null;
  }

  private callTool(call: ToolCall): Promise<ToolOutcome> {
    const tool = this.toolsByName.get(call.name);
    if (!tool) {
      const names = [...this.toolsByName.keys()].join(", ");
      return Promise.resolve({
        status: "invalid",
        output: `There is no tool named "${call.name}". The tools are: ${names}.`,
      });
    }
    return tool.call(call.arguments, { sandbox: this.options.sandbox, abortSignal: this.signal });
  }

  private interrupted(): ExitReason | null {
    return this.options.abortSignal?.aborted ? "aborted" : this.wallTime.aborted ? "wall-time" : null;
  }
}
