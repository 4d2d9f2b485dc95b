// The built-in offline policy: program-analysis proposer and search-based repair solver behind the Policy port.
import { assetText } from "../assets.js";
import { createLogger, type Logger } from "../log.js";
import type { Policy, PolicyInfo } from "../ports/policy.js";
import { createRepairSolver } from "./repair/repair-solver.js";
import { createProposer } from "./strategies/proposer.js";

export interface BuiltinPolicyOptions {
  /** Test runs per solver attempt, the first unrepaired run included [20]. */
  testRunBudget?: number;
  /** Candidates screened per proposer episode, one test run each [60]. */
  maxCandidates?: number;
  /** Artifacts self-validated per proposer episode before it gives up [4]. */
  maxValidations?: number;
  /** Share of removal/direct episodes that aim for a two-file bug [0.5]. */
  multiFileRate?: number;
  /** Probability that the solver leaves a candidate repair out of an attempt [0.25]; 0 makes attempts differ only in order. */
  explorationRate?: number;
  /** Limit of each solver test run [90 s]. */
  solverTestTimeoutMs?: number;
  logger?: Logger;
}

/** The package version, from the package's own package.json (two levels up in src/ and in dist/). */
export function packageVersion(): string {
  const manifest = JSON.parse(assetText(import.meta.url, "../../package.json")) as { version?: string };
  return manifest.version ?? "0.0.0";
}

export function createBuiltinPolicy(options: BuiltinPolicyOptions = {}): Policy {
  const info: PolicyInfo = { kind: "builtin", name: "builtin", version: packageVersion() };
  const logger = options.logger ?? createLogger("builtin");
  const proposer = createProposer({
    policy: info,
    maxCandidates: options.maxCandidates ?? 60,
    maxValidations: options.maxValidations ?? 4,
    multiFileRate: options.multiFileRate ?? 0.5,
    logger,
  });
  const solver = createRepairSolver({
    policy: info,
    testRunBudget: options.testRunBudget ?? 20,
    explorationRate: options.explorationRate ?? 0.25,
    testTimeoutMs: options.solverTestTimeoutMs ?? 90_000,
    logger,
  });
  return {
    info,
    propose: (request) => proposer.propose(request),
    solve: (request) => solver.solve(request),
  };
}
