// Docker gating for tests: run when an engine answers; with REQUIRE_DOCKER=1 a missing engine fails the
// suite instead of skipping it, so CI cannot pass without running the Docker tests.
import { spawnSync } from "node:child_process";

let cached: { available: boolean; why: string } | undefined;

export function dockerStatus(): { available: boolean; why: string } {
  if (cached) return cached;
  const probe = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
    timeout: 15_000,
  });
  if (probe.error) cached = { available: false, why: `docker client not runnable: ${probe.error.message}` };
  else if (probe.status !== 0)
    cached = { available: false, why: `no Docker engine answers: ${probe.stderr.trim().split("\n")[0]}` };
  else cached = { available: true, why: `engine ${probe.stdout.trim()}` };
  return cached;
}

export const dockerRequired = process.env.REQUIRE_DOCKER === "1";

/**
 * True when Docker tests should be skipped. Use as `describe.skipIf(skipDocker())(...)`.
 * Throws when REQUIRE_DOCKER=1 and no engine answers, so that the suite fails loudly.
 */
export function skipDocker(): boolean {
  const status = dockerStatus();
  if (status.available) return false;
  if (dockerRequired) throw new Error(`REQUIRE_DOCKER=1 but ${status.why}`);
  process.stderr.write(`skipped, why: ${status.why} (set REQUIRE_DOCKER=1 to make this fail)\n`);
  return true;
}

/** True when an image exists locally. */
export function dockerImageExists(image: string): boolean {
  return spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status === 0;
}
