// Benchmark of the store's row schemas: builds a store of N steps (G attempts each, every attempt with a
// trajectory and a token sample) through the Store API, then reads a run's steps, episodes, groups,
// attempts, rewards and samples through the store (each row parsed by its zod schema) and, side by side,
// the same rows with the same SQL and no parsing at all. Prints the median time of each and the ratio
// parsed / raw: what parsing at the boundary costs on top of reading.
// Usage: npx tsx bench/store/rows.ts [--steps N] [--group-size G] [--samples K] [--json]
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { RunId } from "../../src/ports/store.js";
import { openSqliteStore, type SqliteStore } from "../../src/store/index.js";
import { writeSyntheticStep } from "../../test/support/dashboard-store.js";
import { makeTempDir } from "../../test/support/tmp.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = args.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} needs a positive integer, got ${args[index + 1]}`);
  return value;
};
const steps = option("--steps", 2_000);
const groupSize = option("--group-size", 8);
const samples = option("--samples", 9);
const RUN = "run-bench" as RunId;

function median(values: number[]): number {
  return values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Median wall time of `work`, run `samples` times after one warm-up. */
function time(work: () => unknown): number {
  work();
  const times: number[] = [];
  for (let index = 0; index < samples; index++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Parses the JSON columns of raw rows, as any reader of them must. */
function parseJson(rows: unknown[], columns: string[]): unknown[] {
  for (const row of rows as Record<string, unknown>[])
    for (const column of columns)
      if (typeof row[column] === "string") row[column] = JSON.parse(row[column] as string);
  return rows;
}

/** Each read through the store, and the same SQL read raw (JSON columns parsed, nothing checked). */
function reads(store: SqliteStore) {
  const raw =
    (sql: string, json: string[], ...parameters: unknown[]) =>
    () =>
      parseJson(store.db.prepare(sql).all(...parameters), json);
  const groups = store.listGroups(RUN);
  return {
    steps: {
      parsed: () => store.listSteps(RUN),
      raw: raw("SELECT * FROM steps WHERE run_id = ? ORDER BY step_index", [], RUN),
    },
    episodes: {
      parsed: () => store.listEpisodes(RUN),
      raw: raw(
        "SELECT * FROM episodes WHERE run_id = ? ORDER BY step_index, started_at",
        ["policy", "trajectory", "stats"],
        RUN,
      ),
    },
    groups: {
      parsed: () => store.listGroups(RUN),
      raw: raw("SELECT * FROM solver_groups WHERE run_id = ? ORDER BY step_index, created_at, id", [], RUN),
    },
    "attempts (every group)": {
      parsed: () => groups.flatMap((group) => store.listAttempts(group.id)),
      raw: () =>
        groups.flatMap((group) =>
          parseJson(
            store.db
              .prepare("SELECT * FROM solver_attempts WHERE group_id = ? ORDER BY attempt_index")
              .all(group.id),
            ["grade"],
          ),
        ),
    },
    rewards: {
      parsed: () => store.listRewards(RUN),
      raw: raw("SELECT * FROM rewards WHERE run_id = ? ORDER BY created_at, rowid", [], RUN),
    },
    samples: {
      parsed: () => store.listSamples(RUN),
      // The records are JSON either way: the raw side parses them too, as any reader must.
      raw: () =>
        store.db
          .prepare("SELECT record, reward FROM rollout_samples WHERE run_id = ? ORDER BY step_index, rowid")
          .all(RUN)
          .map((row) => JSON.parse((row as { record: string }).record) as unknown),
    },
  };
}

const temp = makeTempDir("swe-selfplay-bench-store-");
try {
  const store = openSqliteStore(join(temp.path, "store.db"));
  const started = performance.now();
  store.createRun({ id: RUN, config: { bench: true }, seed: 0 });
  store.transaction(() => {
    for (let index = 0; index < steps; index++)
      writeSyntheticStep(store, RUN, index, {
        verdict: index % 4 === 3 ? "invalid" : "valid",
        groupSize,
        resolved: index % (groupSize + 1),
      });
  });
  process.stderr.write(
    `built a store of ${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  const rows = Object.entries(reads(store)).map(([name, read]) => {
    const count = (read.parsed() as unknown[]).length;
    // Side by side: raw, then parsed, for each read.
    const rawMs = time(read.raw);
    const parsedMs = time(read.parsed);
    return { read: name, rows: count, rawMs, parsedMs, ratio: parsedMs / rawMs };
  });
  store.close();
  if (args.includes("--json"))
    process.stdout.write(`${JSON.stringify({ steps, groupSize, rows }, null, 2)}\n`);
  else {
    process.stdout.write(
      `median of ${samples} reads; ${steps} steps × G=${groupSize}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores\n`,
    );
    const width = Math.max(...rows.map((row) => row.read.length));
    process.stdout.write(`${"read".padEnd(width)}    rows    raw ms  parsed ms  parsed/raw\n`);
    for (const row of rows)
      process.stdout.write(
        `${row.read.padEnd(width)}  ${String(row.rows).padStart(6)}  ${row.rawMs.toFixed(1).padStart(8)}  ${row.parsedMs.toFixed(1).padStart(9)}  ${row.ratio.toFixed(2).padStart(10)}\n`,
      );
  }
} finally {
  temp.remove();
}
