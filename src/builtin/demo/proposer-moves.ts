// A proposer demonstration's moves, following the proposer prompt's steps: write the test script and parser,
// run the baseline, inject the bug with str_replace, see tests fail, save `git diff`, weaken the tests,
// save that diff and the oracle file list, and submit the five paths.
import { assetText } from "../../assets.js";
import type { BugArtifact } from "../../ports/artifact.js";
import { shellQuote } from "../../shell-quote.js";
import type { Move } from "./playback.js";
import { changedPlaces, type Replacement, replacementsOf } from "./replacements.js";
import type { Surface } from "./surface.js";
import { heredoc } from "./test-commands.js";

export interface ProposerFacts {
  /** The artifact the search made, or null when it made none. */
  artifact: BugArtifact | null;
  artifactDir: string;
  /** Original texts of the files either diff changes. */
  texts: ReadonlyMap<string, string>;
  /** Whether `git diff` works in the sandbox (the repository has its .git); else the diffs are written out. */
  gitDiff: boolean;
}

const COUNT =
  "python3 -c \"import json,sys,collections; r=json.load(sys.stdin); print(len(r), 'tests', dict(collections.Counter(r.values())))\"";
const NOT_PASSED =
  "python3 -c \"import json,sys; r=json.load(sys.stdin); print(sorted(t for t, s in r.items() if s != 'passed'))\"";

function write(surface: Surface, path: string, text: string, say: string): Move {
  if (surface.chance(0.5))
    return { say, tool: "editor", arguments: { command: "create", path, file_text: text } };
  return surface.bash(say, `mkdir -p ${shellQuote(parentOf(path))} && ${heredoc(path, text)}`);
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

function edits(surface: Surface, replacements: readonly Replacement[], say: string): Move[] {
  return replacements.map((edit, index) => ({
    say: index === 0 ? say : surface.pick(["And the next one.", "Next edit.", "One more."]),
    tool: "editor",
    arguments: { command: "str_replace", path: edit.path, old_str: edit.oldText, new_str: edit.newText },
  }));
}

/** Both diffs as edits of the original texts (the weakening's files are test files, untouched by the bug). */
function plannedEdits(facts: ProposerFacts & { artifact: BugArtifact }) {
  const bug = replacementsOf(facts.artifact.bugInjectDiff, facts.texts);
  const weakening = replacementsOf(facts.artifact.testWeakenDiff, facts.texts);
  return bug && weakening && bug.length > 0 && weakening.length > 0 ? { bug, weakening } : null;
}

/** A comment-free script, and for pytest's verbose output a parser a few lines long: short episodes. */
function compactTools(artifact: BugArtifact): { testScript: string; testParser: string } {
  const testScript = artifact.testScript
    .split("\n")
    .filter((line, index) => index === 0 || !line.startsWith("#"))
    .join("\n");
  const pytest = /-m pytest\b.* -v\b/.test(artifact.testScript);
  return {
    testScript,
    testParser: pytest ? assetText(import.meta.url, "pytest-parser.py") : artifact.testParser,
  };
}

export function proposerMoves(surface: Surface, facts: ProposerFacts): Move[] {
  const { artifact, artifactDir: dir } = facts;
  if (!artifact) return [];
  const tools = compactTools(artifact);
  const run = `bash ${dir}/test_script.sh 2>&1 | python3 ${dir}/test_parser.py`;
  const moves: Move[] = [];
  const bugFile = changedPlaces(artifact.bugInjectDiff)[0]?.path ?? "";
  if (surface.chance(0.3)) moves.push(surface.orient(/\.\w+$/.exec(bugFile)?.[0] ?? ".py"));
  moves.push(
    write(surface, `${dir}/test_script.sh`, tools.testScript, "Write the test script."),
    write(surface, `${dir}/test_parser.py`, tools.testParser, "Now the parser for its output."),
    surface.bash("Run the baseline.", `${run} | ${surface.pick([COUNT, "head -c 300"])}`),
  );
  const planned = facts.gitDiff ? plannedEdits({ ...facts, artifact }) : null;
  const testFiles = artifact.testFiles.join("\n");
  if (!planned) {
    // Edits that cannot be written with str_replace, or no git to diff them: the diffs themselves are written.
    moves.push(
      write(surface, `${dir}/bug_inject.diff`, artifact.bugInjectDiff, "Write the bug as a diff."),
      write(surface, `${dir}/test_weaken.diff`, artifact.testWeakenDiff, "And the weakening."),
    );
  } else {
    const place = changedPlaces(artifact.bugInjectDiff)[0]!;
    const bugFiles = [...new Set(planned.bug.map((edit) => edit.path))].map(shellQuote).join(" ");
    const weakenedFiles = [...new Set(planned.weakening.map((edit) => edit.path))].map(shellQuote).join(" ");
    moves.push(
      surface.view(place.path, Math.max(1, place.line - 2), place.line + place.lines + 2, "target"),
      ...edits(surface, planned.bug, "Inject the bug here."),
      surface.bash("Which tests fail now?", `${run} | ${NOT_PASSED}`),
      surface.bash(
        "Save the bug.",
        `git diff -- ${bugFiles} > ${dir}/bug_inject.diff && git diff --stat -- ${bugFiles}`,
      ),
      ...edits(surface, planned.weakening, "Remove the tests that reveal it."),
      surface.bash("Fewer failures now?", `${run} | ${surface.pick([COUNT, NOT_PASSED])}`),
      surface.bash(
        "Save the weakening.",
        `git diff -- ${weakenedFiles} > ${dir}/test_weaken.diff && wc -l ${dir}/*.diff`,
      ),
    );
  }
  moves.push(write(surface, `${dir}/test_files.txt`, `${testFiles}\n`, "List the oracle test files."), {
    say: "Submit the artifact.",
    tool: "submit",
    arguments: {
      test_script: `${dir}/test_script.sh`,
      test_files: `${dir}/test_files.txt`,
      test_parser: `${dir}/test_parser.py`,
      bug_inject_diff: `${dir}/bug_inject.diff`,
      test_weaken_diff: `${dir}/test_weaken.diff`,
    },
  });
  return moves;
}
