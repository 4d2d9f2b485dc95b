// The `submit` tools: the proposer submits the paths of the five artifact files, the solver a patch file or
// nothing (then the current diff). What happens to a submission is decided by the role that creates the tool.
import { posix } from "node:path";
import { z } from "zod";
import type { SandboxView } from "../../ports/sandbox.js";
import { defineTool, loadDescription, type Tool, type ToolOutcome } from "./tool.js";

export const ARTIFACT_FILE_ARGUMENTS = [
  "test_script",
  "test_files",
  "test_parser",
  "bug_inject_diff",
  "test_weaken_diff",
] as const;
export type ArtifactFileArgument = (typeof ARTIFACT_FILE_ARGUMENTS)[number];

export function resolveInSandbox(sandbox: SandboxView, path: string): string {
  return posix.isAbsolute(path) ? posix.normalize(path) : posix.join(sandbox.workdir, path);
}

const proposerSchema = z
  .object(
    Object.fromEntries(
      ARTIFACT_FILE_ARGUMENTS.map((name) => [
        name,
        z
          .string()
          .min(1)
          .describe(`Path of ${name.replace(/_(diff)$/, ".diff")}.`),
      ]),
    ) as Record<ArtifactFileArgument, z.ZodString>,
  )
  .strict();

/** `accept` reads and judges the files; it returns the observation and whether the episode ends. */
export function createProposerSubmitTool(
  accept: (files: Record<ArtifactFileArgument, string>, sandbox: SandboxView) => Promise<ToolOutcome>,
): Tool {
  return defineTool({
    name: "submit",
    description: loadDescription("submit-proposer.md"),
    schema: proposerSchema,
    async run(paths, { sandbox }) {
      const files = {} as Record<ArtifactFileArgument, string>;
      const missing: string[] = [];
      for (const name of ARTIFACT_FILE_ARGUMENTS) {
        const path = resolveInSandbox(sandbox, paths[name]);
        try {
          files[name] = (await sandbox.readFile(path)).toString("utf8");
        } catch {
          missing.push(`${name} (${path})`);
        }
      }
      if (missing.length > 0)
        return {
          status: "invalid",
          output: `These files could not be read: ${missing.join(", ")}. Write them, then submit again.`,
        };
      return accept(files, sandbox);
    },
  });
}

export function createSolverSubmitTool(): Tool {
  return defineTool({
    name: "submit",
    description: loadDescription("submit-solver.md"),
    schema: z
      .object({
        patch_path: z
          .string()
          .min(1)
          .optional()
          .describe("A file holding a git diff; omit to submit the current changes."),
      })
      .strict(),
    async run({ patch_path }, { sandbox }) {
      if (patch_path === undefined) {
        const patch = await sandbox.diff();
        return { status: "submitted", output: "Submitted the current changes.", submission: { patch } };
      }
      const path = resolveInSandbox(sandbox, patch_path);
      try {
        const patch = (await sandbox.readFile(path)).toString("utf8");
        return { status: "submitted", output: `Submitted the patch in ${path}.`, submission: { patch } };
      } catch {
        return {
          status: "invalid",
          output: `${path} could not be read. Give an existing patch file, or no arguments.`,
        };
      }
    },
  });
}
