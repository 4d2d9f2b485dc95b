// A configuration is layers merged over the schema's defaults: a config file, then command-line flags, then
// `--set` assignments; for the service, a request over the service's configuration. One merge for all.

/** What one source says: nested keys as the configuration file writes them; absent or undefined leaves a key. */
export type ConfigLayer = Record<string, unknown>;

/** A value that replaces what the layers below hold at its key, a mapping included. */
class Replacement {
  constructor(readonly value: unknown) {}
}

/** Marks a value to replace, not merge into, what is below it (a flag's value at its path does). */
export const replacing = (value: unknown): unknown =>
  value === undefined ? undefined : new Replacement(value);

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * Merges layers, each over the ones before it: mappings merge key by key, anything else (a value, a list)
 * replaces what is below, and undefined leaves it. The layers are not changed.
 */
export function mergeLayers(...layers: readonly (ConfigLayer | undefined)[]): ConfigLayer {
  const merged: ConfigLayer = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const below = merged[key];
      if (value instanceof Replacement) merged[key] = value.value;
      else merged[key] = isMapping(value) ? mergeLayers(isMapping(below) ? below : {}, value) : value;
    }
  }
  return merged;
}

/** A layer from values keyed by dotted path (`concurrency.solvers`); each replaces what is below at its path. */
export function layerFromPaths(values: Readonly<Record<string, unknown>>): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const [path, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const keys = path.split(".");
    let node = layer;
    for (const key of keys.slice(0, -1)) {
      if (!isMapping(node[key])) node[key] = {};
      node = node[key] as ConfigLayer;
    }
    node[keys[keys.length - 1]!] = replacing(value);
  }
  return layer;
}
