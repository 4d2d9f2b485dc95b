// The files the dashboard serves under /assets: its own stylesheet and script, and the plotting library
// and diff stylesheet straight from their installed packages (no build step). A fixed list: nothing
// else on disk can be named by a request.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { assetBytes } from "../assets.js";

const require = createRequire(import.meta.url);
/** A file inside an installed package, relative to the file its name resolves to. */
const packageFile = (name: string, relativePath: string) =>
  assetBytes(pathToFileURL(require.resolve(name)), relativePath);

const ASSETS: Record<string, { load: () => Buffer; type: string }> = {
  "dashboard.css": {
    load: () => assetBytes(import.meta.url, "assets/dashboard.css"),
    type: "text/css; charset=utf-8",
  },
  "run.js": {
    load: () => assetBytes(import.meta.url, "assets/run.js"),
    type: "text/javascript; charset=utf-8",
  },
  "chart.umd.min.js": {
    load: () => packageFile("chart.js", "chart.umd.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "diff2html.min.css": {
    load: () => packageFile("diff2html", "../bundles/css/diff2html.min.css"),
    type: "text/css; charset=utf-8",
  },
};

/** The asset of that name, read once; null for any other name. */
export function asset(name: string): { body: Buffer; type: string } | null {
  const entry = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!entry) return null;
  return { body: entry.load(), type: entry.type };
}
