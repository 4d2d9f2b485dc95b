// The outcome of a diff transformation: the new diff text, or where and why the input is unusable.
import { InputError } from "../errors.js";

export type DiffResult = { status: "ok"; diff: string } | { status: "error"; line: number; message: string };

/** The diff of an ok result; an InputError naming `what` and the line otherwise. */
export function unwrapDiff(result: DiffResult, what = "diff"): string {
  if (result.status === "ok") return result.diff;
  throw new InputError("malformed-diff", `${what}, line ${result.line}: ${result.message}`, {
    data: { what, line: result.line },
  });
}
