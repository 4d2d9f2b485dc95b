// The real-world library for tests: toolz from Debian's source packages, as a Docker image and as a local checkout.
// Both are built on first use by the project's scripts and cached (image by content key, checkout under .cache/).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { projectRoot } from "./cli.js";
import { dockerImageExists } from "./docker.js";

const execFileAsync = promisify(execFile);

export const TOOLZ_IMAGE = "swe-selfplay/toolz:latest";
export const BASE_IMAGE = "swe-selfplay/base:bookworm";

async function runScript(name: string, args: string[] = []): Promise<string> {
  try {
    const { stdout } = await execFileAsync("bash", [`${projectRoot}scripts/${name}`, ...args], {
      cwd: projectRoot,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 20 * 60_000,
    });
    const lines = stdout.trim().split("\n");
    return lines[lines.length - 1] ?? "";
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`scripts/${name} failed: ${stderr.trim().split("\n").slice(-10).join("\n")}`, {
      cause: error,
    });
  }
}

/** Returns the toolz image name, building the base and toolz images when absent. */
export async function ensureToolzImage(): Promise<string> {
  if (dockerImageExists(TOOLZ_IMAGE)) return TOOLZ_IMAGE;
  if (!dockerImageExists(BASE_IMAGE)) await runScript("build-base-image.sh");
  await runScript("build-toolz-image.sh");
  return TOOLZ_IMAGE;
}

/** Returns the path of a cached git checkout of the toolz source (one commit), fetching it when absent. */
export async function ensureToolzDir(): Promise<string> {
  return runScript("fetch-toolz.sh");
}
