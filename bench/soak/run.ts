// The soak of `swe-selfplay serve` under faults (see soak.ts and README.md), with its figures.
// Usage: npx tsx bench/soak/run.ts [--minutes 10] [--seed 1] [--steps-in-flight 3] [--fault-every 20]
//        [--baseline] [--restart-dockerd] [--json]
// --baseline plays an unfaulted soak of the same length beside it (same machine load), for the p99 ratio.
// --restart-dockerd adds restarting the machine's dockerd to the fault kinds: it stops every container on
// the machine, so use it only when nobody else uses Docker there (never in CI).
import { positiveOption } from "../support/options.js";
import { runSoak } from "./soak.js";

const args = process.argv.slice(2);
const minutesAt = args.indexOf("--minutes");
const length = minutesAt < 0 ? 10 : Number(args[minutesAt + 1]);
if (!(length > 0)) throw new Error(`--minutes needs a positive number, got ${args[minutesAt + 1]}`);
const seed = positiveOption(args, "--seed", 1);
const stepsInFlight = positiveOption(args, "--steps-in-flight", 3);
const faultEverySeconds = positiveOption(args, "--fault-every", 20);
const json = args.includes("--json");
const log = (line: string) => process.stderr.write(`soak: ${line}\n`);

log(`${length} min, seed ${seed}${args.includes("--baseline") ? ", beside an unfaulted soak" : ""}`);
// The unfaulted soak runs beside the faulted one, so both see the same machine load.
const [soak, baseline] = await Promise.all([
  runSoak({
    minutes: length,
    seed,
    faults: true,
    stepsInFlight,
    faultEverySeconds,
    restartDockerd: args.includes("--restart-dockerd"),
    log,
  }),
  args.includes("--baseline")
    ? runSoak({
        minutes: length,
        seed,
        faults: false,
        stepsInFlight,
        log: (line) => log(`unfaulted: ${line}`),
      })
    : Promise.resolve(undefined),
]);
const ratio = baseline && baseline.latencyMs.p99 > 0 ? soak.latencyMs.p99 / baseline.latencyMs.p99 : null;
if (json) {
  process.stdout.write(`${JSON.stringify({ soak, baseline, p99Ratio: ratio })}\n`);
} else {
  const lines = [
    `length: ${soak.seconds} s (seed ${soak.seed})`,
    `steps: ${soak.steps.submitted} submitted, ${soak.steps.done} done, ${soak.steps.failed} failed, ${soak.steps.cancelled} cancelled`,
    `faults: ${Object.entries(soak.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ")}`,
    ...(soak.skipped.length > 0 ? [`not injected here: ${soak.skipped.join("; ")}`] : []),
    `lost: ${soak.lost}   duplicated: ${soak.duplicated}`,
    `leaked: ${Object.entries(soak.leaked)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ")}`,
    `p99 step latency: ${(soak.latencyMs.p99 / 1000).toFixed(1)} s (p50 ${(soak.latencyMs.p50 / 1000).toFixed(1)} s, ${soak.latencyMs.count} steps)` +
      (baseline
        ? `; unfaulted ${(baseline.latencyMs.p99 / 1000).toFixed(1)} s over ${baseline.latencyMs.count} steps, ratio ${ratio?.toFixed(2)}`
        : ""),
    ...(baseline && baseline.problems.length > 0
      ? [`unfaulted run problems: ${baseline.problems.join("; ")}`]
      : []),
    soak.problems.length === 0 ? "problems: none" : `problems:\n  ${soak.problems.join("\n  ")}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
process.exitCode = soak.problems.length === 0 ? 0 : 1;
