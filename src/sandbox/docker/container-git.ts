// GitRunner for container backends: the change-tracking git runs inside the container, with its git dir
// outside the workdir (TRACKING_GIT_DIR), so the host never reads the untrusted tree. It needs only a way to
// run a command in the container (an `exec` function), so any backend that can exec (Docker, a Kubernetes
// pod, a remote machine) can reuse it; nothing here knows the Docker API.

import { posix } from "node:path";
import { InfrastructureError } from "../../errors.js";
import type { GitOutcome, GitRunner } from "../change-tracking.js";
import type { CommandOutcome } from "../command-outcome.js";
import { type SandboxUser, userSpec } from "./archive.js";
import type { ExecOptions } from "./exec.js";

/** Runs one command inside the container; a failing command is data, as with Sandbox.run. */
export type ContainerExec = (options: ExecOptions) => Promise<CommandOutcome>;

/** What the git runner needs of a container. */
export interface ContainerAccess {
  /** Short name for messages (e.g. the first 12 characters of a container id). */
  name: string;
  exec: ContainerExec;
  /**
   * Optional fast path: writes one file into an existing directory without a process; returns false when the
   * directory is missing. Without it files are written through `exec`.
   */
  putFile?(path: string, content: Buffer, options: { mode: number; owner: SandboxUser }): Promise<boolean>;
}

/** Where the tracking repository lives inside every container (never inside the workdir). */
export const TRACKING_GIT_DIR = "/var/lib/swe-selfplay/base.git";
/** The index that records the sandbox's working tree; each container has its own copy-on-write copy. */
export const TRACKING_INDEX = `${TRACKING_GIT_DIR}/sandbox.index`;

const GIT_TIMEOUT_MS = 10 * 60_000;
const GIT_OUTPUT_LIMIT = 512 * 1024 * 1024;

/** Git runs as the sandbox's user, so files it writes (git apply) stay writable by the sandbox's commands. */
export function createContainerGitRunner(container: ContainerAccess, user: SandboxUser): GitRunner {
  const run = async (
    command: readonly string[],
    cwd: string,
    env: Record<string, string>,
    stdin?: string | Buffer,
  ) => {
    const outcome = await container.exec({
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
  const mustSucceedWith = async (command: readonly string[], stdin?: Buffer) => {
    const outcome = await run(command, "/", {}, stdin);
    if (outcome.status !== "exited" || outcome.exitCode !== 0) {
      throw new InfrastructureError(
        "container-command-failed",
        `'${command.join(" ")}' failed in container ${container.name}: ${outcome.stderr.toString("utf8").trim()}`,
        { data: { container: container.name, command } },
      );
    }
  };
  const mustSucceed = (command: readonly string[]) => mustSucceedWith(command);
  return {
    async git(args, options): Promise<GitOutcome> {
      const outcome = await run(["git", ...args], options.cwd, options.env, options.stdin);
      if (outcome.status === "exited" && outcome.exitCode === 127) {
        throw new InfrastructureError(
          "git-missing",
          `git is not installed in the image of container ${container.name}; the sandbox tracks changes with git inside the container: install git in the image`,
          { data: { container: container.name } },
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
      const putFile = container.putFile?.bind(container);
      if (!putFile) {
        await mustSucceedWith(
          ["sh", "-c", 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', "sh", path],
          bytes,
        );
        return;
      }
      if (await putFile(path, bytes, { mode: 0o644, owner: user })) return;
      await mustSucceed(["mkdir", "-p", "--", posix.dirname(path)]);
      if (!(await putFile(path, bytes, { mode: 0o644, owner: user }))) {
        throw new InfrastructureError(
          "container-write-failed",
          `cannot write ${path} in container ${container.name}`,
        );
      }
    },
    async copyFile(from, to) {
      await mustSucceed(["cp", "--", from, to]);
    },
  };
}
