// What a tool is: a name, a description kept in a text file, a zod schema (also its JSON Schema), and a
// run function over a SandboxView. Outcomes are data; invalid arguments get a message written for the model.

import { z } from "zod";
import { assetText } from "../../assets.js";
import type { ToolSpecification } from "../../ports/model.js";
import type { SandboxView } from "../../ports/sandbox.js";

export interface ToolContext {
  sandbox: SandboxView;
  abortSignal?: AbortSignal;
}

export type ToolOutcome =
  /** The tool ran; `output` goes back to the model (a failing command is still "ok"). */
  | { status: "ok"; output: string }
  /** The call was unusable (bad arguments, missing file, ambiguous edit); the model should retry. */
  | { status: "invalid"; output: string }
  /** The episode's answer was accepted; the loop ends. */
  | { status: "submitted"; output: string; submission: unknown };

export interface Tool {
  readonly specification: ToolSpecification;
  /** `argumentsJson` is the raw text the model produced. */
  call(argumentsJson: string, context: ToolContext): Promise<ToolOutcome>;
}

/** Loads a tool description that ships next to the code. */
export function loadDescription(fileName: string): string {
  return assetText(import.meta.url, fileName).trim();
}

/** Builds a tool whose arguments are parsed and checked before `run` sees them. */
export function defineTool<Schema extends z.ZodType>(definition: {
  name: string;
  description: string;
  schema: Schema;
  run(args: z.output<Schema>, context: ToolContext): Promise<ToolOutcome>;
}): Tool {
  const parameters = z.toJSONSchema(definition.schema, { target: "draft-7" }) as Record<string, unknown>;
  delete parameters.$schema;
  return {
    specification: { name: definition.name, description: definition.description, parameters },
    async call(argumentsJson, context) {
      let raw: unknown;
      try {
        raw = argumentsJson.trim() === "" ? {} : JSON.parse(argumentsJson);
      } catch (error) {
        return {
          status: "invalid",
          output:
            `The arguments of ${definition.name} are not valid JSON (${(error as Error).message}). ` +
            `Send one JSON object, e.g. ${exampleOf(parameters)}.`,
        };
      }
      const parsed = definition.schema.safeParse(raw);
      if (!parsed.success) {
        const problems = parsed.error.issues
          .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "arguments"}: ${issue.message}`)
          .join("; ");
        return {
          status: "invalid",
          output: `Invalid arguments for ${definition.name}: ${problems}. Fix them and call ${definition.name} again.`,
        };
      }
      return definition.run(parsed.data, context);
    },
  };
}

function exampleOf(parameters: Record<string, unknown>): string {
  const required = (parameters.required as string[] | undefined) ?? [];
  return `{${required.map((name) => `"${name}": ...`).join(", ")}}`;
}
