// Benchmark of the CLI's start time in a checkout, side by side in one run (rounds interleaved, medians):
//  - bare `node -e 0`: what any Node program costs here;
//  - the checkout's entry (`bin/swe-selfplay.js`: the TypeScript sources through tsx);
//  - the same sources compiled to JavaScript (esbuild, tsx's own compiler, into a scratch directory), which
//    separates the cost of the tsx loader from the cost of loading the module graph itself;
// for `--help`, `run --help` and two error paths that stop before any work (a bad flag value, a missing
// artifact directory). Target: --help and error paths under 1 s. Ratios to bare Node are the figures to
// compare across machines.
// Usage: npx tsx bench/cli/start.ts [--rounds 5] [--json]
// Measured on the development machine (2 cores, load average 28-35, so ratios only): before dockerode and
// Fastify loaded lazily, the checkout took 14-18× bare Node and the compiled sources 9-10×; after, 11-14× and
// 5-6×; with undici and diff2html lazy too, 8-12× and 3-5×. bin/swe-selfplay.js runs dist/ when a whole build
// (`npm run build`) is newer than every source: --help then took 1.4-1.8 s at load 30 where bare Node took
// 0.4-0.55 s. The rest is the module graph every command imports at start (the commands' implementations);
// loading a command's implementation only when it runs would cut it further.
import { spawnSync } from "node:child_process";
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
async function compileSources(target: string): Promise<number> {
  const source = join(projectRoot, "src");
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

const temp = makeTempDir("swe-selfplay-bench-cli-");
try {
  const modules = await compileSources(temp.path);
  const cases: { name: string; args: string[]; exit: number }[] = [
    { name: "--help", args: ["--help"], exit: 0 },
    { name: "run --help", args: ["run", "--help"], exit: 0 },
    { name: "run --temperature hot", args: ["run", "--temperature", "hot"], exit: 2 },
    { name: "solve MISSING --repo .", args: ["solve", join(temp.path, "missing"), "--repo", "."], exit: 2 },
  ];
  const entries = {
    checkout: [join(projectRoot, "bin", "swe-selfplay.js")],
    compiled: [join(temp.path, "dist", "cli", "main.js")],
  };
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
  const rows = cases.map((testCase) => {
    const checkout = median(times.get(`${testCase.name}\u0000checkout`)!);
    const compiled = median(times.get(`${testCase.name}\u0000compiled`)!);
    return {
      case: testCase.name,
      checkoutS: Number(checkout.toFixed(3)),
      compiledS: Number(compiled.toFixed(3)),
      checkoutOverNode: Number((checkout / node).toFixed(1)),
      compiledOverNode: Number((compiled / node).toFixed(1)),
      checkoutOverCompiled: Number((checkout / compiled).toFixed(2)),
    };
  });
  const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  if (json)
    process.stdout.write(`${JSON.stringify({ rounds, modules, nodeS: node, load, rows }, null, 2)}\n`);
  else {
    process.stdout.write(
      `bare node ${node.toFixed(3)} s (median of ${rounds}); ${modules} modules compiled; load average ${load}\n`,
    );
    for (const row of rows)
      process.stdout.write(
        `${row.case.padEnd(24)} checkout ${row.checkoutS.toFixed(2)} s (${row.checkoutOverNode}× node)  compiled ${row.compiledS.toFixed(2)} s (${row.compiledOverNode}× node)  checkout/compiled ${row.checkoutOverCompiled}\n`,
      );
  }
} finally {
  temp.remove();
}
