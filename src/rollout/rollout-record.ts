// Pure: builds rollout.v1 samples (DESIGN §8) from per-turn token traces, and checks their invariants.
// A turn whose prompt does not extend the previous tokens starts a new sample: we never re-tokenize.

import type { TokenTrace } from "../ports/model.js";
import type { EpisodeStatus, RolloutSample, SamplingSettings } from "../ports/rollout.js";

interface OpenSample {
  tokens: number[];
  lossMask: number[];
  logprobs: number[];
  promptLength: number;
  firstTurn: number;
  lastTurn: number;
  /** Why this sample started: "first-turn", "prefix-mismatch" or "missing-tokens". */
  startReason: string;
  /** The model (or adapter) each of its turns was sampled from, in turn order; null where unknown. */
  turnModels: (string | null)[];
}

/** Accumulates the token traces of one episode, turn by turn. */
export class RolloutAccumulator {
  private readonly closed: OpenSample[] = [];
  private current: OpenSample | null = null;
  private pendingReason = "first-turn";
  /** Turns whose prompt did not extend the previous turn's prompt + completion. */
  prefixMismatches = 0;
  /** Turns for which the server returned no token ids. */
  turnsWithoutTokens = 0;

  /** Records one model call; `turn` is its index in the episode. Returns whether it extended the open sample. */
  add(turn: number, trace: TokenTrace | null): "extended" | "started" | "skipped" {
    if (trace === null) {
      this.turnsWithoutTokens++;
      this.close("missing-tokens");
      return "skipped";
    }
    const open = this.current;
    if (open && startsWith(trace.promptTokenIds, open.tokens)) {
      const observed = trace.promptTokenIds.length - open.tokens.length;
      for (let index = open.tokens.length; index < trace.promptTokenIds.length; index++)
        open.tokens.push(trace.promptTokenIds[index]!);
      pushZeros(open.lossMask, observed);
      pushZeros(open.logprobs, observed);
      appendSampled(open, trace);
      open.lastTurn = turn;
      open.turnModels.push(trace.model ?? null);
      return "extended";
    }
    if (open) {
      this.prefixMismatches++;
      this.close("prefix-mismatch");
    }
    const fresh: OpenSample = {
      tokens: [...trace.promptTokenIds],
      lossMask: new Array<number>(trace.promptTokenIds.length).fill(0),
      logprobs: new Array<number>(trace.promptTokenIds.length).fill(0),
      promptLength: trace.promptTokenIds.length,
      firstTurn: turn,
      lastTurn: turn,
      startReason: this.pendingReason,
      turnModels: [trace.model ?? null],
    };
    appendSampled(fresh, trace);
    this.current = fresh;
    return "started";
  }

  private close(reasonForNext: string): void {
    if (this.current) this.closed.push(this.current);
    this.current = null;
    this.pendingReason = reasonForNext;
  }

  /** The samples so far, as rollout.v1 records (the open one included). */
  samples(context: {
    episodeId: string;
    groupId: string;
    role: "proposer" | "solver";
    policyVersion: string;
    sampling: SamplingSettings;
    status: EpisodeStatus;
    meta?: Record<string, unknown>;
  }): RolloutSample[] {
    const all = this.current ? [...this.closed, this.current] : this.closed;
    return all.map((sample, index) => ({
      schema: "rollout.v1",
      sample_id: `${context.episodeId}-s${index}`,
      group_id: context.groupId,
      episode_id: context.episodeId,
      role: context.role,
      policy_version: context.policyVersion,
      sampling: context.sampling,
      tokens: [...sample.tokens],
      prompt_len: sample.promptLength,
      loss_mask: [...sample.lossMask],
      logprobs: [...sample.logprobs],
      reward: null,
      status: context.status,
      meta: {
        ...context.meta,
        sample_index: index,
        sample_count: all.length,
        turns: [sample.firstTurn, sample.lastTurn],
        start_reason: sample.startReason,
        turn_models: [...sample.turnModels],
      },
    }));
  }
}

function startsWith(tokens: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > tokens.length) return false;
  for (let index = 0; index < prefix.length; index++) if (tokens[index] !== prefix[index]) return false;
  return true;
}

function pushZeros(target: number[], count: number): void {
  for (let index = 0; index < count; index++) target.push(0);
}

function appendSampled(sample: OpenSample, trace: TokenTrace): void {
  for (let index = 0; index < trace.completionTokenIds.length; index++) {
    sample.tokens.push(trace.completionTokenIds[index]!);
    sample.lossMask.push(1);
    sample.logprobs.push(trace.logprobs[index] ?? 0);
  }
}

/** Every violated invariant of a rollout.v1 sample, in words; empty when it is sound. */
export function rolloutInvariantViolations(sample: RolloutSample): string[] {
  const problems: string[] = [];
  if (sample.schema !== "rollout.v1")
    problems.push(`schema is ${String(sample.schema)}, expected rollout.v1`);
  const length = sample.tokens.length;
  if (sample.loss_mask.length !== length)
    problems.push(`loss_mask has ${sample.loss_mask.length} entries for ${length} tokens`);
  if (sample.logprobs.length !== length)
    problems.push(`logprobs has ${sample.logprobs.length} entries for ${length} tokens`);
  if (!Number.isInteger(sample.prompt_len) || sample.prompt_len < 0 || sample.prompt_len > length)
    problems.push(`prompt_len ${sample.prompt_len} is outside 0..${length}`);
  if (sample.tokens.some((token) => !Number.isInteger(token) || token < 0))
    problems.push("tokens holds a value that is not a non-negative integer");
  for (let index = 0; index < Math.min(length, sample.loss_mask.length); index++) {
    const mask = sample.loss_mask[index];
    const logprob = sample.logprobs[index];
    if (mask !== 0 && mask !== 1) {
      problems.push(`loss_mask[${index}] is ${mask}, expected 0 or 1`);
      break;
    }
    if (index < sample.prompt_len && mask !== 0) {
      problems.push(`loss_mask[${index}] is 1 inside the prompt`);
      break;
    }
    if (mask === 0 && logprob !== 0) {
      problems.push(`logprobs[${index}] is ${logprob} where loss_mask is 0`);
      break;
    }
    if (mask === 1 && (logprob === undefined || !Number.isFinite(logprob) || logprob > 0)) {
      problems.push(`logprobs[${index}] is ${logprob}, expected a finite value <= 0 for a sampled token`);
      break;
    }
  }
  return problems;
}
