import { describe, expect, it } from "vitest";
import { interpretParserOutput } from "./parser-output.js";

describe("interpretParserOutput", () => {
  it("accepts one JSON object of test ids and the four statuses", () => {
    expect(interpretParserOutput('{"a": "passed", "b": "failed", "c": "skipped", "d": "error"}\n')).toEqual({
      status: "ok",
      results: { a: "passed", b: "failed", c: "skipped", d: "error" },
    });
  });
  it("reports silence and text that is not JSON as not-json", () => {
    expect(interpretParserOutput("  \n").status).toBe("not-json");
    const result = interpretParserOutput("PASSED a\n{}");
    expect(result.status).toBe("not-json");
    expect(result.status !== "ok" && result.message).toContain("PASSED a");
  });
  it("reports arrays, null, scalars and unknown statuses as wrong-shape, naming the offender", () => {
    expect(interpretParserOutput('["a"]').status).toBe("wrong-shape");
    expect(interpretParserOutput("null").status).toBe("wrong-shape");
    expect(interpretParserOutput("3").status).toBe("wrong-shape");
    const unknown = interpretParserOutput('{"a": "passed", "tests/x.py::t": "PASS"}');
    expect(unknown).toEqual({
      status: "wrong-shape",
      message: expect.stringContaining('"tests/x.py::t" has status "PASS"'),
    });
    expect(interpretParserOutput('{"a": true}').status).toBe("wrong-shape");
    expect(interpretParserOutput('{"": "passed"}').status).toBe("wrong-shape");
  });
  it("reports an empty object as empty", () => {
    expect(interpretParserOutput("{}").status).toBe("empty");
  });
});
