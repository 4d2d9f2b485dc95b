// Numbered schema migrations, applied in order inside one transaction each; never edit a released one, add a new one.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'completed', 'failed')),
  config TEXT NOT NULL,
  seed INTEGER NOT NULL,
  starts INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE environments (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  disabled_reason TEXT,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  environment TEXT NOT NULL,
  strategy TEXT NOT NULL,
  order_number INTEGER NOT NULL CHECK (order_number IN (1, 2)),
  parent_id TEXT REFERENCES artifacts(id),
  test_script TEXT NOT NULL,
  test_files TEXT NOT NULL,
  test_parser TEXT NOT NULL,
  bug_inject_diff TEXT NOT NULL,
  test_weaken_diff TEXT NOT NULL,
  meta TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE validation_reports (
  artifact_id TEXT NOT NULL REFERENCES artifacts(id),
  environment TEXT NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('valid', 'invalid')),
  failed_check TEXT,
  report TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (artifact_id, environment)
);

CREATE TABLE episodes (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  role TEXT NOT NULL CHECK (role IN ('proposer', 'solver')),
  step_index INTEGER NOT NULL,
  group_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('running', 'finished', 'aborted')),
  policy TEXT,
  status TEXT,
  exit_reason TEXT,
  trajectory TEXT NOT NULL DEFAULT '[]',
  stats TEXT NOT NULL DEFAULT '{}',
  started_at TEXT NOT NULL,
  ended_at TEXT
);
CREATE INDEX episodes_by_run ON episodes (run_id, step_index);

CREATE TABLE steps (
  run_id TEXT NOT NULL REFERENCES runs(id),
  step_index INTEGER NOT NULL,
  environment TEXT NOT NULL,
  strategy TEXT NOT NULL,
  seed INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('proposing', 'validating', 'solving', 'done', 'failed')),
  outcome TEXT CHECK (outcome IN ('valid', 'invalid', 'no-artifact', 'error')),
  episode_id TEXT REFERENCES episodes(id),
  artifact_id TEXT REFERENCES artifacts(id),
  error TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  PRIMARY KEY (run_id, step_index)
);

CREATE TABLE solver_groups (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  step_index INTEGER NOT NULL,
  artifact_id TEXT NOT NULL REFERENCES artifacts(id),
  environment TEXT NOT NULL,
  order_number INTEGER NOT NULL CHECK (order_number IN (1, 2)),
  parent_group_id TEXT REFERENCES solver_groups(id),
  source_attempt_id TEXT,
  group_size INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('solving', 'graded')),
  solve_rate REAL,
  created_at TEXT NOT NULL,
  graded_at TEXT
);
CREATE INDEX solver_groups_by_step ON solver_groups (run_id, step_index);

CREATE TABLE solver_attempts (
  id TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES solver_groups(id),
  attempt_index INTEGER NOT NULL,
  seed INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
  episode_id TEXT REFERENCES episodes(id),
  patch TEXT,
  grade TEXT,
  resolved INTEGER,
  finished_at TEXT,
  UNIQUE (group_id, attempt_index)
);

CREATE TABLE second_order_candidates (
  id TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES solver_groups(id),
  attempt_id TEXT NOT NULL REFERENCES solver_attempts(id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'validating', 'done')),
  outcome TEXT CHECK (outcome IN ('valid', 'invalid', 'no-artifact', 'error')),
  artifact_id TEXT REFERENCES artifacts(id),
  child_group_id TEXT REFERENCES solver_groups(id),
  reason TEXT,
  UNIQUE (group_id, attempt_id)
);

CREATE TABLE rewards (
  episode_id TEXT PRIMARY KEY REFERENCES episodes(id),
  run_id TEXT NOT NULL REFERENCES runs(id),
  role TEXT NOT NULL,
  group_id TEXT NOT NULL,
  value REAL NOT NULL,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE rollout_samples (
  sample_id TEXT PRIMARY KEY,
  episode_id TEXT NOT NULL REFERENCES episodes(id),
  run_id TEXT NOT NULL REFERENCES runs(id),
  step_index INTEGER NOT NULL,
  group_id TEXT NOT NULL,
  role TEXT NOT NULL,
  record TEXT NOT NULL,
  reward REAL
);
CREATE INDEX rollout_samples_by_step ON rollout_samples (run_id, step_index);
`,
  },
  {
    version: 2,
    name: "duplicate artifacts of a step",
    // SQLite cannot widen a CHECK constraint in place: the steps table is rebuilt with the new outcome
    // (nothing references it by foreign key).
    sql: `
CREATE TABLE steps_rebuilt (
  run_id TEXT NOT NULL REFERENCES runs(id),
  step_index INTEGER NOT NULL,
  environment TEXT NOT NULL,
  strategy TEXT NOT NULL,
  seed INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('proposing', 'validating', 'solving', 'done', 'failed')),
  outcome TEXT CHECK (outcome IN ('valid', 'invalid', 'no-artifact', 'error', 'duplicate')),
  episode_id TEXT REFERENCES episodes(id),
  artifact_id TEXT REFERENCES artifacts(id),
  error TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  duplicate_of INTEGER,
  duplicate_kind TEXT CHECK (duplicate_kind IN ('identical', 'semantic')),
  PRIMARY KEY (run_id, step_index)
);
INSERT INTO steps_rebuilt (run_id, step_index, environment, strategy, seed, state, outcome, episode_id,
  artifact_id, error, started_at, ended_at)
SELECT run_id, step_index, environment, strategy, seed, state, outcome, episode_id, artifact_id, error,
  started_at, ended_at FROM steps;
DROP TABLE steps;
ALTER TABLE steps_rebuilt RENAME TO steps;
`,
  },
  {
    version: 3,
    name: "trainer iterations; lookups by episode and artifact",
    // One row per trainer iteration: the policy version it trained and its metrics (a JSON object of
    // numbers, e.g. reward_mean, solve_rate, proposer_reward_mean, solver_reward_mean, loss).
    // The indexes serve rewards written onto samples, and the dashboard's pages, which otherwise scan
    // every sample, attempt and group, or read every episode's trajectory row for its policy.
    sql: `
CREATE TABLE trainer_iterations (
  run_id TEXT NOT NULL REFERENCES runs(id),
  iteration INTEGER NOT NULL,
  policy_version TEXT NOT NULL,
  metrics TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, iteration)
);
CREATE INDEX rollout_samples_by_episode ON rollout_samples (episode_id);
CREATE INDEX solver_attempts_by_episode ON solver_attempts (episode_id);
CREATE INDEX solver_groups_by_artifact ON solver_groups (artifact_id);
CREATE INDEX steps_by_artifact ON steps (artifact_id);
CREATE INDEX rewards_by_group ON rewards (run_id, role, group_id, value);
CREATE INDEX episodes_policy ON episodes (id, policy);
CREATE INDEX validation_reports_verdicts ON validation_reports (artifact_id, environment, verdict, failed_check);
`,
  },
  {
    version: 4,
    name: "service steps",
    // One row per step the service accepted: the request (canonical JSON) keyed by its request_id, so a
    // repeated request finds its step; the status; the result once done (never changed after). The
    // service's own settings (replica id, highest policy step seen) are key/value rows.
    sql: `
CREATE TABLE service_steps (
  step_id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('step', 'solve')),
  request TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  reason TEXT,
  policy_version TEXT NOT NULL,
  policy_step INTEGER,
  run_id TEXT REFERENCES runs(id),
  step_index INTEGER,
  result TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  acked_at TEXT,
  pruned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX service_steps_by_status ON service_steps (status, created_at);
CREATE TABLE service_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    version: 5,
    name: "evaluations",
    // One row per evaluation of a policy on a frozen task set, keyed by the set, the policy (kind, name,
    // version), its sampling (canonical JSON) and the attempts per task. Its attempts are the solver attempts
    // of its own run (one repair-only step per task, step_index = the task's place in the set), so they
    // are made, graded and resumed exactly as self-play's; figures are kept once it completes.
    sql: `
CREATE TABLE evaluations (
  id TEXT PRIMARY KEY,
  task_set_id TEXT NOT NULL,
  task_set_name TEXT NOT NULL,
  policy_kind TEXT NOT NULL,
  policy_name TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  sampling TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts >= 1),
  run_id TEXT NOT NULL REFERENCES runs(id),
  status TEXT NOT NULL CHECK (status IN ('running', 'interrupted', 'failed', 'completed')),
  error TEXT,
  figures TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (task_set_id, policy_kind, policy_name, policy_version, sampling, attempts)
);
CREATE INDEX evaluations_by_set ON evaluations (task_set_id, created_at);
CREATE TABLE evaluation_tasks (
  evaluation_id TEXT NOT NULL REFERENCES evaluations(id),
  task_index INTEGER NOT NULL,
  artifact_id TEXT NOT NULL REFERENCES artifacts(id),
  environment TEXT NOT NULL,
  strategy TEXT NOT NULL,
  PRIMARY KEY (evaluation_id, task_index)
);
`,
  },
  {
    version: 6,
    name: "episode conversations",
    // A tool-calling episode's messages as sent to the model, its tool specifications and call format
    // (JSON), so an export rebuilds what the model saw; null for episodes stored before, and for policies
    // without tool calls.
    sql: `
ALTER TABLE episodes ADD COLUMN conversation TEXT;
`,
  },
];
