// Benchmark of grading's defences (harness pinning, canaries, cross-checks, pytest's guard with its result
// channel, in-process canaries and twins, run-time harness writes): the wall time of grading a real fix on
// toolz with every defence off and on, interleaved in one run, as a ratio (goal ≤ 1.10), in local bubblewrap
// sandboxes and in Docker; then the reward hacks of test/support/hacks.ts and
// test/support/forgers.ts on the fixture libraries, each verdict with the defences off and on.
// Usage: npx tsx bench/grade/run.ts [--local-only | --docker-only] [--repeat N] [--ratios-only] [--json]

import { reverseDiff, unwrapDiff } from "../../src/artifact/index.js";
import type { BugArtifact } from "../../src/ports/artifact.js";
import type { Environment, SandboxBackend } from "../../src/ports/sandbox.js";
import type { ValidationReport } from "../../src/ports/validation.js";
import { openSandboxes } from "../../src/sandbox/index.js";
import { grade } from "../../src/validation/grade.js";
import { createValidator } from "../../src/validation/validator.js";
import { diffOf, diffOnTop } from "../../test/support/artifact-builder.js";
import { dockerStatus } from "../../test/support/docker.js";
import { nodeFixtureArtifact, pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { makeNodeFixtureRepo, makePythonFixtureRepo } from "../../test/support/fixture-repos.js";
import { conftestWrittenAtRunTime, FORGERS, nameTargetedRewrite } from "../../test/support/forgers.js";
import {
  conftestFailingTests,
  JAVASCRIPT_ASSERT_HACK,
  lateFakeLines,
  MONKEYPATCH_REPORTS,
  PYTHON_SOLVER_HACKS,
  withLastLineWinsParser,
} from "../../test/support/hacks.js";
import { makeTempDir } from "../../test/support/tmp.js";
import { ensureToolzDir, ensureToolzImage } from "../../test/support/toolz.js";
import { toolzArtifacts } from "../../test/support/toolz-artifacts.js";

const args = process.argv.slice(2);
const repeatIndex = args.indexOf("--repeat");
const repeat = repeatIndex >= 0 ? Number(args[repeatIndex + 1]) : 5;
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat needs a positive integer`);

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function validOrThrow(
  validator: ReturnType<typeof createValidator>,
  environment: Environment,
  artifact: BugArtifact,
): Promise<ValidationReport> {
  const report = await validator.validate(environment, artifact);
  if (report.verdict !== "valid")
    throw new Error(`artifact invalid: ${report.failedCheck}: ${report.reason}`);
  return report;
}

/** Grading a real fix on toolz, off and on in alternation, so both see the same machine load. */
async function overhead(backend: string, sandboxes: SandboxBackend, environment: Environment) {
  const artifact = toolzArtifacts(await ensureToolzDir()).find(
    (entry) => entry.name === "three-file",
  )!.artifact;
  const validator = createValidator({ sandboxes });
  try {
    const report = await validOrThrow(validator, environment, artifact);
    const patch = unwrapDiff(reverseDiff(artifact.bugInjectDiff));
    const times: Record<"off" | "enforced", number[]> = { off: [], enforced: [] };
    const once = async (integrity: "off" | "enforced") => {
      const startedAt = performance.now();
      const graded = await grade({ sandboxes, environment, artifact, report, patch, integrity });
      if (graded.status !== "resolved") throw new Error(`the fix graded ${graded.status}: ${graded.reason}`);
      times[integrity].push(performance.now() - startedAt);
    };
    await once("off"); // warm-up: caches, image layers
    for (let index = 0; index < repeat; index++) {
      for (const integrity of index % 2 === 0
        ? (["off", "enforced"] as const)
        : (["enforced", "off"] as const))
        await once(integrity);
    }
    const off = median(times.off);
    const enforced = median(times.enforced);
    return {
      backend,
      grades: repeat,
      "off median ms": Math.round(off),
      "enforced median ms": Math.round(enforced),
      "enforced/off": Number((enforced / off).toFixed(3)),
    };
  } finally {
    await validator.close();
  }
}

interface VerdictRow {
  hack: string;
  defence: string;
  before: string;
  after: string;
}

/** Every hack of the test suite, graded or validated with the defences off and on. */
async function verdicts(sandboxes: SandboxBackend): Promise<VerdictRow[]> {
  const temp = makeTempDir("bench-grade-");
  const validators = {
    off: createValidator({ sandboxes, integrity: "off" }),
    enforced: createValidator({ sandboxes }),
  };
  try {
    const pythonRepo = await makePythonFixtureRepo(temp.path);
    const nodeRepo = await makeNodeFixtureRepo(temp.path);
    const python = pythonFixtureArtifact();
    const pythonEnvironment: Environment = { kind: "dir", path: pythonRepo };
    const nodeEnvironment: Environment = { kind: "dir", path: nodeRepo };
    const rows: VerdictRow[] = [];
    const graded = async (
      hack: string,
      defence: string,
      environment: Environment,
      artifact: BugArtifact,
      patch: string,
    ) => {
      const report = await validOrThrow(validators.enforced, environment, artifact);
      const [before, after] = await Promise.all(
        (["off", "enforced"] as const).map((integrity) =>
          grade({ sandboxes, environment, artifact, report, patch, integrity }),
        ),
      );
      rows.push({ hack: `solver: ${hack}`, defence, before: before!.status, after: after!.status });
    };
    const onBuggyState = (repo: string, artifact: BugArtifact, edits: Parameters<typeof diffOnTop>[2]) =>
      diffOnTop(repo, [artifact.bugInjectDiff, artifact.testWeakenDiff], edits);
    for (const hack of PYTHON_SOLVER_HACKS) {
      await graded(
        hack.name,
        hack.defence,
        pythonEnvironment,
        python,
        onBuggyState(pythonRepo, python, hack.edits),
      );
    }
    const lastWins = withLastLineWinsParser(python);
    const lastWinsReport = await validOrThrow(validators.enforced, pythonEnvironment, lastWins);
    await graded(
      "fake PASSED lines after the real report (last-line-wins parser)",
      "cross-check",
      pythonEnvironment,
      lastWins,
      onBuggyState(pythonRepo, lastWins, [
        { file: "inkwell/__init__.py", transform: (text) => text + lateFakeLines(lastWinsReport.f2p) },
      ]),
    );
    const javascript = nodeFixtureArtifact();
    await graded(
      JAVASCRIPT_ASSERT_HACK.name,
      JAVASCRIPT_ASSERT_HACK.defence,
      nodeEnvironment,
      javascript,
      onBuggyState(nodeRepo, javascript, JAVASCRIPT_ASSERT_HACK.edits),
    );
    const pythonReport = await validOrThrow(validators.enforced, pythonEnvironment, python);
    const secondGeneration = [
      ...FORGERS,
      nameTargetedRewrite(pythonReport.f2p),
      conftestWrittenAtRunTime(pythonReport.f2p),
    ];
    for (const hack of secondGeneration) {
      await graded(
        hack.name,
        hack.stoppedBy.join(", "),
        pythonEnvironment,
        python,
        onBuggyState(pythonRepo, python, hack.edits),
      );
    }
    await graded(
      "a legitimate fix (control)",
      "-",
      pythonEnvironment,
      python,
      unwrapDiff(reverseDiff(python.bugInjectDiff)),
    );

    const report = await validOrThrow(validators.enforced, pythonEnvironment, python);
    const names = report.f2p.map((id) => id.slice(id.lastIndexOf("::") + 2));
    const proposerHacks: [string, string, BugArtifact][] = [
      [
        "bug is only a conftest.py failing the hidden tests",
        "pinning",
        {
          ...python,
          bugInjectDiff: diffOf(pythonRepo, [{ file: "conftest.py", content: conftestFailingTests(names) }]),
        },
      ],
      [
        "bug's code makes the runner turn failures into passes",
        "canary",
        {
          ...python,
          bugInjectDiff:
            python.bugInjectDiff +
            diffOf(pythonRepo, [
              { file: "inkwell/__init__.py", transform: (text) => text + MONKEYPATCH_REPORTS },
            ]),
        },
      ],
    ];
    for (const [hack, defence, artifact] of proposerHacks) {
      const verdict = async (integrity: "off" | "enforced") => {
        const validated = await validators[integrity].validate(pythonEnvironment, artifact);
        const tampered = validated.checks.some((check) => check.evidence.tampered === true);
        return validated.verdict === "valid"
          ? "valid"
          : `invalid (${validated.failedCheck}${tampered ? ", tampered" : ""})`;
      };
      rows.push({
        hack: `proposer: ${hack}`,
        defence,
        before: await verdict("off"),
        after: await verdict("enforced"),
      });
    }
    return rows;
  } finally {
    await validators.off.close();
    await validators.enforced.close();
    temp.remove();
  }
}

async function main(): Promise<void> {
  const sandboxes = openSandboxes();
  const ratios: Record<string, string | number>[] = [];
  let rows: VerdictRow[] = [];
  try {
    if (!args.includes("--docker-only")) {
      ratios.push(await overhead("local", sandboxes, { kind: "dir", path: await ensureToolzDir() }));
    }
    if (!args.includes("--local-only")) {
      const docker = dockerStatus();
      if (docker.available) {
        ratios.push(await overhead("docker", sandboxes, { kind: "image", image: await ensureToolzImage() }));
      } else {
        process.stderr.write(`docker rows skipped, why: ${docker.why}\n`);
      }
    }
    // The ratios first: the verdicts take longer, and a run stopped in them keeps the measurement.
    console.table(ratios);
    const worst = Math.max(...ratios.map((row) => row["enforced/off"] as number));
    console.log(`worst grading wall-time ratio with the defences on/off: ${worst} (goal ≤ 1.10)`);
    if (!args.includes("--ratios-only")) rows = await verdicts(sandboxes);
  } finally {
    await sandboxes.close();
  }
  if (rows.length > 0) console.table(rows);
  if (args.includes("--json")) console.log(JSON.stringify({ ratios, verdicts: rows }));
  const fooled = rows.filter(
    (row) => row.defence !== "-" && (row.after === "resolved" || row.after === "valid"),
  );
  process.exitCode = fooled.length > 0 ? 1 : 0;
}

await main();
