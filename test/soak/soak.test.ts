// The soak in CI: about three minutes of `serve` with steps in flight under every fault kind but the dockerd
// restart (bench/soak/soak.ts), then nothing lost, nothing delivered twice, the store's invariants, and
// nothing left of what the soak's services started (by the system's view, and by /v1/stats' resources once
// the steps have ended). Its figures are printed; timing is not asserted.
import { describe, expect, it } from "vitest";
import { runSoak } from "../../bench/soak/soak.js";

describe("the soak of serve under faults", () => {
  it("loses nothing, delivers each result once and leaves nothing behind", async () => {
    const report = await runSoak({
      minutes: 1.5,
      seed: 7,
      faults: true,
      stepsInFlight: 2,
      faultEverySeconds: 12,
      drainMinutes: 4,
      log: (line) => process.stderr.write(`soak: ${line}\n`),
    });
    process.stderr.write(`soak figures: ${JSON.stringify(report)}\n`);
    expect(report.problems).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(Object.values(report.leaked).every((count) => count === 0)).toBe(true);
    expect(report.faults["kill-service"]).toBeGreaterThan(0);
    expect(report.steps.done + report.steps.failed).toBe(report.steps.submitted);
  }, 900_000);
});
