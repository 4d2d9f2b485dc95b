import { describe, expect, it } from "vitest";
import { EarlyStop } from "./early-stop.js";

describe("EarlyStop", () => {
  it("takes an environment out when its first steps fail for one environment-level reason", () => {
    const stop = new EarlyStop(2);
    expect(stop.record("lib", "pytest is not installed")).toBeNull();
    expect(stop.record("other", null)).toBeNull();
    expect(stop.record("lib", "pytest is not installed")).toBe("pytest is not installed");
    // Once only.
    expect(stop.record("lib", "pytest is not installed")).toBeNull();
  });

  it("keeps an environment whose first steps disagree or that worked once", () => {
    const differing = new EarlyStop(2);
    differing.record("lib", "no tests found");
    expect(differing.record("lib", "baseline failed")).toBeNull();
    expect(differing.record("lib", "baseline failed")).toBeNull();

    const worked = new EarlyStop(2);
    worked.record("lib", null);
    expect(worked.record("lib", "no tests found")).toBeNull();
    expect(worked.record("lib", "no tests found")).toBeNull();
  });

  it("never stops with 0 steps", () => {
    const stop = new EarlyStop(0);
    for (let index = 0; index < 5; index++) expect(stop.record("lib", "no tests found")).toBeNull();
  });
});
