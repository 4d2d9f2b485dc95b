// The store's branded ids and records, as the program sees them (camelCase, parsed JSON); the Store port
// (src/ports/store.ts) reads and writes them and re-exports them.
import type { ArtifactMeta, BugArtifact } from "./artifact.js";
import type { EpisodeConversation } from "./policy.js";
import type { EpisodeStatus } from "./rollout.js";
import type { GradeResult, ValidationReport } from "./validation.js";

declare const brand: unique symbol;
type Brand<T, Name extends string> = T & { readonly [brand]: Name };

export type RunId = Brand<string, "RunId">;
export type EpisodeId = Brand<string, "EpisodeId">;
export type ArtifactId = Brand<string, "ArtifactId">;
export type GroupId = Brand<string, "GroupId">;
export type AttemptId = Brand<string, "AttemptId">;
export type CandidateId = Brand<string, "CandidateId">;

export type RunStatus = "running" | "interrupted" | "completed" | "failed";
export type StepState = "proposing" | "validating" | "solving" | "done" | "failed";
/** How a proposer step or a second-order candidate ended. */
export type Outcome = "valid" | "invalid" | "no-artifact" | "error" | "duplicate";

export interface RunRecord {
  id: RunId;
  status: RunStatus;
  config: unknown;
  seed: number;
  /** How many times the run was started (1 + number of resumes). */
  starts: number;
  createdAt: string;
  updatedAt: string;
}

export interface EnvironmentRecord {
  runId: RunId;
  name: string;
  spec: unknown;
  status: "active" | "disabled";
  consecutiveFailures: number;
  disabledReason: string | null;
}

export interface StepRecord {
  runId: RunId;
  stepIndex: number;
  environment: string;
  strategy: string;
  seed: number;
  state: StepState;
  outcome: Outcome | null;
  episodeId: EpisodeId | null;
  artifactId: ArtifactId | null;
  error: string | null;
  startedAt: string;
  endedAt: string | null;
  /** The earlier step of the run whose artifact this step's repeats (identical or the same bug), if any. */
  duplicateOf: number | null;
  duplicateKind: "identical" | "semantic" | null;
}

export interface EpisodeRecord {
  id: EpisodeId;
  runId: RunId;
  role: "proposer" | "solver";
  stepIndex: number;
  groupId: GroupId | null;
  state: "running" | "finished" | "aborted";
  policy: unknown;
  status: EpisodeStatus | null;
  exitReason: string | null;
  trajectory: unknown[];
  /** What a tool-calling episode sent and received; null for other policies and for episodes stored before it was kept. */
  conversation: EpisodeConversation | null;
  stats: Record<string, number>;
  startedAt: string;
  endedAt: string | null;
}

/** An episode's trainability evidence: its policy kind, its stats and how many rollout samples it left. */
export interface EpisodeSampleCount {
  id: EpisodeId;
  role: "proposer" | "solver";
  state: EpisodeRecord["state"];
  policyKind: string | null;
  stats: Record<string, number>;
  samples: number;
}

export interface StoredArtifact {
  id: ArtifactId;
  artifact: BugArtifact;
  meta: ArtifactMeta;
  createdAt: string;
}

export interface StoredValidation {
  artifactId: ArtifactId;
  environment: string;
  report: ValidationReport;
  createdAt: string;
}

export interface GroupRecord {
  id: GroupId;
  runId: RunId;
  stepIndex: number;
  artifactId: ArtifactId;
  environment: string;
  order: 1 | 2;
  parentGroupId: GroupId | null;
  sourceAttemptId: AttemptId | null;
  groupSize: number;
  state: "solving" | "graded";
  solveRate: number | null;
  createdAt: string;
  gradedAt: string | null;
}

export interface AttemptRecord {
  id: AttemptId;
  groupId: GroupId;
  attemptIndex: number;
  seed: number;
  state: "pending" | "done";
  episodeId: EpisodeId | null;
  patch: string | null;
  grade: GradeResult | null;
  resolved: boolean | null;
  finishedAt: string | null;
}

export interface CandidateRecord {
  id: CandidateId;
  groupId: GroupId;
  attemptId: AttemptId;
  state: "pending" | "validating" | "done";
  outcome: Outcome | null;
  artifactId: ArtifactId | null;
  childGroupId: GroupId | null;
  reason: string | null;
}

export interface RewardRecord {
  episodeId: EpisodeId;
  runId: RunId;
  role: "proposer" | "solver";
  groupId: string;
  value: number;
  reason: string;
  createdAt: string;
}

export interface TrainerIteration {
  runId: RunId;
  iteration: number;
  policyVersion: string;
  /** Named numeric metrics, e.g. reward_mean, solve_rate, loss. */
  metrics: Record<string, number>;
  createdAt: string;
}
