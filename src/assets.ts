// Text and other files that ship beside the modules that use them (prompts, tool descriptions, shell
// scripts, parsers, dashboard files): found relative to the calling module, read once, cached.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { InfrastructureError } from "./errors.js";

/** The package root: this module lives in src/ (run through tsx) or dist/ (built). */
const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));

const texts = new Map<string, string>();
const bytes = new Map<string, Buffer>();

/**
 * The absolute path of a file named relative to a module (pass `import.meta.url`, or any file URL).
 * A module compiled into dist/ finds its file beside it when the build copied it there, else at the
 * same place under src/ (a package ships both). Throws naming the file when neither exists.
 */
export function assetPath(base: string | URL, relativePath: string): string {
  const beside = fileURLToPath(new URL(relativePath, base));
  if (existsSync(beside)) return beside;
  const inPackage = relative(packageRoot, beside);
  const [top, ...rest] = inPackage.split(sep);
  if (top === "dist" && rest.length > 0) {
    const source = join(packageRoot, "src", ...rest);
    if (existsSync(source)) return source;
  }
  throw new InfrastructureError(
    "asset-missing",
    `the file ${beside} that ships with swe-selfplay is missing (is the package installed or built whole?)`,
    { data: { path: beside, relativePath } },
  );
}

/** The UTF-8 text of a file that ships beside the module at `base`, read once. */
export function assetText(base: string | URL, relativePath: string): string {
  const path = assetPath(base, relativePath);
  let text = texts.get(path);
  if (text === undefined) {
    text = readFileSync(path, "utf8");
    texts.set(path, text);
  }
  return text;
}

/** The bytes of a file that ships beside the module at `base` (or inside an installed package), read once. */
export function assetBytes(base: string | URL, relativePath: string): Buffer {
  const path = assetPath(base, relativePath);
  let content = bytes.get(path);
  if (content === undefined) {
    content = readFileSync(path);
    bytes.set(path, content);
  }
  return content;
}
