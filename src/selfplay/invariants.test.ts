import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeSyntheticStep } from "../../test/support/dashboard-store.js";
import { makeTempDir } from "../../test/support/tmp.js";
import type { RunId } from "../ports/store.js";
import { openSqliteStore, type SqliteStore } from "../store/index.js";
import { runInvariantViolations } from "./invariants.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const RUN = "run-invariants" as RunId;

/** A run of three finished steps (valid, invalid, valid) written through the store's API. */
function soundRun(): SqliteStore {
  const temp = makeTempDir();
  const store = openSqliteStore(join(temp.path, "store.db"));
  cleanups.push(temp.remove, () => store.close());
  store.createRun({ id: RUN, config: {}, seed: 0 });
  writeSyntheticStep(store, RUN, 0, { groupSize: 4, resolved: 1 });
  writeSyntheticStep(store, RUN, 1, { verdict: "invalid" });
  writeSyntheticStep(store, RUN, 2, { groupSize: 2, resolved: 2 });
  return store;
}

describe("runInvariantViolations", () => {
  it("finds nothing wrong in a run written through the store", () => {
    expect(runInvariantViolations(soundRun(), RUN)).toEqual([]);
  });

  it("names a proposer reward that does not follow from the solve rate", () => {
    const store = soundRun();
    store.db.prepare("UPDATE rewards SET value = 0.5 WHERE episode_id = ?").run(`${RUN}/step-0/proposer`);
    expect(runInvariantViolations(store, RUN)).toEqual([
      "step 0: proposer reward 0.5, expected 0.55 for solve rate 0.25",
    ]);
  });

  it("names a graded attempt without its reward and a gap in the step indices", () => {
    const store = soundRun();
    const attempt = store.listAttempts(store.listGroups(RUN, 2)[0]!.id)[0]!;
    store.db.prepare("DELETE FROM rewards WHERE episode_id = ?").run(attempt.episodeId);
    store.db.prepare("UPDATE steps SET step_index = 3 WHERE run_id = ? AND step_index = 1").run(RUN);
    const violations = runInvariantViolations(store, RUN, { alpha: 0.8 });
    expect(violations).toContain("step indices are not contiguous at 1 (found 2)");
    expect(violations).toContain(`${attempt.id}: solver reward undefined for resolved=true`);
    expect(violations.some((violation) => violation.endsWith(", episode reward null"))).toBe(true);
  });
});
