import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../../test/support/tmp.js";
import type { PolicyEpisode } from "../../ports/policy.js";
import type { RolloutSample } from "../../ports/rollout.js";
import { openStore, type Store } from "../../store/index.js";
import type { EpisodeId, RunId } from "../../store/types.js";
import { exportRollouts, readRolloutStep, rolloutRecordProblems, stepDirectoryName } from "./rollouts.js";

const temps: { remove(): void }[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const temp of temps.splice(0)) temp.remove();
});

function sample(id: string): RolloutSample {
  return {
    schema: "rollout.v1",
    sample_id: id,
    group_id: "x",
    episode_id: "x",
    role: "proposer",
    policy_version: "v1",
    sampling: { model: "m", temperature: 1, top_p: 0.95 },
    tokens: [5, 6, 7, 8],
    prompt_len: 2,
    loss_mask: [0, 0, 1, 1],
    logprobs: [0, 0, -0.1, -0.2],
    reward: null,
    status: "completed",
    meta: {},
  };
}

function episode(samples: RolloutSample[]): PolicyEpisode {
  return {
    id: "e",
    role: "proposer",
    policy: { kind: "scripted", name: "t", version: "1" },
    status: "completed",
    exitReason: "submitted",
    trajectory: [],
    samples,
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:00:00.000Z",
    stats: {},
  };
}

/** A run with step 0 finished (no artifact, reward -1, 3 samples) and step 1 still proposing. */
function populate(): { store: Store; runId: RunId; out: string } {
  const temp = makeTempDir();
  temps.push(temp);
  const store = openStore(join(temp.path, "store.db"));
  stores.push(store);
  const runId = "run-x" as RunId;
  store.createRun({ id: runId, config: {}, seed: 0 });
  store.insertStep({ runId, stepIndex: 0, environment: "e", strategy: "removal", seed: 1 });
  store.startEpisode({ id: "ep-0" as EpisodeId, runId, role: "proposer", stepIndex: 0 });
  store.recordProposal({
    runId,
    stepIndex: 0,
    episodeId: "ep-0" as EpisodeId,
    episode: episode([sample("a"), sample("b"), sample("c")]),
    proposerGroupId: "run-x/step-0",
    artifact: null,
    failure: { reward: -1, reason: "gave up" },
  });
  store.insertStep({ runId, stepIndex: 1, environment: "e", strategy: "removal", seed: 2 });
  return { store, runId, out: join(temp.path, "out") };
}

describe("rollout export", () => {
  it("writes finished steps with parts, a manifest and rewards, and never rewrites them", () => {
    const { store, runId, out } = populate();
    const first = exportRollouts({ store, runId, outDir: out, partSize: 2 });
    expect(first).toMatchObject({ stepsWritten: [0], stepsPending: [1], records: 3 });
    const stepDirectory = join(out, "rollouts", stepDirectoryName(0));
    expect(readdirSync(stepDirectory).sort()).toEqual(["_DONE", "part-00000.jsonl", "part-00001.jsonl"]);
    const { manifest, records } = readRolloutStep(stepDirectory);
    expect(manifest).toMatchObject({ schema: "rollout.v1", run_id: runId, step: 0, records: 3 });
    expect(
      records.map((record) => [record.sample_id, record.reward, record.group_id, record.episode_id]),
    ).toEqual([
      ["a", -1, "run-x/step-0", "ep-0"],
      ["b", -1, "run-x/step-0", "ep-0"],
      ["c", -1, "run-x/step-0", "ep-0"],
    ]);
    for (const record of records) expect(rolloutRecordProblems(record)).toEqual([]);
    expect(existsSync(join(out, "rollouts", stepDirectoryName(1)))).toBe(false);

    const second = exportRollouts({ store, runId, outDir: out });
    expect(second).toMatchObject({ stepsWritten: [], stepsPresent: [0], stepsPending: [1], records: 0 });
  });

  it("detects a tampered part file and rewrites a step left without _DONE", () => {
    const { store, runId, out } = populate();
    exportRollouts({ store, runId, outDir: out });
    const stepDirectory = join(out, "rollouts", stepDirectoryName(0));
    const part = join(stepDirectory, "part-00000.jsonl");
    writeFileSync(part, readFileSync(part, "utf8").replace('"reward":-1', '"reward":1'));
    expect(() => readRolloutStep(stepDirectory)).toThrow(/sha256/);
    // A crash before _DONE leaves a half step: the next export writes it again.
    writeFileSync(join(stepDirectory, "_DONE.partial"), "");
    rmSync(join(stepDirectory, "_DONE"));
    const again = exportRollouts({ store, runId, outDir: out });
    expect(again.stepsWritten).toEqual([0]);
    expect(readRolloutStep(stepDirectory).records).toHaveLength(3);
  });

  it("reports broken records", () => {
    const broken = { ...sample("z"), logprobs: [0, -1, -0.1, -0.2], reward: 1 };
    expect(rolloutRecordProblems(broken)).toEqual(["logprob at 1 is not 0 outside the mask"]);
    expect(rolloutRecordProblems({ ...sample("y"), tokens: [1] })[0]).toMatch(/differ in length/);
  });
});
