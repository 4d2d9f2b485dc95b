import { describe, expect, it } from "vitest";
import { chooseStrategy, deriveSeed } from "./seeds.js";

describe("seeds", () => {
  it("derives stable, distinct seeds", () => {
    expect(deriveSeed(0, "step", 1)).toBe(deriveSeed(0, "step", 1));
    expect(deriveSeed(0, "step", 1)).not.toBe(deriveSeed(0, "step", 2));
    expect(deriveSeed(1, "step", 1)).not.toBe(deriveSeed(0, "step", 1));
    expect(deriveSeed(5, "x")).toBeGreaterThanOrEqual(0);
    expect(deriveSeed(5, "x")).toBeLessThan(2 ** 31);
  });

  it("chooses strategies in proportion to their weights", () => {
    const counts = { removal: 0, history: 0, direct: 0 };
    for (let index = 0; index < 2000; index++)
      counts[chooseStrategy({ removal: 0.75, history: 0.25, direct: 0 }, deriveSeed(3, index))]++;
    expect(counts.direct).toBe(0);
    expect(counts.removal / 2000).toBeGreaterThan(0.7);
    expect(counts.removal / 2000).toBeLessThan(0.8);
    expect(() => chooseStrategy({ removal: 0, history: 0, direct: 0 }, 1)).toThrow(/no positive weight/);
  });
});
