// The surface of a demonstration, drawn from its seed: the words before each call and the commands that do
// the same job (cat, sed -n, nl, grep -n or the editor's view), so no two demonstrations read alike.
import { shellQuote } from "../../shell-quote.js";
import type { SeededRandom } from "../strategies/seeded-random.js";
import type { Move } from "./playback.js";

const PHRASES = {
  orient: ["Let me see the layout first.", "First, a look at the repository.", "Start by listing the files."],
  applySpec: [
    "The tests in the specification are not in the repository yet; apply them.",
    "Add the specification's tests first.",
    "Apply the test changes from the task so I can run them.",
  ],
  runTests: ["Run the tests.", "Now run the tests to see what fails.", "Let me run the tests."],
  rerun: ["Run the tests again.", "Check the tests now.", "Re-run the tests to confirm."],
  target: [
    "Read the code the tests exercise.",
    "Look at the function to change.",
    "Pick the place for the bug.",
  ],
  look: [
    "Look at the code the failure points to.",
    "Read the suspicious code.",
    "Let me read that function.",
  ],
  locate: ["Find where it is defined.", "Search for the definition.", "Locate the function."],
  fix: ["This is the defect; fix it.", "Fix this.", "That looks wrong; correct it."],
  review: ["Review the change.", "Check the diff before submitting.", "Look at what changed."],
  submit: ["The tests pass now; submit.", "Fixed; submitting.", "All good, submit the changes."],
  giveUp: [
    "I could not find the fix; submit what I have.",
    "No repair found; submitting as is.",
    "Out of ideas; submit.",
  ],
} as const;

export type Intent = keyof typeof PHRASES;

export class Surface {
  constructor(readonly random: SeededRandom) {}

  say(intent: Intent): string {
    return this.random.pick(PHRASES[intent])!;
  }

  chance(probability: number): boolean {
    return this.random.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return this.random.pick(items)!;
  }

  bash(intent: Intent | string, command: string): Move {
    return {
      say: intent in PHRASES ? this.say(intent as Intent) : intent,
      tool: "bash",
      arguments: { command },
    };
  }

  /** A look at the repository's layout. */
  orient(extension: string): Move {
    const commands = [
      "ls",
      "git status --short && ls",
      `find . -name '*${extension}' -not -path './.git/*' | sort | head -n 30`,
    ];
    const which = this.random.integer(commands.length + 1);
    if (which === commands.length)
      return { say: this.say("orient"), tool: "editor", arguments: { command: "view", path: "." } };
    return this.bash("orient", commands[which]!);
  }

  /** Lines `from`..`to` of a file, with or without numbers. */
  view(path: string, from: number, to: number, intent: Intent = "look"): Move {
    const quoted = shellQuote(path);
    switch (this.random.integer(4)) {
      case 0:
        return this.bash(intent, `sed -n '${from},${to}p' ${quoted}`);
      case 1:
        return this.bash(intent, `nl -ba ${quoted} | sed -n '${from},${to}p'`);
      case 2:
        return this.bash(intent, `cat -n ${quoted} | head -n ${to} | tail -n ${to - from + 1}`);
      default:
        return {
          say: this.say(intent),
          tool: "editor",
          arguments: { command: "view", path, view_range: [from, to] },
        };
    }
  }

  /** A search for a name's definition. */
  locate(name: string, path: string, extension: string): Move {
    const pattern = shellQuote(name);
    const commands = [
      `grep -n ${pattern} ${shellQuote(path)}`,
      `grep -rn ${pattern} --include='*${extension}' . | head -n 20`,
      `grep -n ${pattern} ${shellQuote(path)} | head -n 5`,
    ];
    return this.bash("locate", this.pick(commands));
  }
}
