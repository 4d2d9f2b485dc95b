// Node projects: package.json's test script and dependencies name Vitest, Jest, Mocha, tape or `node --test`;
// without them, test files that import "node:test" mean Node's built-in runner.
import { parse as parseYaml } from "yaml";
import { globMatcher, matchesAny } from "./glob.js";
import { type Detection, IGNORED_DIRECTORIES, type Probe } from "./probe.js";
import type { ScriptPlan } from "./scripts.js";
import { commandSegments } from "./shell-words.js";
import type { TestFramework, TestLanguage } from "./types.js";

type JavascriptFramework = Extract<TestFramework, "vitest" | "jest" | "mocha" | "tape" | "node-test">;

interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  jest?: { testMatch?: unknown };
  mocha?: { spec?: unknown; recursive?: unknown };
}

const DEFAULT_GLOBS: Record<JavascriptFramework, string[]> = {
  jest: ["**/__tests__/**/*.[jt]s?(x)", "**/?(*.)+(spec|test).[jt]s?(x)"],
  vitest: ["**/*.{test,spec}.?(c|m)[jt]s?(x)"],
  mocha: ["test/*.{js,cjs,mjs}"],
  tape: ["test/**/*.{js,cjs,mjs}", "tests/**/*.{js,cjs,mjs}", "test.{js,cjs,mjs}"],
  "node-test": [
    "**/*.test.?(c|m)js",
    "**/*-test.?(c|m)js",
    "**/*_test.?(c|m)js",
    "**/test-*.?(c|m)js",
    "**/test.?(c|m)js",
    "**/test/**/*.?(c|m)js",
  ],
};

const RUNNER_WORDS: Record<Exclude<JavascriptFramework, "node-test">, RegExp> = {
  vitest: /(^|\/)vitest$/,
  jest: /(^|\/)jest$/,
  mocha: /(^|\/)(mocha|_mocha)$/,
  tape: /(^|\/)tape$/,
};

/** Flags that take a value as the next word (in any of the runners). */
const VALUE_FLAGS = new Set([
  "--config",
  "-c",
  "--reporter",
  "-R",
  "--reporter-option",
  "--reporter-options",
  "-O",
  "--outputFile",
  "--import",
  "--require",
  "-r",
  "--loader",
  "--experimental-loader",
  "--project",
  "--dir",
  "--root",
  "--spec",
  "--ignore",
  "--extension",
  "--ui",
  "-u",
  "--timeout",
  "-t",
  "--file",
  "--testTimeout",
  "--env",
  "--testNamePattern",
  "--selectProjects",
]);
/** Flags that choose reporters, watching, coverage or output: the test script sets its own. */
const DROPPED_FLAGS =
  /^(--reporter|-R|--reporters|--reporter-options?|-O|--outputFile|--json|--watch|--watchAll|-w|--coverage|--collectCoverage|--ci|--colors?|--no-colors?|--silent|--verbose|--run|--test|--test-reporter|--test-reporter-destination|--test-only|--passWithNoTests|--bail|-b|--parallel|-p)(=.*)?$/;

interface RunnerCommand {
  framework: JavascriptFramework;
  environment: string[];
  /** Words after the runner (jest/vitest/mocha) or the node flags (node-test). */
  flags: string[];
  positional: string[];
}

/** Splits the words after a runner into kept flags (with their values) and positional paths/globs. */
function splitArguments(words: readonly string[]): { flags: string[]; positional: string[] } {
  const flags: string[] = [];
  const positional: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    if (word === "run" || word === "watch") continue;
    if (word.startsWith("-")) {
      const takesValue = VALUE_FLAGS.has(word) && index + 1 < words.length;
      const value = takesValue ? words[++index]! : null;
      if (DROPPED_FLAGS.test(word)) continue;
      flags.push(word);
      if (value !== null) flags.push(value);
      continue;
    }
    positional.push(word);
  }
  return { flags, positional };
}

/** Coverage tools that run the command after their own `--flag=value` words (`nyc --reporter=text tape`). */
const COVERAGE_TOOLS = /^(?:\S*\/)?(nyc|c8)$/;

/** Which runner a package.json test command calls, and how. */
export function parseTestCommand(command: string): RunnerCommand | null {
  for (const segment of commandSegments(command)) {
    const environment: string[] = [];
    let index = 0;
    while (index < segment.length) {
      const word = segment[index]!;
      if (/^[A-Za-z_]\w*=/.test(word)) environment.push(word);
      else if (COVERAGE_TOOLS.test(word)) while (segment[index + 1]?.startsWith("-")) index++;
      else if (!["cross-env", "npx", "env"].includes(word)) break;
      index++;
    }
    const runner = segment[index];
    if (!runner) continue;
    for (const [framework, pattern] of Object.entries(RUNNER_WORDS) as [JavascriptFramework, RegExp][]) {
      if (pattern.test(runner))
        return { framework, environment, ...splitArguments(segment.slice(index + 1)) };
    }
    if (/(^|\/)node$/.test(runner) && segment.includes("--test")) {
      const { flags, positional } = splitArguments(segment.slice(index + 1));
      return { framework: "node-test", environment, flags, positional };
    }
  }
  return null;
}

/** Programs that run the rest of their command line (coverage tools, npx): the runner comes after them. */
const WRAPPERS = new Set(["nyc", "c8", "istanbul", "cross-env", "npx", "env"]);
/** Programs that run no tests themselves: linters, compilers, package managers, shell built-ins. */
const NOT_RUNNERS = new Set([
  "eslint",
  "standard",
  "xo",
  "tsc",
  "prettier",
  "biome",
  "npm",
  "yarn",
  "pnpm",
  "node",
  "echo",
  "exit",
  "true",
]);

/** The first program of a test command that could be a test runner, by base name (e.g. `tape`). */
function runnerOf(command: string): string | null {
  for (const segment of commandSegments(command)) {
    for (const word of segment) {
      if (/^[A-Za-z_]\w*=/.test(word) || word.startsWith("-")) continue;
      const program = word.split("/").pop() ?? word;
      if (WRAPPERS.has(program)) continue;
      if (!NOT_RUNNERS.has(program)) return program;
      break;
    }
  }
  return null;
}

/** Follows `npm run x` / `yarn x` / `pnpm run x` indirections to the script that calls a runner. */
export function resolveTestCommand(
  scripts: Record<string, string>,
  name: string,
  depth = 0,
): RunnerCommand | null {
  const command = scripts[name];
  if (command === undefined || depth > 4) return null;
  const direct = parseTestCommand(command);
  if (direct) return direct;
  for (const segment of commandSegments(command)) {
    const [tool, first, second] = segment;
    if (tool !== "npm" && tool !== "yarn" && tool !== "pnpm") continue;
    const target = first === "run" || first === "run-script" ? second : first;
    if (target && target !== name) {
      const resolved = resolveTestCommand(scripts, target, depth + 1);
      if (resolved) return resolved;
    }
  }
  return null;
}

function languageOf(files: readonly string[]): TestLanguage {
  const typescript = files.filter((file) => /\.[cm]?tsx?$/.test(file)).length;
  return typescript * 2 > files.length ? "typescript" : "javascript";
}

function filesFor(
  probe: Probe,
  framework: JavascriptFramework,
  runner: RunnerCommand | null,
  packageJson: PackageJson,
): string[] {
  const candidates = probe.files.filter(
    (path) => !IGNORED_DIRECTORIES.test(path) && /\.[cm]?[jt]sx?$/.test(path),
  );
  let globs = DEFAULT_GLOBS[framework];
  if (
    framework === "node-test" &&
    runner?.flags.some((flag) => /tsx|ts-node|strip-types|transform-types/.test(flag))
  ) {
    globs = [...globs, ...globs.map((glob) => glob.replace("?(c|m)js", "?(c|m)ts"))];
  }
  if (framework === "jest" && Array.isArray(packageJson.jest?.testMatch)) {
    globs = packageJson.jest.testMatch
      .filter((glob): glob is string => typeof glob === "string")
      .map((glob) => glob.replace(/^<rootDir>\//, ""));
  }
  const recursive = runner?.flags.includes("--recursive") || packageJson.mocha?.recursive === true;
  let positional = runner?.positional ?? [];
  if (framework === "mocha" && positional.length === 0 && packageJson.mocha?.spec) {
    positional = ([] as unknown[])
      .concat(packageJson.mocha.spec)
      .filter((spec): spec is string => typeof spec === "string");
  }
  if (framework === "mocha" && recursive) globs = ["test/**/*.{js,cjs,mjs}"];
  if (positional.length === 0) return candidates.filter((path) => matchesAny(path, globs));
  const selected = new Set<string>();
  for (const argument of positional) {
    const clean = argument.replace(/^\.\//, "").replace(/\/$/, "");
    if (probe.has(clean)) {
      selected.add(clean);
      continue;
    }
    const isDirectory = candidates.some((path) => path.startsWith(`${clean}/`));
    const matcher = isDirectory ? null : globMatcher(clean);
    for (const path of candidates) {
      if (
        matcher
          ? matcher(path)
          : path.startsWith(`${clean}/`) &&
            (framework !== "mocha" || recursive || !path.slice(clean.length + 1).includes("/"))
      ) {
        // A directory given to jest/vitest/node narrows the default patterns; mocha runs what it is given.
        if (isDirectory && framework !== "mocha" && !matchesAny(path, globs)) continue;
        selected.add(path);
      }
    }
  }
  // Positional words may be values of flags we do not know (`--maxWorkers 2`): select nothing, use defaults.
  if (selected.size === 0) return candidates.filter((path) => matchesAny(path, globs));
  return [...selected].sort();
}

async function importsNodeTest(probe: Probe, files: readonly string[]): Promise<boolean> {
  const importing = await probe.filesContaining(`["']node:test["']`, files);
  return importing.length > 0;
}

const MOCHA_CONFIG_FILES = [".mocharc.json", ".mocharc.jsonc", ".mocharc.yml", ".mocharc.yaml"];

/** Mocha's `spec` and `recursive` from a .mocharc file (JSON or YAML) into the package.json shape. */
async function readMochaConfig(probe: Probe, packageJson: PackageJson): Promise<void> {
  if (packageJson.mocha) return;
  for (const file of MOCHA_CONFIG_FILES) {
    const text = await probe.read(file);
    if (text === null) continue;
    try {
      const config = parseYaml(text.replace(/^\s*\/\/.*$/gm, "")) as PackageJson["mocha"];
      if (config && typeof config === "object") packageJson.mocha = config;
    } catch {
      probe.lookedAt.push(`${file} is not valid JSON or YAML`);
    }
    return;
  }
}

/** The runner's executable in node_modules/.bin, or why the repository cannot use it. */
async function installedBinary(probe: Probe, framework: JavascriptFramework): Promise<string | Detection> {
  const binary = `node_modules/.bin/${framework}`;
  const present = await probe.run(`test -x ${binary}`);
  if (present.status === "exited" && present.exitCode === 0) return binary;
  return {
    status: "unusable",
    framework,
    reason: `package.json names ${framework} but ${binary} is missing (are the dependencies installed?)`,
  };
}

export async function detectJavascript(probe: Probe): Promise<Detection | null> {
  const text = await probe.read("package.json");
  if (text === null) return null;
  let packageJson: PackageJson;
  try {
    packageJson = JSON.parse(text) as PackageJson;
  } catch {
    probe.lookedAt.push("package.json is not valid JSON");
    return null;
  }
  const runner = resolveTestCommand(packageJson.scripts ?? {}, "test");
  const dependencies = { ...packageJson.dependencies, ...packageJson.devDependencies };
  let framework: JavascriptFramework | null = runner?.framework ?? null;
  for (const candidate of ["vitest", "jest", "mocha", "tape"] as const) {
    if (!framework && candidate in dependencies) framework = candidate;
  }
  if (!framework) {
    const nodeCandidates = filesFor(probe, "node-test", null, packageJson);
    if (nodeCandidates.length > 0 && (await importsNodeTest(probe, nodeCandidates))) framework = "node-test";
  }
  if (!framework) {
    const script = packageJson.scripts?.test;
    const named = script === undefined ? null : runnerOf(script);
    if (script === undefined || named === null) return null;
    return {
      status: "unusable",
      reason: `${named} is not supported yet: package.json's test script is \`${script}\` (supported runners: vitest, jest, mocha, tape, node --test)`,
    };
  }
  if (framework === "mocha") await readMochaConfig(probe, packageJson);
  const testFiles = filesFor(probe, framework, runner?.framework === framework ? runner : null, packageJson);
  if (testFiles.length === 0) {
    return {
      status: "unusable",
      framework,
      reason: `package.json points to ${framework} but no test files match its patterns`,
    };
  }
  const kept = runner?.framework === framework ? runner : null;
  const plan: ScriptPlan = {
    framework,
    workdir: probe.sandbox.workdir,
    environment: kept?.environment ?? [],
  };
  if (framework === "node-test") {
    const version = await probe.run("node --version");
    if (version.status !== "exited" || version.exitCode !== 0) {
      return { status: "unusable", framework, reason: "the tests use node --test but node is not installed" };
    }
    plan.nodeFlags = kept?.flags ?? [];
    plan.files = testFiles;
  } else if (framework === "tape") {
    const binary = await installedBinary(probe, framework);
    if (typeof binary !== "string") return binary;
    // One file per run, so the ids can name it: the command's flags (`-r babel-register`) stay, its globs go.
    Object.assign(plan, { binary, arguments: kept?.flags ?? [], files: testFiles });
  } else {
    const binary = await installedBinary(probe, framework);
    if (typeof binary !== "string") return binary;
    plan.binary = binary;
    plan.arguments = [...(kept?.flags ?? []), ...(kept?.positional ?? [])];
  }
  return { status: "usable", framework, language: languageOf(testFiles), plan, testFiles };
}
