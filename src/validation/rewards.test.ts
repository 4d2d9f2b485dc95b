import { describe, expect, it } from "vitest";
import { InputError } from "../errors.js";
import { DEFAULT_ALPHA, proposerReward, solveRate, solverReward } from "./rewards.js";

describe("solverReward", () => {
  it("is +1 for a resolved bug and -1 otherwise", () => {
    expect(solverReward(true)).toBe(1);
    expect(solverReward(false)).toBe(-1);
  });
});

describe("solveRate", () => {
  it("is the fraction of resolved attempts", () => {
    expect(solveRate([true, false, false, true])).toBe(0.5);
    expect(solveRate([false, false])).toBe(0);
    expect(solveRate([true])).toBe(1);
  });
  it("refuses an empty group", () => {
    expect(() => solveRate([])).toThrow(InputError);
  });
});

describe("proposerReward", () => {
  it("is -1 for an invalid artifact whatever the solve rate", () => {
    expect(proposerReward({ valid: false })).toBe(-1);
    expect(proposerReward({ valid: false, solveRate: 0.5 })).toBe(-1);
  });
  it("is -alpha at both ends of the solve rate", () => {
    expect(proposerReward({ valid: true, solveRate: 0 })).toBe(-DEFAULT_ALPHA);
    expect(proposerReward({ valid: true, solveRate: 1 })).toBe(-DEFAULT_ALPHA);
    expect(proposerReward({ valid: true, solveRate: 1, alpha: 0.5 })).toBe(-0.5);
  });
  it("is 1 - (1 + alpha) s strictly inside (0, 1)", () => {
    expect(proposerReward({ valid: true, solveRate: 0.125 })).toBeCloseTo(1 - 1.8 * 0.125, 12);
    expect(proposerReward({ valid: true, solveRate: 0.5 })).toBeCloseTo(0.1, 12);
    expect(proposerReward({ valid: true, solveRate: 0.875, alpha: 0.8 })).toBeCloseTo(1 - 1.8 * 0.875, 12);
    expect(proposerReward({ valid: true, solveRate: 0.5, alpha: 0 })).toBeCloseTo(0.5, 12);
  });
  it("approaches 1 just above s = 0 and -alpha just below s = 1", () => {
    expect(proposerReward({ valid: true, solveRate: 1e-9 })).toBeCloseTo(1, 6);
    expect(proposerReward({ valid: true, solveRate: 1 - 1e-9 })).toBeCloseTo(-DEFAULT_ALPHA, 6);
  });
  it("refuses a missing or out-of-range solve rate for a valid artifact, and a bad alpha", () => {
    expect(() => proposerReward({ valid: true })).toThrow(InputError);
    expect(() => proposerReward({ valid: true, solveRate: -0.1 })).toThrow(InputError);
    expect(() => proposerReward({ valid: true, solveRate: 1.1 })).toThrow(InputError);
    expect(() => proposerReward({ valid: true, solveRate: Number.NaN })).toThrow(InputError);
    expect(() => proposerReward({ valid: true, solveRate: 0.5, alpha: -1 })).toThrow(InputError);
  });
});
