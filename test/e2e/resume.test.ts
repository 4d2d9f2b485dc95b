// Crash-safe resume: `swe-selfplay run` is killed with SIGKILL at random moments, then run again on the
// same store; after every kill the stored state obeys the run invariants and nothing finished before is
// lost or changed; a last run completes the job with consistent counters.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInvariantViolations } from "../../src/selfplay/invariants.js";
import { openSqliteStore, openStore, type SqliteStore } from "../../src/store/index.js";
import { projectRoot, runCli } from "../support/cli.js";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { makeTempDir } from "../support/tmp.js";

const KILLS = 10;

/** Deterministic pseudo-random numbers in [0, 1), so a failure can be replayed. */
function randomSequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** What the store has finished so far, as a comparable string; "" before the store exists. */
function progressSignature(path: string): string {
  if (!existsSync(path)) return "";
  let store: SqliteStore | undefined;
  try {
    store = openSqliteStore(path, { readonly: true });
    const row = store.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM steps WHERE state != 'proposing') AS steps,
                (SELECT COUNT(*) FROM solver_attempts WHERE state = 'done') AS attempts,
                (SELECT COUNT(*) FROM rewards) AS rewards,
                (SELECT COUNT(*) FROM second_order_candidates WHERE state != 'pending') AS candidates`,
      )
      .get();
    return JSON.stringify(row);
  } catch {
    return "";
  } finally {
    store?.close();
  }
}

/**
 * Runs the CLI and kills its whole process group with SIGKILL at a random moment: either a random delay
 * after the store records new progress (so kills land just after commits and in the middle of the next
 * piece of work), or at a random moment before any progress.
 */
async function runAndKill(
  args: string[],
  storePath: string,
  random: () => number,
  waitForProgress: boolean,
): Promise<{ killed: boolean; code: number | null }> {
  const before = progressSignature(storePath);
  const child = spawn(process.execPath, ["--import", "tsx", `${projectRoot}src/cli/main.ts`, ...args], {
    cwd: projectRoot,
    env: { ...process.env, SWE_SELFPLAY_LOG: "warn" },
    stdio: "ignore",
    // Its own process group: the kill takes the sandboxes' processes with it, as a machine crash would.
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const startedAt = Date.now();
  // Without waiting for progress: a random moment of start-up, recovery or the episode in flight.
  const blindDelay = waitForProgress ? Number.POSITIVE_INFINITY : 2500 + random() * 7000;
  const afterProgress = random() * 2000;
  let progressAt: number | null = null;
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = Date.now();
    if (progressAt === null && progressSignature(storePath) !== before) progressAt = now;
    const due =
      now - startedAt >= blindDelay ||
      (progressAt !== null && now - progressAt >= afterProgress) ||
      now - startedAt > 45_000;
    if (due && !done) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
      process.stderr.write(
        `resume test: killed after ${now - startedAt} ms (${progressAt === null ? "before progress" : `${now - progressAt} ms after progress`}) ${progressSignature(storePath)}\n`,
      );
      return { killed: true, code: await exited };
    }
  }
  return { killed: false, code: await exited };
}

interface Snapshot {
  finishedSteps: Map<number, string>;
  rewards: Map<string, number>;
  gradedAttempts: Map<string, string>;
}

function snapshot(path: string): { snapshot: Snapshot; violations: string[]; steps: number } {
  const store = openStore(path);
  try {
    const run = store.latestRun();
    if (!run)
      return {
        snapshot: { finishedSteps: new Map(), rewards: new Map(), gradedAttempts: new Map() },
        violations: [],
        steps: 0,
      };
    const steps = store.listSteps(run.id);
    const groups = store.listGroups(run.id);
    return {
      violations: runInvariantViolations(store, run.id),
      steps: steps.length,
      snapshot: {
        finishedSteps: new Map(
          steps
            .filter((step) => step.state === "done")
            .map((step) => [step.stepIndex, `${step.outcome}:${step.artifactId}`]),
        ),
        rewards: new Map(
          store.listRewards(run.id).map((reward) => [reward.episodeId as string, reward.value]),
        ),
        gradedAttempts: new Map(
          groups.flatMap((group) =>
            store
              .listAttempts(group.id)
              .filter((attempt) => attempt.state === "done")
              .map((attempt) => [attempt.id as string, `${attempt.episodeId}:${attempt.resolved}`] as const),
          ),
        ),
      },
    };
  } finally {
    store.close();
  }
}

function expectKept(before: Snapshot, after: Snapshot): void {
  for (const [step, value] of before.finishedSteps)
    expect(after.finishedSteps.get(step), `step ${step}`).toBe(value);
  for (const [episode, value] of before.rewards)
    expect(after.rewards.get(episode), `reward ${episode}`).toBe(value);
  for (const [attempt, value] of before.gradedAttempts)
    expect(after.gradedAttempts.get(attempt), `attempt ${attempt}`).toBe(value);
}

describe("resume after SIGKILL", () => {
  const temp = makeTempDir("swe-selfplay-resume-");
  let repo: string;
  const store = join(temp.path, "store.db");

  beforeAll(async () => {
    repo = await makePythonFixtureRepo(temp.path);
  });
  afterAll(() => temp.remove());

  it(`keeps the store consistent across ${KILLS} kills and completes on the last resume`, {
    timeout: 330_000,
  }, async () => {
    // Small and quick: G = 2, a repair budget of 2 test runs, one baseline run, one step in flight at a
    // time (so kills interrupt the same step at different stages).
    const base = [
      "run",
      ...[
        "--repo",
        `inkwell=${repo}`,
        "--store",
        store,
        "--group-size",
        "2",
        "--solvers",
        "2",
        "--no-progress",
      ],
      ...[
        "--set",
        "policy.kind=builtin",
        "--set",
        "policy.testRunBudget=2",
        "--set",
        "thresholds.baselineRuns=1",
      ],
      ...["--set", "concurrency.pipelineSteps=1"],
    ];
    let previous = snapshot(store).snapshot;
    const kills: number[] = [];
    const random = randomSequence(7);
    for (let kill = 0; kill < KILLS; kill++) {
      // Unbounded steps: only the kill ends these runs.
      // Every third kill waits for new progress, so later kills find finished work to keep.
      const outcome = await runAndKill([...base, "--steps", "1000"], store, random, kill % 3 === 1);
      expect(outcome.killed, `run exited by itself with ${outcome.code}`).toBe(true);
      kills.push(kill);
      const current = snapshot(store);
      expect(current.violations).toEqual([]);
      expectKept(previous, current.snapshot);
      previous = current.snapshot;
    }
    expect(kills).toHaveLength(KILLS);

    // Finish: bound the run to the steps it has and let it complete them.
    const { steps } = snapshot(store);
    const live = join(temp.path, "live");
    const final = await runCli(
      [...base, "--steps", String(steps), "--rollouts", live, "--allow-untrainable", "--json"],
      {
        timeoutMs: 180_000,
      },
    );
    expect(final.code, final.stderr).toBe(0);
    const summary = JSON.parse(final.stdout);
    expect(summary.status).toBe("completed");
    // A kill during start-up, before the store was opened, does not count as a start.
    expect(summary.starts).toBeGreaterThanOrEqual(2);
    expect(summary.starts).toBeLessThanOrEqual(KILLS + 1);
    expect(summary.steps.total).toBe(steps);
    expect(summary.steps.unfinished).toBe(0);
    expect(summary.steps.done + summary.steps.failed).toBe(steps);
    expect(
      summary.artifacts.valid +
        summary.artifacts.invalid +
        summary.artifacts.noArtifact +
        summary.artifacts.duplicate,
    ).toBe(summary.steps.done);
    // The built-in policy made at least one valid bug and its group was graded.
    expect(summary.artifacts.valid).toBeGreaterThan(0);
    expect(summary.groups.firstOrder).toBeGreaterThan(0);
    // --rollouts exported every finished step with its manifest.
    const exported = readdirSync(join(live, "rollouts")).sort();
    expect(exported).toHaveLength(steps);
    for (const directory of exported)
      expect(existsSync(join(live, "rollouts", directory, "_DONE"))).toBe(true);
    const end = snapshot(store);
    expect(end.violations).toEqual([]);
    expectKept(previous, end.snapshot);
    const check = openStore(store);
    try {
      const run = check.latestRun()!;
      expect(check.listEpisodes(run.id).filter((episode) => episode.state === "running")).toEqual([]);
      expect(check.listRuns()).toHaveLength(1);
    } finally {
      check.close();
    }
  });
});
