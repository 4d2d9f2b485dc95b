// Replies of the scripted model server for self-play runs on the Python fixture: as proposer, write the
// fixture artifact's five files and submit them; as solver, every other attempt reverts the bug, the rest
// submit nothing. Attempts are told apart by the seed the agent sends with each request.
import type { BugArtifact } from "../../src/ports/artifact.js";
import type { ReceivedRequest, ScriptStep } from "../support/scripted-model-server.js";

const call = (name: string, args: Record<string, unknown>): ScriptStep => ({
  reply: { content: `calling ${name}`, toolCalls: [{ name, arguments: args }] },
});

function proposerTurn(artifact: BugArtifact, turn: number): ScriptStep {
  const files: [string, string][] = [
    ["test_script.sh", artifact.testScript],
    ["test_files.txt", `${artifact.testFiles.join("\n")}\n`],
    ["test_parser.py", artifact.testParser],
    ["bug_inject.diff", artifact.bugInjectDiff],
    ["test_weaken.diff", artifact.testWeakenDiff],
  ];
  const file = files[turn];
  if (file)
    return call("editor", { command: "create", path: `/tmp/artifact/${file[0]}`, file_text: file[1] });
  return call("submit", {
    test_script: "/tmp/artifact/test_script.sh",
    test_files: "/tmp/artifact/test_files.txt",
    test_parser: "/tmp/artifact/test_parser.py",
    bug_inject_diff: "/tmp/artifact/bug_inject.diff",
    test_weaken_diff: "/tmp/artifact/test_weaken.diff",
  });
}

function solverTurn(artifact: BugArtifact, turn: number, fixes: boolean): ScriptStep {
  if (!fixes) return call("submit", {});
  if (turn === 0)
    return call("editor", { command: "create", path: "/tmp/bug.diff", file_text: artifact.bugInjectDiff });
  if (turn === 1) return call("bash", { command: "git apply -R /tmp/bug.diff" });
  return call("submit", {});
}

/** A script function for startScriptedModelServer. */
export function selfPlayScript(artifact: BugArtifact): (request: ReceivedRequest) => ScriptStep {
  const fixesBySeed = new Map<string, boolean>();
  return (request) => {
    const messages = (request.body.messages ?? []) as { role: string }[];
    const turn = messages.filter((message) => message.role === "assistant").length;
    if (JSON.stringify(request.body.tools ?? []).includes("test_weaken_diff"))
      return proposerTurn(artifact, turn);
    // The agent sends seed + turn with every request: seed − turn names the attempt.
    const key = String(typeof request.body.seed === "number" ? request.body.seed - turn : "");
    if (!fixesBySeed.has(key)) fixesBySeed.set(key, fixesBySeed.size % 2 === 0);
    return solverTurn(artifact, turn, fixesBySeed.get(key)!);
  };
}
