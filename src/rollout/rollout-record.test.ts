import { describe, expect, it } from "vitest";
import type { RolloutSample } from "../ports/rollout.js";
import { RolloutAccumulator, rolloutInvariantViolations } from "./rollout-record.js";

const context = {
  episodeId: "e1",
  groupId: "g1",
  role: "solver" as const,
  policyVersion: "v1",
  sampling: { model: "m", temperature: 1, top_p: 0.95 },
  status: "completed" as const,
};

describe("RolloutAccumulator", () => {
  it("joins turns whose prompt extends the previous tokens; observations are masked out", () => {
    const rollout = new RolloutAccumulator();
    expect(
      rollout.add(0, { promptTokenIds: [1, 2, 3], completionTokenIds: [4, 5], logprobs: [-0.1, -0.2] }),
    ).toBe("started");
    expect(
      rollout.add(1, { promptTokenIds: [1, 2, 3, 4, 5, 6, 7], completionTokenIds: [8], logprobs: [-0.3] }),
    ).toBe("extended");
    const [sample, ...rest] = rollout.samples(context);
    expect(rest).toEqual([]);
    expect(sample!.tokens).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sample!.prompt_len).toBe(3);
    expect(sample!.loss_mask).toEqual([0, 0, 0, 1, 1, 0, 0, 1]);
    expect(sample!.logprobs).toEqual([0, 0, 0, -0.1, -0.2, 0, 0, -0.3]);
    expect(rolloutInvariantViolations(sample!)).toEqual([]);
  });

  it("starts a new sample when a prompt does not extend the previous tokens, and after a turn without tokens", () => {
    const rollout = new RolloutAccumulator();
    rollout.add(0, { promptTokenIds: [1, 2], completionTokenIds: [3], logprobs: [-1] });
    expect(rollout.add(1, { promptTokenIds: [1, 9, 3, 4], completionTokenIds: [5], logprobs: [-1] })).toBe(
      "started",
    );
    expect(rollout.add(2, null)).toBe("skipped");
    rollout.add(3, { promptTokenIds: [1, 9, 3, 4, 5, 6], completionTokenIds: [7], logprobs: [-2] });
    const samples = rollout.samples(context);
    expect(samples.map((sample) => sample.meta.start_reason)).toEqual([
      "first-turn",
      "prefix-mismatch",
      "missing-tokens",
    ]);
    expect(samples.map((sample) => sample.meta.turns)).toEqual([
      [0, 0],
      [1, 1],
      [3, 3],
    ]);
    expect(rollout.prefixMismatches).toBe(1);
    expect(rollout.turnsWithoutTokens).toBe(1);
    expect(new Set(samples.map((sample) => sample.sample_id)).size).toBe(3);
    for (const sample of samples) expect(rolloutInvariantViolations(sample)).toEqual([]);
  });
});

describe("rolloutInvariantViolations", () => {
  const sound: RolloutSample = {
    schema: "rollout.v1",
    sample_id: "s",
    group_id: "g",
    episode_id: "e",
    role: "proposer",
    policy_version: "v",
    sampling: context.sampling,
    tokens: [1, 2, 3],
    prompt_len: 2,
    loss_mask: [0, 0, 1],
    logprobs: [0, 0, -0.5],
    reward: null,
    status: "completed",
    meta: {},
  };

  it("accepts a sound sample and names each broken invariant", () => {
    expect(rolloutInvariantViolations(sound)).toEqual([]);
    expect(rolloutInvariantViolations({ ...sound, loss_mask: [0, 1] })[0]).toMatch(
      /loss_mask has 2 entries for 3/,
    );
    expect(rolloutInvariantViolations({ ...sound, logprobs: [0, -1, -0.5] })[0]).toMatch(
      /logprobs\[1\] is -1 where/,
    );
    expect(rolloutInvariantViolations({ ...sound, loss_mask: [0, 1, 1], logprobs: [0, -1, -1] })[0]).toMatch(
      /inside the prompt/,
    );
    expect(rolloutInvariantViolations({ ...sound, prompt_len: 4 })[0]).toMatch(/prompt_len 4/);
  });
});
