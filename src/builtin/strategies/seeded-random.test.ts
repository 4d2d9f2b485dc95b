import { describe, expect, it } from "vitest";
import { createSeededRandom } from "./seeded-random.js";

describe("createSeededRandom", () => {
  it("repeats its sequence for the same seed and differs for another", () => {
    const draw = (seed: number) => Array.from({ length: 8 }, createSeededRandom(seed).next);
    const first = createSeededRandom(7);
    const again = createSeededRandom(7);
    const sequence = Array.from({ length: 8 }, () => first.next());
    expect(Array.from({ length: 8 }, () => again.next())).toEqual(sequence);
    expect(draw(8)).not.toEqual(sequence);
    expect(sequence.every((value) => value >= 0 && value < 1)).toBe(true);
  });

  it("shuffles without losing elements and forks independent streams", () => {
    const random = createSeededRandom(3);
    const items = Array.from({ length: 20 }, (_, index) => index);
    const shuffled = random.shuffle(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    const forkA = createSeededRandom(3).fork("a").next();
    expect(createSeededRandom(3).fork("a").next()).toBe(forkA);
    expect(createSeededRandom(3).fork("b").next()).not.toBe(forkA);
  });

  it("spreads integers over the whole range", () => {
    const random = createSeededRandom(11);
    const counts = [0, 0, 0, 0];
    for (let index = 0; index < 4000; index++) counts[random.integer(4)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(850);
    expect(random.pick([])).toBeUndefined();
  });
});
