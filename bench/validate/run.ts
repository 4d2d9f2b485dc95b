// Benchmark of the consistency checks on toolz (Debian's source package): a one-file and a three-file
// artifact, made with real git, validated in local bubblewrap sandboxes and in Docker. Prints wall time,
// test runs, and the ratio of wall time to the critical path of those runs (target ≤ 1.15).
// Usage: npx tsx bench/validate/run.ts [--local-only | --docker-only] [--concurrency N[,N...]] [--json]
// Concurrency (test runs in flight) defaults to 8, enough for every run of the three-file artifact at once;
// run durations are measured under that contention, so the ratio shows what the scheduler adds on top.

import type { BugArtifact } from "../../src/ports/artifact.js";
import type { Environment, SandboxBackend } from "../../src/ports/sandbox.js";
import type { ValidationReport } from "../../src/ports/validation.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { createValidator } from "../../src/validation/validator.js";
import { dockerStatus } from "../../test/support/docker.js";
import { ensureToolzDir, ensureToolzImage } from "../../test/support/toolz.js";
import { toolzArtifacts } from "../../test/support/toolz-artifacts.js";

const args = process.argv.slice(2);
const concurrencyIndex = args.indexOf("--concurrency");
const concurrencies = (concurrencyIndex >= 0 ? (args[concurrencyIndex + 1] ?? "") : "8")
  .split(",")
  .map(Number);
if (concurrencies.some((value) => !Number.isInteger(value) || value < 1)) {
  throw new Error(`--concurrency needs positive integers, got ${args[concurrencyIndex + 1]}`);
}

interface Row {
  backend: string;
  concurrency: number;
  artifact: string;
  baseline: "cold" | "cached";
  report: ValidationReport;
}

function summarise(row: Row): Record<string, string | number> {
  const { report } = row;
  const ran = report.testRuns.filter((run) => !run.cached);
  const busy = ran.reduce((sum, run) => sum + run.durationMs, 0);
  return {
    backend: row.backend,
    concurrency: row.concurrency,
    artifact: row.artifact,
    baseline: row.baseline,
    verdict: report.failedCheck ? `invalid:${report.failedCheck}` : report.verdict,
    f2p: report.f2p.length,
    testRuns: ran.length,
    wallMs: report.wallTimeMs,
    criticalPathMs: report.criticalPathMs,
    "wall/critical": Number((report.wallTimeMs / Math.max(1, report.criticalPathMs)).toFixed(3)),
    "sum(run)/wall": Number((busy / Math.max(1, report.wallTimeMs)).toFixed(2)),
  };
}

async function benchBackend(
  backend: string,
  sandboxes: SandboxBackend,
  environment: Environment,
  artifacts: { name: string; artifact: BugArtifact }[],
  concurrency: number,
): Promise<Row[]> {
  const rows: Row[] = [];
  // Warm-up: the first sandbox of an environment pays for one-time preparation (workspace base, image layers).
  const warm = await sandboxes.create({ environment, label: "bench:warm-up" });
  await warm.run({ command: "true" });
  await warm.destroy();
  for (const { name, artifact } of artifacts) {
    // A fresh validator per artifact: the baseline is measured, not taken from the cache.
    const validator = createValidator({ sandboxes, concurrency });
    try {
      rows.push({
        backend,
        concurrency,
        artifact: name,
        baseline: "cold",
        report: await validator.validate(environment, artifact),
      });
      const other = artifacts.find((entry) => entry.name !== name)!;
      rows.push({
        backend,
        concurrency,
        artifact: other.name,
        baseline: "cached",
        report: await validator.validate(environment, other.artifact),
      });
    } finally {
      await validator.close();
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const sandboxes = openSandboxes();
  try {
    const checkout = await ensureToolzDir();
    const artifacts = toolzArtifacts(checkout);
    if (!args.includes("--docker-only")) {
      for (const concurrency of concurrencies) {
        rows.push(
          ...(await benchBackend(
            "local",
            sandboxes,
            { kind: "dir", path: checkout },
            artifacts,
            concurrency,
          )),
        );
      }
    }
    if (!args.includes("--local-only")) {
      const docker = dockerStatus();
      if (docker.available) {
        const image = await ensureToolzImage();
        for (const concurrency of concurrencies) {
          rows.push(
            ...(await benchBackend("docker", sandboxes, { kind: "image", image }, artifacts, concurrency)),
          );
        }
      } else {
        process.stderr.write(`docker rows skipped, why: ${docker.why}\n`);
      }
    }
  } finally {
    await sandboxes.close();
  }
  const table = rows.map(summarise);
  console.table(table);
  const invalid = rows.filter((row) => row.report.verdict !== "valid");
  for (const row of invalid) {
    process.stderr.write(`${row.backend}/${row.artifact}: ${row.report.failedCheck}: ${row.report.reason}\n`);
  }
  for (const concurrency of concurrencies) {
    const cold = table.filter((row) => row.baseline === "cold" && row.concurrency === concurrency);
    const worst = Math.max(...cold.map((row) => row["wall/critical"] as number));
    console.log(
      `concurrency ${concurrency}: worst wall/critical-path ratio (cold baselines) ${worst} (target ≤ 1.15)`,
    );
  }
  if (args.includes("--json")) console.log(JSON.stringify(table));
  process.exitCode = invalid.length > 0 ? 1 : 0;
}

await main();
