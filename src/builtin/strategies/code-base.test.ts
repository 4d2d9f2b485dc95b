import { describe, expect, it } from "vitest";
import { analyzeSource, type SourceAnalysis } from "../code-model/index.js";
import { type CodeBase, exercisedFunctions, identifiersOf } from "./code-base.js";

async function analyse(path: string, text: string): Promise<SourceAnalysis> {
  return (await analyzeSource({ path, text }))!;
}

describe("exercisedFunctions", () => {
  it("follows calls from the package entry the tests require by directory to helpers they never name", async () => {
    const code = [
      await analyse(
        "index.js",
        "const { format } = require('./lib/helpers');\nmodule.exports = convert;\nfunction convert(value) {\n  return format(value);\n}\n",
      ),
      await analyse(
        "lib/helpers.js",
        "function format(value) {\n  return pad(String(value));\n}\nfunction pad(text) {\n  return ' ' + text;\n}\nmodule.exports = { format, pad };\n",
      ),
      await analyse("lib/other.js", "function unrelated() {\n  return 1;\n}\nmodule.exports = unrelated;\n"),
    ];
    const test = await analyse(
      "test/index.js",
      "var lib = require('..');\nit('converts', function () {\n  if (lib(1) !== ' 1') throw new Error('bad');\n});\n",
    );
    const codeBase: CodeBase = { code, tests: [test], testIdentifiers: identifiersOf(test.text) };
    const reached = exercisedFunctions(codeBase).map(({ fn, weight }) => `${fn.file}:${fn.name}:${weight}`);
    expect(reached).toEqual(["index.js:convert:1", "lib/helpers.js:format:1", "lib/helpers.js:pad:1"]);
    // Without the directory import nothing is exercised: the entry file is not named by the tests.
    const unnamed = await analyse("test/index.js", "var lib = require('some-package');\n");
    expect(
      exercisedFunctions({ ...codeBase, tests: [unnamed], testIdentifiers: identifiersOf(unnamed.text) }),
    ).toEqual([]);
  });
});
