// GitRunner for the local backend: host git with a clean environment (nothing inherited from the host).
import { spawn } from "node:child_process";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InfrastructureError } from "../../errors.js";
import type { GitOutcome, GitRunner } from "../change-tracking.js";

const SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin";

export function createHostGitRunner(): GitRunner {
  return {
    git: (args, options) =>
      new Promise<GitOutcome>((resolve, reject) => {
        const child = spawn("git", [...args], {
          cwd: options.cwd,
          env: { PATH: SEARCH_PATH, ...options.env },
          stdio: ["pipe", "pipe", "pipe"],
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        child.on("error", (error) =>
          reject(
            new InfrastructureError(
              "git-missing",
              `cannot run git (${error.message}); install it: apt-get install git`,
              {
                cause: error,
              },
            ),
          ),
        );
        child.on("close", (code, signal) =>
          resolve({
            exitCode: code ?? 128 + (signal ? 9 : 0),
            stdout: Buffer.concat(stdout),
            stderr: Buffer.concat(stderr).toString("utf8"),
          }),
        );
        child.stdin.on("error", () => {});
        child.stdin.end(options.stdin ?? "");
      }),
    writeFile: async (path, content) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    },
    copyFile: (from, to) => copyFile(from, to),
  };
}
