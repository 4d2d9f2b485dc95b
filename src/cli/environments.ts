// Where a command's environments come from: --repo/--image flags, the shipped example built on first use,
// and the check that every directory environment is a git checkout before anything starts.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { EnvironmentConfig, SelfPlayConfig } from "../config/index.js";
import { InputError } from "../errors.js";
import { buildExampleRepo } from "../examples/build.js";
import { createLogger } from "../log.js";

const log = createLogger("run");

export const DEFAULT_EXAMPLE = "inkwell";

export function environmentsFrom(flags: {
  repo?: string[];
  image?: string[];
}): EnvironmentConfig[] | undefined {
  const split = (value: string): [string | null, string] => {
    const equals = value.indexOf("=");
    return equals > 0 ? [value.slice(0, equals), value.slice(equals + 1)] : [null, value];
  };
  const environments: EnvironmentConfig[] = [];
  for (const value of flags.repo ?? []) {
    const [name, path] = split(value);
    environments.push({ name: name ?? basename(resolve(path)), path: resolve(path) });
  }
  for (const value of flags.image ?? []) {
    const [name, image] = split(value);
    environments.push({ name: name ?? image, image });
  }
  return environments.length > 0 ? environments : undefined;
}

/** Builds the shipped Python example once into the store's directory and returns it as the environment. */
export async function defaultEnvironment(config: SelfPlayConfig): Promise<EnvironmentConfig> {
  const path = join(dirname(config.store), "examples", DEFAULT_EXAMPLE);
  const built = existsSync(join(path, ".git"));
  if (!built) {
    if (existsSync(path) && readdirSync(path).length > 0)
      throw new InputError(
        "example-dir-dirty",
        `${path} exists but holds no git repository: remove it and retry`,
      );
    log.info("building the example repository", { example: DEFAULT_EXAMPLE, path });
    await buildExampleRepo(DEFAULT_EXAMPLE, path);
  }
  return { name: DEFAULT_EXAMPLE, path };
}

/** A directory environment must be an existing git checkout: said before the run starts, not per step. */
export function checkEnvironmentDirectories(environments: readonly EnvironmentConfig[]): void {
  for (const environment of environments) {
    if (!("path" in environment) || environment.path === undefined) continue;
    const { name, path } = environment;
    let isDirectory = false;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new InputError("environment-missing", `environment ${name}: ${path} does not exist`);
    }
    if (!isDirectory)
      throw new InputError("environment-not-directory", `environment ${name}: ${path} is not a directory`);
    if (!existsSync(join(path, ".git")))
      throw new InputError(
        "environment-not-git",
        `environment ${name}: ${path} is not a git checkout (no .git); make it one with: git init && git add -A && git commit -m import`,
      );
  }
}
