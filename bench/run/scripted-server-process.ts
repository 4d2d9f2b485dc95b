// Runs the scripted model server for self-play in its own process (so its CPU is not counted against the
// orchestrator) and prints its base URL on the first line of stdout. Stops when stdin closes.

import { selfPlayScript } from "../../test/e2e/model-script.js";
import { pythonFixtureArtifact } from "../../test/support/fixture-artifacts.js";
import { startScriptedModelServer } from "../../test/support/scripted-model-server.js";

const server = await startScriptedModelServer(selfPlayScript(pythonFixtureArtifact()));
process.stdout.write(`${server.baseUrl}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void server.close().then(() => process.exit(0));
});
