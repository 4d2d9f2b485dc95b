// The Store port: what the domain (self-play, the service, exports, the dashboard) reads and writes. SQLite
// implements it in src/store/. Its ids and records are in store-records.ts, re-exported here.
import type { BugArtifact } from "./artifact.js";
import type { PolicyEpisode } from "./policy.js";
import type { RolloutSample } from "./rollout.js";
import type {
  ArtifactId,
  AttemptId,
  AttemptRecord,
  CandidateId,
  CandidateRecord,
  EnvironmentRecord,
  EpisodeId,
  EpisodeRecord,
  EpisodeSampleCount,
  GroupId,
  GroupRecord,
  Outcome,
  RewardRecord,
  RunId,
  RunRecord,
  RunStatus,
  StepRecord,
  StoredArtifact,
  StoredValidation,
  TrainerIteration,
} from "./store-records.js";
import type { GradeResult, ValidationReport } from "./validation.js";

export type * from "./store-records.js";

// ---- inputs of the writes -------------------------------------------------------------------------------

export interface RewardInput {
  episodeId: EpisodeId;
  role: "proposer" | "solver";
  groupId: string;
  value: number;
  reason: string;
}

export interface NewGroup {
  id: GroupId;
  stepIndex: number;
  artifactId: ArtifactId;
  environment: string;
  order: 1 | 2;
  parentGroupId?: GroupId;
  sourceAttemptId?: AttemptId;
  /** One seed per attempt; the group size is their number. */
  attemptSeeds: number[];
}

/** Where an episode's rollout samples belong. */
export interface SampleContext {
  runId: RunId;
  stepIndex: number;
  groupId: string;
  role: "proposer" | "solver";
}

export interface NewStep {
  runId: RunId;
  stepIndex: number;
  environment: string;
  strategy: string;
  seed: number;
}

export interface NewEpisode {
  id: EpisodeId;
  runId: RunId;
  role: "proposer" | "solver";
  stepIndex: number;
  groupId?: GroupId | null;
}

export interface ProposalInput {
  runId: RunId;
  stepIndex: number;
  episodeId: EpisodeId;
  episode: PolicyEpisode;
  proposerGroupId: string;
  artifact: { id: ArtifactId; artifact: BugArtifact } | null;
  failure?: { reward: number; reason: string };
}

export interface StepValidationInput {
  runId: RunId;
  stepIndex: number;
  environment: string;
  report: ValidationReport;
  proposerGroupId: string;
  invalidReward: number;
  group: NewGroup | null;
}

export interface StepDuplicateInput {
  runId: RunId;
  stepIndex: number;
  environment: string;
  report: ValidationReport | null;
  proposerGroupId: string;
  duplicateOf: number;
  kind: "identical" | "semantic";
  reward: number;
  reason: string;
}

export interface AttemptResult {
  runId: RunId;
  stepIndex: number;
  attemptId: AttemptId;
  groupId: GroupId;
  episodeId: EpisodeId;
  episode: PolicyEpisode;
  patch: string;
  grade: GradeResult;
}

export interface GroupGrading {
  runId: RunId;
  groupId: GroupId;
  solveRate: number;
  rewards: RewardInput[];
}

export interface CandidateValidationInput {
  runId: RunId;
  candidateId: CandidateId;
  environment: string;
  report: ValidationReport;
  group: NewGroup | null;
}

export interface TrainerIterationInput {
  runId: RunId;
  iteration: number;
  policyVersion: string;
  metrics: Record<string, number>;
}

// ---- the port, by table group ----------------------------------------------------------------------------

export interface RunStore {
  createRun(run: { id: RunId; config: unknown; seed: number }): RunRecord;
  getRun(id: RunId): RunRecord | null;
  latestRun(): RunRecord | null;
  listRuns(): RunRecord[];
  /** Marks a run as started again (resume): status running, starts + 1, config updated. */
  restartRun(id: RunId, config: unknown): RunRecord;
  /** Heartbeat of a running run: updated_at says when its process was last alive. */
  touchRun(id: RunId): void;
  setRunStatus(id: RunId, status: RunStatus): void;
}

export interface EnvironmentStore {
  upsertEnvironment(runId: RunId, name: string, spec: unknown): void;
  listEnvironments(runId: RunId): EnvironmentRecord[];
  /** Counts an infrastructure failure; returns true when the environment is now disabled. */
  recordEnvironmentFailure(runId: RunId, name: string, reason: string, maxFailures: number): boolean;
  /** Takes an environment out of the run at once, with the reason the summary reports. */
  disableEnvironment(runId: RunId, name: string, reason: string): void;
  recordEnvironmentSuccess(runId: RunId, name: string): void;
  /** Gives every environment of a run a fresh chance (a resume may follow a repaired infrastructure). */
  reactivateEnvironments(runId: RunId): void;
}

export interface StepStore {
  /** Inserts a proposer step in state `proposing`; a step that exists already is returned unchanged. */
  insertStep(step: NewStep): StepRecord;
  getStep(runId: RunId, stepIndex: number): StepRecord | null;
  listSteps(runId: RunId): StepRecord[];
  stepCount(runId: RunId): number;
  /** Ends a step in state `failed` (infrastructure error); its running episodes are marked aborted. */
  failStep(runId: RunId, stepIndex: number, error: string): void;
  completeStep(runId: RunId, stepIndex: number): void;
  /**
   * Ends the proposer episode of a step. With an artifact the step moves on to validation; without one it
   * is done (outcome no-artifact) and the proposer gets its reward now.
   */
  recordProposal(input: ProposalInput): void;
  /**
   * Stores the validation report of a step's artifact. Invalid: the step is done and the proposer gets
   * `invalidReward`. Valid: the solver group and its pending attempts are created and the step moves to solving.
   */
  recordStepValidation(input: StepValidationInput): void;
  /**
   * Ends a step whose artifact repeats an earlier step's: done with outcome duplicate, no solver group, and
   * the proposer's reward now. The validation report, when there is one, is stored as usual.
   */
  recordStepDuplicate(input: StepDuplicateInput): void;
  /** Marks a step whose valid artifact is solved although it repeats an earlier step's bug (penalised). */
  markStepDuplicate(
    runId: RunId,
    stepIndex: number,
    duplicateOf: number,
    kind: "identical" | "semantic",
  ): void;
}

export interface EpisodeStore {
  /** Records an episode as running; redoing the same episode id is a no-op. */
  startEpisode(episode: NewEpisode): void;
  /** Saves the trajectory so far of a running episode (called after every step of the policy). */
  saveEpisodeProgress(id: EpisodeId, episode: PolicyEpisode): void;
  getEpisode(id: EpisodeId): EpisodeRecord | null;
  listEpisodes(runId: RunId): EpisodeRecord[];
  /** Every finished or aborted episode of a run with its policy kind, stats and rollout-sample count (no trajectories). */
  listEpisodeSampleCounts(runId: RunId): EpisodeSampleCount[];
  /** Marks every episode still running (work in flight at a crash or an interrupt) as aborted. */
  abortRunningEpisodes(runId: RunId, reason: string): number;
  /** Rollout records of a run (or one of its steps) with their rewards filled in. */
  listSamples(runId: RunId, stepIndex?: number): RolloutSample[];
}

export interface ArtifactStore {
  /** Stores an artifact by content id; the first stored copy wins. */
  insertArtifact(id: ArtifactId, artifact: BugArtifact): void;
  getArtifact(id: ArtifactId): StoredArtifact | null;
  listArtifacts(): StoredArtifact[];
  getValidation(artifactId: ArtifactId, environment: string): StoredValidation | null;
  listValidations(options?: { verdict?: "valid" | "invalid" }): StoredValidation[];
}

export interface GroupStore {
  getGroup(id: GroupId): GroupRecord | null;
  listGroups(runId: RunId, stepIndex?: number): GroupRecord[];
  listAttempts(groupId: GroupId): AttemptRecord[];
  /** Ends a solver attempt: its episode, samples, patch and grade, in one transaction; written once. */
  recordAttempt(input: AttemptResult): void;
  /** Closes a group: solve rate and every reward (solvers, and the proposer for first-order groups). */
  recordGroupGraded(input: GroupGrading): void;
  getReward(episodeId: EpisodeId): RewardRecord | null;
  listRewards(runId: RunId): RewardRecord[];
}

export interface CandidateStore {
  /** Creates the second-order candidates of a group (one per chosen failed attempt); existing ones stay. */
  insertCandidates(groupId: GroupId, attemptIds: readonly AttemptId[]): CandidateRecord[];
  listCandidates(groupId: GroupId): CandidateRecord[];
  listAllCandidates(runId: RunId): CandidateRecord[];
  /** The candidate's artifact was made; it moves on to validation. */
  recordCandidateArtifact(id: CandidateId, artifactId: ArtifactId, artifact: BugArtifact): void;
  /** Ends a candidate without a group (no artifact could be made, or infrastructure error). */
  recordCandidateEnded(
    id: CandidateId,
    outcome: Exclude<Outcome, "valid" | "invalid" | "duplicate">,
    reason: string,
  ): void;
  /** Stores the candidate's validation; a valid one gets its own solver group, scheduled like a first-order one. */
  recordCandidateValidation(input: CandidateValidationInput): void;
}

export interface TrainerIterationStore {
  /** Records (or replaces) one iteration's metrics; non-finite metrics are refused with their name. */
  recordTrainerIteration(input: TrainerIterationInput): void;
  /** A run's iterations in order; empty when none were recorded or the store predates them. */
  listTrainerIterations(runId: RunId): TrainerIteration[];
}

/** Every read and write of a run's state; each multi-row change is atomic and a redone write is a no-op. */
export interface Store
  extends RunStore,
    EnvironmentStore,
    StepStore,
    EpisodeStore,
    ArtifactStore,
    GroupStore,
    CandidateStore,
    TrainerIterationStore {
  /** Where the store lives (a path, or ":memory:"), for messages. */
  readonly path: string;
  /** Runs `work` as one atomic change. */
  transaction<T>(work: () => T): T;
  close(): void;
}
