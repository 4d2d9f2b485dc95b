// The files the dashboard serves under /assets: its own stylesheet and script, and the plotting library
// and diff stylesheet straight from their installed packages (no build step). A fixed list: nothing
// else on disk can be named by a request.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

const ASSETS: Record<string, { path: () => string; type: string }> = {
  "dashboard.css": { path: () => join(here, "assets", "dashboard.css"), type: "text/css; charset=utf-8" },
  "run.js": { path: () => join(here, "assets", "run.js"), type: "text/javascript; charset=utf-8" },
  "chart.umd.min.js": {
    path: () => join(dirname(require.resolve("chart.js")), "chart.umd.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "diff2html.min.css": {
    path: () => join(dirname(require.resolve("diff2html")), "..", "bundles", "css", "diff2html.min.css"),
    type: "text/css; charset=utf-8",
  },
};

const cache = new Map<string, { body: Buffer; type: string }>();

/** The asset of that name, read once; null for any other name. */
export function asset(name: string): { body: Buffer; type: string } | null {
  const entry = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!entry) return null;
  let loaded = cache.get(name);
  if (!loaded) {
    loaded = { body: readFileSync(entry.path()), type: entry.type };
    cache.set(name, loaded);
  }
  return loaded;
}
