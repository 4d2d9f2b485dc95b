// Code model of the built-in policy: tree-sitter parses of Python, JavaScript, TypeScript, Go and Rust
// into functions, statements, expressions and test cases, and test ids mapped back to their definitions.
export { analyzeSource, analyzeSources } from "./analyze.js";
export { languageOfPath } from "./language.js";
export { locateTest, parseTestId } from "./locate-test.js";
export type * from "./types.js";
