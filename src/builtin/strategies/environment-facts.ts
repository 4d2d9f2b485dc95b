// What an environment looks like before any bug: discovered tests, the baseline's passing tests and
// the parsed code. The same for every episode on an unchanged tree, so it is gathered once per tree.
import { createHash } from "node:crypto";
import type { ProposeRequest } from "../../ports/policy.js";
import type { SandboxView } from "../../ports/sandbox.js";
import { runTestSuite } from "../../test-run/index.js";
import { type DiscoveryResult, discoverTests } from "../discovery/index.js";
import { type CodeBase, loadCodeBase } from "./code-base.js";
import type { EpisodeRecorder } from "./episode-recorder.js";

export type FoundDiscovery = Extract<DiscoveryResult, { status: "found" }>;

export interface EnvironmentFacts {
  discovery: FoundDiscovery;
  baselinePassing: string[];
  baselineMs: number;
  codeBase: CodeBase;
}

type FactsOutcome =
  | { status: "ok"; facts: EnvironmentFacts }
  | { status: "failed"; exitReason: string; reason: string };

/** Identifies the tree: environment name, HEAD and every uncommitted change; null when git cannot say. */
async function treeKey(
  sandbox: SandboxView,
  environmentName: string,
  abortSignal?: AbortSignal,
): Promise<string | null> {
  const result = await sandbox.run({
    command: "git rev-parse HEAD && git status --porcelain --untracked-files=all",
    timeoutMs: 60_000,
    abortSignal,
  });
  if (result.status !== "exited" || result.exitCode !== 0) return null;
  return createHash("sha256").update(environmentName).update("\0").update(result.stdout).digest("hex");
}

/** Discovers the tests, runs the baseline and parses the code, recording each step. */
async function gatherFacts(request: ProposeRequest, recorder: EpisodeRecorder): Promise<FactsOutcome> {
  const { sandbox, abortSignal } = request;
  const discovery = await discoverTests(sandbox, { abortSignal });
  await recorder.step({ step: "discover", status: discovery.status, lookedAt: discovery.lookedAt });
  if (discovery.status !== "found")
    return { status: "failed", exitReason: "no-tests", reason: discovery.message };
  const baseline = await runTestSuite(sandbox, {
    testScript: discovery.testScript,
    testParser: discovery.testParser,
    timeoutMs: request.thresholds.testTimeoutMs,
    abortSignal,
  });
  recorder.count("testRuns");
  if (baseline.status !== "ok") {
    await recorder.step({ step: "baseline", status: baseline.status, message: baseline.message });
    return {
      status: "failed",
      exitReason: "baseline-failed",
      reason: `the baseline test run failed (${baseline.status}): ${baseline.message}`,
    };
  }
  const baselinePassing = Object.keys(baseline.results)
    .filter((id) => baseline.results[id] === "passed")
    .sort();
  await recorder.step({
    step: "baseline",
    status: "ok",
    passing: baselinePassing.length,
    durationMs: baseline.durationMs,
  });
  if (baselinePassing.length < request.thresholds.minPassingTests) {
    return {
      status: "failed",
      exitReason: "too-few-tests",
      reason: `only ${baselinePassing.length} tests pass on the original code; at least ${request.thresholds.minPassingTests} are needed`,
    };
  }
  const codeBase = await loadCodeBase(sandbox, { testFiles: discovery.testFiles, abortSignal });
  await recorder.step({ step: "parse", codeFiles: codeBase.code.length, testFiles: codeBase.tests.length });
  return { status: "ok", facts: { discovery, baselinePassing, baselineMs: baseline.durationMs, codeBase } };
}

/** Environment facts by tree, so later episodes on an unchanged tree pay for them once. */
export class EnvironmentFactsCache {
  private readonly byTree = new Map<string, Promise<FactsOutcome>>();

  async get(request: ProposeRequest, recorder: EpisodeRecorder): Promise<FactsOutcome> {
    const key = await treeKey(request.sandbox, request.environmentName, request.abortSignal);
    if (key === null) return gatherFacts(request, recorder);
    let cached = this.byTree.get(key);
    if (!cached) {
      cached = gatherFacts(request, recorder);
      this.byTree.set(key, cached);
      // A failed or thrown attempt (an abort, a broken engine) is not worth remembering.
      cached.then(
        (outcome) => outcome.status === "ok" || this.byTree.delete(key),
        () => this.byTree.delete(key),
      );
    } else {
      await recorder.step({ step: "reuse-environment-facts" });
    }
    return cached;
  }
}
