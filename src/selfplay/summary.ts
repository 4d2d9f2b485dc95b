// The end-of-run summary, computed from the store (so a resumed run reports everything it ever did),
// and its plain-text table for stdout.
import { semanticKey } from "../artifact/index.js";
import type { EpisodeSampleCount, GroupRecord, RunId, StepRecord, Store } from "../ports/store.js";
import { isFinished } from "./step-state.js";

export interface SolveRateBucket {
  label: string;
  count: number;
}

export interface RunSummary {
  runId: string;
  status: string;
  store: string;
  /** Times the run was started (1 + resumes). */
  starts: number;
  steps: { total: number; done: number; failed: number; unfinished: number };
  artifacts: {
    valid: number;
    invalid: number;
    noArtifact: number;
    failedChecks: Record<string, number>;
    /** Steps ended as duplicates, not solved (identical artifacts, and same bugs when those are skipped). */
    duplicate: number;
    /** Steps whose artifact repeated an earlier one: identical (not solved again) or the same bug (semantic). */
    duplicates: { identical: number; semantic: number };
    /** Distinct bugs (semantic keys) among the valid first-order artifacts. */
    distinctBugs: number;
  };
  secondOrder: { candidates: number; valid: number; invalid: number; noArtifact: number; error: number };
  groups: {
    graded: number;
    firstOrder: number;
    secondOrder: number;
    meanSolveRate: number | null;
    /** First-order groups with 0 < s < 1: the ones that give the proposer and solvers a learning signal. */
    learnable: number;
  };
  attempts: { graded: number; resolved: number };
  solveRates: SolveRateBucket[];
  rewards: {
    proposerMean: number | null;
    proposerCount: number;
    solverMean: number | null;
    solverCount: number;
  };
  /** Rollout samples a trainer gets, from how many of the finished episodes, and why the others gave none. */
  trainable: {
    samples: number;
    episodes: number;
    episodesWithSamples: number;
    /** Why episodes gave no samples, with how many episodes each. */
    untrainable: Record<string, number>;
  };
  /** Wall time of this start of the run and its step throughput. */
  wallTimeMs: number;
  stepsPerHour: number | null;
  environments: { name: string; status: string; reason: string | null }[];
}

const BUCKETS: { label: string; test: (rate: number) => boolean }[] = [
  { label: "0", test: (rate) => rate === 0 },
  { label: "(0,0.25]", test: (rate) => rate > 0 && rate <= 0.25 },
  { label: "(0.25,0.5]", test: (rate) => rate > 0.25 && rate <= 0.5 },
  { label: "(0.5,0.75]", test: (rate) => rate > 0.5 && rate <= 0.75 },
  { label: "(0.75,1)", test: (rate) => rate > 0.75 && rate < 1 },
  { label: "1", test: (rate) => rate === 1 },
];

export function solveRateHistogram(rates: readonly number[]): SolveRateBucket[] {
  return BUCKETS.map((bucket) => ({ label: bucket.label, count: rates.filter(bucket.test).length }));
}

/** Why a finished episode left no rollout samples, in a few words a user can act on. */
export function whyNoSamples(episode: EpisodeSampleCount): string {
  if (episode.policyKind !== null && episode.policyKind !== "openai")
    return `the ${episode.policyKind} policy samples no tokens`;
  if ((episode.stats.turnsWithoutTokens ?? 0) > 0) return "the model server returned no token ids";
  if (episode.policyKind === null || (episode.stats.turns ?? 0) === 0) return "no model turn finished";
  return "no samples recorded";
}

/** Why a run's export of rollouts is empty, in words a user can act on; null when it has samples. */
export function whyNoRollouts(store: Store, runId: RunId): string | null {
  const trainable = trainability(store.listEpisodeSampleCounts(runId));
  if (trainable.samples > 0) return null;
  if (trainable.episodes === 0) return "the run has no finished episode yet";
  const builtin = Object.keys(trainable.untrainable).some((reason) => reason.includes("policy samples no"));
  return `the run has no trainable samples: ${formatTrainable(trainable)}${builtin ? "; rollout records need a model policy whose server returns token ids (run --policy openai against vLLM or SGLang)" : ""}`;
}

/** Why a run's export of artifacts or tasks is empty; null when it has a valid artifact. */
export function whyNoArtifacts(store: Store, runId: RunId): string | null {
  const steps = store.listSteps(runId);
  const counts = artifactCounts(store, steps);
  if (counts.valid > 0) return null;
  if (steps.length === 0) return "the run has no step yet";
  return `no step of the run made a valid artifact (${steps.length} steps: ${counts.invalid} invalid, ${counts.noArtifact} none submitted, ${counts.duplicate} duplicates)`;
}

function trainability(episodes: readonly EpisodeSampleCount[]): RunSummary["trainable"] {
  const untrainable: Record<string, number> = {};
  for (const episode of episodes.filter((entry) => entry.samples === 0)) {
    const reason = whyNoSamples(episode);
    untrainable[reason] = (untrainable[reason] ?? 0) + 1;
  }
  return {
    samples: episodes.reduce((sum, episode) => sum + episode.samples, 0),
    episodes: episodes.length,
    episodesWithSamples: episodes.filter((episode) => episode.samples > 0).length,
    untrainable,
  };
}

/** The summary's trainability line: "N of M episodes" and why the rest gave no samples. */
export function formatTrainable(trainable: RunSummary["trainable"]): string {
  const why = Object.entries(trainable.untrainable)
    .map(([reason, count]) => `${count} without: ${reason}`)
    .join("; ");
  return `${trainable.samples} samples from ${trainable.episodesWithSamples} of ${trainable.episodes} episodes${why ? ` (${why})` : ""}`;
}

export function summarizeRun(
  store: Store,
  runId: RunId,
  timing: { wallTimeMs: number; stepsThisStart?: number } = { wallTimeMs: 0 },
): RunSummary {
  const run = store.getRun(runId);
  const steps = store.listSteps(runId);
  const groups = store.listGroups(runId);
  const graded = groups.filter(
    (group): group is GroupRecord & { solveRate: number } => group.state === "graded",
  );
  const attempts = groups
    .flatMap((group) => store.listAttempts(group.id))
    .filter((attempt) => attempt.state === "done");
  const rewards = store.listRewards(runId);
  const candidates = store.listAllCandidates(runId);
  const mean = (values: number[]) =>
    values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
  const proposerRewards = rewards
    .filter((reward) => reward.role === "proposer")
    .map((reward) => reward.value);
  const solverRewards = rewards.filter((reward) => reward.role === "solver").map((reward) => reward.value);
  const finished = steps.filter(isFinished).length;
  const stepsThisStart = timing.stepsThisStart ?? finished;
  return {
    runId,
    status: run?.status ?? "unknown",
    store: store.path,
    starts: run?.starts ?? 0,
    steps: {
      total: steps.length,
      done: steps.filter((step) => step.state === "done").length,
      failed: steps.filter((step) => step.state === "failed").length,
      unfinished: steps.length - finished,
    },
    artifacts: artifactCounts(store, steps),
    secondOrder: {
      candidates: candidates.length,
      valid: candidates.filter((candidate) => candidate.outcome === "valid").length,
      invalid: candidates.filter((candidate) => candidate.outcome === "invalid").length,
      noArtifact: candidates.filter((candidate) => candidate.outcome === "no-artifact").length,
      error: candidates.filter((candidate) => candidate.outcome === "error").length,
    },
    groups: {
      graded: graded.length,
      firstOrder: graded.filter((group) => group.order === 1).length,
      secondOrder: graded.filter((group) => group.order === 2).length,
      meanSolveRate: mean(graded.map((group) => group.solveRate)),
      learnable: graded.filter((group) => group.order === 1 && group.solveRate > 0 && group.solveRate < 1)
        .length,
    },
    attempts: { graded: attempts.length, resolved: attempts.filter((attempt) => attempt.resolved).length },
    solveRates: solveRateHistogram(graded.map((group) => group.solveRate)),
    rewards: {
      proposerMean: mean(proposerRewards),
      proposerCount: proposerRewards.length,
      solverMean: mean(solverRewards),
      solverCount: solverRewards.length,
    },
    trainable: trainability(store.listEpisodeSampleCounts(runId)),
    wallTimeMs: timing.wallTimeMs,
    stepsPerHour: timing.wallTimeMs > 0 ? (stepsThisStart * 3_600_000) / timing.wallTimeMs : null,
    environments: store.listEnvironments(runId).map((environment) => ({
      name: environment.name,
      status: environment.status,
      reason: environment.disabledReason,
    })),
  };
}

/** What the steps' proposers made: verdicts, failed checks, duplicates and distinct bugs. */
function artifactCounts(store: Store, steps: readonly StepRecord[]): RunSummary["artifacts"] {
  const failedChecks: Record<string, number> = {};
  for (const step of steps) {
    if (step.outcome !== "invalid" || !step.artifactId) continue;
    const check = store.getValidation(step.artifactId, step.environment)?.report.failedCheck ?? "unknown";
    failedChecks[check] = (failedChecks[check] ?? 0) + 1;
  }
  return {
    valid: steps.filter((step) => step.outcome === "valid").length,
    invalid: steps.filter((step) => step.outcome === "invalid").length,
    noArtifact: steps.filter((step) => step.outcome === "no-artifact").length,
    failedChecks,
    duplicate: steps.filter((step) => step.outcome === "duplicate").length,
    duplicates: {
      identical: steps.filter((step) => step.duplicateKind === "identical").length,
      semantic: steps.filter((step) => step.duplicateKind === "semantic").length,
    },
    distinctBugs: new Set(
      steps.flatMap((step) => {
        if (step.outcome !== "valid" || !step.artifactId) return [];
        const stored = store.getArtifact(step.artifactId);
        return stored ? [semanticKey(stored.artifact.bugInjectDiff) ?? step.artifactId] : [];
      }),
    ).size,
  };
}

/** The summary as an aligned two-column table; `logFile` names where the run's log lines went. */
export function formatSummary(summary: RunSummary, options: { logFile?: string } = {}): string {
  const number = (value: number | null, digits = 3) => (value === null ? "-" : value.toFixed(digits));
  const rows: [string, string][] = [
    ["run", `${summary.runId} (${summary.status}, started ${summary.starts}×)`],
    ["store", summary.store],
    [
      "steps",
      `${summary.steps.total} (done ${summary.steps.done}, failed ${summary.steps.failed}, unfinished ${summary.steps.unfinished})`,
    ],
    [
      "artifacts",
      `valid ${summary.artifacts.valid} (${summary.artifacts.distinctBugs} distinct bugs), invalid ${summary.artifacts.invalid}, none submitted ${summary.artifacts.noArtifact}, duplicates ${summary.artifacts.duplicates.identical} identical + ${summary.artifacts.duplicates.semantic} same bug`,
    ],
  ];
  const checks = Object.entries(summary.artifacts.failedChecks);
  if (checks.length > 0)
    rows.push(["rejected by", checks.map(([check, count]) => `${check} ${count}`).join(", ")]);
  rows.push(
    [
      "second-order",
      `candidates ${summary.secondOrder.candidates}, valid ${summary.secondOrder.valid}, invalid ${summary.secondOrder.invalid}, no bug ${summary.secondOrder.noArtifact}`,
    ],
    [
      "solver groups",
      `${summary.groups.graded} graded (first-order ${summary.groups.firstOrder}, of them ${summary.groups.learnable} with 0<s<1; second-order ${summary.groups.secondOrder}), mean solve rate ${number(summary.groups.meanSolveRate)}`,
    ],
    ["attempts", `${summary.attempts.graded} graded, ${summary.attempts.resolved} resolved`],
    ["solve rates", summary.solveRates.map((bucket) => `${bucket.label}: ${bucket.count}`).join("  ")],
    [
      "rewards",
      `proposer mean ${number(summary.rewards.proposerMean)} (n=${summary.rewards.proposerCount}), solver mean ${number(summary.rewards.solverMean)} (n=${summary.rewards.solverCount})`,
    ],
    ["trainable", formatTrainable(summary.trainable)],
    [
      "time",
      `${(summary.wallTimeMs / 1000).toFixed(1)} s, ${summary.stepsPerHour === null ? "-" : summary.stepsPerHour.toFixed(1)} steps/hour`,
    ],
  );
  rows.push(["dashboard", `npx swe-selfplay ui --store ${shellWord(summary.store)}`]);
  if (options.logFile) rows.push(["log", options.logFile]);
  for (const environment of summary.environments.filter((entry) => entry.status !== "active"))
    rows.push([`environment ${environment.name}`, `${environment.status}: ${environment.reason ?? ""}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return `${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")}\n`;
}

/** A path as one shell word: as it is when it has only safe characters, single-quoted otherwise. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
