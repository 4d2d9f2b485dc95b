// The validator's caching decorators around a measurement we control: sharing, abandoning, forgetting.
import { describe, expect, it } from "vitest";
import { makeArtifact } from "../../test/support/artifact-builder.js";
import type { BugArtifact } from "../ports/artifact.js";
import type { Environment } from "../ports/sandbox.js";
import type { TestRun, ValidationReport } from "../ports/validation.js";
import type { BaselineOutcome } from "./baseline.js";
import { BaselineCache, cachedReports } from "./caches.js";
import { deferred } from "./sandbox-work.js";

const environment: Environment = { kind: "dir", path: "/srv/repo" };
const artifact: BugArtifact = makeArtifact({
  testScript: "pytest\n",
  testParser: "print('{}')\n",
  testFiles: ["tests/test_a.py"],
  bugInjectDiff: "bug\n",
  testWeakenDiff: "weaken\n",
});

function outcome(status: TestRun["status"] = "ok"): BaselineOutcome {
  const run: TestRun =
    status === "ok"
      ? { status, results: { a: "passed" }, durationMs: 5, truncated: false }
      : { status, message: status, durationMs: 5, outputTail: "" };
  return {
    runs: [run],
    results: [null],
    records: [],
    parser: { status: "passed", evidence: {} },
    criticalPathMs: 5,
  };
}

/** A measurement that settles when the test says so, remembering the signals it was given. */
function controlledMeasure() {
  const calls: { signal: AbortSignal; settle: (value: BaselineOutcome) => void }[] = [];
  const measure = (_environment: Environment, _artifact: BugArtifact, signal: AbortSignal) => {
    const pending = deferred<BaselineOutcome>();
    calls.push({ signal, settle: pending.resolve });
    signal.addEventListener("abort", () => pending.reject(signal.reason), { once: true });
    return pending.promise;
  };
  return { calls, measure };
}

describe("BaselineCache", () => {
  it("shares one measurement in flight and keeps it for the next artifact", async () => {
    const { calls, measure } = controlledMeasure();
    const cache = new BaselineCache(measure);
    const first = cache.acquire(environment, artifact, new AbortController().signal);
    const second = cache.acquire(
      environment,
      { ...artifact, bugInjectDiff: "other\n" },
      new AbortController().signal,
    );
    expect(calls).toHaveLength(1);
    expect([first.cached, second.cached]).toEqual([false, true]);
    calls[0]!.settle(outcome());
    expect(await second.promise).toBe(await first.promise);
    first.release();
    second.release();
    const later = cache.acquire(environment, artifact, new AbortController().signal);
    expect(later.outcome).toBe(await first.promise);
    expect(calls).toHaveLength(1);
    await cache.close();
  });

  it("abandons a measurement only when every caller waiting on it aborted", async () => {
    const { calls, measure } = controlledMeasure();
    const cache = new BaselineCache(measure);
    const callers = [new AbortController(), new AbortController()];
    const held = callers.map((caller) => cache.acquire(environment, artifact, caller.signal));
    held[0]!.promise.catch(() => {});
    callers[0]!.abort(new Error("first gone"));
    expect(calls[0]!.signal.aborted).toBe(false);
    callers[1]!.abort(new Error("second gone"));
    expect(calls[0]!.signal.aborted).toBe(true);
    await expect(held[1]!.promise).rejects.toThrow("second gone");
    cache.acquire(environment, artifact, new AbortController().signal).promise.catch(() => {});
    expect(calls).toHaveLength(2);
    await cache.close();
    expect(calls[1]!.signal.aborted).toBe(true);
  });

  it("forgets an outcome with an aborted run, and a released caller does not abandon it", async () => {
    const { calls, measure } = controlledMeasure();
    const cache = new BaselineCache(measure);
    const caller = new AbortController();
    const held = cache.acquire(environment, artifact, caller.signal);
    held.release();
    caller.abort();
    expect(calls[0]!.signal.aborted).toBe(false);
    calls[0]!.settle(outcome("aborted"));
    await held.promise;
    expect(cache.acquire(environment, artifact, new AbortController().signal).cached).toBe(false);
    expect(calls).toHaveLength(2);
    calls[1]!.settle(outcome());
    await cache.close();
  });
});

describe("cachedReports", () => {
  it("returns the same report for the same artifact and forgets a validation that failed", async () => {
    let calls = 0;
    const report = { artifactId: "x" } as ValidationReport;
    const validate = cachedReports(async (_environment, _artifact, id) => {
      calls++;
      if (id === "broken" && calls < 3) throw new Error("sandbox gone");
      return report;
    });
    const signal = new AbortController().signal;
    const once = validate(environment, artifact, "x", signal);
    expect(validate(environment, artifact, "x", signal)).toBe(once);
    expect(await once).toBe(report);
    await expect(validate(environment, artifact, "broken", signal)).rejects.toThrow("sandbox gone");
    expect(await validate(environment, artifact, "broken", signal)).toBe(report);
    expect(calls).toBe(3);
    const aborted = new AbortController();
    aborted.abort(new Error("caller left"));
    await expect(validate(environment, artifact, "y", aborted.signal)).rejects.toThrow("caller left");
    expect(calls).toBe(3);
  });
});
