// The built-in proposer: gathers an environment's facts once per tree (discovery, baseline, parsed code),
// then plays each episode on them (src/builtin/strategies/proposer-episode.ts).
import type { Logger } from "../../log.js";
import type { PolicyInfo, ProposeOutcome, ProposeRequest } from "../../ports/policy.js";
import { EnvironmentFactsCache } from "./environment-facts.js";
import { createEpisodeRecorder } from "./episode-recorder.js";
import { type EpisodeLimits, ProposerEpisode, proposerFailure } from "./proposer-episode.js";

interface ProposerSettings extends EpisodeLimits {
  policy: PolicyInfo;
  logger: Logger;
}

interface Proposer {
  propose(request: ProposeRequest): Promise<ProposeOutcome>;
}

class BuiltinProposer implements Proposer {
  private readonly facts = new EnvironmentFactsCache();

  constructor(private readonly settings: ProposerSettings) {}

  async propose(request: ProposeRequest): Promise<ProposeOutcome> {
    const { settings } = this;
    const recorder = createEpisodeRecorder({
      role: "proposer",
      policy: settings.policy,
      onStep: request.onStep,
    });
    const context = { request, recorder, log: settings.logger.child("proposer") };
    const factsOutcome = await this.facts.get(request, recorder);
    if (request.abortSignal?.aborted === true)
      return proposerFailure(context, "aborted", "the episode was aborted", "aborted");
    // Discovery and the baseline depend on the environment alone: every episode would fail the same way.
    if (factsOutcome.status === "failed")
      return proposerFailure(context, factsOutcome.exitReason, factsOutcome.reason, "failed", "environment");
    const episode = new ProposerEpisode(
      request,
      factsOutcome.facts,
      recorder,
      context.log,
      settings,
      settings.policy.version,
    );
    return episode.run();
  }
}

export function createProposer(settings: ProposerSettings): Proposer {
  return new BuiltinProposer(settings);
}
