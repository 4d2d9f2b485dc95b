// What every table module of the SQLite store shares: the database handle with its statements prepared
// once, and row schemas that parse a row at the boundary and name the table and column of a bad one.
import type Database from "better-sqlite3";
import { z } from "zod";
import { errorMessage, InfrastructureError } from "../errors.js";

/** A database handle whose statements are prepared once per text and reused. */
export class Sql {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  prepare(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Runs `work` in one immediate transaction (nested calls join the outer one). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}

export function timestamp(): string {
  return new Date().toISOString();
}

/**
 * A parser of one table's rows: checks the columns against `columns`, then shapes the record. A row that
 * does not fit throws, naming the table, the column and what it held.
 */
export function rowParser<Columns extends z.ZodRawShape, Shaped>(
  table: string,
  columns: Columns,
  toRecord: (row: z.output<z.ZodObject<Columns>>) => Shaped,
): (row: unknown) => Shaped {
  const schema = z.object(columns);
  return (row) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) throw badRow(table, parsed.error, row);
    return toRecord(parsed.data);
  };
}

function badRow(table: string, error: z.ZodError, row: unknown): InfrastructureError {
  const issue = error.issues[0];
  const column = String(issue?.path[0] ?? "?");
  const value = (row as Record<string, unknown> | null | undefined)?.[column];
  const shown = value === undefined ? "nothing" : JSON.stringify(value).slice(0, 80);
  return new InfrastructureError(
    "store-corrupt",
    `store table ${table}, column ${column}: ${issue?.message ?? "unreadable"} (holds ${shown})`,
    { data: { table, column }, cause: error },
  );
}

// ---- column types -----------------------------------------------------------------------------------------

/** A text column holding a branded id (the brand is a compile-time name, not a runtime check). */
export function idColumn<Id extends string>(): z.ZodType<Id, string> {
  return z.string() as unknown as z.ZodType<Id, string>;
}

/** A NOT NULL text column holding JSON. */
export function jsonText<Value>(): z.ZodType<Value, string> {
  return z.string().transform((text, context) => parseJson<Value>(text, context));
}

/** A text column holding JSON; `fallback` stands in for NULL. */
export function jsonColumn<Value>(fallback: Value): z.ZodType<Value, string | null> {
  return z
    .string()
    .nullable()
    .transform((text, context) => (text === null ? fallback : parseJson<Value>(text, context)));
}

function parseJson<Value>(text: string, context: z.RefinementCtx): Value {
  try {
    return JSON.parse(text) as Value;
  } catch (error) {
    context.addIssue({ code: "custom", message: `not JSON: ${errorMessage(error)}` });
    return z.NEVER;
  }
}

/** A column that later migrations added: a read-only store of an older schema has none (read as NULL). */
export function addedColumn<Value extends z.ZodType>(column: Value) {
  return column.nullish().transform((value) => value ?? null);
}

/** An INTEGER 0/1 column read as a boolean, NULL as null. */
export const booleanColumn = z
  .number()
  .nullish()
  .transform((value) => (value === null || value === undefined ? null : value === 1));

export const roleColumn = z.enum(["proposer", "solver"]);
export const outcomeColumn = z.enum(["valid", "invalid", "no-artifact", "error", "duplicate"]);
