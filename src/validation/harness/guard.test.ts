import { describe, expect, it } from "vitest";
import { canarySites, judgeCanaries, planCanaries } from "./canaries.js";
import {
  judgeChannel,
  judgeProcessCanaries,
  judgeTwins,
  planPytestGuard,
  readChannel,
  withoutGuardTests,
} from "./pytest-guard.js";
import { judgeRunWrites } from "./run-writes.js";

const lines = (...events: object[]) => events.map((event) => JSON.stringify(event)).join("\n");

describe("pytest's guard", () => {
  const channel = readChannel(
    `${lines(
      { event: "load", pid: 1 },
      { event: "canaries", ids: ["t.py::test_fail1", "t.py::test_pass1"] },
      { event: "twin", of: "t.py::test_a", id: "t.py::test_twin0" },
      { event: "report", id: "t.py::test_a", when: "call", outcome: "failed" },
      { event: "report", id: "t.py::test_twin0", when: "call", outcome: "failed" },
      { event: "report", id: "t.py::test_b", when: "call", outcome: "passed" },
      { event: "report", id: "t.py::test_b", when: "teardown", outcome: "failed" },
      { event: "report", id: "t.py::test_c", when: "call", outcome: "passed" },
    )}\n{"event": "report", "id": "t.py::gar`,
  );

  it("reads what pytest ran, the worst phase winning, and skips a garbled line", () => {
    expect(channel.loads).toBe(1);
    expect(Object.fromEntries(channel.statuses)).toEqual({
      "t.py::test_a": "failed",
      "t.py::test_twin0": "failed",
      "t.py::test_b": "error",
      "t.py::test_c": "passed",
    });
    expect(channel.twins).toEqual([{ of: "t.py::test_a", id: "t.py::test_twin0" }]);
  });

  it("finds passes pytest did not record, by id and in number", () => {
    expect(judgeChannel({ "t.py::test_c": "passed", "t.py::test_a": "failed" }, channel, true)).toBeNull();
    expect(judgeChannel({ "t.py::test_a": "passed" }, channel, true)).toMatch(
      /reports t\.py::test_a passed, but pytest recorded it failed/,
    );
    const renamed = { x: "passed", y: "passed" } as const;
    expect(judgeChannel(renamed, channel, true)).toMatch(
      /reports 2 passing tests, but pytest recorded 1 passes/,
    );
    // Another runner's passes are in the output too: only ids are compared.
    expect(judgeChannel(renamed, channel, false)).toBeNull();
    expect(judgeChannel(renamed, readChannel(""), true)).toBeNull();
  });

  it("wants its canaries reported as planted once a run reports passes", () => {
    const names = { failing: "test_fail1", passing: "test_pass1" };
    const truthful = {
      "t.py::test_fail1": "failed",
      "t.py::test_pass1": "passed",
      "t.py::test_c": "passed",
    } as const;
    expect(judgeProcessCanaries(truthful, channel, names)).toBeNull();
    expect(judgeProcessCanaries({ "t.py::test_c": "passed" }, channel, names)).toMatch(
      /not reported as planted/,
    );
    expect(judgeProcessCanaries({ ...truthful, "t.py::test_fail1": "passed" }, channel, names)).toMatch(
      /failing canary passed/,
    );
    const unplanted = readChannel(lines({ event: "load", pid: 2 }));
    expect(judgeProcessCanaries({ "t.py::test_c": "passed" }, unplanted, names)).toMatch(
      /never got through collection/,
    );
    expect(judgeProcessCanaries({ "t.py::test_c": "error" }, unplanted, names)).toBeNull();
  });

  it("wants each twin to agree with its original", () => {
    expect(judgeTwins({ "t.py::test_a": "failed" }, channel)).toBeNull();
    expect(judgeTwins({ "t.py::test_a": "passed", "t.py::test_twin0": "failed" }, channel)).toMatch(
      /randomly named twin/,
    );
    expect(judgeTwins({ "t.py::test_a": "passed" }, channel)).toMatch(/randomly named twin/);
  });

  it("strips its canaries and twins from results", () => {
    let index = 0;
    const plan = planPytestGuard(
      "/p",
      { channel: true, canaries: true, twins: ["t.py::test_a"] },
      () => ["c1", "c2", "fail", "pass", "tw"][index++]!,
    );
    expect(plan.setup).toContain("export PYTEST_PLUGINS=");
    const results = {
      "t.py::test_fail": "failed",
      "t.py::test_tw3": "failed",
      "t.py::test_c": "passed",
    } as const;
    expect(withoutGuardTests(results, plan)).toEqual({ "t.py::test_c": "passed" });
  });
});

describe("harness files written at run time", () => {
  it("names them, and leaves runners' and installers' own writes alone", () => {
    expect(judgeRunWrites("./tests/conftest.py\n./inkwell/out.txt\n", [])).toBe(
      "the run itself wrote harness file(s) tests/conftest.py while the tests ran",
    );
    expect(judgeRunWrites("./src/x.py\n./Cargo.lock\n./tests/test_a.py\n", ["tests/test_a.py"])).toBeNull();
    expect(judgeRunWrites("./node_modules/jest/index.js\n", [])).toMatch(/node_modules\/jest\/index\.js/);
    expect(
      judgeRunWrites(
        "./node_modules/.package-lock.json\n./node_modules/jest/index.js\n./package-lock.json\n",
        [],
      ),
    ).toBeNull();
    expect(judgeRunWrites("./.venv/lib/python3.11/site-packages/evil.pth\n", [])).toMatch(/evil\.pth/);
  });
});

describe("canaries that cannot be planted", () => {
  it("say so when both failed wherever they were planted, instead of leaving the run unvouched", () => {
    let index = 0;
    const plan = planCanaries(
      canarySites(["test/a.test.js"]),
      new Map([["test/a.test.js", 'expect = require("odd");\nit("x", () => {});\n']]),
      () => ["fail1", "pass1", "stem1"][index++ % 3]!,
    );
    const id = (name: string) => `test/a.test.js > ${name}`;
    const both = { [id("fail1")]: "failed", [id("pass1")]: "failed" } as const;
    expect(judgeCanaries(both, plan)).toMatchObject({
      status: "unplantable",
      message: expect.stringMatching(/could not be planted .*judged without them/),
    });
    expect(judgeCanaries({ [id("fail1")]: "failed" }, plan).status).toBe("unvouched");
    expect(judgeCanaries({ ...both, [id("fail1")]: "passed" }, plan).status).toBe("lying");
  });
});
