// The repository as the built-in policy sees it: code files and test files parsed by the code model,
// and which functions the tests exercise (named in test files, or in modules the tests import).
import type { SandboxView } from "../../ports/sandbox.js";
import {
  analyzeSource,
  type FunctionInfo,
  languageOfPath,
  type SourceAnalysis,
} from "../code-model/index.js";

export interface CodeBase {
  /** Parsed code files (never test files), sorted by path. */
  code: SourceAnalysis[];
  /** Parsed test files, sorted by path. */
  tests: SourceAnalysis[];
  /** Every identifier that appears in a test file. */
  testIdentifiers: Set<string>;
}

const MAX_FILES = 400;
const MAX_FILE_BYTES = 256 * 1024;
const EXCLUDED_SEGMENTS = new Set([
  "node_modules",
  ".git",
  "dist",
  "build",
  "vendor",
  "third_party",
  "venv",
  ".venv",
  "site-packages",
  "docs",
  "doc",
  "examples",
  "example",
  "bench",
  "benchmarks",
  "__pycache__",
]);

/** Heuristic for files that hold tests even when discovery did not list them. */
function looksLikeTestFile(path: string): boolean {
  const segments = path.split("/");
  const name = segments[segments.length - 1] ?? "";
  if (segments.slice(0, -1).some((segment) => /^(tests?|__tests__|spec|specs|testing)$/.test(segment)))
    return true;
  return (
    /^test_.*\.py$/.test(name) ||
    /_test\.(py|go)$/.test(name) ||
    name === "conftest.py" ||
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(name)
  );
}

/** A file the proposer may break and the solver may repair. */
export function isCodeFile(path: string, testFiles: ReadonlySet<string>): boolean {
  if (testFiles.has(path) || looksLikeTestFile(path)) return false;
  if (!languageOfPath(path)) return false;
  const segments = path.split("/");
  if (segments.some((segment) => EXCLUDED_SEGMENTS.has(segment) || segment.startsWith("."))) return false;
  const name = segments[segments.length - 1] ?? "";
  return !/^(setup|conftest|noxfile|fabfile)\.py$/.test(name) && !/\.(config|conf)\.[cm]?[jt]s$/.test(name);
}

/** Repository files as git knows them (tracked and untracked, ignored ones left out). */
async function listRepositoryFiles(sandbox: SandboxView, abortSignal?: AbortSignal): Promise<string[]> {
  const result = await sandbox.run({
    command:
      "git ls-files --cached --others --exclude-standard -z 2>/dev/null || find . -type f -not -path './.git/*' -print0",
    timeoutMs: 60_000,
    maxOutputBytes: 16 * 1024 * 1024,
    abortSignal,
  });
  return [...new Set(result.stdout.split("\0").map((path) => path.replace(/^\.\//, "")))]
    .filter((path) => path.length > 0)
    .sort();
}

const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

export function identifiersOf(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

/**
 * Reads many text files with one command (a sandbox round trip can cost a second on a loaded Docker
 * engine): each file is printed as NUL, path, NUL, content, with NULs dropped from the content.
 */
async function readTextFiles(
  sandbox: SandboxView,
  paths: readonly string[],
  abortSignal?: AbortSignal,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (paths.length === 0) return files;
  const result = await sandbox.run({
    command: `while IFS= read -r -d '' f; do [ -f "$f" ] || continue; printf '\\0%s\\0' "$f"; head -c ${MAX_FILE_BYTES + 1} -- "$f" | tr -d '\\000'; done`,
    stdin: `${paths.join("\0")}\0`,
    timeoutMs: 120_000,
    maxOutputBytes: 256 * 1024 * 1024,
    abortSignal,
  });
  const parts = result.stdout.split("\0");
  for (let index = 1; index + 1 < parts.length; index += 2) {
    const content = parts[index + 1]!;
    if (content.length <= MAX_FILE_BYTES) files.set(parts[index]!, content);
  }
  return files;
}

async function analyzeFiles(
  sandbox: SandboxView,
  paths: readonly string[],
  abortSignal?: AbortSignal,
): Promise<SourceAnalysis[]> {
  const texts = await readTextFiles(sandbox, paths, abortSignal);
  const analyses: SourceAnalysis[] = [];
  for (const path of paths) {
    const text = texts.get(path);
    if (text === undefined) continue; // listed but unreadable (a dangling symlink): nothing to mutate there
    const analysis = await analyzeSource({ path, text });
    if (analysis && !analysis.hasSyntaxErrors) analyses.push(analysis);
  }
  return analyses;
}

/** Reads and parses the repository's code and test files from inside the sandbox. */
export async function loadCodeBase(
  sandbox: SandboxView,
  options: { testFiles: readonly string[]; abortSignal?: AbortSignal },
): Promise<CodeBase> {
  const testFileSet = new Set(options.testFiles);
  const files = await listRepositoryFiles(sandbox, options.abortSignal);
  const codePaths = files.filter((path) => isCodeFile(path, testFileSet)).slice(0, MAX_FILES);
  const testPaths = options.testFiles.filter((path) => languageOfPath(path));
  const code = await analyzeFiles(sandbox, codePaths, options.abortSignal);
  const tests = await analyzeFiles(sandbox, testPaths, options.abortSignal);
  const testIdentifiers = new Set<string>();
  for (const test of tests)
    for (const identifier of identifiersOf(test.text)) testIdentifiers.add(identifier);
  return { code, tests, testIdentifiers };
}

function moduleNameOf(path: string): string {
  const name = path.split("/").pop() ?? path;
  const base = name.replace(/\.[^.]+$/, "");
  return base === "__init__" || base === "index" ? (path.split("/").slice(-2, -1)[0] ?? base) : base;
}

interface ExercisedFunction {
  fn: FunctionInfo;
  /** 2 when the tests name the function (or its class), 1 when they import its module or reach it by calls. */
  weight: number;
}

/** Tests that import their package's entry point by directory (`require('..')`, `from '../'`). */
const DIRECTORY_IMPORT = /(require\(|from\s+|import\()\s*["'](\.{1,2}\/?)+["']/;

function isEntryFile(path: string): boolean {
  return /^(index\.[cm]?[jt]sx?|__init__\.py)$/.test(path.split("/").pop() ?? "");
}

/**
 * Non-test functions the tests exercise, in a stable order (file, then position): those the tests name
 * (weight 2) or whose module they import (1), the entry file's when tests import the package by directory
 * (1), and every function those reach through calls by name within the repository (1): a call graph, so
 * helpers the tests never name are candidates too.
 */
export function exercisedFunctions(codeBase: CodeBase): ExercisedFunction[] {
  const weights = new Map<FunctionInfo, number>();
  const entryImported = codeBase.tests.some((test) => DIRECTORY_IMPORT.test(test.text));
  for (const file of codeBase.code) {
    const moduleNamed =
      codeBase.testIdentifiers.has(moduleNameOf(file.path)) || (entryImported && isEntryFile(file.path));
    for (const fn of file.functions) {
      if (fn.isTest) continue;
      const named =
        codeBase.testIdentifiers.has(fn.name) ||
        (fn.className !== null && codeBase.testIdentifiers.has(fn.className) && !fn.name.startsWith("_"));
      const weight = named ? 2 : moduleNamed ? 1 : 0;
      if (weight > 0) weights.set(fn, weight);
    }
  }
  const byName = new Map<string, FunctionInfo[]>();
  for (const file of codeBase.code)
    for (const fn of file.functions)
      if (!fn.isTest) byName.set(fn.name, [...(byName.get(fn.name) ?? []), fn]);
  const queue = [...weights.keys()];
  while (queue.length > 0) {
    const caller = queue.shift()!;
    for (const name of identifiersOf(caller.body.text)) {
      for (const callee of byName.get(name) ?? []) {
        if (weights.has(callee)) continue;
        weights.set(callee, 1);
        queue.push(callee);
      }
    }
  }
  const results: ExercisedFunction[] = [];
  for (const file of codeBase.code)
    for (const fn of file.functions) {
      const weight = weights.get(fn);
      if (weight !== undefined) results.push({ fn, weight });
    }
  return results;
}
