// SQLite persistence of runs, steps, episodes, artifacts, validations, solver groups, rewards and samples.
// Every multi-row change is one transaction and every result has a unique key, so a crash between two
// writes leaves either the old or the new state and a redone write is a no-op.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { errorMessage, InfrastructureError } from "../errors.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { PolicyEpisode } from "../ports/policy.js";
import type { RolloutSample } from "../ports/rollout.js";
import type {
  NewGroup,
  RewardInput,
  SampleContext,
  Store,
  TrainerIteration,
  TrainerIterationInput,
} from "../ports/store.js";
import type { GradeResult, ValidationReport } from "../ports/validation.js";
import { MIGRATIONS } from "./migrations.js";
import { insertTrainerIteration, selectTrainerIterations } from "./trainer-iterations.js";
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
} from "./types.js";

type Row = Record<string, unknown>;

export type { NewGroup, RewardInput, SampleContext } from "../ports/store.js";

/** Opens (and migrates, unless read-only) the store at `path`, as the port the domain uses. */
export function openStore(path: string, options: { readonly?: boolean } = {}): Store {
  return new SqliteStore(path, options);
}

/** Opens the SQLite store itself, for readers of its tables (the dashboard) and its tests. */
export function openSqliteStore(path: string, options: { readonly?: boolean } = {}): SqliteStore {
  return new SqliteStore(path, options);
}

export class SqliteStore implements Store {
  readonly path: string;
  readonly db: Database.Database;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.path = path;
    try {
      if (path !== ":memory:" && !options.readonly) mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, {
        readonly: options.readonly ?? false,
        fileMustExist: options.readonly ?? false,
      });
      if (!options.readonly) this.db.pragma("journal_mode = WAL");
      this.db.pragma("busy_timeout = 10000");
      this.db.pragma("foreign_keys = ON");
      this.db.pragma("synchronous = NORMAL");
    } catch (error) {
      throw new InfrastructureError(
        "store-unavailable",
        `cannot open store ${path}: ${errorMessage(error)}`,
        {
          data: { path },
          cause: error,
        },
      );
    }
    if (!options.readonly) this.migrate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Applies every migration newer than the store's user_version, each in its own immediate transaction
   * that re-reads the version, so two processes opening a new store at once do not both migrate it.
   */
  private migrate(): void {
    const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    const current = this.schemaVersion();
    if (current > latest)
      throw new InfrastructureError(
        "store-too-new",
        `store ${this.path} has schema version ${current}, newer than this program's ${latest}: upgrade swe-selfplay`,
        { data: { path: this.path, current, latest } },
      );
    for (const migration of MIGRATIONS) {
      this.db
        .transaction(() => {
          if (this.schemaVersion() >= migration.version) return;
          this.db.exec(migration.sql);
          this.db.pragma(`user_version = ${migration.version}`);
        })
        .immediate();
    }
  }

  schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  recordTrainerIteration(input: TrainerIterationInput): void {
    insertTrainerIteration(this, input);
  }

  listTrainerIterations(runId: RunId): TrainerIteration[] {
    return selectTrainerIterations(this, runId);
  }

  // ---- runs -------------------------------------------------------------------------------------------

  createRun(run: { id: RunId; config: unknown; seed: number }): RunRecord {
    const now = timestamp();
    this.db
      .prepare(
        "INSERT INTO runs (id, status, config, seed, starts, created_at, updated_at) VALUES (?, 'running', ?, ?, 1, ?, ?)",
      )
      .run(run.id, JSON.stringify(run.config), run.seed, now, now);
    return this.getRun(run.id)!;
  }

  getRun(id: RunId): RunRecord | null {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as Row | undefined;
    return row ? toRun(row) : null;
  }

  latestRun(): RunRecord | null {
    const row = this.db.prepare("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1").get() as
      | Row
      | undefined;
    return row ? toRun(row) : null;
  }

  listRuns(): RunRecord[] {
    return (this.db.prepare("SELECT * FROM runs ORDER BY created_at, rowid").all() as Row[]).map(toRun);
  }

  /** Marks a run as started again (resume): status running, starts + 1, config updated. */
  restartRun(id: RunId, config: unknown): RunRecord {
    this.db
      .prepare(
        "UPDATE runs SET status = 'running', starts = starts + 1, config = ?, updated_at = ? WHERE id = ?",
      )
      .run(JSON.stringify(config), timestamp(), id);
    return this.getRun(id)!;
  }

  /** Heartbeat of a running run: updated_at says when its process was last alive. */
  touchRun(id: RunId): void {
    this.db.prepare("UPDATE runs SET updated_at = ? WHERE id = ?").run(timestamp(), id);
  }

  setRunStatus(id: RunId, status: RunStatus): void {
    this.db.prepare("UPDATE runs SET status = ?, updated_at = ? WHERE id = ?").run(status, timestamp(), id);
  }

  // ---- environments -----------------------------------------------------------------------------------

  upsertEnvironment(runId: RunId, name: string, spec: unknown): void {
    this.db
      .prepare(
        `INSERT INTO environments (run_id, name, spec) VALUES (?, ?, ?)
         ON CONFLICT (run_id, name) DO UPDATE SET spec = excluded.spec`,
      )
      .run(runId, name, JSON.stringify(spec));
  }

  listEnvironments(runId: RunId): EnvironmentRecord[] {
    return (
      this.db.prepare("SELECT * FROM environments WHERE run_id = ? ORDER BY name").all(runId) as Row[]
    ).map((row) => ({
      runId: row.run_id as RunId,
      name: row.name as string,
      spec: JSON.parse(row.spec as string),
      status: row.status as "active" | "disabled",
      consecutiveFailures: row.consecutive_failures as number,
      disabledReason: (row.disabled_reason as string | null) ?? null,
    }));
  }

  /** Counts an infrastructure failure; returns true when the environment is now disabled. */
  recordEnvironmentFailure(runId: RunId, name: string, reason: string, maxFailures: number): boolean {
    return this.transaction(() => {
      this.db
        .prepare(
          "UPDATE environments SET consecutive_failures = consecutive_failures + 1 WHERE run_id = ? AND name = ?",
        )
        .run(runId, name);
      const row = this.db
        .prepare("SELECT consecutive_failures FROM environments WHERE run_id = ? AND name = ?")
        .get(runId, name) as Row | undefined;
      if (!row || (row.consecutive_failures as number) < maxFailures) return false;
      this.disableEnvironment(runId, name, reason);
      return true;
    });
  }

  /** Takes an environment out of the run at once, with the reason the summary reports. */
  disableEnvironment(runId: RunId, name: string, reason: string): void {
    this.db
      .prepare(
        "UPDATE environments SET status = 'disabled', disabled_reason = ? WHERE run_id = ? AND name = ?",
      )
      .run(reason, runId, name);
  }

  recordEnvironmentSuccess(runId: RunId, name: string): void {
    this.db
      .prepare(
        "UPDATE environments SET consecutive_failures = 0 WHERE run_id = ? AND name = ? AND status = 'active'",
      )
      .run(runId, name);
  }

  /** Gives every environment of a run a fresh chance (a resume may follow a repaired infrastructure). */
  reactivateEnvironments(runId: RunId): void {
    this.db
      .prepare(
        "UPDATE environments SET status = 'active', consecutive_failures = 0, disabled_reason = NULL WHERE run_id = ?",
      )
      .run(runId);
  }

  // ---- steps ------------------------------------------------------------------------------------------

  /** Inserts a proposer step in state `proposing`; a step that exists already is returned unchanged. */
  insertStep(step: {
    runId: RunId;
    stepIndex: number;
    environment: string;
    strategy: string;
    seed: number;
  }): StepRecord {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO steps (run_id, step_index, environment, strategy, seed, state, started_at)
         VALUES (?, ?, ?, ?, ?, 'proposing', ?)`,
      )
      .run(step.runId, step.stepIndex, step.environment, step.strategy, step.seed, timestamp());
    return this.getStep(step.runId, step.stepIndex)!;
  }

  getStep(runId: RunId, stepIndex: number): StepRecord | null {
    const row = this.db
      .prepare("SELECT * FROM steps WHERE run_id = ? AND step_index = ?")
      .get(runId, stepIndex) as Row | undefined;
    return row ? toStep(row) : null;
  }

  listSteps(runId: RunId): StepRecord[] {
    return (
      this.db.prepare("SELECT * FROM steps WHERE run_id = ? ORDER BY step_index").all(runId) as Row[]
    ).map(toStep);
  }

  stepCount(runId: RunId): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM steps WHERE run_id = ?").get(runId) as Row)
      .n as number;
  }

  /** Ends a step in state `failed` (infrastructure error); its running episodes are marked aborted. */
  failStep(runId: RunId, stepIndex: number, error: string): void {
    this.transaction(() => {
      this.db
        .prepare(
          "UPDATE steps SET state = 'failed', outcome = 'error', error = ?, ended_at = ? WHERE run_id = ? AND step_index = ? AND state NOT IN ('done', 'failed')",
        )
        .run(error, timestamp(), runId, stepIndex);
      this.db
        .prepare(
          "UPDATE episodes SET state = 'aborted', status = 'aborted', exit_reason = 'step-failed', ended_at = ? WHERE run_id = ? AND step_index = ? AND state = 'running'",
        )
        .run(timestamp(), runId, stepIndex);
    });
  }

  completeStep(runId: RunId, stepIndex: number): void {
    this.db
      .prepare(
        "UPDATE steps SET state = 'done', ended_at = ? WHERE run_id = ? AND step_index = ? AND state NOT IN ('done', 'failed')",
      )
      .run(timestamp(), runId, stepIndex);
  }

  // ---- episodes ---------------------------------------------------------------------------------------

  /** Records an episode as running; redoing the same episode id is a no-op. */
  startEpisode(episode: {
    id: EpisodeId;
    runId: RunId;
    role: "proposer" | "solver";
    stepIndex: number;
    groupId?: GroupId | null;
  }): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO episodes (id, run_id, role, step_index, group_id, state, started_at)
         VALUES (?, ?, ?, ?, ?, 'running', ?)`,
      )
      .run(episode.id, episode.runId, episode.role, episode.stepIndex, episode.groupId ?? null, timestamp());
  }

  /** Saves the trajectory so far of a running episode (called after every step of the policy). */
  saveEpisodeProgress(id: EpisodeId, episode: PolicyEpisode): void {
    this.db
      .prepare(
        "UPDATE episodes SET policy = ?, status = ?, exit_reason = ?, trajectory = ?, stats = ? WHERE id = ? AND state = 'running'",
      )
      .run(
        JSON.stringify(episode.policy),
        episode.status,
        episode.exitReason,
        JSON.stringify(episode.trajectory),
        JSON.stringify(episode.stats),
        id,
      );
  }

  getEpisode(id: EpisodeId): EpisodeRecord | null {
    const row = this.db.prepare("SELECT * FROM episodes WHERE id = ?").get(id) as Row | undefined;
    return row ? toEpisode(row) : null;
  }

  listEpisodes(runId: RunId): EpisodeRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM episodes WHERE run_id = ? ORDER BY step_index, started_at")
        .all(runId) as Row[]
    ).map(toEpisode);
  }

  /** Every finished or aborted episode of a run with its policy kind, stats and rollout-sample count (no trajectories). */
  listEpisodeSampleCounts(runId: RunId): EpisodeSampleCount[] {
    const rows = this.db
      .prepare(
        `SELECT e.id, e.role, e.state, e.policy, e.stats, COALESCE(c.samples, 0) AS samples
         FROM episodes e
         LEFT JOIN (SELECT episode_id, COUNT(*) AS samples FROM rollout_samples WHERE run_id = ? GROUP BY episode_id) c
           ON c.episode_id = e.id
         WHERE e.run_id = ? AND e.state != 'running'
         ORDER BY e.step_index, e.started_at`,
      )
      .all(runId, runId) as Row[];
    return rows.map((row) => ({
      id: row.id as EpisodeId,
      role: row.role as "proposer" | "solver",
      state: row.state as EpisodeRecord["state"],
      policyKind: (parseJson(row.policy, null) as { kind?: string } | null)?.kind ?? null,
      stats: parseJson(row.stats, {}) as Record<string, number>,
      samples: row.samples as number,
    }));
  }

  /** Marks every episode still running (work in flight at a crash or an interrupt) as aborted. */
  abortRunningEpisodes(runId: RunId, reason: string): number {
    return this.db
      .prepare(
        "UPDATE episodes SET state = 'aborted', status = 'aborted', exit_reason = ?, ended_at = ? WHERE run_id = ? AND state = 'running'",
      )
      .run(reason, timestamp(), runId).changes;
  }

  private finishEpisode(id: EpisodeId, episode: PolicyEpisode, context: SampleContext): void {
    this.db
      .prepare(
        `UPDATE episodes SET state = 'finished', policy = ?, status = ?, exit_reason = ?, trajectory = ?, stats = ?,
           ended_at = ? WHERE id = ? AND state = 'running'`,
      )
      .run(
        JSON.stringify(episode.policy),
        episode.status,
        episode.exitReason,
        JSON.stringify(episode.trajectory),
        JSON.stringify(episode.stats),
        episode.endedAt ?? timestamp(),
        id,
      );
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO rollout_samples (sample_id, episode_id, run_id, step_index, group_id, role, record)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const sample of episode.samples) {
      const record: RolloutSample = {
        ...sample,
        episode_id: id,
        group_id: context.groupId,
        role: context.role,
        reward: null,
        meta: { ...sample.meta, step: context.stepIndex },
      };
      insert.run(
        sample.sample_id,
        id,
        context.runId,
        context.stepIndex,
        context.groupId,
        context.role,
        JSON.stringify(record),
      );
    }
  }

  // ---- artifacts and validation -----------------------------------------------------------------------

  /** Stores an artifact by content id; the first stored copy wins. */
  insertArtifact(id: ArtifactId, artifact: BugArtifact): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO artifacts (id, environment, strategy, order_number, parent_id, test_script, test_files,
           test_parser, bug_inject_diff, test_weaken_diff, meta, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        artifact.meta.environment,
        artifact.meta.strategy,
        artifact.meta.order,
        artifact.meta.parentId,
        artifact.testScript,
        JSON.stringify(artifact.testFiles),
        artifact.testParser,
        artifact.bugInjectDiff,
        artifact.testWeakenDiff,
        JSON.stringify(artifact.meta),
        timestamp(),
      );
  }

  getArtifact(id: ArtifactId): StoredArtifact | null {
    const row = this.db.prepare("SELECT * FROM artifacts WHERE id = ?").get(id) as Row | undefined;
    return row ? toArtifact(row) : null;
  }

  listArtifacts(): StoredArtifact[] {
    return (this.db.prepare("SELECT * FROM artifacts ORDER BY created_at, rowid").all() as Row[]).map(
      toArtifact,
    );
  }

  getValidation(artifactId: ArtifactId, environment: string): StoredValidation | null {
    const row = this.db
      .prepare("SELECT * FROM validation_reports WHERE artifact_id = ? AND environment = ?")
      .get(artifactId, environment) as Row | undefined;
    return row ? toValidation(row) : null;
  }

  listValidations(options: { verdict?: "valid" | "invalid" } = {}): StoredValidation[] {
    const rows = options.verdict
      ? this.db
          .prepare("SELECT * FROM validation_reports WHERE verdict = ? ORDER BY created_at, rowid")
          .all(options.verdict)
      : this.db.prepare("SELECT * FROM validation_reports ORDER BY created_at, rowid").all();
    return (rows as Row[]).map(toValidation);
  }

  private insertValidation(environment: string, report: ValidationReport): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO validation_reports (artifact_id, environment, verdict, failed_check, report, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        report.artifactId,
        environment,
        report.verdict,
        report.failedCheck,
        JSON.stringify(report),
        timestamp(),
      );
  }

  // ---- proposer step transitions ----------------------------------------------------------------------

  /**
   * Ends the proposer episode of a step. With an artifact the step moves on to validation; without one it
   * is done (outcome no-artifact) and the proposer gets its reward now.
   */
  recordProposal(input: {
    runId: RunId;
    stepIndex: number;
    episodeId: EpisodeId;
    episode: PolicyEpisode;
    proposerGroupId: string;
    artifact: { id: ArtifactId; artifact: BugArtifact } | null;
    failure?: { reward: number; reason: string };
  }): void {
    this.transaction(() => {
      this.finishEpisode(input.episodeId, input.episode, {
        runId: input.runId,
        stepIndex: input.stepIndex,
        groupId: input.proposerGroupId,
        role: "proposer",
      });
      if (input.artifact) {
        this.insertArtifact(input.artifact.id, input.artifact.artifact);
        this.db
          .prepare(
            "UPDATE steps SET state = 'validating', episode_id = ?, artifact_id = ? WHERE run_id = ? AND step_index = ? AND state = 'proposing'",
          )
          .run(input.episodeId, input.artifact.id, input.runId, input.stepIndex);
      } else {
        this.db
          .prepare(
            "UPDATE steps SET state = 'done', outcome = 'no-artifact', episode_id = ?, error = ?, ended_at = ? WHERE run_id = ? AND step_index = ? AND state = 'proposing'",
          )
          .run(input.episodeId, input.failure?.reason ?? null, timestamp(), input.runId, input.stepIndex);
        this.insertReward(input.runId, {
          episodeId: input.episodeId,
          role: "proposer",
          groupId: input.proposerGroupId,
          value: input.failure?.reward ?? -1,
          reason: input.failure?.reason ?? "no artifact submitted",
        });
      }
    });
  }

  /**
   * Stores the validation report of a step's artifact. Invalid: the step is done and the proposer gets
   * `invalidReward`. Valid: the solver group and its pending attempts are created and the step moves to solving.
   */
  recordStepValidation(input: {
    runId: RunId;
    stepIndex: number;
    environment: string;
    report: ValidationReport;
    proposerGroupId: string;
    invalidReward: number;
    group: NewGroup | null;
  }): void {
    this.transaction(() => {
      this.insertValidation(input.environment, input.report);
      const step = this.getStep(input.runId, input.stepIndex);
      if (step?.state !== "validating") return;
      if (input.report.verdict === "invalid" || !input.group) {
        this.db
          .prepare(
            "UPDATE steps SET state = 'done', outcome = 'invalid', error = ?, ended_at = ? WHERE run_id = ? AND step_index = ?",
          )
          .run(input.report.reason, timestamp(), input.runId, input.stepIndex);
        if (step.episodeId)
          this.insertReward(input.runId, {
            episodeId: step.episodeId,
            role: "proposer",
            groupId: input.proposerGroupId,
            value: input.invalidReward,
            reason: `invalid: ${input.report.failedCheck ?? "unknown"}: ${input.report.reason ?? ""}`.trim(),
          });
        return;
      }
      this.insertGroup(input.runId, input.group);
      this.db
        .prepare("UPDATE steps SET state = 'solving', outcome = 'valid' WHERE run_id = ? AND step_index = ?")
        .run(input.runId, input.stepIndex);
    });
  }

  /**
   * Ends a step whose artifact repeats an earlier step's: done with outcome duplicate, no solver group, and
   * the proposer's reward now. The validation report, when there is one, is stored as usual.
   */
  recordStepDuplicate(input: {
    runId: RunId;
    stepIndex: number;
    environment: string;
    report: ValidationReport | null;
    proposerGroupId: string;
    duplicateOf: number;
    kind: "identical" | "semantic";
    reward: number;
    reason: string;
  }): void {
    this.transaction(() => {
      if (input.report) this.insertValidation(input.environment, input.report);
      const step = this.getStep(input.runId, input.stepIndex);
      if (step?.state !== "validating") return;
      this.db
        .prepare(
          "UPDATE steps SET state = 'done', outcome = 'duplicate', duplicate_of = ?, duplicate_kind = ?, error = ?, ended_at = ? WHERE run_id = ? AND step_index = ?",
        )
        .run(input.duplicateOf, input.kind, input.reason, timestamp(), input.runId, input.stepIndex);
      if (step.episodeId)
        this.insertReward(input.runId, {
          episodeId: step.episodeId,
          role: "proposer",
          groupId: input.proposerGroupId,
          value: input.reward,
          reason: input.reason,
        });
    });
  }

  /** Marks a step whose valid artifact is solved although it repeats an earlier step's bug (penalised). */
  markStepDuplicate(
    runId: RunId,
    stepIndex: number,
    duplicateOf: number,
    kind: "identical" | "semantic",
  ): void {
    this.db
      .prepare("UPDATE steps SET duplicate_of = ?, duplicate_kind = ? WHERE run_id = ? AND step_index = ?")
      .run(duplicateOf, kind, runId, stepIndex);
  }

  // ---- solver groups and attempts ---------------------------------------------------------------------

  private insertGroup(runId: RunId, group: NewGroup): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO solver_groups (id, run_id, step_index, artifact_id, environment, order_number,
           parent_group_id, source_attempt_id, group_size, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'solving', ?)`,
      )
      .run(
        group.id,
        runId,
        group.stepIndex,
        group.artifactId,
        group.environment,
        group.order,
        group.parentGroupId ?? null,
        group.sourceAttemptId ?? null,
        group.attemptSeeds.length,
        timestamp(),
      );
    const insert = this.db.prepare(
      "INSERT OR IGNORE INTO solver_attempts (id, group_id, attempt_index, seed, state) VALUES (?, ?, ?, ?, 'pending')",
    );
    group.attemptSeeds.forEach((seed, index) => {
      insert.run(attemptIdOf(group.id, index), group.id, index, seed);
    });
  }

  getGroup(id: GroupId): GroupRecord | null {
    const row = this.db.prepare("SELECT * FROM solver_groups WHERE id = ?").get(id) as Row | undefined;
    return row ? toGroup(row) : null;
  }

  listGroups(runId: RunId, stepIndex?: number): GroupRecord[] {
    const rows =
      stepIndex === undefined
        ? this.db
            .prepare("SELECT * FROM solver_groups WHERE run_id = ? ORDER BY step_index, created_at, id")
            .all(runId)
        : this.db
            .prepare(
              "SELECT * FROM solver_groups WHERE run_id = ? AND step_index = ? ORDER BY created_at, id",
            )
            .all(runId, stepIndex);
    return (rows as Row[]).map(toGroup);
  }

  listAttempts(groupId: GroupId): AttemptRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM solver_attempts WHERE group_id = ? ORDER BY attempt_index")
        .all(groupId) as Row[]
    ).map(toAttempt);
  }

  /** Ends a solver attempt: its episode, samples, patch and grade, in one transaction; written once. */
  recordAttempt(input: {
    runId: RunId;
    stepIndex: number;
    attemptId: AttemptId;
    groupId: GroupId;
    episodeId: EpisodeId;
    episode: PolicyEpisode;
    patch: string;
    grade: GradeResult;
  }): void {
    this.transaction(() => {
      this.finishEpisode(input.episodeId, input.episode, {
        runId: input.runId,
        stepIndex: input.stepIndex,
        groupId: input.groupId,
        role: "solver",
      });
      this.db
        .prepare(
          `UPDATE solver_attempts SET state = 'done', episode_id = ?, patch = ?, grade = ?, resolved = ?, finished_at = ?
           WHERE id = ? AND state = 'pending'`,
        )
        .run(
          input.episodeId,
          input.patch,
          JSON.stringify(input.grade),
          input.grade.resolved ? 1 : 0,
          timestamp(),
          input.attemptId,
        );
    });
  }

  /** Closes a group: solve rate and every reward (solvers, and the proposer for first-order groups). */
  recordGroupGraded(input: {
    runId: RunId;
    groupId: GroupId;
    solveRate: number;
    rewards: RewardInput[];
  }): void {
    this.transaction(() => {
      const changed = this.db
        .prepare(
          "UPDATE solver_groups SET state = 'graded', solve_rate = ?, graded_at = ? WHERE id = ? AND state = 'solving'",
        )
        .run(input.solveRate, timestamp(), input.groupId).changes;
      if (changed === 0) return;
      for (const reward of input.rewards) this.insertReward(input.runId, reward);
    });
  }

  // ---- second-order candidates ------------------------------------------------------------------------

  /** Creates the second-order candidates of a group (one per chosen failed attempt); existing ones stay. */
  insertCandidates(groupId: GroupId, attemptIds: readonly AttemptId[]): CandidateRecord[] {
    this.transaction(() => {
      const insert = this.db.prepare(
        "INSERT OR IGNORE INTO second_order_candidates (id, group_id, attempt_id, state) VALUES (?, ?, ?, 'pending')",
      );
      for (const attemptId of attemptIds) insert.run(`${attemptId}/second-order`, groupId, attemptId);
    });
    return this.listCandidates(groupId);
  }

  listCandidates(groupId: GroupId): CandidateRecord[] {
    return (
      this.db
        .prepare("SELECT * FROM second_order_candidates WHERE group_id = ? ORDER BY id")
        .all(groupId) as Row[]
    ).map(toCandidate);
  }

  listAllCandidates(runId: RunId): CandidateRecord[] {
    return (
      this.db
        .prepare(
          `SELECT c.* FROM second_order_candidates c JOIN solver_groups g ON g.id = c.group_id
           WHERE g.run_id = ? ORDER BY c.id`,
        )
        .all(runId) as Row[]
    ).map(toCandidate);
  }

  /** The candidate's artifact was made; it moves on to validation. */
  recordCandidateArtifact(id: CandidateId, artifactId: ArtifactId, artifact: BugArtifact): void {
    this.transaction(() => {
      this.insertArtifact(artifactId, artifact);
      this.db
        .prepare(
          "UPDATE second_order_candidates SET state = 'validating', artifact_id = ? WHERE id = ? AND state = 'pending'",
        )
        .run(artifactId, id);
    });
  }

  /** Ends a candidate without a group (no artifact could be made, or infrastructure error). */
  recordCandidateEnded(
    id: CandidateId,
    outcome: Exclude<Outcome, "valid" | "invalid" | "duplicate">,
    reason: string,
  ): void {
    this.db
      .prepare(
        "UPDATE second_order_candidates SET state = 'done', outcome = ?, reason = ? WHERE id = ? AND state != 'done'",
      )
      .run(outcome, reason, id);
  }

  /** Stores the candidate's validation; a valid one gets its own solver group, scheduled like a first-order one. */
  recordCandidateValidation(input: {
    runId: RunId;
    candidateId: CandidateId;
    environment: string;
    report: ValidationReport;
    group: NewGroup | null;
  }): void {
    this.transaction(() => {
      this.insertValidation(input.environment, input.report);
      const valid = input.report.verdict === "valid" && input.group !== null;
      if (valid) this.insertGroup(input.runId, input.group!);
      this.db
        .prepare(
          "UPDATE second_order_candidates SET state = 'done', outcome = ?, reason = ?, child_group_id = ? WHERE id = ? AND state = 'validating'",
        )
        .run(
          valid ? "valid" : "invalid",
          valid ? null : input.report.reason,
          valid ? input.group!.id : null,
          input.candidateId,
        );
    });
  }

  // ---- rewards and samples ----------------------------------------------------------------------------

  private insertReward(runId: RunId, reward: RewardInput): void {
    const inserted = this.db
      .prepare(
        "INSERT OR IGNORE INTO rewards (episode_id, run_id, role, group_id, value, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        reward.episodeId,
        runId,
        reward.role,
        reward.groupId,
        reward.value,
        reward.reason,
        timestamp(),
      ).changes;
    if (inserted > 0)
      this.db
        .prepare("UPDATE rollout_samples SET reward = ? WHERE episode_id = ?")
        .run(reward.value, reward.episodeId);
  }

  getReward(episodeId: EpisodeId): RewardRecord | null {
    const row = this.db.prepare("SELECT * FROM rewards WHERE episode_id = ?").get(episodeId) as
      | Row
      | undefined;
    return row ? toReward(row) : null;
  }

  listRewards(runId: RunId): RewardRecord[] {
    return (
      this.db.prepare("SELECT * FROM rewards WHERE run_id = ? ORDER BY created_at, rowid").all(runId) as Row[]
    ).map(toReward);
  }

  /** Rollout records of a step with their rewards filled in. */
  listSamples(runId: RunId, stepIndex?: number): RolloutSample[] {
    const rows =
      stepIndex === undefined
        ? this.db
            .prepare("SELECT record, reward FROM rollout_samples WHERE run_id = ? ORDER BY step_index, rowid")
            .all(runId)
        : this.db
            .prepare(
              "SELECT record, reward FROM rollout_samples WHERE run_id = ? AND step_index = ? ORDER BY rowid",
            )
            .all(runId, stepIndex);
    return (rows as Row[]).map((row) => ({
      ...(JSON.parse(row.record as string) as RolloutSample),
      reward: (row.reward as number | null) ?? null,
    }));
  }
}

export function attemptIdOf(groupId: GroupId, index: number): AttemptId {
  return `${groupId}/attempt-${index}` as AttemptId;
}

function timestamp(): string {
  return new Date().toISOString();
}

function parseJson<T>(value: unknown, fallback: T): T {
  return typeof value === "string" ? (JSON.parse(value) as T) : fallback;
}

function toRun(row: Row): RunRecord {
  return {
    id: row.id as RunId,
    status: row.status as RunStatus,
    config: parseJson(row.config, {}),
    seed: row.seed as number,
    starts: row.starts as number,
    createdAt: row.created_at as string,
    updatedAt: row.updated_at as string,
  };
}

function toStep(row: Row): StepRecord {
  return {
    runId: row.run_id as RunId,
    stepIndex: row.step_index as number,
    environment: row.environment as string,
    strategy: row.strategy as string,
    seed: row.seed as number,
    state: row.state as StepRecord["state"],
    outcome: (row.outcome as Outcome | null) ?? null,
    episodeId: (row.episode_id as EpisodeId | null) ?? null,
    artifactId: (row.artifact_id as ArtifactId | null) ?? null,
    error: (row.error as string | null) ?? null,
    startedAt: row.started_at as string,
    endedAt: (row.ended_at as string | null) ?? null,
    duplicateOf: (row.duplicate_of as number | null) ?? null,
    duplicateKind: (row.duplicate_kind as StepRecord["duplicateKind"]) ?? null,
  };
}

function toEpisode(row: Row): EpisodeRecord {
  return {
    id: row.id as EpisodeId,
    runId: row.run_id as RunId,
    role: row.role as "proposer" | "solver",
    stepIndex: row.step_index as number,
    groupId: (row.group_id as GroupId | null) ?? null,
    state: row.state as EpisodeRecord["state"],
    policy: parseJson(row.policy, null),
    status: (row.status as EpisodeRecord["status"]) ?? null,
    exitReason: (row.exit_reason as string | null) ?? null,
    trajectory: parseJson(row.trajectory, []),
    stats: parseJson(row.stats, {}),
    startedAt: row.started_at as string,
    endedAt: (row.ended_at as string | null) ?? null,
  };
}

function toArtifact(row: Row): StoredArtifact {
  const meta = parseJson(row.meta, {}) as BugArtifact["meta"];
  return {
    id: row.id as ArtifactId,
    meta,
    createdAt: row.created_at as string,
    artifact: {
      testScript: row.test_script as string,
      testFiles: parseJson(row.test_files, [] as string[]),
      testParser: row.test_parser as string,
      bugInjectDiff: row.bug_inject_diff as string,
      testWeakenDiff: row.test_weaken_diff as string,
      meta,
    },
  };
}

function toValidation(row: Row): StoredValidation {
  return {
    artifactId: row.artifact_id as ArtifactId,
    environment: row.environment as string,
    report: parseJson(row.report, {}) as ValidationReport,
    createdAt: row.created_at as string,
  };
}

function toGroup(row: Row): GroupRecord {
  return {
    id: row.id as GroupId,
    runId: row.run_id as RunId,
    stepIndex: row.step_index as number,
    artifactId: row.artifact_id as ArtifactId,
    environment: row.environment as string,
    order: row.order_number as 1 | 2,
    parentGroupId: (row.parent_group_id as GroupId | null) ?? null,
    sourceAttemptId: (row.source_attempt_id as AttemptId | null) ?? null,
    groupSize: row.group_size as number,
    state: row.state as GroupRecord["state"],
    solveRate: (row.solve_rate as number | null) ?? null,
    createdAt: row.created_at as string,
    gradedAt: (row.graded_at as string | null) ?? null,
  };
}

function toAttempt(row: Row): AttemptRecord {
  return {
    id: row.id as AttemptId,
    groupId: row.group_id as GroupId,
    attemptIndex: row.attempt_index as number,
    seed: row.seed as number,
    state: row.state as AttemptRecord["state"],
    episodeId: (row.episode_id as EpisodeId | null) ?? null,
    patch: (row.patch as string | null) ?? null,
    grade: parseJson(row.grade, null as GradeResult | null),
    resolved: row.resolved === null || row.resolved === undefined ? null : row.resolved === 1,
    finishedAt: (row.finished_at as string | null) ?? null,
  };
}

function toReward(row: Row): RewardRecord {
  return {
    episodeId: row.episode_id as EpisodeId,
    runId: row.run_id as RunId,
    role: row.role as "proposer" | "solver",
    groupId: row.group_id as string,
    value: row.value as number,
    reason: row.reason as string,
    createdAt: row.created_at as string,
  };
}

function toCandidate(row: Row): CandidateRecord {
  return {
    id: row.id as CandidateId,
    groupId: row.group_id as GroupId,
    attemptId: row.attempt_id as AttemptId,
    state: row.state as CandidateRecord["state"],
    outcome: (row.outcome as Outcome | null) ?? null,
    artifactId: (row.artifact_id as ArtifactId | null) ?? null,
    childGroupId: (row.child_group_id as GroupId | null) ?? null,
    reason: (row.reason as string | null) ?? null,
  };
}
