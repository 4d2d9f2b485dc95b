import { describe, expect, it } from "vitest";
import { mcnemarExact, meanPassAtK, pairedBootstrap, passAtK, wilsonInterval } from "./figures.js";

describe("wilsonInterval", () => {
  it("matches the published Wilson score intervals", () => {
    // Reference values: Newcombe (1998), table I, and the textbook 8 of 10.
    const eight = wilsonInterval(8, 10);
    expect(eight.low).toBeCloseTo(0.4902, 4);
    expect(eight.high).toBeCloseTo(0.9433, 4);
    const zero = wilsonInterval(0, 10);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.2775, 4);
    const all = wilsonInterval(10, 10);
    expect(all.low).toBeCloseTo(0.7225, 4);
    expect(all.high).toBe(1);
    const newcombe = wilsonInterval(81, 263);
    expect(newcombe.low).toBeCloseTo(0.2553, 4);
    expect(newcombe.high).toBeCloseTo(0.3662, 4);
  });

  it("is [0, 1] without trials and refuses impossible counts", () => {
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
    expect(() => wilsonInterval(3, 2)).toThrow(/3 successes out of only 2/);
    expect(() => wilsonInterval(-1, 2)).toThrow(/non-negative integers/);
  });
});

describe("passAtK", () => {
  it("is 1 − C(n−c, k)/C(n, k)", () => {
    expect(passAtK(5, 2, 2)).toBeCloseTo(1 - 3 / 10, 12);
    expect(passAtK(5, 2, 1)).toBeCloseTo(2 / 5, 12);
    expect(passAtK(4, 0, 3)).toBe(0);
    expect(passAtK(4, 2, 3)).toBe(1); // fewer failures than k: some draw holds a success
    expect(passAtK(200, 10, 100)).toBeCloseTo(0.999_229, 5);
  });

  it("averages over tasks and refuses k beyond the attempts", () => {
    expect(
      meanPassAtK(
        [
          [3, 0],
          [3, 3],
          [3, 1],
        ],
        2,
      ),
    ).toBeCloseTo((0 + 1 + 2 / 3) / 3, 12);
    expect(meanPassAtK([], 1)).toBe(0);
    expect(() => passAtK(3, 1, 4)).toThrow(/1 ≤ k ≤ n/);
  });
});

describe("mcnemarExact", () => {
  it("is the two-sided binomial test of the discordant pairs", () => {
    expect(mcnemarExact(0, 6)).toBeCloseTo(2 / 64, 12);
    expect(mcnemarExact(1, 5)).toBeCloseTo((2 * 7) / 64, 12);
    expect(mcnemarExact(3, 3)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(10, 0)).toBeCloseTo(2 / 1024, 12);
  });
});

describe("pairedBootstrap", () => {
  it("is seeded, brackets the mean difference and collapses for constant differences", () => {
    const differences = [1, 0, 0, 1, 0, 1, 0, 0, -1, 1, 0, 1];
    const first = pairedBootstrap(differences, { seed: 7 });
    expect(pairedBootstrap(differences, { seed: 7 })).toEqual(first);
    const mean = differences.reduce((a, b) => a + b, 0) / differences.length;
    expect(first.low).toBeLessThan(mean);
    expect(first.high).toBeGreaterThan(mean);
    expect(pairedBootstrap([0.5, 0.5, 0.5])).toEqual({ low: 0.5, high: 0.5 });
    expect(pairedBootstrap([])).toEqual({ low: 0, high: 0 });
  });
});
