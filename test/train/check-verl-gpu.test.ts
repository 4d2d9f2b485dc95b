// scripts/check-verl-gpu.sh on a machine without a GPU: it says that the check needs one and exits 0, having
// installed nothing and started nothing (its GPU path runs only where nvidia-smi lists a GPU).
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot, runProgram } from "../support/cli.js";
import { makeTempDir } from "../support/tmp.js";

describe("scripts/check-verl-gpu.sh", () => {
  it("says it needs a GPU and exits 0 where nvidia-smi lists none", async () => {
    const temp = makeTempDir("swe-selfplay-verl-gpu-");
    try {
      const bin = join(temp.path, "bin");
      const cache = join(temp.path, "cache");
      for (const dir of [bin, cache]) mkdirSync(dir);
      // nvidia-smi as it answers on a machine with the driver but no device.
      writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho 'No devices were found'\nexit 6\n");
      chmodSync(join(bin, "nvidia-smi"), 0o755);
      const result = await runProgram("bash", [join(projectRoot, "scripts/check-verl-gpu.sh")], {
        cwd: temp.path,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWE_SELFPLAY_CACHE: cache },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(
        /needs an NVIDIA GPU and nvidia-smi lists none here; nothing was checked/,
      );
      expect(readdirSync(cache)).toEqual([]);
    } finally {
      temp.remove();
    }
  });
});
