import { describe, expect, it } from "vitest";
import type { TestResults } from "../ports/validation.js";
import { classifyBaseline, differingIds, restoredBy, splitByBug, weakeningEffect } from "./test-sets.js";

describe("classifyBaseline", () => {
  it("keeps tests that pass in every run and reports the ones whose result changes as flaky", () => {
    const first: TestResults = { a: "passed", b: "passed", c: "failed", d: "passed", e: "skipped" };
    const second: TestResults = { a: "passed", b: "failed", c: "failed", e: "skipped", f: "passed" };
    const sets = classifyBaseline([first, second]);
    expect(sets.passing).toEqual(["a"]);
    expect(sets.flaky).toEqual(["b", "d", "f"]);
    expect(sets.all).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
  it("with a single run nothing is flaky", () => {
    expect(classifyBaseline([{ a: "passed", b: "error" }])).toEqual({
      passing: ["a"],
      flaky: [],
      all: ["a", "b"],
    });
  });
});

describe("splitByBug", () => {
  it("counts failing, erroring, skipped and vanished tests as F2P", () => {
    const bug: TestResults = { a: "passed", b: "failed", c: "error", d: "skipped" };
    expect(splitByBug(["a", "b", "c", "d", "e"], bug)).toEqual({ f2p: ["b", "c", "d", "e"], p2p: ["a"] });
  });
  it("treats a failed bug run as every test failing", () => {
    expect(splitByBug(["a", "b"], null)).toEqual({ f2p: ["a", "b"], p2p: [] });
  });
});

describe("weakeningEffect", () => {
  it("hides tests that pass, are skipped or were removed by the weakening", () => {
    const bug: TestResults = { a: "failed", b: "failed", c: "failed", d: "error" };
    const weakened: TestResults = { a: "passed", b: "skipped", d: "error" };
    expect(weakeningEffect(["a", "b", "c", "d"], bug, weakened)).toEqual({
      hidden: ["a", "b", "c"],
      stillFailing: ["d"],
    });
  });
  it("does not count a test the bug made vanish, and that stays missing, as hidden", () => {
    expect(weakeningEffect(["a", "b"], { b: "failed" }, {})).toEqual({ hidden: ["b"], stillFailing: ["a"] });
  });
  it("treats a weakened run without results as hiding nothing", () => {
    expect(weakeningEffect(["a", "b"], { a: "failed" }, null)).toEqual({
      hidden: [],
      stillFailing: ["a", "b"],
    });
  });
});

describe("restoredBy and differingIds", () => {
  it("lists F2P tests passing after a revert", () => {
    expect(restoredBy(["a", "b", "c"], { a: "passed", b: "failed" })).toEqual(["a"]);
    expect(restoredBy(["a"], null)).toEqual([]);
  });
  it("lists ids whose status differs or that one side lacks", () => {
    expect(differingIds({ a: "passed", b: "failed" }, { a: "passed", b: "passed", c: "error" })).toEqual([
      "b",
      "c",
    ]);
  });
});
