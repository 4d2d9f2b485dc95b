// The content of a few files before a change (or that they did not exist), and putting them back.
import type { SandboxView } from "../../ports/sandbox.js";

/** Path → content before the change; null when the file did not exist. */
export type FileSnapshot = Map<string, Buffer | null>;

/** Reads the current content of each path (null when it does not exist), to put it back later. */
export async function snapshotFiles(sandbox: SandboxView, paths: readonly string[]): Promise<FileSnapshot> {
  const snapshot: FileSnapshot = new Map();
  for (const path of paths) {
    try {
      snapshot.set(path, await sandbox.readFile(path));
    } catch {
      snapshot.set(path, null);
    }
  }
  return snapshot;
}

/** Writes every file back as it was and removes those that did not exist. */
export async function restoreFiles(sandbox: SandboxView, snapshot: FileSnapshot): Promise<void> {
  const missing: string[] = [];
  for (const [path, content] of snapshot) {
    if (content === null) missing.push(path);
    else await sandbox.writeFile(path, content);
  }
  if (missing.length > 0) {
    const quoted = missing.map((path) => `'${path.replace(/'/g, "'\\''")}'`).join(" ");
    await sandbox.run({ command: `rm -f ${quoted}`, timeoutMs: 30_000 });
  }
}
