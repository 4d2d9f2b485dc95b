// Inspects a repository inside a sandbox and decides how its tests run.
import type { SandboxView } from "../../ports/sandbox.js";
import type { DiscoveryOptions, DiscoveryResult } from "./types.js";

export async function discoverTests(
  sandbox: SandboxView,
  options: DiscoveryOptions = {},
): Promise<DiscoveryResult> {
  void sandbox;
  void options;
  return {
    status: "not-found",
    message: "could not find how to run the tests (discovery not implemented yet)",
    lookedAt: [],
  };
}
