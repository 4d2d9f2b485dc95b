// The defaults the schema gives, read back from it for help texts (`--solvers <n> … [2]`), so no default is
// written twice. Computed once, on first use.
import { configSchema, openaiPolicySchema } from "./schema.js";

let defaults: { config: Record<string, unknown>; model: Record<string, unknown> } | undefined;

function schemaDefaults() {
  defaults ??= {
    config: configSchema.parse({}) as Record<string, unknown>,
    // The model policy's defaults: the smallest valid model policy, every other field filled in.
    model: openaiPolicySchema.parse({ kind: "openai", baseUrl: "http://localhost/v1", model: "m" }) as Record<
      string,
      unknown
    >,
  };
  return defaults;
}

function at(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || !(key in value))
      throw new Error(`the configuration schema has no default at ${path}`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The schema's default of a configuration key by dotted path (`concurrency.solvers`). */
export function configDefault(path: string): unknown {
  return at(schemaDefaults().config, path);
}

/** The schema's default of a model policy's key by dotted path (`sampling.maxTokens`, `contextWindow`). */
export function modelPolicyDefault(path: string): unknown {
  return at(schemaDefaults().model, path);
}
