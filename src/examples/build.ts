// The example libraries shipped in examples/: listing them and rebuilding each as a git repository
// whose commit ids are the same on every machine (fixed identities, dates and git configuration).
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, rmdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { assetPath } from "../assets.js";
import { InfrastructureError, InputError } from "../errors.js";

const execFileAsync = promisify(execFile);

export interface ExampleInfo {
  name: string;
  language: "python" | "javascript";
  description: string;
  /** Command that runs the example's whole test suite from the repository root. */
  testCommand: string;
  /** Directory of the example inside the package (history/, artifact/, example.json). */
  directory: string;
  /** The history patches in the order they are applied. */
  patches: string[];
}

/** Committer of every replayed commit; the author comes from each patch. */
const COMMITTER = { name: "swe-selfplay examples", email: "examples@swe-selfplay.invalid" };

/** The examples/ directory of the package, from src/examples/ (tsx) or dist/examples/ (built). */
export function examplesRoot(): string {
  return assetPath(import.meta.url, "../../examples/");
}

/** Every example shipped with the package, sorted by name. */
export function listExamples(): ExampleInfo[] {
  const root = examplesRoot();
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, "example.json")))
    .map((entry) => readExample(root, entry.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One example by name; InputError listing the known names when there is none. */
export function getExample(name: string): ExampleInfo {
  const found = listExamples().find((example) => example.name === name);
  if (!found) {
    const known = listExamples()
      .map((example) => example.name)
      .join(", ");
    throw new InputError("unknown-example", `no example named "${name}"; known examples: ${known}`, {
      data: { name },
    });
  }
  return found;
}

/**
 * Replays the example's history into `destDir` (created when missing, must be empty) with `git am`
 * and returns the repository path. Commit ids depend only on the patches, not on the machine.
 */
export async function buildExampleRepo(name: string, destDir: string): Promise<string> {
  const example = getExample(name);
  const repo = resolve(destDir);
  if (existsSync(repo)) {
    if ((await readdir(repo)).length > 0) {
      throw new InputError("destination-not-empty", `cannot build example "${name}": ${repo} is not empty`, {
        data: { name, path: repo },
      });
    }
    await rmdir(repo);
  }
  // Built beside the destination and renamed into place: a failed build never leaves a half repository
  // that a later run would take for a finished one.
  await mkdir(dirname(repo), { recursive: true });
  const building = await mkdtemp(`${repo}.building-`);
  try {
    await git(building, ["init", "--quiet", "--initial-branch=main"]);
    if (example.patches.length > 0) {
      await git(building, [
        "am",
        "--quiet",
        "--committer-date-is-author-date",
        "--keep-non-patch",
        ...example.patches.map((patch) => join(example.directory, "history", patch)),
      ]);
    }
    await rename(building, repo);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
  return repo;
}

function readExample(root: string, name: string): ExampleInfo {
  const directory = join(root, name);
  const metaPath = join(directory, "example.json");
  let meta: Partial<Record<"language" | "description" | "testCommand", unknown>>;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8"));
  } catch (error) {
    throw new InfrastructureError("example-unreadable", `cannot read ${metaPath}: ${String(error)}`, {
      data: { path: metaPath },
      cause: error,
    });
  }
  if (meta.language !== "python" && meta.language !== "javascript") {
    throw new InfrastructureError(
      "example-unreadable",
      `${metaPath}: "language" must be python or javascript`,
    );
  }
  const historyDir = join(directory, "history");
  const patches = existsSync(historyDir)
    ? readdirSync(historyDir)
        .filter((file) => file.endsWith(".patch"))
        .sort()
    : [];
  return {
    name,
    language: meta.language,
    description: String(meta.description ?? ""),
    testCommand: String(meta.testCommand ?? ""),
    directory,
    patches,
  };
}

/** Runs git with a configuration that ignores the user's and the system's (hooks, signing, line endings). */
async function git(cwd: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_COMMITTER_NAME: COMMITTER.name,
    GIT_COMMITTER_EMAIL: COMMITTER.email,
    GIT_TERMINAL_PROMPT: "0",
  };
  for (const key of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"]) {
    delete env[key];
  }
  const fixed = ["-c", "core.autocrlf=false", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"];
  try {
    const { stdout } = await execFileAsync("git", [...fixed, ...args], {
      cwd,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new InfrastructureError(
      "git-failed",
      `git ${args[0]} failed in ${cwd}: ${stderr.trim() || String(error)}`,
      {
        data: { cwd, args },
        cause: error,
      },
    );
  }
}
