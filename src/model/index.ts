// The model layer: OpenAI-compatible clients (chat completions, and token-in/token-out for vLLM and SGLang).
export { createModelClient, DEFAULT_SAMPLING, type ModelClientOptions } from "./openai-client.js";
export { type EngineKind, engineNamed } from "./tito/engines.js";
export { type ChatTokenizer, createServerTokenizer } from "./tito/server-tokenizer.js";
export { createTitoClient, defaultTokenizerUrl, type TitoClientOptions } from "./tito/tito-client.js";
