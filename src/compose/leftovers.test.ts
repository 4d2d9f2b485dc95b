import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../../test/support/tmp.js";
import { logToFile } from "../log.js";
import { noResources, type SandboxBackend } from "../ports/sandbox.js";
import { warnOfLeftovers } from "./index.js";

function backendHolding(resources: ReturnType<typeof noResources>): SandboxBackend {
  return {
    kind: "held",
    create: () => Promise.reject(new Error("not used")),
    close: () => Promise.resolve(),
    resources: () => resources,
  };
}

describe("what closed sandboxes still hold", () => {
  it("is a warning naming each kind left, and nothing when all is freed", () => {
    const scratch = makeTempDir("swe-selfplay-leftovers-");
    const path = join(scratch.path, "run.log");
    const stop = logToFile(path);
    try {
      warnOfLeftovers(backendHolding(noResources()));
      warnOfLeftovers(backendHolding({ ...noResources(), mounts: 2, cgroups: 1 }));
    } finally {
      stop();
    }
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("sandbox resources still held after close");
    expect(lines[0]).toMatch(/mounts=2.*cgroups=1|cgroups=1.*mounts=2/);
    scratch.remove();
  });
});
