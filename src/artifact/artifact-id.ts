// An artifact's id: sha256 over a length-prefixed framing of its five canonical files (meta excluded),
// so the same bug has the same id wherever and whenever it was proposed.
import { createHash } from "node:crypto";
import type { BugArtifact } from "../ports/artifact.js";
import { ARTIFACT_FILE_NAMES, serializeArtifactFiles } from "./artifact-files.js";

const FRAMING_VERSION = "swe-selfplay-artifact-v1";

/** 64 lowercase hex digits. Stable across runs, platforms and meta changes. */
export function artifactId(artifact: BugArtifact): string {
  const files = serializeArtifactFiles(artifact);
  const hash = createHash("sha256");
  hash.update(`${FRAMING_VERSION}\n`);
  for (const name of ARTIFACT_FILE_NAMES) {
    const content = Buffer.from(files[name], "utf8");
    // Name and byte length before the content: no two different artifacts frame to the same bytes.
    hash.update(`${name}\n${content.length}\n`);
    hash.update(content);
    hash.update("\n");
  }
  return hash.digest("hex");
}
