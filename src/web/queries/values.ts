// What every dashboard query shares: rows as SQLite returns them, read leniently, and pages of rows.

export type Row = Record<string, unknown>;

/** A numeric column, or null when it holds none (an aggregate over no rows). */
export const number = (value: unknown): number | null => (typeof value === "number" ? value : null);
/** A count or index column; nothing counts as 0. */
export const count = (value: unknown): number => (typeof value === "number" ? value : 0);
export const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

export interface Page<T> {
  rows: T[];
  total: number;
  page: number;
  pageSize: number;
}
