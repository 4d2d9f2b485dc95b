import { describe, expect, it } from "vitest";
import { isFinished } from "./step-state.js";

describe("isFinished", () => {
  it("is true for done and failed steps only", () => {
    expect(isFinished({ state: "done" })).toBe(true);
    expect(isFinished({ state: "failed" })).toBe(true);
    for (const state of ["proposing", "validating", "solving"]) expect(isFinished({ state })).toBe(false);
  });
});
