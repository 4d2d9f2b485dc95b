// A scripted policy for end-to-end tests of the orchestrator (the `scripted` policy kind): the proposer
// submits a known artifact, the solver answers by its seed with the full fix, a partial fix or nothing,
// optionally after a delay (to make a slow stage).
import { reverseDiff, splitDiffByFile, unwrapDiff } from "../../src/artifact/index.js";
import type { BugArtifact } from "../../src/ports/artifact.js";
import type { Policy, PolicyEpisode, PolicyInfo, Role } from "../../src/ports/policy.js";

export type SolverAnswer = "fix" | "partial" | "empty";

export interface ScriptedPolicyOptions {
  artifact: BugArtifact;
  /** Answer of a solver attempt from its seed and the number of solve calls before it [fix for even seeds, partial for odd ones]. */
  answer?: (seed: number, call: number) => SolverAnswer;
  solveDelayMs?: number;
  proposeDelayMs?: number;
  /** Make the proposer give up on these seeds. */
  failProposal?: (seed: number) => boolean;
  /**
   * How later proposals repeat the artifact: `identical` (the same content id every time) or `rewritten`
   * (the same bug, with the test script's comment naming the seed, so a new id) [rewritten].
   */
  repeat?: "identical" | "rewritten";
}

export interface ScriptedPolicy extends Policy {
  readonly calls: { role: Role; seed: number; startedAt: number; endedAt: number }[];
}

const INFO: PolicyInfo = { kind: "scripted", name: "scripted-test-policy", version: "1" };

function episode(role: Role, exitReason: string): PolicyEpisode {
  const now = new Date().toISOString();
  return {
    id: `scripted-${role}-${Math.random().toString(16).slice(2)}`,
    role,
    policy: INFO,
    status: "completed",
    exitReason,
    trajectory: [{ scripted: true }],
    samples: [],
    startedAt: now,
    endedAt: now,
    stats: {},
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (ms <= 0) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

export function createScriptedPolicy(options: ScriptedPolicyOptions): ScriptedPolicy {
  const calls: ScriptedPolicy["calls"] = [];
  let solveCalls = 0;
  const answer = options.answer ?? ((seed: number) => (seed % 2 === 0 ? "fix" : "partial"));
  const fix = unwrapDiff(reverseDiff(options.artifact.bugInjectDiff));
  const split = splitDiffByFile(options.artifact.bugInjectDiff);
  const firstFile = split.status === "ok" ? split.files[0] : undefined;
  const partial = firstFile ? unwrapDiff(reverseDiff(firstFile.diff)) : "";
  return {
    info: INFO,
    calls,
    async propose(request) {
      const startedAt = Date.now();
      await sleep(options.proposeDelayMs ?? 0, request.abortSignal);
      calls.push({ role: "proposer", seed: request.seed, startedAt, endedAt: Date.now() });
      if (options.failProposal?.(request.seed))
        return { status: "failed", reason: "scripted give-up", episode: episode("proposer", "no-candidate") };
      const artifact =
        options.repeat === "identical"
          ? options.artifact
          : {
              ...options.artifact,
              testScript: `${options.artifact.testScript}# scripted proposal, seed ${request.seed}\n`,
            };
      return { status: "submitted", artifact, episode: episode("proposer", "submitted") };
    },
    async solve(request) {
      const startedAt = Date.now();
      await sleep(options.solveDelayMs ?? 0, request.abortSignal);
      calls.push({ role: "solver", seed: request.seed, startedAt, endedAt: Date.now() });
      const choice = answer(request.seed, solveCalls++);
      const patch = choice === "fix" ? fix : choice === "partial" ? partial : "";
      return { patch, episode: episode("solver", "submitted") };
    },
  };
}
