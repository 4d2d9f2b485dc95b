// What an environment cannot serve, learnt once before its first step is chosen: the history strategy
// reverts a past commit, so a repository without a commit that has a parent (a tarball, one squashed
// commit, no git at all) never gets a history step instead of losing one to find out.
import { errorMessage } from "../errors.js";
import { createLogger } from "../log.js";
import type { Strategy } from "../ports/artifact.js";
import type { Environment, ResourceLimits, SandboxBackend } from "../ports/sandbox.js";

const log = createLogger("selfplay");

/** Prints one non-merge commit with a parent (something to revert), nothing when there is none. */
export const REVERTIBLE_COMMIT_COMMAND =
  "git rev-list --no-merges --min-parents=1 --max-count=1 HEAD 2>/dev/null";

/**
 * The strategies `environment` cannot serve; empty when the probe itself fails (a broken environment is
 * the steps' to report, not the probe's).
 */
export async function unservedStrategies(
  sandboxes: SandboxBackend,
  environment: Environment,
  options: { limits?: ResourceLimits; abortSignal?: AbortSignal } = {},
): Promise<Strategy[]> {
  let sandbox: Awaited<ReturnType<SandboxBackend["create"]>> | null = null;
  try {
    sandbox = await sandboxes.create({
      environment,
      label: "probe:history",
      ...(options.limits ? { limits: options.limits } : {}),
    });
    const result = await sandbox.run({
      command: REVERTIBLE_COMMIT_COMMAND,
      timeoutMs: 60_000,
      ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
    });
    if (result.status !== "exited") return [];
    return /^[0-9a-f]{40}/m.test(result.stdout) ? [] : ["history"];
  } catch (error) {
    if (options.abortSignal?.aborted) throw error;
    log.warn("environment probe failed", { error: errorMessage(error) });
    return [];
  } finally {
    await sandbox?.destroy().catch(() => undefined);
  }
}
