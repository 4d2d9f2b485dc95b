import { describe, expect, it } from "vitest";
import { addResources, noResources } from "../ports/sandbox.js";
import { ResourceLedger } from "./resource-ledger.js";

describe("the resource ledger", () => {
  it("counts what is held and releases each holding once", () => {
    const ledger = new ResourceLedger();
    const mount = ledger.hold("mounts");
    const groups = ledger.hold("cgroups", 3);
    expect(ledger.snapshot()).toMatchObject({ mounts: 1, cgroups: 3, processes: 0 });
    mount();
    mount();
    groups();
    expect(ledger.snapshot()).toEqual(noResources());
  });

  it("adds several backends' counts", () => {
    const one = { ...noResources(), containers: 2 };
    const two = { ...noResources(), containers: 1, mounts: 4 };
    expect(addResources(one, two)).toMatchObject({ containers: 3, mounts: 4, sandboxes: 0 });
  });
});
