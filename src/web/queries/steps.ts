// The steps of a run, filtered and paged in SQL, and the choices each filter offers.
import type { RunId } from "../../ports/store.js";
import type { SqliteStore } from "../../store/index.js";
import { count, number, type Page, type Row, text } from "./values.js";

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
