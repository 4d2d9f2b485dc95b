// GitRunner for the Docker backend: the change-tracking git runs inside the container, with its git dir
// outside the workdir (TRACKING_GIT_DIR), so the host never reads the untrusted tree.

import { posix } from "node:path";
import type Docker from "dockerode";
import { InfrastructureError } from "../../errors.js";
import type { GitOutcome, GitRunner } from "../change-tracking.js";
import { type SandboxUser, userSpec, writeThroughArchive } from "./archive.js";
import { execInContainer } from "./exec.js";

/** Where the tracking repository lives inside every container (never inside the workdir). */
export const TRACKING_GIT_DIR = "/var/lib/swe-selfplay/base.git";
/** The index that records the sandbox's working tree; each container has its own copy-on-write copy. */
export const TRACKING_INDEX = `${TRACKING_GIT_DIR}/sandbox.index`;

const GIT_TIMEOUT_MS = 10 * 60_000;
const GIT_OUTPUT_LIMIT = 512 * 1024 * 1024;

/** Git runs as the sandbox's user, so files it writes (git apply) stay writable by the sandbox's commands. */
export function createContainerGitRunner(container: Docker.Container, user: SandboxUser): GitRunner {
  const run = async (
    command: readonly string[],
    cwd: string,
    env: Record<string, string>,
    stdin?: string | Buffer,
  ) => {
    const outcome = await execInContainer(container, {
      command,
      cwd,
      user: userSpec(user),
      env,
      stdin,
      timeoutMs: GIT_TIMEOUT_MS,
      maxOutputBytes: GIT_OUTPUT_LIMIT,
    });
    return outcome;
  };
  const mustSucceed = async (command: readonly string[]) => {
    const outcome = await run(command, "/", {});
    if (outcome.status !== "exited" || outcome.exitCode !== 0) {
      throw new InfrastructureError(
        "container-command-failed",
        `'${command.join(" ")}' failed in container ${container.id.slice(0, 12)}: ${outcome.stderr.toString("utf8").trim()}`,
        { data: { container: container.id, command } },
      );
    }
  };
  return {
    async git(args, options): Promise<GitOutcome> {
      const outcome = await run(["git", ...args], options.cwd, options.env, options.stdin);
      if (outcome.status === "exited" && outcome.exitCode === 127) {
        throw new InfrastructureError(
          "git-missing",
          `git is not installed in the image of container ${container.id.slice(0, 12)}; the Docker backend tracks changes with git inside the container: install git in the image`,
          { data: { container: container.id } },
        );
      }
      return {
        exitCode: outcome.status === "exited" ? (outcome.exitCode ?? 1) : 124,
        stdout: outcome.stdout,
        stderr: outcome.stderr.toString("utf8"),
      };
    },
    async writeFile(path, content) {
      const bytes = Buffer.from(content);
      if (await writeThroughArchive(container, path, bytes, { mode: 0o644, owner: user })) return;
      await mustSucceed(["mkdir", "-p", "--", posix.dirname(path)]);
      if (!(await writeThroughArchive(container, path, bytes, { mode: 0o644, owner: user }))) {
        throw new InfrastructureError(
          "container-write-failed",
          `cannot write ${path} in container ${container.id.slice(0, 12)}`,
        );
      }
    },
    async copyFile(from, to) {
      await mustSucceed(["cp", "--", from, to]);
    },
  };
}
