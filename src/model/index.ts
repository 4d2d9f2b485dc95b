// The model layer: an OpenAI-compatible client and the rollout records built from what it sampled.
export { createModelClient, DEFAULT_SAMPLING, type ModelClientOptions } from "./openai-client.js";
export { RolloutAccumulator, rolloutInvariantViolations } from "./rollout-record.js";
