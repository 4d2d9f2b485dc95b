// The test harness of every framework we know, in one place: configuration, plugin and bootstrap files that
// decide which tests run and how their outcomes are reported. Grading and validation pin them (pinning.ts),
// so a patch cannot change the referee; together with test_files.txt they are an artifact's oracle.

export type HarnessGroup =
  | "pytest"
  | "unittest"
  | "python"
  | "jest"
  | "vitest"
  | "mocha"
  | "javascript"
  | "go"
  | "cargo"
  | "any";

export interface HarnessRule {
  /** Matches a repository-relative path (forward slashes, no leading "./"). */
  pattern: RegExp;
  /** Why the file is harness, for documentation and reports. */
  why: string;
}

/** A file with this name at any depth. */
const anywhere = (name: string) => new RegExp(`(^|/)(?:${name})$`);
/** A file or directory with this name at the repository root (a module shadowing the runner). */
const atRoot = (name: string) => new RegExp(`^(?:${name})(/|$)`);
/** Everything under a directory with this name, at any depth. */
const under = (name: string) => new RegExp(`(^|/)(?:${name})/`);

export const HARNESS_FILES: Readonly<Record<HarnessGroup, readonly HarnessRule[]>> = {
  pytest: [
    { pattern: anywhere("conftest\\.py"), why: "hooks and fixtures for every test below it" },
    {
      pattern: anywhere("(pytest|\\.pytest|tox)\\.ini"),
      why: "pytest configuration (addopts, -p plugins, deselection)",
    },
    { pattern: anywhere("setup\\.cfg"), why: "[tool:pytest] configuration" },
    { pattern: anywhere("pyproject\\.toml"), why: "[tool.pytest.ini_options] configuration" },
    {
      pattern: atRoot("(pytest|_pytest|py|pluggy|iniconfig)(\\.py)?"),
      why: "a module shadowing the runner",
    },
  ],
  unittest: [{ pattern: atRoot("unittest(\\.py)?"), why: "a module shadowing the runner" }],
  python: [
    {
      pattern: anywhere("(sitecustomize|usercustomize)\\.py"),
      why: "code every Python process runs at start-up",
    },
    { pattern: /(^|\/)[^/]+\.pth$/, why: "start-up path and code hooks" },
    { pattern: under("site-packages"), why: "installed packages, the runner among them" },
    { pattern: atRoot("\\.?venv|\\.tox|\\.nox"), why: "virtual environments holding the runner" },
    { pattern: atRoot("noxfile\\.py"), why: "test session definitions" },
  ],
  jest: [
    { pattern: anywhere("jest\\.config\\.[a-z]+"), why: "Jest configuration" },
    { pattern: anywhere("(jest[.-]setup|setupTests)\\.[a-z]+"), why: "Jest setup files" },
  ],
  vitest: [
    {
      pattern: anywhere("(vitest\\.config|vitest\\.workspace|vite\\.config)(\\.[a-z]+)+"),
      why: "Vitest configuration",
    },
    { pattern: anywhere("vitest[.-]setup\\.[a-z]+"), why: "Vitest setup files" },
  ],
  mocha: [
    { pattern: anywhere("\\.mocharc(\\.[a-z]+)?"), why: "Mocha configuration" },
    { pattern: anywhere("mocha\\.opts"), why: "Mocha options" },
  ],
  javascript: [
    { pattern: under("node_modules"), why: "installed packages, the runner and its .bin among them" },
    { pattern: anywhere("package\\.json"), why: "scripts and runner keys (jest, mocha, ...)" },
    {
      pattern: anywhere("(\\.babelrc(\\.[a-z]+)?|babel\\.config\\.[a-z]+|\\.swcrc)"),
      why: "transforms applied to test files",
    },
    { pattern: anywhere("tsconfig(\\.[^/]*)?\\.json"), why: "compilation of TypeScript tests" },
    { pattern: atRoot("\\.pnp\\.[a-z]+|\\.npmrc|\\.yarnrc(\\.[a-z]+)?"), why: "module resolution" },
    { pattern: anywhere("(ava\\.config\\.[a-z]+|\\.taprc)"), why: "runner configuration" },
  ],
  go: [
    { pattern: /(^|\/)[^/]+_test\.go$/, why: "test files beside the oracle (TestMain controls the run)" },
    { pattern: anywhere("go\\.(mod|sum|work|work\\.sum)"), why: "module replacements" },
    { pattern: atRoot("vendor"), why: "vendored dependencies, test libraries among them" },
  ],
  cargo: [
    { pattern: anywhere("build\\.rs"), why: "build scripts run before the tests" },
    { pattern: anywhere("Cargo\\.(toml|lock)"), why: "test targets, harness flags, dependencies" },
    { pattern: /(^|\/)\.cargo\/config(\.toml)?$/, why: "cargo configuration (runners, rustflags)" },
    { pattern: atRoot("rust-toolchain(\\.toml)?"), why: "the toolchain that runs the tests" },
  ],
  any: [{ pattern: atRoot("(GNUmakefile|[Mm]akefile)"), why: "test targets a script may call" }],
};

/**
 * Keys of a package.json (outside node_modules) that are harness; the rest of the file (dependencies,
 * exports, type) is code, so a patch keeps its other changes there.
 */
export const PACKAGE_JSON_HARNESS_KEYS: readonly string[] = [
  "scripts",
  "jest",
  "mocha",
  "ava",
  "c8",
  "nyc",
  "babel",
];

/** Whether a package.json at this path is pinned key by key rather than as a whole file. */
export function pinnedByKeys(path: string): boolean {
  return /(^|\/)package\.json$/.test(path) && !/(^|\/)node_modules\//.test(path);
}

/** The groups whose harness includes this path (empty when it is not harness). */
export function harnessGroupsOf(path: string): HarnessGroup[] {
  const groups: HarnessGroup[] = [];
  for (const [group, rules] of Object.entries(HARNESS_FILES) as [HarnessGroup, readonly HarnessRule[]][]) {
    if (rules.some((rule) => rule.pattern.test(path))) groups.push(group);
  }
  return groups;
}

/**
 * The harness paths among `paths`, whatever the framework of the run (it may be unknown: an LLM wrote the
 * test script), except oracle files, which follow their own rule (restored at grading, weakened on purpose).
 */
export function harnessPaths(paths: Iterable<string>, oracleFiles: Iterable<string>): string[] {
  const oracle = new Set(oracleFiles);
  const found = new Set<string>();
  for (const path of paths) {
    if (!oracle.has(path) && harnessGroupsOf(path).length > 0) found.add(path);
  }
  return [...found].sort();
}
