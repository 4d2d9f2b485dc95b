// Writes a file so that readers see either nothing or the whole content: temp file in the same directory,
// fsync, then rename over the destination.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeFileAtomic(path: string, content: string | Buffer): void {
  const temporary = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const descriptor = openSync(temporary, "w");
  try {
    writeSync(descriptor, typeof content === "string" ? Buffer.from(content) : content);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, path);
}
