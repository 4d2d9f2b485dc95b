// A policy plays a role: builtin (offline), builtin-demo (the built-in policy's plans replayed as tool-call
// episodes), openai (any OpenAI-compatible server) or scripted (tests).

import type { BugArtifact, Difficulty, Strategy } from "./artifact.js";
import type { ChatMessage, ServerCapabilities, ToolCall, ToolSpecification } from "./model.js";
import type { EpisodeStatus, RolloutSample } from "./rollout.js";
import type { SandboxView } from "./sandbox.js";
import type { Thresholds, ValidationReport } from "./validation.js";

export type Role = "proposer" | "solver";

export interface PolicyInfo {
  kind: "builtin" | "builtin-demo" | "openai" | "scripted";
  /** Model or algorithm name. */
  name: string;
  /** Version a trainer can match samples against (prompt version, weights step, builtin release). */
  version: string;
}

export interface PolicyEpisode {
  id: string;
  role: Role;
  policy: PolicyInfo;
  status: EpisodeStatus;
  /** Why it ended, e.g. "submitted", "max-turns", "context-overflow", "wall-time", "format-errors", "no-candidate". */
  exitReason: string;
  /** Policy-specific steps (messages and observations, or search steps), JSON-serialisable. */
  trajectory: unknown[];
  /** Token-level samples for a trainer; empty for policies without a model. */
  samples: RolloutSample[];
  /** Exactly what a tool-calling episode sent and received, so an export rebuilds what the model saw. */
  conversation?: EpisodeConversation;
  startedAt: string;
  endedAt: string | null;
  stats: Record<string, number>;
}

/**
 * A tool-calling episode's conversation as the model saw it: every message as sent (system prompt with any
 * call-format addendum, task prompt, replies, observations, format errors) and the tool specifications.
 */
export interface EpisodeConversation {
  /** How calls were made: "native" (tool_calls), "hermes" or "json" (calls in the text), "text" (tool blocks). */
  callFormat: string;
  /** The episode's tools, in the order they were offered. */
  tools: ToolSpecification[];
  /** Whether the tools went to the server with each request (else they were only described in the system prompt). */
  toolsOffered: boolean;
  messages: ChatMessage[];
  /** The calls read from each assistant message, in order (empty when it had no usable call). */
  calls: ToolCall[][];
}

export interface ProposeRequest {
  /** A fresh sandbox of the environment, with its git history. */
  sandbox: SandboxView;
  environmentName: string;
  strategy: Strategy;
  /** Only bugs of this difficulty (a policy that cannot tell may ignore it); absent: any. */
  difficulty?: Difficulty;
  seed: number;
  thresholds: Thresholds;
  /** Runs the consistency checks on a candidate (results cached by artifact id), so a policy may self-validate. */
  validate(artifact: BugArtifact): Promise<ValidationReport>;
  abortSignal?: AbortSignal;
  /** Called after every step with the episode so far, so a crash loses at most the step in flight. */
  onStep?(episode: PolicyEpisode): void | Promise<void>;
}

export type ProposeOutcome =
  | { status: "submitted"; artifact: BugArtifact; episode: PolicyEpisode }
  | {
      status: "failed";
      reason: string;
      episode: PolicyEpisode;
      /**
       * "environment" when the failure is the environment's, not the episode's: no proposer can get an
       * artifact from it as it is (no test command found, the baseline does not pass). A run whose first
       * steps on an environment all fail so for the same reason takes the environment out.
       */
      scope?: "episode" | "environment";
      /** The strategy cannot apply to this environment at all (e.g. history with no commit to revert). */
      strategyUnavailable?: boolean;
    };

export interface SolveRequest {
  /** The buggy state with one fresh commit and no history. */
  sandbox: SandboxView;
  /** The reverse of test_weaken.diff: the only specification. */
  specification: string;
  /** The fixed solver prompt with the specification inside. */
  prompt: string;
  seed: number;
  abortSignal?: AbortSignal;
  onStep?(episode: PolicyEpisode): void | Promise<void>;
}

/** The predicted patch is always returned (possibly empty); grading decides whether it resolves the bug. */
export interface SolveOutcome {
  patch: string;
  episode: PolicyEpisode;
}

export interface Policy {
  readonly info: PolicyInfo;
  propose(request: ProposeRequest): Promise<ProposeOutcome>;
  solve(request: SolveRequest): Promise<SolveOutcome>;
  /** Model policies: what the model server offers (token ids, logprobs, native tool calls), probed once. */
  probe?(abortSignal?: AbortSignal): Promise<ServerCapabilities>;
}
