// How a demonstration runs tests: pytest directly on the files that matter, or else the discovered test
// script written to a file and run, its output cut to the lines that say what failed.
import { shellQuote } from "../../shell-quote.js";
import type { Move } from "./playback.js";
import type { Surface } from "./surface.js";

export interface TestFacts {
  framework: string;
  /** The discovered test_script.sh. */
  testScript: string;
}

/** The moves that make the test command usable (none for pytest), and the command itself. */
export interface TestRunning {
  setup: Move[];
  command: string;
}

/** A heredoc that writes `text` to `path` with a marker the text does not contain. */
export function heredoc(path: string, text: string): string {
  let marker = "EOF";
  while (text.split("\n").includes(marker)) marker += "_";
  return `cat > ${shellQuote(path)} <<'${marker}'\n${text.replace(/\n$/, "")}\n${marker}`;
}

export function testRunning(surface: Surface, facts: TestFacts, files: readonly string[]): TestRunning {
  const python = /^\s*(?:exec\s+)?(\S+) -m pytest\b/m.exec(facts.testScript)?.[1];
  if (facts.framework === "pytest" && python && files.length > 0) {
    const targets = files.map(shellQuote).join(" ");
    const command = surface.pick([
      `${python} -m pytest -q ${targets} 2>&1 | tail -n 25`,
      `${python} -m pytest -q --tb=short ${targets} 2>&1 | tail -n 30`,
      `${python} -m pytest -q --tb=line -p no:cacheprovider ${targets} 2>&1 | tail -n 20`,
      `${python} -m pytest ${targets} -x -q 2>&1 | tail -n 25`,
    ]);
    return { setup: [], command };
  }
  // Node's runner without extra flags: the files run directly, failures with their assertion messages.
  if (facts.framework === "node-test" && /\bnode --test\b/.test(facts.testScript) && files.length > 0) {
    const targets = files.map(shellQuote).join(" ");
    const command = surface.pick([
      `node --test ${targets} > /tmp/test_output.txt 2>&1; grep -E -A 11 '^\\s*not ok' /tmp/test_output.txt | head -n 26; grep -E '^# (pass|fail)' /tmp/test_output.txt`,
      `node --test ${targets} 2>&1 | grep -E '^\\s*(not ok|ok)|^# (pass|fail)' | head -n 30`,
    ]);
    return { setup: [], command };
  }
  const script = "/tmp/run_tests.sh";
  const setup: Move = surface.chance(0.5)
    ? {
        say: "Write the test command into a script.",
        tool: "editor",
        arguments: { command: "create", path: script, file_text: facts.testScript },
      }
    : surface.bash("Save a script that runs the tests.", heredoc(script, facts.testScript));
  const command = surface.pick([
    `bash ${script} 2>&1 | tail -n 30`,
    `bash ${script} > /tmp/test_output.txt 2>&1; grep -E 'not ok|FAIL|failing|panicked' /tmp/test_output.txt | head -n 15; tail -n 5 /tmp/test_output.txt`,
  ]);
  return { setup: [setup], command };
}
