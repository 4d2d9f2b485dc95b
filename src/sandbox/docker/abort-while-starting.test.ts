// An abort that arrives while a Docker command is being started (the exec is created and started by two
// engine requests, which a loaded machine stretches) ends the command as aborted. It used to be lost: the
// command's watch armed its abort listener after the signal had fired, so the command ran to its timeout
// while its caller's permit (validation's test-run semaphore) stayed taken and every run behind it waited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArtificialLoad, startArtificialLoad } from "../../../test/support/artificial-load.js";
import { skipDocker } from "../../../test/support/docker.js";
import { GIT_INIT_SETUP, imageWithFiles, smallPythonFiles } from "../../../test/support/docker-images.js";
import { createDockerBackend, type DockerBackend } from "./backend.js";

describe.skipIf(skipDocker())(
  "a Docker command aborted while it is being started, under CPU and fork load",
  () => {
    let backend: DockerBackend;
    let image: string;
    let load: ArtificialLoad | undefined;

    beforeAll(async () => {
      image = await imageWithFiles({
        tag: "swe-selfplay/test-small:latest",
        files: smallPythonFiles(),
        setup: GIT_INIT_SETUP,
      });
      backend = createDockerBackend({ runId: `abort-while-starting-${process.pid}`, warmContainers: 0 });
      load = startArtificialLoad({ spinners: 4, forkers: 2 });
    });

    afterAll(async () => {
      load?.stop();
      await backend?.close();
    });

    it("ends aborted, by the abort rather than its timeout, and leaves no process in the container", async () => {
      const sandbox = await backend.create({ environment: { kind: "image", image } });
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          const controller = new AbortController();
          const running = sandbox.run({
            command: "sleep 1000",
            timeoutMs: 60_000,
            abortSignal: controller.signal,
          });
          // Before the engine has answered: the exec is being created or started.
          controller.abort();
          expect((await running).status).toBe("aborted");
        }
        // The killer is an engine request of its own, which the result waits for only a grace period: under
        // load it may land just after. So the check waits (up to 30 s) for them to go, instead of expecting them
        // gone at once.
        const sleepers = async () =>
          (await sandbox.run({ command: "ps -eo args= | grep -c '^sleep 1000' || true" })).stdout.trim();
        let left = await sleepers();
        for (let check = 0; check < 120 && left !== "0"; check++) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          left = await sleepers();
        }
        expect(left).toBe("0");
      } finally {
        await sandbox.destroy();
      }
    });
  },
);
