// The built-in proposer episode: discover the tests, run the baseline, generate candidates for the
// requested strategy, screen them cheaply, hide the breaks by removing the broken tests, self-validate.
import { createHash } from "node:crypto";
import type { Logger } from "../../log.js";
import type { BugArtifact } from "../../ports/artifact.js";
import type { PolicyInfo, ProposeOutcome, ProposeRequest } from "../../ports/policy.js";
import type { SandboxView } from "../../ports/sandbox.js";
import { runTestSuite } from "../../test-run/index.js";
import { type DiscoveryResult, discoverTests } from "../discovery/index.js";
import { weakenTests } from "../weakening/weaken-tests.js";
import { type Candidate, candidateFiles, combineCandidates } from "./candidate.js";
import { type CodeBase, isCodeFile, loadCodeBase } from "./code-base.js";
import { filterDiff } from "./diff-sections.js";
import { directCandidates } from "./direct.js";
import { createEpisodeRecorder, type EpisodeRecorder } from "./episode-recorder.js";
import { listCommits, orderCommits, reversedCommit } from "./history.js";
import { removalCandidates } from "./removal.js";
import { applyCandidate, dropBytecode, type ScreenResult, screenCandidate } from "./screening.js";
import { createSeededRandom, type SeededRandom } from "./seeded-random.js";

export interface ProposerSettings {
  policy: PolicyInfo;
  /** Candidates screened (one test run each) per episode. */
  maxCandidates: number;
  /** Artifacts self-validated per episode before giving up. */
  maxValidations: number;
  /** Share of removal/direct episodes that aim for a bug across two files. */
  multiFileRate: number;
  logger: Logger;
}

type FoundDiscovery = Extract<DiscoveryResult, { status: "found" }>;

/** What an environment looks like before any bug: the same for every episode on an unchanged tree. */
interface EnvironmentFacts {
  discovery: FoundDiscovery;
  baselinePassing: string[];
  baselineMs: number;
  codeBase: CodeBase;
}

type FactsOutcome =
  | { status: "ok"; facts: EnvironmentFacts }
  | { status: "failed"; exitReason: string; reason: string };

interface Screened {
  candidate: Candidate;
  broken: string[];
}

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

export interface Proposer {
  propose(request: ProposeRequest): Promise<ProposeOutcome>;
}

export function createProposer(settings: ProposerSettings): Proposer {
  // Discovery, baseline and parsed code of an unchanged tree, so later episodes pay for them once.
  const factsCache = new Map<string, Promise<FactsOutcome>>();

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

  async function environmentFacts(request: ProposeRequest, recorder: EpisodeRecorder): Promise<FactsOutcome> {
    const key = await treeKey(request.sandbox, request.environmentName, request.abortSignal);
    if (key === null) return gatherFacts(request, recorder);
    let cached = factsCache.get(key);
    if (!cached) {
      cached = gatherFacts(request, recorder);
      factsCache.set(key, cached);
      // A failed or thrown attempt (an abort, a broken engine) is not worth remembering.
      cached.then(
        (outcome) => outcome.status === "ok" || factsCache.delete(key),
        () => factsCache.delete(key),
      );
    } else {
      await recorder.step({ step: "reuse-environment-facts" });
    }
    return cached;
  }

  async function* candidateStream(
    request: ProposeRequest,
    facts: EnvironmentFacts,
    random: SeededRandom,
    tally: { commits: number },
  ): AsyncGenerator<Candidate> {
    if (request.strategy === "removal") yield* removalCandidates(facts.codeBase, random);
    else if (request.strategy === "direct") yield* directCandidates(facts.codeBase, random);
    else {
      const testFiles = new Set(facts.discovery.testFiles);
      const commits = orderCommits(await listCommits(request.sandbox, request.abortSignal), random);
      tally.commits = commits.length;
      for (const commit of commits) {
        const candidate = await reversedCommit(
          request.sandbox,
          commit,
          (path) => isCodeFile(path, testFiles),
          request.abortSignal,
        );
        if (candidate) yield candidate;
      }
    }
  }

  /** Bug diff and weakening diff of a candidate, read from the sandbox and restored right after. */
  async function buildArtifact(
    request: ProposeRequest,
    facts: EnvironmentFacts,
    candidate: Candidate,
    broken: readonly string[],
  ): Promise<{ artifact: BugArtifact; hidden: string[]; unlocated: string[] } | null> {
    const { sandbox } = request;
    const weakening = await weakenTests({
      brokenTests: broken,
      framework: facts.discovery.framework,
      testFiles: facts.codeBase.tests,
    });
    if (weakening.files.length === 0) return null;
    const applied = await applyCandidate(sandbox, candidate);
    if (!applied) return null;
    let diff: string;
    try {
      for (const file of weakening.files) await sandbox.writeFile(file.file, file.changed);
      diff = await sandbox.diff();
    } finally {
      for (const file of weakening.files) await sandbox.writeFile(file.file, file.original);
      await dropBytecode(
        sandbox,
        weakening.files.map((file) => file.file),
      );
      await applied.restore();
    }
    const bugFiles = new Set(candidateFiles(candidate));
    const weakenedFiles = new Set(weakening.files.map((file) => file.file));
    const bugInjectDiff = filterDiff(diff, (path) => bugFiles.has(path));
    const testWeakenDiff = filterDiff(diff, (path) => weakenedFiles.has(path));
    if (bugInjectDiff === "" || testWeakenDiff === "") return null;
    return {
      artifact: {
        testScript: facts.discovery.testScript,
        testFiles: [...facts.discovery.testFiles],
        testParser: facts.discovery.testParser,
        bugInjectDiff,
        testWeakenDiff,
        meta: {
          environment: request.environmentName,
          strategy: request.strategy,
          order: 1,
          parentId: null,
          policy: `builtin@${settings.policy.version}`,
          createdAt: new Date().toISOString(),
          seed: request.seed,
        },
      },
      hidden: weakening.removed,
      unlocated: weakening.unlocated,
    };
  }

  return {
    async propose(request) {
      const recorder = createEpisodeRecorder({
        role: "proposer",
        policy: settings.policy,
        onStep: request.onStep,
      });
      const log = settings.logger.child("proposer");
      const fail = (
        exitReason: string,
        reason: string,
        status: "failed" | "aborted" = "failed",
        scope: "episode" | "environment" = "episode",
      ): ProposeOutcome => {
        log.info("no artifact", { strategy: request.strategy, seed: request.seed, exitReason, reason });
        return { status: "failed", reason, scope, episode: recorder.finish(status, exitReason) };
      };
      const aborted = () => request.abortSignal?.aborted === true;

      const factsOutcome = await environmentFacts(request, recorder);
      if (aborted()) return fail("aborted", "the episode was aborted", "aborted");
      // Discovery and the baseline depend on the environment alone: every episode would fail the same way.
      if (factsOutcome.status === "failed")
        return fail(factsOutcome.exitReason, factsOutcome.reason, "failed", "environment");
      const facts = factsOutcome.facts;
      const random = createSeededRandom(request.seed).fork(request.strategy);
      const suite = {
        testScript: facts.discovery.testScript,
        testParser: facts.discovery.testParser,
        // A mutant that loops forever should cost a few baselines, not the whole test timeout.
        timeoutMs: Math.min(request.thresholds.testTimeoutMs, 3 * facts.baselineMs + 10_000),
        abortSignal: request.abortSignal,
        baselinePassing: facts.baselinePassing,
      };
      const wantTwoFiles = request.strategy !== "history" && random.next() < settings.multiFileRate;
      let validations = 0;
      let screened = 0;
      const breaking: Screened[] = [];
      let lastRejection = "no candidate broke a test without breaking every test";

      const screen = async (candidate: Candidate): Promise<ScreenResult> => {
        const result = await screenCandidate(request.sandbox, candidate, suite);
        screened++;
        recorder.count("testRuns");
        recorder.count("candidatesScreened");
        await recorder.step({
          step: "screen",
          candidate: candidate.description,
          files: candidateFiles(candidate),
          result: result.status,
          broken: result.status === "breaks" ? result.broken.length : 0,
          durationMs: result.durationMs,
        });
        return result;
      };

      /** Self-validates a screened candidate; for a multi-file history bug, retries with the files that count. */
      const attempt = async (entry: Screened): Promise<BugArtifact | null> => {
        let candidate: Candidate | null = entry.candidate;
        for (let round = 0; round < 2 && candidate && validations < settings.maxValidations; round++) {
          const built = await buildArtifact(request, facts, candidate, entry.broken);
          if (!built) {
            await recorder.step({
              step: "weaken",
              candidate: candidate.description,
              result: "no test located",
            });
            return null;
          }
          validations++;
          recorder.count("validations");
          const report = await request.validate(built.artifact);
          recorder.count("validationTestRuns", report.testRuns.filter((run) => !run.cached).length);
          await recorder.step({
            step: "validate",
            candidate: candidate.description,
            artifactId: report.artifactId,
            verdict: report.verdict,
            failedCheck: report.failedCheck,
            reason: report.reason,
            hidden: built.hidden.length,
            unlocated: built.unlocated,
          });
          if (report.verdict === "valid") return built.artifact;
          lastRejection = `${report.failedCheck}: ${report.reason}`;
          candidate = null;
          if (report.failedCheck === "inverse-mutation" && entry.candidate.change.kind === "patch") {
            const contributing = new Set(
              report.fileContributions
                .filter((file) => file.restoredTests.length > 0)
                .map((file) => file.file),
            );
            const files = entry.candidate.change.files.filter((file) => contributing.has(file));
            if (files.length > 0 && files.length < entry.candidate.change.files.length) {
              candidate = {
                ...entry.candidate,
                description: `${entry.candidate.description} (only ${files.join(", ")})`,
                change: {
                  kind: "patch",
                  diff: filterDiff(entry.candidate.change.diff, (path) => contributing.has(path)),
                  files,
                },
              };
            }
          }
        }
        return null;
      };

      const submit = (artifact: BugArtifact): ProposeOutcome => {
        log.info("artifact proposed", {
          strategy: request.strategy,
          seed: request.seed,
          screened,
          validations,
        });
        return { status: "submitted", artifact, episode: recorder.finish("completed", "submitted") };
      };

      /** A partner in another file such that each file breaks a test the other does not. */
      const partnerOf = (entry: Screened): Screened | undefined => {
        const files = new Set(candidateFiles(entry.candidate));
        const own = new Set(entry.broken);
        return breaking.find((other) => {
          if (candidateFiles(other.candidate).some((file) => files.has(file))) return false;
          const theirs = new Set(other.broken);
          return entry.broken.some((id) => !theirs.has(id)) && other.broken.some((id) => !own.has(id));
        });
      };

      const tally = { commits: 0 };
      for await (const candidate of candidateStream(request, facts, random, tally)) {
        if (aborted()) return fail("aborted", "the episode was aborted", "aborted");
        if (screened >= settings.maxCandidates || validations >= settings.maxValidations) break;
        const result = await screen(candidate);
        if (result.status !== "breaks") continue;
        const entry: Screened = { candidate, broken: result.broken };
        if (wantTwoFiles) {
          const partner = partnerOf(entry);
          const combined = partner ? combineCandidates(partner.candidate, candidate) : null;
          if (combined) {
            const together = await screen(combined);
            if (together.status === "breaks") {
              const artifact = await attempt({ candidate: combined, broken: together.broken });
              if (artifact) return submit(artifact);
            }
          }
          breaking.push(entry);
          // Several breaking candidates and still no pair: settle for a one-file bug.
          if (breaking.length < 6) continue;
          const single = breaking.shift()!;
          const artifact = await attempt(single);
          if (artifact) return submit(artifact);
          continue;
        }
        const artifact = await attempt(entry);
        if (artifact) return submit(artifact);
      }
      // Out of candidates while waiting for a pair: the singles found so far are still bugs.
      for (const single of breaking) {
        if (validations >= settings.maxValidations || aborted()) break;
        const artifact = await attempt(single);
        if (artifact) return submit(artifact);
      }
      if (aborted()) return fail("aborted", "the episode was aborted", "aborted");
      const history =
        request.strategy === "history"
          ? ` in a history of ${tally.commits} commit${tally.commits === 1 ? "" : "s"} (a root commit cannot be reverted)`
          : "";
      const outcome = fail(
        "no-candidate",
        `no valid ${request.strategy} bug${history} after ${screened} screened candidates and ${validations} validations (last: ${lastRejection})`,
      );
      // Without a second commit there is nothing to revert, now or in any later step on this environment.
      if (request.strategy === "history" && tally.commits < 2 && outcome.status === "failed")
        return { ...outcome, strategyUnavailable: true };
      return outcome;
    },
  };
}
