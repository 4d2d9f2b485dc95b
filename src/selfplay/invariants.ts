// Consistency rules a run's stored state obeys at every moment, even right after a crash: each finished
// result is complete, written once and rewarded as the rules say. Returns the violations (empty when sound).
import type { EpisodeRecord, GroupRecord, RewardRecord, RunId, StepRecord, Store } from "../ports/store.js";
import { DEFAULT_ALPHA, proposerReward } from "../validation/rewards.js";

/** A run's records as the rules read them, and what they found so far. */
interface RunState {
  store: Store;
  alpha: number;
  groups: GroupRecord[];
  rewards: Map<string, RewardRecord>;
  episodes: Map<string, EpisodeRecord>;
  /** Episodes whose reward a finished result accounts for. */
  expectedRewards: Set<string>;
  violations: string[];
}

export function runInvariantViolations(
  store: Store,
  runId: RunId,
  options: { alpha?: number } = {},
): string[] {
  const state: RunState = {
    store,
    alpha: options.alpha ?? DEFAULT_ALPHA,
    groups: store.listGroups(runId),
    rewards: new Map(store.listRewards(runId).map((reward) => [reward.episodeId as string, reward])),
    episodes: new Map(store.listEpisodes(runId).map((episode) => [episode.id as string, episode])),
    expectedRewards: new Set<string>(),
    violations: [],
  };
  const steps = store.listSteps(runId);
  steps.forEach((step, index) => {
    if (step.stepIndex !== index)
      state.violations.push(`step indices are not contiguous at ${index} (found ${step.stepIndex})`);
  });
  for (const step of steps) checkStep(state, step);
  for (const group of state.groups) checkGroup(state, group);
  checkCandidates(state, runId);
  checkRewards(state, runId);
  return state.violations;
}

/** A step's state matches what it holds; a done step has its finished episode and the reward its outcome earns. */
function checkStep(state: RunState, step: StepRecord): void {
  const { violations, rewards, expectedRewards } = state;
  const where = `step ${step.stepIndex}`;
  const firstOrder = state.groups.filter((group) => group.stepIndex === step.stepIndex && group.order === 1);
  if (firstOrder.length > 1) violations.push(`${where}: ${firstOrder.length} first-order groups`);
  if (step.state === "proposing" && (step.artifactId || firstOrder.length > 0))
    violations.push(`${where}: proposing but already has an artifact or group`);
  if (step.state === "validating" && !step.artifactId)
    violations.push(`${where}: validating without artifact`);
  if (step.state === "solving" && firstOrder.length !== 1)
    violations.push(`${where}: solving without its group`);
  // A step that failed after its group was graded keeps the rewards it earned.
  if (step.state === "failed" && step.episodeId && rewards.has(step.episodeId))
    expectedRewards.add(step.episodeId);
  if (step.state !== "done") return;
  const episode = step.episodeId ? state.episodes.get(step.episodeId) : undefined;
  if (episode?.state !== "finished") {
    violations.push(`${where}: done but its proposer episode is not finished`);
    return;
  }
  const reward = rewards.get(episode.id);
  expectedRewards.add(episode.id);
  if (!reward) {
    violations.push(`${where}: done without proposer reward`);
    return;
  }
  checkOutcome(state, step, reward, firstOrder);
}

/** The proposer's reward and the step's group agree with the step's outcome. */
function checkOutcome(
  state: RunState,
  step: StepRecord,
  reward: RewardRecord,
  firstOrder: GroupRecord[],
): void {
  const { violations } = state;
  const where = `step ${step.stepIndex}`;
  if (step.outcome === "no-artifact" || step.outcome === "invalid") {
    if (reward.value !== -1) violations.push(`${where}: ${step.outcome} but proposer reward ${reward.value}`);
    if (firstOrder.length > 0) violations.push(`${where}: ${step.outcome} but has a solver group`);
    if (step.outcome === "invalid") {
      const report = step.artifactId ? state.store.getValidation(step.artifactId, step.environment) : null;
      if (report?.report.verdict !== "invalid")
        violations.push(`${where}: invalid without an invalid report`);
    }
  } else if (step.outcome === "valid") {
    const group = firstOrder[0];
    if (group?.state !== "graded" || group.solveRate === null) {
      violations.push(`${where}: valid and done but its group is not graded`);
      return;
    }
    // A penalised repeat of an earlier step's bug earns the duplicate reward instead.
    if (step.duplicateOf !== null) return;
    const expected = proposerReward({ valid: true, solveRate: group.solveRate, alpha: state.alpha });
    if (Math.abs(reward.value - expected) > 1e-9)
      violations.push(
        `${where}: proposer reward ${reward.value}, expected ${expected} for solve rate ${group.solveRate}`,
      );
  } else if (step.outcome === "duplicate") {
    if (firstOrder.length > 0) violations.push(`${where}: duplicate but has a solver group`);
    if (step.duplicateOf === null || step.duplicateOf === step.stepIndex)
      violations.push(`${where}: duplicate of no other step`);
  } else violations.push(`${where}: done with outcome ${step.outcome}`);
}

/** A group has all its attempts, each graded once and rewarded once the group is; its solve rate adds up. */
function checkGroup(state: RunState, group: GroupRecord): void {
  const { violations, rewards, expectedRewards } = state;
  const where = `group ${group.id}`;
  const attempts = state.store.listAttempts(group.id);
  if (attempts.length !== group.groupSize)
    violations.push(`${where}: ${attempts.length} attempts for group size ${group.groupSize}`);
  for (const attempt of attempts) {
    if (attempt.state !== "done") {
      if (group.state === "graded")
        violations.push(`${where}: graded with pending attempt ${attempt.attemptIndex}`);
      if (attempt.episodeId || attempt.grade) violations.push(`${attempt.id}: pending but has a result`);
      continue;
    }
    const episode = attempt.episodeId ? state.episodes.get(attempt.episodeId) : undefined;
    if (episode?.state !== "finished") violations.push(`${attempt.id}: done without a finished episode`);
    if (attempt.grade === null || attempt.resolved !== attempt.grade.resolved)
      violations.push(`${attempt.id}: grade missing or inconsistent`);
    const reward = attempt.episodeId ? rewards.get(attempt.episodeId) : undefined;
    if (group.state === "graded") {
      if (attempt.episodeId) expectedRewards.add(attempt.episodeId);
      if (!reward || reward.value !== (attempt.resolved ? 1 : -1))
        violations.push(`${attempt.id}: solver reward ${reward?.value} for resolved=${attempt.resolved}`);
    } else if (reward) violations.push(`${attempt.id}: rewarded before its group was graded`);
  }
  if (group.state === "graded") {
    const rate = attempts.filter((attempt) => attempt.resolved).length / Math.max(1, attempts.length);
    if (group.solveRate === null || Math.abs(group.solveRate - rate) > 1e-9)
      violations.push(`${where}: solve rate ${group.solveRate}, attempts say ${rate}`);
  }
  if (group.order === 2) {
    const parent = state.groups.find((entry) => entry.id === group.parentGroupId);
    if (parent?.order !== 1) violations.push(`${where}: second-order group without a first-order parent`);
    const artifact = state.store.getArtifact(group.artifactId);
    if (artifact && artifact.meta.order !== 2) violations.push(`${where}: artifact is not second-order`);
  }
}

/** A valid candidate has its group; one being validated has its artifact. */
function checkCandidates(state: RunState, runId: RunId): void {
  for (const candidate of state.store.listAllCandidates(runId)) {
    if (candidate.outcome === "valid" && !state.groups.some((group) => group.id === candidate.childGroupId))
      state.violations.push(`${candidate.id}: valid without its group`);
    if (candidate.state === "validating" && !candidate.artifactId)
      state.violations.push(`${candidate.id}: validating without artifact`);
  }
}

/** Every reward belongs to a finished result, and every rollout sample carries its episode's reward. */
function checkRewards(state: RunState, runId: RunId): void {
  for (const [episodeId, reward] of state.rewards) {
    if (!state.expectedRewards.has(episodeId))
      state.violations.push(`reward of episode ${episodeId} (${reward.role}) belongs to no finished result`);
  }
  for (const sample of state.store.listSamples(runId)) {
    const reward = state.rewards.get(sample.episode_id);
    if ((reward?.value ?? null) !== sample.reward)
      state.violations.push(
        `sample ${sample.sample_id}: reward ${sample.reward}, episode reward ${reward?.value ?? null}`,
      );
  }
}
