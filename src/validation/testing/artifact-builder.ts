// Test support for validation: bug artifacts made with real git on a fixture repository (edit, diff, reset).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BugArtifact } from "../../ports/artifact.js";

export type Edit =
  | { file: string; replace: [from: string, to: string] }
  | { file: string; removeLines: string }
  | { file: string; content: string }
  | { file: string; delete: true };

function git(repo: string, args: string[], input?: string): string {
  return execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
}

/** Applies `edits` to the repository's working tree, returns `git diff` of them, and resets the tree. */
export function diffOf(repo: string, edits: readonly Edit[]): string {
  try {
    for (const edit of edits) {
      const path = join(repo, edit.file);
      if ("delete" in edit) rmSync(path);
      else if ("content" in edit) writeFileSync(path, edit.content);
      else {
        const text = readFileSync(path, "utf8");
        const [from, to] = "replace" in edit ? edit.replace : [edit.removeLines, ""];
        if (!text.includes(from)) throw new Error(`${edit.file} does not contain ${JSON.stringify(from)}`);
        writeFileSync(path, text.replace(from, to));
      }
    }
    git(repo, ["add", "-A"]);
    return git(repo, ["diff", "--cached", "--binary", "--no-color", "--no-ext-diff"]);
  } finally {
    git(repo, ["reset", "-q", "--hard", "HEAD"]);
    git(repo, ["clean", "-fdq"]);
  }
}

/** Commits a symlink pointing outside the repository (for the symlink-escape check). */
export function commitEscapingSymlink(repo: string, name: string, target: string): void {
  symlinkSync(target, join(repo, name));
  git(repo, ["add", name]);
  git(repo, ["-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", `Add ${name}`]);
}

export function fixtureFile(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");
}

export const PYTEST_SCRIPT = [
  "#!/bin/bash",
  "export PYTHONDONTWRITEBYTECODE=1",
  "python3 -m pytest -rA -p no:cacheprovider tests",
  "",
].join("\n");

export const NODE_SCRIPT = ["#!/bin/bash", "node --test --test-reporter=tap", ""].join("\n");

export function makeArtifact(
  fields: Omit<BugArtifact, "meta"> & { meta?: Partial<BugArtifact["meta"]> },
): BugArtifact {
  return {
    ...fields,
    meta: {
      environment: "fixture",
      strategy: "direct",
      order: 1,
      parentId: null,
      policy: "test@0",
      createdAt: "2026-01-01T00:00:00.000Z",
      ...fields.meta,
    },
  };
}
