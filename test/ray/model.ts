// The inference the Ray tests' replicas play with: the scripted model server (a real OpenAI-protocol
// server on loopback) replying with the self-play script on the Python fixture repository, quickly for the
// model "quick" and with a pause before every reply for "slow" (a step that is still at work when its node
// goes). Also runnable on its own for the benchmark: prints {model_url, repo} and serves until killed.

import { selfPlayScript } from "../e2e/model-script.js";
import { pythonFixtureArtifact } from "../support/fixture-artifacts.js";
import {
  type ReceivedRequest,
  type ScriptedModelServer,
  type ScriptStep,
  startScriptedModelServer,
} from "../support/scripted-model-server.js";

export function rayModelScript(slowDelayMs = 1500): (request: ReceivedRequest) => ScriptStep {
  const quick = selfPlayScript(pythonFixtureArtifact());
  const slow = selfPlayScript(pythonFixtureArtifact());
  return (request) => {
    if (request.body.model !== "slow") return quick(request);
    const step = slow(request);
    return "reply" in step ? { ...step, delayMs: slowDelayMs } : step;
  };
}

export function startRayModel(): Promise<ScriptedModelServer> {
  return startScriptedModelServer(rayModelScript(), { keepRequests: false });
}
