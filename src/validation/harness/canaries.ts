// Canaries: beside the oracle tests, each run plants one test that must fail and one that must pass, with
// names drawn at random per run. A run that reports the failing one as passed lies; a run that shows neither
// as planted cannot vouch for itself. Canary ids are stripped from results before anything else sees them.
import { randomBytes } from "node:crypto";
import type { TestResults, TestStatus } from "../../ports/validation.js";

export type CanaryLanguage = "python" | "javascript" | "go" | "rust";

/** One directory of oracle tests and the oracle file whose style a canary copies there. */
export interface CanarySite {
  language: CanaryLanguage;
  directory: string;
  sibling: string;
}

export interface PlantedCanaries {
  site: CanarySite;
  /** The file holding the canaries: a fresh file, or the sibling itself (JavaScript, Rust), appended to. */
  file: string;
  failing: string;
  passing: string;
}

export interface CanaryPlan {
  planted: PlantedCanaries[];
  files: { path: string; content: string; append: boolean }[];
}

export type CanaryVerdict =
  | { status: "none" }
  | { status: "vouched"; sites: number }
  /** A failing canary was reported passed or skipped: the run turns failures into successes. */
  | { status: "lying"; message: string }
  /** No site showed both canaries as planted (missing, or the passing one did not pass). */
  | { status: "unvouched"; message: string }
  /**
   * Both JavaScript canaries ran and failed wherever they were planted: they could not be planted in these
   * files (the file's assertion does not hold for them). The run says so and is judged without them.
   */
  | { status: "unplantable"; message: string };

/** At most this many directories get canaries: enough for every oracle directory of ordinary suites. */
const MAX_SITES = 8;
const JS_EXTENSIONS = /\.(m|c)?(j|t)sx?$/;

function languageOf(path: string): CanaryLanguage | null {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (name.endsWith(".py")) return name === "conftest.py" || name === "__init__.py" ? null : "python";
  if (name.endsWith("_test.go")) return "go";
  if (name.endsWith(".rs")) return "rust";
  if (JS_EXTENSIONS.test(name) && !name.endsWith(".d.ts")) return "javascript";
  return null;
}

/** Named like a test file of its language, so a fresh file named the same way is collected too. */
function looksLikeTest(name: string): boolean {
  return /(^test|_test\.|[._-](test|spec)\.)/.test(name);
}

/**
 * Where canaries go. Python and Go: one fresh file per directory of oracle tests (one process runs them all,
 * a Go package per directory). JavaScript runners give each test file a process or module registry of its
 * own, and Rust compiles only declared modules, so there the canaries are appended to every oracle file:
 * whatever the code under test does to that file's process, it does to the canaries.
 */
export function canarySites(oracleFiles: readonly string[]): CanarySite[] {
  const sites = new Map<string, CanarySite>();
  const ordered = [...oracleFiles].sort((left, right) => {
    const score = (path: string) => (looksLikeTest(path.slice(path.lastIndexOf("/") + 1)) ? 0 : 1);
    return score(left) - score(right) || left.localeCompare(right);
  });
  for (const path of ordered) {
    const language = languageOf(path);
    if (language === null) continue;
    const directory = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
    const appended = language === "javascript" || language === "rust";
    const key = appended ? `${language}\u0000${path}` : `${language}\u0000${directory}`;
    if (!sites.has(key)) sites.set(key, { language, directory, sibling: path });
  }
  return [...sites.values()]
    .sort((left, right) => left.sibling.localeCompare(right.sibling))
    .slice(0, MAX_SITES);
}

/** Siblings whose content decides how a canary is written (module style, runner, assertions, package clause). */
export function siblingsToRead(sites: readonly CanarySite[]): string[] {
  return sites
    .filter((site) => site.language === "javascript" || site.language === "go")
    .map((site) => site.sibling);
}

/** A random identifier: a letter, then lowercase letters and digits. */
export function randomToken(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(12);
  let token = alphabet[bytes[0]! % 26]!;
  for (const byte of bytes.subarray(1)) token += alphabet[byte % alphabet.length];
  return token;
}

function join(directory: string, name: string): string {
  return directory === "" ? name : `${directory}/${name}`;
}

/** A fresh file name beside the sibling that the sibling's naming pattern (and so the runner) accepts. */
function freshName(sibling: string, stem: string): string {
  const name = sibling.slice(sibling.lastIndexOf("/") + 1);
  const dotted = /^.+?\.(test|spec)(\..+)$/.exec(name);
  if (dotted) return `${stem}.${dotted[1]}${dotted[2]}`;
  const suffixed = /^.+?[_-](test|spec)(\..+)$/.exec(name);
  if (suffixed) return `${stem}_${suffixed[1]}${suffixed[2]}`;
  const extension = name.slice(name.lastIndexOf("."));
  if (/^test/.test(name) || extension === ".py") return `test_${stem}${extension}`;
  return `${stem}${extension}`;
}

function pythonCanary(className: string, failing: string, passing: string, [a, b]: [number, number]) {
  return [
    "import unittest",
    "",
    "",
    `class Test${className}(unittest.TestCase):`,
    `    def test_${failing}(self):`,
    `        self.assertEqual(${a}, ${b})`,
    "",
    `    def test_${passing}(self):`,
    `        self.assertEqual(${a}, ${a})`,
    "",
  ].join("\n");
}

/** The runner a JavaScript test file uses, from what it imports; null: the runner's globals. */
function javascriptRunner(content: string): string | null {
  return /["'](vitest|node:test|@jest\/globals|mocha|tape)["']/.exec(content)?.[1] ?? null;
}

/**
 * Canaries appended to a JavaScript test file, in its module style, registered with its runner, asserting
 * the way it asserts (so a runner or an assertion library patched by the code under test lies about them).
 */
function javascriptCanary(
  path: string,
  sibling: string,
  names: { failing: string; passing: string; stem: string },
  [a, b]: [number, number],
) {
  const esm =
    /\.(mjs|mts)$/.test(path) || /^\s*(import|export)\s/m.test(sibling) || !/\brequire\(/.test(sibling);
  const runner = javascriptRunner(sibling);
  const assertModule = /["']((?:node:)?assert(?:\/strict)?)["']/.exec(sibling)?.[1];
  const prefix = `canary_${names.stem}`;
  const lines: string[] = [""];
  const load = (what: string, module: string, named: boolean) =>
    esm
      ? `import ${named ? `{ ${what} as ${prefix}_${what} }` : `${prefix}_${what}`} from "${module}";`
      : `const ${named ? `{ ${what}: ${prefix}_${what} }` : `${prefix}_${what}`} = require("${module}");`;
  const testName = runner === "mocha" ? "it" : "test";
  if (runner === null) lines.push(`const ${prefix}_${testName} = typeof it === "function" ? it : test;`);
  else lines.push(load(testName, runner, runner !== "tape"));
  let check: (expected: number) => string;
  if (runner === "tape") {
    // tape's test function is the module itself, and its assertions are the test object's methods.
    const body = (expected: number) =>
      `(t) => {\n  const got = Number("${a}");\n  t.equal(got, ${expected});\n  t.end();\n}`;
    lines.push(
      `${prefix}_test("${names.failing}", ${body(b)});`,
      `${prefix}_test("${names.passing}", ${body(a)});`,
      "",
    );
    return lines.join("\n");
  }
  if (assertModule) {
    lines.push(load("assert", assertModule, false));
    check = (expected) => `${prefix}_assert.strictEqual(got, ${expected});`;
  } else if (/\bexpect\(/.test(sibling)) {
    if (runner === "vitest" || runner === "@jest/globals") {
      lines.push(load("expect", runner, true));
      check = (expected) => `${prefix}_expect(got).toBe(${expected});`;
    } else {
      // A global expect may be Jest's (toBe), or expect.js or chai set by the file (to.equal): the canary
      // asserts with whichever the file has, and on its own when it has neither, so it holds in any file.
      lines.push(`const ${prefix}_expect = typeof expect === "function" ? expect : null;`);
      check = (expected) =>
        [
          `const matcher = ${prefix}_expect === null ? null : ${prefix}_expect(got);`,
          `  if (matcher && typeof matcher.toBe === "function") matcher.toBe(${expected});`,
          `  else if (matcher && matcher.to && typeof matcher.to.equal === "function") matcher.to.equal(${expected});`,
          `  else if (got !== ${expected}) throw new Error("expected ${expected}, got " + got);`,
        ].join("\n");
    }
  } else {
    check = (expected) => `if (got !== ${expected}) throw new Error("expected ${expected}, got " + got);`;
  }
  // Number(...) keeps TypeScript from typing the values as two literals that can never be equal.
  const body = (expected: number) => `() => {\n  const got = Number("${a}");\n  ${check(expected)}\n}`;
  lines.push(
    `${prefix}_${testName}("${names.failing}", ${body(b)});`,
    `${prefix}_${testName}("${names.passing}", ${body(a)});`,
    "",
  );
  return lines.join("\n");
}

function goCanary(sibling: string, failing: string, passing: string, [a, b]: [number, number]) {
  const pkg = /^package\s+(\w+)/m.exec(sibling)?.[1];
  if (!pkg) return null;
  const test = (name: string, expected: number) =>
    `func Test${name[0]!.toUpperCase()}${name.slice(1)}(t *testing.T) {\n\tgot, want := ${a}, ${expected}\n\tif got != want {\n\t\tt.Errorf("got %d, want %d", got, want)\n\t}\n}\n`;
  return `package ${pkg}\n\nimport "testing"\n\n${test(failing, b)}\n${test(passing, a)}`;
}

function rustCanary(failing: string, passing: string, [a, b]: [number, number]) {
  const test = (name: string, expected: number) =>
    `\n#[test]\nfn ${name}() {\n    let got: u64 = ${a};\n    assert_eq!(got, ${expected});\n}\n`;
  return `${test(failing, b)}${test(passing, a)}`;
}

/**
 * Canaries for one run: a fresh file beside each site's sibling, or appended to it (see canarySites).
 * `contents` holds the original text of the siblings siblingsToRead named.
 */
export function planCanaries(
  sites: readonly CanarySite[],
  contents: ReadonlyMap<string, string>,
  token: () => string = randomToken,
): CanaryPlan {
  const plan: CanaryPlan = { planted: [], files: [] };
  for (const site of sites) {
    const failing = token();
    const passing = token();
    const stem = token();
    const values: [number, number] = [100 + (failing.charCodeAt(1) % 50), 200 + (passing.charCodeAt(1) % 50)];
    let file: string;
    let content: string | null;
    if (site.language === "rust") {
      file = site.sibling;
      content = rustCanary(failing, passing, values);
    } else if (site.language === "javascript") {
      file = site.sibling;
      const sibling = contents.get(site.sibling);
      content =
        sibling === undefined ? null : javascriptCanary(file, sibling, { failing, passing, stem }, values);
    } else {
      file = join(site.directory, freshName(site.sibling, stem));
      const sibling = contents.get(site.sibling);
      if (site.language === "python")
        content = pythonCanary(`${stem[0]!.toUpperCase()}${stem.slice(1)}`, failing, passing, values);
      else if (sibling === undefined) content = null;
      else content = goCanary(sibling, failing, passing, values);
    }
    if (content === null) continue;
    plan.planted.push({ site, file, failing, passing });
    plan.files.push({ path: file, content, append: file === site.sibling });
  }
  return plan;
}

function idsWith(results: TestResults, token: string): string[] {
  return Object.keys(results).filter((id) => id.toLowerCase().includes(token));
}

function describe(results: TestResults, ids: readonly string[]): string {
  return ids.length === 0 ? "not reported" : ids.map((id) => results[id]).join("/");
}

/** Judges a run's parsed results (canaries still in them) against what was planted. */
export function judgeCanaries(results: TestResults, plan: CanaryPlan): CanaryVerdict {
  if (plan.planted.length === 0) return { status: "none" };
  const problems: string[] = [];
  let unplantable = 0;
  let vouched = 0;
  for (const canary of plan.planted) {
    const failing = idsWith(results, canary.failing);
    const passing = idsWith(results, canary.passing);
    const lie = failing.find((id) => results[id] === "passed" || results[id] === "skipped");
    if (lie !== undefined) {
      return {
        status: "lying",
        message: `the canary test planted to fail in ${canary.file} was reported ${results[lie]}: the run turns failures into successes`,
      };
    }
    const failedAsPlanted = failing.length > 0 && failing.every((id) => isFailure(results[id]));
    const passedAsPlanted = passing.length > 0 && passing.every((id) => results[id] === "passed");
    if (failedAsPlanted && passedAsPlanted) vouched++;
    // Only JavaScript canaries borrow the file's own assertions; elsewhere a failing passing canary is a fault.
    else if (
      canary.site.language === "javascript" &&
      failedAsPlanted &&
      passing.length > 0 &&
      passing.every((id) => isFailure(results[id]))
    )
      unplantable++;
    if (!(failedAsPlanted && passedAsPlanted))
      problems.push(
        `${canary.file}: failing canary ${describe(results, failing)}, passing canary ${describe(results, passing)}`,
      );
  }
  if (vouched > 0) return { status: "vouched", sites: vouched };
  if (unplantable === plan.planted.length)
    return {
      status: "unplantable",
      message: `the canaries could not be planted (both failed where planted: ${problems.join("; ")}); the run is judged without them`,
    };
  return {
    status: "unvouched",
    message: `the canary tests planted beside the oracle tests were not reported as planted (${problems.join("; ")})`,
  };
}

function isFailure(status: TestStatus | undefined): boolean {
  return status === "failed" || status === "error";
}

/** The results without any canary id: canaries never reach F2P/P2P, reports or exports. */
export function withoutCanaries(results: TestResults, plan: CanaryPlan): TestResults {
  if (plan.planted.length === 0) return results;
  const tokens = plan.planted.flatMap((canary) => [canary.failing, canary.passing]);
  const kept: TestResults = {};
  for (const [id, status] of Object.entries(results)) {
    const lower = id.toLowerCase();
    if (!tokens.some((token) => lower.includes(token))) kept[id] = status;
  }
  return kept;
}
