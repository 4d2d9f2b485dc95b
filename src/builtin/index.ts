// Placeholder: the built-in offline policy replaces this module.
import { InfrastructureError } from "../errors.js";
import type { Policy } from "../ports/policy.js";

export interface BuiltinPolicyOptions {
  /** Budget of test runs for the repair solver. */
  testRunBudget?: number;
}

export function createBuiltinPolicy(_options: BuiltinPolicyOptions = {}): Policy {
  throw new InfrastructureError("builtin-policy-missing", "the built-in policy is not available in this build");
}
