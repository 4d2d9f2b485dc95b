#!/usr/bin/env node
// Runs the compiled CLI (dist/) when a whole build is there and newer than every source file, since compiled
// modules start several times faster; otherwise, in a checkout, the TypeScript sources through tsx (so they are
// never stale). An installed package ships dist/ without the .ts sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "src", "cli", "main.ts");
const compiled = join(root, "dist", "cli", "main.js");
/** Written last by `npm run build` (scripts/copy-assets.mjs): the build finished, assets included. */
const complete = join(root, "dist", ".complete");

/** The newest modification time under a directory, directories included (a deleted file changes its directory). */
function newest(directory) {
  let time = statSync(directory).mtimeMs;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    time = Math.max(time, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return time;
}

const buildIsFresh = () => existsSync(complete) && statSync(complete).mtimeMs >= newest(join(root, "src"));

if (existsSync(source) && !buildIsFresh()) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(compiled).href);
}
