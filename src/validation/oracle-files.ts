// Oracle test files as they are in the original, and putting them back (grading restores them, so a patch
// that edits tests gains nothing).
import { InfrastructureError } from "../errors.js";
import type { SandboxView } from "../ports/sandbox.js";
import { shellQuote } from "../shell-quote.js";
import { shippedFile } from "./sandbox-work.js";

export type OracleSnapshot =
  | { path: string; content: Buffer; mode: number }
  | { path: string; content: null };

/** Reads every oracle file of the sandbox's current (original) tree; absent files are remembered as such. */
export async function readOracleFiles(
  sandbox: SandboxView,
  paths: readonly string[],
): Promise<OracleSnapshot[]> {
  const listed = await sandbox.run({
    command: shippedFile("scripts/oracle-modes.sh"),
    cwd: sandbox.workdir,
    stdin: `${paths.join("\n")}\n`,
    timeoutMs: 60_000,
  });
  if (listed.status !== "exited" || listed.exitCode !== 0) {
    throw new InfrastructureError(
      "oracle-read-failed",
      `could not list oracle files in sandbox ${sandbox.id}: ${listed.status} ${listed.stderr.trim()}`,
    );
  }
  const modes = new Map<string, string>();
  for (const line of listed.stdout.split("\n")) {
    const tab = line.lastIndexOf("\t");
    if (tab > 0) modes.set(line.slice(0, tab), line.slice(tab + 1));
  }
  const snapshots: OracleSnapshot[] = [];
  for (const path of paths) {
    const mode = modes.get(path);
    if (mode === undefined || mode === "absent") snapshots.push({ path, content: null });
    else snapshots.push({ path, content: await sandbox.readFile(path), mode: Number.parseInt(mode, 8) });
  }
  return snapshots;
}

/** Writes the original oracle files back, deleting those that did not exist originally. */
export async function restoreOracleFiles(
  sandbox: SandboxView,
  snapshots: readonly OracleSnapshot[],
): Promise<void> {
  if (snapshots.length === 0) return;
  const parents = snapshots
    .filter((snapshot) => snapshot.content !== null && snapshot.path.includes("/"))
    .map((snapshot) => snapshot.path.slice(0, snapshot.path.lastIndexOf("/")));
  // Whatever a patch left at these paths (a directory, a symlink) goes first, so writes land in the repo.
  const command = [
    `rm -rf -- ${snapshots.map((snapshot) => shellQuote(snapshot.path)).join(" ")}`,
    parents.length > 0 ? `mkdir -p -- ${[...new Set(parents)].map(shellQuote).join(" ")}` : "true",
  ].join(" && ");
  const cleared = await sandbox.run({ command, cwd: sandbox.workdir, timeoutMs: 60_000 });
  if (cleared.status !== "exited" || cleared.exitCode !== 0) {
    throw new InfrastructureError(
      "oracle-restore-failed",
      `could not restore oracle files in sandbox ${sandbox.id}: ${cleared.stderr.trim()}`,
    );
  }
  for (const snapshot of snapshots) {
    if (snapshot.content !== null)
      await sandbox.writeFile(snapshot.path, snapshot.content, { mode: snapshot.mode });
  }
}
