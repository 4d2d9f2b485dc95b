// test_script.sh and test_parser.py for each supported framework. Script templates live in ./scripts,
// parsers in ./parsers; both ship with the package and are read relative to this module.
import { assetText } from "../../assets.js";
import { shellWord } from "../../shell-quote.js";
import type { TestFramework } from "./types.js";

/** How a test script runs one framework; discovery fills it in from the repository's own configuration. */
export interface ScriptPlan {
  framework: TestFramework;
  /** Absolute path of the repository inside the sandbox (the script starts with `cd` to it). */
  workdir: string;
  /** Python interpreter that has pytest (pytest only), e.g. "python3". */
  python?: string;
  /** Runner executable relative to the repository, e.g. "node_modules/.bin/jest" (jest, vitest, mocha, tape). */
  binary?: string;
  /** Extra runner arguments kept from the repository's own test command (config files, spec globs). */
  arguments?: readonly string[];
  /** `KEY=value` environment assignments the repository's test command sets. */
  environment?: readonly string[];
  /** Node flags kept from the repository's test command, e.g. ["--import", "tsx"] (node-test only). */
  nodeFlags?: readonly string[];
  /** Test files, repository-relative (node-test and tape run them one by one). */
  files?: readonly string[];
  /** Top-level directories to run unittest discovery in, repository-relative ("." for the root). */
  directories?: readonly string[];
}

const PARSER_FILES: Record<TestFramework, string> = {
  pytest: "pytest.py",
  unittest: "unittest.py",
  "node-test": "node_tap.py",
  tape: "tape_tap.py",
  jest: "jest_json.py",
  vitest: "jest_json.py",
  mocha: "mocha_json.py",
  go: "go_test_json.py",
  cargo: "cargo_test.py",
};

const SCRIPT_FILES: Record<TestFramework, string> = {
  pytest: "pytest.sh",
  unittest: "unittest.sh",
  "node-test": "node-test.sh",
  tape: "tape.sh",
  jest: "jest.sh",
  vitest: "vitest.sh",
  mocha: "mocha.sh",
  go: "go.sh",
  cargo: "cargo.sh",
};

/** The self-contained test_parser.py for a framework. */
export function parserSource(framework: TestFramework): string {
  return assetText(import.meta.url, `./parsers/${PARSER_FILES[framework]}`);
}

/** `KEY=value` with only the value quoted, so that bash still reads an assignment. */
function quoteAssignment(assignment: string): string {
  const at = assignment.indexOf("=");
  return at < 0 ? shellWord(assignment) : `${assignment.slice(0, at)}=${shellWord(assignment.slice(at + 1))}`;
}

function words(list: readonly string[] | undefined): string {
  return (list ?? []).map((word) => ` ${shellWord(word)}`).join("");
}

/** The test_script.sh for a plan. */
export function testScriptFor(plan: ScriptPlan): string {
  const values: Record<string, string> = {
    workdir: shellWord(plan.workdir),
    python: shellWord(plan.python ?? "python3"),
    binary: shellWord(plan.binary ?? ""),
    arguments: words(plan.arguments),
    environment: (plan.environment ?? []).map((assignment) => `${quoteAssignment(assignment)} `).join(""),
    flags: words(plan.nodeFlags),
    files: (plan.files ?? []).map(shellWord).join(" "),
    directories: (plan.directories ?? []).map(shellWord).join(" "),
  };
  return assetText(import.meta.url, `./scripts/${SCRIPT_FILES[plan.framework]}`).replace(
    /\{\{(\w+)\}\}/g,
    (_match, name: string) => {
      const value = values[name];
      if (value === undefined)
        throw new Error(`script template ${SCRIPT_FILES[plan.framework]} names unknown {{${name}}}`);
      return value;
    },
  );
}
