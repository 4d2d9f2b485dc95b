// Exports the artifacts of a run as artifact directories (the five files + meta.json), with their
// validation report next to them: artifacts/<id>/ and artifacts/<id>/report.json.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeArtifactDir } from "../../artifact-io/index.js";
import type { ArtifactId, RunId, Store } from "../../ports/store.js";
import { writeFileAtomic } from "./atomic-write.js";

export async function exportArtifacts(options: {
  store: Store;
  runId: RunId;
  outDir: string;
  /** Only artifacts whose validation passed [true]. */
  validOnly?: boolean;
}): Promise<{ directory: string; count: number }> {
  const directory = join(options.outDir, "artifacts");
  mkdirSync(directory, { recursive: true });
  const validOnly = options.validOnly ?? true;
  const ids = new Map<ArtifactId, string>();
  for (const step of options.store.listSteps(options.runId))
    if (step.artifactId) ids.set(step.artifactId, step.environment);
  for (const candidate of options.store.listAllCandidates(options.runId)) {
    const group = options.store.getGroup(candidate.groupId);
    if (candidate.artifactId && group) ids.set(candidate.artifactId, group.environment);
  }
  let count = 0;
  for (const [id, environment] of ids) {
    const stored = options.store.getArtifact(id);
    const validation = options.store.getValidation(id, environment);
    if (!stored || !validation) continue;
    if (validOnly && validation.report.verdict !== "valid") continue;
    const target = join(directory, id);
    await writeArtifactDir(target, stored.artifact);
    writeFileAtomic(join(target, "report.json"), `${JSON.stringify(validation.report, null, 2)}\n`);
    count++;
  }
  return { directory, count };
}
