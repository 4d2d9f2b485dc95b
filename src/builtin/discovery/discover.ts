// Inspects a repository inside a sandbox and decides how its tests run: every detector reports what it
// found, and the usable one with the most test files wins.
import type { SandboxView } from "../../ports/sandbox.js";
import { detectGo, detectRust } from "./detect-go-rust.js";
import { detectJavascript } from "./detect-javascript.js";
import { detectPython } from "./detect-python.js";
import { createProbe, type Detection, type Probe } from "./probe.js";
import { parserSource, testScriptFor } from "./scripts.js";
import type { DiscoveryOptions, DiscoveryResult } from "./types.js";

const DETECTORS: readonly ((probe: Probe) => Promise<Detection | null>)[] = [
  detectJavascript,
  detectPython,
  detectGo,
  detectRust,
];

/** Config files whose absence is worth reporting when nothing is found. */
const LOOKED_FOR =
  "package.json (test script, jest/vitest/mocha/tape, node:test), pytest.ini, pyproject.toml, setup.cfg, tox.ini, conftest.py, test*.py, go.mod with *_test.go, Cargo.toml with #[test]";

export async function discoverTests(
  sandbox: SandboxView,
  options: DiscoveryOptions = {},
): Promise<DiscoveryResult> {
  const probe = await createProbe(sandbox, options);
  const detections: Detection[] = [];
  for (const detect of DETECTORS) {
    const detection = await detect(probe);
    if (
      detection &&
      (!options.frameworks || !detection.framework || options.frameworks.includes(detection.framework))
    ) {
      detections.push(detection);
    }
  }
  const usable = detections.filter((detection) => detection.status === "usable");
  // Most test files first; detector order (JavaScript, Python, Go, Rust) breaks ties.
  const best = usable.reduce<(typeof usable)[number] | null>(
    (chosen, detection) =>
      !chosen || detection.testFiles.length > chosen.testFiles.length ? detection : chosen,
    null,
  );
  if (!best) {
    const reasons = detections.flatMap((detection) =>
      detection.status === "unusable" ? [detection.reason] : [],
    );
    const why = reasons.length > 0 ? reasons.join("; ") : `none of ${LOOKED_FOR} was found`;
    return {
      status: "not-found",
      message: `could not find how to run the tests: ${why} (looked at: ${probe.lookedAt.join(", ")})`,
      lookedAt: probe.lookedAt,
    };
  }
  probe.lookedAt.push(`chose ${best.framework} with ${best.testFiles.length} test files`);
  return {
    status: "found",
    framework: best.framework,
    language: best.language,
    testScript: testScriptFor(best.plan),
    testParser: parserSource(best.framework),
    testFiles: [...best.testFiles].sort(),
    lookedAt: probe.lookedAt,
  };
}
