// The composition root: the one place that picks adapters (SQLite store, sandbox backends, policies) for
// what a configuration names, and hands them to the self-play code, which sees only ports.
import type { SelfPlayConfig } from "../config/index.js";
import type { Policy } from "../ports/policy.js";
import type { SandboxBackend } from "../ports/sandbox.js";
import { openSandboxes } from "../sandbox/index.js";
import { type RunSelfPlayOptions, runSelfPlay, type SelfPlayResult } from "../selfplay/run.js";
import { openStore, type Store } from "../store/index.js";
import { createPolicy } from "./policy-factory.js";

export { openSandboxes, openStore };

export interface ConfiguredRunOptions extends Omit<RunSelfPlayOptions, "store" | "sandboxes" | "policy"> {
  /** Default: opens config.store (and closes it at the end). */
  store?: Store;
  /** Default: openSandboxes() (local for directories, Docker for images); closed at the end. */
  sandboxes?: SandboxBackend;
  /** Default: the policy config.policy names. */
  policy?: Policy;
}

/** Runs self-play with the adapters the configuration names, for whatever the caller did not pass. */
export async function runConfiguredSelfPlay(
  config: SelfPlayConfig,
  options: ConfiguredRunOptions = {},
): Promise<SelfPlayResult> {
  const policy = options.policy ?? createPolicy(config.policy);
  const store = options.store ?? openStore(config.store);
  const sandboxes = options.sandboxes ?? openSandboxes();
  try {
    return await runSelfPlay(config, { ...options, policy, store, sandboxes });
  } finally {
    if (!options.sandboxes) await sandboxes.close();
    if (!options.store) store.close();
  }
}
