// Test discovery: finds how a repository runs its tests and writes test_script.sh, test_parser.py and
// test_files.txt for it (pytest, node --test, Jest, Vitest, Mocha, go test, cargo test).
export { discoverTests } from "./discover.js";
export { parserSource, testScriptFor } from "./scripts.js";
export type * from "./types.js";
