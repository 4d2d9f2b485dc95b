// pytest: configuration in pytest.ini, pyproject.toml, setup.cfg or tox.ini, conftest.py files, or
// test_*.py / *_test.py files. Test files come from `pytest --collect-only`, else from name patterns.
import { type Detection, IGNORED_DIRECTORIES, type Probe } from "./probe.js";
import type { ScriptPlan } from "./scripts.js";

const TEST_FILE = /(^|\/)(test_[^/]*|[^/]*_test)\.py$/;
const TEST_DIRECTORY = /(^|\/)(tests?|testing)\//;

async function hasPytestConfiguration(probe: Probe): Promise<boolean> {
  const sections: [string, RegExp][] = [
    ["pytest.ini", /^\s*\[pytest\]/m],
    ["pyproject.toml", /^\s*\[tool\.pytest\.ini_options\]/m],
    ["setup.cfg", /^\s*\[tool:pytest\]/m],
    ["tox.ini", /^\s*\[pytest\]/m],
  ];
  let configured = false;
  for (const [file, section] of sections) {
    const text = await probe.read(file);
    if (text && section.test(text)) configured = true;
  }
  return configured;
}

async function findPytest(probe: Probe): Promise<string | null> {
  for (const python of ["python3", "python"]) {
    const result = await probe.run(`${python} -m pytest --version`, { timeoutMs: 60_000 });
    if (result.status === "exited" && result.exitCode === 0) return python;
  }
  return null;
}

/** Files that define collected tests, from `pytest --collect-only -q` node ids. */
async function collectedFiles(probe: Probe, python: string): Promise<string[]> {
  const result = await probe.run(
    `PYTHONDONTWRITEBYTECODE=1 ${python} -m pytest --collect-only -q -p no:cacheprovider --continue-on-collection-errors --rootdir=. 2>&1`,
    { timeoutMs: 300_000 },
  );
  const files = new Set<string>();
  for (const line of result.stdout.split("\n")) {
    const at = line.indexOf("::");
    if (at <= 0) continue;
    const file = line.slice(0, at).trim();
    if (file.endsWith(".py") && probe.has(file)) files.add(file);
  }
  return [...files].sort();
}

export async function detectPython(probe: Probe): Promise<Detection | null> {
  const patternFiles = probe.files.filter((path) => TEST_FILE.test(path) && !IGNORED_DIRECTORIES.test(path));
  const conftest = probe.files.some(
    (path) => /(^|\/)conftest\.py$/.test(path) && !IGNORED_DIRECTORIES.test(path),
  );
  const configured = await hasPytestConfiguration(probe);
  if (!configured && !conftest && patternFiles.length === 0) return null;
  const python = await findPytest(probe);
  if (!python) {
    return {
      status: "unusable",
      framework: "pytest",
      reason:
        "the repository has Python tests but pytest is not installed (tried python3 -m pytest, python -m pytest)",
    };
  }
  const collected = probe.options.collect === false ? [] : await collectedFiles(probe, python);
  // With --doctest-modules in the configuration, code modules are collected too: they are not test files.
  const testLike = collected.filter((path) => TEST_FILE.test(path) || TEST_DIRECTORY.test(path));
  const testFiles = testLike.length > 0 ? testLike : collected.length > 0 ? collected : patternFiles;
  if (testFiles.length === 0) {
    return {
      status: "unusable",
      framework: "pytest",
      reason: "pytest is configured but collects no test files",
    };
  }
  const plan: ScriptPlan = { framework: "pytest", workdir: probe.sandbox.workdir, python };
  return { status: "usable", framework: "pytest", language: "python", plan, testFiles };
}
