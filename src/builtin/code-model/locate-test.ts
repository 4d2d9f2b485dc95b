// Maps a test id printed by a discovery parser back to the test case that defines it. Id shapes:
//   pytest      tests/test_x.py::TestClass::test_name[param-ids]   (unittest ids have the same shape)
//   node-test, tape, jest, vitest   test/x.test.js > outer describe > test title
//   mocha       test/x.spec.js > outer describe test title   (mocha only reports space-joined titles)
//   go          pkg/dir::TestName/subtest_name   ("." for the module root)
//   cargo       src/lib.rs::module::tests::test_name   (the target's source file, then the test path)
import type { FunctionInfo, SourceAnalysis, TestCase, TestFramework, TestLocation } from "./types.js";

/** A test id split into the file it names (when it names one), the nested names, and pytest-style parameters. */
interface ParsedTestId {
  file: string | null;
  /** Suite and test names, outermost first, parameters removed. */
  path: string[];
  /** The parameter part of a parametrized id, e.g. "1-2" of `test_x[1-2]`; null when absent. */
  parameters: string | null;
}

const JAVASCRIPT_SEPARATOR = " > ";

export function parseTestId(testId: string, framework: TestFramework): ParsedTestId {
  switch (framework) {
    case "pytest":
    case "unittest": {
      return splitPytestId(testId);
    }
    case "node-test":
    case "tape":
    case "jest":
    case "vitest": {
      const parts = testId.split(JAVASCRIPT_SEPARATOR);
      return { file: parts[0] ?? null, path: parts.slice(1), parameters: null };
    }
    case "mocha": {
      const at = testId.indexOf(JAVASCRIPT_SEPARATOR);
      if (at < 0) return { file: null, path: [testId], parameters: null };
      return {
        file: testId.slice(0, at),
        path: [testId.slice(at + JAVASCRIPT_SEPARATOR.length)],
        parameters: null,
      };
    }
    case "go": {
      const at = testId.indexOf("::");
      const name = at < 0 ? testId : testId.slice(at + 2);
      return { file: at < 0 ? null : testId.slice(0, at), path: name.split("/"), parameters: null };
    }
    case "cargo": {
      const parts = testId.split("::");
      const file = parts[0] ?? "";
      if (!/\.rs$/.test(file)) return { file: null, path: parts, parameters: null };
      return { file, path: parts.slice(1), parameters: null };
    }
  }
}

/** Splits a pytest node id into its file, names and parameters (parameters may contain "::" or "/"). */
function splitPytestId(testId: string): ParsedTestId {
  let parameters: string | null = null;
  let body = testId;
  const firstSeparator = testId.indexOf("::");
  const bracket = testId.indexOf("[", Math.max(firstSeparator, 0));
  if (bracket >= 0 && testId.endsWith("]")) {
    parameters = testId.slice(bracket + 1, -1);
    body = testId.slice(0, bracket);
  }
  const [file, ...names] = body.split("::");
  return {
    file: names.length > 0 ? (file ?? null) : null,
    path: names.length > 0 ? names : [file ?? ""],
    parameters,
  };
}

/** True when `file` (from an id) and `path` (of an analysis) name the same repository file. */
function sameFile(file: string, path: string): boolean {
  const a = file.replace(/^\.\//, "");
  const b = path.replace(/^\.\//, "");
  return a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);
}

function locationOf(testCase: TestCase): TestLocation {
  return { file: testCase.file, testCase, span: testCase.span };
}

function equalPaths(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** The definition of `testId` among `files`, or null when none matches. Pure. */
export function locateTest(
  testId: string,
  framework: TestFramework,
  files: readonly SourceAnalysis[],
): TestLocation | null {
  switch (framework) {
    case "pytest":
    case "unittest":
      return locatePytest(testId, files);
    case "node-test":
    case "tape":
    case "jest":
    case "vitest":
      return locateJavascript(testId, files, JAVASCRIPT_SEPARATOR);
    case "mocha":
      return locateJavascript(testId, files, " ");
    case "go":
      return locateGo(testId, files);
    case "cargo":
      return locateCargo(testId, files);
  }
}

function locatePytest(testId: string, files: readonly SourceAnalysis[]): TestLocation | null {
  const { file, path } = parseTestId(testId, "pytest");
  if (!file || path.length === 0) return null;
  const candidates = files.filter((analysis) => sameFile(file, analysis.path));
  for (const analysis of candidates) {
    const found = analysis.testCases.find((testCase) => equalPaths(testCase.path, path));
    if (found) return locationOf(found);
  }
  // Inherited test methods are reported under the subclass that collected them, and the base class may
  // not be a test class itself: fall back to a unique function of that name in the file.
  const leaf = path.at(-1);
  const byLeaf = candidates.flatMap((analysis) =>
    analysis.testCases.filter((testCase) => testCase.name === leaf),
  );
  if (byLeaf.length === 1) return locationOf(byLeaf[0]!);
  const functions = candidates.flatMap((analysis) =>
    analysis.functions.filter((candidate) => candidate.name === leaf && candidate.kind === "method"),
  );
  return functions.length === 1 ? locationOf(testCaseOf(functions[0]!)) : null;
}

/** A test method that only a subclass collects, described as the test case it defines there. */
function testCaseOf(method: FunctionInfo): TestCase {
  return {
    file: method.file,
    language: method.language,
    name: method.name,
    path: method.className ? [method.className, method.name] : [method.name],
    kind: "method",
    span: method.span,
    body: method.body,
    parametrized: method.span.text.includes("parametrize"),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A title of `test.each` or a template literal as a pattern: placeholders match any text. */
function titlePattern(title: string): RegExp {
  const placeholder = /%[sdifjoOpc#]|\$\{[^}]*\}|\$[A-Za-z_][\w.]*/g;
  let pattern = "";
  let last = 0;
  for (const match of title.matchAll(placeholder)) {
    pattern += escapeRegExp(title.slice(last, match.index)) + "[\\s\\S]*?";
    last = match.index + match[0].length;
  }
  pattern += escapeRegExp(title.slice(last));
  return new RegExp(`^${pattern}$`);
}

function locateJavascript(
  testId: string,
  files: readonly SourceAnalysis[],
  joiner: string,
): TestLocation | null {
  const candidates: { analysis: SourceAnalysis; rest: string }[] = [];
  // The file part cannot be split off reliably (titles may contain " > "), so try every analysed file.
  for (const analysis of files) {
    let at = testId.indexOf(JAVASCRIPT_SEPARATOR);
    while (at >= 0) {
      if (sameFile(testId.slice(0, at), analysis.path)) {
        candidates.push({ analysis, rest: testId.slice(at + JAVASCRIPT_SEPARATOR.length) });
        break;
      }
      at = testId.indexOf(JAVASCRIPT_SEPARATOR, at + 1);
    }
  }
  // Parsers that leave the file out ("suite > test", e.g. a plain TAP parser): match the whole id anywhere.
  if (candidates.length === 0) for (const analysis of files) candidates.push({ analysis, rest: testId });
  for (const { analysis, rest } of candidates) {
    const exact = analysis.testCases.find((testCase) => testCase.path.join(joiner) === rest);
    if (exact) return locationOf(exact);
  }
  for (const { analysis, rest } of candidates) {
    const patterned = analysis.testCases.find((testCase) => {
      const joined = testCase.path.join(joiner);
      return /[%$]/.test(joined) && titlePattern(joined).test(rest);
    });
    if (patterned) return locationOf(patterned);
  }
  return null;
}

/** `go test` rewrites subtest names: spaces become underscores; duplicates get "#01"-style suffixes. */
function goSubtestName(name: string): string {
  return name.replace(/\s/g, "_");
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash);
}

function locateGo(testId: string, files: readonly SourceAnalysis[]): TestLocation | null {
  const { file: directory, path } = parseTestId(testId, "go");
  const wanted = path.map((name, index) => (index === 0 ? name : goSubtestName(name).replace(/#\d+$/, "")));
  const inDirectory = files.filter(
    (analysis) =>
      directory === null ||
      directoryOf(analysis.path) === directory ||
      directory.endsWith(`/${directoryOf(analysis.path)}`) ||
      (directoryOf(analysis.path) === "." && !directory.includes("/")),
  );
  let best: TestCase | null = null;
  for (const analysis of inDirectory) {
    for (const testCase of analysis.testCases) {
      const names = testCase.path.map((name, index) => (index === 0 ? name : goSubtestName(name)));
      if (equalPaths(names, wanted)) return locationOf(testCase);
      // A subtest with a computed name is found through its enclosing test function.
      if (names.length === 1 && names[0] === wanted[0] && !best) best = testCase;
    }
  }
  return best ? locationOf(best) : null;
}

/** The module path a Rust file contributes inside its crate target (`src/a/b.rs` → ["a", "b"]). */
function rustModulePrefix(path: string): string[] {
  const match = /(?:^|\/)(src|tests|benches|examples)\/(.+)\.rs$/.exec(path);
  if (!match) return [];
  const parts = match[2]!.split("/");
  const last = parts.at(-1);
  if (last === "mod" || last === "lib" || last === "main") parts.pop();
  // A file directly under tests/ is its own crate root.
  if (match[1] === "tests" && parts.length === 1) return [];
  return match[1] === "tests" ? parts.slice(1) : parts;
}

function locateCargo(testId: string, files: readonly SourceAnalysis[]): TestLocation | null {
  const { file, path } = parseTestId(testId, "cargo");
  if (!file || path.length === 0) return null;
  const root = file.startsWith("tests/") ? directoryOf(file) : "src";
  const sameTarget = files.filter((analysis) =>
    file.startsWith("tests/")
      ? sameFile(file, analysis.path) || analysis.path.startsWith(`${file.slice(0, -3)}/`)
      : !analysis.path.startsWith("tests/"),
  );
  let bySuffix: TestCase | null = null;
  for (const analysis of sameTarget) {
    const prefix = root === "src" ? rustModulePrefix(analysis.path) : [];
    for (const testCase of analysis.testCases) {
      if (equalPaths([...prefix, ...testCase.path], path)) return locationOf(testCase);
      const tail = path.slice(path.length - testCase.path.length);
      if (!bySuffix && equalPaths(tail, testCase.path)) bySuffix = testCase;
    }
  }
  return bySuffix ? locationOf(bySuffix) : null;
}
