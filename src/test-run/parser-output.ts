// What a test_parser.py printed, checked: exactly one JSON object mapping test ids to one of four statuses.
import type { TestResults, TestStatus } from "../ports/validation.js";

const STATUSES: ReadonlySet<string> = new Set<TestStatus>(["passed", "failed", "skipped", "error"]);

export type ParsedOutput =
  | { status: "ok"; results: TestResults }
  | { status: "not-json" | "wrong-shape" | "empty"; message: string };

/** Checks what a parser printed: exactly one JSON object mapping test ids to one of the four statuses. */
export function interpretParserOutput(stdout: string): ParsedOutput {
  const text = stdout.trim();
  if (text === "") return { status: "not-json", message: "the parser printed nothing" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      status: "not-json",
      message: `the parser output is not one JSON value (${(error as Error).message}); it starts with ${JSON.stringify(text.slice(0, 120))}`,
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    return {
      status: "wrong-shape",
      message: `the parser printed ${kind}, expected an object {test_id: status}`,
    };
  }
  const results: TestResults = {};
  for (const [id, status] of Object.entries(value)) {
    if (id.trim() === "") return { status: "wrong-shape", message: "the parser printed an empty test id" };
    if (typeof status !== "string" || !STATUSES.has(status)) {
      return {
        status: "wrong-shape",
        message: `test ${JSON.stringify(id)} has status ${JSON.stringify(status)}; expected "passed", "failed", "skipped" or "error"`,
      };
    }
    results[id] = status as TestStatus;
  }
  if (Object.keys(results).length === 0)
    return { status: "empty", message: "the parser found no tests ({})" };
  return { status: "ok", results };
}
