// The built-in offline policy (no model): program-analysis proposer and search-based repair solver.
export { type BuiltinPolicyOptions, createBuiltinPolicy, packageVersion } from "./policy.js";
export {
  parseStackFrames,
  type StackFrame,
  type SuspiciousLine,
  suspiciousLines,
} from "./repair/localisation.js";
export { createSeededRandom, type SeededRandom } from "./strategies/seeded-random.js";
export { type Weakening, weakenTests } from "./weakening/weaken-tests.js";
