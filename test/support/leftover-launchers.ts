// Vitest global setup: tags this test run (SWE_SELFPLAY_RUN_TAG, which every sandbox launcher carries in its
// environment) and, after the run, fails it when a launcher the run started is still alive. Other people's
// sandboxes on the same machine carry other tags and are left alone; ours are killed before failing.
import { randomBytes } from "node:crypto";
import { killMarked, markedProcesses, RUN_TAG_VARIABLE } from "../../src/sandbox/local/launcher-marker.js";

export default function setup(): () => void {
  const tag = `vitest-${process.pid}-${randomBytes(4).toString("hex")}`;
  process.env[RUN_TAG_VARIABLE] = tag;
  return () => {
    const left = markedProcesses((found) => found === tag);
    if (left.length === 0) return;
    killMarked(left);
    const listed = left.map((entry) => `${entry.pid} (${entry.command.slice(0, 160)})`).join("; ");
    // An error thrown here is only printed; the exit status is what CI reads.
    process.exitCode = 1;
    process.stderr.write(
      `\nFAIL: ${left.length} sandbox launcher process(es) started by this test run were still alive after it (now killed): ${listed}\n`,
    );
  };
}
