// What `serve` started for a step is back to zero once the step has ended: /v1/stats says so, and so do
// /proc, the mount table, the cgroup tree and the sandboxes' state directories, scoped to this service.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makePythonFixtureRepo } from "../support/fixture-repos.js";
import { systemView } from "../support/system-resources.js";
import { makeTempDir } from "../support/tmp.js";
import { call, startServe } from "./serve-process.js";

describe("serve's resources", () => {
  const temp = makeTempDir("swe-selfplay-serve-resources-");
  afterAll(() => temp.remove());

  it("are reported by /v1/stats while a step runs and are zero, by its account and the system's, after it", async () => {
    const repo = await makePythonFixtureRepo(temp.path);
    const runtime = join(temp.path, "run");
    mkdirSync(runtime, { mode: 0o700 });
    const service = await startServe(
      [
        "--store",
        join(temp.path, "store.db"),
        "--repo",
        `inkwell=${repo}`,
        "--set",
        "secondOrder.enabled=false",
      ],
      { env: { XDG_RUNTIME_DIR: runtime } },
    );
    const scope = { owners: [service.child.pid!], runtimeDirectory: join(runtime, "swe-selfplay") };
    try {
      const submitted = await call(`${service.url}/v1/steps`, {
        body: { request_id: "one", inference: { kind: "builtin" }, policy_version: "v", group_size: 2 },
      });
      expect(submitted.status).toBe(202);
      let seenInUse = false;
      for (;;) {
        const stats = (await call(`${service.url}/v1/stats`)).body;
        if (stats.resources.sandboxes > 0) seenInUse = true;
        const view = (await call(`${service.url}/v1/steps/${submitted.body.step_id}?wait=1`)).body;
        if (view.status !== "queued" && view.status !== "running") {
          expect(view.status).toBe("done");
          break;
        }
      }
      expect(seenInUse).toBe(true);
      const stats = (await call(`${service.url}/v1/stats`)).body;
      expect(stats.resources).toEqual({
        sandboxes: 0,
        processes: 0,
        mounts: 0,
        cgroups: 0,
        containers: 0,
        temporary_directories: 0,
      });
      expect(systemView(scope)).toEqual({
        launchers: 0,
        markedProcesses: 0,
        mounts: 0,
        cgroups: 0,
        stateDirectories: 0,
      });
    } finally {
      await service.stop();
    }
  }, 240_000);
});
