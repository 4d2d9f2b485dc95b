// Read-only queries behind the dashboard's pages: aggregates and pages computed in SQL, so a store with
// tens of thousands of steps answers each page in one pass over its indexes.
import { reverseDiff, unwrapDiff } from "../artifact/index.js";
import { errorMessage } from "../errors.js";
import type { RolloutSample } from "../ports/rollout.js";
import type { ValidationReport } from "../ports/validation.js";
import { solveRateHistogram } from "../selfplay/summary.js";
import type {
  ArtifactId,
  AttemptRecord,
  CandidateRecord,
  EpisodeId,
  EpisodeRecord,
  GroupRecord,
  RewardRecord,
  RunId,
  RunRecord,
  SqliteStore,
  StoredArtifact,
  TrainerIteration,
} from "../store/index.js";

import { renderSolverPrompt } from "../validation/solver-task.js";

type Row = Record<string, unknown>;

export interface RunTotals {
  steps: number;
  finished: number;
  valid: number;
  invalid: number;
  noArtifact: number;
  error: number;
  meanSolveRate: number | null;
  gradedGroups: number;
  proposerReward: number | null;
  solverReward: number | null;
  attempts: number;
  resolved: number;
  /** Finished steps per hour over the span from the first step's start to the last step's end. */
  stepsPerHour: number | null;
}

export interface RunOverview {
  run: RunRecord;
  totals: RunTotals;
}

const number = (value: unknown): number | null => (typeof value === "number" ? value : null);
const count = (value: unknown): number => (typeof value === "number" ? value : 0);
const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function runTotals(store: SqliteStore, runId: RunId): RunTotals {
  const steps = store.db
    .prepare(
      `SELECT COUNT(*) AS steps,
              SUM(state IN ('done', 'failed')) AS finished,
              SUM(outcome = 'valid') AS valid,
              SUM(outcome = 'invalid') AS invalid,
              SUM(outcome = 'no-artifact') AS no_artifact,
              SUM(outcome = 'error') AS error,
              MIN(started_at) AS first_started,
              MAX(ended_at) AS last_ended
         FROM steps WHERE run_id = ?`,
    )
    .get(runId) as Row;
  const groups = store.db
    .prepare(
      `SELECT COUNT(*) AS graded, AVG(solve_rate) AS mean FROM solver_groups WHERE run_id = ? AND state = 'graded'`,
    )
    .get(runId) as Row;
  const rewards = store.db
    .prepare(
      `SELECT AVG(CASE WHEN role = 'proposer' THEN value END) AS proposer,
              AVG(CASE WHEN role = 'solver' THEN value END) AS solver
         FROM rewards WHERE run_id = ?`,
    )
    .get(runId) as Row;
  // Attempts of graded groups: a group's solve rate is its resolved attempts over its size, so the
  // groups give both counts without reading every attempt.
  const attempts = store.db
    .prepare(
      `SELECT SUM(group_size) AS graded, SUM(ROUND(solve_rate * group_size)) AS resolved
         FROM solver_groups WHERE run_id = ? AND state = 'graded'`,
    )
    .get(runId) as Row;
  const first = text(steps.first_started);
  const last = text(steps.last_ended);
  const spanMs = first && last ? Date.parse(last) - Date.parse(first) : 0;
  const finished = count(steps.finished);
  return {
    steps: count(steps.steps),
    finished,
    valid: count(steps.valid),
    invalid: count(steps.invalid),
    noArtifact: count(steps.no_artifact),
    error: count(steps.error),
    meanSolveRate: number(groups.mean),
    gradedGroups: count(groups.graded),
    proposerReward: number(rewards.proposer),
    solverReward: number(rewards.solver),
    attempts: count(attempts.graded),
    resolved: count(attempts.resolved),
    stepsPerHour: spanMs > 0 ? (finished * 3_600_000) / spanMs : null,
  };
}

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
}

export function listRunOverviews(store: SqliteStore, page: number, pageSize: number): Page<RunOverview> {
  const total = count((store.db.prepare("SELECT COUNT(*) AS n FROM runs").get() as Row).n);
  const ids = store.db
    .prepare("SELECT id FROM runs ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
    .all(pageSize, (page - 1) * pageSize) as { id: RunId }[];
  const rows = ids.flatMap(({ id }) => {
    const run = store.getRun(id);
    return run ? [{ run, totals: runTotals(store, id) }] : [];
  });
  return { rows, total, page, pageSize };
}

// ---- steps of a run, filtered and paged -------------------------------------------------------------

export const VERDICTS = ["valid", "invalid", "no-artifact", "error", "unfinished"] as const;
export type VerdictFilter = (typeof VERDICTS)[number];

export interface StepFilters {
  environment?: string;
  strategy?: string;
  verdict?: VerdictFilter;
  failedCheck?: string;
  policyVersion?: string;
  minSolveRate?: number;
  maxSolveRate?: number;
  /** Matches artifact ids, errors and failed checks. */
  search?: string;
}

export interface StepRow {
  stepIndex: number;
  environment: string;
  strategy: string;
  state: string;
  outcome: string | null;
  artifactId: string | null;
  episodeId: string | null;
  error: string | null;
  failedCheck: string | null;
  solveRate: number | null;
  groupSize: number | null;
  proposerReward: number | null;
  policyVersion: string | null;
  startedAt: string;
  endedAt: string | null;
}

/**
 * The episodes table as the step queries read it: through the covering index of policies when the store
 * has it (schema 2), so no trajectory row is read for a step's policy version.
 */
function episodesByPolicy(store: SqliteStore): string {
  const indexed = store.db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'episodes_policy'")
    .get();
  return indexed ? "episodes e INDEXED BY episodes_policy" : "episodes e";
}

/** Step rows with their first-order group (one per step), validation and proposer reward joined. */
const stepRows = (store: SqliteStore) => `
  SELECT s.step_index, s.environment, s.strategy, s.state, s.outcome, s.artifact_id, s.episode_id, s.error,
         s.started_at, s.ended_at,
         v.failed_check,
         g.solve_rate, g.group_size,
         w.value AS proposer_reward,
         json_extract(e.policy, '$.version') AS policy_version
    FROM steps s
    LEFT JOIN validation_reports v ON v.artifact_id = s.artifact_id AND v.environment = s.environment
    LEFT JOIN solver_groups g ON g.run_id = s.run_id AND g.step_index = s.step_index AND g.order_number = 1
    LEFT JOIN ${episodesByPolicy(store)} ON e.id = s.episode_id
    LEFT JOIN rewards w ON w.episode_id = s.episode_id
   WHERE s.run_id = @runId`;

function stepConditions(filters: StepFilters): string {
  const conditions: string[] = [];
  if (filters.environment) conditions.push("s.environment = @environment");
  if (filters.strategy) conditions.push("s.strategy = @strategy");
  if (filters.verdict === "unfinished") conditions.push("s.outcome IS NULL");
  else if (filters.verdict) conditions.push("s.outcome = @verdict");
  if (filters.failedCheck) conditions.push("v.failed_check = @failedCheck");
  if (filters.policyVersion) conditions.push("json_extract(e.policy, '$.version') = @policyVersion");
  if (filters.minSolveRate !== undefined) conditions.push("g.solve_rate >= @minSolveRate");
  if (filters.maxSolveRate !== undefined) conditions.push("g.solve_rate <= @maxSolveRate");
  if (filters.search)
    conditions.push(
      `(s.artifact_id LIKE @search ESCAPE '\\' OR s.error LIKE @search ESCAPE '\\' OR v.failed_check LIKE @search ESCAPE '\\' OR s.episode_id LIKE @search ESCAPE '\\')`,
    );
  return conditions.map((condition) => ` AND ${condition}`).join("");
}

function stepParameters(runId: RunId, filters: StepFilters): Record<string, unknown> {
  const parameters: Record<string, unknown> = { runId };
  for (const key of ["environment", "strategy", "verdict", "failedCheck", "policyVersion"] as const)
    if (filters[key] && !(key === "verdict" && filters.verdict === "unfinished"))
      parameters[key] = filters[key];
  if (filters.minSolveRate !== undefined) parameters.minSolveRate = filters.minSolveRate;
  if (filters.maxSolveRate !== undefined) parameters.maxSolveRate = filters.maxSolveRate;
  if (filters.search) parameters.search = `%${filters.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return parameters;
}

export function listStepRows(
  store: SqliteStore,
  runId: RunId,
  filters: StepFilters,
  page: number,
  pageSize: number,
): Page<StepRow> {
  const where = stepConditions(filters);
  const parameters = stepParameters(runId, filters);
  const stepSelect = stepRows(store);
  // Without filters on joined columns the count needs only the steps table.
  const joined =
    filters.failedCheck ||
    filters.policyVersion ||
    filters.search ||
    filters.minSolveRate !== undefined ||
    filters.maxSolveRate !== undefined;
  const total = count(
    (
      store.db
        .prepare(
          joined
            ? `SELECT COUNT(*) AS n FROM (${stepSelect}${where})`
            : `SELECT COUNT(*) AS n FROM steps s WHERE s.run_id = @runId${where}`,
        )
        .get(parameters) as Row
    ).n,
  );
  // Without joined filters the page is chosen on the steps index alone and only its rows are joined.
  const rows = store.db
    .prepare(
      joined
        ? `${stepSelect}${where} ORDER BY s.step_index DESC LIMIT @limit OFFSET @offset`
        : `${stepSelect} AND s.step_index IN (
             SELECT s.step_index FROM steps s WHERE s.run_id = @runId${where}
              ORDER BY s.step_index DESC LIMIT @limit OFFSET @offset)
           ORDER BY s.step_index DESC`,
    )
    .all({ ...parameters, limit: pageSize, offset: (page - 1) * pageSize }) as Row[];
  return {
    rows: rows.map((row) => ({
      stepIndex: count(row.step_index),
      environment: String(row.environment),
      strategy: String(row.strategy),
      state: String(row.state),
      outcome: text(row.outcome),
      artifactId: text(row.artifact_id),
      episodeId: text(row.episode_id),
      error: text(row.error),
      failedCheck: text(row.failed_check),
      solveRate: number(row.solve_rate),
      groupSize: number(row.group_size),
      proposerReward: number(row.proposer_reward),
      policyVersion: text(row.policy_version),
      startedAt: String(row.started_at),
      endedAt: text(row.ended_at),
    })),
    total,
    page,
    pageSize,
  };
}

export interface FilterChoices {
  environments: string[];
  strategies: string[];
  failedChecks: string[];
  policyVersions: string[];
}

export function filterChoices(store: SqliteStore, runId: RunId): FilterChoices {
  const column = (sql: string) =>
    (store.db.prepare(sql).all(runId) as Row[])
      .map((row) => row.value)
      .filter((value): value is string => typeof value === "string");
  return {
    environments: column("SELECT DISTINCT environment AS value FROM steps WHERE run_id = ? ORDER BY 1"),
    strategies: column("SELECT DISTINCT strategy AS value FROM steps WHERE run_id = ? ORDER BY 1"),
    failedChecks: column(
      `SELECT DISTINCT v.failed_check AS value FROM steps s
         JOIN validation_reports v ON v.artifact_id = s.artifact_id AND v.environment = s.environment
        WHERE s.run_id = ? AND v.failed_check IS NOT NULL ORDER BY 1`,
    ),
    policyVersions: column(
      `SELECT DISTINCT json_extract(e.policy, '$.version') AS value
         FROM steps s JOIN ${episodesByPolicy(store)} ON e.id = s.episode_id WHERE s.run_id = ? ORDER BY 1`,
    ),
  };
}

// ---- plots of a run ---------------------------------------------------------------------------------

export interface RunPlots {
  solveRates: { label: string; count: number }[];
  /** Mean reward per bin of steps (at most MAX_POINTS bins). */
  rewards: { step: number; proposer: number | null; solver: number | null }[];
  strategies: { strategy: string; finished: number; valid: number }[];
  rejections: { check: string; count: number }[];
  trainer: TrainerIteration[];
}

const MAX_POINTS = 200;

export function runPlots(store: SqliteStore, runId: RunId): RunPlots {
  const rates = (
    store.db
      .prepare("SELECT solve_rate FROM solver_groups WHERE run_id = ? AND state = 'graded'")
      .all(runId) as Row[]
  ).map((row) => count(row.solve_rate));
  const maxStep = count(
    (store.db.prepare("SELECT MAX(step_index) AS n FROM steps WHERE run_id = ?").get(runId) as Row).n,
  );
  const bin = Math.max(1, Math.ceil((maxStep + 1) / MAX_POINTS));
  // Proposer rewards through each step's episode, solver rewards through their group's step.
  const rewards = (
    store.db
      .prepare(
        `SELECT (step_index / @bin) * @bin AS step, AVG(proposer) AS proposer, AVG(solver) AS solver FROM (
           SELECT s.step_index, w.value AS proposer, NULL AS solver
             FROM steps s JOIN rewards w ON w.episode_id = s.episode_id WHERE s.run_id = @runId
           UNION ALL
           SELECT g.step_index, NULL, w.total / w.n
             FROM (SELECT group_id, SUM(value) AS total, COUNT(*) AS n FROM rewards
                    WHERE run_id = @runId AND role = 'solver' GROUP BY group_id) w
             JOIN solver_groups g ON g.id = w.group_id)
          GROUP BY step_index / @bin ORDER BY 1`,
      )
      .all({ runId, bin }) as Row[]
  ).map((row) => ({ step: count(row.step), proposer: number(row.proposer), solver: number(row.solver) }));
  const strategies = (
    store.db
      .prepare(
        `SELECT strategy, SUM(state IN ('done', 'failed')) AS finished, SUM(outcome = 'valid') AS valid
           FROM steps WHERE run_id = ? GROUP BY strategy ORDER BY strategy`,
      )
      .all(runId) as Row[]
  ).map((row) => ({
    strategy: String(row.strategy),
    finished: count(row.finished),
    valid: count(row.valid),
  }));
  const rejections = (
    store.db
      .prepare(
        `SELECT COALESCE(v.failed_check, 'unknown') AS failed_check, COUNT(*) AS n
           FROM steps s
           LEFT JOIN validation_reports v ON v.artifact_id = s.artifact_id AND v.environment = s.environment
          WHERE s.run_id = ? AND s.outcome = 'invalid'
          GROUP BY 1 ORDER BY 2 DESC, 1`,
      )
      .all(runId) as Row[]
  ).map((row) => ({ check: String(row.failed_check), count: count(row.n) }));
  return {
    solveRates: solveRateHistogram(rates),
    rewards,
    strategies,
    rejections,
    trainer: store.listTrainerIterations(runId),
  };
}

/** What the live view of a run shows; compared between polls so that only changes are sent. */
export interface RunProgress {
  status: string;
  totals: RunTotals;
  inFlight: { proposing: number; validating: number; solving: number };
}

export function runProgress(store: SqliteStore, runId: RunId): RunProgress | null {
  const run = store.getRun(runId);
  if (!run) return null;
  const states = store.db
    .prepare(
      `SELECT SUM(state = 'proposing') AS proposing, SUM(state = 'validating') AS validating,
              SUM(state = 'solving') AS solving
         FROM steps WHERE run_id = ?`,
    )
    .get(runId) as Row;
  return {
    status: run.status,
    totals: runTotals(store, runId),
    inFlight: {
      proposing: count(states.proposing),
      validating: count(states.validating),
      solving: count(states.solving),
    },
  };
}

// ---- one artifact -----------------------------------------------------------------------------------

export interface GroupView {
  group: GroupRecord;
  attempts: (AttemptRecord & { reward: RewardRecord | null })[];
  candidates: CandidateRecord[];
}

export interface ArtifactView {
  stored: StoredArtifact;
  validations: { environment: string; report: ValidationReport; createdAt: string }[];
  /** The prompt the solver received, or why it could not be rebuilt. */
  solverPrompt: { ok: true; text: string } | { ok: false; error: string };
  steps: { runId: string; stepIndex: number; episodeId: string | null }[];
  groups: GroupView[];
  parent: { id: string; strategy: string } | null;
  children: { id: string; strategy: string; verdict: string | null; failedCheck: string | null }[];
}

/** The repository path the solver prompt names; every backend mounts the repository there. */
const SOLVER_WORKDIR = "/testbed";

export function artifactView(store: SqliteStore, id: ArtifactId): ArtifactView | null {
  const stored = store.getArtifact(id);
  if (!stored) return null;
  const validations = (
    store.db
      .prepare("SELECT environment FROM validation_reports WHERE artifact_id = ? ORDER BY environment")
      .all(id) as Row[]
  ).flatMap((row) => {
    const validation = store.getValidation(id, String(row.environment));
    return validation ? [validation] : [];
  });
  let solverPrompt: ArtifactView["solverPrompt"];
  try {
    const specification = unwrapDiff(reverseDiff(stored.artifact.testWeakenDiff), "test_weaken.diff");
    solverPrompt = { ok: true, text: renderSolverPrompt(specification, SOLVER_WORKDIR) };
  } catch (error) {
    solverPrompt = { ok: false, error: errorMessage(error) };
  }
  const groups = (
    store.db
      .prepare("SELECT id FROM solver_groups WHERE artifact_id = ? ORDER BY created_at")
      .all(id) as Row[]
  ).flatMap((row) => {
    const group = store.getGroup(String(row.id) as GroupRecord["id"]);
    if (!group) return [];
    const attempts = store.listAttempts(group.id).map((attempt) => ({
      ...attempt,
      reward: attempt.episodeId ? store.getReward(attempt.episodeId) : null,
    }));
    return [{ group, attempts, candidates: store.listCandidates(group.id) }];
  });
  const parentId = stored.meta.parentId;
  const parentRow = parentId
    ? (store.db.prepare("SELECT id, strategy FROM artifacts WHERE id = ?").get(parentId) as Row | undefined)
    : undefined;
  return {
    stored,
    validations,
    solverPrompt,
    steps: (
      store.db
        .prepare("SELECT run_id, step_index, episode_id FROM steps WHERE artifact_id = ? ORDER BY started_at")
        .all(id) as Row[]
    ).map((row) => ({
      runId: String(row.run_id),
      stepIndex: count(row.step_index),
      episodeId: text(row.episode_id),
    })),
    groups,
    parent: parentRow ? { id: String(parentRow.id), strategy: String(parentRow.strategy) } : null,
    children: (
      store.db
        .prepare(
          `SELECT a.id, a.strategy, v.verdict, v.failed_check FROM artifacts a
             LEFT JOIN validation_reports v ON v.artifact_id = a.id
            WHERE a.parent_id = ? ORDER BY a.created_at`,
        )
        .all(id) as Row[]
    ).map((row) => ({
      id: String(row.id),
      strategy: String(row.strategy),
      verdict: text(row.verdict),
      failedCheck: text(row.failed_check),
    })),
  };
}

// ---- one episode ------------------------------------------------------------------------------------

export interface EpisodeView {
  episode: EpisodeRecord;
  reward: RewardRecord | null;
  samples: RolloutSample[];
  /** The step (proposer) or attempt (solver) the episode belongs to. */
  step: { stepIndex: number; artifactId: string | null } | null;
  attempt: { groupId: string; attemptIndex: number; artifactId: string; resolved: boolean | null } | null;
}

export function episodeView(store: SqliteStore, id: EpisodeId): EpisodeView | null {
  const episode = store.getEpisode(id);
  if (!episode) return null;
  const step = store.db.prepare("SELECT step_index, artifact_id FROM steps WHERE episode_id = ?").get(id) as
    | Row
    | undefined;
  const attempt = store.db
    .prepare(
      `SELECT a.group_id, a.attempt_index, a.resolved, g.artifact_id
         FROM solver_attempts a JOIN solver_groups g ON g.id = a.group_id WHERE a.episode_id = ?`,
    )
    .get(id) as Row | undefined;
  return {
    episode,
    reward: store.getReward(id),
    samples: (
      store.db
        .prepare("SELECT record FROM rollout_samples WHERE episode_id = ? ORDER BY rowid")
        .all(id) as Row[]
    ).map((row) => JSON.parse(String(row.record)) as RolloutSample),
    step: step ? { stepIndex: count(step.step_index), artifactId: text(step.artifact_id) } : null,
    attempt: attempt
      ? {
          groupId: String(attempt.group_id),
          attemptIndex: count(attempt.attempt_index),
          artifactId: String(attempt.artifact_id),
          resolved: attempt.resolved === null ? null : attempt.resolved === 1,
        }
      : null,
  };
}
