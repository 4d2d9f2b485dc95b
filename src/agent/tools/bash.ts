// The `bash` tool: one command in the sandbox with a per-call timeout; timeouts and big outputs are reported, not thrown.
import { z } from "zod";
import { defineTool, loadDescription, type Tool } from "./tool.js";

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 256 * 1024;

export function createBashTool(options: { timeoutMs?: number } = {}): Tool {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return defineTool({
    name: "bash",
    description: loadDescription("bash.md"),
    schema: z.object({ command: z.string().min(1).describe("The bash command to run.") }).strict(),
    async run({ command }, { sandbox, abortSignal }) {
      const result = await sandbox.run({ command, timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES, abortSignal });
      const parts: string[] = [];
      if (result.status === "timed-out")
        parts.push(`[the command ran longer than ${timeoutMs / 1000} s and was killed; output so far below]`);
      else if (result.status === "aborted") parts.push("[the command was aborted]");
      else parts.push(`[exit code ${result.exitCode}]`);
      if (result.stdout !== "") parts.push(result.stdout.replace(/\n$/, ""));
      if (result.stderr !== "") parts.push(`[stderr]\n${result.stderr.replace(/\n$/, "")}`);
      if (result.stdout === "" && result.stderr === "") parts.push("[no output]");
      if (result.truncated) parts.push(`[output was cut at ${MAX_OUTPUT_BYTES} bytes per stream]`);
      return { status: "ok", output: parts.join("\n") };
    },
  });
}
