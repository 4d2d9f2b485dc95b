// Exports rollout.v1 records in the trainer's directory protocol (DESIGN §8):
// rollouts/step_NNNNNN/part-NNNNN.jsonl, each written atomically, then a `_DONE` manifest with counts and
// hashes. A step is exported once all its rewards are known; a step that has `_DONE` is never rewritten.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RolloutSample } from "../../ports/rollout.js";
import type { RunId, Store } from "../../ports/store.js";
import { isFinished } from "../step-state.js";
import { writeFileAtomic } from "./atomic-write.js";

export interface RolloutManifest {
  schema: "rollout.v1";
  run_id: string;
  step: number;
  records: number;
  files: { name: string; records: number; bytes: number; sha256: string }[];
  created_at: string;
}

export interface RolloutExportResult {
  directory: string;
  /** Steps written by this call. */
  stepsWritten: number[];
  /** Steps skipped because their `_DONE` already existed. */
  stepsPresent: number[];
  /** Steps not exported yet: still in flight, rewards unknown. */
  stepsPending: number[];
  records: number;
}

export function stepDirectoryName(step: number): string {
  return `step_${String(step).padStart(6, "0")}`;
}

/** Problems of one record against the rollout.v1 invariants; empty when it is well formed. */
export function rolloutRecordProblems(record: RolloutSample): string[] {
  const problems: string[] = [];
  if (record.schema !== "rollout.v1") problems.push(`schema is ${String(record.schema)}`);
  if (record.tokens.length !== record.loss_mask.length || record.tokens.length !== record.logprobs.length)
    problems.push("tokens, loss_mask and logprobs differ in length");
  record.loss_mask.forEach((mask, index) => {
    if (mask === 0 && record.logprobs[index] !== 0)
      problems.push(`logprob at ${index} is not 0 outside the mask`);
  });
  if (record.loss_mask.slice(0, record.prompt_len).some((value) => value !== 0))
    problems.push("loss_mask is 1 inside the prompt");
  if (record.reward === null || !Number.isFinite(record.reward)) problems.push("reward is missing");
  return problems;
}

export function exportRollouts(options: {
  store: Store;
  runId: RunId;
  outDir: string;
  /** Records per part file. */
  partSize?: number;
}): RolloutExportResult {
  const directory = join(options.outDir, "rollouts");
  mkdirSync(directory, { recursive: true });
  const partSize = options.partSize ?? 1000;
  const result: RolloutExportResult = {
    directory,
    stepsWritten: [],
    stepsPresent: [],
    stepsPending: [],
    records: 0,
  };
  for (const step of options.store.listSteps(options.runId)) {
    const stepDirectory = join(directory, stepDirectoryName(step.stepIndex));
    if (existsSync(join(stepDirectory, "_DONE"))) {
      result.stepsPresent.push(step.stepIndex);
      continue;
    }
    if (!isFinished(step)) {
      result.stepsPending.push(step.stepIndex);
      continue;
    }
    // Samples of a failed step (or of an episode whose reward never came) carry no reward: not trainable.
    const records = options.store
      .listSamples(options.runId, step.stepIndex)
      .filter((record) => record.reward !== null);
    // A half-written step from an earlier crash is removed and written again.
    rmSync(stepDirectory, { recursive: true, force: true });
    mkdirSync(stepDirectory, { recursive: true });
    const files: RolloutManifest["files"] = [];
    for (let start = 0, part = 0; start < records.length; start += partSize, part++) {
      const chunk = records.slice(start, start + partSize);
      const content = Buffer.from(chunk.map((record) => `${JSON.stringify(record)}\n`).join(""));
      const name = `part-${String(part).padStart(5, "0")}.jsonl`;
      writeFileAtomic(join(stepDirectory, name), content);
      files.push({
        name,
        records: chunk.length,
        bytes: content.length,
        sha256: createHash("sha256").update(content).digest("hex"),
      });
    }
    const manifest: RolloutManifest = {
      schema: "rollout.v1",
      run_id: options.runId,
      step: step.stepIndex,
      records: records.length,
      files,
      created_at: new Date().toISOString(),
    };
    writeFileAtomic(join(stepDirectory, "_DONE"), `${JSON.stringify(manifest, null, 2)}\n`);
    result.stepsWritten.push(step.stepIndex);
    result.records += records.length;
  }
  return result;
}

/** Reads back an exported step, checking the manifest's counts and hashes; throws on any mismatch. */
export function readRolloutStep(stepDirectory: string): {
  manifest: RolloutManifest;
  records: RolloutSample[];
} {
  const manifest = JSON.parse(readText(join(stepDirectory, "_DONE"))) as RolloutManifest;
  const records: RolloutSample[] = [];
  const parts = readdirSync(stepDirectory).filter(
    (name) => name.startsWith("part-") && name.endsWith(".jsonl"),
  );
  if (parts.length !== manifest.files.length)
    throw new Error(`${stepDirectory}: ${parts.length} part files, manifest lists ${manifest.files.length}`);
  for (const file of manifest.files) {
    const content = readText(join(stepDirectory, file.name));
    const hash = createHash("sha256").update(content).digest("hex");
    if (hash !== file.sha256)
      throw new Error(`${stepDirectory}/${file.name}: sha256 differs from the manifest`);
    const lines = content.split("\n").filter((line) => line.length > 0);
    if (lines.length !== file.records) throw new Error(`${stepDirectory}/${file.name}: record count differs`);
    for (const line of lines) records.push(JSON.parse(line) as RolloutSample);
  }
  return { manifest, records };
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}
