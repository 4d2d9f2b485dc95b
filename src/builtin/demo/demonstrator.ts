// The built-in demonstrator: the built-in policy finds a repair (or an artifact) first, in the episode's own
// sandbox, which is then put back as it was; the plan is replayed as tool calls by a playback client, so the
// agent loop executes every call for real and grading judges the result like any attempt.
import { posix } from "node:path";
import { reverseDiff } from "../../artifact/index.js";
import type { DemonstrationPlan, Demonstrator } from "../../ports/demonstrator.js";
import type { Policy, ProposeRequest, SolveRequest } from "../../ports/policy.js";
import type { SandboxView } from "../../ports/sandbox.js";
import { discoverTests } from "../discovery/index.js";
import { type BuiltinPolicyOptions, createBuiltinPolicy } from "../policy.js";
import { splitDiffSections } from "../strategies/diff-sections.js";
import { createSeededRandom } from "../strategies/seeded-random.js";
import { createPlayback } from "./playback.js";
import { proposerMoves } from "./proposer-moves.js";
import { type SolverFacts, solverMoves } from "./solver-moves.js";
import { Surface } from "./surface.js";

export const DEMONSTRATOR_NAME = "builtin-demo";

/** Caches and private files the search leaves behind, which the demonstration must not find. */
const CLEANUP =
  "rm -rf /tmp/.swe-selfplay-repair .pytest_cache; find . -name .git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null; true";

/** Undoes whatever the search changed in the tree, so the demonstration starts where the task starts. */
async function restoreSandbox(sandbox: SandboxView): Promise<void> {
  const leftover = await sandbox.diff();
  if (leftover !== "") {
    const reversed = reverseDiff(leftover);
    if (reversed.status === "ok") await sandbox.applyPatch(reversed.diff);
  }
  await sandbox.run({ command: CLEANUP, cwd: sandbox.workdir, timeoutMs: 60_000 });
}

async function readTexts(sandbox: SandboxView, paths: readonly string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const path of paths) {
    try {
      texts.set(path, (await sandbox.readFile(path)).toString("utf8"));
    } catch {
      // A file the plan cannot read is left out; its edits fall back to none.
    }
  }
  return texts;
}

/** The search's most suspicious function ("file:qualified.name") from its localise step. */
function suspectOf(trajectory: readonly unknown[]): SolverFacts["suspect"] {
  for (const entry of trajectory) {
    const functions = (entry as { suspiciousFunctions?: { function: string }[] }).suspiciousFunctions;
    const first = functions?.[0]?.function;
    if (!first) continue;
    const at = first.lastIndexOf(":");
    return {
      path: first.slice(0, at),
      name: first
        .slice(at + 1)
        .split(".")
        .pop()!,
    };
  }
  return null;
}

function diffPaths(diff: string): string[] {
  return diff === "" ? [] : splitDiffSections(diff).map((part) => part.path);
}

async function planSolver(builtin: Policy, request: SolveRequest): Promise<DemonstrationPlan> {
  const { sandbox } = request;
  const outcome = await builtin.solve({ ...request, onStep: undefined });
  await restoreSandbox(sandbox);
  const discovery = await discoverTests(sandbox, { collect: false, abortSignal: request.abortSignal });
  // Only a repair that made every failing test pass is replayed; a partial one would be shown as a fix.
  const repaired = outcome.episode.exitReason === "submitted";
  const repair = repaired ? outcome.patch : "";
  const repairFiles = diffPaths(repair);
  const specificationFiles = diffPaths(request.specification);
  const facts: SolverFacts = {
    specification: request.specification,
    specificationFiles,
    tests:
      discovery.status === "found"
        ? { framework: discovery.framework, testScript: discovery.testScript }
        : null,
    repair,
    texts: await readTexts(sandbox, repairFiles),
    suspect: suspectOf(outcome.episode.trajectory),
    extension: posix.extname(repairFiles[0] ?? specificationFiles[0] ?? ".py") || ".py",
  };
  const surface = new Surface(createSeededRandom(request.seed).fork("demonstration"));
  return {
    client: createPlayback(DEMONSTRATOR_NAME, solverMoves(surface, facts)),
    summary: {
      repairFound: repair !== "",
      searchExit: outcome.episode.exitReason,
      searchTestRuns: outcome.episode.stats.testRuns ?? 0,
    },
  };
}

async function planProposer(
  builtin: Policy,
  request: ProposeRequest,
  artifactDir: string,
): Promise<DemonstrationPlan> {
  const { sandbox } = request;
  const outcome = await builtin.propose({ ...request, onStep: undefined });
  await restoreSandbox(sandbox);
  const surface = new Surface(createSeededRandom(request.seed).fork("demonstration"));
  const artifact = outcome.status === "submitted" ? outcome.artifact : null;
  const paths = artifact ? [...diffPaths(artifact.bugInjectDiff), ...diffPaths(artifact.testWeakenDiff)] : [];
  const git = await sandbox.run({ command: "git rev-parse --is-inside-work-tree", timeoutMs: 30_000 });
  const moves = proposerMoves(surface, {
    artifact,
    artifactDir,
    texts: await readTexts(sandbox, paths),
    gitDiff: git.status === "exited" && git.exitCode === 0 && git.stdout.trim() === "true",
  });
  return {
    client: createPlayback(DEMONSTRATOR_NAME, moves),
    summary: {
      artifactFound: artifact !== null,
      searchExit: outcome.episode.exitReason,
    },
    ...(outcome.status === "failed"
      ? {
          failure: {
            reason: outcome.reason,
            ...(outcome.scope ? { scope: outcome.scope } : {}),
            ...(outcome.strategyUnavailable ? { strategyUnavailable: true } : {}),
          },
        }
      : {}),
  };
}

/** The built-in policy's plans, to be replayed by the agent loop (composed in the composition root). */
export function createBuiltinDemonstrator(options: BuiltinPolicyOptions = {}): Demonstrator {
  const builtin = createBuiltinPolicy(options);
  return {
    solver: (request) => planSolver(builtin, request),
    proposer: (request, artifactDir) => planProposer(builtin, request, artifactDir),
  };
}
