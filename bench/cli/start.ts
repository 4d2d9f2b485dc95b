// Benchmark of the CLI's start time, side by side in one run (rounds interleaved, medians), against bare
// `node -e 0` (what any Node program costs here):
//  - the checkout's entry (`bin/swe-selfplay.js`: the TypeScript sources through tsx, as `npx swe-selfplay`
//    runs in a checkout without a fresh build);
//  - the same sources compiled to JavaScript (esbuild, tsx's own compiler, into a scratch directory): what
//    the built package (`dist/`) runs;
// for `--help`, `run --help`, an unknown flag, a bad flag value and a missing artifact directory. Target:
// --help and error paths under 1 s. With `--before REV` the same cases run for that git revision too (its
// tree exported into a scratch directory), so before and after share the same minutes and load.
// Usage: npx tsx bench/cli/start.ts [--rounds 5] [--before REV] [--json]
// Measured on the development machine (2 cores, shared, so ratios only): before dockerode and Fastify loaded
// lazily, the checkout took 14-18× bare Node and the compiled sources 9-10×; after, 11-14× and 5-6×; with
// undici and diff2html lazy too, 8-12× and 3-5×. Then each command's implementation (and with it the
// composition root and the adapters) loaded only when the command runs, `--before` the commit before it
// (medians of 7, load average 9, bare Node 0.14 s): checkout 1.7-2.3 s (12-17×) before, 0.8-1.15 s (6-8.5×)
// after; compiled 0.56-1.4 s (4-10×) before, 0.33-0.58 s (2.5-4.3×) after. At load 35-65 the same runs gave
// checkout 9-12× → 4.6-6.5× and compiled 3-5× → 2-3×. What is left in a checkout is mostly tsx's own
// start (its loader thread) and zod.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { transform } from "esbuild";
import { projectRoot } from "../../test/support/cli.js";
import { makeTempDir } from "../../test/support/tmp.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const rounds = Number(option("rounds") ?? 5);
const json = process.argv.includes("--json");

/** The sources as JavaScript beside their assets, as `dist/` would hold them, without type checking. */
async function compileSources(root: string, target: string): Promise<number> {
  const source = join(root, "src");
  const jobs: Promise<void>[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      const out = join(target, "dist", relative(source, path));
      if (entry.isDirectory()) walk(path);
      else if (path.endsWith(".ts") && !path.endsWith(".test.ts") && !path.endsWith(".d.ts")) {
        mkdirSync(dirname(out), { recursive: true });
        jobs.push(
          transform(readFileSync(path, "utf8"), { loader: "ts", format: "esm", target: "node20" }).then(
            (result) => writeFileSync(out.replace(/\.ts$/, ".js"), result.code),
          ),
        );
      } else if (extname(path) !== ".ts") {
        mkdirSync(dirname(out), { recursive: true });
        cpSync(path, out);
      }
    }
  };
  walk(source);
  await Promise.all(jobs);
  // The compiled modules find package.json and node_modules as an installed package does.
  cpSync(join(projectRoot, "package.json"), join(target, "package.json"));
  symlinkSync(join(projectRoot, "node_modules"), join(target, "node_modules"));
  return jobs.length;
}

/** A git revision's tree in a scratch directory, with this checkout's node_modules. */
function exportRevision(revision: string, target: string): void {
  mkdirSync(target, { recursive: true });
  const archive = execFileSync("git", ["-C", projectRoot, "archive", revision], { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", target], { input: archive });
  symlinkSync(join(projectRoot, "node_modules"), join(target, "node_modules"));
}

const before = option("before");
const temp = makeTempDir("swe-selfplay-bench-cli-");
try {
  const entries: Record<string, string[]> = {};
  const trees: [string, string][] = [["after", projectRoot]];
  if (before) {
    exportRevision(before, join(temp.path, "before"));
    trees.unshift(["before", join(temp.path, "before")]);
  }
  let modules = 0;
  for (const [name, root] of trees) {
    modules = await compileSources(root, join(temp.path, `${name}-compiled`));
    entries[`${name} checkout`] = [join(root, "bin", "swe-selfplay.js")];
    entries[`${name} compiled`] = [join(temp.path, `${name}-compiled`, "dist", "cli", "main.js")];
  }
  const cases: { name: string; args: string[]; exit: number }[] = [
    { name: "--help", args: ["--help"], exit: 0 },
    { name: "run --help", args: ["run", "--help"], exit: 0 },
    { name: "run --no-such-flag", args: ["run", "--no-such-flag"], exit: 2 },
    { name: "run --temperature hot", args: ["run", "--temperature", "hot"], exit: 2 },
    { name: "solve MISSING --repo .", args: ["solve", join(temp.path, "missing"), "--repo", "."], exit: 2 },
  ];
  const seconds = (program: string[]) => {
    const started = performance.now();
    const result = spawnSync(process.execPath, program, {
      cwd: temp.path,
      encoding: "utf8",
      env: { ...process.env, SWE_SELFPLAY_LOG: "warn", SWE_SELFPLAY_BASE_URL: "", SWE_SELFPLAY_MODEL: "" },
    });
    return { seconds: (performance.now() - started) / 1000, code: result.status, stderr: result.stderr };
  };
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const bare: number[] = [];
  const times = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    bare.push(seconds(["-e", "0"]).seconds);
    for (const testCase of cases)
      for (const [entry, program] of Object.entries(entries)) {
        const result = seconds([...program, ...testCase.args]);
        if (result.code !== testCase.exit)
          throw new Error(
            `${entry} ${testCase.name}: exit ${result.code}, expected ${testCase.exit}: ${result.stderr}`,
          );
        const key = `${testCase.name}\u0000${entry}`;
        times.set(key, [...(times.get(key) ?? []), result.seconds]);
      }
  }
  const node = median(bare);
  const rows = cases.map((testCase) => ({
    case: testCase.name,
    entries: Object.fromEntries(
      Object.keys(entries).map((entry) => {
        const time = median(times.get(`${testCase.name}\u0000${entry}`)!);
        return [entry, { seconds: Number(time.toFixed(3)), overNode: Number((time / node).toFixed(1)) }];
      }),
    ),
  }));
  const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  if (json)
    process.stdout.write(
      `${JSON.stringify({ rounds, before: before ?? null, modules, nodeS: node, load, rows }, null, 2)}\n`,
    );
  else {
    process.stdout.write(
      `bare node ${node.toFixed(3)} s (median of ${rounds}); ${modules} modules compiled; load average ${load}\n`,
    );
    process.stdout.write(
      `${"".padEnd(24)}${Object.keys(entries)
        .map((entry) => entry.padEnd(24))
        .join("")}\n`,
    );
    for (const row of rows)
      process.stdout.write(
        `${row.case.padEnd(24)}${Object.values(row.entries)
          .map((entry) => `${entry.seconds.toFixed(2)} s (${entry.overNode}×)`.padEnd(24))
          .join("")}\n`,
      );
  }
} finally {
  temp.remove();
}
