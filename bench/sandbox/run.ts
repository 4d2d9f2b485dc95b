// Sandbox benchmark: create + run `true` + destroy against a bare spawn("true"), on a small repository and
// on a generated 5,000-file one, for each workspace strategy, all measured side by side in one run. Each
// sample follows a bare spawn taken just before it, so ratios hold while the machine's load varies.
// Usage: npx tsx bench/sandbox/run.ts [--runs N] [--copy-runs N] [--json]
// Plain copies of the 5,000-file repository take seconds each, so they get fewer runs (--copy-runs, default 5).

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkspaceStrategy } from "../../src/sandbox/index.js";
import { createLocalBackend } from "../../src/sandbox/local/backend.js";
import { dockerStatus } from "../../test/support/docker.js";
import type { Row } from "./row.js";

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf("--runs") + 1]) || 20;
const copyRuns = Number(argv[argv.indexOf("--copy-runs") + 1]) || 5;
const json = argv.includes("--json");
const GOAL_MS = 25;

function summarize(
  benchmark: string,
  variant: string,
  samples: number[] & { baseline?: number[] },
  note?: string,
): Row {
  const sorted = [...samples].sort((left, right) => left - right);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
  const baselineMs = samples.baseline ? median(samples.baseline) : undefined;
  return { benchmark, variant, medianMs: at(0.5), p90Ms: at(0.9), runs: samples.length, baselineMs, note };
}

/** Times `work`, alternating each sample with a bare spawn so that both see the same machine load. */
async function measure(
  count: number,
  work: () => Promise<unknown>,
): Promise<number[] & { baseline: number[] }> {
  const samples = Object.assign([] as number[], { baseline: [] as number[] });
  for (let index = 0; index < count; index++) {
    let started = performance.now();
    await bareSpawn();
    samples.baseline.push(performance.now() - started);
    started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function bareSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("true", [], { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", () => resolve());
  });
}

/** A git repository with `files` Python files spread over 50 packages, one commit. */
function makeRepository(parent: string, name: string, files: number): string {
  const directory = join(parent, name);
  for (let index = 0; index < files; index++) {
    const folder = join(directory, `package_${index % 50}`);
    if (!existsSync(folder)) mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, `module_${index}.py`),
      `def value_${index}():\n    return ${index}\n`.repeat(10),
    );
  }
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: directory,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
      },
    });
  git("init", "--quiet");
  git("add", "--all");
  git("-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "initial");
  return directory;
}

async function benchLocal(scratch: string): Promise<Row[]> {
  const rows: Row[] = [];
  const repositories = [
    { label: "small repo (10 files)", path: makeRepository(scratch, "small", 10) },
    { label: "5,000-file repo", path: makeRepository(scratch, "large", 5000) },
  ];
  const spawnSamples: number[] = [];
  for (let index = 0; index < runs; index++) {
    const started = performance.now();
    await bareSpawn();
    spawnSamples.push(performance.now() - started);
  }
  rows.push(summarize("spawn true (baseline)", "node child_process", spawnSamples));
  for (const repository of repositories) {
    for (const workspace of ["overlay", "reflink", "copy"] as WorkspaceStrategy[]) {
      const variant = `local ${workspace}, ${repository.label}`;
      const backend = createLocalBackend({ runtimeDirectory: join(scratch, "runtime"), workspace });
      const environment = { kind: "dir" as const, path: repository.path };
      try {
        // Warm-up: builds the cached change-tracking base once, as every later run would find it.
        await (await backend.create({ environment })).destroy();
        const count = workspace !== "overlay" && repository.label.startsWith("5,000") ? copyRuns : runs;
        const samples = await measure(count, async () => {
          const sandbox = await backend.create({ environment });
          const result = await sandbox.run({ command: "true" });
          if (result.exitCode !== 0) throw new Error(`true failed: ${result.stderr}`);
          await sandbox.destroy();
        });
        rows.push(summarize("create+run true+destroy", variant, samples));
        if (workspace === "overlay") {
          const sandbox = await backend.create({ environment });
          rows.push(
            summarize(
              "run true in a live sandbox",
              variant,
              await measure(runs, () => sandbox.run({ command: "true" })),
            ),
          );
          await sandbox.run({ command: "echo '# changed' >> package_1/module_1.py" });
          rows.push(summarize("diff() after one change", variant, await measure(runs, () => sandbox.diff())));
          await sandbox.destroy();
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const reason = /not supported/i.test(message)
          ? "this filesystem has no reflinks"
          : message.slice(0, 120);
        rows.push({
          benchmark: "create+run true+destroy",
          variant,
          medianMs: Number.NaN,
          p90Ms: Number.NaN,
          runs: 0,
          note: `unavailable: ${reason}`,
        });
      } finally {
        await backend.close();
      }
    }
  }
  return rows;
}

async function benchDockerRows(): Promise<Row[]> {
  const module = fileURLToPath(new URL("./docker.ts", import.meta.url));
  if (!existsSync(module)) return [];
  const status = dockerStatus();
  if (!status.available) {
    return [
      {
        benchmark: "docker",
        variant: "all",
        medianMs: Number.NaN,
        p90Ms: Number.NaN,
        runs: 0,
        note: `skipped: ${status.why}`,
      },
    ];
  }
  const { benchDocker } = (await import(module)) as { benchDocker(): Promise<Row[]> };
  return benchDocker();
}

function printTable(rows: Row[]): void {
  const overall = rows.find((row) => row.benchmark.startsWith("spawn true"))?.medianMs ?? Number.NaN;
  const format = (value: number | undefined) =>
    value !== undefined && Number.isFinite(value) ? value.toFixed(1) : "-";
  const lines = rows.map((row) => [
    row.benchmark,
    row.variant,
    format(row.medianMs),
    format(row.p90Ms),
    format(row.baselineMs),
    Number.isFinite(row.medianMs) ? `${(row.medianMs / (row.baselineMs ?? overall)).toFixed(1)}x` : "-",
    String(row.runs),
    row.note ?? "",
  ]);
  const header = [
    "benchmark",
    "variant",
    "median ms",
    "p90 ms",
    "paired spawn ms",
    "vs spawn",
    "runs",
    "note",
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const render = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${render(header)}\n${render(widths.map((width) => "-".repeat(width)))}\n`);
  for (const line of lines) process.stdout.write(`${render(line)}\n`);
}

const scratch = mkdtempSync(join(tmpdir(), "swe-selfplay-bench-"));
try {
  const rows = [...(await benchLocal(scratch)), ...(await benchDockerRows())];
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    printTable(rows);
    const large = rows.find(
      (row) =>
        row.benchmark === "create+run true+destroy" && row.variant === "local overlay, 5,000-file repo",
    );
    const baseline = rows.find((row) => row.benchmark.startsWith("spawn true"));
    if (large && baseline) {
      const verdict = large.medianMs <= GOAL_MS ? "met" : "not met";
      process.stdout.write(
        `\ngoal: create+run+destroy <= ${GOAL_MS} ms on the 5,000-file repo: ${verdict} (median ${large.medianMs.toFixed(1)} ms; ` +
          `paired bare spawn ${(large.baselineMs ?? baseline.medianMs).toFixed(1)} ms, load average ${loadavg()[0]!.toFixed(1)})\n`,
      );
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
