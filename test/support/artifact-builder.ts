// Test support for validation: bug artifacts made with real git on a fixture repository (edit, diff, reset).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BugArtifact } from "../../src/ports/artifact.js";

export type Edit =
  | { file: string; replace: [from: string, to: string] }
  | { file: string; removeLines: string }
  | { file: string; content: string }
  | { file: string; delete: true }
  | { file: string; transform: (text: string) => string };

function git(repo: string, args: string[], input?: string): string {
  return execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });
}

/** Applies `edits` to the repository's working tree, returns `git diff` of them, and resets the tree. */
export function diffOf(repo: string, edits: readonly Edit[]): string {
  return diffOnTop(repo, [], edits);
}

/** Like diffOf, relative to the tree after `base` diffs (e.g. a patch relative to a buggy state). */
export function diffOnTop(repo: string, base: readonly string[], edits: readonly Edit[]): string {
  try {
    for (const patch of base) git(repo, ["apply", "--index", "-"], patch);
    const staged = git(repo, ["write-tree"]).trim();
    for (const edit of edits) {
      const path = join(repo, edit.file);
      if ("delete" in edit) rmSync(path);
      else if ("content" in edit) writeFileSync(path, edit.content);
      else if ("transform" in edit) writeFileSync(path, edit.transform(readFileSync(path, "utf8")));
      else {
        const text = readFileSync(path, "utf8");
        const [from, to] = "replace" in edit ? edit.replace : [edit.removeLines, ""];
        if (!text.includes(from)) throw new Error(`${edit.file} does not contain ${JSON.stringify(from)}`);
        writeFileSync(path, text.replace(from, to));
      }
    }
    git(repo, ["add", "-A"]);
    return git(repo, ["diff", "--cached", "--binary", "--no-color", "--no-ext-diff", staged]);
  } finally {
    git(repo, ["reset", "-q", "--hard", "HEAD"]);
    git(repo, ["clean", "-fdq"]);
  }
}

/** Removes a top-level Python function (up to the next top-level statement) from a source text. */
export function withoutPythonFunction(text: string, name: string): string {
  const start = text.search(new RegExp(`^def ${name}\\(`, "m"));
  if (start < 0) throw new Error(`no top-level function ${name}`);
  const rest = text.slice(start);
  const next = rest.search(/\n\S/);
  return text.slice(0, start) + (next < 0 ? "" : rest.slice(next + 1));
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
