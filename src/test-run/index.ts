// Running a test suite in a sandbox: test_script.sh, then test_parser.py on its output, as a typed TestRun.
// A shared domain piece: validation and grading build on it, and so does the builtin policy's proposer.

export type { RunTestSuiteOptions, TreeEdits } from "./options.js";
export { interpretParserOutput, type ParsedOutput } from "./parser-output.js";
export { runTestSuite } from "./run-test-suite.js";
