// The built-in offline policy (no model): program-analysis proposer and search-based repair solver.

export { createBuiltinDemonstrator } from "./demo/demonstrator.js";
export { type BuiltinPolicyOptions, createBuiltinPolicy, packageVersion } from "./policy.js";
export { codeModelTestLocator } from "./test-locator.js";
