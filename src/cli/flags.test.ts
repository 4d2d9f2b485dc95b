import { describe, expect, it } from "vitest";
import { collect, integerFlag, numberFlag, onOffFlag, positiveIntegerFlag } from "./flags.js";

describe("flag values", () => {
  it("reads each kind, or undefined (or the fallback) when absent", () => {
    expect(numberFlag("0.5", "--alpha")).toBe(0.5);
    expect(numberFlag(undefined, "--alpha")).toBeUndefined();
    expect(positiveIntegerFlag("3", "--max-turns")).toBe(3);
    expect(integerFlag("0", "--seed", 7)).toBe(0);
    expect(integerFlag(undefined, "--seed", 7)).toBe(7);
    expect(integerFlag(undefined, "--baseline-runs")).toBeUndefined();
    expect(onOffFlag("off", "--seeds")).toBe(false);
    expect(collect("b", collect("a"))).toEqual(["a", "b"]);
  });

  it("refuses a bad value in one line naming the flag and the value", () => {
    expect(() => numberFlag("", "--steps")).toThrow('--steps expects a number, got ""');
    expect(() => numberFlag("many", "--steps")).toThrow('--steps expects a number, got "many"');
    expect(() => positiveIntegerFlag("0", "--max-turns")).toThrow(/--max-turns expects a positive integer/);
    expect(() => integerFlag("-1", "--seed", 0)).toThrow('--seed expects a non-negative integer, got "-1"');
    expect(() => integerFlag("1.5", "--baseline-runs")).toThrow(
      /--baseline-runs expects a non-negative integer/,
    );
    expect(() => onOffFlag("maybe", "--seeds")).toThrow('--seeds expects on or off, got "maybe"');
  });
});
