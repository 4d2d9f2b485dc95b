// Python: pytest when it is installed (configuration in pytest.ini, pyproject.toml, setup.cfg or tox.ini,
// conftest.py files, or test_*.py / *_test.py files; test files from `pytest --collect-only`, else from
// name patterns), otherwise unittest's own discovery.
import { type Detection, IGNORED_DIRECTORIES, type Probe } from "./probe.js";
import type { ScriptPlan } from "./scripts.js";

const TEST_FILE = /(^|\/)(test_[^/]*|[^/]*_test)\.py$/;
const TEST_DIRECTORY = /(^|\/)(tests?|testing)\//;
/** unittest's default discovery pattern, test*.py. */
const UNITTEST_FILE = /(^|\/)test[^/]*\.py$/;

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
  const unittestCandidates = probe.files.filter(
    (path) => UNITTEST_FILE.test(path) && !IGNORED_DIRECTORIES.test(path),
  );
  const conftest = probe.files.some(
    (path) => /(^|\/)conftest\.py$/.test(path) && !IGNORED_DIRECTORIES.test(path),
  );
  const configured = await hasPytestConfiguration(probe);
  if (!configured && !conftest && patternFiles.length === 0 && unittestCandidates.length === 0) return null;
  const allowed = (framework: "pytest" | "unittest") =>
    probe.options.frameworks === undefined || probe.options.frameworks.includes(framework);
  const reasons: string[] = [];
  if (allowed("pytest")) {
    const pytest = await detectPytest(probe, patternFiles);
    if (pytest.status === "usable") return pytest;
    reasons.push(pytest.reason);
  }
  if (allowed("unittest")) {
    const unittest = await detectUnittest(probe, unittestCandidates);
    if (unittest.status === "usable") return unittest;
    reasons.push(unittest.reason);
  }
  if (reasons.length === 0) return null;
  return {
    status: "unusable",
    framework: allowed("pytest") ? "pytest" : "unittest",
    reason: reasons.join("; "),
  };
}

async function detectPytest(probe: Probe, patternFiles: readonly string[]): Promise<Detection> {
  const python = await findPytest(probe);
  if (!python) {
    return {
      status: "unusable",
      framework: "pytest",
      reason:
        "the repository has Python tests but pytest is not installed for the sandbox's python (tried python3 -m pytest, python -m pytest); install it for that interpreter, e.g. apt-get install python3-pytest for the system's /usr/bin/python3",
    };
  }
  const collected = probe.options.collect === false ? [] : await collectedFiles(probe, python);
  // With --doctest-modules in the configuration, code modules are collected too: they are not test files.
  const testLike = collected.filter((path) => TEST_FILE.test(path) || TEST_DIRECTORY.test(path));
  const testFiles = testLike.length > 0 ? testLike : collected.length > 0 ? collected : [...patternFiles];
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

/**
 * unittest's own discovery, for repositories whose environment has no pytest: files named test*.py that
 * use unittest, run from each top-level directory (the first directory above them that is not a package).
 */
async function detectUnittest(probe: Probe, candidates: readonly string[]): Promise<Detection> {
  let python: string | null = null;
  for (const candidate of ["python3", "python"]) {
    const result = await probe.run(`${candidate} -c "import unittest"`);
    if (result.status === "exited" && result.exitCode === 0) {
      python = candidate;
      break;
    }
  }
  if (!python) {
    return {
      status: "unusable",
      framework: "unittest",
      reason: "the repository has Python tests but no Python interpreter runs",
    };
  }
  const testFiles = await probe.filesContaining("unittest|TestCase", candidates);
  if (testFiles.length === 0) {
    return { status: "unusable", framework: "unittest", reason: "no test*.py file uses unittest" };
  }
  const directories = new Set<string>();
  for (const file of testFiles) {
    let directory = parentDirectory(file);
    while (directory !== "." && probe.has(`${directory}/__init__.py`)) directory = parentDirectory(directory);
    directories.add(directory);
  }
  const plan: ScriptPlan = {
    framework: "unittest",
    workdir: probe.sandbox.workdir,
    python,
    directories: [...directories].sort(),
  };
  return {
    status: "usable",
    framework: "unittest",
    language: "python",
    plan,
    testFiles: [...testFiles].sort(),
  };
}

function parentDirectory(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash);
}
