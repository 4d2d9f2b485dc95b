// SWE-bench-style instances with the default problem statement, a template that ships beside this module.
import {
  renderProblemStatement,
  type SweBenchInput,
  type SweBenchInstance,
  sweBenchInstance,
} from "../artifact/index.js";
import { assetText } from "../assets.js";

/** Renders the default problem statement: a fixed text around the diff that restores the tests. */
function defaultProblemStatement(testPatch: string): string {
  return renderProblemStatement(assetText(import.meta.url, "problem-statement.md"), testPatch);
}

/** The instance for an artifact, with the default problem statement unless the input brings one. */
export function toSweBenchInstance(input: SweBenchInput): SweBenchInstance {
  return sweBenchInstance(input, defaultProblemStatement);
}
