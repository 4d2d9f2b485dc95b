// Copies the non-TypeScript files that modules load at run time (prompts, tool descriptions, parser and
// helper scripts) from src/ into dist/, beside the compiled modules that load them by relative path.
import { cpSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src");
const target = join(root, "dist");
const assetExtensions = new Set([".md", ".txt", ".py", ".sh", ".css"]);
/** Plain scripts served to browsers (the dashboard), not compiled. */
const browserScripts = /[\\/]web[\\/]assets$/;

let copied = 0;
function walk(directory) {
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) {
      if (name !== "testdata") walk(path);
    } else if (assetExtensions.has(extname(name)) || (extname(name) === ".js" && browserScripts.test(directory))) {
      cpSync(path, join(target, relative(source, path)));
      copied++;
    }
  }
}
walk(source);
// Last: the mark that the build is whole, which bin/swe-selfplay.js looks for before it runs dist/.
writeFileSync(join(target, ".complete"), `${new Date().toISOString()}\n`);
process.stderr.write(`copied ${copied} asset files into dist/\n`);
