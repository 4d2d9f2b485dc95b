import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { parseConfig } from "../config/index.js";
import type { EpisodeId, RunId } from "../ports/store.js";
import { openSqliteStore, type SqliteStore } from "../store/index.js";
import { openRun } from "./run-lifecycle.js";
import { deriveSeed } from "./seeds.js";
import { NextSteps } from "./step-choice.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const RUN = "run-lifecycle" as RunId;
const config = parseConfig({
  seed: 7,
  environments: [
    { name: "a", path: "/a" },
    { name: "b", image: "img-b" },
  ],
});

function store(): SqliteStore {
  const temp = makeTempDir();
  const opened = openSqliteStore(join(temp.path, "store.db"));
  cleanups.push(temp.remove, () => opened.close());
  return opened;
}

describe("openRun", () => {
  it("creates the run with its seed and records the configured environments", () => {
    const db = store();
    const opened = openRun(db, config, { create: { id: RUN, seed: 3, config: { groupSize: 2 } } });
    expect(opened).toMatchObject({
      resumed: false,
      abortedEpisodes: 0,
      run: { id: RUN, seed: 3, starts: 1 },
    });
    expect(db.getRun(RUN)?.config).toEqual({ groupSize: 2 });
    expect(db.listEnvironments(RUN).map((environment) => [environment.name, environment.status])).toEqual([
      ["a", "active"],
      ["b", "active"],
    ]);
  });

  it("opens an existing run to create as it is, without restarting it", () => {
    const db = store();
    db.createRun({ id: RUN, config: {}, seed: 5 });
    const opened = openRun(db, config, { create: { id: RUN, seed: 9 } });
    expect(opened).toMatchObject({ resumed: false, run: { seed: 5, starts: 1 } });
  });

  it("resumes a stored run: restarted, crashed episodes aborted, environments active again", () => {
    const db = store();
    openRun(db, config, { create: { id: RUN, seed: 3 } });
    new NextSteps(config, db, { id: RUN, seed: 3 }).insert(0);
    db.startEpisode({ id: "ep-0" as EpisodeId, runId: RUN, role: "proposer", stepIndex: 0 });
    db.disableEnvironment(RUN, "b", "broken");
    const opened = openRun(db, config, { resume: RUN, create: { id: "other" as RunId, seed: 1 } });
    expect(opened).toMatchObject({ resumed: true, abortedEpisodes: 1, run: { id: RUN, seed: 3, starts: 2 } });
    expect(db.getEpisode("ep-0" as EpisodeId)?.state).toBe("aborted");
    expect(db.listEnvironments(RUN).every((environment) => environment.status === "active")).toBe(true);
    expect(db.getRun("other" as RunId)).toBeNull();
  });
});

describe("NextSteps", () => {
  it("derives the seed from the run's, takes environments round-robin over the active ones, and keeps what is given", () => {
    const db = store();
    const { run } = openRun(db, config, { create: { id: RUN, seed: 3 } });
    const steps = new NextSteps(config, db, run);
    expect(steps.insert(0)).toMatchObject({ stepIndex: 0, environment: "a", seed: deriveSeed(3, "step", 0) });
    expect(steps.insert(1)?.environment).toBe("b");
    db.disableEnvironment(RUN, "a", "broken");
    expect(steps.insert(2)?.environment).toBe("b");
    expect(steps.insert(3, { environment: "a", strategy: "direct", seed: 42 })).toMatchObject({
      environment: "a",
      strategy: "direct",
      seed: 42,
    });
    db.disableEnvironment(RUN, "b", "broken");
    expect(steps.insert(4)).toBeNull();
    expect(db.listSteps(RUN).map((step) => step.stepIndex)).toEqual([0, 1, 2, 3]);
  });
});
