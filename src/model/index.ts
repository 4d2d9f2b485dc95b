// The model layer: an OpenAI-compatible client and the rollout records built from what it sampled.
export { createModelClient, DEFAULT_SAMPLING, type ModelClientOptions } from "./openai-client.js";
export { RolloutAccumulator, rolloutInvariantViolations } from "./rollout-record.js";
export { type EngineKind, engineNamed } from "./tito/engines.js";
export { type ChatTokenizer, createServerTokenizer } from "./tito/server-tokenizer.js";
export { createTitoClient, defaultTokenizerUrl, type TitoClientOptions } from "./tito/tito-client.js";
