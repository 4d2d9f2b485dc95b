// The Sandbox port: where every command of an agent, a test run or a grader executes.
// No imports from adapters; backends (local bubblewrap, Docker) implement these types.

/**
 * What a sandbox is made from: a host directory or a container image with the repository inside. `backend`
 * names the sandbox backend that runs it; without it the router's default for its kind does.
 */
export type Environment =
  | { kind: "dir"; path: string; backend?: string }
  | { kind: "image"; image: string; workdir?: string; backend?: string };

/** Where the repository appears inside every sandbox, whatever the backend. */
export const DEFAULT_WORKDIR = "/testbed";

/** How the local backend gives a sandbox its private copy of a directory environment, "auto" first. */
export const WORKSPACE_STRATEGIES = ["auto", "overlay", "reflink", "copy"] as const;
export type WorkspaceStrategy = (typeof WORKSPACE_STRATEGIES)[number];

export interface ResourceLimits {
  /** Memory cap for everything in the sandbox, bytes. */
  memoryBytes?: number;
  /** Maximum number of processes/threads alive at once. */
  pids?: number;
  /** CPU share (1.0 = one core). */
  cpus?: number;
}

export interface SandboxSpec {
  environment: Environment;
  /** Git-format diffs applied in order at creation; the result is the sandbox's starting state. */
  patches?: readonly string[];
  limits?: ResourceLimits;
  /** Free-form label for logs and for finding leaked sandboxes (e.g. "validate:bug-only"). */
  label?: string;
}

export interface RunOptions {
  /** Shell command, run with `bash -c` (or `sh -c` when bash is absent) from `cwd`. */
  command: string;
  /** Wall-clock limit; on expiry the whole process tree is killed. Default set by the backend. */
  timeoutMs?: number;
  /** Extra environment variables on top of the sandbox's scrubbed environment. */
  env?: Record<string, string>;
  /** Working directory inside the sandbox; relative paths are relative to the workdir. */
  cwd?: string;
  /** Bytes written to the command's standard input. */
  stdin?: string | Uint8Array;
  /** Cap for each of stdout and stderr, bytes; beyond it output is dropped and `truncated` set. */
  maxOutputBytes?: number;
  abortSignal?: AbortSignal;
}

/** How a sandbox command ended (not to be confused with a run's `RunStatus` in the store). */
export type CommandStatus = "exited" | "timed-out" | "aborted";

/** A command's outcome is data: a failing, hanging or aborted command never throws. */
export interface RunResult {
  status: CommandStatus;
  /** Exit code when status is "exited" (128+signal when killed by a signal); null otherwise. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number;
  /**
   * Present only when the command needed the backend's grace: its output was still held open (by something
   * its end or its kill did not reach) this many milliseconds after it ended, and the result was given anyway.
   */
  graceMs?: number;
}

export type ApplyResult =
  | { status: "applied"; files: string[] }
  | {
      status: "rejected";
      /** Human-readable reason naming the file and hunk that failed, e.g. "src/a.py: hunk #2 at line 40 does not apply". */
      message: string;
      file?: string;
      hunk?: number;
    };

/** What tools and policies get: run, read, write, diff. No lifecycle. */
export interface SandboxView {
  readonly id: string;
  /** Absolute path of the repository inside the sandbox (default /testbed). */
  readonly workdir: string;
  run(options: RunOptions): Promise<RunResult>;
  /** Paths are relative to the workdir or absolute inside the sandbox. Throws InputError if missing. */
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, content: string | Uint8Array, options?: { mode?: number }): Promise<void>;
  /** Git-format diff (binary, renames, modes, new and deleted files) of the working tree against the starting state. The repository's own .git is never part of it. */
  diff(): Promise<string>;
  /** Applies a git-format diff to the working tree; a patch that does not apply is data, not an exception. */
  applyPatch(diff: string): Promise<ApplyResult>;
}

/** The full sandbox, with lifecycle: only orchestration code holds this. */
export interface Sandbox extends SandboxView {
  readonly spec: SandboxSpec;
  /** Makes the current working tree the state that diff() compares against. */
  snapshot(): Promise<void>;
  /** Idempotent; kills every process and frees every resource. */
  destroy(): Promise<void>;
}

/** The kinds of resource a sandbox backend starts and must free again. */
export const RESOURCE_KINDS = [
  "sandboxes",
  "processes",
  "mounts",
  "cgroups",
  "containers",
  "temporaryDirectories",
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/**
 * What a backend holds right now, counted as it starts and frees each thing: sandboxes alive, command
 * processes alive (launchers, container execs), mounts, control groups, containers (warm spares included)
 * and temporary directories. Once every sandbox is destroyed, all but the spares are back to zero.
 */
export type SandboxResources = Record<ResourceKind, number>;

/** All counts zero. */
export function noResources(): SandboxResources {
  return Object.fromEntries(RESOURCE_KINDS.map((kind) => [kind, 0])) as SandboxResources;
}

/** The sum of several backends' counts. */
export function addResources(...parts: readonly SandboxResources[]): SandboxResources {
  const total = noResources();
  for (const part of parts) for (const kind of RESOURCE_KINDS) total[kind] += part[kind] ?? 0;
  return total;
}

export interface SandboxBackend {
  /** The backend's name ("local", "docker", or a configured backend's kind). */
  readonly kind: string;
  /** Throws InfrastructureError with a remedy when the backend cannot work here (missing bwrap, engine down, image missing). */
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Destroys every sandbox this backend created and still holds. */
  close(): Promise<void>;
  /** What the backend holds right now (backends that keep no account leave it out: counted as nothing). */
  resources?(): SandboxResources;
}

/** Narrows a sandbox to what an agent's tools may touch. */
export function viewOf(sandbox: SandboxView): SandboxView {
  return {
    id: sandbox.id,
    workdir: sandbox.workdir,
    run: (options) => sandbox.run(options),
    readFile: (path) => sandbox.readFile(path),
    writeFile: (path, content, options) => sandbox.writeFile(path, content, options),
    diff: () => sandbox.diff(),
    applyPatch: (diff) => sandbox.applyPatch(diff),
  };
}
