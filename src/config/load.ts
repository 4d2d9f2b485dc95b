// Loads the run configuration: YAML file, then command-line overrides (dotted key paths), then `--set`
// assignments, merged as layers (layers.ts) into the schema, which fills in every default.
// Errors name the file and the key path, e.g. `run.yaml: concurrency.solverz: unknown key`.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { errorMessage, InputError } from "../errors.js";
import { layerFromPaths, mergeLayers } from "./layers.js";
import { configSchema, type SelfPlayConfig } from "./schema.js";

export interface LoadConfigOptions {
  /** YAML file; relative environment paths in it resolve against its directory. */
  file?: string;
  /** Values keyed by dotted path (`concurrency.solvers`), applied over the file. */
  overrides?: Record<string, unknown>;
  /** `key.path=value` assignments (value parsed as YAML), applied last. */
  assignments?: readonly string[];
  /** Directory that relative paths given outside a file resolve against. Default: process.cwd(). */
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): SelfPlayConfig {
  const cwd = options.cwd ?? process.cwd();
  let raw: Record<string, unknown> = {};
  const source = options.file ?? "command line";
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, "utf8");
    } catch (error) {
      throw new InputError(
        "config-unreadable",
        `cannot read config file ${options.file}: ${errorMessage(error)}`,
        {
          data: { file: options.file },
          cause: error,
        },
      );
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new InputError("config-invalid", `${options.file}: not valid YAML: ${errorMessage(error)}`, {
        data: { file: options.file },
        cause: error,
      });
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== "object" || Array.isArray(parsed))
        throw new InputError("config-invalid", `${options.file}: the top level must be a mapping of keys`);
      raw = parsed as Record<string, unknown>;
    }
    resolveEnvironmentPaths(raw, dirname(resolve(cwd, options.file)));
  }
  const assigned: Record<string, unknown> = {};
  for (const assignment of options.assignments ?? []) {
    const equals = assignment.indexOf("=");
    if (equals <= 0)
      throw new InputError("config-invalid", `--set expects key.path=value, got "${assignment}"`, {
        data: { assignment },
      });
    assigned[assignment.slice(0, equals).trim()] = parseYaml(assignment.slice(equals + 1));
  }
  // The file, then the flags, then --set: each value replaces what is below it at its path.
  raw = mergeLayers(raw, layerFromPaths(options.overrides ?? {}), layerFromPaths(assigned));
  return parseConfig(raw, source, cwd);
}

/** Validates a configuration object; relative environment and store paths resolve against `cwd`. */
export function parseConfig(raw: unknown, source = "config", cwd = process.cwd()): SelfPlayConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new InputError(
      "config-invalid",
      `${source}: invalid configuration:\n${formatIssues(result.error)}`,
      {
        data: { source, issues: result.error.issues },
      },
    );
  }
  const config = result.data;
  return {
    ...config,
    store: resolve(cwd, config.store),
    environments: config.environments.map((environment) =>
      "path" in environment ? { ...environment, path: resolve(cwd, environment.path) } : environment,
    ),
    ...(config.sandboxBackends
      ? {
          sandboxBackends: config.sandboxBackends.map((backend) =>
            /^\.\.?\//.test(backend.module) ? { ...backend, module: resolve(cwd, backend.module) } : backend,
          ),
        }
      : {}),
  };
}

/** One line per issue, each naming the key path: `  concurrency.solverz: unknown key`. */
export function formatIssues(error: z.ZodError): string {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) lines.push(`  ${base ? `${base}.${key}` : key}: unknown key`);
    } else {
      lines.push(`  ${base || "(top level)"}: ${issue.message}`);
    }
  }
  return lines.join("\n");
}

/** Parses "90s", "15m", "2h", "1h30m", "500ms" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * (units[match[2]!] ?? 0);
    consumed = pattern.lastIndex;
  }
  if (consumed !== trimmed.length || consumed === 0 || total <= 0)
    throw new InputError(
      "duration-invalid",
      `cannot read duration "${text}": use e.g. 90s, 15m, 2h or 1h30m`,
    );
  return Math.round(total);
}

function resolveEnvironmentPaths(raw: Record<string, unknown>, base: string): void {
  if (!Array.isArray(raw.environments)) return;
  for (const environment of raw.environments) {
    if (environment && typeof environment === "object" && typeof environment.path === "string") {
      if (!isAbsolute(environment.path)) environment.path = resolve(base, environment.path);
    }
  }
}
