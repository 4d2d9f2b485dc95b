// A solver demonstration's moves: apply the specification's tests, run them, find and read the code the
// repair changes, edit it with str_replace, run the tests again and submit. Without a repair it explores
// the suspect code and submits what it has, a normal unresolved episode.
import type { Move } from "./playback.js";
import { changedPlaces, replacementsOf } from "./replacements.js";
import type { Surface } from "./surface.js";
import { heredoc, type TestFacts, testRunning } from "./test-commands.js";

export interface SolverFacts {
  specification: string;
  /** Files the specification changes (the tests to run). */
  specificationFiles: string[];
  tests: TestFacts | null;
  /** The repair the search found ("" for none). */
  repair: string;
  /** Current (buggy) texts of the files the repair changes. */
  texts: ReadonlyMap<string, string>;
  /** The search's most suspicious place when it found no repair: file and function name. */
  suspect: { path: string; name: string } | null;
  /** Extension of the code files, for searches (".py"). */
  extension: string;
}

function applySpecification(surface: Surface, specification: string): Move[] {
  const check = surface.pick(["git status --short", "git diff --stat"]);
  if (surface.chance(0.5))
    return [
      surface.bash(
        "applySpec",
        `${heredoc("/tmp/spec.diff", specification)}\ngit apply /tmp/spec.diff && ${check}`,
      ),
    ];
  return [
    {
      say: surface.say("applySpec"),
      tool: "editor",
      arguments: { command: "create", path: "/tmp/tests.diff", file_text: specification },
    },
    surface.bash("Apply it.", `git apply /tmp/tests.diff && ${check}`),
  ];
}

/** The name a hunk's section line defines (`def merge(...)` → merge), if any. */
export function definedName(section: string): string | null {
  return /(?:def|function|func|fn|class)\s+([A-Za-z_$][\w$]*)/.exec(section)?.[1] ?? null;
}

function readRepairPlaces(surface: Surface, facts: SolverFacts): Move[] {
  return changedPlaces(facts.repair).flatMap((place) => {
    const name = definedName(place.section);
    const moves: Move[] = [];
    if (name && surface.chance(0.5)) moves.push(surface.locate(name, place.path, facts.extension));
    const total = facts.texts.get(place.path)?.split("\n").length ?? place.line + place.lines;
    const from = Math.max(1, place.line - surface.random.integer(6));
    const to = Math.min(total, place.line + place.lines + surface.random.integer(6));
    moves.push(surface.view(place.path, from, to));
    return moves;
  });
}

function oneLine(text: string): boolean {
  return !text.includes("\n") && text.trim().length > 0 && text.length <= 80;
}

function editMoves(surface: Surface, facts: SolverFacts): Move[] | null {
  const edits = replacementsOf(facts.repair, facts.texts);
  if (!edits || edits.length === 0) return null;
  return edits.map((edit) => ({
    say:
      oneLine(edit.oldText) && oneLine(edit.newText)
        ? `\`${edit.oldText.trim()}\` should be \`${edit.newText.trim()}\`.`
        : surface.say("fix"),
    tool: "editor",
    arguments: { command: "str_replace", path: edit.path, old_str: edit.oldText, new_str: edit.newText },
  }));
}

export function solverMoves(surface: Surface, facts: SolverFacts): Move[] {
  const moves: Move[] = [];
  // A look at the layout, if any, first or right after the specification's tests went in.
  const orientFirst = surface.chance(0.5);
  const orient = surface.chance(0.4) ? [surface.orient(facts.extension)] : [];
  if (orientFirst) moves.push(...orient);
  moves.push(...applySpecification(surface, facts.specification));
  if (!orientFirst) moves.push(...orient);
  const running = facts.tests ? testRunning(surface, facts.tests, facts.specificationFiles) : null;
  if (running) moves.push(...running.setup, surface.bash("runTests", running.command));
  const edits = editMoves(surface, facts);
  if (!edits) {
    if (facts.suspect) moves.push(surface.locate(facts.suspect.name, facts.suspect.path, facts.extension));
    moves.push({ say: surface.say("giveUp"), tool: "submit", arguments: {} });
    return moves;
  }
  moves.push(...readRepairPlaces(surface, facts), ...edits);
  if (running) moves.push(surface.bash("rerun", running.command));
  if (surface.chance(0.3)) moves.push(surface.bash("review", "git diff"));
  moves.push({ say: surface.say("submit"), tool: "submit", arguments: {} });
  return moves;
}
