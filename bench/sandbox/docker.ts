// Docker side of the sandbox benchmark: create + run `true` + destroy of a Docker sandbox against a bare
// `docker run --rm IMAGE true`, measured both through the Engine API and through the docker CLI, on a small
// repository image and a generated 5,000-file one. Usage alone: npx tsx bench/sandbox/docker.ts [--runs N] [--json]

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { createDockerBackend } from "../../src/sandbox/docker/backend.js";
import {
  GIT_INIT_SETUP,
  generatedFiles,
  imageWithFiles,
  smallPythonFiles,
} from "../../test/support/docker-images.js";
import type { Row } from "./row.js";

const BENCHMARK = "create+run true+destroy";

function summarize(variant: string, samples: number[], note?: string): Row {
  const sorted = [...samples].sort((left, right) => left - right);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    benchmark: BENCHMARK,
    variant,
    medianMs: round(at(0.5)),
    p90Ms: round(at(0.9)),
    runs: samples.length,
    note,
  };
}

async function measure(count: number, work: () => Promise<unknown>): Promise<number[]> {
  await work(); // warm-up: prepared images, page cache
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await work();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** What `docker run --rm --network none IMAGE true` does, through the Engine API. */
async function bareRunThroughApi(docker: Docker, image: string): Promise<void> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: ["true"],
    HostConfig: { NetworkMode: "none", AutoRemove: true },
  });
  const exited = container.wait({ condition: "removed" });
  await container.start();
  await exited;
}

function bareRunThroughCli(image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["run", "--rm", "--network", "none", "--entrypoint", "true", image], {
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`docker run exited ${code}`))));
  });
}

export async function benchDocker(options: { runs?: number } = {}): Promise<Row[]> {
  const runs = options.runs ?? 20;
  const docker = new Docker();
  const images = [
    {
      name: "small repo",
      image: await imageWithFiles({
        tag: "swe-selfplay/bench-small:latest",
        files: smallPythonFiles(),
        setup: GIT_INIT_SETUP,
      }),
    },
    {
      name: "5000 files",
      image: await imageWithFiles({
        tag: "swe-selfplay/bench-5000:latest",
        files: generatedFiles(5000),
        setup: GIT_INIT_SETUP,
      }),
    },
  ];
  const backend = createDockerBackend({ runId: "bench-sandbox-docker" });
  // The same without a started spare waiting: what a single sandbox costs when nothing was prepared ahead.
  const cold = createDockerBackend({ runId: "bench-sandbox-docker-cold", warmContainers: 0 });
  const rows: Row[] = [];
  try {
    for (const { name, image } of images) {
      const sandboxSamples = await measure(runs, async () => {
        const sandbox = await backend.create({ environment: { kind: "image", image } });
        const result = await sandbox.run({ command: "true" });
        if (result.exitCode !== 0) throw new Error(`true exited ${result.exitCode} in ${image}`);
        await sandbox.destroy();
      });
      const coldSamples = await measure(runs, async () => {
        const sandbox = await cold.create({ environment: { kind: "image", image } });
        await sandbox.run({ command: "true" });
        await sandbox.destroy();
      });
      const apiSamples = await measure(runs, () => bareRunThroughApi(docker, image));
      const cliSamples = await measure(runs, () => bareRunThroughCli(image));
      const sandboxRow = summarize(`docker sandbox, ${name}`, sandboxSamples);
      const apiRow = summarize(`bare docker run --rm (Engine API), ${name}`, apiSamples);
      const cliRow = summarize(`bare docker run --rm (docker CLI), ${name}`, cliSamples);
      const ratio = (row: Row, baseline: Row) => (row.medianMs / baseline.medianMs).toFixed(2);
      sandboxRow.note = `ratio ${ratio(sandboxRow, apiRow)} vs API run, ${ratio(sandboxRow, cliRow)} vs CLI run (target <= 1.0)`;
      const coldRow = summarize(`docker sandbox without warm spare, ${name}`, coldSamples);
      coldRow.note = `ratio ${ratio(coldRow, apiRow)} vs API run, ${ratio(coldRow, cliRow)} vs CLI run`;
      rows.push(sandboxRow, coldRow, apiRow, cliRow);
    }
  } finally {
    await backend.close();
    await cold.close();
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const runs = Number(argv[argv.indexOf("--runs") + 1]) || 20;
  const rows = await benchDocker({ runs });
  if (argv.includes("--json")) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    for (const row of rows) {
      process.stdout.write(
        `${row.variant.padEnd(48)} median ${String(row.medianMs).padStart(7)} ms  p90 ${String(row.p90Ms).padStart(7)} ms  n=${row.runs}${row.note ? `  ${row.note}` : ""}\n`,
      );
    }
  }
}
