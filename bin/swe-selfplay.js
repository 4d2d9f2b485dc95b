#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout (so they are never stale), and the compiled CLI in
// an installed package, which ships dist/ without the .ts sources.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = `${root}src/cli/main.ts`;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(`${root}dist/cli/main.js`).href);
}
