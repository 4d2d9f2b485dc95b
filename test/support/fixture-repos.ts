// Fixture repositories for tests: the example libraries rebuilt with their git history.
import { join } from "node:path";
import { buildExampleRepo } from "../../src/examples/build.js";

/** Name of the Python example (pytest) behind makePythonFixtureRepo. */
export const PYTHON_FIXTURE = "inkwell";
/** Name of the JavaScript example (node --test) behind makeNodeFixtureRepo. */
export const NODE_FIXTURE = "timespan";

/** Builds the Python example as `<parentDir>/inkwell` (a git repository with history) and returns its path. */
export function makePythonFixtureRepo(parentDir: string): Promise<string> {
  return buildExampleRepo(PYTHON_FIXTURE, join(parentDir, PYTHON_FIXTURE));
}

/** Builds the JavaScript example as `<parentDir>/timespan` (a git repository with history) and returns its path. */
export function makeNodeFixtureRepo(parentDir: string): Promise<string> {
  return buildExampleRepo(NODE_FIXTURE, join(parentDir, NODE_FIXTURE));
}
