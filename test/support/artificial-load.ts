// An artificial CPU and fork load for tests that must hold under a loaded machine: busy shells and shells
// that fork a short-lived process in a loop, all in one process group of their own, which stop() kills.
// Start it in beforeAll and stop it in afterAll; it never outlives the test file (it dies with this process).
import { spawn } from "node:child_process";

export interface ArtificialLoad {
  stop(): void;
}

export function startArtificialLoad(options: { spinners: number; forkers: number }): ArtificialLoad {
  const script = [
    `for i in $(seq 1 ${options.spinners}); do sh -c 'while :; do :; done' & done`,
    `for i in $(seq 1 ${options.forkers}); do sh -c 'while :; do /bin/true; done' & done`,
    // The loaders die with this process: the group is killed when the parent's pipe closes.
    "read -r _; kill 0",
  ].join("\n");
  const loader = spawn("bash", ["-c", script], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
  loader.unref();
  (loader.stdin as unknown as { unref?: () => void }).unref?.();
  let stopped = false;
  return {
    stop() {
      if (stopped || loader.pid === undefined) return;
      stopped = true;
      try {
        process.kill(-loader.pid, "SIGKILL");
      } catch {
        // gone already
      }
    },
  };
}
