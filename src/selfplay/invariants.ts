// Consistency rules a run's stored state obeys at every moment, even right after a crash: each finished
// result is complete, written once and rewarded as the rules say. Returns the violations (empty when sound).
import type { RunId, Store } from "../store/index.js";
import { proposerReward } from "../validation/rewards.js";

export function runInvariantViolations(
  store: Store,
  runId: RunId,
  options: { alpha?: number } = {},
): string[] {
  const alpha = options.alpha ?? 0.8;
  const violations: string[] = [];
  const steps = store.listSteps(runId);
  const rewards = new Map(store.listRewards(runId).map((reward) => [reward.episodeId as string, reward]));
  const episodes = new Map(store.listEpisodes(runId).map((episode) => [episode.id as string, episode]));
  const groups = store.listGroups(runId);
  const expectedRewards = new Set<string>();

  steps.forEach((step, index) => {
    if (step.stepIndex !== index)
      violations.push(`step indices are not contiguous at ${index} (found ${step.stepIndex})`);
  });

  for (const step of steps) {
    const where = `step ${step.stepIndex}`;
    const firstOrder = groups.filter((group) => group.stepIndex === step.stepIndex && group.order === 1);
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
    if (step.state !== "done") continue;
    const episode = step.episodeId ? episodes.get(step.episodeId) : undefined;
    if (episode?.state !== "finished") {
      violations.push(`${where}: done but its proposer episode is not finished`);
      continue;
    }
    const reward = rewards.get(episode.id);
    expectedRewards.add(episode.id);
    if (!reward) {
      violations.push(`${where}: done without proposer reward`);
      continue;
    }
    if (step.outcome === "no-artifact" || step.outcome === "invalid") {
      if (reward.value !== -1)
        violations.push(`${where}: ${step.outcome} but proposer reward ${reward.value}`);
      if (firstOrder.length > 0) violations.push(`${where}: ${step.outcome} but has a solver group`);
      if (step.outcome === "invalid") {
        const report = step.artifactId ? store.getValidation(step.artifactId, step.environment) : null;
        if (report?.report.verdict !== "invalid")
          violations.push(`${where}: invalid without an invalid report`);
      }
    } else if (step.outcome === "valid") {
      const group = firstOrder[0];
      if (group?.state !== "graded" || group.solveRate === null) {
        violations.push(`${where}: valid and done but its group is not graded`);
        continue;
      }
      // A penalised repeat of an earlier step's bug earns the duplicate reward instead.
      if (step.duplicateOf !== null) continue;
      const expected = proposerReward({ valid: true, solveRate: group.solveRate, alpha });
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

  for (const group of groups) {
    const where = `group ${group.id}`;
    const attempts = store.listAttempts(group.id);
    if (attempts.length !== group.groupSize)
      violations.push(`${where}: ${attempts.length} attempts for group size ${group.groupSize}`);
    for (const attempt of attempts) {
      if (attempt.state !== "done") {
        if (group.state === "graded")
          violations.push(`${where}: graded with pending attempt ${attempt.attemptIndex}`);
        if (attempt.episodeId || attempt.grade) violations.push(`${attempt.id}: pending but has a result`);
        continue;
      }
      const episode = attempt.episodeId ? episodes.get(attempt.episodeId) : undefined;
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
      const parent = groups.find((entry) => entry.id === group.parentGroupId);
      if (parent?.order !== 1) violations.push(`${where}: second-order group without a first-order parent`);
      const artifact = store.getArtifact(group.artifactId);
      if (artifact && artifact.meta.order !== 2) violations.push(`${where}: artifact is not second-order`);
    }
  }

  for (const candidate of store.listAllCandidates(runId)) {
    if (candidate.outcome === "valid" && !groups.some((group) => group.id === candidate.childGroupId))
      violations.push(`${candidate.id}: valid without its group`);
    if (candidate.state === "validating" && !candidate.artifactId)
      violations.push(`${candidate.id}: validating without artifact`);
  }

  for (const [episodeId, reward] of rewards) {
    if (!expectedRewards.has(episodeId))
      violations.push(`reward of episode ${episodeId} (${reward.role}) belongs to no finished result`);
  }
  for (const sample of store.listSamples(runId)) {
    const reward = rewards.get(sample.episode_id);
    if ((reward?.value ?? null) !== sample.reward)
      violations.push(
        `sample ${sample.sample_id}: reward ${sample.reward}, episode reward ${reward?.value ?? null}`,
      );
  }
  return violations;
}
