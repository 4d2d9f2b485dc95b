// The bubblewrap command line of one sandboxed command: what the sandbox sees (system toolchains read-only,
// the workspace at the workdir, a private /tmp) and what it does not (homes, credentials, network).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";
import { InfrastructureError } from "../../errors.js";

/** System directories shared read-only; on merged-/usr systems most are symbolic links into /usr. */
const SYSTEM_DIRECTORIES = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/** The few /etc entries programs need; nothing with secrets (shadow, ssh keys, sudoers, credentials). */
const ETC_ENTRIES = [
  "alternatives",
  "ca-certificates",
  "ca-certificates.conf",
  "debian_version",
  "group",
  "host.conf",
  "hosts",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "locale.alias",
  "localtime",
  "mime.types",
  "nsswitch.conf",
  "os-release",
  "passwd",
  "protocols",
  "services",
  "ssl",
  "timezone",
];

/** Language runtimes keep site configuration under /etc (e.g. /etc/python3.11). */
const ETC_PATTERNS = [/^python\d(\.\d+)?$/, /^java-\d+/, /^perl$/];

const STANDARD_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/**
 * Toolchains installed outside the standard directories but still under the shared /usr: the Go tarball's
 * /usr/local/go/bin and the Rust images' CARGO_HOME /usr/local/cargo/bin (homes, and so ~/.cargo, stay
 * invisible to sandboxes).
 */
const TOOLCHAIN_DIRECTORIES = ["/usr/local/go/bin", "/usr/local/cargo/bin"];

/** The sandbox's PATH: the standard directories, then those toolchain directories that exist on the host. */
export function sandboxPath(exists: (path: string) => boolean = existsSync): string {
  return [...STANDARD_PATH, ...TOOLCHAIN_DIRECTORIES.filter((directory) => exists(directory))].join(":");
}

export const SANDBOX_PATH = sandboxPath();

let located: string | undefined;

/** Absolute path of bwrap; throws with the install command when it is missing or cannot sandbox here. */
export function locateBubblewrap(): string {
  if (located) return located;
  const probe = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new InfrastructureError(
      "bubblewrap-missing",
      "bubblewrap (bwrap) is not installed or not runnable; the local sandbox needs it. Install it with: apt-get install bubblewrap",
      { cause: probe.error },
    );
  }
  const which = spawnSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" });
  located = which.stdout.trim() || "bwrap";
  const trial = spawnSync(
    located,
    [...systemArguments(), "--unshare-all", "--die-with-parent", "--", "true"],
    {
      encoding: "utf8",
    },
  );
  if (trial.status !== 0) {
    located = undefined;
    throw new InfrastructureError(
      "bubblewrap-unusable",
      `bubblewrap cannot create a sandbox here: ${trial.stderr.trim()}. Run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)`,
    );
  }
  return located;
}

/** Binds of the system directories (without /etc), cached for the process. */
let systemCache: string[] | undefined;

function systemArguments(): string[] {
  if (systemCache) return systemCache;
  const argumentsList: string[] = [];
  for (const directory of SYSTEM_DIRECTORIES) {
    let entry: ReturnType<typeof lstatSync>;
    try {
      entry = lstatSync(directory);
    } catch {
      continue;
    }
    if (entry.isSymbolicLink()) argumentsList.push("--symlink", readlinkSync(directory), directory);
    else if (entry.isDirectory()) argumentsList.push("--ro-bind", directory, directory);
  }
  systemCache = argumentsList;
  return argumentsList;
}

/**
 * The sandbox's /etc, under `directory`: a copy of the few entries programs need, keeping only what every
 * user may read (so /etc/ssl/private and password files stay out), symbolic links kept as links. One
 * directory bound once is also much cheaper per command than a bind per entry. Built once per content key
 * (names and timestamps of the entries) and shared by every process; returns its path.
 */
export function ensureEtcView(directory: string): string {
  const names = new Set(ETC_ENTRIES);
  try {
    for (const name of readdirSync("/etc"))
      if (ETC_PATTERNS.some((pattern) => pattern.test(name))) names.add(name);
  } catch {
    // no /etc on the host: the view is empty
  }
  const sorted = [...names].sort();
  const hash = createHash("sha256");
  for (const name of sorted) {
    const path = join("/etc", name);
    try {
      const entry = lstatSync(path);
      hash.update(`${name} ${entry.mtimeMs} ${entry.size} ${entry.ino}\n`);
      if (entry.isDirectory()) {
        for (const child of readdirSync(path)) {
          const inner = lstatSync(join(path, child));
          hash.update(`  ${child} ${inner.mtimeMs} ${inner.size}\n`);
        }
      }
    } catch {
      hash.update(`${name} -\n`);
    }
  }
  const target = join(directory, `etc-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(target)) return target;
  const building = `${target}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true, mode: 0o755 });
  for (const name of sorted) copyPublic(join("/etc", name), join(building, name));
  chmodSync(building, 0o755);
  try {
    renameSync(building, target);
  } catch {
    // another process built it first
    rmSync(building, { recursive: true, force: true });
  }
  return target;
}

function copyPublic(source: string, target: string): void {
  let entry: ReturnType<typeof lstatSync>;
  try {
    entry = lstatSync(source);
  } catch {
    return;
  }
  if (entry.isSymbolicLink()) {
    symlinkSync(readlinkSync(source), target);
  } else if (entry.isFile() && (entry.mode & 0o004) !== 0) {
    copyFileSync(source, target);
    chmodSync(target, entry.mode & 0o755);
  } else if (entry.isDirectory() && (entry.mode & 0o005) === 0o005) {
    mkdirSync(target);
    for (const name of readdirSync(source)) copyPublic(join(source, name), join(target, name));
    chmodSync(target, entry.mode & 0o755);
  }
}

export interface BubblewrapCommand {
  /** Host directory made by ensureEtcView, shown read-only at /etc. */
  etc: string;
  /** Host directory shown read-write at `workdir`. */
  workspace: string;
  workdir: string;
  /** Host directory shown read-write at /tmp (per sandbox, so files persist between commands). */
  temporary: string;
  /** Absolute working directory inside the sandbox. */
  cwd: string;
  environment: Record<string, string>;
  command: string;
  /** Extra host paths shown read-only at the same place (e.g. a toolchain under /opt). */
  readOnlyPaths?: readonly string[];
  /** Host directories of this sandbox's own shown read-write elsewhere (e.g. its Go build cache view). */
  writablePaths?: readonly { source: string; target: string }[];
  /** The command waits for "go" on fd 5 before it starts (see execute's beforeStart). */
  gated?: boolean;
}

const shell = existsSync("/usr/bin/bash") || existsSync("/bin/bash") ? "bash" : "sh";

/**
 * Runs first inside a gated sandbox: waits for "go" on fd 5, then becomes the command's shell. bwrap
 * carries on when its --block-fd reaches end of file, so if we die before releasing it, this gate sees end
 * of file too and nothing of the command runs outside our control groups.
 */
const GATE_SCRIPT = `IFS= read -r gate <&5; exec 5<&-; [ "$gate" = go ] || exit 125; exec ${shell} -c "$0"`;

/** Arguments for bwrap (without the program name). */
export function bubblewrapArguments(command: BubblewrapCommand): string[] {
  const argumentsList = [...systemArguments(), "--ro-bind", command.etc, "/etc"];
  for (const path of command.readOnlyPaths ?? []) argumentsList.push("--ro-bind-try", path, path);
  argumentsList.push(
    "--bind",
    command.workspace,
    command.workdir,
    "--bind",
    command.temporary,
    "/tmp",
    ...(command.writablePaths ?? []).flatMap(({ source, target }) => ["--bind", source, target]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--remount-ro",
    "/",
    "--unshare-all",
    "--hostname",
    "sandbox",
    "--die-with-parent",
  );
  // No --new-session: the launcher already runs in a session of its own without a controlling terminal
  // (so there is no terminal to inject input into), and bwrap's setsid would take the sandbox's first
  // process out of the launcher's process group, through which it is killed at every stage.
  // As root the sandboxed process would otherwise keep every capability.
  if (process.getuid?.() === 0) argumentsList.push("--cap-drop", "ALL");
  argumentsList.push("--clearenv");
  for (const [name, value] of Object.entries(command.environment))
    argumentsList.push("--setenv", name, value);
  argumentsList.push("--chdir", command.cwd, "--");
  if (command.gated) argumentsList.push("/bin/sh", "-c", GATE_SCRIPT, command.command);
  else argumentsList.push(shell, "-c", command.command);
  return argumentsList;
}
