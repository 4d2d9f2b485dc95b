// One built-in proposer episode on gathered environment facts: generate candidates for the strategy,
// screen them cheaply, pair them into two-file bugs when asked, hide the breaks and self-validate.
import type { Logger } from "../../log.js";
import type { BugArtifact, Difficulty } from "../../ports/artifact.js";
import type { ProposeOutcome, ProposeRequest } from "../../ports/policy.js";
import type { ValidationReport } from "../../ports/validation.js";
import { buildArtifact } from "./build-artifact.js";
import { type Candidate, candidateFiles, combineCandidates } from "./candidate.js";
import { isCodeFile } from "./code-base.js";
import { filterDiff } from "./diff-sections.js";
import { mayHaveDifficulty, screenedDifficulty } from "./difficulty.js";
import { directCandidates } from "./direct.js";
import type { EnvironmentFacts } from "./environment-facts.js";
import type { EpisodeRecorder } from "./episode-recorder.js";
import { listCommits, orderCommits, reversedCommit } from "./history.js";
import { removalCandidates } from "./removal.js";
import { type ScreenResult, type SuiteSettings, screenCandidate } from "./screening.js";
import { createSeededRandom, type SeededRandom } from "./seeded-random.js";

export interface EpisodeLimits {
  /** Candidates screened (one test run each) per episode. */
  maxCandidates: number;
  /** Artifacts self-validated per episode before giving up. */
  maxValidations: number;
  /** Share of removal/direct episodes that aim for a bug across two files. */
  multiFileRate: number;
}

interface Screened {
  candidate: Candidate;
  broken: string[];
  difficulty: Difficulty;
}

/** Several breaking candidates and still no partner in another file: settle for a one-file bug. */
const MAX_WAITING_FOR_PARTNER = 6;

/** The episode's end without an artifact: logged, recorded, returned as data. */
export function proposerFailure(
  context: { request: ProposeRequest; recorder: EpisodeRecorder; log: Logger },
  exitReason: string,
  reason: string,
  status: "failed" | "aborted" = "failed",
  scope: "episode" | "environment" = "episode",
): ProposeOutcome {
  const { request, recorder, log } = context;
  log.info("no artifact", { strategy: request.strategy, seed: request.seed, exitReason, reason });
  return { status: "failed", reason, scope, episode: recorder.finish(status, exitReason) };
}

export class ProposerEpisode {
  private readonly random: SeededRandom;
  private readonly suite: SuiteSettings & { baselinePassing: readonly string[] };
  private readonly wantTwoFiles: boolean;
  private validations = 0;
  private screened = 0;
  private commits = 0;
  /** Breaking one-file candidates waiting for a partner in another file. */
  private readonly breaking: Screened[] = [];
  private lastRejection = "no candidate broke a test without breaking every test";

  constructor(
    private readonly request: ProposeRequest,
    private readonly facts: EnvironmentFacts,
    private readonly recorder: EpisodeRecorder,
    private readonly log: Logger,
    private readonly limits: EpisodeLimits,
    private readonly policyVersion: string,
  ) {
    this.random = createSeededRandom(request.seed).fork(request.strategy);
    this.suite = {
      testScript: facts.discovery.testScript,
      testParser: facts.discovery.testParser,
      // A mutant that loops forever should cost a few baselines, not the whole test timeout.
      timeoutMs: Math.min(request.thresholds.testTimeoutMs, 3 * facts.baselineMs + 10_000),
      abortSignal: request.abortSignal,
      baselinePassing: facts.baselinePassing,
    };
    // Two-file bugs are of the hardest level: asked for an easier one, an episode stays in one file.
    this.wantTwoFiles =
      request.strategy !== "history" &&
      (request.difficulty ?? 4) === 4 &&
      this.random.next() < limits.multiFileRate;
  }

  async run(): Promise<ProposeOutcome> {
    for await (const candidate of this.candidates()) {
      if (this.aborted()) return this.fail("aborted", "the episode was aborted", "aborted");
      if (this.screened >= this.limits.maxCandidates || this.validations >= this.limits.maxValidations) break;
      const result = await this.screen(candidate);
      if (result.status !== "breaks") continue;
      const difficulty = this.difficultyOf(candidate, result.broken);
      if (this.request.difficulty !== undefined && difficulty !== this.request.difficulty) {
        this.lastRejection = `difficulty ${difficulty}, not ${this.request.difficulty}`;
        await this.recorder.step({ step: "difficulty", candidate: candidate.description, difficulty });
        continue;
      }
      const artifact = await this.consider({ candidate, broken: result.broken, difficulty });
      if (artifact) return this.submit(artifact);
    }
    // Out of candidates while waiting for a pair: the singles found so far are still bugs.
    for (const single of this.breaking) {
      if (this.validations >= this.limits.maxValidations || this.aborted()) break;
      const artifact = await this.attempt(single);
      if (artifact) return this.submit(artifact);
    }
    if (this.aborted()) return this.fail("aborted", "the episode was aborted", "aborted");
    return this.noCandidate();
  }

  private aborted(): boolean {
    return this.request.abortSignal?.aborted === true;
  }

  private fail(
    exitReason: string,
    reason: string,
    status: "failed" | "aborted" = "failed",
    scope: "episode" | "environment" = "episode",
  ): ProposeOutcome {
    return proposerFailure(
      { request: this.request, recorder: this.recorder, log: this.log },
      exitReason,
      reason,
      status,
      scope,
    );
  }

  private noCandidate(): ProposeOutcome {
    const { strategy } = this.request;
    const history =
      strategy === "history"
        ? ` in a history of ${this.commits} commit${this.commits === 1 ? "" : "s"} (a root commit cannot be reverted)`
        : "";
    const outcome = this.fail(
      "no-candidate",
      `no valid ${strategy} bug${history} after ${this.screened} screened candidates and ${this.validations} validations (last: ${this.lastRejection})`,
    );
    // Without a second commit there is nothing to revert, now or in any later step on this environment.
    if (strategy === "history" && this.commits < 2 && outcome.status === "failed")
      return { ...outcome, strategyUnavailable: true };
    return outcome;
  }

  private submit(artifact: BugArtifact): ProposeOutcome {
    this.log.info("artifact proposed", {
      strategy: this.request.strategy,
      seed: this.request.seed,
      screened: this.screened,
      validations: this.validations,
    });
    return { status: "submitted", artifact, episode: this.recorder.finish("completed", "submitted") };
  }

  private difficultyOf(candidate: Candidate, broken: readonly string[]): Difficulty {
    return screenedDifficulty(candidate, broken, {
      framework: this.facts.discovery.framework,
      files: this.facts.codeBase.tests,
    });
  }

  /** The strategy's candidates that can be of the asked difficulty (all of them when none is asked). */
  private async *candidates(): AsyncGenerator<Candidate> {
    const wanted = this.request.difficulty;
    for await (const candidate of this.strategyCandidates())
      if (wanted === undefined || mayHaveDifficulty(candidate, wanted)) yield candidate;
  }

  private async *strategyCandidates(): AsyncGenerator<Candidate> {
    const { request, facts, random } = this;
    if (request.strategy === "removal") yield* removalCandidates(facts.codeBase, random);
    else if (request.strategy === "direct") yield* directCandidates(facts.codeBase, random);
    else {
      const testFiles = new Set(facts.discovery.testFiles);
      const commits = orderCommits(await listCommits(request.sandbox, request.abortSignal), random);
      this.commits = commits.length;
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

  private async screen(candidate: Candidate): Promise<ScreenResult> {
    const result = await screenCandidate(this.request.sandbox, candidate, this.suite);
    this.screened++;
    this.recorder.count("testRuns");
    this.recorder.count("candidatesScreened");
    await this.recorder.step({
      step: "screen",
      candidate: candidate.description,
      files: candidateFiles(candidate),
      result: result.status,
      broken: result.status === "breaks" ? result.broken.length : 0,
      durationMs: result.durationMs,
    });
    return result;
  }

  /** A breaking candidate: tried alone, or (aiming for two files) with a partner, or kept waiting for one. */
  private async consider(entry: Screened): Promise<BugArtifact | null> {
    if (!this.wantTwoFiles) return this.attempt(entry);
    const partner = this.partnerOf(entry);
    const combined = partner ? combineCandidates(partner.candidate, entry.candidate) : null;
    if (combined) {
      const together = await this.screen(combined);
      if (together.status === "breaks") {
        const artifact = await this.attempt({ candidate: combined, broken: together.broken, difficulty: 4 });
        if (artifact) return artifact;
      }
    }
    this.breaking.push(entry);
    if (this.breaking.length < MAX_WAITING_FOR_PARTNER) return null;
    return this.attempt(this.breaking.shift()!);
  }

  /** A partner in another file such that each file breaks a test the other does not. */
  private partnerOf(entry: Screened): Screened | undefined {
    const files = new Set(candidateFiles(entry.candidate));
    const own = new Set(entry.broken);
    return this.breaking.find((other) => {
      if (candidateFiles(other.candidate).some((file) => files.has(file))) return false;
      const theirs = new Set(other.broken);
      return entry.broken.some((id) => !theirs.has(id)) && other.broken.some((id) => !own.has(id));
    });
  }

  /** Self-validates a screened candidate; for a multi-file history bug, retries with the files that count. */
  private async attempt(entry: Screened): Promise<BugArtifact | null> {
    let candidate: Candidate | null = entry.candidate;
    for (let round = 0; round < 2 && candidate && this.validations < this.limits.maxValidations; round++) {
      const built = await buildArtifact(
        this.request,
        this.facts,
        candidate,
        entry.broken,
        this.policyVersion,
        entry.difficulty,
      );
      if (!built) {
        await this.recorder.step({
          step: "weaken",
          candidate: candidate.description,
          result: "no test located",
        });
        return null;
      }
      this.validations++;
      this.recorder.count("validations");
      const report = await this.request.validate(built.artifact);
      this.recorder.count("validationTestRuns", report.testRuns.filter((run) => !run.cached).length);
      await this.recorder.step({
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
      this.lastRejection = `${report.failedCheck}: ${report.reason}`;
      candidate = contributingPart(entry.candidate, report);
    }
    return null;
  }
}

/**
 * A patch candidate cut down to the files whose reversal restored a test, when inverse mutation
 * rejected it for the others; null when there is nothing to cut.
 */
function contributingPart(candidate: Candidate, report: ValidationReport): Candidate | null {
  if (report.failedCheck !== "inverse-mutation" || candidate.change.kind !== "patch") return null;
  const contributing = new Set(
    report.fileContributions.filter((file) => file.restoredTests.length > 0).map((file) => file.file),
  );
  const files = candidate.change.files.filter((file) => contributing.has(file));
  if (files.length === 0 || files.length >= candidate.change.files.length) return null;
  return {
    ...candidate,
    description: `${candidate.description} (only ${files.join(", ")})`,
    change: {
      kind: "patch",
      diff: filterDiff(candidate.change.diff, (path) => contributing.has(path)),
      files,
    },
  };
}
