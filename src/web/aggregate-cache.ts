// A run's aggregates remembered until another connection commits to the store (SQLite's data_version
// changes), so the whole-run totals and plots are computed once per change, not once per page view.
import type { SqliteStore } from "../store/index.js";

export type AggregateCache = <T>(key: string, compute: () => T) => T;

export function createAggregateCache(store: SqliteStore, limit = 256): AggregateCache {
  let version = -1;
  const entries = new Map<string, unknown>();
  return <T>(key: string, compute: () => T): T => {
    const current = store.db.pragma("data_version", { simple: true }) as number;
    if (current !== version || entries.size >= limit) {
      entries.clear();
      version = current;
    }
    if (entries.has(key)) return entries.get(key) as T;
    const value = compute();
    entries.set(key, value);
    return value;
  };
}
